//! Read models that dialects and the HTTP API show: a room with its
//! members' profiles, a friend, a page of history counted from the newest
//! message, a department with its agents. The service builds them
//! ([`crate::core::service`]); every one is checked against membership.

use serde::Serialize;

use super::{
    Agent, Conversation, ConversationKind, ConversationSummary, Department, Friendship, Message,
    User, UserId,
};

/// A conversation as one member sees it in a list or when opening it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationView {
    pub summary: ConversationSummary,
    /// Profiles of the members (placeholders included).
    pub users: Vec<User>,
    /// Members online now.
    pub online: Vec<UserId>,
    /// For a direct conversation: the friendship with the other member.
    pub friendship: Option<Friendship>,
    /// Messages after the cursor the client named (offline catch-up).
    pub catch_up: Vec<Message>,
}

impl ConversationView {
    /// The other member of a direct conversation.
    pub fn peer(&self, me: &UserId) -> Option<&User> {
        if self.summary.conversation.kind != ConversationKind::Direct {
            return None;
        }
        self.users.iter().find(|u| &u.id != me)
    }

    pub fn user(&self, id: &UserId) -> Option<&User> {
        self.users.iter().find(|u| &u.id == id)
    }

    pub fn is_online(&self, id: &UserId) -> bool {
        self.online.contains(id)
    }
}

/// An accepted friend, for friend lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FriendView {
    pub user: User,
    pub online: bool,
    pub conversation: Option<Conversation>,
}

/// A page of history counted back from the newest message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryPage {
    pub conversation: Conversation,
    /// Oldest first.
    pub messages: Vec<Message>,
    /// How many messages the page counts from: every message of the
    /// conversation when deleted ones are included, else the ones not
    /// deleted (older than the cursor, when there is one).
    pub total: i64,
    /// The profiles of the messages' senders.
    pub senders: Vec<User>,
}

/// A department with its agents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DepartmentView {
    #[serde(flatten)]
    pub department: Department,
    pub agents: Vec<Agent>,
}
