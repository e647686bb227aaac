//! Who may do what. Membership is authorization; a conversation the actor is
//! not a member of is reported as not found, so ids do not leak.

use super::{
    ConversationKind, CoreError, Friendship, FriendshipStatus, Member, Message, Millis, Role,
    UserId,
};

/// The actor's membership, or `NotFound` if the actor is not a member.
pub fn require_member<'a>(members: &'a [Member], actor: &UserId) -> Result<&'a Member, CoreError> {
    members
        .iter()
        .find(|m| &m.user_id == actor)
        .ok_or(CoreError::NotFound("conversation"))
}

/// Only the author edits a message, and not once it is deleted.
pub fn may_edit(message: &Message, actor: &UserId) -> Result<(), CoreError> {
    if message.deleted_at.is_some() {
        return Err(CoreError::Conflict("message was deleted"));
    }
    if &message.sender_id != actor {
        return Err(CoreError::Forbidden("only the author can edit a message"));
    }
    Ok(())
}

/// The author deletes a message; in a group an owner or admin may too.
pub fn may_delete(
    message: &Message,
    actor: &Member,
    kind: ConversationKind,
) -> Result<(), CoreError> {
    if message.sender_id == actor.user_id
        || (kind == ConversationKind::Group && actor.role.can_moderate())
    {
        Ok(())
    } else {
        Err(CoreError::Forbidden(
            "only the author or a group admin can delete a message",
        ))
    }
}

/// Only groups take new members, and only from an owner or admin.
pub fn may_add_member(kind: ConversationKind, actor: &Member) -> Result<(), CoreError> {
    if kind != ConversationKind::Group {
        return Err(CoreError::Forbidden(
            "members cannot be added to a direct conversation",
        ));
    }
    if !actor.role.can_moderate() {
        return Err(CoreError::Forbidden(
            "only an owner or admin can add members",
        ));
    }
    Ok(())
}

/// Anyone may leave a group; an owner or admin may remove a plain member; an
/// owner can only leave, not be removed.
pub fn may_remove_member(
    kind: ConversationKind,
    actor: &Member,
    target: &Member,
) -> Result<(), CoreError> {
    if kind != ConversationKind::Group {
        return Err(CoreError::Forbidden(
            "members cannot be removed from a direct conversation",
        ));
    }
    if actor.user_id == target.user_id {
        return Ok(());
    }
    match (actor.role, target.role) {
        (Role::Owner, _) | (Role::Admin, Role::Member) => Ok(()),
        _ => Err(CoreError::Forbidden(
            "only an owner or admin can remove other members",
        )),
    }
}

/// In a group, an owner sets any other member's role to admin or member;
/// an admin makes a plain member an admin. Nobody becomes owner this way.
pub fn may_set_role(
    kind: ConversationKind,
    actor: &Member,
    target: &Member,
    role: Role,
) -> Result<(), CoreError> {
    if kind != ConversationKind::Group {
        return Err(CoreError::Forbidden(
            "roles exist only in a group conversation",
        ));
    }
    if role == Role::Owner {
        return Err(CoreError::invalid("a member can be made admin or member"));
    }
    if target.role == Role::Owner {
        return Err(CoreError::Forbidden("the owner's role cannot be changed"));
    }
    match (actor.role, target.role, role) {
        (Role::Owner, _, _) | (Role::Admin, Role::Member, _) => Ok(()),
        _ => Err(CoreError::Forbidden(
            "only an owner or admin can change roles, and only the owner demotes an admin",
        )),
    }
}

/// Only a group has a title an owner or admin may change.
pub fn may_rename(kind: ConversationKind, actor: &Member) -> Result<(), CoreError> {
    if kind != ConversationKind::Group {
        return Err(CoreError::Forbidden(
            "only a group conversation has a title to change",
        ));
    }
    if !actor.role.can_moderate() {
        return Err(CoreError::Forbidden(
            "only an owner or admin can change the title",
        ));
    }
    Ok(())
}

/// No messages in a direct conversation whose two users are blocked (by
/// either of them). Groups are not affected.
pub fn may_message(
    kind: ConversationKind,
    friendship: Option<&Friendship>,
) -> Result<(), CoreError> {
    match friendship {
        Some(f) if kind == ConversationKind::Direct && f.status == FriendshipStatus::Blocked => {
            Err(CoreError::Forbidden(
                "messages between these users are blocked",
            ))
        }
        _ => Ok(()),
    }
}

/// The friendship after `actor` asks `other` to be friends, given the pair's
/// current row: a new pending request; accepted if `other` had already asked
/// `actor`; unchanged if already pending from `actor` or accepted; a new
/// request after a rejection (either side may ask again); refused if blocked.
pub fn request_friendship(
    actor: &UserId,
    other: &UserId,
    existing: Option<&Friendship>,
    now: Millis,
) -> Result<Friendship, CoreError> {
    if actor == other {
        return Err(CoreError::invalid("you cannot befriend yourself"));
    }
    let new_request = || Friendship {
        requester: actor.clone(),
        addressee: other.clone(),
        status: FriendshipStatus::Pending,
        blocked_by: None,
        created_at: now,
        updated_at: now,
    };
    let Some(f) = existing else {
        return Ok(new_request());
    };
    match f.status {
        FriendshipStatus::Blocked => Err(CoreError::Forbidden("this friendship is blocked")),
        FriendshipStatus::Accepted => Ok(f.clone()),
        FriendshipStatus::Pending if &f.requester == actor => Ok(f.clone()),
        FriendshipStatus::Pending => Ok(Friendship {
            status: FriendshipStatus::Accepted,
            updated_at: now,
            ..f.clone()
        }),
        FriendshipStatus::Rejected => Ok(new_request()),
    }
}

/// The friendship after `actor` accepts or rejects the request `requester`
/// sent them. Only the addressee of a pending request answers it; answering
/// the same way again is a no-op.
pub fn respond_friendship(
    actor: &UserId,
    requester: &UserId,
    existing: Option<&Friendship>,
    accept: bool,
    now: Millis,
) -> Result<Friendship, CoreError> {
    let answer = if accept {
        FriendshipStatus::Accepted
    } else {
        FriendshipStatus::Rejected
    };
    match existing {
        Some(f) if &f.addressee == actor && &f.requester == requester => match f.status {
            FriendshipStatus::Pending => Ok(Friendship {
                status: answer,
                updated_at: now,
                ..f.clone()
            }),
            s if s == answer => Ok(f.clone()),
            _ => Err(CoreError::Conflict(
                "this friend request was already answered",
            )),
        },
        Some(f) if &f.requester == actor && f.status == FriendshipStatus::Pending => Err(
            CoreError::Forbidden("only the addressee can answer a friend request"),
        ),
        _ => Err(CoreError::NotFound("friend request")),
    }
}

/// The friendship after `actor` blocks `other`: blocked by `actor`, whatever
/// it was (no row needed). Blocking again is a no-op; a pair the other user
/// already blocked stays theirs to unblock.
pub fn block(
    actor: &UserId,
    other: &UserId,
    existing: Option<&Friendship>,
    now: Millis,
) -> Result<Friendship, CoreError> {
    if actor == other {
        return Err(CoreError::invalid("you cannot block yourself"));
    }
    match existing {
        Some(f) if f.status == FriendshipStatus::Blocked => {
            if f.blocked_by.as_ref() == Some(actor) {
                Ok(f.clone())
            } else {
                Err(CoreError::Conflict("this user has already blocked you"))
            }
        }
        Some(f) => Ok(Friendship {
            status: FriendshipStatus::Blocked,
            blocked_by: Some(actor.clone()),
            updated_at: now,
            ..f.clone()
        }),
        None => Ok(Friendship {
            requester: actor.clone(),
            addressee: other.clone(),
            status: FriendshipStatus::Blocked,
            blocked_by: Some(actor.clone()),
            created_at: now,
            updated_at: now,
        }),
    }
}

/// Only the user who blocked may unblock; the row then goes away.
pub fn may_unblock(actor: &UserId, existing: Option<&Friendship>) -> Result<(), CoreError> {
    match existing {
        Some(f) if f.status == FriendshipStatus::Blocked => {
            if f.blocked_by.as_ref() == Some(actor) {
                Ok(())
            } else {
                Err(CoreError::Forbidden(
                    "only the user who blocked can unblock",
                ))
            }
        }
        _ => Err(CoreError::NotFound("block")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, role: Role) -> Member {
        Member {
            conversation_id: 1,
            user_id: UserId::parse(id).unwrap(),
            role,
            joined_at: 0,
            last_read_seq: 0,
            last_delivered_seq: 0,
            muted: false,
        }
    }

    #[test]
    fn a_non_member_is_told_not_found() {
        let members = vec![member("a", Role::Owner)];
        let err = require_member(&members, &UserId::parse("b").unwrap()).unwrap_err();
        assert!(matches!(err, CoreError::NotFound("conversation")));
    }

    #[test]
    fn role_and_title_rules_follow_roles() {
        let owner = member("o", Role::Owner);
        let admin = member("a", Role::Admin);
        let other_admin = member("b", Role::Admin);
        let plain = member("m", Role::Member);
        let (g, d) = (ConversationKind::Group, ConversationKind::Direct);
        assert!(may_set_role(g, &owner, &plain, Role::Admin).is_ok());
        assert!(may_set_role(g, &owner, &admin, Role::Member).is_ok());
        assert!(may_set_role(g, &admin, &plain, Role::Admin).is_ok());
        assert!(may_set_role(g, &admin, &other_admin, Role::Member).is_err());
        assert!(may_set_role(g, &plain, &admin, Role::Member).is_err());
        assert!(may_set_role(g, &admin, &owner, Role::Member).is_err());
        assert!(may_set_role(g, &owner, &plain, Role::Owner).is_err());
        assert!(may_set_role(d, &owner, &plain, Role::Admin).is_err());
        assert!(may_rename(g, &admin).is_ok());
        assert!(may_rename(g, &plain).is_err());
        assert!(may_rename(d, &owner).is_err());
    }

    #[test]
    fn removal_rules_follow_roles() {
        let owner = member("o", Role::Owner);
        let admin = member("a", Role::Admin);
        let plain = member("m", Role::Member);
        let g = ConversationKind::Group;
        assert!(may_remove_member(g, &owner, &admin).is_ok());
        assert!(may_remove_member(g, &admin, &plain).is_ok());
        assert!(may_remove_member(g, &admin, &owner).is_err());
        assert!(may_remove_member(g, &plain, &admin).is_err());
        assert!(may_remove_member(g, &plain, &plain).is_ok());
        assert!(may_remove_member(ConversationKind::Direct, &owner, &plain).is_err());
        assert!(may_add_member(g, &plain).is_err());
        assert!(may_add_member(g, &admin).is_ok());
    }

    fn uid(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    #[test]
    fn a_request_to_someone_who_asked_first_accepts() {
        let (a, b) = (uid("a"), uid("b"));
        let f = request_friendship(&a, &b, None, 1).unwrap();
        assert_eq!(f.status, FriendshipStatus::Pending);
        let again = request_friendship(&a, &b, Some(&f), 2).unwrap();
        assert_eq!(again, f);
        let back = request_friendship(&b, &a, Some(&f), 3).unwrap();
        assert_eq!(back.status, FriendshipStatus::Accepted);
        assert_eq!(back.requester, a);
        assert!(request_friendship(&a, &a, None, 1).is_err());
    }

    #[test]
    fn only_the_addressee_answers_and_only_the_blocker_unblocks() {
        let (a, b) = (uid("a"), uid("b"));
        let f = request_friendship(&a, &b, None, 1).unwrap();
        assert!(matches!(
            respond_friendship(&a, &b, Some(&f), true, 2),
            Err(CoreError::Forbidden(_) | CoreError::NotFound(_))
        ));
        let r = respond_friendship(&b, &a, Some(&f), false, 2).unwrap();
        assert_eq!(r.status, FriendshipStatus::Rejected);
        let renewed = request_friendship(&b, &a, Some(&r), 3).unwrap();
        assert_eq!(
            (renewed.requester.clone(), renewed.status),
            (b.clone(), FriendshipStatus::Pending)
        );

        let blocked = block(&a, &b, Some(&renewed), 4).unwrap();
        assert_eq!(blocked.blocked_by.as_ref(), Some(&a));
        assert!(matches!(
            request_friendship(&b, &a, Some(&blocked), 5),
            Err(CoreError::Forbidden(_))
        ));
        assert!(matches!(
            may_unblock(&b, Some(&blocked)),
            Err(CoreError::Forbidden(_))
        ));
        assert!(may_unblock(&a, Some(&blocked)).is_ok());
        assert!(may_message(ConversationKind::Direct, Some(&blocked)).is_err());
        assert!(may_message(ConversationKind::Group, Some(&blocked)).is_ok());
        assert!(may_message(ConversationKind::Direct, None).is_ok());
    }
}
