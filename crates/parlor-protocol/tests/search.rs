//! Snapshot tests of search results on the wire: a hit's shape, and a highlight that is safe to
//! insert as HTML whatever the message says.

use parlor_core::{ConversationId, Message, MessageHit, MessageId, MessageKind, Seq, Timestamp, UserId};
use parlor_protocol::{MessageHitView, highlight_html};
use serde_json::json;

fn hit(content: &str, snippet: &str) -> MessageHit {
    let message = Message {
        id: MessageId(31),
        conversation_id: ConversationId(7),
        seq: Seq(12),
        sender_id: UserId(2),
        sender_name: "Bob".into(),
        sender_avatar: None,
        content: content.into(),
        reply_to: None,
        client_id: None,
        created_at: Timestamp::from_millis(1_761_386_400_000),
        kind: MessageKind::Text,
        edited_at: None,
        deleted_at: None,
        forwarded: false,
        reactions: Vec::new(),
        attachment: None,
    };
    MessageHit { message, snippet: snippet.into() }
}

#[test]
fn a_hit_is_the_message_its_conversation_and_a_highlight() {
    let found = hit("Fix the kitchen sink", "Fix the \u{2}kitchen\u{3} sink");
    let view = serde_json::to_value(MessageHitView::from(&found)).unwrap_or_default();
    assert_eq!(view["conversation_id"], 7);
    assert_eq!(view["highlight"], "Fix the <mark>kitchen</mark> sink");
    assert_eq!(
        view["message"],
        json!({"id": 31, "conversation_id": 7, "seq": 12, "sender_id": 2, "sender_name": "Bob",
               "sender_avatar": null, "content": "Fix the kitchen sink", "created_at": "2025-10-25T10:00:00.000Z",
               "kind": "text", "attachment": null, "preview": "Fix the kitchen sink", "reply_to": null,
               "client_id": null, "edited_at": null, "deleted": false, "forwarded": false, "reactions": []}),
        "the message is exactly what history shows"
    );
}

#[test]
fn highlights_escape_everything_but_their_own_marks() {
    let found =
        hit(r#"<script>alert("x")</script> & 'co'"#, "<\u{2}script\u{3}>alert(\"x\")</\u{2}script\u{3}> & 'co'");
    assert_eq!(
        highlight_html(&found),
        "&lt;<mark>script</mark>&gt;alert(&quot;x&quot;)&lt;/<mark>script</mark>&gt; &amp; &#39;co&#39;"
    );
    let forged = hit("a \u{2}fake\u{3} mark", "a \u{2}fake\u{3} \u{2}mark\u{3}");
    assert_eq!(highlight_html(&forged), "a fake mark", "a sender cannot forge marks: none are shown");
}
