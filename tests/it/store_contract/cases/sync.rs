//! The change feed: every kind of write makes its change row in order, a
//! user's feed holds only what it may see, pages follow each other, and
//! concurrent writers never make a reader skip a change.

use std::collections::HashSet;

use confab::core::{Change, ChangeKind, Role, UserId};
use confab::store::DynStore;

use super::{group, send, text, users};

/// Every change `user` may see after `after`, in pages of `limit`.
async fn all_changes(s: &DynStore, user: &UserId, after: i64, limit: u32) -> Vec<Change> {
    let mut out = Vec::new();
    let mut cursor = after;
    loop {
        let page = s.changes(user, cursor, limit).await.expect("changes");
        assert!(page.changes.len() <= limit as usize);
        if let Some(last) = page.changes.last() {
            cursor = last.cursor;
        }
        out.extend(page.changes);
        if !page.has_more {
            return out;
        }
    }
}

/// A change as `(kind, its subject)`: the message's id, or the user.
fn described(c: &Change) -> (String, String) {
    let subject = match &c.kind {
        ChangeKind::MessageCreated(m)
        | ChangeKind::MessageEdited(m)
        | ChangeKind::MessageDeleted(m) => m.id.to_string(),
        ChangeKind::Read { user, seq } | ChangeKind::Delivered { user, seq } => {
            format!("{user}@{seq}")
        }
        ChangeKind::MemberAdded { user, role } => format!("{user}:{}", role.as_str()),
        ChangeKind::MemberRemoved { user } => user.to_string(),
        ChangeKind::ConversationCreated | ChangeKind::ConversationUpdated => String::new(),
    };
    (c.kind.as_str().to_owned(), subject)
}

fn expect(kind: &str, subject: &str) -> (String, String) {
    (kind.to_owned(), subject.to_owned())
}

pub async fn every_kind_of_write_makes_one_change_in_the_order_of_the_writes(s: DynStore) {
    let ids = users(&s, &["alice", "bob", "carol"]).await;
    let (a, b, c) = (&ids[0], &ids[1], &ids[2]);
    let start = s.change_head().await.expect("head");
    let g = group(&s, a, std::slice::from_ref(b), 100).await;
    let m1 = send(&s, text(g, a, "one", 200)).await;
    let m2 = send(&s, text(g, a, "two", 210)).await;
    s.edit_message(m1.id, "one, edited", 300)
        .await
        .expect("edit");
    s.delete_message(m1.id, 400).await.expect("delete");
    s.delete_message(m1.id, 410).await.expect("delete again");
    assert_eq!(s.mark_read(g, b, 1).await.expect("read"), Some(1));
    assert_eq!(s.mark_read(g, b, 1).await.expect("read again"), None);
    let (moved, _) = s
        .mark_delivered(g, std::slice::from_ref(b), 2)
        .await
        .expect("delivered");
    assert_eq!(moved, vec![b.clone()]);
    let (moved, _) = s
        .mark_delivered(g, std::slice::from_ref(b), 2)
        .await
        .expect("again");
    assert!(moved.is_empty());
    assert!(s.set_title(g, "renamed").await.expect("title"));
    assert!(!s.set_title(g, "renamed").await.expect("same title"));
    assert!(s.add_member(g, c, Role::Member, 500).await.expect("add"));
    assert!(s.set_role(g, c, Role::Admin).await.expect("role"));
    assert!(s.set_muted(g, c, true).await.expect("mute"));
    assert!(s.remove_member(g, c).await.expect("remove"));

    let feed = all_changes(&s, a, start, 100).await;
    let got: Vec<_> = feed.iter().map(described).collect();
    let (m1s, m2s) = (m1.id.to_string(), m2.id.to_string());
    assert_eq!(
        got,
        vec![
            expect("conversation.created", ""),
            expect("member.added", &format!("{a}:owner")),
            expect("member.added", &format!("{b}:member")),
            expect("message.created", &m1s),
            expect("message.created", &m2s),
            expect("message.edited", &m1s),
            expect("message.deleted", &m1s),
            expect("read", &format!("{b}@1")),
            expect("delivered", &format!("{b}@2")),
            expect("conversation.updated", ""),
            expect("member.added", &format!("{c}:member")),
            expect("conversation.updated", ""),
            expect("member.removed", &c.to_string()),
        ]
    );
    let cursors: Vec<i64> = feed.iter().map(|c| c.cursor).collect();
    assert!(cursors.windows(2).all(|w| w[0] < w[1]), "{cursors:?}");
    assert!(cursors[0] > start);
    assert_eq!(
        s.change_head().await.expect("head"),
        *cursors.last().expect("some")
    );
    for change in &feed {
        assert_eq!(change.conversation_id, g);
        if let ChangeKind::MessageCreated(m)
        | ChangeKind::MessageEdited(m)
        | ChangeKind::MessageDeleted(m) = &change.kind
            && m.id == m1.id
        {
            // Every change of a message shows it as it is now: deleted.
            assert_eq!(m.deleted_at, Some(400));
            assert_eq!(m.text, None);
            assert_eq!(m.conversation_uuid, change.conversation_uuid);
        }
    }
    let at: Vec<i64> = feed[..7].iter().map(|c| c.at).collect();
    assert_eq!(at, vec![100, 100, 100, 200, 210, 300, 400]);
    // Bob's feed has the same changes: he was a member throughout.
    assert_eq!(all_changes(&s, b, start, 100).await, feed);
}

pub async fn a_users_feed_holds_only_the_changes_made_while_it_was_a_member(s: DynStore) {
    let ids = users(&s, &["alice", "bob", "carol", "dave"]).await;
    let (a, b, c, d) = (&ids[0], &ids[1], &ids[2], &ids[3]);
    let start = s.change_head().await.expect("head");
    let (direct, _) = s.direct_conversation(a, b, 100).await.expect("direct");
    send(&s, text(direct.id, a, "private", 110)).await;
    s.mark_read(direct.id, b, 1).await.expect("read");
    let g = group(&s, a, std::slice::from_ref(b), 120).await;
    let before = send(&s, text(g, a, "before carol", 130)).await;
    s.add_member(g, c, Role::Member, 140)
        .await
        .expect("add carol");
    let during = send(&s, text(g, b, "while carol is here", 150)).await;
    s.mark_read(g, c, 2).await.expect("carol reads");
    s.remove_member(g, c).await.expect("remove carol");
    let after = send(&s, text(g, a, "after carol", 160)).await;
    s.mark_read(g, b, 3).await.expect("bob reads");

    let carol = all_changes(&s, c, start, 100).await;
    assert!(carol.iter().all(|ch| ch.conversation_id == g), "{carol:?}");
    let got: Vec<_> = carol.iter().map(described).collect();
    assert_eq!(
        got,
        vec![
            expect("conversation.created", ""),
            expect("member.added", &format!("{c}:member")),
            expect("message.created", &during.id.to_string()),
            expect("read", &format!("{c}@2")),
            expect("member.removed", &c.to_string()),
        ],
        "carol sees neither {} nor {}",
        before.id,
        after.id
    );
    // Dave was never a member of anything: nothing.
    assert!(all_changes(&s, d, start, 100).await.is_empty());
    // Alice sees both conversations, everything.
    let alice = all_changes(&s, a, start, 100).await;
    assert_eq!(alice.len(), all_changes(&s, b, start, 100).await.len());
    assert!(alice.iter().any(|ch| ch.conversation_id == direct.id));
    assert_eq!(
        alice.iter().filter(|ch| ch.conversation_id == g).count(),
        // created, 2 added, before, carol added, during, carol read,
        // carol removed, after, bob read
        10
    );
    // Carol added again sees what follows, not what she missed.
    s.mark_read(g, a, 4).await.expect("alice reads");
    s.add_member(g, c, Role::Member, 170)
        .await
        .expect("add again");
    let back = send(&s, text(g, a, "welcome back", 180)).await;
    let again = all_changes(&s, c, start, 100).await;
    let got: Vec<_> = again[carol.len()..].iter().map(described).collect();
    assert_eq!(
        got,
        vec![
            expect("member.added", &format!("{c}:member")),
            expect("message.created", &back.id.to_string()),
        ]
    );
}

pub async fn the_feed_is_read_in_pages_that_follow_each_other(s: DynStore) {
    let ids = users(&s, &["alice", "bob"]).await;
    let (a, b) = (&ids[0], &ids[1]);
    let start = s.change_head().await.expect("head");
    let (direct, _) = s.direct_conversation(a, b, 100).await.expect("direct");
    for i in 0..25 {
        send(&s, text(direct.id, a, &format!("m{i}"), 200 + i)).await;
    }
    // created, two members added, 25 messages
    let first = s.changes(b, start, 10).await.expect("page 1");
    assert_eq!(first.changes.len(), 10);
    assert!(first.has_more);
    let second = s
        .changes(b, first.changes[9].cursor, 10)
        .await
        .expect("page 2");
    assert_eq!(second.changes.len(), 10);
    assert!(second.has_more);
    let third = s
        .changes(b, second.changes[9].cursor, 10)
        .await
        .expect("page 3");
    assert_eq!(third.changes.len(), 8);
    assert!(!third.has_more);
    let all: Vec<Change> = [first.changes, second.changes, third.changes].concat();
    let cursors: HashSet<i64> = all.iter().map(|c| c.cursor).collect();
    assert_eq!(cursors.len(), 28, "no change twice");
    let last = all.last().expect("some").cursor;
    assert_eq!(s.change_head().await.expect("head"), last);
    let none = s.changes(b, last, 10).await.expect("after the last");
    assert!(none.changes.is_empty());
    assert!(!none.has_more);
    // A cursor from before the feed began gives what there is.
    assert_eq!(all_changes(&s, b, 0, 500).await.len(), 28);
    // Exactly a page's worth: no more after it.
    let exact = s.changes(b, start, 28).await.expect("exact");
    assert_eq!(exact.changes.len(), 28);
    assert!(!exact.has_more);
}

pub async fn concurrent_writers_never_make_a_reader_skip_a_change(s: DynStore) {
    const WRITERS: usize = 8;
    const EACH: usize = 40;
    let ids = users(&s, &["reader", "w0", "w1", "w2", "w3"]).await;
    let reader = ids[0].clone();
    let start = s.change_head().await.expect("head");
    let mut conversations = Vec::new();
    for w in &ids[1..] {
        conversations.push(group(&s, w, std::slice::from_ref(&reader), 100).await);
    }
    let head = s.change_head().await.expect("head after setup");

    let mut writers = Vec::new();
    for i in 0..WRITERS {
        let s = s.clone();
        let conversation = conversations[i % conversations.len()];
        let sender = ids[1 + i % conversations.len()].clone();
        let reader = reader.clone();
        writers.push(tokio::spawn(async move {
            let mut sent = Vec::new();
            for n in 0..EACH {
                let m = send(&s, text(conversation, &sender, &format!("{i}/{n}"), 200)).await;
                if n % 4 == 0 {
                    s.mark_delivered(conversation, std::slice::from_ref(&reader), m.seq)
                        .await
                        .expect("delivered");
                }
                sent.push(m.id);
                tokio::task::yield_now().await;
            }
            sent
        }));
    }

    // Read while they write, as a client would: after the last cursor seen.
    let mut seen = Vec::new();
    let mut cursor = head;
    let mut done = false;
    while !done {
        done = writers.iter().all(|w| w.is_finished());
        loop {
            let page = s.changes(&reader, cursor, 7).await.expect("changes");
            if let Some(last) = page.changes.last() {
                cursor = last.cursor;
            }
            seen.extend(page.changes);
            if !page.has_more {
                break;
            }
        }
        tokio::task::yield_now().await;
    }
    let mut sent = HashSet::new();
    for w in writers {
        sent.extend(w.await.expect("writer"));
    }

    let cursors: Vec<i64> = seen.iter().map(|c| c.cursor).collect();
    assert!(
        cursors.windows(2).all(|w| w[0] < w[1]),
        "in order, never twice"
    );
    let created: HashSet<i64> = seen
        .iter()
        .filter_map(|c| match &c.kind {
            ChangeKind::MessageCreated(m) => Some(m.id),
            _ => None,
        })
        .collect();
    assert_eq!(created.len(), WRITERS * EACH);
    assert_eq!(created, sent, "every message seen once, none skipped");
    // And what the reader collected is the whole feed as read afterwards.
    assert_eq!(all_changes(&s, &reader, head, 500).await, seen);
    assert!(all_changes(&s, &reader, start, 500).await.len() > seen.len());
}
