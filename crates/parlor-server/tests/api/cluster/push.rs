//! Web Push on several nodes: nodes given the same VAPID private key (each with its own data
//! directory) sign alike, so a browser that subscribed through one node accepts pushes signed by
//! another.

use reqwest::StatusCode;

use crate::helpers::TestApp;

/// The public half of the private key below: a scalar of 1 makes it P-256's generator point,
/// uncompressed and base64url, so a node that made a key of its own would show another.
const CONFIGURED_PUBLIC: &str =
    "BGsX0fLhLEJH-Lzm5WOkQPJ3A32BLeszoPShOUXYmMKWT-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU";

#[tokio::test]
async fn a_configured_vapid_key_is_shared_by_nodes() {
    let configured = |c: &mut parlor_server::config::Config| {
        c.push.vapid_private_key = parlor_server::config::Secret::new("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE");
    };
    let (one, two) = (TestApp::spawn_with(configured).await, TestApp::spawn_with(configured).await);
    let (a, b) = (one.register("alice").await, two.register("bob").await);
    let mut keys = Vec::new();
    for (node, user) in [(&one, &a), (&two, &b)] {
        let (status, config) = node.get(Some(&user.token), "/api/push/config").await;
        assert_eq!(status, StatusCode::OK, "{}: {config}", node.url(""));
        keys.push(config["vapid_public_key"].as_str().unwrap().to_owned());
    }
    assert_eq!(keys[0], keys[1], "one key for every node");
    assert_eq!(keys[0], CONFIGURED_PUBLIC, "the configured key, not one of the node's own");
    one.stop().await;
    two.stop().await;
}
