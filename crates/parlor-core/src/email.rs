//! An email address as parlor accepts one: from a host platform's `email` claim or a standalone
//! user's profile, for the mails that reach people who are away.

use std::fmt;

use crate::ValidationError;

/// The longest address a mail server must take (RFC 5321's path limit less the brackets).
const MAX_LEN: usize = 254;
const MAX_LOCAL: usize = 64;

/// `local@domain`: printable ASCII or UTF-8 without spaces, controls, quotes, brackets or
/// commas (nothing that could open another header or address), a dot in the domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let bad = |why: &str| Err(ValidationError::new("email", why));
        let raw = raw.trim();
        if raw.len() > MAX_LEN {
            return bad("must be at most 254 bytes");
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control() || "\"<>(),;:\\[]".contains(c)) {
            return bad("must be a plain address like name@example.com (no spaces, quotes or brackets)");
        }
        let Some((local, domain)) = raw.rsplit_once('@') else { return bad("must contain @") };
        if local.is_empty() || local.len() > MAX_LOCAL || local.contains('@') {
            return bad("needs a name of 1 to 64 bytes before a single @");
        }
        let labels_ok = domain.split('.').all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'));
        if !domain.contains('.') || !labels_ok {
            return bad("needs a domain like example.com after the @");
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_addresses_are_accepted_and_anything_that_could_inject_is_not() {
        for ok in ["bob@example.com", " Bob.Smith+chat@mail.example.co.uk ", "zoë@exämple.de"] {
            assert!(EmailAddress::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(EmailAddress::parse(" a@b.io ").map(|e| e.0), Ok("a@b.io".to_owned()), "trimmed");
        let long = format!("{}@example.com", "a".repeat(65));
        for bad in [
            "",
            "bob",
            "@example.com",
            "bob@",
            "bob@localhost",
            "bob@example..com",
            "bob@-example.com",
            "bob smith@example.com",
            "bob@example.com\r\nBcc: eve@example.com",
            "Bob <bob@example.com>",
            "bob@example.com,eve@example.com",
            "\"bob\"@example.com",
            long.as_str(),
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?}");
        }
    }
}
