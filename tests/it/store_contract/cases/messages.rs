//! Messages: sequence numbers under concurrency, client-id retries,
//! history pages, edits and deletes, read and delivery watermarks, unread
//! counts, kinds and attachments with their metadata.

use std::collections::HashSet;

use confab::core::{
    Attachment, AttachmentMeta, ConversationRef, MessageKind, MessageRef, Page, UserId,
};
use confab::store::{DynStore, Inserted};

use super::{group, page, send, seqs, text, users, with_client_id};
use crate::helpers::user_id;

pub async fn sequence_numbers_are_1_to_n_without_gaps_under_50_concurrent_inserts(s: DynStore) {
    let ids = users(&s, &["a", "b"]).await;
    let conv = group(&s, &ids[0], &ids[1..], 10).await;
    let mut tasks = Vec::new();
    for i in 0..50i64 {
        let s = s.clone();
        let sender = ids[(i % 2) as usize].clone();
        tasks.push(tokio::spawn(async move {
            s.insert_message(text(conv, &sender, &format!("m{i}"), 100 + i))
                .await
        }));
    }
    let mut inserted = Vec::new();
    for t in tasks {
        match t.await.expect("join").expect("insert") {
            Inserted::New(m) => inserted.push(m),
            Inserted::Duplicate(m) => panic!("duplicate without client id: {m:?}"),
        }
    }
    let mut got: Vec<i64> = seqs(&inserted);
    got.sort_unstable();
    assert_eq!(got, (1..=50).collect::<Vec<_>>());
    assert_eq!(
        inserted.iter().map(|m| m.id).collect::<HashSet<_>>().len(),
        50
    );
    assert_eq!(
        inserted
            .iter()
            .map(|m| m.uuid)
            .collect::<HashSet<_>>()
            .len(),
        50
    );

    let c = s
        .conversation(ConversationRef::Id(conv))
        .await
        .expect("conversation")
        .expect("exists");
    assert_eq!(c.last_seq, 50);
    assert_eq!(c.updated_at, 149);

    let history = s
        .messages(conv, page(None, None, 100))
        .await
        .expect("history");
    assert_eq!(seqs(&history), (1..=50).collect::<Vec<_>>());
    for m in &history {
        let original = inserted
            .iter()
            .find(|i| i.id == m.id)
            .expect("inserted message");
        assert_eq!(m, original);
    }
}

pub async fn a_message_to_a_missing_conversation_fails_alone_among_concurrent_inserts(s: DynStore) {
    let ids = users(&s, &["p", "q"]).await;
    let conv = group(&s, &ids[0], &ids[1..], 10).await;
    let mut tasks = Vec::new();
    for i in 0..20i64 {
        let (s, sender) = (s.clone(), ids[0].clone());
        let target = if i == 7 { conv + 1_000_000 } else { conv };
        tasks.push(tokio::spawn(async move {
            s.insert_message(text(target, &sender, &format!("m{i}"), 100 + i))
                .await
        }));
    }
    let mut stored = 0;
    for (i, t) in tasks.into_iter().enumerate() {
        match t.await.expect("join") {
            Ok(Inserted::New(_)) => stored += 1,
            Ok(Inserted::Duplicate(m)) => panic!("duplicate without client id: {m:?}"),
            Err(e) => assert_eq!(
                i, 7,
                "only the message to the missing conversation fails: {e}"
            ),
        }
    }
    assert_eq!(stored, 19);
    let history = s
        .messages(conv, page(None, None, 100))
        .await
        .expect("history");
    assert_eq!(seqs(&history), (1..=19).collect::<Vec<_>>());
}

pub async fn client_id_retry_returns_the_first_message(s: DynStore) {
    let ids = users(&s, &["a", "b"]).await;
    let (a, b) = (&ids[0], &ids[1]);
    let conv = group(&s, a, std::slice::from_ref(b), 10).await;
    let other_conv = group(&s, a, std::slice::from_ref(b), 11).await;

    let first = send(&s, with_client_id(text(conv, a, "hello", 100), "c1")).await;
    assert_eq!(first.client_id.as_deref(), Some("c1"));
    assert_eq!(first.seq, 1);

    let retry = s
        .insert_message(with_client_id(text(conv, a, "changed", 200), "c1"))
        .await
        .expect("retry");
    assert_eq!(retry, Inserted::Duplicate(first.clone()));
    assert_eq!(retry.message().text.as_deref(), Some("hello"));
    let c = s
        .conversation(ConversationRef::Id(conv))
        .await
        .expect("conversation")
        .expect("exists");
    assert_eq!(c.last_seq, 1, "a retry takes no sequence number");
    assert_eq!(c.updated_at, 100);

    // The same client id from another sender, or in another conversation,
    // is another message.
    let from_b = send(&s, with_client_id(text(conv, b, "hi", 300), "c1")).await;
    assert_eq!(from_b.seq, 2);
    let elsewhere = send(&s, with_client_id(text(other_conv, a, "yo", 400), "c1")).await;
    assert_eq!(elsewhere.seq, 1);
    assert_ne!(elsewhere.id, first.id);

    // Without a client id every send is new.
    let n1 = send(&s, text(conv, a, "same", 500)).await;
    let n2 = send(&s, text(conv, a, "same", 500)).await;
    assert_ne!(n1.id, n2.id);
    assert_eq!((n1.seq, n2.seq), (3, 4));

    // Concurrent retries store one message.
    let mut tasks = Vec::new();
    for i in 0..10 {
        let (s, a) = (s.clone(), a.clone());
        tasks.push(tokio::spawn(async move {
            s.insert_message(with_client_id(text(conv, &a, "burst", 600 + i), "c2"))
                .await
        }));
    }
    let mut new = 0;
    let mut msg_ids = HashSet::new();
    for t in tasks {
        let r = t.await.expect("join").expect("insert");
        new += usize::from(matches!(r, Inserted::New(_)));
        msg_ids.insert(r.message().id);
    }
    assert_eq!(new, 1);
    assert_eq!(msg_ids.len(), 1);
    let history = s
        .messages(conv, page(None, None, 100))
        .await
        .expect("history");
    assert_eq!(seqs(&history), vec![1, 2, 3, 4, 5]);
}

pub async fn history_pages_before_and_after_with_limits(s: DynStore) {
    let ids = users(&s, &["a", "b"]).await;
    let conv = group(&s, &ids[0], &ids[1..], 10).await;
    for i in 1..=10 {
        send(
            &s,
            text(conv, &ids[(i % 2) as usize], &format!("m{i}"), 100 + i),
        )
        .await;
    }
    let other = group(&s, &ids[0], &ids[1..], 20).await;
    send(&s, text(other, &ids[0], "elsewhere", 500)).await;

    let get = |p: Page| {
        let s = s.clone();
        async move { seqs(&s.messages(conv, p).await.expect("page")) }
    };
    assert_eq!(get(page(None, None, 3)).await, vec![8, 9, 10]);
    assert_eq!(
        get(page(None, None, 100)).await,
        (1..=10).collect::<Vec<_>>()
    );
    assert_eq!(get(page(Some(8), None, 3)).await, vec![5, 6, 7]);
    assert_eq!(get(page(Some(2), None, 5)).await, vec![1]);
    assert_eq!(get(page(Some(1), None, 5)).await, Vec::<i64>::new());
    assert_eq!(get(page(None, Some(7), 2)).await, vec![8, 9]);
    assert_eq!(get(page(None, Some(9), 5)).await, vec![10]);
    assert_eq!(get(page(None, Some(10), 5)).await, Vec::<i64>::new());
    assert_eq!(get(page(None, Some(0), 3)).await, vec![1, 2, 3]);
    assert_eq!(get(page(Some(8), Some(3), 10)).await, vec![4, 5, 6, 7]);
    assert_eq!(get(page(Some(8), Some(3), 2)).await, vec![6, 7]);

    let texts: Vec<String> = s
        .messages(conv, page(None, None, 2))
        .await
        .expect("page")
        .into_iter()
        .filter_map(|m| m.text)
        .collect();
    assert_eq!(texts, vec!["m9", "m10"]);
    assert!(
        s.messages(conv + other + 1000, page(None, None, 10))
            .await
            .expect("missing conversation")
            .is_empty()
    );
}

pub async fn edit_and_soft_delete(s: DynStore) {
    let ids = users(&s, &["a", "b"]).await;
    let conv = group(&s, &ids[0], &ids[1..], 10).await;
    let mut m = text(conv, &ids[0], "first", 100);
    m.attachments = vec!["/media/x.webp".into(), "https://e.x/y.png".into()];
    let original = send(&s, m).await;
    assert_eq!(original.attachments.len(), 2);
    let second = send(&s, text(conv, &ids[1], "second", 110)).await;

    let edited = s
        .edit_message(original.id, "fixed", 200)
        .await
        .expect("edit");
    assert_eq!(edited.text.as_deref(), Some("fixed"));
    assert_eq!(edited.edited_at, Some(200));
    assert_eq!(edited.deleted_at, None);
    assert_eq!(edited.attachments, original.attachments);
    assert_eq!((edited.seq, edited.created_at), (1, 100));
    assert_eq!(
        s.message(MessageRef::Id(original.id))
            .await
            .expect("message"),
        Some(edited.clone())
    );

    let deleted = s.delete_message(original.id, 300).await.expect("delete");
    assert_eq!(deleted.text, None);
    assert!(deleted.attachments.is_empty());
    assert_eq!(deleted.deleted_at, Some(300));
    assert_eq!(deleted.seq, 1);
    assert_eq!(deleted.uuid, original.uuid);

    let history = s
        .messages(conv, page(None, None, 10))
        .await
        .expect("history");
    assert_eq!(seqs(&history), vec![1, 2]);
    assert_eq!(history[0], deleted);
    assert_eq!(history[1], second);

    assert!(
        s.edit_message(original.id, "again", 400).await.is_err(),
        "a deleted message cannot be edited"
    );
    let still = s
        .message(MessageRef::Id(original.id))
        .await
        .expect("message")
        .expect("exists");
    assert_eq!(still.text, None);
    assert_eq!(still.deleted_at, Some(300));

    // A missing message is an error, not a panic.
    assert!(s.edit_message(i64::MAX, "x", 1).await.is_err());
    assert!(s.delete_message(i64::MAX, 1).await.is_err());
}

pub async fn read_watermark_only_moves_forward_and_never_past_last_seq(s: DynStore) {
    let ids = users(&s, &["a", "b", "c"]).await;
    let (a, b, c) = (&ids[0], &ids[1], &ids[2]);
    let conv = group(&s, a, &[b.clone(), c.clone()], 10).await;
    assert_eq!(s.mark_read(conv, b, 1).await.expect("read"), None, "empty");
    for i in 0..5 {
        send(&s, text(conv, a, "x", 100 + i)).await;
    }

    assert_eq!(s.mark_read(conv, b, 3).await.expect("read"), Some(3));
    assert_eq!(s.mark_read(conv, b, 2).await.expect("back"), None);
    assert_eq!(s.mark_read(conv, b, 3).await.expect("same"), None);
    assert_eq!(s.mark_read(conv, b, 0).await.expect("zero"), None);
    assert_eq!(s.mark_read(conv, b, -1).await.expect("negative"), None);
    assert_eq!(s.mark_read(conv, b, 99).await.expect("past"), Some(5));
    assert_eq!(s.mark_read(conv, b, 99).await.expect("past again"), None);
    let mb = s.member(conv, b).await.expect("member").expect("b");
    assert_eq!(mb.last_read_seq, 5);

    // Delivery is its own watermark with the same rules, moved for
    // several members in one write: only those behind move.
    let one = std::slice::from_ref(c);
    assert_eq!(
        s.mark_delivered(conv, one, 2).await.expect("dlv"),
        (vec![c.clone()], 2)
    );
    assert_eq!(
        s.mark_delivered(conv, one, 1).await.expect("dlv back").0,
        Vec::<UserId>::new()
    );
    let (mut moved, up_to) = s
        .mark_delivered(conv, &[b.clone(), c.clone(), user_id("stranger")], 4)
        .await
        .expect("dlv both");
    moved.sort();
    assert_eq!((moved, up_to), (vec![b.clone(), c.clone()], 4));
    assert_eq!(
        s.mark_delivered(conv, one, 50).await.expect("dlv past"),
        (vec![c.clone()], 5)
    );
    assert_eq!(
        s.mark_delivered(conv, &[], 5).await.expect("nobody").0,
        Vec::<UserId>::new()
    );
    let mc = s.member(conv, c).await.expect("member").expect("c");
    assert_eq!((mc.last_read_seq, mc.last_delivered_seq), (0, 5));
    let mb = s.member(conv, b).await.expect("member").expect("b");
    assert_eq!(mb.last_delivered_seq, 4);

    // Not a member: nothing moves.
    assert_eq!(
        s.mark_read(conv, &user_id("stranger"), 3).await.expect("x"),
        None
    );
    assert_eq!(
        s.mark_delivered(conv, &[user_id("stranger")], 3)
            .await
            .expect("x")
            .0,
        Vec::<UserId>::new()
    );
    // Another conversation's watermark is untouched.
    let other = group(&s, a, std::slice::from_ref(b), 20).await;
    assert_eq!(
        s.member(other, b)
            .await
            .expect("m")
            .expect("b")
            .last_read_seq,
        0
    );
}

pub async fn unread_counts_exclude_own_and_deleted_messages(s: DynStore) {
    let ids = users(&s, &["a", "b", "c"]).await;
    let (a, b, c) = (&ids[0], &ids[1], &ids[2]);
    let conv = group(&s, a, &[b.clone(), c.clone()], 10).await;
    let a1 = send(&s, text(conv, a, "a1", 100)).await; // 1
    send(&s, text(conv, a, "a2", 101)).await; // 2
    send(&s, text(conv, b, "b1", 102)).await; // 3
    send(&s, text(conv, a, "a3", 103)).await; // 4
    send(&s, text(conv, b, "b2", 104)).await; // 5
    s.delete_message(a1.id, 200).await.expect("delete");

    assert_eq!(s.unread_count(conv, a).await.expect("a"), 2);
    assert_eq!(s.unread_count(conv, b).await.expect("b"), 2);
    assert_eq!(s.unread_count(conv, c).await.expect("c"), 4);

    s.mark_read(conv, b, 2).await.expect("read");
    assert_eq!(s.unread_count(conv, b).await.expect("b"), 1);
    s.mark_read(conv, c, 4).await.expect("read");
    assert_eq!(s.unread_count(conv, c).await.expect("c"), 1);
    s.mark_read(conv, c, 5).await.expect("read");
    assert_eq!(s.unread_count(conv, c).await.expect("c"), 0);
}

pub async fn message_kinds_and_attachments_are_stored(s: DynStore) {
    let ids = users(&s, &["alice", "bob"]).await;
    let conv = group(&s, &ids[0], &ids[1..], 10).await;
    let other = group(&s, &ids[0], &ids[1..], 10).await;
    let path = "/uploads/chat-messages/audio/x.mp3";
    let mut m = text(conv, &ids[0], "", 20);
    m.text = None;
    m.kind = MessageKind::Audio;
    m.attachments = vec![path.into()];
    let sent = send(&s, m).await;
    assert_eq!(sent.kind, MessageKind::Audio);
    let stored = s
        .message(MessageRef::Id(sent.id))
        .await
        .expect("message")
        .expect("exists");
    assert_eq!(stored, sent);
    let plain = send(&s, text(conv, &ids[1], "hi", 30)).await;
    assert_eq!(plain.kind, MessageKind::Text);

    assert!(s.attachment_used_in(conv, path).await.expect("used"));
    assert!(!s.attachment_used_in(other, path).await.expect("other"));
    assert!(
        !s.attachment_used_in(conv, "/uploads/y")
            .await
            .expect("unknown")
    );
    // A deleted message no longer lends its attachments.
    s.delete_message(sent.id, 40).await.expect("delete");
    assert!(!s.attachment_used_in(conv, path).await.expect("deleted"));
}

pub async fn attachment_metadata_is_stored_and_erased_by_a_delete(s: DynStore) {
    let ids = users(&s, &["alice", "bob"]).await;
    let conv = group(&s, &ids[0], &ids[1..], 10).await;
    let photo = Attachment {
        url: "/uploads/chat-messages/images/p.webp".into(),
        meta: AttachmentMeta {
            name: Some("photo (1).jpg".into()),
            size: Some(245_678),
            content_type: Some("image/jpeg".into()),
            width: Some(640),
            height: Some(480),
            duration_ms: None,
            thumbnail: None,
        },
    };
    let voice = Attachment {
        url: "https://cdn.example.com/v.mp3".into(),
        meta: AttachmentMeta {
            duration_ms: Some(12_500),
            thumbnail: Some("/uploads/chat-messages/images/still.webp".into()),
            ..AttachmentMeta::default()
        },
    };
    let bare = Attachment::new("https://cdn.example.com/bare.pdf");
    let mut m = text(conv, &ids[0], "three files", 20);
    m.attachments = vec![photo.clone(), bare.clone(), voice.clone()];
    let sent = send(&s, m).await;
    let want = vec![photo, bare.clone(), voice];
    assert_eq!(sent.attachments, want);
    let stored = s
        .message(MessageRef::Id(sent.id))
        .await
        .expect("message")
        .expect("exists");
    assert_eq!(stored.attachments, want);
    // An attachment without metadata reads back as one (the form of rows
    // stored before there was metadata).
    let mut m = text(conv, &ids[1], "", 30);
    m.attachments = vec![bare.clone()];
    let plain = send(&s, m).await;
    let list = s.conversations_of(&ids[0]).await.expect("list");
    assert_eq!(
        list[0].last_message.as_ref().map(|m| m.attachments.clone()),
        Some(vec![bare])
    );
    let history = s.messages(conv, page(None, None, 10)).await.expect("page");
    assert_eq!(history[0].attachments, want);
    assert_eq!(history[1].attachments, plain.attachments);
    // An edit keeps them; a delete erases them with the URLs.
    let edited = s.edit_message(sent.id, "fixed", 40).await.expect("edit");
    assert_eq!(edited.attachments, want);
    let deleted = s.delete_message(sent.id, 50).await.expect("delete");
    assert!(deleted.attachments.is_empty());
    let after = s
        .message(MessageRef::Id(sent.id))
        .await
        .expect("message")
        .expect("exists");
    assert!(after.attachments.is_empty());
}

pub async fn a_declared_kind_is_stored_beside_the_kind(s: DynStore) {
    let ids = users(&s, &["alice", "bob"]).await;
    let conv = group(&s, &ids[0], &ids[1..], 10).await;
    let mut m = text(conv, &ids[0], "Hello, world!", 20);
    m.declared_kind = Some(MessageKind::Audio);
    let sent = send(&s, m).await;
    assert_eq!(sent.kind, MessageKind::Text);
    assert_eq!(sent.declared_kind, Some(MessageKind::Audio));
    let stored = s
        .message(MessageRef::Id(sent.id))
        .await
        .expect("message")
        .expect("exists");
    assert_eq!(stored, sent);
    let plain = send(&s, text(conv, &ids[1], "hi", 30)).await;
    assert_eq!(plain.declared_kind, None);
    let history = s
        .messages(conv, page(None, None, 10))
        .await
        .expect("history");
    assert_eq!(history[0].declared_kind, Some(MessageKind::Audio));
    assert_eq!(history[1].declared_kind, None);
}

pub async fn live_history_leaves_deleted_messages_out_of_the_page_and_the_count(s: DynStore) {
    let ids = users(&s, &["a", "b"]).await;
    let conv = group(&s, &ids[0], &ids[1..], 10).await;
    let mut sent = Vec::new();
    for i in 0..8i64 {
        sent.push(send(&s, text(conv, &ids[0], &format!("m{i}"), 100 + i)).await);
    }
    // Seqs 1..=8; 7 and 4 deleted: 6 live ones (8, 6, 5, 3, 2, 1).
    for seq in [7, 4] {
        s.delete_message(sent[seq - 1].id, 200)
            .await
            .expect("delete");
    }
    let (page, total) = s.live_messages(conv, None, 0, 3).await.expect("page");
    assert_eq!(total, 6);
    assert_eq!(seqs(&page), vec![5, 6, 8], "oldest first");
    let (page, total) = s.live_messages(conv, None, 3, 3).await.expect("page");
    assert_eq!(total, 6);
    assert_eq!(seqs(&page), vec![1, 2, 3]);
    let (page, _) = s.live_messages(conv, None, 6, 3).await.expect("page");
    assert!(page.is_empty());
    // Below a cursor: only the live ones older than it, counted too.
    let (page, total) = s.live_messages(conv, Some(6), 1, 10).await.expect("page");
    assert_eq!(total, 4);
    assert_eq!(seqs(&page), vec![1, 2, 3]);
    let (page, total) = s.live_messages(conv, Some(6), 0, 0).await.expect("count");
    assert_eq!((page.len(), total), (0, 4));
    // Another conversation counts nothing of this one.
    let other = group(&s, &ids[0], &ids[1..], 10).await;
    assert_eq!(
        s.live_messages(other, None, 0, 10).await.expect("empty"),
        (vec![], 0)
    );
}
