//! `/api/users/me/notification-settings`: defaults, partial changes, clearing with `null`, each
//! user their own, and every bad value a 400 naming the field.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::TestApp;

const PATH: &str = "/api/users/me/notification-settings";

#[tokio::test]
async fn preferences_start_on_change_in_part_and_clear_with_null() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    let defaults = json!({"push": true, "email": true, "email_delay_minutes": null, "quiet_hours": null});
    let (status, body) = alice.get(PATH).await;
    assert_eq!((status, &body), (StatusCode::OK, &defaults));

    let quiet = json!({"start": "22:00", "end": "07:00", "time_zone": "Europe/Berlin"});
    let (status, body) = app
        .patch(Some(&alice.token), PATH, json!({"push": false, "email_delay_minutes": 30, "quiet_hours": quiet}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let changed = json!({"push": false, "email": true, "email_delay_minutes": 30, "quiet_hours": quiet});
    assert_eq!(body, changed);
    assert_eq!(alice.get(PATH).await.1, changed, "kept");

    // A field left out stays; `null` clears.
    let (_, body) = alice.patch(PATH, json!({"email": false, "quiet_hours": null})).await;
    assert_eq!(body, json!({"push": false, "email": false, "email_delay_minutes": 30, "quiet_hours": null}));
    let (_, body) = alice.patch(PATH, json!({"email_delay_minutes": null})).await;
    assert_eq!(body["email_delay_minutes"], json!(null));

    assert_eq!(bob.get(PATH).await.1, defaults, "bob's are his own");
    assert_eq!(app.get(None, PATH).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.patch(None, PATH, json!({"push": false})).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_preferences_are_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let quiet =
        |start: &str, end: &str, zone: &str| json!({"quiet_hours": {"start": start, "end": end, "time_zone": zone}});
    for (body, field) in [
        (quiet("22:00", "07:00", "Mars/Olympus_Mons"), "quiet_hours.time_zone"),
        (quiet("24:00", "07:00", "UTC"), "quiet_hours.start"),
        (quiet("22:00", "7", "UTC"), "quiet_hours.end"),
        (quiet("08:00", "08:00", "UTC"), "quiet_hours.end"),
        (json!({"email_delay_minutes": 0}), "email_delay_minutes"),
        (json!({"email_delay_minutes": 1441}), "email_delay_minutes"),
    ] {
        let (status, answer) = alice.patch(PATH, body.clone()).await;
        assert_eq!((status, answer["code"].as_str()), (StatusCode::BAD_REQUEST, Some("validation_failed")), "{body}");
        assert!(answer["message"].as_str().unwrap().contains(field), "{body}: {answer}");
    }
    for body in [json!({"push": "yes"}), json!({"email_delay_minutes": -5}), json!({"quiet_hours": "22-07"})] {
        let (status, answer) = alice.patch(PATH, body.clone()).await;
        assert_eq!((status, answer["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_body")), "{body}");
    }
    let (_, now) = alice.get(PATH).await;
    assert_eq!(now["quiet_hours"], json!(null), "nothing refused was kept");
}
