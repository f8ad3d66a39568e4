//! Reaching people who are away (issue 21): notification preferences and Web Push
//! subscriptions, as the HTTP API reads and writes them.

use parlor_core::NotificationSettings;
use serde::{Deserialize, Deserializer, Serialize};

/// The caller's notification preferences.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationSettingsView {
    /// Web Push to the browsers you subscribed.
    pub push: bool,
    /// Email to your address, when you have one.
    pub email: bool,
    /// Minutes an unread message waits before it is mailed (1 to 1440); `null`: the server's
    /// default (`email.delay_minutes`).
    pub email_delay_minutes: Option<u32>,
    /// While these last nothing is pushed or mailed (the inbox still fills); `null`: none.
    pub quiet_hours: Option<QuietHoursView>,
}

/// A daily span of local time in an IANA time zone; it may pass midnight.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuietHoursView {
    /// `HH:MM`, inclusive.
    #[schema(example = "22:00")]
    pub start: String,
    /// `HH:MM`, exclusive; differs from `start`.
    #[schema(example = "07:00")]
    pub end: String,
    #[schema(example = "Europe/Berlin")]
    pub time_zone: String,
}

impl From<&NotificationSettings> for NotificationSettingsView {
    fn from(s: &NotificationSettings) -> Self {
        Self {
            push: s.push,
            email: s.email,
            email_delay_minutes: s.email_delay_minutes.map(|d| d.minutes()),
            quiet_hours: s.quiet_hours.as_ref().map(|q| QuietHoursView {
                start: q.start(),
                end: q.end(),
                time_zone: q.time_zone().to_owned(),
            }),
        }
    }
}

/// Changes to the caller's preferences: a field left out stays as it is; `null` clears
/// `email_delay_minutes` (back to the server's default) and `quiet_hours`.
#[derive(utoipa::ToSchema, Debug, Default, Deserialize)]
pub struct NotificationSettingsPatch {
    #[serde(default)]
    pub push: Option<bool>,
    #[serde(default)]
    pub email: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 1440)]
    pub email_delay_minutes: Option<Option<u32>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<QuietHoursView>)]
    pub quiet_hours: Option<Option<QuietHoursView>>,
}

/// A field that is present: `Some(None)` for `null`, `Some(Some(..))` for a value (absent is
/// the `default`, `None`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// What a browser needs to subscribe.
#[derive(utoipa::ToSchema, Debug, Serialize, Deserialize)]
pub struct PushConfigView {
    /// The server's VAPID public key: base64url of an uncompressed P-256 point, for
    /// `pushManager.subscribe({applicationServerKey})`.
    pub vapid_public_key: String,
}

/// A browser's `PushSubscription.toJSON()`.
#[derive(utoipa::ToSchema, Debug, Deserialize)]
pub struct PushSubscriptionRequest {
    /// The push service's URL for this browser (public addresses only).
    pub endpoint: String,
    pub keys: PushKeys,
}

#[derive(utoipa::ToSchema, Debug, Deserialize)]
pub struct PushKeys {
    /// The browser's P-256 public key, base64url.
    pub p256dh: String,
    /// The browser's 16-byte auth secret, base64url.
    pub auth: String,
}

/// A registered subscription (its keys are not shown again).
#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct PushSubscriptionView {
    pub id: i64,
    pub endpoint: String,
    pub created_at: parlor_core::Timestamp,
}

#[derive(utoipa::ToSchema, Debug, Serialize)]
pub struct PushSubscriptionList {
    pub results: Vec<PushSubscriptionView>,
}
