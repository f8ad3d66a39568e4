//! Voice and video calls (docs/calls.md): the server's side of signaling on the unified
//! socket. A call is run by one node, the one its caller's device is connected to; its id
//! starts with that node's number, so a frame about it arriving elsewhere is handed to that
//! node through the bus (`Body::Call`), and what the call says to devices goes to whichever
//! node holds them (`Hub::send_to_devices`). Media never passes through parlor: devices talk
//! peer to peer (a full mesh), with the ICE servers of `ice.rs`.
//!
//! The state machine (`call.rs` holds one call): an invite rings every device of each callee
//! (`call_incoming`) for `calls.ring_timeout_secs`; the first device of a callee to accept is
//! that user's device in the call and the others stop ringing (`answered_elsewhere`); signals
//! go only to the participant device they name. A call ends when nobody answered in time
//! (`missed`), every callee declined (`declined`), the callee was in another call (`busy`),
//! fewer than two remain (`hangup`), or the caller's device went away (`caller_gone`); then
//! the caller writes its one message (kind `call`) in the conversation.
//!
//! **Invariant:** signaling frames are relayed, never stored, and only between the devices in
//! one call; a user who may not call in a conversation gets the same 404 as for a missing one.

mod call;
pub mod ice;
mod settings;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;
use parlor_core::{CallMedia, CallOutcome, CallRecord, ConversationId, User, UserId};
use parlor_protocol::{ErrorCode, ServerFrame, SignalData};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::away::{Away, Ring};
use crate::bus::{Device, DeviceFilter, Hub};
use crate::error::{ApiError, ApiResult, Kind};
use crate::service::{Conversations, Messages, Reach};
use call::{Call, Participant};
pub use settings::CallSettings;

/// Control messages from other nodes waiting to be handled here; beyond it they are dropped
/// (the sender's device hears nothing and may try again).
const INBOX: usize = 1024;

/// What a device says about a call it knows the id of.
#[derive(Debug, Serialize, Deserialize)]
pub enum Action {
    Ringing,
    Accept,
    Decline,
    Signal {
        to: String,
        data: SignalData,
    },
    End,
    /// The device's socket closed.
    Gone,
}

/// An action handed to the node running the call.
#[derive(Debug, Serialize, Deserialize)]
struct Routed {
    call_id: String,
    user: UserId,
    device: Device,
    action: Action,
}

#[derive(Clone)]
pub struct Calls {
    inner: Arc<Inner>,
}

struct Inner {
    /// This node's number, the first half of every call id it runs.
    node: u64,
    settings: CallSettings,
    /// Who may call in a conversation.
    conversations: Conversations,
    /// In a room, a call does not ring across a block.
    reach: Reach,
    /// The call's message, written when it ends.
    messages: Messages,
    hub: Hub,
    /// Rings callees with no open connection through Web Push.
    away: Away,
    /// Calls this node runs, by id.
    live: Mutex<HashMap<String, Call>>,
    /// Who is in a call this node runs (busy for any other), and which.
    engaged: Mutex<HashMap<UserId, String>>,
    shutdown: CancellationToken,
}

/// Frames to send once the registry's lock is released, and a call that ended.
#[derive(Default)]
struct Effects {
    frames: Vec<(UserId, DeviceFilter, ServerFrame)>,
    ended: Option<(ConversationId, UserId, CallRecord)>,
}

impl Calls {
    pub fn new(
        settings: CallSettings,
        conversations: Conversations,
        reach: Reach,
        messages: Messages,
        hub: Hub,
        away: Away,
        shutdown: CancellationToken,
    ) -> Self {
        let inner = Inner {
            node: rand::random::<u64>() >> 1,
            settings,
            conversations,
            reach,
            messages,
            hub,
            away,
            live: Mutex::default(),
            engaged: Mutex::default(),
            shutdown,
        };
        Calls { inner: Arc::new(inner) }
    }

    /// Handles what other nodes hand to this one until shutdown (only with `redis_url`).
    pub async fn run(self) {
        let (tx, mut rx) = mpsc::channel::<Utf8Bytes>(INBOX);
        self.inner.hub.set_call_inbox(tx);
        loop {
            tokio::select! {
                _ = self.inner.shutdown.cancelled() => break,
                next = rx.recv() => match next {
                    Some(payload) => self.on_routed(&payload).await,
                    None => break,
                },
            }
        }
    }

    pub fn settings(&self) -> &CallSettings {
        &self.inner.settings
    }

    /// `call_invite` from `device` of `caller`: rings the other members of the conversation.
    pub async fn invite(&self, caller: &User, device: Device, id: ConversationId, media: &str) -> ApiResult<String> {
        let media = CallMedia::parse(media)
            .ok_or_else(|| ApiError::bad_request(ErrorCode::ValidationFailed, "media must be `voice` or `video`"))?;
        let members = self.inner.conversations.callable_members(caller.id, id).await?;
        let max = self.inner.settings.max_participants;
        if members.len() > max {
            return Err(unavailable(format!(
                "this conversation has {} members; a call takes at most {max} (calls.max_participants): larger calls need an SFU",
                members.len()
            )));
        }
        self.inner.conversations.check_not_archived(id).await?;
        let direct = members.len() == 2;
        let mut callees = Vec::new();
        for &member in members.iter().filter(|m| **m != caller.id) {
            // In a room, a call does not ring across a block (a DM with one was refused above).
            if direct || !self.inner.reach.blocked_between(caller.id, member).await? {
                callees.push(member);
            }
        }
        let call_id = format!("{:016x}{:016x}", self.inner.node, rand::random::<u64>());
        let me = Participant { user: caller.id, device };
        let mut effects = Effects::default();
        {
            let mut engaged = self.engaged();
            if engaged.contains_key(&caller.id) {
                return Err(unavailable("you are already in a call".into()));
            }
            let free: Vec<UserId> = callees.iter().copied().filter(|u| !engaged.contains_key(u)).collect();
            engaged.insert(caller.id, call_id.clone());
            let call = Call {
                conversation: id,
                media,
                caller: caller.id,
                direct,
                ringing: free.clone(),
                participants: vec![me],
                joined: vec![caller.id],
                answered: None,
            };
            effects.frames.push((
                caller.id,
                DeviceFilter::Only(device),
                ServerFrame::CallInvited {
                    call_id: call_id.clone(),
                    conversation_id: id,
                    media: media.as_str(),
                    peer: me.peer(),
                },
            ));
            for callee in &free {
                effects.frames.push((
                    *callee,
                    DeviceFilter::Any,
                    ServerFrame::CallIncoming {
                        call_id: call_id.clone(),
                        conversation_id: id,
                        media: media.as_str(),
                        caller_id: caller.id,
                        caller_name: caller.name.clone(),
                    },
                ));
            }
            if free.is_empty() {
                // Everyone who could be rung is in another call.
                engaged.remove(&caller.id);
                finish(&mut effects, &call_id, call, "busy", CallOutcome::Busy);
            } else {
                self.live().insert(call_id.clone(), call);
            }
        }
        tracing::info!(conversation_id = %id, user_id = %caller.id, call_id, "call started");
        let ringing = effects.ended.is_none();
        let rung: Vec<UserId> = effects
            .frames
            .iter()
            .filter(|(_, _, frame)| matches!(frame, ServerFrame::CallIncoming { .. }))
            .map(|(user, _, _)| *user)
            .collect();
        self.apply(effects).await;
        if ringing {
            self.ring_for(call_id.clone());
            // Callees without an open app hear it through push (when they allow it).
            for user in rung {
                let ring = Ring {
                    user,
                    conversation_id: id,
                    call_id: call_id.clone(),
                    caller_name: caller.name.clone(),
                    media: media.as_str(),
                    ttl_secs: self.inner.settings.ring_timeout_secs,
                };
                let away = self.inner.away.clone();
                tokio::spawn(async move { away.ring(ring).await });
            }
        }
        Ok(call_id)
    }

    /// Any other call frame of `device`: handled here when this node runs the call, else handed
    /// to the node that does.
    pub async fn act(&self, user: UserId, device: Device, call_id: &str, action: Action) -> ApiResult<()> {
        if self.runs(call_id) {
            return self.handle(user, device, call_id, action).await;
        }
        let Some(node) = call_id.get(..16).and_then(|n| u64::from_str_radix(n, 16).ok()) else {
            return Err(ApiError::not_found("call"));
        };
        let routed = Routed { call_id: call_id.to_owned(), user, device, action };
        let handed =
            serde_json::to_string(&routed).is_ok_and(|json| self.inner.hub.publish_call(Utf8Bytes::from(json)));
        if !handed {
            return Err(ApiError::not_found("call"));
        }
        tracing::debug!(call_id, node, "call frame handed to the node running the call");
        Ok(())
    }

    /// A device's socket closed: it leaves every call it was in.
    pub async fn device_gone(&self, user: UserId, device: Device, calls: &[String]) {
        for call_id in calls {
            self.act(user, device, call_id, Action::Gone).await.ok();
        }
    }

    fn runs(&self, call_id: &str) -> bool {
        call_id.get(..16).and_then(|n| u64::from_str_radix(n, 16).ok()) == Some(self.inner.node)
    }

    async fn on_routed(&self, payload: &str) {
        let Ok(routed) = serde_json::from_str::<Routed>(payload) else {
            tracing::warn!("ignoring a malformed call message from the bus");
            return;
        };
        if !self.runs(&routed.call_id) {
            return;
        }
        let (user, device) = (routed.user, routed.device);
        if let Err(e) = self.handle(user, device, &routed.call_id, routed.action).await {
            self.inner.hub.send_to_devices(user, DeviceFilter::Only(device), &e.to_frame());
        }
    }

    async fn handle(&self, user: UserId, device: Device, call_id: &str, action: Action) -> ApiResult<()> {
        let mut effects = Effects::default();
        {
            let mut live = self.live();
            let call = live.get_mut(call_id).ok_or_else(|| ApiError::not_found("call"))?;
            let ending = match action {
                Action::Ringing => ringing(call, call_id, user, &mut effects)?,
                Action::Accept => self.accept(call, call_id, user, device, &mut effects)?,
                Action::Decline => decline(call, call_id, user, &mut effects)?,
                Action::Signal { to, data } => signal(call, call_id, user, device, &to, data, &mut effects)?,
                Action::End | Action::Gone => {
                    let gone = matches!(action, Action::Gone);
                    match call.participant(user, device) {
                        Some(me) => {
                            if !gone {
                                let bye = ended(call_id, call.conversation, "hangup");
                                effects.frames.push((user, DeviceFilter::Only(device), bye));
                            }
                            self.leave(call, call_id, me, gone, &mut effects)
                        }
                        None if !gone && call.ringing.contains(&user) => decline(call, call_id, user, &mut effects)?,
                        None if gone => None,
                        None => return Err(ApiError::not_found("call")),
                    }
                }
            };
            if let Some((reason, outcome)) = ending
                && let Some(call) = live.remove(call_id)
            {
                let mut engaged = self.engaged();
                for p in &call.participants {
                    engaged.remove(&p.user);
                }
                finish(&mut effects, call_id, call, reason, outcome);
            }
        }
        self.apply(effects).await;
        Ok(())
    }

    fn accept(
        &self,
        call: &mut Call,
        call_id: &str,
        user: UserId,
        device: Device,
        effects: &mut Effects,
    ) -> ApiResult<Ending> {
        if !call.ringing.contains(&user) {
            return Err(ApiError::not_found("call"));
        }
        if call.participants.len() >= self.inner.settings.max_participants {
            return Err(unavailable("the call is full (calls.max_participants)".into()));
        }
        {
            let mut engaged = self.engaged();
            if engaged.get(&user).is_some_and(|other| other != call_id) {
                return Err(unavailable("you are already in a call".into()));
            }
            engaged.insert(user, call_id.to_owned());
        }
        call.ringing.retain(|u| *u != user);
        let me = Participant { user, device };
        call.participants.push(me);
        if !call.joined.contains(&user) {
            call.joined.push(user);
        }
        call.answered.get_or_insert_with(Instant::now);
        effects.frames.push((
            user,
            DeviceFilter::Except(device),
            ServerFrame::CallEnded {
                call_id: call_id.to_owned(),
                conversation_id: call.conversation,
                reason: "answered_elsewhere",
            },
        ));
        let accepted = ServerFrame::CallAccepted {
            call_id: call_id.to_owned(),
            conversation_id: call.conversation,
            user_id: user,
            peer: me.peer(),
            participants: call.peers(),
        };
        to_participants(call, effects, &accepted);
        Ok(None)
    }

    /// A participant hangs up (the call goes on while two or more remain) or their device goes
    /// away (the caller's ends it for everyone).
    fn leave(&self, call: &mut Call, call_id: &str, me: Participant, gone: bool, effects: &mut Effects) -> Ending {
        call.participants.retain(|p| *p != me);
        self.engaged().remove(&me.user);
        let caller_gone = gone && me.user == call.caller;
        if call.answered.is_none() {
            return Some((if caller_gone { "caller_gone" } else { "cancelled" }, CallOutcome::Missed));
        }
        if caller_gone {
            return Some(("caller_gone", CallOutcome::Answered));
        }
        if call.participants.len() < 2 {
            return Some(("hangup", CallOutcome::Answered));
        }
        let left = ServerFrame::CallLeft { call_id: call_id.to_owned(), user_id: me.user, peer: me.peer() };
        to_participants(call, effects, &left);
        None
    }

    /// Ends a call nobody answered in time; a call in progress only stops ringing.
    async fn ring_timeout(&self, call_id: &str) {
        let mut effects = Effects::default();
        {
            let mut live = self.live();
            let Some(call) = live.get_mut(call_id) else { return };
            if call.answered.is_some() {
                for user in std::mem::take(&mut call.ringing) {
                    effects.frames.push((user, DeviceFilter::Any, ended(call_id, call.conversation, "missed")));
                }
            } else if let Some(call) = live.remove(call_id) {
                let mut engaged = self.engaged();
                for p in &call.participants {
                    engaged.remove(&p.user);
                }
                finish(&mut effects, call_id, call, "missed", CallOutcome::Missed);
            }
        }
        self.apply(effects).await;
    }

    fn ring_for(&self, call_id: String) {
        let (this, after) = (self.clone(), Duration::from_secs(self.inner.settings.ring_timeout_secs));
        tokio::spawn(async move {
            tokio::select! {
                _ = this.inner.shutdown.cancelled() => {}
                _ = tokio::time::sleep(after) => this.ring_timeout(&call_id).await,
            }
        });
    }

    async fn apply(&self, effects: Effects) {
        for (user, device, frame) in &effects.frames {
            self.inner.hub.send_to_devices(*user, *device, frame);
        }
        if let Some((id, caller, record)) = effects.ended {
            tracing::info!(conversation_id = %id, user_id = %caller, outcome = record.outcome.as_str(), "call ended");
            if let Err(e) = self.inner.messages.record_call(id, caller, &record).await {
                tracing::warn!(conversation_id = %id, error = %e.message, "call message not stored");
            }
        }
    }

    fn live(&self) -> MutexGuard<'_, HashMap<String, Call>> {
        // Every change leaves the map consistent, so a panic elsewhere leaves it usable.
        self.inner.live.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn engaged(&self) -> MutexGuard<'_, HashMap<UserId, String>> {
        self.inner.engaged.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// How a step ends the call, if it does: the reason devices are told and the message's outcome.
type Ending = Option<(&'static str, CallOutcome)>;

fn ringing(call: &Call, call_id: &str, user: UserId, effects: &mut Effects) -> ApiResult<Ending> {
    if !call.ringing.contains(&user) {
        return Err(ApiError::not_found("call"));
    }
    to_participants(call, effects, &ServerFrame::CallRinging { call_id: call_id.to_owned(), user_id: user });
    Ok(None)
}

fn decline(call: &mut Call, call_id: &str, user: UserId, effects: &mut Effects) -> ApiResult<Ending> {
    if !call.ringing.contains(&user) {
        return Err(ApiError::not_found("call"));
    }
    call.ringing.retain(|u| *u != user);
    effects.frames.push((user, DeviceFilter::Any, ended(call_id, call.conversation, "declined")));
    to_participants(call, effects, &ServerFrame::CallDeclined { call_id: call_id.to_owned(), user_id: user });
    let over = call.answered.is_none() && (call.direct || call.ringing.is_empty());
    Ok(over.then_some(("declined", CallOutcome::Declined)))
}

fn signal(
    call: &Call,
    call_id: &str,
    user: UserId,
    device: Device,
    to: &str,
    data: SignalData,
    effects: &mut Effects,
) -> ApiResult<Ending> {
    let (Some(from), Some(target)) = (call.participant(user, device), call.by_peer(to)) else {
        return Err(ApiError::not_found("call"));
    };
    let frame = ServerFrame::CallSignal { call_id: call_id.to_owned(), from: from.peer(), from_user: user, data };
    effects.frames.push((target.user, DeviceFilter::Only(target.device), frame));
    Ok(None)
}

fn to_participants(call: &Call, effects: &mut Effects, frame: &ServerFrame) {
    for p in &call.participants {
        effects.frames.push((p.user, DeviceFilter::Only(p.device), frame.clone()));
    }
}

fn ended(call_id: &str, conversation_id: ConversationId, reason: &'static str) -> ServerFrame {
    ServerFrame::CallEnded { call_id: call_id.to_owned(), conversation_id, reason }
}

/// The end of a call: every device still in it or ringing is told, and its message is due.
fn finish(effects: &mut Effects, call_id: &str, call: Call, reason: &'static str, outcome: CallOutcome) {
    let frame = ended(call_id, call.conversation, reason);
    to_participants(&call, effects, &frame);
    for user in &call.ringing {
        effects.frames.push((*user, DeviceFilter::Any, frame.clone()));
    }
    let record = CallRecord {
        media: call.media,
        outcome,
        duration_secs: if outcome == CallOutcome::Answered { call.duration_secs() } else { 0 },
        participants: call.joined.clone(),
    };
    effects.ended = Some((call.conversation, call.caller, record));
}

fn unavailable(message: String) -> ApiError {
    ApiError::new(Kind::Conflict, ErrorCode::CallUnavailable, message)
}
