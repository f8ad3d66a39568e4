//! Conformance checks for attachments: stored with their message, shown wherever the message
//! is, found by id and by message, removed with a deleted message, expired by age.

use parlor_core::{AttachmentKind, NewAttachment, Seq, Timestamp};

use super::{direct, message_to, three_users};
use crate::{Store, StoreError};

fn photo() -> NewAttachment {
    NewAttachment {
        kind: AttachmentKind::Image,
        file_name: "beach.jpg".into(),
        content_type: "image/jpeg".into(),
        size: 1234,
        width: Some(640),
        height: Some(480),
        blob_key: "attachments/1/abc".into(),
        thumbnail_key: Some("attachments/1/abc.thumb".into()),
        sha256: "00ff".into(),
    }
}

pub async fn check_attachments(store: &dyn Store) {
    let [alice, bob, _] = three_users(store).await;
    let conversation = direct(store, &alice, &bob).await;
    let mut new = message_to(conversation, &alice, "look");
    new.attachment = Some(photo());
    let appended = store.append_message(new).await.expect("append with attachment");
    let message = appended.message().expect("a message event").clone();
    let attachment = message.attachment.clone().expect("the message carries its attachment");
    assert_eq!(attachment.kind, AttachmentKind::Image);
    assert_eq!((attachment.file_name.as_str(), attachment.size), ("beach.jpg", 1234));
    assert_eq!((attachment.width, attachment.height), (Some(640), Some(480)));
    assert!(attachment.has_thumbnail && !attachment.expired);

    let stored = store.attachment(attachment.id).await.expect("attachment").expect("found by id");
    assert_eq!(stored.message_id, message.id);
    assert_eq!(stored.conversation_id, conversation);
    assert_eq!(stored.blob_key, "attachments/1/abc");
    assert_eq!(stored.thumbnail_key.as_deref(), Some("attachments/1/abc.thumb"));
    assert_eq!(stored.sha256, "00ff");
    let by_message = store.attachment_of_message(message.id).await.expect("attachment_of_message");
    assert_eq!(by_message.as_ref(), Some(&stored));

    let page = store.messages_before(conversation, None, 10).await.expect("history");
    assert_eq!(page[0].attachment.as_ref(), Some(&attachment), "history shows the attachment");
    let log = store.events_after(conversation, Seq::ZERO, 10).await.expect("events");
    let logged = log.iter().find_map(|e| match &e.kind {
        parlor_core::EventKind::MessageCreated(m) => m.attachment.clone(),
        _ => None,
    });
    assert_eq!(logged.as_ref(), Some(&attachment), "the replayed event shows the attachment");

    // Expiry: nothing is younger than a time in the past; everything is older than the future.
    let none = store.expire_attachments(Timestamp::from_millis(0), 10).await.expect("expire");
    assert!(none.is_empty(), "nothing expires before its time");
    let expired = store.expire_attachments(Timestamp::now().plus_secs(60), 10).await.expect("expire");
    assert_eq!(expired.iter().map(|a| a.attachment.id).collect::<Vec<_>>(), [attachment.id]);
    let again = store.expire_attachments(Timestamp::now().plus_secs(60), 10).await.expect("expire");
    assert!(again.is_empty(), "an attachment expires once");
    let shown = store.message(message.id).await.expect("message").expect("still there");
    assert!(shown.attachment.expect("attachment row kept").expired, "the message says its file expired");

    // Deleting the message removes the attachment row.
    let mut second = message_to(conversation, &bob, "placeholder");
    second.body = parlor_core::MessageBody::caption(String::new(), 100).expect("an empty caption is fine");
    second.attachment = Some(NewAttachment { blob_key: "attachments/1/def".into(), ..photo() });
    let second = store.append_message(second).await.expect("append").message().expect("message").clone();
    let second_attachment = second.attachment.expect("attachment").id;
    store.delete_message(second.id).await.expect("delete");
    assert_eq!(store.attachment(second_attachment).await.expect("lookup"), None, "deleted with its message");
    assert_eq!(store.attachment_of_message(second.id).await.expect("lookup"), None);
    let tombstone = store.message(second.id).await.expect("message").expect("tombstone");
    assert!(tombstone.attachment.is_none() && tombstone.content.is_empty());
    assert!(matches!(store.delete_message(second.id).await, Err(StoreError::NotFound)));
}
