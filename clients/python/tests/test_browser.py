"""The "Chat with X" button in a real browser: Chromium signs in to the Django platform, opens a
profile page rendered with {% parlor_embed %} and {% parlor_chat_button %}, clicks the button and
writes from the panel; the other user has the message in parlor. Needs node, Debian's chromium
and `npm ci` in crates/parlor-server/tests/web (which .ci/run does): skipped without them
locally, failed in CI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Callable, Optional

import pytest

from parlor import mint_token

from .conftest import JWT_SECRET, REPO, Parlor, as_user, make_user, unique

CHROMIUM = "/usr/bin/chromium"
PLAYWRIGHT_DIR = REPO / "crates" / "parlor-server" / "tests" / "web" / "node_modules"


def missing_browser_tools() -> Optional[str]:
    if shutil.which("node") is None:
        return "node is not installed"
    if not (PLAYWRIGHT_DIR / "playwright-core").is_dir():
        return f"playwright-core is not installed (npm ci in {PLAYWRIGHT_DIR.parent})"
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing"
    return None


def test_the_chat_button_opens_the_conversation_and_sends(
    platform: Parlor, platform_url: str, start_parlor: Callable[..., Parlor]
) -> None:
    why = missing_browser_tools()
    if why:
        assert "CI" not in os.environ, f"the browser test must run in CI: {why}"
        pytest.skip(why)
    from django.conf import settings
    from django.test import override_settings

    # parlor lets the platform's pages show it in a frame.
    embedding = start_parlor(PARLOR_JWT_SECRET=JWT_SECRET, PARLOR_WEB__EMBED_ORIGINS=json.dumps([platform_url]))
    with override_settings(PARLOR={**settings.PARLOR, "URL": embedding.url}):
        ada, bob = make_user("Ada", "Lovelace"), make_user("Bob", "Chen")
        text = f"Is the flat still free? {unique('ref')}"
        run = subprocess.run(
            ["node", str(Path(__file__).with_name("chat_button.mjs"))],
            env={
                **os.environ,
                "PLATFORM_URL": platform_url,
                "SIGN_IN": ada.username,
                "PROFILE": bob.username,
                "BUTTON": "Chat with Bob",
                "TEXT": text,
                "CHROMIUM": CHROMIUM,
                "PLAYWRIGHT_DIR": str(PLAYWRIGHT_DIR),
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert run.returncode == 0, f"browser run failed\n{run.stdout}\n{run.stderr}"
    assert json.loads(run.stdout.strip().splitlines()[-1])["title"] == "Bob Chen"
    status, listing = as_user(embedding, mint_token(JWT_SECRET, bob.pk), "GET", "/api/chat/conversations/")
    assert status == 200
    last = [c["last_message"] for c in listing["results"] if c.get("last_message")]
    assert [(m["content"], m["sender_name"]) for m in last] == [(text, "Ada Lovelace")]
