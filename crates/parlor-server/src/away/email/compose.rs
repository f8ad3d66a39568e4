//! Composing a mail about a conversation: subject, a plain-text part and an HTML part (all
//! user-written text escaped), the link to the conversation, and the one-click unsubscribe
//! headers of RFC 8058.

use lettre::Message;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use parlor_core::NotificationKind;

/// What a mail is about: the conversation and its unread notifications that no mail covered.
pub struct About<'a> {
    /// A room's title; `None` for a direct conversation.
    pub room: Option<&'a str>,
    /// The notifications, newest first.
    pub notes: &'a [Note],
}

/// One notification as the mail tells it.
pub struct Note {
    pub kind: NotificationKind,
    pub actor: String,
    /// How many messages it stands for.
    pub count: i64,
    /// The newest message's text; empty: "New message".
    pub preview: String,
}

/// The links a mail carries.
pub struct Links {
    pub conversation: String,
    pub unsubscribe: String,
}

/// The mail, ready to send.
pub fn compose(from: &Mailbox, to: Mailbox, about: &About<'_>, links: &Links) -> Result<Message, lettre::error::Error> {
    let subject = subject(about);
    let text = text(about, links);
    let html = html(&subject, about, links);
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(one_line(&subject))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe"),
            format!("<{}>", links.unsubscribe),
        ))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
            "List-Unsubscribe=One-Click".to_owned(),
        ))
        // Tells auto-responders (out of office) not to answer.
        .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("Auto-Submitted"), "auto-generated".to_owned()))
        .multipart(MultiPart::alternative_plain_html(text, html))
}

/// Messages the notes stand for.
fn message_count(about: &About<'_>) -> i64 {
    about.notes.iter().map(|n| n.count.max(1)).sum()
}

/// "alice mentioned you in Team", "3 new messages from alice", "New message in Team"...
fn subject(about: &About<'_>) -> String {
    let newest = about.notes.first().map_or("Someone", |n| n.actor.as_str());
    if let Some(mention) = about.notes.iter().find(|n| n.kind == NotificationKind::Mention) {
        return match about.room {
            Some(room) => format!("{} mentioned you in {room}", mention.actor),
            None => format!("{} mentioned you", mention.actor),
        };
    }
    let count = message_count(about);
    let messages = if count == 1 { "New message".to_owned() } else { format!("{count} new messages") };
    match about.room {
        Some(room) => format!("{messages} in {room}"),
        None => format!("{messages} from {newest}"),
    }
}

/// A header value on one line: names and titles are checked where they are set, this is the
/// second lock on header injection.
fn one_line(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

fn preview(note: &Note) -> &str {
    if note.preview.is_empty() { "New message" } else { &note.preview }
}

fn text(about: &About<'_>, links: &Links) -> String {
    let mut body = String::new();
    for note in about.notes {
        let what = if note.kind == NotificationKind::Mention { "mentioned you" } else { "wrote" };
        let more = if note.count > 1 { format!(" ({} messages)", note.count) } else { String::new() };
        body.push_str(&format!("{} {what}{more}:\n  {}\n\n", note.actor, preview(note).replace('\n', "\n  ")));
    }
    body.push_str(&format!("Open the conversation: {}\n\n", links.conversation));
    body.push_str(&format!(
        "-- \nYou get this because you had not read it yet. Turn these emails off in parlor's \
         notification settings, or here: {}\n",
        links.unsubscribe
    ));
    body
}

fn html(subject: &str, about: &About<'_>, links: &Links) -> String {
    let text = |s: &str| html_escape::encode_text(s).into_owned();
    let attr = |s: &str| html_escape::encode_double_quoted_attribute(s).into_owned();
    let mut notes = String::new();
    for note in about.notes {
        let what = if note.kind == NotificationKind::Mention { "mentioned you" } else { "wrote" };
        let more = if note.count > 1 { format!(" ({} messages)", note.count) } else { String::new() };
        notes.push_str(&format!(
            "<p style=\"margin:0 0 4px\"><strong>{}</strong> {what}{more}:</p>\n\
             <blockquote style=\"margin:0 0 16px;padding:8px 12px;border-left:3px solid #ccc;white-space:pre-wrap\">{}</blockquote>\n",
            text(&note.actor),
            text(preview(note)),
        ));
    }
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\n\
         <body style=\"font-family:sans-serif;line-height:1.4\">\n{notes}\
         <p><a href=\"{conversation}\">Open the conversation</a></p>\n\
         <p style=\"color:#666;font-size:small\">You get this because you had not read it yet. \
         <a href=\"{unsubscribe}\">Turn these emails off</a>.</p>\n</body></html>\n",
        title = text(subject),
        conversation = attr(&links.conversation),
        unsubscribe = attr(&links.unsubscribe),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(kind: NotificationKind, actor: &str, count: i64, preview: &str) -> Note {
        Note { kind, actor: actor.into(), count, preview: preview.into() }
    }

    #[test]
    fn subjects_name_the_sender_or_the_room() {
        let one = [note(NotificationKind::Message, "alice", 1, "hi")];
        let three = [note(NotificationKind::Message, "alice", 3, "hi")];
        let mention =
            [note(NotificationKind::Message, "alice", 1, "hi"), note(NotificationKind::Mention, "carol", 1, "@bob")];
        assert_eq!(subject(&About { room: None, notes: &one }), "New message from alice");
        assert_eq!(subject(&About { room: None, notes: &three }), "3 new messages from alice");
        assert_eq!(subject(&About { room: Some("Team"), notes: &three }), "3 new messages in Team");
        assert_eq!(subject(&About { room: Some("Team"), notes: &mention }), "carol mentioned you in Team");
    }

    #[test]
    fn html_escapes_what_people_wrote() {
        let notes = [note(NotificationKind::Message, "<b>al</b>", 1, "<script>x</script> & \"q\"")];
        let links = Links {
            conversation: "https://c.example/#/c/1".into(),
            unsubscribe: "https://c.example/u?token=1.a\"b".into(),
        };
        let html = html("s<", &About { room: None, notes: &notes }, &links);
        assert!(!html.contains("<script>") && !html.contains("<b>al"), "{html}");
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt; &amp; \"q\""), "{html}");
        assert!(html.contains("token=1.a&quot;b"), "{html}");
    }
}
