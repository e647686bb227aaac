//! Conversations: direct pairs, groups, members and their roles, the
//! list of a user's conversations, contacts, muting, roles and titles.

use std::collections::HashSet;

use confab::core::{ConversationKind, ConversationRef, ConversationSummary, Role, UserId};
use confab::store::DynStore;

use super::{group, send, sorted, text, users};
use crate::helpers::user_id;

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
    let c = user_id("carol");
    let (other, created) = s.direct_conversation(a, &c, 400).await.expect("other");
    assert!(created);
    assert_ne!(other.id, conv.id);
    assert_ne!(other.uuid, conv.uuid);
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
        s.member(conv.id, &user_id("stranger"))
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
    let newbie = user_id("newbie");
    let conv = group(&s, &owner, std::slice::from_ref(&newbie), 10).await;
    let u = s.user(&newbie).await.expect("user").expect("placeholder");
    assert!(u.placeholder);
    assert!(s.member(conv, &newbie).await.expect("member").is_some());

    let later = user_id("later");
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

    let order =
        |list: &[ConversationSummary]| list.iter().map(|x| x.conversation.id).collect::<Vec<_>>();
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

pub async fn roles_and_titles_change_and_say_whether_they_did(s: DynStore) {
    let ids = users(&s, &["alice", "bob", "carol"]).await;
    let g = group(&s, &ids[0], &ids[1..2], 10).await;
    let role = |s: DynStore, u: UserId| async move {
        s.member(g, &u).await.expect("member").expect("some").role
    };
    assert_eq!(role(s.clone(), ids[1].clone()).await, Role::Member);
    assert!(s.set_role(g, &ids[1], Role::Admin).await.expect("promote"));
    assert!(!s.set_role(g, &ids[1], Role::Admin).await.expect("again"));
    assert_eq!(role(s.clone(), ids[1].clone()).await, Role::Admin);
    assert!(
        !s.set_role(g, &ids[2], Role::Admin)
            .await
            .expect("not a member")
    );
    assert!(s.set_role(g, &ids[1], Role::Member).await.expect("demote"));
    assert_eq!(role(s.clone(), ids[1].clone()).await, Role::Member);

    let title = |s: DynStore| async move {
        s.conversation(ConversationRef::Id(g))
            .await
            .expect("conversation")
            .expect("some")
            .title
    };
    assert!(s.set_title(g, "Renamed").await.expect("rename"));
    assert!(!s.set_title(g, "Renamed").await.expect("again"));
    assert_eq!(title(s.clone()).await.as_deref(), Some("Renamed"));
    assert!(
        !s.set_title(g + 1000, "Nowhere")
            .await
            .expect("no such conversation")
    );
}
