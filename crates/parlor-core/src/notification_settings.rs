//! A user's notification preferences: which channels beyond the open app may reach them (Web
//! Push, email), after how long email waits, and the quiet hours during which neither does.
//! The inbox fills whatever they say.

use chrono::Timelike;
use chrono_tz::Tz;

use crate::{Timestamp, ValidationError};

/// Longest an email may be held back for (a day).
pub const MAX_EMAIL_DELAY_MINUTES: u32 = 24 * 60;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationSettings {
    /// Web Push to the user's subscribed browsers.
    pub push: bool,
    /// Email to the user's address, when they have one.
    pub email: bool,
    /// Minutes an unread message waits before it is mailed; `None`: the server's default.
    pub email_delay_minutes: Option<EmailDelay>,
    pub quiet_hours: Option<QuietHours>,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self { push: true, email: true, email_delay_minutes: None, quiet_hours: None }
    }
}

/// Minutes, 1 to [`MAX_EMAIL_DELAY_MINUTES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmailDelay(u32);

impl EmailDelay {
    pub fn parse(minutes: u32) -> Result<Self, ValidationError> {
        if (1..=MAX_EMAIL_DELAY_MINUTES).contains(&minutes) {
            Ok(Self(minutes))
        } else {
            Err(ValidationError::new("email_delay_minutes", format!("must be between 1 and {MAX_EMAIL_DELAY_MINUTES}")))
        }
    }

    pub fn minutes(self) -> u32 {
        self.0
    }
}

/// A daily span of local time (`start` inclusive, `end` exclusive; it may pass midnight) in an
/// IANA time zone, so it follows the user's daylight saving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    start: MinuteOfDay,
    end: MinuteOfDay,
    time_zone: Tz,
}

impl QuietHours {
    /// From `"HH:MM"` times and a zone name such as `Europe/Berlin`.
    pub fn parse(start: &str, end: &str, time_zone: &str) -> Result<Self, ValidationError> {
        let start = MinuteOfDay::parse("quiet_hours.start", start)?;
        let end = MinuteOfDay::parse("quiet_hours.end", end)?;
        if start == end {
            return Err(ValidationError::new("quiet_hours.end", "must differ from start"));
        }
        let time_zone = time_zone.parse::<Tz>().map_err(|_| {
            ValidationError::new("quiet_hours.time_zone", "must be an IANA time zone such as Europe/Berlin")
        })?;
        Ok(Self { start, end, time_zone })
    }

    pub fn start(&self) -> String {
        self.start.to_string()
    }

    pub fn end(&self) -> String {
        self.end.to_string()
    }

    /// Minutes after local midnight, as stored.
    pub fn start_minutes(&self) -> u16 {
        self.start.0
    }

    pub fn end_minutes(&self) -> u16 {
        self.end.0
    }

    pub fn time_zone(&self) -> &'static str {
        self.time_zone.name()
    }

    /// Whether `at` falls inside the quiet span, in the user's local time.
    pub fn covers(&self, at: Timestamp) -> bool {
        let local = at.to_datetime().with_timezone(&self.time_zone);
        let now = MinuteOfDay((local.hour() * 60 + local.minute()) as u16);
        if self.start < self.end { self.start <= now && now < self.end } else { now >= self.start || now < self.end }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct MinuteOfDay(u16);

impl MinuteOfDay {
    fn parse(field: &'static str, raw: &str) -> Result<Self, ValidationError> {
        let wrong = || ValidationError::new(field, "must be a time of day as HH:MM (00:00 to 23:59)");
        let (h, m) = raw.split_once(':').ok_or_else(wrong)?;
        if h.len() != 2 || m.len() != 2 {
            return Err(wrong());
        }
        let (h, m): (u16, u16) = (h.parse().map_err(|_| wrong())?, m.parse().map_err(|_| wrong())?);
        if h > 23 || m > 59 {
            return Err(wrong());
        }
        Ok(Self(h * 60 + m))
    }
}

impl std::fmt::Display for MinuteOfDay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rfc3339: &str) -> Timestamp {
        let t = chrono::DateTime::parse_from_rfc3339(rfc3339).expect("a valid time");
        Timestamp::from_millis(t.timestamp_millis())
    }

    #[test]
    fn quiet_hours_pass_midnight_in_local_time() {
        let quiet = QuietHours::parse("22:00", "07:00", "Europe/Berlin").expect("valid");
        // 21:30 UTC is 22:30 in Berlin in winter (UTC+1), 23:30 in summer (UTC+2).
        assert!(quiet.covers(at("2026-01-10T21:30:00Z")));
        assert!(!quiet.covers(at("2026-07-10T05:30:00Z")), "07:30 in Berlin in summer (UTC+2)");
        assert!(quiet.covers(at("2026-07-10T04:30:00Z")), "06:30 in Berlin in summer");
        assert!(!quiet.covers(at("2026-01-10T12:00:00Z")));
        assert!(quiet.covers(at("2026-01-10T05:59:00Z")), "06:59 in Berlin");
        assert!(!quiet.covers(at("2026-01-10T06:00:00Z")), "07:00 in Berlin: the end is exclusive");
    }

    #[test]
    fn a_span_within_one_day() {
        let quiet = QuietHours::parse("09:00", "17:30", "UTC").expect("valid");
        assert!(quiet.covers(at("2026-03-01T09:00:00Z")));
        assert!(!quiet.covers(at("2026-03-01T17:30:00Z")));
        assert!(!quiet.covers(at("2026-03-01T08:59:00Z")));
    }

    #[test]
    fn bad_times_and_zones_name_the_field() {
        assert_eq!(QuietHours::parse("24:00", "07:00", "UTC").unwrap_err().field, "quiet_hours.start");
        assert_eq!(QuietHours::parse("7:00", "08:00", "UTC").unwrap_err().field, "quiet_hours.start");
        assert_eq!(QuietHours::parse("07:00", "07:00", "UTC").unwrap_err().field, "quiet_hours.end");
        assert_eq!(QuietHours::parse("22:00", "07:00", "Mars/Olympus").unwrap_err().field, "quiet_hours.time_zone");
        assert!(EmailDelay::parse(0).is_err() && EmailDelay::parse(1441).is_err() && EmailDelay::parse(10).is_ok());
    }
}
