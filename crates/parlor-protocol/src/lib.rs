//! parlor's wire contract, shared by the server, the tests and the load generator: HTTP request
//! and response bodies, WebSocket frames in both directions, and the stable error codes.
//!
//! **Invariant:** everything a client sees is built from the types here, never from storage
//! rows. A change to this crate is a change to the protocol, and the snapshot tests in
//! `tests/frames.rs` make it a deliberate one. The protocol is documented in `docs/protocol.md`.

mod admin;
mod audit;
mod away;
mod calls;
mod error;
mod exports;
mod frame_type;
mod frames;
mod http;
mod views;
mod webhooks;

pub use admin::{
    BackupRequest, BackupView, CreateAccountRequest, ExportPage, ExportedConversation, IssueTokenRequest, IssuedToken,
};
pub use audit::{AuditEntryView, AuditPage};
pub use away::{
    NotificationSettingsPatch, NotificationSettingsView, PushConfigView, PushKeys, PushSubscriptionList,
    PushSubscriptionRequest, PushSubscriptionView, QuietHoursView,
};
pub use calls::{CallFrame, CallInviteFrame, CallPeer, CallSignalFrame, SignalData};
pub use error::{ErrorBody, ErrorCode};
pub use exports::{ExportList, ExportView};
pub use frames::{
    ClientFrame, DeleteFrame, EditFrame, FocusFrame, FrameError, PROTOCOL_VERSION, ReactFrame, ReadFrame, ResumeFrame,
    SendFrame, ServerFrame, TypingFrame,
};
pub use http::{
    AddMembersRequest, ConnectionList, ConnectionRequestBody, ConnectionView, ContextConversationRequest,
    ConversationList, ConversationPage, ConversationPatchRequest, ConversationReceipts, CreateConversationRequest,
    CreateRoomRequest, EditMessageRequest, ForwardRequest, IceServerView, IceServers, MarkReadRequest,
    MarkReadResponse, MessagePage, MessageReceipts, MessageSearchPage, PositionView, ProfilePatch, ReactRequest,
    RefreshRequest, RegisterRequest, SeedSendMessageRequest, SendMessageRequest, SetRoleRequest, TokenRequest,
    TokenResponse, UnreadCounts, UnreadEntry, UserList, WsTicketResponse,
};
pub use views::{
    AttachmentView, CallView, ContextView, ConversationView, MemberView, MessageDetails, MessageHitView, MessageView,
    NotificationView, ReactionView, ReplyView, ReportList, ReportView, ServerUserView, StatusList, StatusView,
    SystemView, UserView, highlight_html, preview,
};
pub use webhooks::{
    CreateWebhookRequest, DeliveryList, DeliveryView, HookUser, NotificationHook, UserDeletedHook, WebhookData,
    WebhookList, WebhookPayload, WebhookView,
};
