//! Uploads end to end: the real server on a random port, real files from
//! `tests/fixtures` (see `generate.py` there), reqwest multipart forms.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use confab::config::Config;
use image::{GenericImageView, ImageFormat};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use reqwest::multipart::{Form, Part};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::http::Reply;
use crate::helpers::{TestServer, spawn_server, spawn_server_with};

const SYARAH: &str = "/api/chat/uploadFile";
const NATIVE: &str = "/api/uploads";

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// One form field, in order.
enum F<'a> {
    Text(&'a str, &'a str),
    File {
        name: &'a str,
        bytes: Vec<u8>,
        mime: &'a str,
    },
}

fn file<'a>(name: &'a str, mime: &'a str) -> F<'a> {
    F::File {
        name,
        bytes: fixture(name),
        mime,
    }
}

/// Syarah's reply envelope, `{"success", "message", "data"}`.
impl Reply {
    /// Asserts Syarah's error envelope and returns the message.
    #[track_caller]
    fn syarah_error(&self, status: u16) -> String {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.body["success"], false, "{}", self.body);
        assert!(self.body["data"].is_null(), "{}", self.body);
        let message = self.body["message"].as_str().unwrap_or_default();
        assert!(!message.is_empty(), "no message: {}", self.body);
        message.to_owned()
    }

    /// Asserts Syarah's success envelope and returns the path.
    #[track_caller]
    fn syarah_path(&self) -> String {
        assert_eq!(self.status, StatusCode::OK, "body: {}", self.body);
        assert_eq!(self.body["success"], true, "{}", self.body);
        assert!(self.body["message"].is_null(), "{}", self.body);
        self.body["data"].as_str().unwrap_or_default().to_owned()
    }
}

async fn post(server: &TestServer, route: &str, token: Option<&str>, fields: Vec<F<'_>>) -> Reply {
    let mut form = Form::new();
    for f in fields {
        form = match f {
            F::Text(k, v) => form.text(k.to_owned(), v.to_owned()),
            F::File { name, bytes, mime } => form.part(
                "file",
                Part::bytes(bytes)
                    .file_name(name.to_owned())
                    .mime_str(mime)
                    .expect("mime"),
            ),
        };
    }
    let mut req = reqwest::Client::new()
        .post(format!("{}{route}", server.url))
        .multipart(form);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    Reply::of(req).await
}

async fn upload(server: &TestServer, token: &str, kind: &str, f: F<'_>) -> Reply {
    post(
        server,
        SYARAH,
        Some(token),
        vec![F::Text("messageType", kind), f],
    )
    .await
}

async fn get(server: &TestServer, path: &str) -> reqwest::Response {
    reqwest::get(format!("{}{path}", server.url))
        .await
        .expect("get")
}

async fn get_bytes(server: &TestServer, path: &str) -> (HeaderMap, Vec<u8>) {
    let r = get(server, path).await;
    assert_eq!(r.status(), StatusCode::OK, "GET {path}");
    let headers = r.headers().clone();
    (headers, r.bytes().await.expect("body").to_vec())
}

fn uploads_dir(server: &TestServer) -> PathBuf {
    server.running.state.config.uploads_dir()
}

/// Every regular file below `dir`.
fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

/// `/uploads/chat-messages/<folder>/<32 hex digits>.<ext>`.
#[track_caller]
fn assert_generated(path: &str, folder: &str, ext: &str) {
    let prefix = format!("/uploads/chat-messages/{folder}/");
    let name = path
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{path} is not under {prefix}"));
    let (id, e) = name.split_once('.').expect("extension");
    assert_eq!(e, ext, "{path}");
    assert_eq!(id.len(), 32, "{path}");
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{path}"
    );
}

/// The chunk ids of a RIFF WebP file.
fn webp_chunks(bytes: &[u8]) -> Vec<String> {
    assert!(
        bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP",
        "not a WebP"
    );
    let mut out = Vec::new();
    let mut at = 12;
    while at + 8 <= bytes.len() {
        out.push(String::from_utf8_lossy(&bytes[at..at + 4]).into_owned());
        let len = u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]])
            as usize;
        at += 8 + len + (len & 1);
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A request written by hand, so that no client normalises the path.
async fn raw_get_status(server: &TestServer, target: &str) -> u16 {
    let addr = server.url.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let req = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.expect("read");
    let text = String::from_utf8_lossy(&out);
    text.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"))
}

// ---------------------------------------------------------------- images

#[tokio::test]
async fn a_rotated_jpeg_comes_back_as_an_upright_webp_without_its_metadata() {
    let server = spawn_server().await;
    let token = server.token_for("alice");
    let original = fixture("rotated.jpg");
    assert!(
        contains(&original, b"ConfabTestCam"),
        "the fixture has EXIF"
    );
    let r = upload(&server, &token, "2", file("rotated.jpg", "image/jpeg")).await;
    let path = r.syarah_path();
    assert_generated(&path, "images", "webp");

    let (headers, bytes) = get_bytes(&server, &path).await;
    assert_eq!(headers["content-type"], "image/webp");
    let ids = webp_chunks(&bytes);
    assert!(ids.contains(&"VP8 ".to_owned()), "lossy WebP: {ids:?}");
    for meta in ["EXIF", "XMP ", "ICCP"] {
        assert!(!ids.contains(&meta.to_owned()), "{meta} in {ids:?}");
    }
    assert!(!contains(&bytes, b"ConfabTestCam") && !contains(&bytes, b"Exif"));

    // 64 × 32 stored with orientation 6: shown 32 × 64, the red half on top.
    let img = image::load_from_memory_with_format(&bytes, ImageFormat::WebP).expect("decodes");
    assert_eq!(img.dimensions(), (32, 64));
    let top = img.get_pixel(16, 8);
    let bottom = img.get_pixel(16, 56);
    assert!(top[0] > 180 && top[2] < 80, "top is red: {top:?}");
    assert!(
        bottom[2] > 180 && bottom[0] < 80,
        "bottom is blue: {bottom:?}"
    );
}

#[tokio::test]
async fn png_and_gif_images_become_webp() {
    let server = spawn_server().await;
    let token = server.token_for("alice");
    let r = upload(&server, &token, "2", file("photo.png", "image/png")).await;
    let (_, bytes) = get_bytes(&server, &r.syarah_path()).await;
    let img = image::load_from_memory_with_format(&bytes, ImageFormat::WebP).expect("webp");
    assert_eq!(img.dimensions(), (40, 30));
    assert!(img.color().has_alpha(), "transparency is kept");

    let r = upload(&server, &token, "2", file("anim.gif", "image/gif")).await;
    let path = r.syarah_path();
    assert_generated(&path, "images", "webp");
    let (_, bytes) = get_bytes(&server, &path).await;
    let img = image::load_from_memory_with_format(&bytes, ImageFormat::WebP).expect("webp");
    assert_eq!(img.dimensions(), (20, 20));
}

#[tokio::test]
async fn a_large_image_is_fitted_within_1920_pixels_keeping_its_aspect_ratio() {
    let server = spawn_server().await;
    let token = server.token_for("alice");
    // Noise, so that the PNG stays big.
    let big = image::RgbImage::from_fn(4000, 1000, |x, y| {
        let n = (x.wrapping_mul(7919) ^ y.wrapping_mul(104_729)).wrapping_mul(2_654_435_761);
        image::Rgb([(n >> 24) as u8, (n >> 16) as u8, (n >> 8) as u8])
    });
    let mut png = Vec::new();
    big.write_to(&mut std::io::Cursor::new(&mut png), ImageFormat::Png)
        .expect("png");
    assert!(png.len() > 1_048_576, "bigger than the JSON body limit");
    let r = post(
        &server,
        NATIVE,
        Some(&token),
        vec![
            F::Text("kind", "image"),
            F::File {
                name: "big.png",
                bytes: png,
                mime: "image/png",
            },
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let path = r.body["path"].as_str().expect("path").to_owned();
    let (_, bytes) = get_bytes(&server, &path).await;
    let img = image::load_from_memory_with_format(&bytes, ImageFormat::WebP).expect("webp");
    assert_eq!(img.dimensions(), (1920, 480));
    assert_eq!(r.body["size"], bytes.len());
}

#[tokio::test]
async fn a_decompression_bomb_is_refused_quickly() {
    let server = spawn_server().await;
    let token = server.token_for("alice");
    let started = Instant::now();
    let r = upload(&server, &token, "2", file("bomb.png", "image/png")).await;
    let message = r.syarah_error(400);
    assert!(message.starts_with("image too large"), "{message}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert!(files_below(&uploads_dir(&server)).is_empty());
}

#[tokio::test]
async fn an_image_format_confab_cannot_decode_is_415() {
    let server = spawn_server().await;
    let token = server.token_for("alice");
    let mut heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
    heic.extend_from_slice(&[0; 64]);
    let r = upload(
        &server,
        &token,
        "2",
        F::File {
            name: "photo.heic",
            bytes: heic,
            mime: "image/heic",
        },
    )
    .await;
    let message = r.syarah_error(415);
    assert!(message.contains("heic"), "{message}");
}

// --------------------------------------------------- audio, video, files

#[tokio::test]
async fn audio_video_and_files_are_stored_as_sent_with_their_sniffed_type() {
    let server = spawn_server().await;
    let token = server.token_for("alice");
    let cases = [
        ("voice.mp3", "1", "audio", "mp3", "audio/mpeg", "inline"),
        ("beep.wav", "1", "audio", "wav", "audio/wav", "inline"),
        ("clip.mp4", "4", "videos", "mp4", "video/mp4", "inline"),
        (
            "doc.pdf",
            "3",
            "files",
            "pdf",
            "application/pdf",
            "attachment",
        ),
        (
            "notes.txt",
            "3",
            "files",
            "txt",
            "text/plain; charset=utf-8",
            "attachment",
        ),
        ("photo.png", "3", "files", "png", "image/png", "attachment"),
    ];
    for (name, kind, folder, ext, mime, disposition) in cases {
        // The declared type is deliberately wrong: it is never used.
        let r = upload(&server, &token, kind, file(name, "application/x-whatever")).await;
        let path = r.syarah_path();
        assert_generated(&path, folder, ext);
        let (headers, bytes) = get_bytes(&server, &path).await;
        assert_eq!(bytes, fixture(name), "{name} is stored unchanged");
        assert_eq!(headers["content-type"], mime, "{name}");
        let cd = headers["content-disposition"].to_str().expect("ascii");
        assert!(cd.starts_with(disposition), "{name}: {cd}");
    }
}

#[tokio::test]
async fn a_file_of_the_wrong_kind_is_refused() {
    let server = spawn_server().await;
    let token = server.token_for("alice");
    // A ZIP archive named and labelled as a PNG, declared an image.
    let r = upload(&server, &token, "2", file("evil.png", "image/png")).await;
    let message = r.syarah_error(400);
    assert_eq!(message, "the file is not an image (it looks like zip)");
    // Audio declared as video, a PDF declared as audio, a text as image.
    for (name, kind) in [("voice.mp3", "4"), ("doc.pdf", "1"), ("notes.txt", "2")] {
        let r = upload(&server, &token, kind, file(name, "video/mp4")).await;
        r.syarah_error(400);
    }
    assert!(files_below(&uploads_dir(&server)).is_empty());
    // As a plain file the ZIP is fine, and it is served as a download.
    let r = upload(&server, &token, "3", file("evil.png", "image/png")).await;
    let path = r.syarah_path();
    assert_generated(&path, "files", "zip");
    let (headers, _) = get_bytes(&server, &path).await;
    assert_eq!(headers["content-type"], "application/zip");
    assert!(
        headers["content-disposition"]
            .to_str()
            .is_ok_and(|v| v.starts_with("attachment"))
    );
}

#[tokio::test]
async fn a_path_traversal_file_name_is_ignored() {
    let server = spawn_server().await;
    let token = server.token_for("alice");
    let r = upload(
        &server,
        &token,
        "3",
        F::File {
            name: "../../etc/passwd",
            bytes: fixture("notes.txt"),
            mime: "text/plain",
        },
    )
    .await;
    let path = r.syarah_path();
    assert_generated(&path, "files", "txt");
    let files = files_below(&uploads_dir(&server));
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].starts_with(uploads_dir(&server).join("chat-messages/files")));
}

// ------------------------------------------------------------------ limits

#[tokio::test]
async fn an_oversized_file_is_413_and_leaves_nothing_behind() {
    let server = spawn_server_with(|c: &mut Config| {
        c.uploads.max_file_bytes = 4096;
        c.uploads.max_audio_bytes = 4096;
    })
    .await;
    let token = server.token_for("alice");
    let big = vec![b'x'; 64 * 1024];
    let big_file = || F::File {
        name: "big.txt",
        bytes: big.clone(),
        mime: "text/plain",
    };

    // The type first: refused while streaming.
    let r = post(
        &server,
        SYARAH,
        Some(&token),
        vec![F::Text("messageType", "3"), big_file()],
    )
    .await;
    let message = r.syarah_error(413);
    assert!(message.contains("4096"), "{message}");

    // The type after the file: streamed against the largest limit, refused
    // once the type is known.
    let r = post(
        &server,
        SYARAH,
        Some(&token),
        vec![big_file(), F::Text("messageType", "3")],
    )
    .await;
    r.syarah_error(413);

    let r = post(
        &server,
        NATIVE,
        Some(&token),
        vec![F::Text("kind", "audio"), big_file()],
    )
    .await;
    r.assert_error(413, "INVALID_PAYLOAD");

    let left = files_below(&uploads_dir(&server));
    assert!(left.is_empty(), "left behind: {left:?}");

    // Within the limit it works.
    let r = upload(&server, &token, "3", file("notes.txt", "text/plain")).await;
    r.syarah_path();
}

#[tokio::test]
async fn uploads_may_be_larger_than_the_json_body_limit() {
    let server = spawn_server().await;
    let token = server.token_for("alice");
    let bytes: Vec<u8> = (0..3 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let r = post(
        &server,
        SYARAH,
        Some(&token),
        vec![
            F::Text("messageType", "3"),
            F::File {
                name: "blob.bin",
                bytes: bytes.clone(),
                mime: "application/octet-stream",
            },
        ],
    )
    .await;
    let path = r.syarah_path();
    assert_generated(&path, "files", "bin");
    let (_, served) = get_bytes(&server, &path).await;
    assert_eq!(served.len(), bytes.len());
    assert!(served == bytes);
}

// ------------------------------------------------------------- the forms

#[tokio::test]
async fn uploads_need_a_token() {
    let server = spawn_server().await;
    let r = post(
        &server,
        SYARAH,
        None,
        vec![F::Text("messageType", "3"), file("notes.txt", "text/plain")],
    )
    .await;
    r.syarah_error(401);
    assert_eq!(r.headers["www-authenticate"], "Bearer");
    let r = post(
        &server,
        SYARAH,
        Some("not-a-token"),
        vec![F::Text("messageType", "3"), file("notes.txt", "text/plain")],
    )
    .await;
    r.syarah_error(401);
    let r = post(
        &server,
        NATIVE,
        None,
        vec![F::Text("kind", "file"), file("notes.txt", "text/plain")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body["error"]["code"], "UNAUTHENTICATED");
    assert!(files_below(&uploads_dir(&server)).is_empty());
}

#[tokio::test]
async fn the_message_type_may_come_after_the_file() {
    let server = spawn_server().await;
    let token = server.token_for("alice");
    let r = post(
        &server,
        SYARAH,
        Some(&token),
        vec![
            file("rotated.jpg", "image/jpeg"),
            F::Text("caption", "ignored"),
            F::Text("messageType", "2"),
        ],
    )
    .await;
    assert_generated(&r.syarah_path(), "images", "webp");
}

#[tokio::test]
async fn malformed_forms_are_refused() {
    let server = spawn_server().await;
    let token = server.token_for("alice");
    let t = Some(token.as_str());
    let cases: Vec<(Vec<F<'_>>, &str)> = vec![
        (
            vec![file("notes.txt", "text/plain")],
            "messageType is required",
        ),
        (vec![F::Text("messageType", "3")], "file is required"),
        (
            vec![F::Text("messageType", "0"), file("notes.txt", "text/plain")],
            "messageType must be",
        ),
        (
            vec![F::Text("messageType", "5"), file("notes.txt", "text/plain")],
            "messageType must be",
        ),
        (
            vec![
                F::Text("messageType", "3"),
                file("notes.txt", "text/plain"),
                file("doc.pdf", "application/pdf"),
            ],
            "only one file",
        ),
        (
            vec![
                F::Text("messageType", "3"),
                F::File {
                    name: "empty.txt",
                    bytes: Vec::new(),
                    mime: "text/plain",
                },
            ],
            "empty",
        ),
    ];
    for (fields, expected) in cases {
        let r = post(&server, SYARAH, t, fields).await;
        let message = r.syarah_error(400);
        assert!(message.contains(expected), "{message:?} lacks {expected:?}");
    }
    let r = reqwest::Client::new()
        .post(format!("{}{SYARAH}", server.url))
        .bearer_auth(&token)
        .json(&serde_json::json!({"messageType": 2, "file": "aGVsbG8="}))
        .send()
        .await
        .expect("request");
    Reply::read(r).await.syarah_error(415);
    assert!(files_below(&uploads_dir(&server)).is_empty());

    let r = Reply::read(get(&server, NATIVE).await).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers["allow"], "POST");
    assert_eq!(r.body["error"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn the_native_route_answers_201_with_the_stored_file() {
    let server = spawn_server().await;
    let token = server.token_for("alice");
    for kind in ["video", "4"] {
        let r = post(
            &server,
            NATIVE,
            Some(&token),
            vec![F::Text("kind", kind), file("clip.mp4", "video/mp4")],
        )
        .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let path = r.body["path"].as_str().expect("path").to_owned();
        assert_generated(&path, "videos", "mp4");
        assert_eq!(r.body["url"], format!("{}{path}", server.url));
        assert_eq!(r.body["kind"], "video");
        assert_eq!(r.body["contentType"], "video/mp4");
        assert_eq!(r.body["size"], fixture("clip.mp4").len());
    }
    let r = post(
        &server,
        NATIVE,
        Some(&token),
        vec![F::Text("kind", "image"), file("evil.png", "image/png")],
    )
    .await;
    r.assert_error(400, "INVALID_PAYLOAD");
}

#[tokio::test]
async fn every_upload_is_recorded_with_its_owner() {
    let server = spawn_server().await;
    let token = server.token_for("alice");
    let r = upload(&server, &token, "1", file("voice.mp3", "audio/mpeg")).await;
    let path = r.syarah_path();
    let recorded = server
        .running
        .state
        .service
        .store()
        .upload(&path)
        .await
        .expect("store")
        .expect("recorded");
    assert_eq!(recorded.owner.as_str(), "alice");
    assert_eq!(recorded.kind, confab::core::MessageKind::Audio);
    assert_eq!(recorded.content_type, "audio/mpeg");
    assert_eq!(recorded.size as usize, fixture("voice.mp3").len());
}

// ----------------------------------------------------------------- serving

#[tokio::test]
async fn served_files_carry_headers_that_keep_them_inert() {
    let server = spawn_server().await;
    let token = server.token_for("alice");
    let image = upload(&server, &token, "2", file("photo.png", "image/png"))
        .await
        .syarah_path();
    let doc = upload(&server, &token, "3", file("notes.txt", "text/plain"))
        .await
        .syarah_path();
    for (path, disposition) in [(&image, "inline"), (&doc, "attachment")] {
        // No token needed: <img src> sends none.
        let r = get(&server, path).await;
        assert_eq!(r.status(), StatusCode::OK);
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["content-security-policy"], "default-src 'none'; sandbox");
        assert_eq!(h["cache-control"], "private, max-age=31536000, immutable");
        let cd = h["content-disposition"].to_str().expect("ascii");
        assert!(cd.starts_with(disposition), "{path}: {cd}");
        assert_eq!(h["accept-ranges"], "bytes");
    }

    // A byte range of the text file.
    let r = reqwest::Client::new()
        .get(format!("{}{doc}", server.url))
        .header("range", "bytes=0-7")
        .send()
        .await
        .expect("range");
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    let total = fixture("notes.txt").len();
    assert_eq!(r.headers()["content-range"], format!("bytes 0-7/{total}"));
    assert_eq!(r.bytes().await.expect("body").as_ref(), b"Shopping");
    let r = reqwest::Client::new()
        .get(format!("{}{doc}", server.url))
        .header("range", format!("bytes={total}-"))
        .send()
        .await
        .expect("range");
    assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE);
}

#[tokio::test]
async fn paths_outside_the_stored_files_are_not_found() {
    let server = spawn_server().await;
    let token = server.token_for("alice");
    let stored = upload(&server, &token, "3", file("notes.txt", "text/plain"))
        .await
        .syarah_path();
    // Something worth reaching for next to the uploads folder.
    std::fs::write(uploads_dir(&server).join("secret.txt"), b"secret").expect("write");
    std::fs::write(uploads_dir(&server).join(".tmp/upload-x.part"), b"partial").expect("write");
    let name = stored.rsplit('/').next().expect("name");
    for target in [
        "/uploads/../..".to_owned(),
        "/uploads/../../etc/passwd".to_owned(),
        "/uploads/..%2f..%2fetc%2fpasswd".to_owned(),
        "/uploads/%2e%2e/%2e%2e/etc/passwd".to_owned(),
        "/uploads/%2Fetc%2Fpasswd".to_owned(),
        "/uploads/chat-messages/files/../../confab.db".to_owned(),
        "/uploads/chat-messages/files/..%2f..%2fconfab.db".to_owned(),
        "/uploads/.tmp/upload-x.part".to_owned(),
        "/uploads/secret.txt".to_owned(),
        "/uploads/secret.txt/".to_owned(),
        "/uploads/chat-messages/files/".to_owned(),
        "/uploads/chat-messages/".to_owned(),
        format!("/uploads/chat-messages/files/{}", name.to_uppercase()),
        format!("/uploads/chat-messages/images/{name}"),
    ] {
        assert_eq!(raw_get_status(&server, &target).await, 404, "{target}");
    }
    assert_eq!(raw_get_status(&server, &stored).await, 200);
}
