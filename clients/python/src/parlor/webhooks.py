"""Verifying parlor's webhook deliveries (docs/webhooks.md §4).

``X-Parlor-Signature`` is ``t=<unix seconds>,v1=<hex>``: HMAC-SHA256, keyed with the endpoint's
secret, of ``"<t>.<raw body>"``. :func:`verify_webhook` checks it in constant time, refuses a
timestamp more than ``tolerance`` seconds from now (a recorded delivery cannot be replayed
later), and returns the parsed event. Dedupe on its ``id`` (= ``X-Parlor-Delivery``): delivery
is at least once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Optional, Union, cast

from .types import WebhookEvent

__all__ = ["verify_webhook", "WebhookVerificationError"]


class WebhookVerificationError(ValueError):
    """The delivery is not from parlor with this secret, or too old: answer 400 and drop it."""


def verify_webhook(
    body: Union[bytes, str],
    header: Optional[str],
    secret: str,
    tolerance: int = 300,
    *,
    now: Optional[float] = None,
) -> WebhookEvent:
    """The event in ``body`` if ``header`` (``X-Parlor-Signature``) signs it with ``secret``.

    ``body`` must be the raw request body, before any JSON parsing. Raises
    :class:`WebhookVerificationError` saying why otherwise.

    >>> import hmac, hashlib
    >>> body = b'{"id": "1", "type": "message.created", "created_at": "", "conversation_id": 7, "data": {}}'
    >>> sig = hmac.new(b"s3cret-s3cret-s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    >>> verify_webhook(body, f"t=1700000000,v1={sig}", "s3cret-s3cret-s3cret", now=1700000010)["type"]
    'message.created'
    """
    raw = body.encode() if isinstance(body, str) else bytes(body)
    if not header:
        raise WebhookVerificationError("no X-Parlor-Signature header")
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamp = value
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not timestamp.isdigit() or not signatures:
        raise WebhookVerificationError("X-Parlor-Signature is not t=<seconds>,v1=<hex>")
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance:
        raise WebhookVerificationError(f"the signature's timestamp is more than {tolerance} s from now")
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest().encode()
    # Every candidate is compared, so the time taken says nothing about which one was close.
    matches = [hmac.compare_digest(expected, candidate.encode()) for candidate in signatures]
    if not any(matches):
        raise WebhookVerificationError("the signature does not match (wrong secret, or a changed body)")
    try:
        event = json.loads(raw)
    except ValueError as error:
        raise WebhookVerificationError(f"the body is not JSON: {error}") from None
    if not isinstance(event, dict):
        raise WebhookVerificationError("the body is not a JSON object")
    return cast(WebhookEvent, event)
