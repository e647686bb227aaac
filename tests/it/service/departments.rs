//! Departments: agents and admins, support conversations an agent takes.

use confab::core::event::DomainEvent;
use confab::core::{AgentRole, ConversationRef, ErrorCode, RowRef};

use super::recorded_service;
use crate::helpers::{provisioned_actor, text_message};

#[tokio::test]
async fn a_department_is_visible_to_its_agents_and_managed_by_its_admins() {
    let (svc, rec) = recorded_service().await;
    let keeper = provisioned_actor(&svc, "keeper").await;
    let agent = provisioned_actor(&svc, "agent").await;
    let stranger = provisioned_actor(&svc, "stranger").await;
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
    svc.put_agent(&keeper, r, agent.id(), AgentRole::Agent)
        .await
        .expect("add agent");
    assert_eq!(
        svc.department(&agent, r).await.expect("seen").agents.len(),
        2
    );
    // An agent is no admin: it cannot add anyone, nor remove another agent.
    assert_eq!(
        svc.put_agent(&agent, r, stranger.id(), AgentRole::Agent)
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
    let (svc, rec) = recorded_service().await;
    let keeper = provisioned_actor(&svc, "keeper").await;
    let visitor = provisioned_actor(&svc, "visitor").await;
    let stranger = provisioned_actor(&svc, "stranger").await;
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
    let c = ConversationRef::Id(conv.id);
    // Neither a stranger nor an agent who has not taken it can send.
    for who in [&stranger, &keeper] {
        assert_eq!(
            svc.send(who, c, text_message("x"))
                .await
                .unwrap_err()
                .code(),
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
    svc.send(&keeper, c, text_message("how can I help?"))
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
