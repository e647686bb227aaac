//! The core's rules, exercised through the service over a real SQLite store.

use confab::core::command::Actor;
use confab::core::event::{DomainEvent, Publisher};
use confab::core::service::{Limits, Service};
use confab::core::{ConversationKind, CoreError, ErrorCode, Profile, RowRef, UserId, UserSummary};
use parking_lot::Mutex;
use std::sync::Arc;

#[derive(Default)]
struct Recorder(Mutex<Vec<DomainEvent>>);

impl Publisher for Recorder {
    fn publish(&self, event: DomainEvent) {
        self.0.lock().push(event);
    }
}

impl Recorder {
    fn take(&self) -> Vec<DomainEvent> {
        std::mem::take(&mut *self.0.lock())
    }
}

async fn service() -> (Arc<Service>, Arc<Recorder>) {
    let store = confab::store::open("sqlite::memory:").await.expect("store");
    let rec = Arc::new(Recorder::default());
    (Service::new(store, rec.clone(), Limits::default()), rec)
}

async fn actor(svc: &Service, id: &str) -> Actor {
    let u = svc
        .provision(&UserId::parse(id).expect("id"), Profile::default())
        .await
        .expect("user");
    Actor {
        user: UserSummary::from(&u),
    }
}

fn ids(v: &[&str]) -> Vec<UserId> {
    v.iter().map(|s| UserId::parse(s).expect("id")).collect()
}

fn send(text: &str) -> confab::core::command::SendMessage {
    confab::core::command::SendMessage {
        text: Some(text.into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_direct_conversation_is_returned_not_duplicated() {
    let (svc, _) = service().await;
    let alice = actor(&svc, "alice").await;
    let bob = actor(&svc, "bob").await;
    let a = svc
        .create_conversation(&alice, ConversationKind::Direct, ids(&["bob"]), None)
        .await
        .expect("create");
    let b = svc
        .create_conversation(&bob, ConversationKind::Direct, ids(&["alice", "bob"]), None)
        .await
        .expect("again");
    assert!(a.created);
    assert!(!b.created);
    assert_eq!(a.summary.conversation.id, b.summary.conversation.id);
    let err = svc
        .create_conversation(&alice, ConversationKind::Direct, ids(&["alice"]), None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidPayload);
}

#[tokio::test]
async fn placeholder_members_are_filled_in_from_their_first_token() {
    let (svc, _) = service().await;
    let alice = actor(&svc, "alice").await;
    svc.create_conversation(
        &alice,
        ConversationKind::Group,
        ids(&["newbie"]),
        Some("g".into()),
    )
    .await
    .expect("group");
    let newbie = UserId::parse("newbie").expect("id");
    assert!(svc.user(&newbie).await.expect("placeholder").placeholder);
    let profile = Profile {
        display_name: Some("New Bie".into()),
        ..Profile::default()
    };
    let u = svc.provision(&newbie, profile).await.expect("provision");
    assert!(!u.placeholder);
    assert_eq!(u.display_name.as_deref(), Some("New Bie"));
}

#[tokio::test]
async fn only_the_author_edits_and_a_group_admin_may_delete() {
    let (svc, rec) = service().await;
    let owner = actor(&svc, "owner").await;
    let bob = actor(&svc, "bob").await;
    let carol = actor(&svc, "carol").await;
    let g = svc
        .create_conversation(
            &owner,
            ConversationKind::Group,
            ids(&["bob", "carol"]),
            None,
        )
        .await
        .expect("group")
        .summary
        .conversation;
    let (m, _) = svc
        .send(&bob, RowRef::Id(g.id), send("bob's"))
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
async fn members_are_added_by_admins_and_removed_members_lose_access() {
    let (svc, rec) = service().await;
    let owner = actor(&svc, "owner").await;
    let bob = actor(&svc, "bob").await;
    let dave = UserId::parse("dave").expect("id");
    let g = svc
        .create_conversation(&owner, ConversationKind::Group, ids(&["bob"]), None)
        .await
        .expect("group")
        .summary
        .conversation;
    let r = RowRef::Id(g.id);
    assert!(matches!(
        svc.add_member(&bob, r, &dave).await,
        Err(CoreError::Forbidden(_))
    ));
    let s = svc.add_member(&owner, r, &dave).await.expect("add");
    assert_eq!(s.members.len(), 3);
    svc.remove_member(&owner, r, &bob.user.id)
        .await
        .expect("remove");
    assert!(matches!(
        svc.send(&bob, r, send("still in?")).await,
        Err(CoreError::NotFound("conversation"))
    ));
    assert!(
        rec.take()
            .iter()
            .any(|e| matches!(e, DomainEvent::MemberRemoved { .. }))
    );
}

#[tokio::test]
async fn a_message_is_published_only_after_it_is_stored_and_only_once_per_client_id() {
    let (svc, rec) = service().await;
    let alice = actor(&svc, "alice").await;
    let c = svc
        .create_conversation(&alice, ConversationKind::Direct, ids(&["bob"]), None)
        .await
        .expect("direct")
        .summary
        .conversation;
    rec.take();
    let mut msg = send("hello");
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
    let (svc, rec) = service().await;
    let alice = actor(&svc, "alice").await;
    let bob = actor(&svc, "bob").await;
    let c = svc
        .create_conversation(&alice, ConversationKind::Direct, ids(&["bob"]), None)
        .await
        .expect("direct")
        .summary
        .conversation;
    let (m1, _) = svc
        .send(&alice, RowRef::Id(c.id), send("1"))
        .await
        .expect("1");
    let (m2, _) = svc
        .send(&alice, RowRef::Id(c.id), send("2"))
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
    let mallory = actor(&svc, "mallory").await;
    assert!(matches!(
        svc.mark_read(&mallory, RowRef::Id(m1.id)).await,
        Err(CoreError::NotFound("message"))
    ));
}

#[tokio::test]
async fn presence_is_told_to_contacts_when_the_first_socket_opens_and_the_last_closes() {
    let (svc, rec) = service().await;
    let alice = actor(&svc, "alice").await;
    let bob = actor(&svc, "bob").await;
    svc.create_conversation(&alice, ConversationKind::Direct, ids(&["bob"]), None)
        .await
        .expect("direct");
    rec.take();
    svc.connected(&bob).await;
    svc.connected(&bob).await;
    svc.disconnected(&bob).await;
    let events = rec.take();
    assert_eq!(events.len(), 1);
    assert!(
        matches!(&events[0], DomainEvent::Presence { online: true, audience, .. } if audience == &ids(&["alice"]))
    );
    svc.disconnected(&bob).await;
    assert!(matches!(
        &rec.take()[0],
        DomainEvent::Presence { online: false, .. }
    ));
    let status = svc
        .online_status(&alice, &ids(&["bob"]))
        .await
        .expect("status");
    assert!(!status[0].online);
    assert!(status[0].last_seen_at.is_some());
}

#[tokio::test]
async fn history_pages_by_cursor_and_refuses_a_foreign_cursor() {
    let (svc, _) = service().await;
    let alice = actor(&svc, "alice").await;
    let c = svc
        .create_conversation(&alice, ConversationKind::Direct, ids(&["bob"]), None)
        .await
        .expect("direct")
        .summary
        .conversation;
    let other = svc
        .create_conversation(&alice, ConversationKind::Direct, ids(&["carol"]), None)
        .await
        .expect("direct")
        .summary
        .conversation;
    let mut sent = Vec::new();
    for i in 0..5 {
        sent.push(
            svc.send(&alice, RowRef::Id(c.id), send(&i.to_string()))
                .await
                .expect("send")
                .0,
        );
    }
    let (foreign, _) = svc
        .send(&alice, RowRef::Id(other.id), send("x"))
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

// ------------------------------------------------- friendships, devices, uploads

use confab::core::{DevicePlatform, FriendshipStatus, MessageKind, Upload};

fn friendship_events(rec: &Recorder) -> Vec<FriendshipStatus> {
    rec.take()
        .into_iter()
        .filter_map(|e| match e {
            DomainEvent::FriendshipChanged { friendship } => Some(friendship.status),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_request_answered_by_a_request_the_other_way_is_accepted() {
    let (svc, rec) = service().await;
    let alice = actor(&svc, "alice").await;
    let bob = actor(&svc, "bob").await;
    let f = svc
        .request_friendship(&alice, bob.id())
        .await
        .expect("request");
    assert_eq!(f.status, FriendshipStatus::Pending);
    assert_eq!(&f.requester, alice.id());
    // Asking again changes nothing and tells nobody.
    svc.request_friendship(&alice, bob.id())
        .await
        .expect("again");
    let f = svc
        .request_friendship(&bob, alice.id())
        .await
        .expect("back");
    assert_eq!(f.status, FriendshipStatus::Accepted);
    assert_eq!(
        friendship_events(&rec),
        vec![FriendshipStatus::Pending, FriendshipStatus::Accepted]
    );
    let err = svc
        .request_friendship(&alice, alice.id())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidPayload);
}

#[tokio::test]
async fn only_the_addressee_answers_a_friend_request() {
    let (svc, _) = service().await;
    let alice = actor(&svc, "alice").await;
    let bob = actor(&svc, "bob").await;
    let carol = actor(&svc, "carol").await;
    svc.request_friendship(&alice, bob.id())
        .await
        .expect("request");
    let err = svc
        .respond_friendship(&alice, bob.id(), true)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden);
    let err = svc
        .respond_friendship(&carol, alice.id(), true)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
    let f = svc
        .respond_friendship(&bob, alice.id(), false)
        .await
        .expect("reject");
    assert_eq!(f.status, FriendshipStatus::Rejected);
    // After a rejection either may ask again.
    let f = svc
        .request_friendship(&bob, alice.id())
        .await
        .expect("ask again");
    assert_eq!(
        (f.status, &f.requester),
        (FriendshipStatus::Pending, bob.id())
    );
    let f = svc
        .respond_friendship(&alice, bob.id(), true)
        .await
        .expect("accept");
    assert_eq!(f.status, FriendshipStatus::Accepted);
    assert_eq!(
        svc.friendship_between(&bob, alice.id()).await.expect("get"),
        Some(f)
    );
}

#[tokio::test]
async fn a_block_stops_direct_messages_both_ways_until_the_blocker_unblocks() {
    let (svc, _) = service().await;
    let alice = actor(&svc, "alice").await;
    let bob = actor(&svc, "bob").await;
    let c = svc
        .create_conversation(&alice, ConversationKind::Direct, ids(&["bob"]), None)
        .await
        .expect("direct")
        .summary
        .conversation;
    let g = svc
        .create_conversation(&alice, ConversationKind::Group, ids(&["bob"]), None)
        .await
        .expect("group")
        .summary
        .conversation;
    svc.send(&bob, RowRef::Id(c.id), send("before"))
        .await
        .expect("before");

    // No friendship needed to block.
    let f = svc.block(&alice, bob.id()).await.expect("block");
    assert_eq!(f.status, FriendshipStatus::Blocked);
    assert_eq!(f.blocked_by.as_ref(), Some(alice.id()));
    for who in [&alice, &bob] {
        let err = svc
            .send(who, RowRef::Id(c.id), send("blocked"))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                CoreError::Forbidden("messages between these users are blocked")
            ),
            "{err:?}"
        );
    }
    // Groups are not affected.
    svc.send(&bob, RowRef::Id(g.id), send("group"))
        .await
        .expect("group message");
    // A blocked pair cannot be befriended, and only the blocker unblocks.
    let err = svc.request_friendship(&bob, alice.id()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden);
    let err = svc.unblock(&bob, alice.id()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Forbidden);

    svc.unblock(&alice, bob.id()).await.expect("unblock");
    assert_eq!(
        svc.friendship_between(&alice, bob.id())
            .await
            .expect("none"),
        None
    );
    svc.send(&bob, RowRef::Id(c.id), send("after"))
        .await
        .expect("after");
    let err = svc.unblock(&alice, bob.id()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
}

#[tokio::test]
async fn friends_are_listed_with_their_direct_conversation_if_any() {
    let (svc, _) = service().await;
    let alice = actor(&svc, "alice").await;
    let bob = actor(&svc, "bob").await;
    let carol = actor(&svc, "carol").await;
    let dave = actor(&svc, "dave").await;
    for other in [&bob, &carol, &dave] {
        svc.request_friendship(&alice, other.id())
            .await
            .expect("request");
    }
    svc.respond_friendship(&bob, alice.id(), true)
        .await
        .expect("bob accepts");
    svc.respond_friendship(&carol, alice.id(), true)
        .await
        .expect("carol accepts");
    let c = svc
        .create_conversation(&alice, ConversationKind::Direct, ids(&["bob"]), None)
        .await
        .expect("direct")
        .summary
        .conversation;
    let mut friends = svc.friends_with_chats(&alice).await.expect("friends");
    friends.sort_by(|a, b| a.1.id.cmp(&b.1.id));
    let got: Vec<(&str, Option<i64>)> = friends
        .iter()
        .map(|(_, u, chat)| (u.id.as_str(), chat.as_ref().map(|c| c.id)))
        .collect();
    assert_eq!(got, vec![("bob", Some(c.id)), ("carol", None)]);
    assert_eq!(svc.friendships(&alice).await.expect("all").len(), 3);
    // Listing created no conversation.
    assert!(svc.conversations(&carol).await.expect("convs").is_empty());
}

#[tokio::test]
async fn device_tokens_are_validated_and_removed_by_their_owner() {
    let (svc, _) = service().await;
    let alice = actor(&svc, "alice").await;
    let bob = actor(&svc, "bob").await;
    for bad in ["", "has space", "tab\t", "é", &"x".repeat(4097)] {
        let err = svc
            .register_device(&alice, bad, DevicePlatform::Android)
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidPayload, "{bad:?}");
    }
    let d = svc
        .register_device(&alice, &"t".repeat(4096), DevicePlatform::Web)
        .await
        .expect("long token");
    assert_eq!(&d.user_id, alice.id());
    assert!(!svc.remove_device(&bob, &d.token).await.expect("not his"));
    assert!(svc.remove_device(&alice, &d.token).await.expect("hers"));
}

fn attach(url: &str, kind: Option<MessageKind>) -> confab::core::command::SendMessage {
    confab::core::command::SendMessage {
        attachments: vec![url.to_owned()],
        kind,
        ..Default::default()
    }
}

#[tokio::test]
async fn uploads_are_attached_by_their_owner_or_forwarded_within_a_conversation() {
    let (svc, _) = service().await;
    let alice = actor(&svc, "alice").await;
    let bob = actor(&svc, "bob").await;
    let carol = actor(&svc, "carol").await;
    let c = svc
        .create_conversation(
            &alice,
            ConversationKind::Group,
            ids(&["bob", "carol"]),
            None,
        )
        .await
        .expect("group")
        .summary
        .conversation;
    let other = svc
        .create_conversation(&carol, ConversationKind::Direct, ids(&["bob"]), None)
        .await
        .expect("direct")
        .summary
        .conversation;
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
            confab::core::command::SendMessage {
                text: Some("just text".into()),
                kind: Some(MessageKind::Image),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidPayload);
    let (m, _) = svc
        .send(&alice, RowRef::Id(c.id), send("plain"))
        .await
        .expect("text");
    assert_eq!(m.kind, MessageKind::Text);
}

#[tokio::test]
async fn a_department_is_visible_to_its_agents_and_managed_by_its_admins() {
    let (svc, rec) = service().await;
    let keeper = actor(&svc, "keeper").await;
    let agent = actor(&svc, "agent").await;
    let stranger = actor(&svc, "stranger").await;
    let d = svc
        .create_department(&keeper, "  Billing ")
        .await
        .expect("create");
    assert_eq!(d.department.name, "Billing");
    let r = RowRef::Id(d.department.id);
    assert!(matches!(
        rec.take().as_slice(),
        [DomainEvent::AgentAdded { user, .. }] if user.as_str() == "keeper"
    ));
    assert_eq!(
        svc.create_department(&keeper, " ")
            .await
            .unwrap_err()
            .code(),
        ErrorCode::InvalidPayload
    );

    // A stranger cannot tell the department exists.
    assert_eq!(
        svc.department(&stranger, r).await.unwrap_err().code(),
        ErrorCode::NotFound
    );
    svc.put_agent(&keeper, r, agent.id(), confab::core::AgentRole::Agent)
        .await
        .expect("add agent");
    assert_eq!(
        svc.department(&agent, r).await.expect("seen").agents.len(),
        2
    );
    // An agent is no admin: it cannot add anyone, nor remove another agent.
    assert_eq!(
        svc.put_agent(&agent, r, stranger.id(), confab::core::AgentRole::Agent)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Forbidden
    );
    assert_eq!(
        svc.remove_agent(&agent, r, keeper.id())
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Forbidden
    );
    // The last admin stays.
    assert_eq!(
        svc.remove_agent(&keeper, r, keeper.id())
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Conflict
    );
    // An agent may leave.
    rec.take();
    svc.remove_agent(&agent, r, agent.id())
        .await
        .expect("leave");
    assert!(matches!(
        rec.take().as_slice(),
        [DomainEvent::AgentRemoved { user, .. }] if user.as_str() == "agent"
    ));
    assert!(svc.departments(&agent).await.expect("mine").is_empty());
}

#[tokio::test]
async fn an_agent_takes_a_support_conversation_that_others_cannot_reach() {
    let (svc, rec) = service().await;
    let keeper = actor(&svc, "keeper").await;
    let visitor = actor(&svc, "visitor").await;
    let stranger = actor(&svc, "stranger").await;
    let d = svc.create_department(&keeper, "Sales").await.expect("d");
    let r = RowRef::Id(d.department.id);
    rec.take();
    let (conv, first) = svc
        .open_support(&visitor, r, Some("Help".into()), Some("hello".into()))
        .await
        .expect("open");
    assert_eq!(conv.department_id, Some(d.department.id));
    assert_eq!(first.expect("first message").text.as_deref(), Some("hello"));
    match rec.take().as_slice() {
        [
            DomainEvent::ConversationCreated { conversation, .. },
            DomainEvent::MessageCreated { department, .. },
        ] => {
            assert_eq!(conversation.id, conv.id);
            assert_eq!(*department, Some(d.department.id));
        }
        other => panic!("unexpected {other:?}"),
    }
    let c = confab::core::ConversationRef::Id(conv.id);
    // Neither a stranger nor an agent who has not taken it can send.
    for who in [&stranger, &keeper] {
        assert_eq!(
            svc.send(who, c, send("x")).await.unwrap_err().code(),
            ErrorCode::NotFound
        );
    }
    assert_eq!(
        svc.join(&stranger, c).await.unwrap_err().code(),
        ErrorCode::NotFound
    );
    assert_eq!(
        svc.support_conversations(&stranger, r)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
    assert_eq!(
        svc.support_conversations(&keeper, r)
            .await
            .expect("list")
            .len(),
        1
    );
    svc.join(&keeper, c).await.expect("take");
    assert!(matches!(
        rec.take().as_slice(),
        [DomainEvent::MemberAdded { user, .. }] if user.as_str() == "keeper"
    ));
    svc.send(&keeper, c, send("how can I help?"))
        .await
        .expect("answer");
    // Joining again changes nothing.
    rec.take();
    svc.join(&keeper, c).await.expect("again");
    assert!(rec.take().is_empty());
    // An unknown department is not found.
    assert_eq!(
        svc.open_support(&visitor, RowRef::Id(999), None, None)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::NotFound
    );
}
