//! The support desk: departments with agents, support conversations that
//! visitors open in a department, and agents taking them. Who may do what:
//! a department is visible to its agents only (anyone else gets
//! `NOT_FOUND`, as for a missing one); its admins add and remove agents; an
//! agent may leave; anyone may open a support conversation in a department
//! whose id they know (the id is what a support widget is configured with).

use super::{Result, Service, user_ids, validate_name, validate_title};
use crate::core::command::{Actor, Outcome, SendMessage};
use crate::core::event::DomainEvent;
use crate::core::views::DepartmentView;
use crate::core::{
    Agent, AgentRole, Conversation, ConversationRef, CoreError, Department, Message, Role, RowRef,
    UserId, now_millis,
};

impl Service {
    pub async fn create_department(&self, actor: &Actor, name: &str) -> Result<DepartmentView> {
        let name = validate_name(name)?;
        let department = self
            .store
            .create_department(actor.id(), &name, now_millis())
            .await?;
        self.publisher.publish(DomainEvent::AgentAdded {
            department: department.id,
            user: actor.id().clone(),
        });
        self.department_view(department).await
    }

    /// The departments the actor is an agent of.
    pub async fn departments(&self, actor: &Actor) -> Result<Vec<Department>> {
        Ok(self.store.departments_of(actor.id()).await?)
    }

    /// A department and the actor's place in it, if the actor is an agent.
    pub async fn agent_of(&self, actor: &Actor, r: RowRef) -> Result<(Department, Agent)> {
        let department = self
            .store
            .department(r)
            .await?
            .ok_or(CoreError::NotFound("department"))?;
        let agent = self
            .store
            .agent(department.id, actor.id())
            .await?
            .ok_or(CoreError::NotFound("department"))?;
        Ok((department, agent))
    }

    /// A department, if the actor is one of its agents.
    pub(super) async fn department_as_agent(&self, actor: &Actor, r: RowRef) -> Result<Outcome> {
        let (department, _) = self.agent_of(actor, r).await?;
        Ok(Outcome::Departments(vec![department]))
    }

    pub async fn department(&self, actor: &Actor, r: RowRef) -> Result<DepartmentView> {
        let (department, _) = self.agent_of(actor, r).await?;
        self.department_view(department).await
    }

    async fn department_view(&self, department: Department) -> Result<DepartmentView> {
        let agents = self.store.agents(department.id).await?;
        Ok(DepartmentView { department, agents })
    }

    /// Adds an agent or changes its role (admins only).
    pub async fn put_agent(
        &self,
        actor: &Actor,
        r: RowRef,
        user: &UserId,
        role: AgentRole,
    ) -> Result<DepartmentView> {
        let (department, me) = self.agent_of(actor, r).await?;
        if me.role != AgentRole::Admin {
            return Err(CoreError::Forbidden(
                "only a department's admins add agents",
            ));
        }
        if role != AgentRole::Admin && user == actor.id() {
            self.keep_an_admin(department.id, user).await?;
        }
        self.store
            .put_agent(department.id, user, role, now_millis())
            .await?;
        self.publisher.publish(DomainEvent::AgentAdded {
            department: department.id,
            user: user.clone(),
        });
        self.department_view(department).await
    }

    /// Removes an agent: an admin removes anyone, an agent itself.
    pub async fn remove_agent(&self, actor: &Actor, r: RowRef, user: &UserId) -> Result<()> {
        let (department, me) = self.agent_of(actor, r).await?;
        if me.role != AgentRole::Admin && user != actor.id() {
            return Err(CoreError::Forbidden(
                "only a department's admins remove other agents",
            ));
        }
        self.keep_an_admin(department.id, user).await?;
        if !self.store.remove_agent(department.id, user).await? {
            return Err(CoreError::NotFound("agent"));
        }
        self.publisher.publish(DomainEvent::AgentRemoved {
            department: department.id,
            user: user.clone(),
        });
        Ok(())
    }

    /// Refuses to take away the last admin of a department.
    async fn keep_an_admin(&self, department: i64, leaving: &UserId) -> Result<()> {
        let agents = self.store.agents(department).await?;
        let admins = agents.iter().filter(|a| a.role == AgentRole::Admin);
        if admins.clone().count() == 1 && admins.clone().any(|a| &a.user_id == leaving) {
            return Err(CoreError::Conflict("a department keeps at least one admin"));
        }
        Ok(())
    }

    /// Opens a support conversation for the actor (the visitor) in a
    /// department, with a first message if `text` is given.
    pub async fn open_support(
        &self,
        actor: &Actor,
        r: RowRef,
        title: Option<String>,
        text: Option<String>,
    ) -> Result<(Conversation, Option<Message>)> {
        let title = title.map(|t| validate_title(&t)).transpose()?;
        let department = self
            .store
            .department(r)
            .await?
            .ok_or(CoreError::NotFound("department"))?;
        let conversation = self
            .store
            .create_support(actor.id(), department.id, title.as_deref(), now_millis())
            .await?;
        self.publisher.publish(DomainEvent::ConversationCreated {
            conversation: conversation.clone(),
            members: vec![actor.id().clone()],
        });
        let first = match text {
            Some(text) => {
                let message = SendMessage {
                    text: Some(text),
                    ..SendMessage::default()
                };
                let (m, _) = self
                    .send(actor, ConversationRef::Id(conversation.id), message)
                    .await?;
                Some(m)
            }
            None => None,
        };
        Ok((conversation, first))
    }

    /// The support conversations of a department (agents only).
    pub async fn support_conversations(
        &self,
        actor: &Actor,
        r: RowRef,
    ) -> Result<Vec<Conversation>> {
        let (department, _) = self.agent_of(actor, r).await?;
        Ok(self.store.support_conversations(department.id).await?)
    }

    /// Takes a support conversation of a department the actor is an agent of.
    pub async fn claim(
        &self,
        actor: &Actor,
        department: RowRef,
        conversation: ConversationRef,
    ) -> Result<Conversation> {
        let (department, _) = self.agent_of(actor, department).await?;
        match self.store.conversation(conversation).await? {
            Some(c) if c.department_id == Some(department.id) => {
                Ok(self.join(actor, ConversationRef::Id(c.id)).await?.0)
            }
            _ => Err(CoreError::NotFound("conversation")),
        }
    }

    /// The conversation and its members, if the actor is a member; an agent
    /// of a support conversation's department becomes one (takes the
    /// conversation).
    pub async fn join(
        &self,
        actor: &Actor,
        r: ConversationRef,
    ) -> Result<(Conversation, Vec<UserId>)> {
        let conversation = self
            .store
            .conversation(r)
            .await?
            .ok_or(CoreError::NotFound("conversation"))?;
        let mut members = user_ids(&self.store.members(conversation.id).await?);
        if members.contains(actor.id()) {
            return Ok((conversation, members));
        }
        let Some(department) = conversation.department_id else {
            return Err(CoreError::NotFound("conversation"));
        };
        if self.store.agent(department, actor.id()).await?.is_none() {
            return Err(CoreError::NotFound("conversation"));
        }
        if self
            .store
            .add_member(conversation.id, actor.id(), Role::Admin, now_millis())
            .await?
        {
            members.push(actor.id().clone());
            self.publisher.publish(DomainEvent::MemberAdded {
                conversation: (&conversation).into(),
                user: actor.id().clone(),
                members: members.clone(),
            });
        }
        Ok((conversation, members))
    }
}
