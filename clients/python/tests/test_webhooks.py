"""verify_webhook against real deliveries: parlor posts to a receiver this test runs, and the
signature checks out; tampering, another secret, an old timestamp or a bad header do not."""

from __future__ import annotations

import queue
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, Iterator, Tuple

import pytest

from parlor import WebhookVerificationError, mint_token, verify_webhook

from .conftest import JWT_SECRET, WEBHOOK_SECRET, Parlor, as_user, eventually, unique, wait_for

Delivery = Tuple[bytes, Dict[str, str]]


@pytest.fixture
def receiver() -> Iterator[Tuple[str, "queue.Queue[Delivery]"]]:
    """An HTTP endpoint on 127.0.0.1 that answers 200 and queues (raw body, headers)."""
    received: "queue.Queue[Delivery]" = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.put((body, {k.lower(): v for k, v in self.headers.items()}))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/parlor", received
    server.shutdown()
    server.server_close()


def test_a_real_delivery_verifies_and_anything_else_does_not(parlor: Parlor, receiver: Tuple[str, "queue.Queue[Delivery]"]) -> None:
    url, received = receiver
    client = parlor.client()
    hook = client.create_webhook(url, events=["message.created"], secret=WEBHOOK_SECRET)
    try:
        alice, bob = unique("alice"), unique("bob")
        client.upsert_user(bob, name="Bob")
        token = mint_token(JWT_SECRET, alice, name="Alice")
        bob_id = client.upsert_user(bob)["id"]
        status, dm = as_user(parlor, token, "POST", "/api/chat/conversations/", {"user_id": bob_id})
        assert status in (200, 201), dm
        as_user(parlor, token, "POST", f"/api/chat/conversations/{dm['id']}/messages/", {"content": "Is the van free on Monday?"})

        body, headers = wait_for(received, "a delivery")
        event = verify_webhook(body, headers["x-parlor-signature"], WEBHOOK_SECRET)
        assert event["id"] == headers["x-parlor-delivery"]
        assert (event["type"], event["conversation_id"]) == ("message.created", dm["id"])
        assert event["data"]["content"] == "Is the van free on Monday?"
        assert verify_webhook(body.decode(), headers["x-parlor-signature"], WEBHOOK_SECRET)["id"] == event["id"]

        refusals = {
            "tampered": (body.replace(b"Monday", b"Sunday"), headers["x-parlor-signature"], WEBHOOK_SECRET),
            "other secret": (body, headers["x-parlor-signature"], "another-secret-0123456789"),
            "no header": (body, "", WEBHOOK_SECRET),
            "bad header": (body, "sha256=abc", WEBHOOK_SECRET),
        }
        for why, (raw, header, secret) in refusals.items():
            with pytest.raises(WebhookVerificationError):
                verify_webhook(raw, header, secret)
                pytest.fail(why)
        t = int(headers["x-parlor-signature"].split(",")[0][2:])
        with pytest.raises(WebhookVerificationError, match="300 s"):
            verify_webhook(body, headers["x-parlor-signature"], WEBHOOK_SECRET, now=t + 301)
        assert verify_webhook(body, headers["x-parlor-signature"], WEBHOOK_SECRET, tolerance=600, now=t + 301)
        # The log row is written with the cursor, just after the 2xx.
        eventually(lambda: len(client.webhook_deliveries(hook["id"])) > 0, "the delivery is logged")
        logged = client.webhook_deliveries(hook["id"])[0]
        assert logged["ok"] and logged["event_id"] == event["id"] and logged["status"] == 200
    finally:
        client.delete_webhook(hook["id"])
