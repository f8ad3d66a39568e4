//! [`SqlStore`]: the `Store` of any SQL [`Backend`], written once. Reads run on a reader
//! connection, short writes in a transaction on the writer connection (run again when the
//! backend says a failure was a lost race), and the hot writes go to the backend's batch
//! writer.

use std::collections::HashMap;
use std::path::Path;

use async_trait::async_trait;
use parlor_core::{
    AttachmentId, AvatarUrl, CallRecord, Contact, Context, Conversation, ConversationEvent, ConversationId,
    ConversationOverview, Delivery, DirectPair, DisplayName, EmailAddress, Emoji, ExternalId, Member, Membership,
    Message, MessageBody, MessageId, NewMessage, NewNotification, NewUser, Notification, NotificationSettings,
    OutboxId, ProfileUpdate, Report, SearchQuery, Seq, SessionId, StoredAttachment, Timestamp, User, UserId, Webhook,
    WebhookId,
};
use parlor_store::{
    Appended, AuditEntry, AuditFilter, ChainedEvent, ConversationFilter, ConversationPatch, DeliveredUpTo, Erasure,
    ErasureMode, ExportJob, ExportOutcome, ExportQuota, MailMark, MemberChange, MemberPosition, MessageSearch,
    NewAuditEntry, NewDelivery, NewPushSubscription, NewRoom, NewWebhook, NotificationFilter, NotificationsToRead,
    OutboxEntry, PendingAppend, PushSubscription, QueuedNotification, QueuedUserDeleted, ReadOutcome, ReadUpTo,
    RoomLook, Rotation, SearchPage, Store, StoreError, StoreResult, Swept, Unmailed, UserFlags,
};

use crate::backend::Backend;
use crate::statement::{Conn, sql};
use crate::{
    attachments, audit, contacts, conversations, email, erasure, events, exports, former, lifecycle, messages,
    moderation, notification_settings, notifications, reactions, read_state, retention, rooms, search, search_page,
    transcript, users, webhooks,
};

/// Outbox rows deleted per transaction when pruning.
const PRUNE_CHUNK: u32 = 5000;

/// The store of a SQL backend.
pub struct SqlStore<B> {
    backend: B,
}

impl<B: Backend> SqlStore<B> {
    pub fn new(backend: B) -> Self {
        Self { backend }
    }

    pub fn backend(&self) -> &B {
        &self.backend
    }

    /// Writes waiting for the batch writer right now.
    pub fn write_queue_len(&self) -> usize {
        self.backend.queue().len()
    }
}

#[async_trait]
impl<B: Backend> Store for SqlStore<B> {
    async fn create_user(&self, new: NewUser) -> StoreResult<User> {
        write!(self, |c| users::create(c, new.clone()))
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        read!(self, |c| users::by_id(c, id))
    }

    async fn credentials(&self, username: &str) -> StoreResult<Option<(User, String)>> {
        read!(self, |c| users::credentials(c, username))
    }

    async fn upsert_external_user(
        &self,
        external_id: &ExternalId,
        name: Option<&DisplayName>,
        avatar: Option<&AvatarUrl>,
    ) -> StoreResult<User> {
        write!(self, |c| users::upsert_external(c, external_id, name, avatar))
    }

    async fn update_profile(&self, id: UserId, update: &ProfileUpdate) -> StoreResult<User> {
        write!(self, |c| users::update_profile(c, id, update))
    }

    async fn user_by_external_id(&self, external_id: &ExternalId) -> StoreResult<Option<User>> {
        read!(self, |c| users::by_external_id(c, external_id))
    }

    async fn users(&self, ids: &[UserId]) -> StoreResult<Vec<User>> {
        read!(self, |c| users::many(c, ids))
    }

    async fn users_by_usernames(&self, usernames: &[String]) -> StoreResult<Vec<User>> {
        read!(self, |c| users::by_usernames(c, usernames))
    }

    async fn search_users(&self, query: &str, limit: u32, among: Option<UserId>) -> StoreResult<Vec<User>> {
        read!(self, |c| users::search(c, query, limit, among))
    }

    async fn touch_last_seen(&self, seen: &[(UserId, Timestamp)]) -> StoreResult<()> {
        if seen.is_empty() {
            return Ok(());
        }
        // Rows in id order: two writers updating the same users never wait for each other in a
        // cycle.
        let mut seen = seen.to_vec();
        seen.sort_unstable_by_key(|(user, _)| user.0);
        write!(self, |c| users::touch_last_seen(c, &seen))
    }

    async fn set_user_flags(&self, user: UserId, flags: &UserFlags) -> StoreResult<User> {
        write!(self, |c| users::set_flags(c, user, flags))
    }

    async fn conversation_partners(&self, user: UserId) -> StoreResult<Vec<UserId>> {
        read!(self, |c| conversations::partners(c, user))
    }

    async fn presence_audience(&self, user: UserId, max_members: u32) -> StoreResult<Vec<UserId>> {
        read!(self, |c| conversations::presence_audience(c, user, max_members))
    }

    async fn share_conversation(&self, a: UserId, b: UserId) -> StoreResult<bool> {
        read!(self, |c| conversations::share_conversation(c, a, b))
    }

    async fn set_block(&self, blocker: UserId, blocked: UserId, on: bool) -> StoreResult<bool> {
        write!(self, |c| moderation::set_block(c, blocker, blocked, on))
    }

    async fn blocked_by(&self, user: UserId) -> StoreResult<Vec<UserId>> {
        read!(self, |c| moderation::blocked_by(c, user))
    }

    async fn block_partners(&self, user: UserId) -> StoreResult<Vec<UserId>> {
        read!(self, |c| moderation::block_partners(c, user))
    }

    async fn blocked_between(&self, a: UserId, b: UserId) -> StoreResult<bool> {
        read!(self, |c| moderation::blocked_between(c, a, b))
    }

    async fn report_message(&self, message: MessageId, reporter: UserId, reason: &str) -> StoreResult<Report> {
        write!(self, |c| moderation::report(c, message, reporter, reason))
    }

    async fn reports(&self, limit: u32) -> StoreResult<Vec<Report>> {
        read!(self, |c| moderation::reports(c, limit))
    }

    async fn notification_settings(&self, user: UserId) -> StoreResult<NotificationSettings> {
        read!(self, |c| notification_settings::get(c, user))
    }

    async fn set_notification_settings(&self, user: UserId, settings: &NotificationSettings) -> StoreResult<()> {
        write!(self, |c| notification_settings::set(c, user, settings))
    }

    async fn add_push_subscription(&self, new: &NewPushSubscription) -> StoreResult<PushSubscription> {
        write!(self, |c| notification_settings::add_subscription(c, new))
    }

    async fn push_subscriptions(&self, user: UserId) -> StoreResult<Vec<PushSubscription>> {
        read!(self, |c| notification_settings::subscriptions(c, user))
    }

    async fn delete_push_subscription(&self, user: Option<UserId>, id: i64) -> StoreResult<()> {
        write!(self, |c| notification_settings::delete_subscription(c, user, id))
    }

    async fn set_muted(&self, id: ConversationId, user: UserId, muted: bool) -> StoreResult<()> {
        write!(self, |c| notifications::set_muted(c, id, user, muted))
    }

    async fn muted_members(&self, id: ConversationId) -> StoreResult<Vec<UserId>> {
        read!(self, |c| notifications::muted_members(c, id))
    }

    async fn add_notifications(&self, new: &[NewNotification]) -> StoreResult<Vec<Notification>> {
        if new.is_empty() {
            return Ok(Vec::new());
        }
        write!(self, |c| notifications::add(c, new))
    }

    async fn set_email(&self, user: UserId, email: Option<&EmailAddress>) -> StoreResult<()> {
        write!(self, |c| email::set_email(c, user, email))
    }

    async fn unmailed_notifications(
        &self,
        now: Timestamp,
        default_delay_ms: i64,
        limit: u32,
    ) -> StoreResult<Vec<Unmailed>> {
        read!(self, |c| email::unmailed(c, now, default_delay_ms, limit))
    }

    async fn swap_mail_mark(
        &self,
        user: UserId,
        id: ConversationId,
        from: Option<MailMark>,
        to: Option<MailMark>,
    ) -> StoreResult<bool> {
        write!(self, |c| email::swap_mail_mark(c, user, id, from, to))
    }

    async fn notifications(&self, user: UserId, filter: &NotificationFilter) -> StoreResult<Vec<Notification>> {
        read!(self, |c| notifications::list(c, user, filter))
    }

    async fn unread_notification_count(&self, user: UserId) -> StoreResult<i64> {
        read!(self, |c| notifications::unread_count(c, user))
    }

    async fn has_unread_notifications(&self, user: UserId, id: ConversationId) -> StoreResult<bool> {
        read!(self, |c| notifications::has_unread(c, user, id))
    }

    async fn mark_notifications_read(&self, user: UserId, which: NotificationsToRead) -> StoreResult<u64> {
        write!(self, |c| notifications::mark_read(c, user, which))
    }

    async fn insert_refresh_token(
        &self,
        token_hash: &[u8],
        user: UserId,
        session: SessionId,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        write!(self, |c| users::insert_refresh_token(c, token_hash, user, session, expires_at))
    }

    async fn prune_refresh_tokens(&self, before: Timestamp) -> StoreResult<u64> {
        write!(self, |c| users::prune_refresh_tokens(c, before))
    }

    async fn rotate_refresh_token(
        &self,
        token_hash: &[u8],
        next: &[u8],
        now: Timestamp,
        next_expires_at: Timestamp,
    ) -> StoreResult<Rotation> {
        write!(self, |c| users::rotate_refresh_token(c, token_hash, next, now, next_expires_at))
    }

    async fn session_live(&self, user: UserId, session: SessionId) -> StoreResult<bool> {
        read!(self, |c| users::session_live(c, user, session))
    }

    async fn messages_as_of(&self, id: ConversationId, cutoff: Seq, messages: &mut [Message]) -> StoreResult<()> {
        read!(self, |c| former::messages_as_of(c, id, cutoff, messages))
    }

    async fn look_as_of(&self, id: ConversationId, cutoff: Seq) -> StoreResult<Option<RoomLook>> {
        read!(self, |c| former::look_as_of(c, id, cutoff))
    }

    async fn get_or_create_direct(&self, pair: DirectPair) -> StoreResult<(ConversationId, bool)> {
        write!(self, |c| conversations::get_or_create_direct(c, pair))
    }

    async fn overview(&self, id: ConversationId, user: UserId) -> StoreResult<Option<ConversationOverview>> {
        read!(self, |c| conversations::overview(c, id, user))
    }

    async fn list_overviews(
        &self,
        user: UserId,
        filter: &ConversationFilter,
    ) -> StoreResult<Vec<ConversationOverview>> {
        read!(self, |c| conversations::list_overviews(c, user, filter))
    }

    async fn member_ids(&self, id: ConversationId) -> StoreResult<Vec<UserId>> {
        read!(self, |c| conversations::member_ids(c, id))
    }

    async fn membership(&self, id: ConversationId, user: UserId) -> StoreResult<Option<Membership>> {
        read!(self, |c| rooms::membership(c, id, user))
    }

    async fn conversation_with_members(&self, id: ConversationId) -> StoreResult<Option<(Conversation, Vec<Member>)>> {
        read!(self, |c| conversations::with_members(c, id))
    }

    async fn create_room(&self, room: NewRoom) -> StoreResult<(ConversationId, Appended)> {
        write!(self, |c| rooms::create(c, room.clone()))
    }

    async fn get_or_create_by_context(
        &self,
        context: &Context,
        participants: &[UserId],
        creator: UserId,
    ) -> StoreResult<(ConversationId, bool)> {
        write!(self, |c| rooms::get_or_create_by_context(c, context, participants, creator))
    }

    async fn change_members(&self, id: ConversationId, actor: UserId, change: MemberChange) -> StoreResult<Appended> {
        write!(self, |c| rooms::change_members(c, id, actor, change.clone()))
    }

    async fn update_conversation(
        &self,
        id: ConversationId,
        actor: UserId,
        patch: &ConversationPatch,
    ) -> StoreResult<Option<(ConversationEvent, Appended)>> {
        write!(self, |c| rooms::update(c, id, actor, patch))
    }

    async fn request_contact(&self, from: UserId, to: UserId) -> StoreResult<Contact> {
        write!(self, |c| contacts::request(c, from, to))
    }

    async fn contact(&self, id: i64) -> StoreResult<Option<Contact>> {
        read!(self, |c| contacts::by_id(c, id))
    }

    async fn contacts(&self, user: UserId) -> StoreResult<Vec<Contact>> {
        read!(self, |c| contacts::of_user(c, user))
    }

    async fn accept_contact(&self, id: i64) -> StoreResult<Contact> {
        write!(self, |c| contacts::accept(c, id))
    }

    async fn delete_contact(&self, id: i64) -> StoreResult<()> {
        write!(self, |c| contacts::delete(c, id))
    }

    async fn are_contacts(&self, a: UserId, b: UserId) -> StoreResult<bool> {
        read!(self, |c| contacts::are_contacts(c, a, b))
    }

    async fn edit_message(&self, id: MessageId, body: &MessageBody) -> StoreResult<ConversationEvent> {
        write!(self, |c| lifecycle::edit(c, id, body))
    }

    async fn delete_message(&self, id: MessageId) -> StoreResult<ConversationEvent> {
        write!(self, |c| lifecycle::delete(c, id))
    }

    async fn toggle_reaction(&self, id: MessageId, user: UserId, emoji: &Emoji) -> StoreResult<ConversationEvent> {
        write!(self, |c| reactions::toggle(c, id, user, emoji))
    }

    async fn attachment(&self, id: AttachmentId) -> StoreResult<Option<StoredAttachment>> {
        read!(self, |c| attachments::by_id(c, id))
    }

    async fn attachment_of_message(&self, id: MessageId) -> StoreResult<Option<StoredAttachment>> {
        read!(self, |c| attachments::of_message(c, id))
    }

    async fn expire_attachments(&self, before: Timestamp, limit: u32) -> StoreResult<Vec<StoredAttachment>> {
        write!(self, |c| attachments::expire(c, before, limit))
    }

    async fn mark_delivered_many(&self, receipts: &[DeliveredUpTo]) -> StoreResult<Vec<ConversationEvent>> {
        if receipts.is_empty() {
            return Ok(Vec::new());
        }
        self.backend.queue().mark_delivered_many(receipts.to_vec()).await
    }

    async fn positions(&self, id: ConversationId) -> StoreResult<Vec<MemberPosition>> {
        read!(self, |c| read_state::positions(c, id))
    }

    async fn submit_message(&self, new: NewMessage) -> StoreResult<PendingAppend> {
        // Both backends keep the queue's order per conversation: SQLite's one writer commits its
        // batches one after another, PostgreSQL's lanes take a conversation's writes in order.
        Ok(PendingAppend::queued(self.backend.queue().submit(new).await?))
    }

    async fn append_notice(&self, id: ConversationId, text: &MessageBody) -> StoreResult<Appended> {
        write!(self, |c| messages::insert_notice(c, id, text))
    }

    async fn append_call(&self, id: ConversationId, caller: UserId, record: &CallRecord) -> StoreResult<Appended> {
        write!(self, |c| messages::insert_call(c, id, caller, record))
    }

    async fn message(&self, id: MessageId) -> StoreResult<Option<Message>> {
        let found = read!(self, |c| messages::with_event_seq(c, id))?;
        Ok(found.map(|(m, _)| m))
    }

    async fn messages_before(&self, id: ConversationId, before: Option<Seq>, limit: u32) -> StoreResult<Vec<Message>> {
        read!(self, |c| messages::before(c, id, before, limit))
    }

    async fn messages_after(&self, id: ConversationId, after: Seq, limit: u32) -> StoreResult<Vec<Message>> {
        read!(self, |c| messages::after(c, id, after, limit))
    }

    async fn mark_read(
        &self,
        id: ConversationId,
        user: UserId,
        up_to: ReadUpTo,
        log: bool,
    ) -> StoreResult<ReadOutcome> {
        self.backend.queue().mark_read(id, user, up_to, log).await
    }

    async fn unread_counts(&self, user: UserId) -> StoreResult<Vec<(ConversationId, i64)>> {
        read!(self, |c| read_state::unread_counts(c, user))
    }

    async fn search_message_page(&self, search: &MessageSearch) -> StoreResult<SearchPage> {
        // One read transaction: the candidates (SQLite makes their excerpts there) and the
        // page's rows come from one snapshot, so a delete, erasure or retention sweep committing
        // between them cannot return a tombstone with an excerpt of the text it erased.
        let mut pooled = self.backend.reader().await?;
        let mut tx = sqlx::Connection::begin_with(&mut *pooled, B::BEGIN_SNAPSHOT).await.map_err(B::error)?;
        let page = search_page::message_page(&mut Conn::<B>::new(&mut *tx), search).await?;
        tx.commit().await.map_err(B::error)?;
        Ok(page)
    }

    async fn search_conversations(
        &self,
        user: UserId,
        query: &SearchQuery,
        limit: u32,
    ) -> StoreResult<Vec<ConversationOverview>> {
        read!(self, |c| search::conversations(c, user, query, limit))
    }

    async fn events_after(&self, id: ConversationId, after: Seq, limit: u32) -> StoreResult<Vec<ConversationEvent>> {
        read!(self, |c| events::after(c, id, after, limit))
    }

    async fn chained_events(&self, id: ConversationId, after: Seq, limit: u32) -> StoreResult<Vec<ChainedEvent>> {
        read!(self, |c| transcript::chained(c, id, after, limit))
    }

    async fn last_event_seqs(&self, ids: &[ConversationId]) -> StoreResult<HashMap<ConversationId, Seq>> {
        read!(self, |c| events::last_seqs(c, ids))
    }

    async fn create_webhook(&self, new: NewWebhook) -> StoreResult<Webhook> {
        write!(self, |c| webhooks::create(c, new.clone()))
    }

    async fn webhooks(&self) -> StoreResult<Vec<Webhook>> {
        read!(self, |c| webhooks::all(c))
    }

    async fn webhook(&self, id: WebhookId) -> StoreResult<Option<Webhook>> {
        read!(self, |c| webhooks::by_id(c, id))
    }

    async fn delete_webhook(&self, id: WebhookId) -> StoreResult<()> {
        write!(self, |c| webhooks::delete(c, id))
    }

    async fn outbox_after(&self, after: OutboxId, limit: u32) -> StoreResult<Vec<OutboxEntry>> {
        if B::OUTBOX_NUMBERED_AFTER_COMMIT {
            write!(self, |c| B::number_outbox(c))?;
        }
        // One read transaction, so the entries and their events come from the same snapshot.
        let mut pooled = self.backend.reader().await?;
        let mut tx = sqlx::Connection::begin_with(&mut *pooled, B::BEGIN_SNAPSHOT).await.map_err(B::error)?;
        let entries = webhooks::outbox_after(&mut Conn::<B>::new(&mut *tx), after, limit).await?;
        tx.commit().await.map_err(B::error)?;
        Ok(entries)
    }

    async fn queue_notification_hook(&self, queued: &QueuedNotification) -> StoreResult<bool> {
        write!(self, |c| webhooks::queue_notification(c, queued))
    }

    async fn record_delivery(&self, attempt: &NewDelivery) -> StoreResult<()> {
        write!(self, |c| webhooks::record_delivery(c, attempt))
    }

    async fn advance_webhook(&self, id: WebhookId, to: OutboxId) -> StoreResult<()> {
        write!(self, |c| webhooks::advance(c, id, to))
    }

    async fn deliveries(&self, id: WebhookId, limit: u32) -> StoreResult<Vec<Delivery>> {
        read!(self, |c| webhooks::deliveries(c, id, limit))
    }

    async fn prune_webhooks(&self, keep_deliveries: u32) -> StoreResult<u64> {
        let mut pruned = 0;
        loop {
            let removed: u64 = write!(self, |c| B::prune_outbox(c, PRUNE_CHUNK))?;
            pruned += removed;
            if removed < u64::from(PRUNE_CHUNK) {
                break;
            }
        }
        write!(self, |c| webhooks::prune_deliveries(c, keep_deliveries))?;
        Ok(pruned)
    }

    async fn erase_user(&self, user: UserId, mode: ErasureMode, hook: &QueuedUserDeleted) -> StoreResult<Erasure> {
        write!(self, |c| erasure::erase_user(c, user, mode, hook))
    }

    async fn set_legal_hold(&self, id: ConversationId, on: bool) -> StoreResult<()> {
        write!(self, |c| retention::set_legal_hold(c, id, on))
    }

    async fn set_retention(
        &self,
        id: ConversationId,
        actor: UserId,
        retention_secs: Option<i64>,
    ) -> StoreResult<Option<Appended>> {
        write!(self, |c| retention::set_retention(c, id, actor, retention_secs))
    }

    async fn sweep_messages(&self, server_cutoff: Option<Timestamp>, now: Timestamp, limit: u32) -> StoreResult<Swept> {
        write!(self, |c| retention::sweep(c, server_cutoff, now, limit))
    }

    async fn request_export(&self, user: UserId, at: Timestamp, quota: ExportQuota) -> StoreResult<ExportJob> {
        write!(self, |c| exports::request(c, user, at, quota))
    }

    async fn claim_export(&self, now: Timestamp, until: Timestamp, tries: u32) -> StoreResult<Option<ExportJob>> {
        write!(self, |c| exports::claim(c, now, until, tries))
    }

    async fn finish_export(&self, id: i64, at: Timestamp, outcome: &ExportOutcome) -> StoreResult<()> {
        write!(self, |c| exports::finish(c, id, at, outcome))
    }

    async fn export(&self, id: i64) -> StoreResult<Option<ExportJob>> {
        read!(self, |c| exports::by_id(c, id))
    }

    async fn exports(&self, user: UserId, limit: u32) -> StoreResult<Vec<ExportJob>> {
        read!(self, |c| exports::of_user(c, user, limit))
    }

    async fn expire_exports(&self, now: Timestamp, forget: Timestamp, limit: u32) -> StoreResult<Vec<ExportJob>> {
        write!(self, |c| exports::expire(c, now, forget, limit))
    }

    async fn record_audit(&self, entry: &NewAuditEntry) -> StoreResult<i64> {
        write!(self, |c| audit::record(c, entry))
    }

    async fn audit_entries(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>> {
        read!(self, |c| audit::entries(c, filter))
    }

    async fn prune_audit(&self, before: Timestamp, limit: u32) -> StoreResult<u64> {
        write!(self, |c| audit::prune(c, before, limit))
    }

    async fn ping(&self) -> StoreResult<()> {
        if self.backend.queue().is_closed() {
            return Err(StoreError::Unavailable);
        }
        read!(self, |c| async { sql("SELECT 1").execute(c).await.map(drop) })
    }

    async fn backup(&self, to: &Path) -> StoreResult<u64> {
        self.backend.backup(to).await
    }

    async fn vacuum(&self) -> StoreResult<()> {
        self.backend.vacuum().await
    }

    async fn close(&self) {
        self.backend.queue().close().await;
        self.backend.close().await;
    }
}
