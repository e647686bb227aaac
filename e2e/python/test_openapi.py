"""The OpenAPI document as a client generator sees it: fetched from the
running server, checked by a real validator (openapi-spec-validator,
OpenAPI 3.1) and linted for what generators trip on: duplicate
operationIds, undeclared path parameters, responses without a schema.
The server harness is test_dozaar's."""

import json
import re
import secrets
import urllib.request

from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator

from test_dozaar import new_conversation, new_user, server  # noqa: F401

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Answered without a body: No Content, Not Modified, Range Not Satisfiable.
NO_BODY = {"204", "304", "416"}


def fetch(url):
    with urllib.request.urlopen(url + "/openapi.json", timeout=10) as res:
        assert res.status == 200
        assert res.headers["content-type"].startswith("application/json")
        return json.loads(res.read().decode())


def operations(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield path, method, op


def test_the_document_is_valid_openapi_3_1(server):  # noqa: F811
    doc = fetch(server.url)
    assert doc["openapi"] == "3.1.0"
    errors = [str(e).splitlines()[0] for e in OpenAPIV31SpecValidator(doc).iter_errors()]
    assert errors == []
    validate(doc)  # raises on the first error, whatever the version
    assert len(doc["paths"]) >= 60


def test_every_listener_serves_the_same_document(server):  # noqa: F811
    docs = {name: fetch(url) for name, url in server.urls.items()}
    assert set(docs) == {"dozaar", "syarah", "jobspare", "vchat", "voxora"}
    first = docs["dozaar"]
    for name, doc in docs.items():
        assert doc == first, name


def test_operation_ids_are_unique(server):  # noqa: F811
    seen = {}
    for path, method, op in operations(fetch(server.url)):
        op_id = op.get("operationId")
        assert op_id, f"{method} {path} has no operationId"
        assert op_id not in seen, f"{op_id}: {method} {path} and {seen[op_id]}"
        seen[op_id] = f"{method} {path}"


def test_path_parameters_are_declared_and_query_parameters_are_not_in_the_path(server):  # noqa: F811
    doc = fetch(server.url)
    for path, method, op in operations(doc):
        placeholders = sorted(re.findall(r"\{([^}]+)\}", path))
        params = op.get("parameters", []) + doc["paths"][path].get("parameters", [])
        declared = sorted(p["name"] for p in params if p["in"] == "path")
        assert declared == placeholders, f"{method} {path}"
        assert all(not name.startswith("*") for name in placeholders), path
    history = doc["paths"]["/api/v1/rooms/{roomId}/messages"]["get"]["parameters"]
    assert {p["name"]: p["in"] for p in history} == {
        "roomId": "path",
        "before": "query",
        "limit": "query",
    }


def test_every_response_with_a_body_has_a_schema(server):  # noqa: F811
    for path, method, op in operations(fetch(server.url)):
        for status, response in op["responses"].items():
            where = f"{method} {path} {status}"
            assert response.get("description"), where
            if status in NO_BODY:
                assert "content" not in response, where
                continue
            content = response.get("content")
            assert content, f"{where} has no content"
            for media_type, body in content.items():
                assert "schema" in body, f"{where} {media_type}"


def test_the_routes_once_missing_are_documented(server):  # noqa: F811
    paths = fetch(server.url)["paths"]
    header = paths["/api/chat/getChatHeaderAsync"]["get"]
    assert header["operationId"] == "getChatHeaderAsync"
    assert {p["name"] for p in header["parameters"]} == {"user1Id", "user2Id"}
    assert "get" in paths["/uploads/{key}"]
    # V Chat's successes have a schema: typed for users and sessions, the
    # envelope around any `data` for the rest.
    def ok(path, method="get", status="200"):
        return paths[path][method]["responses"][status]["content"]["application/json"]["schema"]

    assert ok("/api/v1/user/me") == {"$ref": "#/components/schemas/VOkSeedUser"}
    assert ok("/api/v1/user/login", "post") == {"$ref": "#/components/schemas/VOkSdkSession"}
    assert ok("/api/v1/rooms") == {"$ref": "#/components/schemas/VOk"}


def conforms(doc, method, template, status, body):
    """Asserts that `body`, answered `status` to `method template`, fits the
    schema the document declares for it."""
    responses = doc["paths"][template][method]["responses"]
    assert str(status) in responses, f"{method} {template} answered an undocumented {status}: {body}"
    schema = dict(responses[str(status)]["content"]["application/json"]["schema"])
    # The components next to the schema, so that its $refs resolve.
    schema["components"] = doc["components"]
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(body)]
    assert errors == [], f"{method} {template} {status}: {errors} in {body}"


def test_real_answers_fit_their_documented_schemas(server):  # noqa: F811
    doc = fetch(server.url)
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    a = alice["token"]
    conv = new_conversation(server, alice, [bob])
    cid = conv["id"]
    calls = [
        ("get", "/api/me", "/api/me", None),
        ("get", "/api/conversations", "/api/conversations", None),
        ("get", "/api/conversations/{id}", f"/api/conversations/{cid}", None),
        ("post", "/api/conversations/{id}/messages", f"/api/conversations/{cid}/messages", {"text": "hi"}),
        ("get", "/api/conversations/{id}/messages", f"/api/conversations/{cid}/messages", None),
        ("get", "/api/conversations/{id}", "/api/conversations/999999", None),
        ("get", "/api/friendships", "/api/friendships", None),
        ("get", "/api/sync", "/api/sync", None),
        ("get", "/api/sync", "/api/sync?since=0&limit=500", None),
        ("get", "/api/sync", "/api/sync?since=not-a-cursor", None),
        ("get", "/api/v1/user/me", "/api/v1/user/me", None),
        ("get", "/api/v1/rooms", "/api/v1/rooms", None),
        ("get", "/api/v1/rooms/{roomId}/messages", f"/api/v1/rooms/{cid}/messages?limit=5", None),
        ("get", "/api/v1/rooms/{roomId}/messages", "/api/v1/rooms/999999/messages", None),
        ("get", "/api/v1/room", "/api/v1/room?page=0", None),
        ("get", "/api/v1/message", f"/api/v1/message?roomId={cid}", None),
        (
            "get",
            "/api/chat/getChatHeaderAsync",
            f"/api/chat/getChatHeaderAsync?user1Id={alice['id']}&user2Id={bob['id']}",
            None,
        ),
        ("get", "/healthz", "/healthz", None),
        ("get", "/readyz", "/readyz", None),
    ]
    statuses = set()
    for method, template, path, body in calls:
        status, answer = server.rest(method.upper(), path, token=a, body=body)
        statuses.add(status)
        conforms(doc, method, template, status, answer)
    # V Chat's sessions and users, of the seed and of the SDK.
    email = f"seed-{secrets.token_hex(4)}@example.com"
    seed = {"email": email, "fullName": "Seed", "password": "a-password-1"}
    status, answer = server.rest("POST", "/api/v1/auth/register", body=seed)
    conforms(doc, "post", "/api/v1/auth/register", status, answer)
    assert status == 201, answer
    login = {"email": email, "password": seed["password"]}
    status, answer = server.rest("POST", "/api/v1/auth/login", body=login)
    conforms(doc, "post", "/api/v1/auth/login", status, answer)
    status, answer = server.rest("POST", "/api/v1/auth/login", body={**login, "password": "wrong-password"})
    conforms(doc, "post", "/api/v1/auth/login", status, answer)
    sdk_email = f"sdk-{secrets.token_hex(4)}@example.com"
    sdk = {"name": "Sdk", "email": sdk_email, "password": "b" * 128, "platform": "Android"}
    status, answer = server.rest("POST", "/api/v1/user/register", body=sdk)
    conforms(doc, "post", "/api/v1/user/register", status, answer)
    assert status == 201, answer
    sdk_token = answer["data"]["accessToken"]
    status, answer = server.rest("POST", "/api/v1/user/login", body={"email": sdk_email, "password": sdk["password"]})
    conforms(doc, "post", "/api/v1/user/login", status, answer)
    status, answer = server.rest("PATCH", "/api/v1/user", token=sdk_token, body={"name": "Sdk Two"})
    conforms(doc, "patch", "/api/v1/user", status, answer)
    status, answer = server.rest("GET", f"/api/v1/user/{alice['id']}", token=sdk_token)
    conforms(doc, "get", "/api/v1/user/{id}", status, answer)
    status, answer = server.rest("GET", f"/api/v1/user/{bob['id']}", token=a)
    conforms(doc, "get", "/api/v1/user/{id}", status, answer)
    # Successes and failures both checked.
    assert {200, 201, 404} <= statuses, statuses
