"""mint_token's tokens, accepted by a real parlor: the default shape, and one changed by
[host_tokens] (HS512, another user id claim, token_type, iss, aud)."""

from __future__ import annotations

import time
from typing import Callable

import pytest

from parlor import mint_token

from .conftest import JWT_SECRET, Parlor, as_user, unique


def test_a_minted_token_opens_parlor_as_the_platform_user(parlor: Parlor) -> None:
    user = unique("u")
    token = mint_token(JWT_SECRET, user, name="Grace Hopper", avatar="https://cdn.example/grace.png")
    status, me = as_user(parlor, token, "GET", "/api/users/me")
    assert status == 200, me
    assert (me["name"], me["avatar"]) == ("Grace Hopper", "https://cdn.example/grace.png")
    assert parlor.client().upsert_user(user)["id"] == me["id"], "the same user the server API names"
    # The profile follows the claims.
    renamed = mint_token(JWT_SECRET, user, name="Rear Admiral Hopper")
    assert as_user(parlor, renamed, "GET", "/api/users/me")[1]["name"] == "Rear Admiral Hopper"


def test_expired_and_foreign_tokens_are_refused(parlor: Parlor) -> None:
    expired = mint_token(JWT_SECRET, "u-1", ttl=60, now=int(time.time()) - 3600)
    status, body = as_user(parlor, expired, "GET", "/api/users/me")
    assert (status, body["message"]) == (401, "token has expired")
    forged = mint_token("another-secret-0123456789abcdef", "u-1")
    assert as_user(parlor, forged, "GET", "/api/users/me")[1]["message"] == "token signature is invalid"
    with pytest.raises(ValueError):
        mint_token(JWT_SECRET, "u-1", algorithm="RS256")


def test_tokens_shaped_for_a_customised_parlor(start_parlor: Callable[..., Parlor]) -> None:
    shaped = start_parlor(
        PARLOR_JWT_SECRET=JWT_SECRET,
        PARLOR_HOST_TOKENS__ALGORITHM="HS512",
        PARLOR_HOST_TOKENS__USER_ID_CLAIM="user_id",
        PARLOR_HOST_TOKENS__TOKEN_TYPE="access",
        PARLOR_HOST_TOKENS__ISSUER="https://platform.example",
        PARLOR_HOST_TOKENS__AUDIENCE="parlor",
    )
    claims = dict(algorithm="HS512", user_id_claim="user_id", token_type="access", issuer="https://platform.example")
    token = mint_token(JWT_SECRET, 42, audience=["shop", "parlor"], **claims)  # type: ignore[arg-type]
    status, me = as_user(shaped, token, "GET", "/api/users/me")
    assert (status, me["name"]) == (200, "User 42")
    default = mint_token(JWT_SECRET, 42)
    assert as_user(shaped, default, "GET", "/api/users/me")[1]["message"] == "token algorithm is not accepted (HS512 only)"
