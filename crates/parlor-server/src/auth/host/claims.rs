//! A host token's claims, read by their names as `[host_tokens]` configures them. Read with
//! visitors of their own, never through `serde_json::Value`, which serde_json's private
//! `RawValue` token can steer (issue #16); a claim named twice is refused.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Every claim of a token by name; only strings and integers are kept as values.
pub(super) struct Claims(HashMap<String, Claim>);

/// One claim's value as parlor reads claims.
pub(super) enum Claim {
    Text(String),
    /// An integer, in decimal.
    Integer(String),
    /// Anything else (a list, an object, a fraction, a boolean, null): present, not readable.
    Other,
}

impl Claims {
    pub fn get(&self, name: &str) -> Option<&Claim> {
        self.0.get(name)
    }

    /// The claim's text, if it is a string.
    pub fn text(&self, name: &str) -> Option<&str> {
        match self.0.get(name) {
            Some(Claim::Text(text)) => Some(text),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Claims {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ClaimsVisitor;
        impl<'de> Visitor<'de> for ClaimsVisitor {
            type Value = Claims;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object of claims")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Claims, A::Error> {
                let mut claims = HashMap::new();
                while let Some(name) = map.next_key::<String>()? {
                    let value = map.next_value::<Claim>()?;
                    if claims.insert(name, value).is_some() {
                        return Err(de::Error::custom("a claim is named twice"));
                    }
                }
                Ok(Claims(claims))
            }
        }
        deserializer.deserialize_map(ClaimsVisitor)
    }
}

impl<'de> Deserialize<'de> for Claim {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ClaimVisitor;
        impl<'de> Visitor<'de> for ClaimVisitor {
            type Value = Claim;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a claim value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Claim, E> {
                Ok(Claim::Text(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Claim, E> {
                Ok(Claim::Integer(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Claim, E> {
                Ok(Claim::Integer(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Claim, E> {
                Ok(Claim::Other)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Claim, E> {
                Ok(Claim::Other)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Claim, E> {
                Ok(Claim::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Claim, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Claim::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Claim, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Claim::Other)
            }
        }
        deserializer.deserialize_any(ClaimVisitor)
    }
}
