//! Departments: agents and admins, support conversations.

use confab::core::{AgentRole, ConversationKind, ConversationRef, Role, RowRef};
use confab::store::DynStore;

use super::{group, send, text, users};
use crate::helpers::user_id;

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
    let ghost = user_id("ghost");
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
