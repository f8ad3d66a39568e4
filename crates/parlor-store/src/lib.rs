//! The storage boundary of parlor: the [`Store`] trait every backend implements, its error type,
//! and the [`conformance`] suite that every backend must pass.
//!
//! **Invariant:** no SQL here: it lives in the SQL crates (`parlor-store-sql`, what both SQL
//! backends share, and `parlor-store-sqlite`, `parlor-store-postgres`). Services talk to
//! `dyn Store` only. Every write that a client is told succeeded is durable
//! when the method returns (for [`Store::submit_message`], when its [`PendingAppend`] resolves).

mod audit;
pub mod conformance;
mod email;
mod error;
mod exports;
mod pending;
mod privacy;
mod push;
mod search;
mod transcript;
mod types;
mod webhooks;

use std::collections::HashMap;
use std::path::Path;

use async_trait::async_trait;
use parlor_core::{
    AttachmentId, AvatarUrl, CallRecord, Contact, Context, Conversation, ConversationEvent, ConversationId,
    ConversationOverview, Delivery, DirectPair, DisplayName, EmailAddress, Emoji, ExternalId, Member, Membership,
    Message, MessageBody, MessageHit, MessageId, NewMessage, NewNotification, NewUser, Notification,
    NotificationSettings, OutboxId, ProfileUpdate, Report, SearchQuery, Seq, SessionId, StoredAttachment, Timestamp,
    User, UserId, Webhook, WebhookId,
};

pub use audit::{AuditEntry, AuditFilter, NewAuditEntry};
pub use email::{MailMark, Unmailed};
pub use error::StoreError;
pub use exports::{ExportJob, ExportOutcome, ExportQuota, ExportStatus};
pub use pending::PendingAppend;
pub use privacy::{Erasure, ErasureMode, Swept};
pub use push::{NewPushSubscription, PushSubscription};
pub use search::{MessageSearch, SearchPage};
pub use transcript::ChainedEvent;
pub use types::{
    Appended, ConversationFilter, ConversationPatch, DeliveredUpTo, ListPosition, MemberChange, MemberPosition,
    NewRoom, NotificationFilter, NotificationsToRead, ReadOutcome, ReadUpTo, RoomLook, Rotation, UserFlags,
};
pub use webhooks::{NewDelivery, NewWebhook, OutboxEntry, OutboxItem, QueuedNotification, QueuedUserDeleted};

pub type StoreResult<T> = Result<T, StoreError>;

/// Everything parlor keeps. Implementations must be safe to share across tasks and must keep
/// per-conversation sequences gap-free and ordered under concurrent writers.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // --- users ---

    /// Fails with [`StoreError::Conflict`] when the username is taken (case-insensitively).
    async fn create_user(&self, new: NewUser) -> StoreResult<User>;
    async fn user(&self, id: UserId) -> StoreResult<Option<User>>;
    /// The user and their argon2 hash, for a login. Case-insensitive on the username.
    async fn credentials(&self, username: &str) -> StoreResult<Option<(User, String)>>;
    /// The host platform's user, created on first sight; name and avatar are refreshed when given
    /// and different.
    async fn upsert_external_user(
        &self,
        external_id: &ExternalId,
        name: Option<&DisplayName>,
        avatar: Option<&AvatarUrl>,
    ) -> StoreResult<User>;
    async fn update_profile(&self, id: UserId, update: &ProfileUpdate) -> StoreResult<User>;
    /// The host platform's user, if parlor has seen them.
    async fn user_by_external_id(&self, external_id: &ExternalId) -> StoreResult<Option<User>>;
    /// Several users at once, in no particular order; unknown ids are skipped.
    async fn users(&self, ids: &[UserId]) -> StoreResult<Vec<User>>;
    /// Users with these usernames (case-insensitive); unknown names are skipped.
    async fn users_by_usernames(&self, usernames: &[String]) -> StoreResult<Vec<User>>;
    /// Users whose name or username contains `query` (case-insensitive), by name. With
    /// `among`, only people who are in a conversation with that user now or share a contact
    /// (pending or accepted) with them, plus whoever has exactly `query` as username.
    async fn search_users(&self, query: &str, limit: u32, among: Option<UserId>) -> StoreResult<Vec<User>>;

    /// Records when users were last seen (presence), in one write; never moves a time back.
    async fn touch_last_seen(&self, seen: &[(UserId, Timestamp)]) -> StoreResult<()>;
    /// Sets a server admin's flags on a user; `NotFound` for an unknown user.
    async fn set_user_flags(&self, user: UserId, flags: &UserFlags) -> StoreResult<User>;
    /// Other users who currently share at least one conversation with `user`.
    async fn conversation_partners(&self, user: UserId) -> StoreResult<Vec<UserId>>;
    /// Who is told when `user` comes online or goes offline: the other current members of
    /// `user`'s conversations of at most `max_members` members, less anyone either side blocked.
    /// Bigger rooms are left out because telling every member of every member's arrival grows
    /// with the square of the room (10,000 arrivals x 10,000 members).
    async fn presence_audience(&self, user: UserId, max_members: u32) -> StoreResult<Vec<UserId>>;
    /// True when both are current members of at least one common conversation.
    async fn share_conversation(&self, a: UserId, b: UserId) -> StoreResult<bool>;

    // --- blocks and reports ---

    /// Blocks or unblocks; true when something changed. `NotFound` for an unknown user.
    async fn set_block(&self, blocker: UserId, blocked: UserId, on: bool) -> StoreResult<bool>;
    /// The users `user` has blocked.
    async fn blocked_by(&self, user: UserId) -> StoreResult<Vec<UserId>>;
    /// Users who blocked `user`, or whom `user` blocked: the ones presence is hidden between.
    async fn block_partners(&self, user: UserId) -> StoreResult<Vec<UserId>>;
    /// True when either user blocked the other.
    async fn blocked_between(&self, a: UserId, b: UserId) -> StoreResult<bool>;
    /// `Conflict("report")` when the reporter already reported this message.
    async fn report_message(&self, message: MessageId, reporter: UserId, reason: &str) -> StoreResult<Report>;
    /// Newest first.
    async fn reports(&self, limit: u32) -> StoreResult<Vec<Report>>;

    // --- notifications ---

    /// Silences (or not) the conversation's message notifications for a current member;
    /// `NotFound` for anyone else.
    async fn set_muted(&self, id: ConversationId, user: UserId, muted: bool) -> StoreResult<()>;
    /// Current members who muted the conversation.
    async fn muted_members(&self, id: ConversationId) -> StoreResult<Vec<UserId>>;
    /// Stores notifications in one transaction and returns them as stored. A `Message`
    /// notification for a conversation that already has an unread one replaces it, counting on
    /// (count + 1, newest message, a new id so it lists as the newest).
    async fn add_notifications(&self, new: &[NewNotification]) -> StoreResult<Vec<Notification>>;

    // --- email to people who are away ---

    /// Sets the user's email address, or clears it with `None`; `NotFound` for an unknown user.
    async fn set_email(&self, user: UserId, email: Option<&EmailAddress>) -> StoreResult<()>;
    /// Unread `message` and `mention` notifications no mail covered yet, per user (with an
    /// address, not disabled) and conversation: those made at least the user's delay before
    /// `now` (`email_delay_minutes`, else `default_delay_ms`), where the last mail about the
    /// conversation is that old too (one mail per conversation per delay). Oldest first, at
    /// most `limit`.
    async fn unmailed_notifications(
        &self,
        now: Timestamp,
        default_delay_ms: i64,
        limit: u32,
    ) -> StoreResult<Vec<Unmailed>>;
    /// Moves the user's mail mark of the conversation from `from` to `to` (`None`: no mark),
    /// only if it still is `from`; true when it did. A mailer claims a mail this way before
    /// sending it (of several nodes, one wins) and puts `from` back if sending failed.
    async fn swap_mail_mark(
        &self,
        user: UserId,
        id: ConversationId,
        from: Option<MailMark>,
        to: Option<MailMark>,
    ) -> StoreResult<bool>;
    async fn notifications(&self, user: UserId, filter: &NotificationFilter) -> StoreResult<Vec<Notification>>;
    async fn unread_notification_count(&self, user: UserId) -> StoreResult<i64>;
    /// True when the user has unread notifications about this conversation.
    async fn has_unread_notifications(&self, user: UserId, id: ConversationId) -> StoreResult<bool>;
    /// Marks the user's notifications read (one only if it is theirs); returns how many changed.
    async fn mark_notifications_read(&self, user: UserId, which: NotificationsToRead) -> StoreResult<u64>;

    // --- notification preferences and Web Push subscriptions ---

    /// The user's preferences; the defaults when they never changed any.
    async fn notification_settings(&self, user: UserId) -> StoreResult<NotificationSettings>;
    /// Replaces the user's preferences; `NotFound` for an unknown user.
    async fn set_notification_settings(&self, user: UserId, settings: &NotificationSettings) -> StoreResult<()>;
    /// Registers a subscription; one registered before with the same endpoint (by anyone) is
    /// replaced.
    async fn add_push_subscription(&self, new: &NewPushSubscription) -> StoreResult<PushSubscription>;
    /// The user's subscriptions, oldest first.
    async fn push_subscriptions(&self, user: UserId) -> StoreResult<Vec<PushSubscription>>;
    /// Deletes one of `user`'s subscriptions (`NotFound` when it is not theirs) or, with
    /// `None` (the push service said it is gone), whoever's it is.
    async fn delete_push_subscription(&self, user: Option<UserId>, id: i64) -> StoreResult<()>;

    // --- refresh tokens (stored as hashes, single use, in families: one per session) ---

    /// The first refresh token of a session (a login).
    async fn insert_refresh_token(
        &self,
        token_hash: &[u8],
        user: UserId,
        session: SessionId,
        expires_at: Timestamp,
    ) -> StoreResult<()>;
    /// Deletes tokens that expired before `before`; returns how many.
    async fn prune_refresh_tokens(&self, before: Timestamp) -> StoreResult<u64>;
    /// Spends a refresh token and stores `next` in its family, in one transaction. A token
    /// already spent is kept (until it expires) to recognise its reuse: presenting one revokes
    /// its whole family, `next` included, and says so ([`Rotation::Reused`]).
    async fn rotate_refresh_token(
        &self,
        token_hash: &[u8],
        next: &[u8],
        now: Timestamp,
        next_expires_at: Timestamp,
    ) -> StoreResult<Rotation>;
    /// Whether the session still has a refresh token that was never used: false once its
    /// family was revoked (or it expired and was pruned).
    async fn session_live(&self, user: UserId, session: SessionId) -> StoreResult<bool>;

    // --- a former member's view: as it was when they left ---

    /// Rewrites `messages` (all of conversation `id`) as they were at event `cutoff`: text,
    /// edit and delete marks, reactions and reply quotes changed since are put back.
    async fn messages_as_of(&self, id: ConversationId, cutoff: Seq, messages: &mut [Message]) -> StoreResult<()>;
    /// The room's title, picture and archived flag at event `cutoff`; `None` if unchanged since
    /// (or changed only by entries logged before the previous values were kept).
    async fn look_as_of(&self, id: ConversationId, cutoff: Seq) -> StoreResult<Option<RoomLook>>;

    // --- conversations ---

    /// The one direct conversation of the pair, and whether this call created it.
    async fn get_or_create_direct(&self, pair: DirectPair) -> StoreResult<(ConversationId, bool)>;
    /// `None` when the conversation does not exist *or* `user` never belonged to it; former
    /// members get their view (membership inactive, cut off at their departure).
    async fn overview(&self, id: ConversationId, user: UserId) -> StoreResult<Option<ConversationOverview>>;
    /// The user's conversations (including ones they left, for their history), most recent
    /// activity first, optionally only those linked to one context.
    async fn list_overviews(&self, user: UserId, filter: &ConversationFilter)
    -> StoreResult<Vec<ConversationOverview>>;
    /// Current members.
    async fn member_ids(&self, id: ConversationId) -> StoreResult<Vec<UserId>>;
    /// The user's membership, current or former; `None` if they never belonged.
    async fn membership(&self, id: ConversationId, user: UserId) -> StoreResult<Option<Membership>>;
    /// The conversation's record and its current members, seen by no one in particular: for the
    /// operator (exports). `None` when it does not exist.
    async fn conversation_with_members(&self, id: ConversationId) -> StoreResult<Option<(Conversation, Vec<Member>)>>;

    // --- rooms ---

    /// Creates a room with `creator` as owner and the others as members, and its
    /// `room_created` system message.
    async fn create_room(&self, room: NewRoom) -> StoreResult<(ConversationId, Appended)>;
    /// The conversation linked to `context` with exactly these participants, created (as a
    /// direct conversation for two, else a room owned by `creator`) when missing.
    async fn get_or_create_by_context(
        &self,
        context: &Context,
        participants: &[UserId],
        creator: UserId,
    ) -> StoreResult<(ConversationId, bool)>;
    /// Adds, removes or re-roles members and logs the system message that records it. Removed
    /// members keep read access up to and including that message. Fails with
    /// `Rule("last_owner")` when the change would leave a room without an owner, and with
    /// `NotFound` for a target who is not a member (or, for adds, a user who does not exist).
    /// `Rule("not_a_room")` for direct conversations, `Rule("already_members")` when an add
    /// changes nothing.
    async fn change_members(&self, id: ConversationId, actor: UserId, change: MemberChange) -> StoreResult<Appended>;
    /// Renames, re-avatars, archives or unarchives; logs `ConversationUpdated` and a system
    /// message. `None` when nothing changed.
    async fn update_conversation(
        &self,
        id: ConversationId,
        actor: UserId,
        patch: &ConversationPatch,
    ) -> StoreResult<Option<(ConversationEvent, Appended)>>;

    // --- contacts (seed 001's "connections") ---

    /// Creates a pending request, or accepts at once when the other side already asked.
    /// Fails with `Conflict("contact")` when one already exists.
    async fn request_contact(&self, from: UserId, to: UserId) -> StoreResult<Contact>;
    async fn contact(&self, id: i64) -> StoreResult<Option<Contact>>;
    async fn contacts(&self, user: UserId) -> StoreResult<Vec<Contact>>;
    async fn accept_contact(&self, id: i64) -> StoreResult<Contact>;
    async fn delete_contact(&self, id: i64) -> StoreResult<()>;
    /// True when the two users are contacts (an accepted request).
    async fn are_contacts(&self, a: UserId, b: UserId) -> StoreResult<bool>;

    // --- message lifecycle ---

    /// Replaces the content, keeping the previous version; logs `MessageEdited`.
    async fn edit_message(&self, id: MessageId, body: &MessageBody) -> StoreResult<ConversationEvent>;
    /// Empties the message for everyone (the content is kept only in the moderation versions
    /// table) and removes its attachment row; logs `MessageDeleted`. Deleting twice is `NotFound`.
    async fn delete_message(&self, id: MessageId) -> StoreResult<ConversationEvent>;
    /// Adds the reaction, or removes it if the user already had it; logs `ReactionChanged`.
    async fn toggle_reaction(&self, id: MessageId, user: UserId, emoji: &Emoji) -> StoreResult<ConversationEvent>;

    // --- attachments ---

    async fn attachment(&self, id: AttachmentId) -> StoreResult<Option<StoredAttachment>>;
    async fn attachment_of_message(&self, id: MessageId) -> StoreResult<Option<StoredAttachment>>;
    /// Marks up to `limit` attachments created before `before` as expired and returns them, so
    /// their files can be removed. Their messages stay.
    async fn expire_attachments(&self, before: Timestamp, limit: u32) -> StoreResult<Vec<StoredAttachment>>;

    // --- receipts ---

    /// Moves members' delivered positions forward (a node's receipts, gathered over a moment),
    /// never past the conversation's last message, in one write and a few statements whatever
    /// their number: a message to 10,000 members costs one write, not 10,000. A receipt with
    /// `log` logs `MessagesDelivered` when it moved the position (large rooms keep receipts as
    /// positions only: see the server's receipt policy). Returns the events logged, in log
    /// order per conversation; receipts of non-members are skipped.
    async fn mark_delivered_many(&self, receipts: &[DeliveredUpTo]) -> StoreResult<Vec<ConversationEvent>>;
    /// Every current member's read and delivered positions.
    async fn positions(&self, id: ConversationId) -> StoreResult<Vec<MemberPosition>>;

    // --- messages ---

    /// Stores a message and its event, numbering both. A repeated `client_id` from the same
    /// sender in the same conversation stores nothing and returns the original
    /// (`duplicate: true`). Fails with `NotFound` if the sender is not a member and with
    /// `InvalidReference` if `reply_to` is not a message of the conversation. Sending moves the
    /// sender's read position to their message. Returns once the message is stored: a
    /// [`Store::submit_message`] awaited at once.
    async fn append_message(&self, new: NewMessage) -> StoreResult<Appended> {
        self.submit_message(new).await?.await
    }
    /// Queues a message as [`Store::append_message`] stores it, and returns as soon as it is
    /// queued; awaiting the [`PendingAppend`] gives the append's outcome once it is stored.
    /// Order holds: a message submitted after another one's `submit_message` returned is
    /// numbered after it in their conversation, and is a duplicate of it if it repeats its
    /// `client_id`. Fails only when the store cannot queue it (closed: `Unavailable`); every
    /// refusal of the message itself comes from the `PendingAppend`.
    async fn submit_message(&self, new: NewMessage) -> StoreResult<PendingAppend>;
    /// Stores a system message with `text`, written by [`UserId::SYSTEM`] (`notice` action):
    /// the host platform's word in a conversation.
    async fn append_notice(&self, id: ConversationId, text: &MessageBody) -> StoreResult<Appended>;
    /// Stores a call's message (kind `call`), written by `caller`, its text the record's summary.
    async fn append_call(&self, id: ConversationId, caller: UserId, record: &CallRecord) -> StoreResult<Appended>;
    async fn message(&self, id: MessageId) -> StoreResult<Option<Message>>;
    /// Newest first, strictly below `before` (a message seq) when given.
    async fn messages_before(&self, id: ConversationId, before: Option<Seq>, limit: u32) -> StoreResult<Vec<Message>>;
    /// Oldest first, strictly above `after` (a message seq): walking a whole conversation in
    /// order, page by page (exports).
    async fn messages_after(&self, id: ConversationId, after: Seq, limit: u32) -> StoreResult<Vec<Message>>;

    // --- read state ---

    /// Moves the member's read position forward (never back). With `log`, logs a `MessagesRead`
    /// event when the position moved.
    async fn mark_read(&self, id: ConversationId, user: UserId, up_to: ReadUpTo, log: bool)
    -> StoreResult<ReadOutcome>;
    /// Conversations of `user` with unread messages, and how many.
    async fn unread_counts(&self, user: UserId) -> StoreResult<Vec<(ConversationId, i64)>>;

    // --- search ---

    /// Messages matching every term of `search.query` that `search.user` may read: every message
    /// of a conversation they are in, and of one they left, those up to their departure. A term
    /// of three or more characters matches words it starts, a shorter one whole words, ignoring
    /// case and diacritics; its punctuation only separates words. Deleted and system messages
    /// never match.
    ///
    /// Ranked in windows: the matches (below `below`, if given) are taken newest first in
    /// windows of `window`, each window is ordered best match first (ties: newest first), and
    /// the windows follow each other, newest first. When the user may read no more than
    /// `window` matches that is simply best first; a common word costs one window, not every
    /// match in the server. `offset` results of that list are skipped, then at most `limit`;
    /// `next` says where the following page starts, `None` when none follows.
    async fn search_message_page(&self, search: &MessageSearch) -> StoreResult<SearchPage>;
    /// The hits of [`Store::search_message_page`].
    async fn search_messages(&self, search: &MessageSearch) -> StoreResult<Vec<MessageHit>> {
        Ok(self.search_message_page(search).await?.hits)
    }
    /// The user's conversations, current and former, whose room title, context title or (for
    /// direct conversations) other participant's name or username contains `query`, ignoring
    /// case. Whole-field matches first, then those starting with it, then those with a word
    /// starting with it, then the rest; within each, most recent activity first.
    async fn search_conversations(
        &self,
        user: UserId,
        query: &SearchQuery,
        limit: u32,
    ) -> StoreResult<Vec<ConversationOverview>>;

    // --- event log ---

    /// Events with `seq > after`, oldest first, at most `limit`.
    async fn events_after(&self, id: ConversationId, after: Seq, limit: u32) -> StoreResult<Vec<ConversationEvent>>;
    /// The newest event seq of each conversation of `ids`, in one statement: 0 for one without
    /// events, absent for an id no conversation has. Callers keep `ids` to a few thousand (the
    /// bus's repair asks 500 at a time) and limit former members to their cutoff themselves.
    async fn last_event_seqs(&self, ids: &[ConversationId]) -> StoreResult<HashMap<ConversationId, Seq>>;

    /// Events with `seq > after`, oldest first, at most `limit`, as the hash chain holds them
    /// (for signed transcripts).
    async fn chained_events(&self, id: ConversationId, after: Seq, limit: u32) -> StoreResult<Vec<ChainedEvent>>;

    // --- webhooks ---

    /// Registers an endpoint. Its cursor starts at the newest outbox entry: it receives the
    /// events logged after its creation.
    async fn create_webhook(&self, new: NewWebhook) -> StoreResult<Webhook>;
    /// Every endpoint, oldest first.
    async fn webhooks(&self) -> StoreResult<Vec<Webhook>>;
    async fn webhook(&self, id: WebhookId) -> StoreResult<Option<Webhook>>;
    /// Removes the endpoint and its delivery log; `NotFound` when unknown.
    async fn delete_webhook(&self, id: WebhookId) -> StoreResult<()>;
    /// Outbox entries after `after`, oldest first, at most `limit`, each with its event as it
    /// is now. The outbox holds every logged event except read and delivered receipts, written
    /// in the transaction that logged it, and only while at least one endpoint exists.
    async fn outbox_after(&self, after: OutboxId, limit: u32) -> StoreResult<Vec<OutboxEntry>>;
    /// Adds a `notification.created` entry to the outbox, only while at least one endpoint
    /// exists (true when it did). Entries queued in order are delivered in that order.
    async fn queue_notification_hook(&self, queued: &QueuedNotification) -> StoreResult<bool>;
    /// Records a delivery attempt; a successful one also moves the endpoint's cursor to its
    /// entry, in the same transaction. `NotFound` when the endpoint was deleted.
    async fn record_delivery(&self, attempt: &NewDelivery) -> StoreResult<()>;
    /// Moves the endpoint's cursor forward to `to` (never back), past entries it does not
    /// want. `NotFound` when the endpoint was deleted.
    async fn advance_webhook(&self, id: WebhookId, to: OutboxId) -> StoreResult<()>;
    /// The endpoint's delivery log, newest first.
    async fn deliveries(&self, id: WebhookId, limit: u32) -> StoreResult<Vec<Delivery>>;
    /// Deletes the outbox entries every endpoint has passed (all of them when there are no
    /// endpoints) and all but the newest `keep_deliveries` log rows of each endpoint. Returns
    /// how many outbox entries went.
    async fn prune_webhooks(&self, keep_deliveries: u32) -> StoreResult<u64>;

    // --- data rights: erasure, retention, legal hold (docs/privacy.md) ---

    /// Erases an account in one transaction: the user's row is emptied (no name, username,
    /// external id, avatar, password; shown as "Deleted user"; refused at every login), their
    /// sessions, notifications (theirs and those they caused), blocks, contacts, reports,
    /// reactions and read/delivered positions go, they leave every room (an owner left alone
    /// hands the room to its longest-standing member), and their name is taken out of system
    /// messages. With [`ErasureMode::Delete`] their messages become tombstones (content, earlier
    /// versions and attachments gone, a `MessageDeleted` logged each). Conversations under a
    /// legal hold keep their content, reactions and memberships. Their exports go too (the
    /// archives' keys are returned, to delete). `hook` is queued as a `user.deleted` webhook
    /// entry in the same transaction, while at least one endpoint exists. `NotFound` for an
    /// unknown, system or already erased user.
    async fn erase_user(&self, user: UserId, mode: ErasureMode, hook: &QueuedUserDeleted) -> StoreResult<Erasure>;
    /// Sets or clears the conversation's legal hold; `NotFound` for an unknown conversation.
    async fn set_legal_hold(&self, id: ConversationId, on: bool) -> StoreResult<()>;
    /// Sets the conversation's retention (`None`: the server's only) and logs a
    /// `retention_changed` system message by `actor`; `None` when nothing changed. `NotFound`
    /// for an unknown conversation.
    async fn set_retention(
        &self,
        id: ConversationId,
        actor: UserId,
        retention_secs: Option<i64>,
    ) -> StoreResult<Option<Appended>>;
    /// Erases up to `limit` messages past their retention, as a delete does (tombstone, files,
    /// versions and reactions gone, `MessageDeleted` logged), in one short transaction: those
    /// created before `server_cutoff` anywhere, and those older than their conversation's
    /// `retention_secs` at `now`. System messages and conversations under a legal hold are left.
    async fn sweep_messages(&self, server_cutoff: Option<Timestamp>, now: Timestamp, limit: u32) -> StoreResult<Swept>;

    // --- self-service data exports (docs/privacy.md) ---

    /// Stores a new pending export for `user`, made at `at`. `Conflict("export")` while one of
    /// theirs is pending or running; `Rule("export_quota")` when `quota.max` were already
    /// requested since `quota.since`.
    async fn request_export(&self, user: UserId, at: Timestamp, quota: ExportQuota) -> StoreResult<ExportJob>;
    /// Takes the oldest export waiting to be built, or one whose run's claim ran out before
    /// `now` (its node stopped), marks it running until `lease_until` and counts the attempt.
    /// A run-out one already tried `max_attempts` times is marked failed (`interrupted`)
    /// instead. `None` when there is nothing to build.
    async fn claim_export(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        max_attempts: u32,
    ) -> StoreResult<Option<ExportJob>>;
    /// Records how a running export ended, at `at`. `NotFound` when it is no longer running
    /// (erased with its owner, or taken over after its claim ran out).
    async fn finish_export(&self, id: i64, at: Timestamp, outcome: &ExportOutcome) -> StoreResult<()>;
    async fn export(&self, id: i64) -> StoreResult<Option<ExportJob>>;
    /// The user's exports, newest first, at most `limit`.
    async fn exports(&self, user: UserId, limit: u32) -> StoreResult<Vec<ExportJob>>;
    /// Marks up to `limit` ready exports whose `expires_at` is before `now` as expired and
    /// returns them as they were (with their archive's key, to delete); and forgets failed and
    /// expired exports requested before `forget_before`.
    async fn expire_exports(&self, now: Timestamp, forget_before: Timestamp, limit: u32)
    -> StoreResult<Vec<ExportJob>>;

    // --- audit log ---

    /// Appends an entry to the audit log; returns its id.
    async fn record_audit(&self, entry: &NewAuditEntry) -> StoreResult<i64>;
    /// Entries matching `filter`, newest first, at most `filter.limit`.
    async fn audit_entries(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>>;
    /// Deletes up to `limit` entries recorded before `before` (the retention sweep); returns
    /// how many went. Nothing else ever changes the log.
    async fn prune_audit(&self, before: Timestamp, limit: u32) -> StoreResult<u64>;

    /// A cheap round trip (readiness checks): fails once the store is closed or its database
    /// does not answer.
    async fn ping(&self) -> StoreResult<()>;

    // --- maintenance ---

    /// Writes a consistent copy of the whole store to the new file `to` while the store keeps
    /// serving, and returns its size in bytes. `Conflict("backup file")` when `to` exists.
    /// Backends without a file to copy answer `Unsupported`.
    async fn backup(&self, to: &Path) -> StoreResult<u64> {
        let _ = to;
        Err(StoreError::Unsupported("backup"))
    }
    /// Compacts the store, ordered with every other write so it never conflicts with one.
    /// Backends without such a thing answer `Unsupported`.
    async fn vacuum(&self) -> StoreResult<()> {
        Err(StoreError::Unsupported("vacuum"))
    }

    /// Finishes in-flight writes and closes connections. Later calls fail with `Unavailable`.
    async fn close(&self);
}
