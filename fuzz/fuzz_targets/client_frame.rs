//! Fuzzes `ClientFrame::parse`, which every WebSocket text frame goes through: it never panics,
//! and what it accepts is a JSON object whose `type` names the frame it became, parsed the same
//! way again from its re-serialised JSON with every object's keys sorted (the parse depends on
//! the JSON, not on its spelling or key order).
//!
//! Numbers are parsed exactly (serde_json's `float_roundtrip`): its default parse may land one
//! unit off, so a number printed and read again would not mean the same (a CI run's finding,
//! kept as the seed `call_signal_float_spelling.json`).
//!
//! The oracle reads the text into its own tree, not `serde_json::Value`: with serde_json's
//! `raw_value` feature on, `Value` gives an object whose first key is serde_json's private token
//! another meaning (issue #16), which is the very dependence on spelling this target looks for.

#![no_main]

use std::fmt;

use libfuzzer_sys::fuzz_target;
use parlor_protocol::ClientFrame;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};

fuzz_target!(|text: &str| {
    let Ok(frame) = ClientFrame::parse(text) else { return };
    let tree: Json = serde_json::from_str(text).expect("an accepted frame is JSON");
    let Json::Object(entries) = &tree else { panic!("an accepted frame is an object") };
    let kind = entries.iter().find(|(k, _)| k == "type").map(|(_, v)| v);
    let Some(Json::String(kind)) = kind else { panic!("an accepted frame has a string type") };
    let expected = match &frame {
        ClientFrame::ChatMessage(_) => "chat_message",
        ClientFrame::TypingIndicator(_) => "typing_indicator",
        ClientFrame::MessageRead(_) => "message_read",
        ClientFrame::Resume(_) => "resume",
        ClientFrame::EditMessage(_) => "edit_message",
        ClientFrame::DeleteMessage(_) => "delete_message",
        ClientFrame::React(_) => "react",
        ClientFrame::Focus(_) => "focus",
        ClientFrame::Ping => "ping",
        ClientFrame::CallInvite(_) => "call_invite",
        ClientFrame::CallRinging(_) => "call_ringing",
        ClientFrame::CallAccept(_) => "call_accept",
        ClientFrame::CallDecline(_) => "call_decline",
        ClientFrame::CallSignal(_) => "call_signal",
        ClientFrame::CallEnd(_) => "call_end",
    };
    assert_eq!(kind, expected, "the frame is the one its type names");
    let respelled = serde_json::to_string(&tree.sorted()).expect("a tree serializes");
    let again = ClientFrame::parse(&respelled);
    match (&frame, &again) {
        // A signal's `data` is relayed as written (raw JSON), so only its meaning must match.
        (ClientFrame::CallSignal(a), Ok(ClientFrame::CallSignal(b))) => {
            assert_eq!((&a.call_id, &a.to), (&b.call_id, &b.to), "re-serialised, the signal parses the same");
            assert_eq!(normal(a.data.0.get()), normal(b.data.0.get()), "and its data means the same");
        }
        _ => assert_eq!(again, Ok(frame), "re-serialised, the frame parses the same"),
    }
});

/// JSON text with every object's keys sorted, to compare meanings.
fn normal(text: &str) -> String {
    let tree: Json = serde_json::from_str(text).expect("relayed data is JSON");
    serde_json::to_string(&tree.sorted()).expect("a tree serializes")
}

/// JSON as written: objects keep every entry, duplicates included, in order.
enum Json {
    Null,
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Every object's keys sorted (stably, so duplicates keep their order).
    fn sorted(self) -> Json {
        match self {
            Json::Array(items) => Json::Array(items.into_iter().map(Json::sorted).collect()),
            Json::Object(entries) => {
                let mut entries: Vec<_> = entries.into_iter().map(|(k, v)| (k, v.sorted())).collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                Json::Object(entries)
            }
            other => other,
        }
    }
}

impl<'de> de::Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Json, E> {
        Ok(Json::I64(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Json, E> {
        Ok(Json::U64(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
        Ok(Json::F64(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry::<String, Json>()? {
            entries.push(entry);
        }
        Ok(Json::Object(entries))
    }
}

impl serde::Serialize for Json {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => s.serialize_unit(),
            Json::Bool(v) => s.serialize_bool(*v),
            Json::I64(v) => s.serialize_i64(*v),
            Json::U64(v) => s.serialize_u64(*v),
            Json::F64(v) => s.serialize_f64(*v),
            Json::String(v) => s.serialize_str(v),
            Json::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Json::Object(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}
