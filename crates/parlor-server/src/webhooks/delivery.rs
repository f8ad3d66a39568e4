//! One delivery attempt: POST the payload with its event, delivery id and signature headers,
//! and say what came of it. The request goes through the outbound guard ([`Outbound`]): an
//! endpoint whose address is not allowed (any more) is a failed attempt, and so is a 3xx, since
//! redirects are not followed; both show up in the delivery log.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_client::header::CONTENT_TYPE;
use parlor_core::{EventType, OutboxId, Timestamp, Webhook};

use super::signing::signature_header;
use crate::outbound::Outbound;

/// Response bytes read (and dropped) so the connection can serve the next delivery.
const DRAIN_MAX: usize = 64 * 1024;

pub(super) struct Outcome {
    /// The HTTP status, when the endpoint answered.
    pub status: Option<u16>,
    /// Why it did not.
    pub error: Option<String>,
    pub took: Duration,
}

pub(super) async fn post(
    client: &Outbound,
    hook: &Webhook,
    id: OutboxId,
    event_type: EventType,
    body: Bytes,
) -> Outcome {
    let started = Instant::now();
    let target = match client.target(hook.url.as_str()) {
        Ok(target) => target,
        Err(refused) => {
            return Outcome { status: None, error: Some(format!("refused: {refused}")), took: started.elapsed() };
        }
    };
    // Signed afresh for every attempt: receivers refuse stale timestamps.
    let signature = signature_header(hook.secret.as_str(), Timestamp::now().as_secs(), &body);
    let request = client
        .post(&target)
        .header(CONTENT_TYPE, "application/json")
        .header("x-parlor-event", event_type.as_str())
        .header("x-parlor-delivery", id.to_string())
        .header("x-parlor-signature", signature)
        .body(body);
    let (status, error) = match request.send().await {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let mut read = 0;
            while read < DRAIN_MAX {
                match response.chunk().await {
                    Ok(Some(chunk)) => read += chunk.len(),
                    _ => break,
                }
            }
            (Some(status), None)
        }
        Err(e) => (None, Some(describe(&e))),
    };
    Outcome { status, error, took: started.elapsed() }
}

/// A short reason for the delivery log, without the URL (which may carry credentials).
fn describe(e: &http_client::Error) -> String {
    if e.is_timeout() {
        return "timeout".to_owned();
    }
    if e.is_builder() {
        return "invalid url".to_owned();
    }
    let mut cause: &dyn std::error::Error = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    let what = if e.is_connect() { "connection failed" } else { "request failed" };
    format!("{what}: {cause}")
}
