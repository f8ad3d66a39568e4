//! A user's notification preferences (channels, email delay, quiet hours) and their Web Push
//! subscriptions.

use parlor_core::{EmailDelay, NotificationSettings, QuietHours, Timestamp, UserId};
use parlor_store::{NewPushSubscription, PushSubscription, StoreError, StoreResult};

use crate::backend::Backend;
use crate::rows::corrupt;
use crate::statement::{Conn, Row, sql};

pub async fn get<B: Backend>(conn: &mut Conn<'_, B>, user: UserId) -> StoreResult<NotificationSettings> {
    let row = sql("SELECT push, email, email_delay_minutes, quiet_start, quiet_end, quiet_time_zone \
         FROM notification_settings WHERE user_id = $1")
    .bind(user.0)
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else { return Ok(NotificationSettings::default()) };
    let delay: Option<i64> = row.get(2)?;
    let email_delay_minutes = match delay {
        None => None,
        Some(m) => Some(
            u32::try_from(m)
                .ok()
                .and_then(|m| EmailDelay::parse(m).ok())
                .ok_or_else(|| corrupt("email delay".to_owned()))?,
        ),
    };
    let quiet: (Option<i64>, Option<i64>, Option<String>) = (row.get(3)?, row.get(4)?, row.get(5)?);
    let quiet_hours = match quiet {
        (Some(start), Some(end), Some(zone)) => {
            Some(QuietHours::parse(&hh_mm(start), &hh_mm(end), &zone).map_err(|e| corrupt(e.to_string()))?)
        }
        _ => None,
    };
    Ok(NotificationSettings {
        push: row.get::<i64>(0)? != 0,
        email: row.get::<i64>(1)? != 0,
        email_delay_minutes,
        quiet_hours,
    })
}

pub async fn set<B: Backend>(conn: &mut Conn<'_, B>, user: UserId, s: &NotificationSettings) -> StoreResult<()> {
    crate::users::ensure_exists(conn, user).await?;
    let quiet = s.quiet_hours.as_ref();
    sql("INSERT INTO notification_settings (user_id, push, email, email_delay_minutes, quiet_start, quiet_end, \
         quiet_time_zone, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (user_id) DO UPDATE SET push = excluded.push, email = excluded.email, \
         email_delay_minutes = excluded.email_delay_minutes, quiet_start = excluded.quiet_start, \
         quiet_end = excluded.quiet_end, quiet_time_zone = excluded.quiet_time_zone, updated_at = excluded.updated_at")
    .bind(user.0)
    .bind(i64::from(s.push))
    .bind(i64::from(s.email))
    .bind(s.email_delay_minutes.map(|d| i64::from(d.minutes())))
    .bind(quiet.map(|q| i64::from(q.start_minutes())))
    .bind(quiet.map(|q| i64::from(q.end_minutes())))
    .bind(quiet.map(|q| q.time_zone().to_owned()))
    .bind(Timestamp::now().as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

fn hh_mm(minutes: i64) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

const SUBSCRIPTION: &str = "id, user_id, endpoint, p256dh, auth, created_at";

fn subscription<B: Backend>(row: &Row<B>) -> StoreResult<PushSubscription> {
    Ok(PushSubscription {
        id: row.get(0)?,
        user_id: UserId(row.get(1)?),
        endpoint: row.get(2)?,
        p256dh: row.get(3)?,
        auth: row.get(4)?,
        created_at: Timestamp::from_millis(row.get(5)?),
    })
}

pub async fn add_subscription<B: Backend>(
    conn: &mut Conn<'_, B>,
    new: &NewPushSubscription,
) -> StoreResult<PushSubscription> {
    crate::users::ensure_exists(conn, new.user_id).await?;
    // An endpoint is one browser profile: registered again (a new key, another account signed
    // in), the old row goes.
    sql("DELETE FROM push_subscriptions WHERE endpoint = $1").bind(new.endpoint.as_str()).execute(conn).await?;
    let text = format!(
        "INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING {SUBSCRIPTION}"
    );
    let row = sql(text)
        .bind(new.user_id.0)
        .bind(new.endpoint.as_str())
        .bind(new.p256dh.as_str())
        .bind(new.auth.as_str())
        .bind(Timestamp::now().as_millis())
        .fetch_one(conn)
        .await?;
    subscription(&row)
}

pub async fn subscriptions<B: Backend>(conn: &mut Conn<'_, B>, user: UserId) -> StoreResult<Vec<PushSubscription>> {
    let text = format!("SELECT {SUBSCRIPTION} FROM push_subscriptions WHERE user_id = $1 ORDER BY id");
    let rows = sql(text).bind(user.0).fetch_all(conn).await?;
    rows.iter().map(subscription).collect()
}

/// One of `user`'s subscriptions (`NotFound` for anyone else's), or, with `user` `None`, any.
pub async fn delete_subscription<B: Backend>(conn: &mut Conn<'_, B>, user: Option<UserId>, id: i64) -> StoreResult<()> {
    let done = match user {
        Some(user) => {
            sql("DELETE FROM push_subscriptions WHERE id = $1 AND user_id = $2")
                .bind(id)
                .bind(user.0)
                .execute(conn)
                .await?
        }
        None => sql("DELETE FROM push_subscriptions WHERE id = $1").bind(id).execute(conn).await?,
    };
    if done == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}
