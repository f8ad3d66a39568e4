//! Values of the Web Push tables: a browser's subscription as registered by its user.

use parlor_core::{Timestamp, UserId};

/// A subscription to register, from the browser's `PushSubscription.toJSON()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPushSubscription {
    pub user_id: UserId,
    /// The push service's URL for this browser, checked by the outbound-address guard.
    pub endpoint: String,
    /// The browser's P-256 public key (base64url, uncompressed point).
    pub p256dh: String,
    /// The browser's 16-byte auth secret (base64url).
    pub auth: String,
}

/// A registered subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSubscription {
    pub id: i64,
    pub user_id: UserId,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub created_at: Timestamp,
}
