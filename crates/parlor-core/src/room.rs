//! Rooms and membership: roles and what each may do, room titles, the context a conversation can
//! be linked to (a job, an order...), and a member's view of their own membership.

use crate::{Seq, ValidationError, strip_invisible};

/// A member's role. Direct conversations have only members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Member,
    Admin,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw {
            "member" => Ok(Role::Member),
            "admin" => Ok(Role::Admin),
            "owner" => Ok(Role::Owner),
            _ => Err(ValidationError::new("role", "must be owner, admin or member")),
        }
    }

    /// Add members, remove plain members, rename, change the avatar, archive.
    pub fn can_manage_room(self) -> bool {
        self >= Role::Admin
    }

    /// Whether someone with this role may remove a member holding `target`: admins remove
    /// members; only owners remove admins and other owners.
    pub fn can_remove(self, target: Role) -> bool {
        match self {
            Role::Owner => true,
            Role::Admin => target == Role::Member,
            Role::Member => false,
        }
    }

    /// Only owners hand out roles (including ownership).
    pub fn can_set_roles(self) -> bool {
        self == Role::Owner
    }
}

/// What a user's membership lets them see and do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub role: Role,
    /// False once the user left or was removed.
    pub active: bool,
    /// For a former member: the last message seq and event seq they may still read.
    pub visible_until: Option<(Seq, Seq)>,
    /// The member silenced this conversation's message notifications.
    pub muted: bool,
}

impl Membership {
    /// The newest message seq this member may read, if limited.
    pub fn message_cutoff(&self) -> Option<Seq> {
        self.visible_until.map(|(m, _)| m)
    }

    pub fn event_cutoff(&self) -> Option<Seq> {
        self.visible_until.map(|(_, e)| e)
    }
}

/// A room's title: 1 to 100 characters after trimming, invisible ones stripped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomTitle(String);

impl RoomTitle {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let visible = strip_invisible(raw);
        let trimmed = visible.trim();
        if trimmed.is_empty() || trimmed.chars().count() > 100 || trimmed.chars().any(char::is_control) {
            return Err(ValidationError::new("title", "must be 1 to 100 characters, no control characters"));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a conversation is about on the host platform, e.g. job 42 "Fix the kitchen sink".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// A short lowercase word: `job`, `order`, `listing`...
    pub kind: String,
    pub external_id: String,
    pub title: Option<String>,
}

impl Context {
    pub fn parse(kind: &str, external_id: &str, title: Option<&str>) -> Result<Self, ValidationError> {
        let word = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
        if kind.is_empty() || kind.len() > 32 || !kind.chars().all(word) {
            return Err(ValidationError::new("context_type", "must be 1 to 32 letters, digits, '_', '-' or '.'"));
        }
        if external_id.is_empty() || external_id.len() > 128 || external_id.chars().any(|c| c.is_control() || c == '/')
        {
            return Err(ValidationError::new(
                "context_id",
                "must be 1 to 128 characters, no '/' or control characters",
            ));
        }
        let title = title.map(strip_invisible);
        let title = match title.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) if t.chars().count() > 200 => {
                return Err(ValidationError::new("title", "must be at most 200 characters"));
            }
            other => other.map(str::to_owned),
        };
        Ok(Self { kind: kind.to_owned(), external_id: external_id.to_owned(), title })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admins_remove_members_only_owners_remove_admins() {
        assert!(Role::Admin.can_remove(Role::Member));
        assert!(!Role::Admin.can_remove(Role::Admin));
        assert!(!Role::Admin.can_remove(Role::Owner));
        assert!(Role::Owner.can_remove(Role::Admin));
        assert!(!Role::Member.can_remove(Role::Member));
        assert!(Role::Owner.can_set_roles() && !Role::Admin.can_set_roles());
    }

    #[test]
    fn contexts_and_titles_are_checked() {
        assert!(Context::parse("job", "42", Some("Fix the kitchen sink")).is_ok());
        assert!(Context::parse("job type", "42", None).is_err());
        assert!(Context::parse("job", "a/b", None).is_err());
        assert!(RoomTitle::parse("  Team  ").is_ok_and(|t| t.as_str() == "Team"));
        assert!(RoomTitle::parse(" ").is_err());
    }
}
