//! Checks for the audit log: entries come back as recorded, newest first, through every
//! filter and page by page; the retention sweep deletes only old entries, a batch at a time.

use parlor_core::Timestamp;

use crate::{AuditFilter, NewAuditEntry, Store};

fn entry(at: i64, actor: &str, action: &str, target: Option<&str>) -> NewAuditEntry {
    NewAuditEntry {
        at: Timestamp::from_millis(at),
        actor: actor.to_owned(),
        action: action.to_owned(),
        target: target.map(str::to_owned),
        request_id: Some(format!("req-{at}")),
        details: Some(format!("{{\"n\":{at}}}")),
    }
}

fn all(limit: u32) -> AuditFilter {
    AuditFilter { limit, ..AuditFilter::default() }
}

pub async fn check_audit_log(store: &dyn Store) {
    assert!(store.audit_entries(&all(10)).await.expect("audit_entries").is_empty(), "a new store has no entries");
    let recorded = [
        entry(1_000, "api_key", "account.disable", Some("user:7")),
        entry(2_000, "user:1", "message.delete", Some("message:9")),
        entry(3_000, "api_key", "server.backup", None),
        entry(4_000, "api_key", "account.disable", Some("user:8")),
    ];
    let mut ids = Vec::new();
    for e in &recorded {
        ids.push(store.record_audit(e).await.expect("record_audit"));
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids grow in the order entries are recorded: {ids:?}");

    let everything = store.audit_entries(&all(10)).await.expect("audit_entries");
    assert_eq!(everything.len(), 4);
    assert_eq!(everything[0].entry, recorded[3], "newest first, every field as recorded");
    assert_eq!(everything[3].entry, recorded[0]);
    assert_eq!(everything[0].id, ids[3]);

    let by_actor = AuditFilter { actor: Some("api_key".into()), ..all(10) };
    assert_eq!(store.audit_entries(&by_actor).await.expect("audit_entries").len(), 3, "filtered by actor");
    let by_action = AuditFilter { action: Some("account.disable".into()), ..all(10) };
    let found = store.audit_entries(&by_action).await.expect("audit_entries");
    assert_eq!(found.iter().map(|e| e.id).collect::<Vec<_>>(), [ids[3], ids[0]], "filtered by action");
    let by_target = AuditFilter { target: Some("message:9".into()), ..all(10) };
    let found = store.audit_entries(&by_target).await.expect("audit_entries");
    assert_eq!(found.iter().map(|e| e.id).collect::<Vec<_>>(), [ids[1]], "filtered by target");
    let window = AuditFilter {
        since: Some(Timestamp::from_millis(2_000)),
        until: Some(Timestamp::from_millis(4_000)),
        ..all(10)
    };
    let found = store.audit_entries(&window).await.expect("audit_entries");
    assert_eq!(found.iter().map(|e| e.id).collect::<Vec<_>>(), [ids[2], ids[1]], "since is inclusive, until is not");
    let combined = AuditFilter { actor: Some("api_key".into()), since: Some(Timestamp::from_millis(2_000)), ..all(10) };
    assert_eq!(store.audit_entries(&combined).await.expect("audit_entries").len(), 2, "filters combine");

    // Paging: the last id of a page is the next page's cursor.
    let first = store.audit_entries(&all(3)).await.expect("audit_entries");
    assert_eq!(first.len(), 3, "at most `limit`");
    let cursor = first.last().map(|e| e.id);
    let rest = store.audit_entries(&AuditFilter { before_id: cursor, ..all(3) }).await.expect("audit_entries");
    assert_eq!(rest.iter().map(|e| e.id).collect::<Vec<_>>(), [ids[0]], "the next page starts after the cursor");

    // Retention: only entries before the cut, at most `limit` per call.
    let cut = Timestamp::from_millis(3_000);
    assert_eq!(store.prune_audit(cut, 1).await.expect("prune_audit"), 1, "one batch at a time");
    assert_eq!(store.prune_audit(cut, 100).await.expect("prune_audit"), 1);
    assert_eq!(store.prune_audit(cut, 100).await.expect("prune_audit"), 0, "nothing older left");
    let left = store.audit_entries(&all(10)).await.expect("audit_entries");
    assert_eq!(left.iter().map(|e| e.id).collect::<Vec<_>>(), [ids[3], ids[2]], "newer entries stay");
    let next = store.record_audit(&entry(5_000, "system", "audit.prune", None)).await.expect("record_audit");
    assert!(next > ids[3], "ids are never reused after a prune");
}
