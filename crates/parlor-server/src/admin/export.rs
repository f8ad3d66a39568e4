//! `parlor admin export`: a conversation, its members and every message, fetched page by page
//! from the server API and written out as each page arrives, as JSON or as a self-contained
//! HTML transcript. Nothing holds the whole conversation in memory.

use std::io::Write;

use anyhow::Context;
use html_escape::encode_text as esc;
use serde::Deserialize;
use serde_json::Value;

use super::client::ServerApi;

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Format {
    Json,
    Html,
}

/// One page of `GET /api/server/conversations/{id}/messages`.
#[derive(Deserialize)]
struct Page {
    results: Vec<Value>,
    next_cursor: Option<i64>,
    has_more: bool,
}

/// Writes the export to `out`; returns how many messages it holds.
pub async fn export(api: &ServerApi, id: i64, format: Format, out: &mut dyn Write) -> anyhow::Result<u64> {
    let mut conversation: Value = api.get(&format!("/api/server/conversations/{id}")).await?;
    let members = conversation.as_object_mut().and_then(|c| c.remove("members")).unwrap_or(Value::Array(Vec::new()));
    let mut writer: Box<dyn Sink + '_> = match format {
        Format::Json => Box::new(JsonSink { out, first: true }),
        Format::Html => Box::new(HtmlSink { out }),
    };
    writer.start(&conversation, &members)?;
    let (mut after, mut count) = (0, 0u64);
    loop {
        let page: Page = api.get(&format!("/api/server/conversations/{id}/messages?after={after}")).await?;
        for message in &page.results {
            writer.message(message)?;
            count += 1;
        }
        match page.next_cursor {
            Some(next) if page.has_more => after = next,
            _ => break,
        }
    }
    writer.finish(count)?;
    Ok(count)
}

trait Sink {
    fn start(&mut self, conversation: &Value, members: &Value) -> anyhow::Result<()>;
    fn message(&mut self, message: &Value) -> anyhow::Result<()>;
    fn finish(&mut self, count: u64) -> anyhow::Result<()>;
}

/// `{"conversation": {...}, "members": [...], "messages": [...]}`, messages oldest first, each
/// exactly as the server API shows it.
struct JsonSink<'a> {
    out: &'a mut dyn Write,
    first: bool,
}

impl Sink for JsonSink<'_> {
    fn start(&mut self, conversation: &Value, members: &Value) -> anyhow::Result<()> {
        write!(self.out, "{{\n\"conversation\": {},\n\"members\": {},\n\"messages\": [", conversation, members)?;
        Ok(())
    }

    fn message(&mut self, message: &Value) -> anyhow::Result<()> {
        let separator = if std::mem::take(&mut self.first) { "\n" } else { ",\n" };
        write!(self.out, "{separator}{message}")?;
        Ok(())
    }

    fn finish(&mut self, _: u64) -> anyhow::Result<()> {
        writeln!(self.out, "\n]\n}}")?;
        self.out.flush().context("writing the export")
    }
}

/// A page a person can read offline: styles inline, no scripts, no remote resources, and every
/// piece of user text escaped.
struct HtmlSink<'a> {
    out: &'a mut dyn Write,
}

const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}\
h1{font-size:1.4rem;margin:0 0 .3rem}.meta,.time,.note{color:#6e6e73;font-size:.85rem}\
.members{margin:.5rem 0 1.5rem;padding:0;list-style:none;display:flex;flex-wrap:wrap;gap:.3rem .9rem}\
.msg{padding:.45rem 0;border-top:1px solid #ececf0}.who{font-weight:600;margin-right:.5rem}\
.text{white-space:pre-wrap;overflow-wrap:anywhere;margin-top:.15rem}.system{color:#6e6e73;font-style:italic}\
.reply{border-left:3px solid #d0d0d6;padding-left:.5rem;color:#6e6e73;font-size:.9rem}\
.file{margin-top:.2rem;font-size:.9rem}";

impl Sink for HtmlSink<'_> {
    fn start(&mut self, conversation: &Value, members: &Value) -> anyhow::Result<()> {
        let title = title_of(conversation, members);
        writeln!(
            self.out,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{}</title><style>{STYLE}</style></head><body>",
            esc(&title)
        )?;
        writeln!(self.out, "<h1>{}</h1>", esc(&title))?;
        let kind = text(conversation, "kind");
        let created = text(conversation, "created_at");
        let mut meta = format!("Conversation {} · {kind} · created {created}", conversation["id"]);
        if let Some(context) = conversation["context"].as_object() {
            let (kind, id) = (context.get("type"), context.get("id"));
            meta.push_str(&format!(" · about {} {}", str_of(kind), str_of(id)));
        }
        if conversation["archived_at"].is_string() {
            meta.push_str(" · archived");
        }
        writeln!(self.out, "<p class=\"meta\">{}</p>\n<ul class=\"members\">", esc(&meta))?;
        for member in members.as_array().into_iter().flatten() {
            let handle = member["username"].as_str().map(|u| format!(" (@{u})")).unwrap_or_default();
            let line = format!("{}{handle}, {}", text(member, "name"), text(member, "role"));
            writeln!(self.out, "<li>{}</li>", esc(&line))?;
        }
        writeln!(self.out, "</ul>\n<main>")?;
        Ok(())
    }

    fn message(&mut self, m: &Value) -> anyhow::Result<()> {
        let system = m["kind"] == "system";
        writeln!(
            self.out,
            "<div class=\"msg{}\" id=\"m{}\"><span class=\"who\">{}</span><span class=\"time\">{}</span>",
            if system { " system" } else { "" },
            m["seq"],
            esc(text(m, "sender_name")),
            esc(text(m, "created_at")),
        )?;
        if let Some(reply) = m["reply_to"].as_object() {
            let quoted = if reply.get("deleted") == Some(&Value::Bool(true)) {
                "message deleted".to_owned()
            } else {
                str_of(reply.get("content")).chars().take(200).collect()
            };
            let line = format!("↪ {}: {quoted}", str_of(reply.get("sender_name")));
            writeln!(self.out, "<div class=\"reply\">{}</div>", esc(&line))?;
        }
        if m["deleted"] == true {
            writeln!(self.out, "<div class=\"text note\">Message deleted</div>")?;
        } else if system {
            let action = m["system"]["action"].as_str().unwrap_or("notice").replace('_', " ");
            let content = text(m, "content");
            let line = if content.is_empty() { action } else { format!("{action}: {content}") };
            writeln!(self.out, "<div class=\"text\">{}</div>", esc(&line))?;
        } else if !text(m, "content").is_empty() {
            writeln!(self.out, "<div class=\"text\">{}</div>", esc(text(m, "content")))?;
        }
        if let Some(file) = m["attachment"].as_object() {
            let size = file.get("size").and_then(Value::as_u64).unwrap_or(0);
            let gone = if file.get("expired") == Some(&Value::Bool(true)) { ", expired" } else { "" };
            let line = format!(
                "📎 {} ({}, {}{gone})",
                str_of(file.get("name")),
                bytes(size),
                str_of(file.get("content_type"))
            );
            writeln!(self.out, "<div class=\"file\">{}</div>", esc(&line))?;
        }
        let mut notes = Vec::new();
        if m["edited_at"].is_string() {
            notes.push("edited".to_owned());
        }
        if m["forwarded"] == true {
            notes.push("forwarded".to_owned());
        }
        for reaction in m["reactions"].as_array().into_iter().flatten() {
            notes.push(format!("{} {}", text(reaction, "emoji"), reaction["count"]));
        }
        if !notes.is_empty() {
            writeln!(self.out, "<div class=\"note\">{}</div>", esc(&notes.join(" · ")))?;
        }
        writeln!(self.out, "</div>")?;
        Ok(())
    }

    fn finish(&mut self, count: u64) -> anyhow::Result<()> {
        writeln!(self.out, "</main>\n<p class=\"meta\">{count} messages.</p>\n</body></html>")?;
        self.out.flush().context("writing the export")
    }
}

/// The room's title, or for a direct conversation the two names.
fn title_of(conversation: &Value, members: &Value) -> String {
    if let Some(title) = conversation["title"].as_str() {
        return title.to_owned();
    }
    let names: Vec<&str> = members.as_array().into_iter().flatten().filter_map(|m| m["name"].as_str()).collect();
    if names.is_empty() { format!("Conversation {}", conversation["id"]) } else { names.join(" and ") }
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or("")
}

fn str_of(v: Option<&Value>) -> &str {
    v.and_then(Value::as_str).unwrap_or("")
}

/// `1.2 MB`, `340 KB`, `12 bytes`.
fn bytes(n: u64) -> String {
    match n {
        0..1_000 => format!("{n} bytes"),
        1_000..1_000_000 => format!("{:.0} KB", n as f64 / 1e3),
        _ => format!("{:.1} MB", n as f64 / 1e6),
    }
}
