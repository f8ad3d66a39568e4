"""Host-app tokens: what a platform's backend hands its signed-in user so the browser can talk
to parlor as them (docs/protocol.md §2.2).

:func:`mint_token` signs with HMAC (HS256, HS384, HS512) from the standard library. A platform
that signs with a key pair (RS256, ES256) keeps using its own signer and gives parlor the public
key (``host_tokens.public_key`` or ``host_tokens.jwks_url``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any, Dict, Mapping, Optional, Sequence, Union

__all__ = ["mint_token"]

_DIGESTS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def mint_token(
    secret: Union[str, bytes],
    user_id: Union[str, int],
    *,
    name: Optional[str] = None,
    avatar: Optional[str] = None,
    ttl: int = 900,
    algorithm: str = "HS256",
    user_id_claim: str = "sub",
    token_type: Optional[str] = None,
    issuer: Optional[str] = None,
    audience: Optional[Union[str, Sequence[str]]] = None,
    extra: Optional[Mapping[str, Any]] = None,
    now: Optional[int] = None,
) -> str:
    """A token parlor accepts for the platform's user ``user_id``, valid ``ttl`` seconds.

    ``secret`` is parlor's ``jwt_secret``; ``name`` and ``avatar`` keep the user's parlor profile
    current. The keyword arguments after ``algorithm`` match ``[host_tokens]`` when it was
    changed from the defaults (``user_id_claim``, ``token_type``, ``issuer``, ``audience``).

    >>> token = mint_token("a-long-random-secret", 42, name="Ada Lovelace")
    >>> token.count(".")
    2
    """
    digest = _DIGESTS.get(algorithm)
    if digest is None:
        raise ValueError(f"algorithm must be one of {', '.join(_DIGESTS)}; sign RS256/ES256 with your own key")
    if ttl <= 0:
        raise ValueError("ttl must be positive")
    issued = int(time.time()) if now is None else now
    # `sub` is a string by the JWT spec; another claim (SimpleJWT's `user_id`) keeps an integer.
    keep_integer = isinstance(user_id, int) and user_id_claim != "sub"
    claims: Dict[str, Any] = {user_id_claim: user_id if keep_integer else str(user_id)}
    claims.update({"iat": issued, "exp": issued + ttl})
    optional = {"name": name, "avatar": avatar, "token_type": token_type, "iss": issuer}
    claims.update({k: v for k, v in optional.items() if v is not None})
    if audience is not None:
        claims["aud"] = audience if isinstance(audience, str) else list(audience)
    if extra:
        claims.update(extra)
    header = {"alg": algorithm, "typ": "JWT"}
    signing_input = f"{_b64(json.dumps(header, separators=(',', ':')).encode())}.{_b64(json.dumps(claims, separators=(',', ':')).encode())}"
    key = secret.encode() if isinstance(secret, str) else secret
    signature = hmac.new(key, signing_input.encode("ascii"), digest).digest()
    return f"{signing_input}.{_b64(signature)}"
