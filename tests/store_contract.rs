//! The behaviour every `Store` backend must have, written against
//! `DynStore` only. `contract_suite!(name, factory)` runs every case against
//! a fresh store from `factory` (an `async fn() -> Fixture`); each backend
//! adds one line at the bottom.

use std::any::Any;
use std::collections::HashSet;

use confab::core::error::StoreError;
use confab::core::{
    AgentRole, ConversationKind, ConversationRef, Device, DevicePlatform, Friendship,
    FriendshipStatus, Message, MessageKind, MessageRef, Millis, NewMessage, Page, Profile, Role,
    RowRef, Upload, UserId,
};
use confab::store::{DynStore, Inserted};

/// A fresh, empty store, and whatever must live as long as it (a temporary
/// directory, a throwaway database).
pub struct Fixture {
    pub store: DynStore,
    pub _guard: Box<dyn Any + Send>,
}

fn uid(s: &str) -> UserId {
    UserId::parse(s).expect("valid user id")
}

fn profile(name: Option<&str>, avatar: Option<&str>, email: Option<&str>) -> Profile {
    Profile {
        display_name: name.map(str::to_owned),
        avatar_url: avatar.map(str::to_owned),
        email: email.map(str::to_owned),
    }
}

fn text(conversation_id: i64, sender: &UserId, body: &str, at: Millis) -> NewMessage {
    NewMessage {
        conversation_id,
        sender_id: sender.clone(),
        kind: MessageKind::Text,
        text: Some(body.to_owned()),
        attachments: Vec::new(),
        client_id: None,
        created_at: at,
    }
}

fn with_client_id(mut m: NewMessage, client_id: &str) -> NewMessage {
    m.client_id = Some(client_id.to_owned());
    m
}

async fn send(s: &DynStore, m: NewMessage) -> Message {
    match s.insert_message(m).await.expect("insert message") {
        Inserted::New(m) => m,
        Inserted::Duplicate(m) => panic!("unexpected duplicate {m:?}"),
    }
}

async fn users(s: &DynStore, ids: &[&str]) -> Vec<UserId> {
    let ids: Vec<UserId> = ids.iter().map(|i| uid(i)).collect();
    for id in &ids {
        s.upsert_user(id, &Profile::default(), 1)
            .await
            .expect("upsert");
    }
    ids
}

async fn group(s: &DynStore, creator: &UserId, members: &[UserId], at: Millis) -> i64 {
    s.create_group(creator, Some("group"), members, at)
        .await
        .expect("create group")
        .id
}

fn page(before_seq: Option<i64>, after_seq: Option<i64>, limit: u32) -> Page {
    Page {
        before_seq,
        after_seq,
        limit,
    }
}

fn seqs(ms: &[Message]) -> Vec<i64> {
    ms.iter().map(|m| m.seq).collect()
}

fn sorted(mut ids: Vec<UserId>) -> Vec<UserId> {
    ids.sort();
    ids
}

pub mod cases {
    use super::*;

    pub async fn the_store_answers_a_ping(s: DynStore) {
        s.ping().await.expect("ping");
    }

    pub async fn upsert_creates_then_refreshes_profile_and_keeps_unspecified_fields(s: DynStore) {
        let alice = uid("alice");
        let created = s
            .upsert_user(&alice, &profile(Some("Alice"), Some("/a.png"), None), 1_000)
            .await
            .expect("create");
        assert_eq!(created.id, alice);
        assert_eq!(created.display_name.as_deref(), Some("Alice"));
        assert_eq!(created.avatar_url.as_deref(), Some("/a.png"));
        assert_eq!(created.email, None);
        assert_eq!(created.username, None);
        assert!(!created.placeholder);
        assert_eq!(created.created_at, 1_000);
        assert_eq!(created.last_seen_at, None);

        let refreshed = s
            .upsert_user(
                &alice,
                &profile(Some("Alice B"), None, Some("a@x.io")),
                2_000,
            )
            .await
            .expect("refresh");
        assert_eq!(refreshed.display_name.as_deref(), Some("Alice B"));
        assert_eq!(refreshed.avatar_url.as_deref(), Some("/a.png"));
        assert_eq!(refreshed.email.as_deref(), Some("a@x.io"));
        assert_eq!(refreshed.created_at, 1_000);

        let stored = s.user(&alice).await.expect("user").expect("exists");
        assert_eq!(stored, refreshed);
    }

    pub async fn last_seen_is_recorded(s: DynStore) {
        let alice = users(&s, &["alice"]).await.remove(0);
        s.set_last_seen(&alice, 5_000).await.expect("last seen");
        let u = s.user(&alice).await.expect("user").expect("exists");
        assert_eq!(u.last_seen_at, Some(5_000));
        // An unknown user is no error.
        s.set_last_seen(&uid("nobody"), 5_000)
            .await
            .expect("unknown");
    }

    pub async fn placeholders_are_filled_by_the_first_upsert(s: DynStore) {
        let (bob, carol) = (uid("bob"), uid("carol"));
        s.ensure_users(&[bob.clone(), carol.clone(), bob.clone()], 100)
            .await
            .expect("ensure");
        let b = s.user(&bob).await.expect("user").expect("placeholder");
        assert!(b.placeholder);
        assert_eq!(b.display_name, None);
        assert_eq!(b.created_at, 100);

        let full = s
            .upsert_user(&bob, &profile(Some("Bob"), None, None), 200)
            .await
            .expect("upsert");
        assert!(!full.placeholder);
        assert_eq!(full.display_name.as_deref(), Some("Bob"));
        assert_eq!(full.created_at, 100);

        // Existing users are untouched by ensure_users.
        s.ensure_users(std::slice::from_ref(&bob), 300)
            .await
            .expect("ensure again");
        assert_eq!(s.user(&bob).await.expect("user"), Some(full));
        s.ensure_users(&[], 300).await.expect("ensure nothing");

        let mut found = s
            .users(&[bob.clone(), carol.clone(), uid("nobody")])
            .await
            .expect("users");
        found.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(
            found.iter().map(|u| u.id.clone()).collect::<Vec<_>>(),
            vec![bob, carol.clone()]
        );
        assert!(found[1].placeholder);
        assert!(s.users(&[]).await.expect("no users").is_empty());
    }

    pub async fn password_user_conflicts_on_username_case_insensitively(s: DynStore) {
        let (u1, u2) = (uid("u1"), uid("u2"));
        let user = s
            .create_password_user(&u1, "Alice", &profile(Some("Al"), None, None), "hash1", 10)
            .await
            .expect("register");
        assert_eq!(user.username.as_deref(), Some("Alice"));
        assert_eq!(user.display_name.as_deref(), Some("Al"));
        assert!(!user.placeholder);

        let taken = s
            .create_password_user(&u2, "aLICE", &Profile::default(), "hash2", 11)
            .await;
        assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
        let same_id = s
            .create_password_user(&u1, "other", &Profile::default(), "hash3", 12)
            .await;
        assert!(
            matches!(same_id, Err(StoreError::Conflict(_))),
            "{same_id:?}"
        );
        assert_eq!(s.user(&u2).await.expect("user"), None);

        let creds = s
            .credentials("ALICE")
            .await
            .expect("credentials")
            .expect("found");
        assert_eq!(creds.user, user);
        assert_eq!(creds.password_hash, "hash1");
        assert!(s.credentials("bob").await.expect("credentials").is_none());

        // A token user without a password has no credentials.
        s.upsert_user(&uid("tok"), &Profile::default(), 13)
            .await
            .expect("upsert");
        assert!(s.credentials("tok").await.expect("credentials").is_none());
    }

    pub async fn direct_conversation_is_created_once_and_returned_after(s: DynStore) {
        let ids = users(&s, &["alice", "bob"]).await;
        let (a, b) = (&ids[0], &ids[1]);
        let (conv, created) = s.direct_conversation(a, b, 100).await.expect("create");
        assert!(created);
        assert_eq!(conv.kind, ConversationKind::Direct);
        assert_eq!(conv.created_by, *a);
        assert_eq!(conv.last_seq, 0);
        assert_eq!(conv.created_at, 100);
        assert_eq!(conv.updated_at, 100);

        let (again, created) = s.direct_conversation(a, b, 200).await.expect("again");
        assert!(!created);
        assert_eq!(again, conv);
        let (reversed, created) = s.direct_conversation(b, a, 300).await.expect("reversed");
        assert!(!created);
        assert_eq!(reversed, conv);

        let members = s.members(conv.id).await.expect("members");
        assert_eq!(members.len(), 2);
        let role_of = |u: &UserId| {
            members
                .iter()
                .find(|m| m.user_id == *u)
                .map(|m| m.role)
                .expect("member")
        };
        assert_eq!(role_of(a), Role::Owner);
        assert_eq!(role_of(b), Role::Member);
        assert!(members.iter().all(|m| m.conversation_id == conv.id
            && m.joined_at == 100
            && m.last_read_seq == 0
            && m.last_delivered_seq == 0));

        // Another pair gets another conversation.
        let c = uid("carol");
        let (other, created) = s.direct_conversation(a, &c, 400).await.expect("other");
        assert!(created);
        assert_ne!(other.id, conv.id);
        assert_ne!(other.uuid, conv.uuid);
    }

    pub async fn a_message_to_a_missing_conversation_fails_alone_among_concurrent_inserts(
        s: DynStore,
    ) {
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

    pub async fn direct_conversation_is_created_once_under_20_concurrent_calls(s: DynStore) {
        let ids = users(&s, &["cat", "dog"]).await;
        let mut tasks = Vec::new();
        for i in 0..20 {
            let (s, a, b) = (s.clone(), ids[0].clone(), ids[1].clone());
            tasks.push(tokio::spawn(async move {
                if i % 2 == 0 {
                    s.direct_conversation(&a, &b, 100 + i).await
                } else {
                    s.direct_conversation(&b, &a, 100 + i).await
                }
            }));
        }
        let mut conv_ids = HashSet::new();
        let mut creations = 0;
        for t in tasks {
            let (conv, created) = t.await.expect("join").expect("direct conversation");
            conv_ids.insert(conv.id);
            creations += usize::from(created);
        }
        assert_eq!(conv_ids.len(), 1);
        assert_eq!(creations, 1);
        for u in &ids {
            let convs = s.conversations_of(u).await.expect("conversations");
            assert_eq!(convs.len(), 1);
            assert_eq!(convs[0].members.len(), 2);
        }
    }

    pub async fn group_membership_and_roles(s: DynStore) {
        let ids = users(&s, &["owner", "x", "y"]).await;
        let (owner, x, y) = (&ids[0], &ids[1], &ids[2]);
        let conv = s
            .create_group(
                owner,
                Some("Team"),
                &[x.clone(), y.clone(), x.clone(), owner.clone()],
                500,
            )
            .await
            .expect("group");
        assert_eq!(conv.kind, ConversationKind::Group);
        assert_eq!(conv.title.as_deref(), Some("Team"));
        assert_eq!(conv.created_by, *owner);
        assert_eq!(conv.last_seq, 0);

        let members = s.members(conv.id).await.expect("members");
        assert_eq!(
            sorted(members.iter().map(|m| m.user_id.clone()).collect()),
            sorted(ids.clone())
        );
        let role = |u: &UserId| {
            members
                .iter()
                .find(|m| m.user_id == *u)
                .map(|m| m.role)
                .expect("member")
        };
        assert_eq!(role(owner), Role::Owner);
        assert_eq!(role(x), Role::Member);
        assert_eq!(role(y), Role::Member);

        let mx = s.member(conv.id, x).await.expect("member").expect("x");
        assert_eq!(mx.role, Role::Member);
        assert_eq!(mx.joined_at, 500);
        assert!(
            s.member(conv.id, &uid("stranger"))
                .await
                .expect("member")
                .is_none()
        );

        // Two groups of the same people are two conversations.
        let again = s
            .create_group(owner, None, std::slice::from_ref(x), 600)
            .await
            .expect("second group");
        assert_ne!(again.id, conv.id);
        assert_eq!(again.title, None);
        assert_eq!(s.members(again.id).await.expect("members").len(), 2);
    }

    pub async fn members_named_before_their_first_token_become_placeholders(s: DynStore) {
        let owner = users(&s, &["owner"]).await.remove(0);
        let newbie = uid("newbie");
        let conv = group(&s, &owner, std::slice::from_ref(&newbie), 10).await;
        let u = s.user(&newbie).await.expect("user").expect("placeholder");
        assert!(u.placeholder);
        assert!(s.member(conv, &newbie).await.expect("member").is_some());

        let later = uid("later");
        assert!(
            s.add_member(conv, &later, Role::Member, 20)
                .await
                .expect("add")
        );
        assert!(
            s.user(&later)
                .await
                .expect("user")
                .expect("exists")
                .placeholder
        );
    }

    pub async fn add_and_remove_member(s: DynStore) {
        let ids = users(&s, &["owner", "z", "w"]).await;
        let (owner, z, w) = (&ids[0], &ids[1], &ids[2]);
        let conv = group(&s, owner, &[], 10).await;
        assert_eq!(s.members(conv).await.expect("members").len(), 1);

        assert!(s.add_member(conv, z, Role::Member, 20).await.expect("add"));
        assert!(
            !s.add_member(conv, z, Role::Admin, 30)
                .await
                .expect("add again")
        );
        let mz = s.member(conv, z).await.expect("member").expect("z");
        assert_eq!(mz.role, Role::Member, "a second add changes nothing");
        assert_eq!(mz.joined_at, 20);

        assert!(s.add_member(conv, w, Role::Admin, 40).await.expect("add w"));
        assert_eq!(
            s.member(conv, w).await.expect("member").expect("w").role,
            Role::Admin
        );
        assert_eq!(s.members(conv).await.expect("members").len(), 3);

        assert!(s.remove_member(conv, z).await.expect("remove"));
        assert!(!s.remove_member(conv, z).await.expect("remove again"));
        assert!(s.member(conv, z).await.expect("member").is_none());
        assert_eq!(s.members(conv).await.expect("members").len(), 2);
        assert!(s.conversations_of(z).await.expect("convs").is_empty());

        // A removed member can be added back.
        assert!(
            s.add_member(conv, z, Role::Member, 50)
                .await
                .expect("re-add")
        );
    }

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
        m.attachments = vec!["/media/x.webp".to_owned(), "https://e.x/y.png".to_owned()];
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
            .mark_delivered(conv, &[b.clone(), c.clone(), uid("stranger")], 4)
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
            s.mark_read(conv, &uid("stranger"), 3).await.expect("x"),
            None
        );
        assert_eq!(
            s.mark_delivered(conv, &[uid("stranger")], 3)
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

    pub async fn conversations_of_is_ordered_by_last_activity_with_last_message_and_unread(
        s: DynStore,
    ) {
        let ids = users(&s, &["a", "b", "c", "loner"]).await;
        let (a, b, c, loner) = (&ids[0], &ids[1], &ids[2], &ids[3]);
        let (direct, _) = s.direct_conversation(a, b, 100).await.expect("direct");
        let g1 = s
            .create_group(a, Some("g1"), std::slice::from_ref(c), 200)
            .await
            .expect("g1");
        let g2 = s
            .create_group(b, Some("g2"), &[a.clone(), c.clone()], 300)
            .await
            .expect("g2");
        // Same activity time: the newer conversation first.
        let g3 = s
            .create_group(c, Some("g3"), std::slice::from_ref(a), 300)
            .await
            .expect("g3");

        let order = |list: &[confab::core::ConversationSummary]| {
            list.iter().map(|x| x.conversation.id).collect::<Vec<_>>()
        };
        let list = s.conversations_of(a).await.expect("list");
        assert_eq!(order(&list), vec![g3.id, g2.id, g1.id, direct.id]);
        assert!(
            list.iter()
                .all(|x| x.last_message.is_none() && x.unread_count == 0)
        );

        let first = send(&s, text(direct.id, b, "hello", 400)).await;
        let last = send(&s, text(direct.id, b, "there", 401)).await;
        send(&s, text(g1.id, a, "mine", 350)).await;

        let list = s.conversations_of(a).await.expect("list");
        assert_eq!(order(&list), vec![direct.id, g1.id, g3.id, g2.id]);
        let d = &list[0];
        assert_eq!(d.conversation.last_seq, 2);
        assert_eq!(d.conversation.updated_at, 401);
        assert_eq!(d.last_message.as_ref(), Some(&last));
        assert_eq!(d.unread_count, 2);
        assert_eq!(
            sorted(d.members.iter().map(|m| m.user_id.clone()).collect()),
            vec![a.clone(), b.clone()]
        );
        let g1s = &list[1];
        assert_eq!(g1s.unread_count, 0, "own messages are not unread");
        assert_eq!(
            g1s.last_message.as_ref().and_then(|m| m.text.as_deref()),
            Some("mine")
        );
        assert_eq!(
            sorted(g1s.members.iter().map(|m| m.user_id.clone()).collect()),
            vec![a.clone(), c.clone()]
        );
        assert_eq!(list[3].members.len(), 3);

        // Deleting the last message shows the one before it; reading clears
        // the count.
        s.delete_message(last.id, 500).await.expect("delete");
        s.mark_read(direct.id, a, 1).await.expect("read");
        let list = s.conversations_of(a).await.expect("list");
        assert_eq!(list[0].conversation.id, direct.id);
        assert_eq!(list[0].last_message.as_ref(), Some(&first));
        assert_eq!(list[0].unread_count, 0);

        // b sees the same conversation with its own unread count.
        let list_b = s.conversations_of(b).await.expect("list b");
        assert_eq!(order(&list_b), vec![direct.id, g2.id]);
        assert_eq!(list_b[0].unread_count, 0);

        assert!(s.conversations_of(loner).await.expect("none").is_empty());
    }

    pub async fn contacts_are_everyone_sharing_a_conversation(s: DynStore) {
        let ids = users(&s, &["a", "b", "c", "d", "e"]).await;
        let (a, b, c, d, e) = (&ids[0], &ids[1], &ids[2], &ids[3], &ids[4]);
        s.direct_conversation(a, b, 10).await.expect("direct");
        group(&s, a, &[c.clone(), d.clone()], 20).await;
        group(&s, b, &[a.clone(), c.clone()], 30).await;

        assert_eq!(
            sorted(s.contacts(a).await.expect("a")),
            vec![b.clone(), c.clone(), d.clone()]
        );
        assert_eq!(
            sorted(s.contacts(d).await.expect("d")),
            vec![a.clone(), c.clone()]
        );
        assert!(s.contacts(e).await.expect("e").is_empty());
    }

    pub async fn message_lookup_by_id_and_by_uuid(s: DynStore) {
        let ids = users(&s, &["a", "b"]).await;
        let conv = group(&s, &ids[0], &ids[1..], 10).await;
        let m = send(&s, with_client_id(text(conv, &ids[0], "hi", 100), "k")).await;
        let c = s
            .conversation(ConversationRef::Id(conv))
            .await
            .expect("conversation")
            .expect("exists");
        assert_eq!(m.conversation_uuid, c.uuid);
        assert_eq!(m.conversation_id, conv);
        assert_eq!(m.sender_id, ids[0]);
        assert_eq!(m.created_at, 100);

        let by_id = s.message(MessageRef::Id(m.id)).await.expect("by id");
        let by_uuid = s.message(MessageRef::Uuid(m.uuid)).await.expect("by uuid");
        assert_eq!(by_id.as_ref(), Some(&m));
        assert_eq!(by_uuid.as_ref(), Some(&m));
    }

    pub async fn conversation_lookup_by_id_and_uuid(s: DynStore) {
        let ids = users(&s, &["a", "b"]).await;
        let (direct, _) = s
            .direct_conversation(&ids[0], &ids[1], 10)
            .await
            .expect("direct");
        let g = s
            .create_group(&ids[0], Some("g"), &ids[1..], 20)
            .await
            .expect("group");
        for conv in [direct, g] {
            let by_id = s
                .conversation(ConversationRef::Id(conv.id))
                .await
                .expect("by id");
            let by_uuid = s
                .conversation(ConversationRef::Uuid(conv.uuid))
                .await
                .expect("by uuid");
            assert_eq!(by_id.as_ref(), Some(&conv));
            assert_eq!(by_uuid.as_ref(), Some(&conv));
        }
    }

    pub async fn a_missing_row_is_none(s: DynStore) {
        let ids = users(&s, &["a", "b"]).await;
        let conv = group(&s, &ids[0], &ids[1..], 10).await;
        let nobody = uid("nobody");
        assert!(s.user(&nobody).await.expect("user").is_none());
        assert!(
            s.users(std::slice::from_ref(&nobody))
                .await
                .expect("users")
                .is_empty()
        );
        assert!(s.credentials("nobody").await.expect("creds").is_none());
        assert!(
            s.conversation(ConversationRef::Id(conv + 1000))
                .await
                .expect("conversation")
                .is_none()
        );
        assert!(
            s.conversation(ConversationRef::Uuid(uuid::Uuid::new_v4()))
                .await
                .expect("conversation")
                .is_none()
        );
        assert!(
            s.message(MessageRef::Id(12345))
                .await
                .expect("message")
                .is_none()
        );
        assert!(
            s.message(MessageRef::Uuid(uuid::Uuid::new_v4()))
                .await
                .expect("message")
                .is_none()
        );
        assert!(s.member(conv, &nobody).await.expect("member").is_none());
        assert!(
            s.member(conv + 1000, &ids[0])
                .await
                .expect("member")
                .is_none()
        );
        assert!(s.members(conv + 1000).await.expect("members").is_empty());
        assert_eq!(s.unread_count(conv, &nobody).await.expect("unread"), 0);
        assert!(s.conversations_of(&nobody).await.expect("convs").is_empty());
        assert!(s.contacts(&nobody).await.expect("contacts").is_empty());
        assert!(!s.remove_member(conv, &nobody).await.expect("remove"));
    }

    fn friendship(
        requester: &UserId,
        addressee: &UserId,
        status: FriendshipStatus,
        at: Millis,
    ) -> Friendship {
        Friendship {
            requester: requester.clone(),
            addressee: addressee.clone(),
            status,
            blocked_by: (status == FriendshipStatus::Blocked).then(|| requester.clone()),
            created_at: at,
            updated_at: at,
        }
    }

    pub async fn a_friendship_is_one_row_per_unordered_pair(s: DynStore) {
        let ids = users(&s, &["bob", "alice", "carol"]).await;
        let (bob, alice, carol) = (&ids[0], &ids[1], &ids[2]);
        assert!(s.friendship(bob, alice).await.expect("none").is_none());

        let pending = friendship(bob, alice, FriendshipStatus::Pending, 10);
        s.put_friendship(&pending).await.expect("put");
        assert_eq!(
            s.friendship(bob, alice).await.expect("get"),
            Some(pending.clone())
        );
        assert_eq!(
            s.friendship(alice, bob).await.expect("get reversed"),
            Some(pending.clone())
        );

        // A new request the other way round replaces the row, not adds one.
        let rejected = Friendship {
            status: FriendshipStatus::Rejected,
            updated_at: 20,
            ..pending.clone()
        };
        s.put_friendship(&rejected).await.expect("reject");
        let renewed = friendship(alice, bob, FriendshipStatus::Pending, 30);
        s.put_friendship(&renewed).await.expect("swap");
        assert_eq!(
            s.friendship(bob, alice).await.expect("get"),
            Some(renewed.clone())
        );
        assert_eq!(
            s.friendships_of(bob).await.expect("of bob"),
            vec![renewed.clone()]
        );

        let blocked = Friendship {
            status: FriendshipStatus::Blocked,
            blocked_by: Some(bob.clone()),
            updated_at: 40,
            ..renewed.clone()
        };
        s.put_friendship(&blocked).await.expect("block");
        assert_eq!(
            s.friendship(alice, bob).await.expect("get"),
            Some(blocked.clone())
        );

        let other = friendship(carol, alice, FriendshipStatus::Accepted, 50);
        s.put_friendship(&other).await.expect("carol");
        // Most recently updated first, from either side of the pair.
        assert_eq!(
            s.friendships_of(alice).await.expect("of alice"),
            vec![other.clone(), blocked.clone()]
        );
        assert_eq!(
            s.friendships_of(carol).await.expect("of carol"),
            vec![other]
        );

        assert!(s.delete_friendship(alice, bob).await.expect("delete"));
        assert!(!s.delete_friendship(bob, alice).await.expect("delete again"));
        assert!(s.friendship(bob, alice).await.expect("gone").is_none());
        assert_eq!(s.friendships_of(bob).await.expect("of bob"), vec![]);
    }

    pub async fn a_friendship_with_an_unknown_user_provisions_a_placeholder(s: DynStore) {
        let alice = users(&s, &["alice"]).await.remove(0);
        let ghost = uid("ghost");
        let f = friendship(&alice, &ghost, FriendshipStatus::Blocked, 10);
        s.put_friendship(&f).await.expect("put");
        let u = s.user(&ghost).await.expect("user").expect("placeholder");
        assert!(u.placeholder);
        assert_eq!(s.friendship(&ghost, &alice).await.expect("get"), Some(f));
    }

    pub async fn a_device_token_belongs_to_one_user(s: DynStore) {
        let ids = users(&s, &["alice", "bob"]).await;
        let (alice, bob) = (&ids[0], &ids[1]);
        let dev = |user: &UserId, token: &str, platform, at| Device {
            user_id: user.clone(),
            token: token.to_owned(),
            platform,
            created_at: at,
        };
        s.add_device(&dev(alice, "t1", DevicePlatform::Android, 1))
            .await
            .expect("t1");
        s.add_device(&dev(alice, "t2", DevicePlatform::Web, 2))
            .await
            .expect("t2");
        s.add_device(&dev(bob, "t3", DevicePlatform::Ios, 3))
            .await
            .expect("t3");
        let mut all = s
            .devices_of(&[alice.clone(), bob.clone()])
            .await
            .expect("devices");
        all.sort_by(|a, b| a.token.cmp(&b.token));
        assert_eq!(
            all,
            vec![
                dev(alice, "t1", DevicePlatform::Android, 1),
                dev(alice, "t2", DevicePlatform::Web, 2),
                dev(bob, "t3", DevicePlatform::Ios, 3),
            ]
        );

        // Registering a token again moves it to the new user.
        s.add_device(&dev(bob, "t1", DevicePlatform::Ios, 4))
            .await
            .expect("move");
        let alices = s
            .devices_of(std::slice::from_ref(alice))
            .await
            .expect("alice");
        assert_eq!(alices, vec![dev(alice, "t2", DevicePlatform::Web, 2)]);
        assert_eq!(
            s.devices_of(std::slice::from_ref(bob))
                .await
                .expect("bob")
                .len(),
            2
        );

        // A user removes only their own tokens.
        assert!(!s.remove_device(alice, "t1").await.expect("not hers"));
        assert!(s.remove_device(bob, "t1").await.expect("his"));
        assert!(!s.remove_device(bob, "t1").await.expect("again"));
        // The push service reports a dead token: gone whoever had it.
        assert!(s.remove_device_token("t2").await.expect("dead"));
        assert!(!s.remove_device_token("t2").await.expect("again"));
        assert!(
            s.devices_of(std::slice::from_ref(alice))
                .await
                .expect("alice")
                .is_empty()
        );
        assert!(s.devices_of(&[]).await.expect("nobody").is_empty());
    }

    pub async fn uploads_are_recorded_once_by_path(s: DynStore) {
        let alice = users(&s, &["alice"]).await.remove(0);
        let up = Upload {
            path: "/uploads/chat-messages/images/abc.webp".into(),
            owner: alice.clone(),
            kind: MessageKind::Image,
            content_type: "image/webp".into(),
            size: 1234,
            created_at: 10,
        };
        assert!(s.upload(&up.path).await.expect("none").is_none());
        s.record_upload(&up).await.expect("record");
        assert_eq!(s.upload(&up.path).await.expect("get"), Some(up.clone()));
        let again = s.record_upload(&up).await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    }

    pub async fn message_kinds_and_attachments_are_stored(s: DynStore) {
        let ids = users(&s, &["alice", "bob"]).await;
        let conv = group(&s, &ids[0], &ids[1..], 10).await;
        let other = group(&s, &ids[0], &ids[1..], 10).await;
        let path = "/uploads/chat-messages/audio/x.mp3";
        let mut m = text(conv, &ids[0], "", 20);
        m.text = None;
        m.kind = MessageKind::Audio;
        m.attachments = vec![path.to_owned()];
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

    pub async fn a_direct_conversation_is_looked_up_without_being_created(s: DynStore) {
        let ids = users(&s, &["alice", "bob", "carol"]).await;
        assert!(
            s.direct_conversation_between(&ids[0], &ids[1])
                .await
                .expect("none")
                .is_none()
        );
        let (c, _) = s
            .direct_conversation(&ids[0], &ids[1], 10)
            .await
            .expect("create");
        assert_eq!(
            s.direct_conversation_between(&ids[1], &ids[0])
                .await
                .expect("found"),
            Some(c)
        );
        assert!(
            s.direct_conversation_between(&ids[0], &ids[2])
                .await
                .expect("none")
                .is_none()
        );
        assert!(
            s.direct_conversation_between(&ids[0], &ids[0])
                .await
                .expect("self")
                .is_none()
        );
        // A lookup creates nothing.
        assert_eq!(s.conversations_of(&ids[2]).await.expect("convs").len(), 0);
    }

    pub async fn a_department_starts_with_its_creator_as_admin_and_keeps_agents(s: DynStore) {
        let ids = users(&s, &["keeper", "agent"]).await;
        let d = s
            .create_department(&ids[0], "Billing", 10)
            .await
            .expect("create");
        assert_eq!(d.name, "Billing");
        assert_eq!(d.created_by, ids[0]);
        assert_eq!(
            s.department(RowRef::Id(d.id)).await.expect("by id"),
            Some(d.clone())
        );
        assert_eq!(
            s.department(RowRef::Uuid(d.uuid)).await.expect("by uuid"),
            Some(d.clone())
        );
        assert_eq!(
            s.department(RowRef::Id(d.id + 1)).await.expect("none"),
            None
        );
        let admin = s.agent(d.id, &ids[0]).await.expect("agent").expect("some");
        assert_eq!(admin.role, AgentRole::Admin);

        // Adding is idempotent and changes the role; an unknown user is provisioned.
        assert!(
            s.put_agent(d.id, &ids[1], AgentRole::Agent, 20)
                .await
                .expect("add")
        );
        assert!(
            !s.put_agent(d.id, &ids[1], AgentRole::Admin, 30)
                .await
                .expect("again")
        );
        assert_eq!(
            s.agent(d.id, &ids[1]).await.expect("agent").map(|a| a.role),
            Some(AgentRole::Admin)
        );
        let ghost = uid("ghost");
        assert!(
            s.put_agent(d.id, &ghost, AgentRole::Agent, 40)
                .await
                .expect("ghost")
        );
        assert!(
            s.user(&ghost)
                .await
                .expect("user")
                .expect("placeholder")
                .placeholder
        );
        let agents: Vec<_> = s
            .agents(d.id)
            .await
            .expect("agents")
            .into_iter()
            .map(|a| (a.user_id.to_string(), a.role))
            .collect();
        assert_eq!(
            agents,
            vec![
                ("keeper".to_owned(), AgentRole::Admin),
                ("agent".to_owned(), AgentRole::Admin),
                ("ghost".to_owned(), AgentRole::Agent),
            ]
        );
        assert_eq!(s.departments_of(&ghost).await.expect("of"), vec![d.clone()]);

        assert!(s.remove_agent(d.id, &ghost).await.expect("remove"));
        assert!(!s.remove_agent(d.id, &ghost).await.expect("twice"));
        assert!(s.departments_of(&ghost).await.expect("of").is_empty());
    }

    pub async fn a_member_mutes_and_unmutes_a_conversation_for_itself(s: DynStore) {
        let ids = users(&s, &["alice", "bob", "carol"]).await;
        let g = group(&s, &ids[0], &ids[1..2], 10).await;
        let muted = |s: DynStore, u: UserId| async move {
            s.member(g, &u).await.expect("member").expect("some").muted
        };
        assert!(!muted(s.clone(), ids[1].clone()).await);
        assert!(s.set_muted(g, &ids[1], true).await.expect("mute"));
        assert!(!s.set_muted(g, &ids[1], true).await.expect("again"));
        assert!(muted(s.clone(), ids[1].clone()).await);
        assert!(!muted(s.clone(), ids[0].clone()).await, "for itself only");
        assert!(
            s.members(g).await.expect("members").iter().any(|m| m.muted),
            "members show it"
        );
        assert!(!s.set_muted(g, &ids[2], true).await.expect("not a member"));
        assert!(s.set_muted(g, &ids[1], false).await.expect("unmute"));
        assert!(!muted(s.clone(), ids[1].clone()).await);
    }

    pub async fn support_conversations_belong_to_their_department(s: DynStore) {
        let ids = users(&s, &["keeper", "visitor", "other"]).await;
        let d = s.create_department(&ids[0], "Sales", 10).await.expect("d");
        let e = s.create_department(&ids[0], "Other", 10).await.expect("e");
        let first = s
            .create_support(&ids[1], d.id, Some("Help"), 20)
            .await
            .expect("support");
        assert_eq!(first.kind, ConversationKind::Group);
        assert_eq!(first.department_id, Some(d.id));
        assert_eq!(first.title.as_deref(), Some("Help"));
        let members = s.members(first.id).await.expect("members");
        assert_eq!(members.len(), 1);
        assert_eq!(members[0].user_id, ids[1]);
        assert_eq!(members[0].role, Role::Owner);
        let second = s
            .create_support(&ids[2], d.id, None, 30)
            .await
            .expect("second");
        s.create_support(&ids[2], e.id, None, 30)
            .await
            .expect("elsewhere");
        // Most recently active first: a message moves the first one up.
        send(&s, text(first.id, &ids[1], "hello", 40)).await;
        let listed: Vec<i64> = s
            .support_conversations(d.id)
            .await
            .expect("list")
            .iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(listed, vec![first.id, second.id]);
        // Ordinary conversations have no department.
        let g = group(&s, &ids[0], &ids[1..2], 50).await;
        let plain = s
            .conversation(ConversationRef::Id(g))
            .await
            .expect("g")
            .expect("some");
        assert_eq!(plain.department_id, None);
        assert_eq!(
            s.conversation_ids_of(&ids[1]).await.expect("ids"),
            vec![first.id, g]
        );
    }
}

/// Calls `$m!($($args)*; every case)`, so the list of cases is written once.
macro_rules! with_all_cases {
    ($m:ident!($($args:tt)*)) => {
        $m!($($args)*;
            the_store_answers_a_ping,
            upsert_creates_then_refreshes_profile_and_keeps_unspecified_fields,
            last_seen_is_recorded,
            placeholders_are_filled_by_the_first_upsert,
            password_user_conflicts_on_username_case_insensitively,
            direct_conversation_is_created_once_and_returned_after,
            direct_conversation_is_created_once_under_20_concurrent_calls,
            group_membership_and_roles,
            members_named_before_their_first_token_become_placeholders,
            add_and_remove_member,
            sequence_numbers_are_1_to_n_without_gaps_under_50_concurrent_inserts,
            a_message_to_a_missing_conversation_fails_alone_among_concurrent_inserts,
            client_id_retry_returns_the_first_message,
            history_pages_before_and_after_with_limits,
            edit_and_soft_delete,
            read_watermark_only_moves_forward_and_never_past_last_seq,
            unread_counts_exclude_own_and_deleted_messages,
            conversations_of_is_ordered_by_last_activity_with_last_message_and_unread,
            contacts_are_everyone_sharing_a_conversation,
            message_lookup_by_id_and_by_uuid,
            conversation_lookup_by_id_and_uuid,
            a_missing_row_is_none,
            a_friendship_is_one_row_per_unordered_pair,
            a_friendship_with_an_unknown_user_provisions_a_placeholder,
            a_device_token_belongs_to_one_user,
            uploads_are_recorded_once_by_path,
            message_kinds_and_attachments_are_stored,
            a_direct_conversation_is_looked_up_without_being_created,
            a_department_starts_with_its_creator_as_admin_and_keeps_agents,
            support_conversations_belong_to_their_department,
            a_member_mutes_and_unmutes_a_conversation_for_itself,
        );
    };
}

/// `contract_suite!(module_name, factory)`: one `#[tokio::test]` per case,
/// each on a fresh store from `factory().await`.
macro_rules! contract_suite {
    ($backend:ident, $factory:path) => {
        with_all_cases!(contract_suite_impl!($backend, $factory));
    };
}

macro_rules! contract_suite_impl {
    ($backend:ident, $factory:path; $($case:ident),* $(,)?) => {
        mod $backend {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    let fixture: $crate::Fixture = $factory().await;
                    $crate::cases::$case(fixture.store.clone()).await;
                    drop(fixture);
                }
            )*
        }
    };
}

async fn sqlite_memory() -> Fixture {
    let store = confab::store::open("sqlite::memory:")
        .await
        .expect("open in-memory SQLite");
    Fixture {
        store,
        _guard: Box::new(()),
    }
}

async fn sqlite_file() -> Fixture {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("db/confab.db").display());
    let store = confab::store::open(&url).await.expect("open SQLite file");
    Fixture {
        store,
        _guard: Box::new(dir),
    }
}

/// The PostgreSQL server of the suite, unless `CONFAB_TEST_DATABASE_URL`
/// names another one. CI starts it; the suite fails without it.
const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Schemas of test cases are named `confab_t_<unix seconds>_<random>`.
const TEST_SCHEMA_PREFIX: &str = "confab_t_";

/// Schemas left behind (by a killed run) are dropped once this old.
const STALE_SCHEMA_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

fn test_database_url() -> String {
    std::env::var("CONFAB_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.into())
}

/// A schema of its own for one test case, dropped with the guard.
struct PgSchema {
    url: String,
    name: String,
}

impl PgSchema {
    /// Creates a fresh schema; panics, naming the server, if PostgreSQL is
    /// unreachable.
    async fn create(url: &str) -> PgSchema {
        use sqlx::{Connection, Executor};
        let mut admin = sqlx::PgConnection::connect(url).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is not reachable at {url} ({e}). The store contract suite needs it: \
                 start PostgreSQL or point CONFAB_TEST_DATABASE_URL at a database."
            )
        });
        drop_stale_schemas(&mut admin).await;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs();
        let random = uuid::Uuid::new_v4().simple().to_string();
        let name = format!("{TEST_SCHEMA_PREFIX}{now}_{}", &random[..12]);
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
            .await
            .expect("create test schema");
        admin.close().await.ok();
        PgSchema {
            url: url.to_owned(),
            name,
        }
    }

    /// The URL with the schema as the connections' `search_path`.
    fn url(&self) -> String {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{sep}options=-c%20search_path%3D{}", self.url, self.name)
    }
}

impl Drop for PgSchema {
    /// Drops the schema from a thread with a runtime of its own (the test's
    /// may be shutting down). Failures are left to `drop_stale_schemas`.
    fn drop(&mut self) {
        use sqlx::{Connection, Executor};
        let (url, name) = (self.url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&url).await.ok()?;
                let sql = format!("DROP SCHEMA IF EXISTS {name} CASCADE");
                admin.execute(sqlx::AssertSqlSafe(sql)).await.ok()?;
                admin.close().await.ok()
            })
        });
        let _ = dropped.join();
    }
}

/// Once per run: drops the test schemas older than `STALE_SCHEMA_AGE`, left
/// behind by runs that were killed before their guards ran.
async fn drop_stale_schemas(admin: &mut sqlx::PgConnection) {
    use sqlx::Executor;
    static ONCE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if ONCE.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return;
    }
    let names: Vec<String> =
        sqlx::query_scalar("SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, $1)")
            .bind(TEST_SCHEMA_PREFIX)
            .fetch_all(&mut *admin)
            .await
            .unwrap_or_default();
    let cutoff = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .saturating_sub(STALE_SCHEMA_AGE)
        .as_secs();
    for name in names {
        let created = name
            .strip_prefix(TEST_SCHEMA_PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|secs| secs.parse::<u64>().ok());
        if created.is_some_and(|secs| secs < cutoff) {
            let sql = format!(
                "DROP SCHEMA IF EXISTS \"{}\" CASCADE",
                name.replace('"', "\"\"")
            );
            admin.execute(sqlx::AssertSqlSafe(sql)).await.ok();
        }
    }
}

async fn postgres_store() -> Fixture {
    let schema = PgSchema::create(&test_database_url()).await;
    let store = confab::store::open(&schema.url())
        .await
        .expect("open PostgreSQL store");
    Fixture {
        store,
        _guard: Box::new(schema),
    }
}

contract_suite!(sqlite_memory, sqlite_memory);
contract_suite!(sqlite_file, sqlite_file);
contract_suite!(postgres, postgres_store);
