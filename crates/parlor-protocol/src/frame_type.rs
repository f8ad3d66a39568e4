//! Reading a client frame's `type` straight from its text, before its fields are parsed.
//!
//! Nothing here goes through `serde_json::Value`: with serde_json's `raw_value` feature on (axum
//! and sqlx turn it on), building a `Value` treats an object whose first key is serde_json's
//! private `RawValue` token as a raw value, so the same JSON read in another key order meant
//! another thing (issue #16). Read from the text by these visitors and by the frames' own
//! derived impls, a frame means what its JSON says, whatever the order of its keys.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A JSON text checked as the frames will read it: unlike `IgnoredAny`, which skips a number
/// without reading it, every number must fit an `f64` (the fuzzer found a frame carrying
/// `4444…E4444…` in an unknown field, accepted by a skip and refused by every other reading).
pub(crate) struct WellFormed;

impl<'de> de::Deserialize<'de> for WellFormed {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(WellFormedVisitor)
    }
}

struct WellFormedVisitor;

impl<'de> Visitor<'de> for WellFormedVisitor {
    type Value = WellFormed;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<WellFormed, E> {
        Ok(WellFormed)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<WellFormed, E> {
        Ok(WellFormed)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<WellFormed, E> {
        Ok(WellFormed)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<WellFormed, E> {
        Ok(WellFormed)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<WellFormed, E> {
        Ok(WellFormed)
    }

    fn visit_unit<E: de::Error>(self) -> Result<WellFormed, E> {
        Ok(WellFormed)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<WellFormed, A::Error> {
        while seq.next_element::<WellFormed>()?.is_some() {}
        Ok(WellFormed)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WellFormed, A::Error> {
        while map.next_entry::<String, WellFormed>()?.is_some() {}
        Ok(WellFormed)
    }
}

/// What a frame says its type is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum FrameType {
    Named(String),
    NotAString,
    Missing,
}

impl FrameType {
    /// `Ok(None)` when the text is valid JSON but not an object; `Err` for a duplicate `type`.
    pub(crate) fn read(text: &str) -> Result<Option<FrameType>, serde_json::Error> {
        if !text.trim_start().starts_with('{') {
            return Ok(None);
        }
        let mut deserializer = serde_json::Deserializer::from_str(text);
        deserializer.deserialize_map(TypeOfObject).map(Some)
    }
}

struct TypeOfObject;

impl<'de> Visitor<'de> for TypeOfObject {
    type Value = FrameType;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FrameType, A::Error> {
        let mut found = FrameType::Missing;
        while let Some(key) = map.next_key::<String>()? {
            if key != "type" {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            if found != FrameType::Missing {
                return Err(de::Error::duplicate_field("type"));
            }
            found = map.next_value::<TypeValue>()?.0;
        }
        Ok(found)
    }
}

/// The value of `type`: a string, or anything else (skipped, never interpreted).
struct TypeValue(FrameType);

impl<'de> de::Deserialize<'de> for TypeValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TypeValueVisitor)
    }
}

struct TypeValueVisitor;

impl<'de> Visitor<'de> for TypeValueVisitor {
    type Value = TypeValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<TypeValue, E> {
        Ok(TypeValue(FrameType::Named(v.to_owned())))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<TypeValue, E> {
        Ok(TypeValue(FrameType::NotAString))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<TypeValue, E> {
        Ok(TypeValue(FrameType::NotAString))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<TypeValue, E> {
        Ok(TypeValue(FrameType::NotAString))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<TypeValue, E> {
        Ok(TypeValue(FrameType::NotAString))
    }

    fn visit_unit<E: de::Error>(self) -> Result<TypeValue, E> {
        Ok(TypeValue(FrameType::NotAString))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TypeValue, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(TypeValue(FrameType::NotAString))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TypeValue, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(TypeValue(FrameType::NotAString))
    }
}

/// A map of integer keys, each at most once.
pub(crate) fn unique_keys<'de, D: Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<i64, i64>, D::Error> {
    struct Unique;
    impl<'de> Visitor<'de> for Unique {
        type Value = BTreeMap<i64, i64>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object of conversation ids to seqs")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some((key, value)) = map.next_entry::<i64, i64>()? {
                if out.insert(key, value).is_some() {
                    return Err(de::Error::custom(format!("conversation {key} is named twice")));
                }
            }
            Ok(out)
        }
    }
    deserializer.deserialize_map(Unique)
}

#[cfg(test)]
mod tests {
    use super::FrameType;

    #[test]
    fn the_raw_value_token_is_an_ordinary_key() {
        let token = "$serde_json::private::RawValue";
        for text in [format!(r#"{{"type":"focus","{token}":null}}"#), format!(r#"{{"{token}":null,"type":"focus"}}"#)] {
            assert_eq!(FrameType::read(&text).ok().flatten(), Some(FrameType::Named("focus".into())), "{text}");
        }
        let steered = format!(r#"{{"type":{{"{token}":"\"ping\""}}}}"#);
        assert_eq!(FrameType::read(&steered).ok().flatten(), Some(FrameType::NotAString));
    }

    #[test]
    fn numbers_must_fit_a_double_even_in_unknown_fields() {
        let text = r#"{"type":"ping","x":4444444444E444444444}"#;
        assert!(serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok(), "a skip does not read it");
        assert!(serde_json::from_str::<super::WellFormed>(text).is_err());
    }

    #[test]
    fn objects_only_and_one_type() {
        assert_eq!(FrameType::read(r#"["ping"]"#).ok(), Some(None));
        assert_eq!(FrameType::read(" 42").ok(), Some(None));
        assert_eq!(FrameType::read(r#"{"content":"x"}"#).ok().flatten(), Some(FrameType::Missing));
        assert!(FrameType::read(r#"{"type":"ping","type":"focus"}"#).is_err());
    }
}
