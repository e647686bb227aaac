//! Messages: edits and deletes, publishing once stored, the read
//! watermark, history pages, attachments.

use confab::core::command::{Command, Outcome, SendMessage};
use confab::core::event::DomainEvent;
use confab::core::{CoreError, ErrorCode, MessageKind, RowRef, Upload};

use super::{direct_conversation, group_conversation, recorded_service};
use crate::helpers::fixtures::named_actor;
use crate::helpers::{provisioned_actor, text_message};

#[tokio::test]
async fn only_the_author_edits_and_a_group_admin_may_delete() {
    let (svc, rec) = recorded_service().await;
    let owner = provisioned_actor(&svc, "owner").await;
    let bob = provisioned_actor(&svc, "bob").await;
    let carol = provisioned_actor(&svc, "carol").await;
    let g = group_conversation(&svc, &owner, &["bob", "carol"]).await;
    let (m, _) = svc
        .send(&bob, RowRef::Id(g.id), text_message("bob's"))
        .await
        .expect("send");
    let r = RowRef::Id(m.id);
    assert!(matches!(
        svc.edit(&carol, r, "x").await,
        Err(CoreError::Forbidden(_))
    ));
    assert!(matches!(
        svc.delete(&carol, r).await,
        Err(CoreError::Forbidden(_))
    ));
    assert_eq!(
        svc.edit(&bob, r, "edited")
            .await
            .expect("edit")
            .text
            .as_deref(),
        Some("edited")
    );
    let d = svc.delete(&owner, r).await.expect("admin deletes");
    assert!(d.deleted_at.is_some());
    assert!(d.text.is_none());
    assert!(matches!(
        svc.edit(&bob, r, "again").await,
        Err(CoreError::Conflict(_))
    ));
    let events = rec.take();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, DomainEvent::MessageEdited { .. }))
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, DomainEvent::MessageDeleted { .. }))
    );
}

#[tokio::test]
async fn a_message_is_published_only_after_it_is_stored_and_only_once_per_client_id() {
    let (svc, rec) = recorded_service().await;
    let alice = provisioned_actor(&svc, "alice").await;
    let c = direct_conversation(&svc, &alice, "bob").await;
    rec.take();
    let mut msg = text_message("hello");
    msg.client_id = Some("abc".into());
    let (m1, created1) = svc
        .send(&alice, RowRef::Id(c.id), msg.clone())
        .await
        .expect("send");
    let (m2, created2) = svc
        .send(&alice, RowRef::Uuid(c.uuid), msg)
        .await
        .expect("retry");
    assert!(created1 && !created2);
    assert_eq!(m1, m2);
    let events = rec.take();
    assert_eq!(events.len(), 1);
    match &events[0] {
        DomainEvent::MessageCreated {
            message, members, ..
        } => {
            assert_eq!(message, &m1);
            assert_eq!(members.len(), 2);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn reading_moves_the_watermark_forward_only_and_tells_once() {
    let (svc, rec) = recorded_service().await;
    let alice = provisioned_actor(&svc, "alice").await;
    let bob = provisioned_actor(&svc, "bob").await;
    let c = direct_conversation(&svc, &alice, "bob").await;
    let (m1, _) = svc
        .send(&alice, RowRef::Id(c.id), text_message("1"))
        .await
        .expect("1");
    let (m2, _) = svc
        .send(&alice, RowRef::Id(c.id), text_message("2"))
        .await
        .expect("2");
    assert_eq!(
        svc.conversation(&bob, RowRef::Id(c.id))
            .await
            .expect("c")
            .unread_count,
        2
    );
    rec.take();
    assert_eq!(
        svc.mark_read(&bob, RowRef::Id(m2.id))
            .await
            .expect("read")
            .1,
        2
    );
    assert_eq!(
        svc.mark_read(&bob, RowRef::Id(m1.id))
            .await
            .expect("older")
            .1,
        2
    );
    assert_eq!(rec.take().len(), 1);
    assert_eq!(
        svc.conversation(&bob, RowRef::Id(c.id))
            .await
            .expect("c")
            .unread_count,
        0
    );
    let mallory = provisioned_actor(&svc, "mallory").await;
    assert!(matches!(
        svc.mark_read(&mallory, RowRef::Id(m1.id)).await,
        Err(CoreError::NotFound("message"))
    ));
}

#[tokio::test]
async fn history_pages_by_cursor_and_refuses_a_foreign_cursor() {
    let (svc, _) = recorded_service().await;
    let alice = provisioned_actor(&svc, "alice").await;
    let c = direct_conversation(&svc, &alice, "bob").await;
    let other = direct_conversation(&svc, &alice, "carol").await;
    let mut sent = Vec::new();
    for i in 0..5 {
        sent.push(
            svc.send(&alice, RowRef::Id(c.id), text_message(&i.to_string()))
                .await
                .expect("send")
                .0,
        );
    }
    let (foreign, _) = svc
        .send(&alice, RowRef::Id(other.id), text_message("x"))
        .await
        .expect("send");
    let r = RowRef::Id(c.id);
    let last2 = svc
        .history(&alice, r, None, None, Some(2))
        .await
        .expect("page")
        .0;
    assert_eq!(last2.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![4, 5]);
    let before = svc
        .history(&alice, r, Some(RowRef::Uuid(sent[3].uuid)), None, Some(2))
        .await
        .expect("page")
        .0;
    assert_eq!(before.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![2, 3]);
    let after = svc
        .history(&alice, r, None, Some(RowRef::Id(sent[1].id)), Some(2))
        .await
        .expect("page")
        .0;
    assert_eq!(after.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![3, 4]);
    assert!(
        svc.history(&alice, r, Some(RowRef::Id(foreign.id)), None, None)
            .await
            .is_err()
    );
    assert!(svc.history(&alice, r, None, None, Some(101)).await.is_err());
}

fn attach(url: &str, kind: Option<MessageKind>) -> SendMessage {
    SendMessage {
        attachments: vec![url.into()],
        kind,
        ..Default::default()
    }
}

#[tokio::test]
async fn uploads_are_attached_by_their_owner_or_forwarded_within_a_conversation() {
    let (svc, _) = recorded_service().await;
    let alice = provisioned_actor(&svc, "alice").await;
    let bob = provisioned_actor(&svc, "bob").await;
    let carol = provisioned_actor(&svc, "carol").await;
    let c = group_conversation(&svc, &alice, &["bob", "carol"]).await;
    let other = direct_conversation(&svc, &carol, "bob").await;
    let path = "/uploads/chat-messages/images/abc.webp";
    svc.record_upload(Upload {
        path: path.into(),
        owner: alice.id().clone(),
        kind: MessageKind::Image,
        content_type: "image/webp".into(),
        size: 10,
        created_at: 1,
    })
    .await
    .expect("record");

    // The owner attaches it; its kind is the upload's.
    let (m, _) = svc
        .send(&alice, RowRef::Id(c.id), attach(path, None))
        .await
        .expect("owner");
    assert_eq!(m.kind, MessageKind::Image);
    // Another member forwards it within the same conversation.
    svc.send(&bob, RowRef::Id(c.id), attach(path, None))
        .await
        .expect("forward");
    // But not into another conversation.
    let err = svc
        .send(&carol, RowRef::Id(other.id), attach(path, None))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden);
    // Unknown server paths and dot segments are refused.
    for bad in [
        "/uploads/chat-messages/images/nope.webp",
        "/static/../uploads/chat-messages/images/abc.webp",
        "/uploads/%2e%2e/secret",
    ] {
        let err = svc
            .send(&alice, RowRef::Id(c.id), attach(bad, None))
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidPayload, "{bad}");
    }
    // External URLs are not checked; without a kind they are files.
    let (m, _) = svc
        .send(
            &alice,
            RowRef::Id(c.id),
            attach("https://cdn.example/x.bin", None),
        )
        .await
        .expect("external");
    assert_eq!(m.kind, MessageKind::File);
    let (m, _) = svc
        .send(
            &alice,
            RowRef::Id(c.id),
            attach("https://cdn.example/v.mp4", Some(MessageKind::Video)),
        )
        .await
        .expect("video");
    assert_eq!(m.kind, MessageKind::Video);
    // A non-text kind carries exactly one attachment.
    let mut two = attach("https://cdn.example/a.mp3", Some(MessageKind::Audio));
    two.attachments.push("https://cdn.example/b.mp3".into());
    let err = svc.send(&alice, RowRef::Id(c.id), two).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidPayload);
    let err = svc
        .send(
            &alice,
            RowRef::Id(c.id),
            SendMessage {
                text: Some("just text".into()),
                kind: Some(MessageKind::Image),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidPayload);
    let (m, _) = svc
        .send(&alice, RowRef::Id(c.id), text_message("plain"))
        .await
        .expect("text");
    assert_eq!(m.kind, MessageKind::Text);
}

/// The `covered` of the one `MessagesRead` among `events`.
fn covered(events: Vec<DomainEvent>) -> Vec<uuid::Uuid> {
    let mut reads = events.into_iter().filter_map(|e| match e {
        DomainEvent::MessagesRead { covered, .. } => Some(covered),
        _ => None,
    });
    let covered = reads.next().expect("a read event");
    assert!(reads.next().is_none(), "one read event");
    covered
}

#[tokio::test]
async fn a_read_tells_every_message_of_others_it_covers() {
    let (svc, rec) = recorded_service().await;
    let alice = provisioned_actor(&svc, "alice").await;
    let bob = provisioned_actor(&svc, "bob").await;
    let c = direct_conversation(&svc, &alice, "bob").await;
    let r = RowRef::Id(c.id);
    let mut sent = Vec::new();
    for (who, text) in [(&alice, "a1"), (&bob, "b1"), (&alice, "a2"), (&alice, "a3")] {
        sent.push(svc.send(who, r, text_message(text)).await.expect("send").0);
    }
    rec.take();
    // Up to a2: a1 and a2 (bob's own b1 is not told).
    svc.mark_read(&bob, RowRef::Id(sent[2].id))
        .await
        .expect("read");
    assert_eq!(covered(rec.take()), vec![sent[0].uuid, sent[2].uuid]);
    // Then only what is new: a3.
    svc.mark_read(&bob, RowRef::Uuid(sent[3].uuid))
        .await
        .expect("read");
    assert_eq!(covered(rec.take()), vec![sent[3].uuid]);
    // Alice reading bob's b1 covers it.
    svc.mark_read(&alice, RowRef::Id(sent[1].id))
        .await
        .expect("read");
    assert_eq!(covered(rec.take()), vec![sent[1].uuid]);
}

#[tokio::test]
async fn attachment_metadata_is_stored_as_sent_and_checked() {
    use confab::core::{Attachment, AttachmentMeta};
    let (svc, _) = recorded_service().await;
    let alice = provisioned_actor(&svc, "alice").await;
    let c = direct_conversation(&svc, &alice, "bob").await;
    let with = |meta: AttachmentMeta| SendMessage {
        attachments: vec![Attachment {
            url: "https://cdn.example/cv.pdf".into(),
            meta,
        }],
        kind: Some(MessageKind::File),
        ..Default::default()
    };
    let meta = AttachmentMeta {
        name: Some("My CV (2024).pdf".into()),
        size: Some(245_678),
        content_type: Some("application/pdf".into()),
        ..AttachmentMeta::default()
    };
    let (m, _) = svc
        .send(&alice, RowRef::Id(c.id), with(meta.clone()))
        .await
        .expect("send");
    assert_eq!(m.attachments[0].meta, meta);
    let (page, _) = svc
        .history(&alice, RowRef::Id(c.id), None, None, None)
        .await
        .expect("history");
    assert_eq!(page[0].attachments[0].meta, meta);
    for bad in [
        AttachmentMeta {
            name: Some(" ".into()),
            ..AttachmentMeta::default()
        },
        AttachmentMeta {
            name: Some("x".repeat(256)),
            ..AttachmentMeta::default()
        },
        AttachmentMeta {
            name: Some("a\nb".into()),
            ..AttachmentMeta::default()
        },
        AttachmentMeta {
            content_type: Some("pdf".into()),
            ..AttachmentMeta::default()
        },
    ] {
        let err = svc
            .send(&alice, RowRef::Id(c.id), with(bad.clone()))
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidPayload, "{bad:?}");
    }
    let (page, _) = svc
        .history(&alice, RowRef::Id(c.id), None, None, None)
        .await
        .expect("history");
    assert_eq!(page.len(), 1, "nothing stored for a refused send");
}

#[tokio::test]
async fn a_videos_still_is_held_to_the_rule_of_the_attachments() {
    use confab::core::{Attachment, AttachmentMeta};
    let (svc, _) = recorded_service().await;
    let alice = provisioned_actor(&svc, "alice").await;
    let bob = provisioned_actor(&svc, "bob").await;
    let c = direct_conversation(&svc, &alice, "bob").await;
    let still = "/uploads/chat-messages/images/still.webp";
    svc.record_upload(Upload {
        path: still.into(),
        owner: alice.id().clone(),
        kind: MessageKind::Image,
        content_type: "image/webp".into(),
        size: 10,
        created_at: 1,
    })
    .await
    .expect("record");
    let video = |thumbnail: &str| SendMessage {
        attachments: vec![Attachment {
            url: "https://cdn.example/clip.mp4".into(),
            meta: AttachmentMeta {
                thumbnail: Some(thumbnail.into()),
                ..AttachmentMeta::default()
            },
        }],
        kind: Some(MessageKind::Video),
        ..Default::default()
    };
    let (m, _) = svc
        .send(&alice, RowRef::Id(c.id), video(still))
        .await
        .expect("the owner's still");
    assert_eq!(m.attachments[0].meta.thumbnail.as_deref(), Some(still));
    let (page, _) = svc
        .history(&bob, RowRef::Id(c.id), None, None, None)
        .await
        .expect("history");
    assert_eq!(
        page[0].attachments[0].meta.thumbnail.as_deref(),
        Some(still)
    );
    // Another user's upload, an unknown one, or not a URL: refused.
    for (bad, code) in [
        (still, ErrorCode::Forbidden),
        (
            "/uploads/chat-messages/images/nope.webp",
            ErrorCode::InvalidPayload,
        ),
        ("not a url", ErrorCode::InvalidPayload),
    ] {
        let err = svc
            .send(&bob, RowRef::Id(c.id), video(bad))
            .await
            .unwrap_err();
        assert_eq!(err.code(), code, "{bad}");
    }
    let (page, _) = svc
        .history(&bob, RowRef::Id(c.id), None, None, None)
        .await
        .expect("history");
    assert_eq!(page.len(), 1, "nothing stored for a refused send");
}

/// What Syarah's `createMessage` with `messageType` 1–4 asks of the core.
fn file_or_text(chat: i64, body: &str, kind: MessageKind, caption: Option<&str>) -> Command {
    Command::SendFileOrText {
        conversation: RowRef::Id(chat).into(),
        body: body.to_owned(),
        kind,
        caption: caption.map(str::to_owned),
    }
}

#[tokio::test]
async fn a_field_that_is_a_file_or_text_is_sent_as_what_it_is() {
    let (svc, rec) = recorded_service().await;
    let alice = provisioned_actor(&svc, "alice").await;
    let c = direct_conversation(&svc, &alice, "bob").await;
    let sent = |outcome: Outcome| match outcome {
        Outcome::Sent { message, .. } => message,
        other => panic!("{other:?}"),
    };
    // Not a URL or a server path: a text, its declared kind kept.
    let m = sent(
        svc.execute(
            &alice,
            file_or_text(c.id, "Hello, world!", MessageKind::Audio, Some("")),
        )
        .await
        .expect("text"),
    );
    assert_eq!(m.kind, MessageKind::Text);
    assert_eq!(m.declared_kind, Some(MessageKind::Audio));
    assert_eq!(m.text.as_deref(), Some("Hello, world!"));
    assert!(m.attachments.is_empty());
    assert!(rec.take().iter().any(|e| matches!(e,
        DomainEvent::MessageCreated { message, .. } if message.declared_kind == Some(MessageKind::Audio))));
    // A URL is the file, with its caption.
    let m = sent(
        svc.execute(
            &alice,
            file_or_text(
                c.id,
                "https://cdn.example/v.mp4",
                MessageKind::Video,
                Some("look"),
            ),
        )
        .await
        .expect("file"),
    );
    assert_eq!(m.kind, MessageKind::Video);
    assert_eq!(m.declared_kind, None);
    assert_eq!(m.attachment_urls(), vec!["https://cdn.example/v.mp4"]);
    assert_eq!(m.text.as_deref(), Some("look"));
    // A path keeps today's rule: an unknown upload is refused.
    let err = svc
        .execute(
            &alice,
            file_or_text(
                c.id,
                "/uploads/chat-messages/images/nope.webp",
                MessageKind::Image,
                None,
            ),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidPayload);
    // Text keeps the text rules; nothing is stored for a refusal.
    for bad in ["", "   ", &"x".repeat(10_001)] {
        let err = svc
            .execute(&alice, file_or_text(c.id, bad, MessageKind::File, None))
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidPayload);
    }
    // Only a member sends.
    let mallory = provisioned_actor(&svc, "mallory").await;
    let err = svc
        .execute(&mallory, file_or_text(c.id, "hi", MessageKind::Audio, None))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
    rec.take();
    let (history, _) = svc
        .history(&alice, RowRef::Id(c.id), None, None, None)
        .await
        .expect("history");
    assert_eq!(history.len(), 2);
}

#[tokio::test]
async fn live_history_counts_and_pages_only_messages_not_deleted() {
    let (svc, _) = recorded_service().await;
    let alice = provisioned_actor(&svc, "alice").await;
    let c = direct_conversation(&svc, &alice, "bob").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let (m, _) = svc
            .send(&alice, RowRef::Id(c.id), text_message(&format!("m{i}")))
            .await
            .expect("send");
        ids.push(m.id);
    }
    svc.delete(&alice, RowRef::Id(ids[3]))
        .await
        .expect("delete");
    let page = |skip, include_deleted| Command::History {
        conversation: RowRef::Id(c.id),
        before: None,
        skip,
        limit: 2,
        include_deleted,
    };
    let texts = |outcome: Outcome| match outcome {
        Outcome::History(p) => (
            p.total,
            p.messages
                .iter()
                .map(|m| m.text.clone().unwrap_or_default())
                .collect::<Vec<_>>(),
        ),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        texts(svc.execute(&alice, page(0, false)).await.expect("live")),
        (4, vec!["m2".to_owned(), "m4".to_owned()])
    );
    assert_eq!(
        texts(svc.execute(&alice, page(2, false)).await.expect("live")),
        (4, vec!["m0".to_owned(), "m1".to_owned()])
    );
    // With deleted ones (V Chat), the tombstone is counted and returned.
    assert_eq!(
        texts(svc.execute(&alice, page(0, true)).await.expect("all")),
        (5, vec![String::new(), "m4".to_owned()])
    );
    let mallory = provisioned_actor(&svc, "mallory").await;
    let err = svc.execute(&mallory, page(0, false)).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
}

#[tokio::test]
async fn an_edit_tells_who_wrote_the_message() {
    let (svc, rec) = recorded_service().await;
    let alice = named_actor(&svc, "alice", "Alice").await;
    let c = direct_conversation(&svc, &alice, "bob").await;
    let (m, _) = svc
        .send(&alice, RowRef::Id(c.id), text_message("tpyo"))
        .await
        .expect("send");
    rec.take();
    svc.edit(&alice, RowRef::Id(m.id), "typo")
        .await
        .expect("edit");
    let events = rec.take();
    let Some(DomainEvent::MessageEdited { sender, .. }) = events.first() else {
        panic!("{events:?}")
    };
    assert_eq!(sender, &alice.user);
}
