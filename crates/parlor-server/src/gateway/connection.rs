//! One task per WebSocket: reads client frames, writes events, keeps the connection alive, and
//! guarantees that per conversation the client sees events in order, without gaps or
//! duplicates, by tracking the last event seq it delivered and filling any gap from the log.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::SinkExt;
use parlor_core::{ConversationEvent, ConversationId, EventKind, MessageId, Seq, SessionId, User};
use parlor_protocol::{
    CallInviteFrame, CallSignalFrame, ClientFrame, ErrorCode, PROTOCOL_VERSION, ReadFrame, ResumeFrame, ServerFrame,
};
use parlor_store::ReadUpTo;
use tokio::time::Instant;

use super::heartbeat::{Beat, Heartbeat};
use crate::bus::{ConnectionGuard, Device, Mail, Mailbox, Outbound};
use crate::calls::Action;
use crate::error::{ApiError, ApiResult};
use crate::rate_limit::{Bucket, Key};
use crate::state::AppState;

mod pipeline;
use pipeline::Pipeline;

/// Close codes beyond RFC 6455's: 4008 asks the client to reconnect and resume.
const CLOSE_GOING_AWAY: u16 = 1001;
const CLOSE_TOO_BIG: u16 = 1009;
const CLOSE_SLOW_CONSUMER: u16 = 4008;
/// The user was disabled: do not reconnect.
const CLOSE_ACCOUNT_DISABLED: u16 = 4003;
/// The session the socket was opened with was revoked (a refresh token of it was reused).
const CLOSE_SESSION_ENDED: u16 = 4001;
/// Conversations of a `resume` frame paid for with one token of the sender's `sends` bucket.
const RESUME_PER_TOKEN: usize = 50;
/// How long live events wait for a client's first frame (its `resume`) after connecting.
const RESUME_GRACE: Duration = Duration::from_millis(500);

struct Connection {
    /// Its registration with the hub, undone when it ends.
    _guard: ConnectionGuard,
    socket: WebSocket,
    state: AppState,
    user: User,
    /// Set on `/ws/chat/{id}/`: only this conversation's events pass.
    scope: Option<ConversationId>,
    /// The last event seq delivered per conversation: below it is a duplicate, past it + 1 a gap.
    delivered: HashMap<ConversationId, Seq>,
    /// The first live event seq sent in a conversation the client has not resumed: it never got
    /// the events before it on this connection.
    live_from: HashMap<ConversationId, Seq>,
    /// What was heard and said since the last tick: whether to ping, when to give up.
    heartbeat: Heartbeat,
    /// Events from the hub; also where the conversation the client shows is noted for the
    /// hub's notifications, and how the hub ends the connection at once.
    mailbox: Arc<Mailbox>,
    /// This connection's name in calls (signaling is addressed to devices).
    device: Device,
    /// Calls this device started or answered (a few at most): it leaves them when it closes.
    calls: Vec<String>,
    /// Sends queued for storage whose answers are not written yet, in the order received.
    pipeline: Pipeline,
    /// Frames were fed to the socket's write buffer since the last flush. They go out when the
    /// mailbox is empty (or the buffer fills), so a connection that fell behind writes what
    /// waited in one `write` instead of one per frame.
    unflushed: bool,
}

/// Why the connection loop ended.
enum End {
    ClientGone,
    Close(u16, &'static str),
}

/// Registers the connection with the hub and returns its task, kept small (`../task_size.rs`):
/// an `async fn` would hold its arguments twice; `serve` borrows and names no frame for that.
pub fn run(
    socket: WebSocket,
    state: AppState,
    user: User,
    session: Option<SessionId>,
    scope: Option<ConversationId>,
) -> impl Future<Output = ()> + Send {
    // A socket scoped to one conversation is that conversation's open chat window.
    let (guard, mailbox) = state.hub.register(user.id, session, scope.map_or(0, |s| s.0));
    let device = guard.device();
    let mut conn = Connection {
        device,
        _guard: guard,
        calls: Vec::new(),
        pipeline: Pipeline::default(),
        unflushed: false,
        socket,
        state,
        user,
        scope,
        delivered: HashMap::new(),
        live_from: HashMap::new(),
        heartbeat: Heartbeat::default(),
        mailbox,
    };
    async move { conn.serve().await }
}

impl Connection {
    async fn serve(&mut self) {
        let shutdown = self.state.shutdown.clone();
        let mailbox = self.mailbox.clone();
        let heartbeat = Duration::from_secs(self.state.config.limits.heartbeat_secs);
        tracing::debug!(user_id = %self.user.id, "websocket connected");

        let hello = Utf8Bytes::from(
            ServerFrame::ConnectionEstablished {
                message: "Connected to chat",
                protocol: PROTOCOL_VERSION,
                user_id: self.user.id,
                conversation_id: self.scope,
            }
            .to_json(),
        );
        // One timer: the resume grace, then the heartbeat's ticks.
        let started = Instant::now();
        let (mut live, mut in_grace, timer) = (false, true, tokio::time::sleep_until(started + RESUME_GRACE));
        tokio::pin!(timer);

        // Every await below but the `select!` itself is boxed while it runs: inline, the task
        // would carry the largest of them (a delivery, a frame's handling, the goodbye) for its
        // whole life, and the task is most of what an idle connection costs
        // (docs/benchmarks.md, idle memory).
        let end = if Box::pin(self.send_raw(hello)).await.is_err() {
            End::ClientGone
        } else {
            loop {
                // What was written goes out before waiting, unless more events are about to be
                // taken: they join it in one `write`.
                if self.unflushed
                    && !(live && mailbox.queued() > 0)
                    && let Err(end) = Box::pin(self.flush()).await
                {
                    break end;
                }
                // Backpressure: at the bound of sends in flight, no frame is read until one is
                // answered (`connection/pipeline.rs`).
                let reading = !self.pipeline.is_full(self.state.config.limits.send_queue);
                // In this order: answers before events (a send's ack is ready before its copies
                // are queued, so the sender hears the ack first), and what waits to be written
                // before more is read.
                let step = tokio::select! {
                    biased;
                    _ = shutdown.cancelled() => Err(End::Close(CLOSE_GOING_AWAY, "server shutting down")),
                    () = mailbox.kicked() => Err(if self.state.hub.is_disabled(self.user.id) {
                        End::Close(CLOSE_ACCOUNT_DISABLED, "account disabled")
                    } else {
                        End::Close(CLOSE_SESSION_ENDED, "session ended: sign in again")
                    }),
                    answer = self.pipeline.next() => Box::pin(self.send_raw(answer)).await,
                    mail = mailbox.next(), if live => match mail {
                        Mail::Event(out) => Box::pin(self.deliver(&out)).await,
                        Mail::Dropped => Box::pin(self.dropped()).await,
                    },
                    incoming = self.socket.recv(), if reading => {
                        // The first frame (usually `resume`) is handled before any live event, so
                        // replayed events never arrive after newer live ones.
                        live = true;
                        Box::pin(self.on_incoming(incoming)).await
                    }
                    () = &mut timer => if std::mem::take(&mut in_grace) {
                        // Live events flow now, even to a client that has said nothing yet.
                        live = true;
                        timer.as_mut().reset(started + heartbeat);
                        Ok(())
                    } else {
                        timer.as_mut().reset(Instant::now() + heartbeat);
                        Box::pin(self.heartbeat(heartbeat)).await
                    },
                };
                if let Err(end) = step {
                    break end;
                }
            }
        };
        Box::pin(self.settle_at_end(&end)).await;
        Box::pin(self.finish(end, heartbeat)).await;
        tracing::debug!(user_id = %self.user.id, "websocket closed");
    }

    /// The hub let go of the connection because its queue was full.
    async fn dropped(&mut self) -> Step {
        self.state.metrics.slow_consumer_dropped();
        let frame = ServerFrame::error(ErrorCode::SlowConsumer, "too many undelivered events; reconnect and resume");
        self.send(&frame).await.ok();
        Err(End::Close(CLOSE_SLOW_CONSUMER, "slow consumer: reconnect and resume"))
    }

    /// Leaves this device's calls and says goodbye when there is something to say.
    async fn finish(&mut self, end: End, heartbeat: Duration) {
        if !self.calls.is_empty() {
            // A call goes on without this device, or ends if it was the caller's.
            self.state.calls.device_gone(self.user.id, self.device, &self.calls).await;
        }
        if let End::Close(code, reason) = end {
            let close = CloseFrame { code, reason: Utf8Bytes::from_static(reason) };
            // Bounded: a stalled client must not keep its task alive through the goodbye either.
            tokio::time::timeout(heartbeat, self.socket.send(Message::Close(Some(close)))).await.ok();
        }
    }
}

type Step = Result<(), End>;

/// Frames that write or fan out to others, limited like REST sends (typing reaches every
/// member, a read receipt is a write); `ping` and `focus` cost no one else anything, and
/// `resume` pays by its size in `on_resume`.
fn counts_as_send(frame: &ClientFrame) -> bool {
    !matches!(frame, ClientFrame::Ping | ClientFrame::Resume(_) | ClientFrame::Focus(_))
}

impl Connection {
    async fn on_incoming(&mut self, incoming: Option<Result<Message, axum::Error>>) -> Step {
        self.heartbeat.heard();
        match incoming {
            None | Some(Ok(Message::Close(_))) => Err(End::ClientGone),
            Some(Err(e)) => {
                // tungstenite fails the read when a frame exceeds the hard limit.
                let too_big =
                    e.to_string().to_ascii_lowercase().contains("too long") || e.to_string().contains("Space limit");
                if too_big { Err(End::Close(CLOSE_TOO_BIG, "frame too large")) } else { Err(End::ClientGone) }
            }
            // Boxed, like `fill` below: handling a frame (a send, a resume) is a deep
            // future, and inline it would sit in every idle connection's task (~6 KB of it).
            Some(Ok(Message::Text(text))) => Box::pin(self.on_text(text.as_str())).await,
            Some(Ok(Message::Binary(_))) => {
                self.answer_error(&ApiError::bad_request(
                    ErrorCode::InvalidJson,
                    "binary frames are not supported; send JSON text",
                ))
                .await
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(()),
        }
    }

    async fn on_text(&mut self, text: &str) -> Step {
        let max = self.state.config.limits.max_frame_bytes;
        if text.len() > max {
            self.state.metrics.frame_in(None);
            let e = ApiError::bad_request(
                ErrorCode::FrameTooLarge,
                format!("frame is {} bytes; the limit is {max}", text.len()),
            );
            return self.answer_error(&e).await;
        }
        let frame = match ClientFrame::parse(text) {
            Ok(frame) => frame,
            Err(e) => {
                self.state.metrics.frame_in(None);
                return self.answer(&ServerFrame::error(e.code, e.message)).await;
            }
        };
        self.state.metrics.frame_in(Some(&frame));
        // Refused before any work: a flood costs this task a token check and an error frame
        // per frame, and nothing of it is queued. A refused `chat_message` gets this error as
        // its one answer.
        if counts_as_send(&frame)
            && let Err(e) = self.state.rate_limits.check(Bucket::Sends, Key::User(self.user.id)).await
        {
            return self.answer_error(&e).await;
        }
        let frame = match frame {
            ClientFrame::ChatMessage(f) => return self.on_send(f).await,
            other => other,
        };
        // Not a send: handled once the sends before it are answered (`connection/pipeline.rs`).
        self.settle().await?;
        let outcome = match frame {
            // Taken by `on_send` above.
            ClientFrame::ChatMessage(_) => Ok(()),
            ClientFrame::TypingIndicator(f) => match self.target(f.conversation_id) {
                Ok(id) => self.state.messages.typing(&self.user, id, f.is_typing).await,
                Err(e) => Err(e),
            },
            ClientFrame::MessageRead(f) => self.on_read(f).await,
            ClientFrame::Resume(f) => return self.on_resume(f).await,
            ClientFrame::EditMessage(f) => match self.in_scope(f.message_id).await {
                Ok(()) => self.state.messages.edit(self.user.id, f.message_id, f.content).await,
                Err(e) => Err(e),
            },
            ClientFrame::DeleteMessage(f) => match self.in_scope(f.message_id).await {
                Ok(()) => self.state.messages.delete(self.user.id, f.message_id).await,
                Err(e) => Err(e),
            },
            ClientFrame::React(f) => match self.in_scope(f.message_id).await {
                Ok(()) => self.state.messages.react(&self.user, f.message_id, &f.emoji).await,
                Err(e) => Err(e),
            },
            ClientFrame::Focus(f) => self.on_focus(f.conversation_id).await,
            ClientFrame::CallInvite(f) => self.on_call_invite(f).await,
            ClientFrame::CallRinging(f) => self.on_call(f.call_id, Action::Ringing).await,
            ClientFrame::CallAccept(f) => self.on_call(f.call_id, Action::Accept).await,
            ClientFrame::CallDecline(f) => self.on_call(f.call_id, Action::Decline).await,
            ClientFrame::CallSignal(f) => self.on_call_signal(f).await,
            ClientFrame::CallEnd(f) => self.on_call(f.call_id, Action::End).await,
            ClientFrame::Ping => return self.send(&ServerFrame::Pong).await,
        };
        match outcome {
            Ok(()) => Ok(()),
            Err(e) => self.send_error(&e).await,
        }
    }

    /// Remembers what the client shows; only conversations it belongs to (and, when scoped,
    /// only its own).
    async fn on_focus(&mut self, named: Option<ConversationId>) -> ApiResult<()> {
        let focus = match named.or(self.scope) {
            Some(id) => {
                let id = self.target(Some(id))?;
                self.state.conversations.ensure_member(self.user.id, id).await?;
                id.0
            }
            None => 0,
        };
        self.mailbox.set_focus(focus);
        Ok(())
    }

    /// Starts a call: limited per user by `rate_limits.call_invites` besides the sends bucket.
    async fn on_call_invite(&mut self, f: CallInviteFrame) -> ApiResult<()> {
        let id = self.target(Some(f.conversation_id))?;
        self.state.rate_limits.check(Bucket::CallInvites, Key::User(self.user.id)).await?;
        let call_id = self.state.calls.invite(&self.user, self.device, id, &f.media).await?;
        self.note_call(call_id);
        Ok(())
    }

    async fn on_call(&mut self, call_id: String, action: Action) -> ApiResult<()> {
        let accepting = matches!(action, Action::Accept);
        self.state.calls.act(self.user.id, self.device, &call_id, action).await?;
        if accepting {
            self.note_call(call_id);
        }
        Ok(())
    }

    /// Signals are relayed as they are, so their size is checked here (`calls.max_signal_bytes`).
    async fn on_call_signal(&mut self, f: CallSignalFrame) -> ApiResult<()> {
        let max = self.state.calls.settings().max_signal_bytes;
        if f.data.len() > max {
            let message =
                format!("call_signal data is {} bytes; the limit is {max} (calls.max_signal_bytes)", f.data.len());
            return Err(ApiError::bad_request(ErrorCode::FrameTooLarge, message));
        }
        if !f.data.is_object() {
            return Err(ApiError::bad_request(ErrorCode::InvalidBody, "call_signal data must be a JSON object"));
        }
        self.on_call(f.call_id, Action::Signal { to: f.to, data: f.data }).await
    }

    /// Remembers a call this device is in, so closing leaves it; a device is in a few at most.
    fn note_call(&mut self, call_id: String) {
        const KEPT: usize = 8;
        if !self.calls.contains(&call_id) {
            if self.calls.len() == KEPT {
                self.calls.remove(0);
            }
            self.calls.push(call_id);
        }
    }

    /// On a scoped socket, frames may only touch messages of that conversation.
    async fn in_scope(&mut self, message: MessageId) -> ApiResult<()> {
        let Some(scope) = self.scope else { return Ok(()) };
        let found = self.state.conversations.message(self.user.id, message).await?;
        if found.conversation_id == scope { Ok(()) } else { Err(ApiError::not_found("message")) }
    }

    /// The conversation a frame is for: its own `conversation_id`, or the socket's scope.
    fn target(&self, named: Option<ConversationId>) -> ApiResult<ConversationId> {
        match (named, self.scope) {
            (Some(id), Some(scope)) if id != scope => Err(ApiError::not_found("conversation")),
            (Some(id), _) | (None, Some(id)) => Ok(id),
            (None, None) => {
                Err(ApiError::bad_request(ErrorCode::ConversationRequired, "`conversation_id` is required on /ws/"))
            }
        }
    }

    async fn on_read(&mut self, f: ReadFrame) -> ApiResult<()> {
        let id = self.target(f.conversation_id)?;
        let up_to = if f.message_ids.is_empty() { ReadUpTo::Latest } else { ReadUpTo::Messages(f.message_ids) };
        self.state.receipts.mark_read(self.user.id, id, up_to).await.map(drop)
    }

    /// Replays what the client missed in each named conversation, in order, then `resumed`.
    /// Send `resume` first: events that arrived live before it are not sent twice, but the
    /// replayed ones before them then arrive after them.
    async fn on_resume(&mut self, f: ResumeFrame) -> Step {
        let max = self.state.config.limits.resume_max_conversations;
        let named = f.conversations.len();
        if named > max {
            let e = ApiError::bad_request(
                ErrorCode::ValidationFailed,
                format!(
                    "resume names {named} conversations; the limit is {max} per frame (limits.resume_max_conversations): send several frames"
                ),
            );
            return self.send_error(&e).await;
        }
        // Replaying costs the server a query per conversation: it is paid for from the
        // sender's own `sends` bucket, one token per RESUME_PER_TOKEN conversations.
        let cost = named.div_ceil(RESUME_PER_TOKEN).max(1);
        if let Err(e) = self.state.rate_limits.check_n(Bucket::Sends, Key::User(self.user.id), cost).await {
            return self.send_error(&e).await;
        }
        let mut replayed = 0;
        for (id, after) in f.conversations {
            let (id, after) = (ConversationId(id), Seq(after.max(0)));
            if self.scope.is_some_and(|s| s != id) {
                continue;
            }
            match self.state.conversations.missed_events(self.user.id, id, after).await {
                Ok(Some(events)) => {
                    let live_from = self.live_from.remove(&id);
                    let seen = self.delivered.get(&id).copied();
                    for event in &events {
                        let already_sent = match (live_from, seen) {
                            (Some(first), Some(last)) => event.seq >= first && event.seq <= last,
                            (None, Some(last)) => event.seq <= last,
                            _ => false,
                        };
                        if !already_sent {
                            self.send_logged(event).await?;
                            replayed += 1;
                        }
                    }
                    let newest = events.last().map_or(after, |e| e.seq).max(after);
                    let last = self.delivered.entry(id).or_insert(newest);
                    *last = (*last).max(newest);
                }
                Ok(None) => {
                    let latest = match self.state.conversations.last_event_seq(self.user.id, id).await {
                        Ok(latest) => latest,
                        Err(e) => return self.send_error(&e).await,
                    };
                    self.live_from.remove(&id);
                    let last = self.delivered.entry(id).or_insert(latest);
                    *last = (*last).max(latest);
                    self.send(&ServerFrame::ResyncRequired { conversation_id: id, latest_seq: latest }).await?;
                }
                Err(e) => self.send_error(&e).await?,
            }
        }
        self.send(&ServerFrame::Resumed { replayed }).await
    }

    /// Sends a live event unless it is a duplicate, first filling any gap before it.
    async fn deliver(&mut self, out: &Arc<Outbound>) -> Step {
        if out.personal {
            if !out.device.admits(self.device) {
                return Ok(());
            }
            return self.send_raw(out.frame.clone()).await;
        }
        if self.scope.is_some_and(|s| s != out.conversation_id) {
            return Ok(());
        }
        let Some(seq) = out.seq else {
            return self.send_raw(out.frame.clone()).await;
        };
        let id = out.conversation_id;
        match self.delivered.get(&id).copied() {
            // Publishing is not ordered across concurrent writers, so an event can arrive after
            // the first one this connection saw in its conversation. Nothing below that first
            // one was ever sent here: it is new, not a duplicate. The events between it and
            // that first one are sent right after it, from the log: their own copies may still
            // be on the way, and would then count as duplicates (below the first, above this).
            Some(seen) if seq <= seen => match self.live_from.get_mut(&id) {
                Some(first) if seq < *first => {
                    let before = std::mem::replace(first, seq);
                    self.send_raw(out.frame.clone()).await?;
                    if let Some(message_seq) = out.message_seq {
                        self.received(id, message_seq);
                        self.state.metrics.delivered(out.published);
                    }
                    if seq.next() < before {
                        return Box::pin(self.fill(id, seq, before)).await;
                    }
                    return Ok(());
                }
                _ => return Ok(()),
            },
            Some(seen) if seq > seen.next() => Box::pin(self.fill(id, seen, seq)).await?,
            Some(_) => {}
            None => {
                self.live_from.insert(id, seq);
            }
        }
        self.send_raw(out.frame.clone()).await?;
        self.delivered.insert(id, seq);
        if let Some(message_seq) = out.message_seq {
            self.received(id, message_seq);
            self.state.metrics.delivered(out.published);
        }
        Ok(())
    }

    /// Notes that a message reached this device; the node writes receipts in batches.
    fn received(&mut self, id: ConversationId, message_seq: Seq) {
        self.state.delivery_receipts.note_delivered(self.user.id, id, message_seq);
    }

    /// Sends the logged events strictly between `after` and `before`: a gap above what the client
    /// has, or the events below the first live one of a conversation that a lower one overtook
    /// (see `deliver`). When the log cannot give them all, says so with `resync_required`, never
    /// leaving a silent hole.
    async fn fill(&mut self, id: ConversationId, after: Seq, before: Seq) -> Step {
        let seen = self.delivered.get(&id).copied().unwrap_or(Seq::ZERO);
        match self.state.conversations.events_between(self.user.id, id, after, before).await {
            Ok(Some(events)) if events.len() as i64 == before.0 - after.0 - 1 => {
                for event in &events {
                    self.send_logged(event).await?;
                }
                self.delivered.insert(id, seen.max(Seq(before.0 - 1)));
                Ok(())
            }
            outcome => {
                if let Err(e) = &outcome {
                    tracing::warn!(user_id = %self.user.id, conversation_id = %id, error = %e.message, "could not fill event gap");
                }
                let latest = seen.max(Seq(before.0 - 1));
                self.delivered.insert(id, latest);
                self.live_from.remove(&id);
                self.send(&ServerFrame::ResyncRequired { conversation_id: id, latest_seq: latest }).await
            }
        }
    }

    /// Sends an event from the log, noting delivery when it carries a message.
    async fn send_logged(&mut self, event: &ConversationEvent) -> Step {
        self.send(&ServerFrame::from_event(event)).await?;
        if let EventKind::MessageCreated(m) = &event.kind {
            self.received(event.conversation_id, m.seq);
        }
        Ok(())
    }

    /// A tick: a ping unless the socket was busy both ways since the last one (`heartbeat.rs`).
    async fn heartbeat(&mut self, interval: Duration) -> Step {
        match self.heartbeat.tick(!self.pipeline.is_full(self.state.config.limits.send_queue)) {
            Beat::Quiet => Ok(()),
            Beat::Ping => {
                match tokio::time::timeout(interval, self.socket.send(Message::Ping(Default::default()))).await {
                    Ok(Ok(())) => Ok(()),
                    _ => Err(End::ClientGone),
                }
            }
            Beat::Dead => {
                tracing::debug!(user_id = %self.user.id, "websocket silent too long; closing");
                Err(End::ClientGone)
            }
        }
    }

    async fn send_error(&mut self, e: &ApiError) -> Step {
        self.send(&e.to_frame()).await
    }

    async fn send(&mut self, frame: &ServerFrame) -> Step {
        self.send_raw(Utf8Bytes::from(frame.to_json())).await
    }

    /// Queues a frame in the socket's write buffer; the loop flushes once nothing else waits.
    /// A client that does not read for a whole heartbeat interval is gone: its task must not
    /// sit on a blocked write forever.
    async fn send_raw(&mut self, frame: Utf8Bytes) -> Step {
        let limit = Duration::from_secs(self.state.config.limits.heartbeat_secs);
        match tokio::time::timeout(limit, self.socket.feed(Message::Text(frame))).await {
            Ok(Ok(())) => {
                self.state.metrics.frame_out();
                self.heartbeat.said();
                self.unflushed = true;
                Ok(())
            }
            Ok(Err(_)) | Err(_) => Err(End::ClientGone),
        }
    }

    /// Writes what the buffer gathered, bounded like a send.
    async fn flush(&mut self) -> Step {
        let limit = Duration::from_secs(self.state.config.limits.heartbeat_secs);
        match tokio::time::timeout(limit, SinkExt::flush(&mut self.socket)).await {
            Ok(Ok(())) => {
                self.unflushed = false;
                Ok(())
            }
            Ok(Err(_)) | Err(_) => Err(End::ClientGone),
        }
    }
}
