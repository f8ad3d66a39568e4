"""parlor.django in the platform of tests/marketplace: users synced on save, the token view, the
page with the embed script and a "Chat with X" button, and webhooks posted by parlor to the
platform served over real HTTP (verified, each event once, again after a failure)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from typing import Any, Dict, Tuple

import pytest

from .conftest import WEBHOOK_SECRET, Parlor, as_user, eventually, make_user


def post(url: str, body: bytes, headers: Dict[str, str]) -> Tuple[int, Any]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_users_are_synced_and_the_token_view_signs_them_in(platform: Parlor) -> None:
    from django.test import Client as Browser

    ada = make_user("Ada", "Lovelace")
    synced = platform.client().upsert_user(str(ada.pk))
    assert synced["name"] == "Ada Lovelace", "post_save created the user in parlor"

    browser = Browser()
    assert browser.get("/chat/token/").status_code == 401
    browser.force_login(ada)
    answer = browser.get("/chat/token/")
    assert answer.status_code == 200
    assert "no-store" in answer["Cache-Control"]
    body = answer.json()
    assert body["expires_in"] == 900
    status, me = as_user(platform, body["token"], "GET", "/api/users/me")
    assert (status, me["id"], me["name"]) == (200, synced["id"], "Ada Lovelace")
    assert browser.post("/chat/token/").status_code == 405


def test_a_profile_page_has_the_embed_script_and_a_chat_button(platform: Parlor) -> None:
    from django.test import Client as Browser

    ada, bob = make_user("Ada", "Lovelace"), make_user("Bob", "<b>Chen</b>")
    browser = Browser()
    browser.force_login(ada)
    page = browser.get(f"/people/{bob.username}/").content.decode()
    assert f'<script src="{platform.url}/embed.js" data-token-url="/chat/token/" defer></script>' in page
    assert f'<button type="button" class="parlor-chat-button" data-parlor-chat-with="{bob.pk}">Chat with Bob</button>' in page
    assert "<b>Chen</b>" not in page and "&lt;b&gt;Chen&lt;/b&gt;" in page
    browser.force_login(bob)
    assert "data-parlor-chat-with" not in browser.get(f"/people/{bob.username}/").content.decode(), "no button to oneself"


def test_webhooks_reach_the_platform_verified_once_each(platform: Parlor, platform_url: str) -> None:
    from tests.marketplace import chat

    from parlor.django.conf import token_for

    client = platform.client()
    hook = client.create_webhook(f"{platform_url}/chat/webhooks/", events=["message.created"], secret=WEBHOOK_SECRET)
    try:
        ada, bob = make_user("Ada", "Lovelace"), make_user("Bob", "Chen")
        token = token_for(ada)
        bob_id = client.upsert_user(str(bob.pk))["id"]
        _, dm = as_user(platform, token, "POST", "/api/chat/conversations/", {"user_id": bob_id})

        def say(text: str) -> None:
            status, body = as_user(platform, token, "POST", f"/api/chat/conversations/{dm['id']}/messages/", {"content": text})
            assert status == 201, body

        def contents() -> list[str]:
            return [e["data"]["content"] for e in chat.received if e["conversation_id"] == dm["id"]]

        say("Can you do Tuesday?")
        eventually(lambda: contents() == ["Can you do Tuesday?"], "the event reaches the receiver")
        first = next(e for e in chat.received if e["conversation_id"] == dm["id"])

        # A delivery repeated (parlor retrying after a lost answer) is answered, not handled twice.
        body = json.dumps(first).encode()
        t = str(int(time.time()))
        signature = hmac.new(WEBHOOK_SECRET.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-Parlor-Signature": f"t={t},v1={signature}"}
        assert post(f"{platform_url}/chat/webhooks/", body, headers) == (200, {"duplicate": True})
        forged = {**headers, "X-Parlor-Signature": f"t={t},v1={'0' * 64}"}
        assert post(f"{platform_url}/chat/webhooks/", body.replace(b"Tuesday", b"never"), forged)[0] == 400
        assert contents() == ["Can you do Tuesday?"]

        # The platform fails: parlor retries until it answers, and the event is handled once.
        chat.failing = True
        say("Or Wednesday?")
        eventually(
            lambda: any(not d["ok"] and d["status"] == 500 for d in client.webhook_deliveries(hook["id"])),
            "parlor sees the failure",
        )
        chat.failing = False
        eventually(lambda: contents() == ["Can you do Tuesday?", "Or Wednesday?"], "the retry is handled once")
    finally:
        chat.failing = False
        client.delete_webhook(hook["id"])
