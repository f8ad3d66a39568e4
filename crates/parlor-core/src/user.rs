//! Users and the rules for the values they choose: usernames, display names, passwords, avatars.

use crate::{Timestamp, UserId, ValidationError, first_invisible, strip_invisible};

/// A user as the rest of the system sees them. Passwords never leave the store in this type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    /// Set for users who registered with parlor; host-app users may have none.
    pub username: Option<String>,
    /// The host platform's id for users it created through its own tokens.
    pub external_id: Option<String>,
    pub name: String,
    pub avatar: Option<String>,
    pub created_at: Timestamp,
    /// When their last connection closed (or, while online, when they came online).
    pub last_seen_at: Option<Timestamp>,
    /// The user chose not to show `last_seen_at` to others.
    pub hide_last_seen: bool,
    /// A server admin: may delete any message and disable users.
    pub is_admin: bool,
    /// Disabled by an admin: cannot authenticate.
    pub disabled: bool,
    /// Where mail reaches them when they are away (the platform's `email` claim, or set in
    /// their profile); shown to nobody else.
    pub email: Option<String>,
}

/// A user that registers with a password.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: Username,
    pub name: DisplayName,
    /// The argon2 PHC string, never the password itself.
    pub password_hash: String,
}

/// A change to a user's own profile; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProfileUpdate {
    pub name: Option<DisplayName>,
    /// `Some(None)` clears the avatar.
    pub avatar: Option<Option<AvatarUrl>>,
    pub hide_last_seen: Option<bool>,
}

impl ProfileUpdate {
    /// What a host platform's token claims change in `user`'s profile (a claim left out changes
    /// nothing), or `None` when the profile already says it.
    pub fn from_claims(user: &User, name: Option<&DisplayName>, avatar: Option<&AvatarUrl>) -> Option<ProfileUpdate> {
        let name = name.filter(|n| n.as_str() != user.name);
        let avatar = avatar.filter(|a| Some(a.as_str()) != user.avatar.as_deref());
        (name.is_some() || avatar.is_some()).then(|| ProfileUpdate {
            name: name.cloned(),
            avatar: avatar.map(|a| Some(a.clone())),
            hide_last_seen: None,
        })
    }
}

/// A login name: 3 to 32 ASCII letters, digits, `_`, `.` or `-`; compared case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
        // Named first and precisely: a name that looks valid but is not is an impersonation try.
        if let Some(c) = first_invisible(raw) {
            let reason = format!("must not contain invisible characters (U+{:04X})", u32::from(c));
            return Err(ValidationError::new("username", reason));
        }
        if !(3..=32).contains(&raw.len()) {
            return Err(ValidationError::new("username", "must be 3 to 32 characters"));
        }
        if !raw.chars().all(ok_char) {
            return Err(ValidationError::new("username", "may contain only letters, digits, '_', '.' and '-'"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name other people see: 1 to 64 characters after trimming, no control characters;
/// invisible ones (bidi overrides, zero-width...) are stripped (`crate::invisible`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let visible = strip_invisible(raw);
        let trimmed = visible.trim();
        if trimmed.is_empty() {
            return Err(ValidationError::new("name", "must not be empty"));
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(ValidationError::new("name", "must be at most 64 characters"));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(ValidationError::new("name", "must not contain control characters"));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// A name from a trusted host token: cut to size rather than refused, so a long name on the
    /// host platform never locks its user out of chat.
    pub fn lenient(raw: &str) -> Option<Self> {
        let visible = strip_invisible(raw);
        let cleaned: String = visible.trim().chars().filter(|c| !c.is_control()).take(Self::MAX_CHARS).collect();
        (!cleaned.is_empty()).then_some(Self(cleaned))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An avatar image URL: `http` or `https`, at most 2048 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvatarUrl(String);

impl AvatarUrl {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let raw = raw.trim();
        if raw.len() > 2048 {
            return Err(ValidationError::new("avatar", "must be at most 2048 bytes"));
        }
        let lower = raw.to_ascii_lowercase();
        if !(lower.starts_with("https://") || lower.starts_with("http://")) || raw.chars().any(char::is_whitespace) {
            return Err(ValidationError::new("avatar", "must be an http or https URL"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The host platform's user id (the `sub` claim of its tokens): 1 to 128 printable characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalId(String);

impl ExternalId {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        if raw.is_empty() || raw.len() > 128 || raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(ValidationError::new("sub", "must be 1 to 128 printable characters"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as typed: 8 to 128 characters. Kept only long enough to hash or verify.
pub struct Password(String);

impl Password {
    pub fn parse(raw: String) -> Result<Self, ValidationError> {
        let n = raw.chars().count();
        if !(8..=128).contains(&n) {
            return Err(ValidationError::new("password", "must be 8 to 128 characters"));
        }
        Ok(Self(raw))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_rules() {
        assert!(Username::parse("alice_1").is_ok());
        assert!(Username::parse("al").is_err());
        assert!(Username::parse("al ice").is_err());
        assert!(Username::parse(&"a".repeat(33)).is_err());
    }

    #[test]
    fn claims_change_only_what_differs_and_nothing_when_the_profile_says_it() {
        let user = User {
            id: UserId(1),
            username: None,
            external_id: Some("p-1".into()),
            name: "Ann".into(),
            avatar: None,
            created_at: Timestamp::from_millis(0),
            last_seen_at: None,
            hide_last_seen: false,
            is_admin: false,
            disabled: false,
            email: None,
        };
        let (ann, bea) = (DisplayName::parse("Ann").unwrap(), DisplayName::parse("Bea").unwrap());
        let avatar = AvatarUrl::parse("https://cdn.example/a.png").unwrap();
        assert!(ProfileUpdate::from_claims(&user, Some(&ann), None).is_none());
        assert!(ProfileUpdate::from_claims(&user, None, None).is_none());
        let update = ProfileUpdate::from_claims(&user, Some(&bea), Some(&avatar)).unwrap();
        assert_eq!(update.name.map(|n| n.as_str().to_owned()).as_deref(), Some("Bea"));
        assert_eq!(
            update.avatar.flatten().map(|a| a.as_str().to_owned()).as_deref(),
            Some("https://cdn.example/a.png")
        );
        let update = ProfileUpdate::from_claims(&user, Some(&ann), Some(&avatar)).unwrap();
        assert!(update.name.is_none() && update.hide_last_seen.is_none());
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(DisplayName::parse("  Bob ").map(|n| n.0), Ok("Bob".to_owned()));
        assert!(DisplayName::parse("   ").is_err());
        assert_eq!(DisplayName::lenient(&"x".repeat(100)).map(|n| n.0.len()), Some(64));
    }

    #[test]
    fn avatars_must_be_web_urls() {
        assert!(AvatarUrl::parse("https://cdn.example/a.png").is_ok());
        assert!(AvatarUrl::parse("javascript:alert(1)").is_err());
    }
}
