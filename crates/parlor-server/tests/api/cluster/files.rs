//! Attachments across nodes: a file uploaded through one node is served, with its thumbnail,
//! by every other, since all of them keep files in the one shared store.

use std::io::Cursor;

use reqwest::multipart::{Form, Part};

use super::harness::Cluster;

fn png() -> Vec<u8> {
    let img = image::RgbaImage::from_fn(64, 48, |x, y| image::Rgba([(x * 4) as u8, (y * 5) as u8, 90, 255]));
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgba8(img).write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[tokio::test]
async fn a_file_uploaded_on_one_node_downloads_from_another() {
    let Some(cluster) = Cluster::start(2).await else { return };
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let (alice, bob) = (a.register("alice").await, b.register("bob").await);
    let dm = a.dm(&alice, &bob).await;
    let photo = png();
    let form = Form::new().part("file", Part::bytes(photo.clone()).file_name("map.png")).text("caption", "here");
    let url = a.url(&format!("/api/chat/conversations/{dm}/attachments/"));
    let sent = a.http.post(url).bearer_auth(&alice.token).multipart(form).send().await.unwrap();
    assert_eq!(sent.status(), 201);
    let message: serde_json::Value = sent.json().await.unwrap();
    let attachment = &message["attachment"];

    let file = b.http.get(b.url(attachment["url"].as_str().unwrap())).bearer_auth(&bob.token).send().await.unwrap();
    assert_eq!(file.status(), 200);
    assert_eq!(file.bytes().await.unwrap().to_vec(), photo, "the same bytes from the other node");
    let thumbnail = attachment["thumbnail_url"].as_str().expect("images get a thumbnail");
    let thumb = b.http.get(b.url(thumbnail)).bearer_auth(&bob.token).send().await.unwrap();
    assert_eq!(thumb.status(), 200);
    assert!(thumb.bytes().await.unwrap().len() > 100, "a real thumbnail");
}
