"""The server API client against a real parlor: every method, and refusals as ParlorError."""

from __future__ import annotations

import os

import pytest

from parlor import Client, ParlorError, mint_token

from .conftest import JWT_SECRET, Parlor, as_user, unique


def test_users_are_created_refreshed_and_counted(parlor: Parlor) -> None:
    client = parlor.client()
    ada = unique("ada")
    created = client.upsert_user(ada, name="Ada", avatar="https://cdn.example/ada.png")
    assert created["external_id"] == ada and created["name"] == "Ada"
    again = client.upsert_user(ada, name="Ada Lovelace")
    assert again["id"] == created["id"]
    assert (again["name"], again["avatar"]) == ("Ada Lovelace", "https://cdn.example/ada.png")
    assert client.user(ada) == again
    assert client.unread(ada) == {"user_id": created["id"], "total": 0, "conversations": [], "notifications": 0}
    # Any id without spaces, a slash included, is one path segment.
    odd = client.upsert_user(unique("team/7-ü"))
    assert odd["external_id"] is not None and odd["external_id"].startswith("team/7-ü")


def test_context_conversations_members_and_notices(parlor: Parlor) -> None:
    client = parlor.client()
    owner, pro, helper = unique("client"), unique("pro"), unique("helper")
    for user in (owner, pro, helper):
        client.upsert_user(user, name=user)
    job = unique("job")
    direct = client.context_conversation("job", job, [owner, pro], title="Fix the sink")
    assert direct["kind"] == "direct" and direct["context"] == {"type": "job", "id": job, "title": "Fix the sink"}
    assert client.context_conversation("job", job, [pro, owner])["id"] == direct["id"], "the same one, from either side"

    room = client.context_conversation("order", unique("order"), [owner, pro], title="Order")
    room = client.context_conversation("site", unique("site"), [owner, pro, helper], title="Site visit")
    assert room["kind"] == "room"
    client.remove_member(room["id"], helper)
    members = {m["id"] for m in client.conversation(room["id"])["members"]}
    helper_id = client.upsert_user(helper)["id"]
    assert helper_id not in members
    client.add_members(room["id"], [helper])
    client.add_members(room["id"], [helper])  # already there: no change
    helper_token = mint_token(JWT_SECRET, helper)
    assert as_user(parlor, helper_token, "GET", f"/api/chat/conversations/{room['id']}/")[0] == 200

    notice = client.post_notice(room["id"], "Visit booked for Monday")
    assert (notice["kind"], notice["sender_id"], notice["content"]) == ("system", 0, "Visit booked for Monday")
    assert client.unread(helper)["total"] >= 1
    for n in range(3):
        client.post_notice(room["id"], f"update {n}")
    page = client.messages(room["id"], limit=2)
    assert len(page["results"]) == 2 and page["has_more"]
    every = list(client.iter_messages(room["id"]))
    assert [m["content"] for m in every][-4:] == ["Visit booked for Monday", "update 0", "update 1", "update 2"]
    assert [m["seq"] for m in every] == sorted(m["seq"] for m in every)

    connected = client.connect(owner, pro)
    assert connected["status"] == "accepted" and connected["conversation_id"] != direct["id"]


def test_refusals_are_parlor_errors_with_stable_codes(parlor: Parlor) -> None:
    client = parlor.client()
    with pytest.raises(ParlorError) as missing:
        client.unread(unique("nobody"))
    assert (missing.value.status, missing.value.code) == (404, "not_found")
    assert "upsert it first" in missing.value.message
    with pytest.raises(ParlorError) as unknown:
        client.user(unique("nobody"))
    assert unknown.value.status == 404
    with pytest.raises(ParlorError) as invalid:
        client.upsert_user(unique("x"), name="")
    assert (invalid.value.status, invalid.value.code) == (400, "validation_failed")
    with pytest.raises(ParlorError) as not_room:
        a, b, c = unique("a"), unique("b"), unique("c")
        for user in (a, b, c):
            client.upsert_user(user)
        direct = client.context_conversation("job", unique("job"), [a, b])
        client.add_members(direct["id"], [c])
    assert (not_room.value.status, not_room.value.code) == (409, "not_a_room")
    with pytest.raises(ParlorError) as wrong_key:
        parlor.client(api_key="not-the-key").upsert_user("u-1")
    assert (wrong_key.value.status, wrong_key.value.code) == (401, "unauthorized")
    with pytest.raises(ParlorError) as unreachable:
        Client("http://127.0.0.1:9", "key", timeout=2, retries=0).upsert_user("u-1")
    assert (unreachable.value.status, unreachable.value.code) == (0, "unreachable")


def test_flags_accounts_and_tokens(parlor: Parlor) -> None:
    client = parlor.client()
    username = unique("support").replace("-", "_")[:32]
    account = client.create_account(username, "correct horse battery", name="Support", admin=True)
    assert client.account_by_username(username.upper())["id"] == account["id"]
    issued = client.issue_token(account["id"], ttl_secs=60)
    assert issued["expires_in"] == 60
    status, me = as_user(parlor, issued["access"], "GET", "/api/users/me")
    assert (status, me["username"]) == (200, username)

    user = unique("troll")
    troll = client.upsert_user(user)
    token = mint_token(JWT_SECRET, user)
    assert as_user(parlor, token, "GET", "/api/users/me")[0] == 200
    client.set_flags(troll["id"], disabled=True)
    status, body = as_user(parlor, token, "GET", "/api/users/me")
    assert (status, body["code"]) == (403, "account_disabled")
    client.set_flags(troll["id"], disabled=False)
    assert as_user(parlor, token, "GET", "/api/users/me")[0] == 200


def test_webhook_endpoints_are_managed(parlor: Parlor) -> None:
    client = parlor.client()
    hook = client.create_webhook("http://127.0.0.1:9/hooks/parlor", events=["message.created"], secret="s" * 20)
    assert hook["secret"] == "s" * 20 and hook["events"] == ["message.created"]
    listed = client.webhooks()
    assert hook["id"] in [h["id"] for h in listed] and all("secret" not in h for h in listed)
    assert client.webhook_deliveries(hook["id"]) == []
    client.delete_webhook(hook["id"])
    assert hook["id"] not in [h["id"] for h in client.webhooks()]
    with pytest.raises(ParlorError) as gone:
        client.delete_webhook(hook["id"])
    assert gone.value.status == 404


def test_backup_and_vacuum(parlor: Parlor) -> None:
    client = parlor.client()
    name = unique("backup") + ".db"
    copy = client.backup(name)
    assert copy["bytes"] > 0 and os.path.isfile(parlor.data_dir / name)
    client.vacuum()
