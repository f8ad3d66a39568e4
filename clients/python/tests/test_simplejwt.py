"""Tokens minted by Django REST framework SimpleJWT itself (the library seed 001's platform and
its peer in shared/peers/django_channels use), accepted by parlor as they are with
host_tokens.user_id_claim = "user_id" and host_tokens.token_type = "access": HS256 through the
token view, and RS256 with an issuer and an audience given only the public key."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Dict

from .conftest import WAIT, Parlor, as_user, make_user

SIMPLEJWT_SHAPE = {"PARLOR_HOST_TOKENS__USER_ID_CLAIM": "user_id", "PARLOR_HOST_TOKENS__TOKEN_TYPE": "access"}


def claims(token: str) -> Dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def test_the_platforms_own_hs256_access_tokens_open_parlor(platform: Parlor, start_parlor: Callable[..., Parlor]) -> None:
    from django.conf import settings
    from django.test import Client as Browser
    from django.test import override_settings
    from rest_framework_simplejwt.tokens import RefreshToken

    # parlor verifies with the platform's SimpleJWT signing key.
    shaped = start_parlor(PARLOR_JWT_SECRET=settings.SIMPLE_JWT["SIGNING_KEY"], **SIMPLEJWT_SHAPE)
    grace = make_user("Grace", "Hopper")
    parlor_settings = {**settings.PARLOR, "URL": shaped.url, "TOKEN_FACTORY": "parlor.django.tokens.simplejwt_token"}
    with override_settings(PARLOR=parlor_settings):
        browser = Browser()
        browser.force_login(grace)
        token = browser.get("/chat/token/").json()["token"]
    minted = claims(token)
    assert (minted["token_type"], str(minted["user_id"])) == ("access", str(grace.pk)) and "jti" in minted, minted
    status, me = as_user(shaped, token, "GET", "/api/users/me")
    # Signing in saved the user, and post_save synced the name to the parlor settings name.
    assert (status, me["name"]) == (200, "Grace Hopper"), me
    status, found = as_user(shaped, token, "GET", f"/api/chat/users/by-external/{grace.pk}")
    assert (status, found["id"]) == (200, me["id"])

    refresh = str(RefreshToken.for_user(grace))
    status, body = as_user(shaped, refresh, "GET", "/api/users/me")
    assert (status, body["message"]) == (401, "token `token_type` must be `access`")


def test_rs256_simplejwt_tokens_with_issuer_and_audience(start_parlor: Callable[..., Parlor]) -> None:
    issued = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("simplejwt_issuer.py"))], capture_output=True, text=True, timeout=WAIT, check=True
    )
    made = json.loads(issued.stdout)
    shaped = start_parlor(
        PARLOR_HOST_TOKENS__ALGORITHM="RS256",
        PARLOR_HOST_TOKENS__PUBLIC_KEY=made["public_key"],
        PARLOR_HOST_TOKENS__ISSUER="https://platform.example",
        PARLOR_HOST_TOKENS__AUDIENCE="parlor",
        **SIMPLEJWT_SHAPE,
    )
    assert claims(made["access"])["aud"] == "parlor"
    status, me = as_user(shaped, made["access"], "GET", "/api/users/me")
    assert (status, me["name"]) == (200, "User 7"), me
    status, body = as_user(shaped, made["refresh"], "GET", "/api/users/me")
    assert (status, body["message"]) == (401, "token `token_type` must be `access`")
