//! The user's notification preferences as the API reads and changes them.

use parlor_core::{EmailDelay, NotificationSettings, QuietHours, UserId};

use super::Away;
use crate::error::{ApiError, ApiResult};

/// A change to the preferences, parsed: `None` leaves a field as it is; for the two optional
/// fields `Some(None)` clears them.
#[derive(Debug, Default)]
pub struct SettingsChange {
    pub push: Option<bool>,
    pub email: Option<bool>,
    pub email_delay_minutes: Option<Option<EmailDelay>>,
    pub quiet_hours: Option<Option<QuietHours>>,
}

impl Away {
    pub async fn settings(&self, me: UserId) -> ApiResult<NotificationSettings> {
        Ok(self.rules.store.notification_settings(me).await?)
    }

    pub async fn change_settings(&self, me: UserId, change: SettingsChange) -> ApiResult<NotificationSettings> {
        let mut settings = self.settings(me).await?;
        if let Some(push) = change.push {
            settings.push = push;
        }
        if let Some(email) = change.email {
            settings.email = email;
        }
        if let Some(delay) = change.email_delay_minutes {
            settings.email_delay_minutes = delay;
        }
        if let Some(quiet) = change.quiet_hours {
            settings.quiet_hours = quiet;
        }
        self.rules.store.set_notification_settings(me, &settings).await.map_err(|e| match e {
            parlor_store::StoreError::NotFound => ApiError::not_found("user"),
            other => other.into(),
        })?;
        Ok(settings)
    }
}
