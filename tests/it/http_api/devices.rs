//! `/api/devices`: the device tokens of push notifications.

use confab::core::Device;
use serde_json::json;

use super::{Api, spawn_api};
use crate::helpers::user_id;

/// The device tokens the store holds for `user`.
async fn stored_devices(api: &Api, user: &str) -> Vec<Device> {
    api.state
        .service
        .store()
        .devices_of(&[user_id(user)])
        .await
        .expect("devices")
}

#[tokio::test]
async fn devices_are_registered_and_removed_by_their_owner() {
    let api = spawn_api().await;
    let (alice, bob) = (api.token_for("alice"), api.token_for("bob"));
    let token = "fcm:APA91b-x_y.z";
    let r = api
        .post(
            "/api/devices",
            Some(&alice),
            json!({"token": token, "platform": "android"}),
        )
        .await;
    let d = r.assert_status(201);
    assert_eq!(
        (d["token"].clone(), d["platform"].clone()),
        (json!(token), json!("android"))
    );
    assert!(d["createdAt"].as_i64().is_some());

    let encoded = "/api/devices/fcm%3AAPA91b-x_y.z";
    api.delete(encoded, Some(&bob))
        .await
        .assert_error(404, "NOT_FOUND");
    api.delete(encoded, Some(&alice)).await.assert_status(204);
    api.delete(encoded, Some(&alice))
        .await
        .assert_error(404, "NOT_FOUND");
    assert!(stored_devices(&api, "alice").await.is_empty());
}

#[tokio::test]
async fn registering_a_device_with_bad_input_is_refused_and_stores_nothing() {
    let api = spawn_api().await;
    let alice = api.token_for("alice");
    for body in [
        json!({}),
        json!({"token": "t"}),
        json!({"platform": "ios"}),
        json!({"token": "t", "platform": "windows"}),
        json!({"token": "", "platform": "ios"}),
        json!({"token": "has space", "platform": "ios"}),
        json!({"token": "x".repeat(4097), "platform": "web"}),
        json!({"token": 7, "platform": "web"}),
    ] {
        api.post("/api/devices", Some(&alice), body.clone())
            .await
            .assert_error(400, "INVALID_PAYLOAD");
    }
    assert!(stored_devices(&api, "alice").await.is_empty());
}
