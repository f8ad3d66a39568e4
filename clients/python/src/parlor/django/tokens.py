"""Token factories for ``settings.PARLOR["TOKEN_FACTORY"]``: what the token view hands out."""

from __future__ import annotations

from typing import Any

from ..tokens import mint_token
from . import conf


def parlor_token(user: Any) -> str:
    """A token signed with parlor's own ``JWT_SECRET``, carrying the user's name and avatar.

    The recommended kind: the secret is parlor's alone, so a token for parlor opens nothing else
    on the platform, and the platform's own signing key never leaves it.
    """
    profile = conf.user_profile(user)
    return mint_token(
        conf.setting("JWT_SECRET"),
        conf.user_id(user),
        name=profile.get("name"),
        avatar=profile.get("avatar"),
        ttl=int(conf.setting("TOKEN_TTL", 900)),
        **conf.setting("TOKEN_CLAIMS", {}),
    )


def simplejwt_token(user: Any) -> str:
    """The platform's own SimpleJWT access token for the user, which parlor accepts with
    ``host_tokens.user_id_claim = "user_id"`` and ``host_tokens.token_type = "access"`` (give
    parlor the public key when SimpleJWT signs with RS256 or ES256)."""
    from rest_framework_simplejwt.tokens import AccessToken

    return str(AccessToken.for_user(user))
