//! Attachments from elsewhere: the allowlisted URL and path prefixes
//! (`attachments.*`) are attached without an upload; everything else keeps
//! the upload rule, and with a list set, nothing of its kind outside it
//! passes.

use confab::core::allowlist::Allowlist;
use confab::core::command::SendMessage;
use confab::core::service::Limits;
use confab::core::{ErrorCode, MessageKind, RowRef, Upload};

use super::{direct_conversation, recorded_service, recorded_service_with};
use crate::helpers::provisioned_actor;

fn attach(url: &str) -> SendMessage {
    SendMessage {
        attachments: vec![url.into()],
        ..Default::default()
    }
}

fn allowing(urls: &[&str], paths: &[&str]) -> Limits {
    let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    Limits {
        attachments: Allowlist::new(&owned(urls), &owned(paths)).expect("prefixes"),
        ..Limits::default()
    }
}

#[tokio::test]
async fn allowlisted_files_are_attached_without_an_upload_and_nothing_else_passes() {
    let limits = allowing(&["https://cdn.example.com/"], &["/uploads/chat/"]);
    let (svc, _) = recorded_service_with(limits).await;
    let alice = provisioned_actor(&svc, "alice").await;
    let c = direct_conversation(&svc, &alice, "bob").await;
    let own = "/uploads/chat-messages/images/mine.webp";
    svc.record_upload(Upload {
        path: own.into(),
        owner: alice.id().clone(),
        kind: MessageKind::Image,
        content_type: "image/webp".into(),
        size: 10,
        created_at: 1,
    })
    .await
    .expect("record");
    for ok in [
        "/uploads/chat/2023/old-photo.jpg",
        "https://cdn.example.com/a/b.png",
        "https://CDN.example.com:443/c.png?v=1",
        own,
    ] {
        svc.send(&alice, RowRef::Id(c.id), attach(ok))
            .await
            .unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    let sent = svc
        .history(&alice, RowRef::Id(c.id), None, None, None)
        .await
        .expect("history")
        .0
        .len();
    for bad in [
        "https://cdn.example.com.evil.com/a.png",
        "https://cdn.example.com@evil.com/a.png",
        "https://evil.example/a.png",
        "http://cdn.example.com/a.png",
        "/uploads/chat/../chat-messages/images/other.webp",
        "/uploads/chat/..%2Fchat-messages/images/other.webp",
        "/uploads/chatter/x.jpg",
        "/uploads/chat-messages/images/nobodys.webp",
        "/static/logo.png",
    ] {
        let err = svc
            .send(&alice, RowRef::Id(c.id), attach(bad))
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidPayload, "{bad}: {err}");
    }
    let after = svc
        .history(&alice, RowRef::Id(c.id), None, None, None)
        .await
        .expect("history")
        .0
        .len();
    assert_eq!(after, sent, "nothing refused was stored");
}

#[tokio::test]
async fn without_lists_any_url_and_path_outside_uploads_pass_and_uploads_keep_their_rule() {
    let (svc, _) = recorded_service().await;
    let alice = provisioned_actor(&svc, "alice").await;
    let c = direct_conversation(&svc, &alice, "bob").await;
    for ok in ["https://anywhere.example/a.png", "/static/logo.png"] {
        svc.send(&alice, RowRef::Id(c.id), attach(ok))
            .await
            .unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    let err = svc
        .send(&alice, RowRef::Id(c.id), attach("/uploads/chat/old.jpg"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidPayload);
}
