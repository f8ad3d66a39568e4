"""The documentation says what runs: the examples in the SDK's docstrings, and every snippet of
docs/integrate.md. A snippet marked ``<!-- from: path -->`` must be lines of that file as they
are; one marked ``<!-- run: name -->`` is run here against a real parlor."""

from __future__ import annotations

import doctest
import re
import socket
import urllib.request
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Dict, List, Tuple

import pytest

import parlor.tokens
import parlor.webhooks
from parlor import mint_token

from .conftest import REPO, WAIT, Parlor, as_user, make_user

GUIDE = REPO / "docs" / "integrate.md"
SNIPPET = re.compile(r"<!-- (from|run): (\S+) -->\n```\w*\n(.*?)\n```", re.S)


def snippets(kind: str) -> List[Tuple[str, str]]:
    return [(where, code) for k, where, code in SNIPPET.findall(GUIDE.read_text()) if k == kind]


def run_snippet(name: str) -> str:
    found = [code for where, code in snippets("run") if where == name]
    assert len(found) == 1, f"docs/integrate.md has {len(found)} snippets marked run: {name}"
    return found[0]


@pytest.mark.parametrize("module", [parlor.tokens, parlor.webhooks], ids=lambda m: m.__name__)
def test_docstring_examples(module: ModuleType) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_every_quoted_file_still_says_so() -> None:
    quoted = snippets("from")
    assert len(quoted) >= 5
    for where, code in quoted:
        lines = [line.rstrip() for line in (REPO / where).read_text().splitlines()]
        wanted = [line.rstrip() for line in code.splitlines()]
        runs = (lines[i : i + len(wanted)] for i in range(len(lines) - len(wanted) + 1))
        assert wanted in runs, f"docs/integrate.md quotes {where}, which no longer holds:\n{code}"
    ran = {where for where, _ in snippets("run")}
    assert ran == {"parlor_config", "context_conversation", "create_webhook", "simplejwt_config"}, ran


def handshake(server: Parlor, token: str, origin: str) -> str:
    """The status line a WebSocket upgrade from a page on ``origin`` gets."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=WAIT) as sock:
        sock.sendall(
            f"GET /ws/?token={token} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n".encode()
        )
        return sock.recv(4096).split(b"\r\n")[0].decode()


def test_the_parlor_config_of_section_1(start_parlor: Callable[..., Parlor], tmp_path: Path) -> None:
    import tomllib

    toml = run_snippet("parlor_config")
    config = tomllib.loads(toml)
    (tmp_path / "parlor.toml").write_text(toml)
    server = start_parlor("--config", str(tmp_path / "parlor.toml"))
    site = config["web"]["embed_origins"][0]
    token = mint_token(config["jwt_secret"], "42", name="Ada")
    assert as_user(server, token, "GET", "/api/users/me")[1]["name"] == "Ada"
    assert server.client(api_key=config["api_key"]).upsert_user("43")["external_id"] == "43"
    with urllib.request.urlopen(server.url + "/", timeout=WAIT) as page:
        assert f"frame-ancestors 'self' {site}" in page.headers["Content-Security-Policy"]
    preflight = urllib.request.Request(
        server.url + "/api/users/me",
        method="OPTIONS",
        headers={"Origin": site, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"},
    )
    with urllib.request.urlopen(preflight, timeout=WAIT) as answer:
        assert answer.headers["Access-Control-Allow-Origin"] == site
    assert " 101 " in handshake(server, token, site)
    assert " 403 " in handshake(server, token, "https://elsewhere.example")


def test_the_simplejwt_config_of_section_8(platform: Parlor, start_parlor: Callable[..., Parlor], tmp_path: Path) -> None:
    from django.conf import settings
    from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

    signing_key = settings.SIMPLE_JWT["SIGNING_KEY"]
    (tmp_path / "parlor.toml").write_text(f'jwt_secret = "{signing_key}"\n' + run_snippet("simplejwt_config"))
    server = start_parlor("--config", str(tmp_path / "parlor.toml"))
    user = make_user("Hedy", "Lamarr")
    assert as_user(server, str(AccessToken.for_user(user)), "GET", "/api/users/me")[0] == 200
    assert as_user(server, str(RefreshToken.for_user(user)), "GET", "/api/users/me")[0] == 401


def test_the_conversations_of_section_6(platform: Parlor) -> None:
    people = {name: make_user(name.title(), "Doe") for name in ("customer", "plumber", "electrician", "apprentice")}
    scope: Dict[str, Any] = {"job_id": people["customer"].pk * 1000, **people}
    exec(run_snippet("context_conversation"), scope)
    client = platform.client()
    job, site = scope["job"], scope["site"]
    assert (job["kind"], job["context"]["title"]) == ("direct", "Fix the kitchen sink")
    assert list(client.iter_messages(job["id"]))[-1]["content"] == "Bob accepted the job: Tuesday, 9:00"
    members = {m["id"] for m in client.conversation(site["id"])["members"]}
    expected = {client.upsert_user(str(people[n].pk))["id"] for n in ("customer", "plumber", "apprentice")}
    assert members == expected


def test_the_webhook_registration_of_section_7(platform: Parlor) -> None:
    from django.conf import settings

    client = platform.client()
    before = {h["id"] for h in client.webhooks()}
    exec(run_snippet("create_webhook"), {"settings": settings})
    made = [h for h in client.webhooks() if h["id"] not in before]
    try:
        assert [(h["url"], sorted(h["events"] or [])) for h in made] == [
            ("https://www.example-marketplace.com/chat/webhooks/", ["member.added", "message.created"])
        ]
    finally:
        for hook in made:
            client.delete_webhook(hook["id"])
