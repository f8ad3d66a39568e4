//! Fuzzes `ClientFrame::parse`, which every WebSocket text frame goes through: it never panics,
//! and what it accepts is a JSON object whose `type` names the frame it became, parsed the same
//! way again from its re-serialised JSON (the parse depends on the JSON, not on its spelling).

#![no_main]

use libfuzzer_sys::fuzz_target;
use parlor_protocol::ClientFrame;

fuzz_target!(|text: &str| {
    let Ok(frame) = ClientFrame::parse(text) else { return };
    let value: serde_json::Value = serde_json::from_str(text).expect("an accepted frame is JSON");
    let kind = value.get("type").and_then(|t| t.as_str()).expect("an accepted frame has a string type");
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
    };
    assert_eq!(kind, expected, "the frame is the one its type names");
    assert_eq!(ClientFrame::parse(&value.to_string()), Ok(frame), "re-serialised, the frame parses the same");
});
