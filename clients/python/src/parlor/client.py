"""A client for parlor's server API (``/api/server/...``), which a platform's backend calls with
its API key: provisioning users, conversations for its own contexts and their members, system
notices, admin and disabled flags, webhooks and the operator's endpoints.

Only the standard library: one ``urllib`` request per call, JSON in and out.

A refusal is a :class:`ParlorError` carrying the HTTP status and parlor's stable ``code``.
Requests that change nothing when repeated (GET, PUT, DELETE) are retried on connection errors
and 502/503/504; any request is retried after 429 and 503, which parlor answers only when it did
nothing, waiting as ``Retry-After`` says (at most ``max_wait`` seconds).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Iterator, List, Optional, Sequence, Union, cast

from .types import (
    Connection,
    Conversation,
    Delivery,
    IssuedToken,
    Message,
    MessagePage,
    ServerUser,
    Unread,
    Webhook,
)

__all__ = ["Client", "ParlorError"]

_IDEMPOTENT = {"GET", "PUT", "DELETE"}


class ParlorError(Exception):
    """parlor refused a request (``status`` >= 400), or could not be reached (``status`` 0).

    ``code`` is parlor's stable error code (``not_found``, ``validation_failed``...,
    docs/protocol.md §3); branch on it, not on ``message``.
    """

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}" if status else f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def _segment(value: Union[str, int]) -> str:
    """A path segment: an external id may hold any printable character, ``/`` included."""
    return urllib.parse.quote(str(value), safe="")


class Client:
    """parlor's server API.

    >>> parlor = Client("https://chat.example.com", api_key="...")  # doctest: +SKIP
    >>> parlor.upsert_user("42", name="Ada Lovelace")  # doctest: +SKIP
    {'id': 7, 'external_id': '42', 'username': None, 'name': 'Ada Lovelace', 'avatar': None}
    """

    def __init__(self, url: str, api_key: str, *, timeout: float = 10.0, retries: int = 2, max_wait: float = 30.0):
        self.url = url.rstrip("/")
        self._api_key = api_key
        self.timeout = timeout
        self.retries = retries
        self.max_wait = max_wait

    def __repr__(self) -> str:
        return f"Client({self.url!r})"

    # --- users -----------------------------------------------------------------------------

    def upsert_user(self, external_id: Union[str, int], *, name: Optional[str] = None, avatar: Optional[str] = None) -> ServerUser:
        """Creates the platform's user ``external_id`` or refreshes its name and avatar (those given)."""
        body: Dict[str, Any] = {}
        if name is not None:
            body["name"] = name
        if avatar is not None:
            body["avatar"] = avatar
        return cast(ServerUser, self._call("PUT", f"/api/server/users/{_segment(external_id)}", body))

    def user(self, external_id: Union[str, int]) -> ServerUser:
        """The platform's user ``external_id`` as parlor knows it; ``ParlorError`` 404 if never seen."""
        return cast(ServerUser, self._call("GET", f"/api/server/users/{_segment(external_id)}"))

    def unread(self, external_id: Union[str, int]) -> Unread:
        """The user's unread messages and notifications, for the platform's own badge."""
        return cast(Unread, self._call("GET", f"/api/server/users/{_segment(external_id)}/unread"))

    def set_flags(self, user_id: int, *, admin: Optional[bool] = None, disabled: Optional[bool] = None) -> ServerUser:
        """Sets the admin or disabled flag by parlor's own user id; disabling closes their sockets."""
        body = {k: v for k, v in (("admin", admin), ("disabled", disabled)) if v is not None}
        return cast(ServerUser, self._call("PATCH", f"/api/server/accounts/{int(user_id)}", body))

    # --- conversations ---------------------------------------------------------------------

    def connect(self, user_a: Union[str, int], user_b: Union[str, int]) -> Connection:
        """An accepted connection between two platform users, and their direct conversation."""
        return cast(Connection, self._call("POST", "/api/server/connections", {"users": [str(user_a), str(user_b)]}))

    def context_conversation(
        self, kind: str, external_id: Union[str, int], members: Sequence[Union[str, int]], *, title: Optional[str] = None
    ) -> Conversation:
        """The conversation about the platform's ``kind`` ``external_id`` (a job, an order...)
        between ``members`` (platform ids), created on first use. Two members make a direct
        conversation of its own; more make a room the first one owns."""
        body: Dict[str, Any] = {"members": [str(m) for m in members]}
        if title is not None:
            body["title"] = title
        path = f"/api/server/conversations/by-context/{_segment(kind)}/{_segment(external_id)}"
        return cast(Conversation, self._call("PUT", path, body))

    def add_members(self, conversation_id: int, users: Sequence[Union[str, int]]) -> None:
        """Adds platform users to a room, as "System"; those already in it are no change."""
        path = f"/api/server/conversations/{int(conversation_id)}/members"
        self._call("POST", path, {"users": [str(u) for u in users]})

    def remove_member(self, conversation_id: int, user: Union[str, int]) -> None:
        """Removes a platform user from a room, as "System"."""
        self._call("DELETE", f"/api/server/conversations/{int(conversation_id)}/members/{_segment(user)}")

    def post_notice(self, conversation_id: int, text: str) -> Message:
        """A system message ("Job accepted") from the user System, delivered like any message."""
        return cast(Message, self._call("POST", f"/api/server/conversations/{int(conversation_id)}/notices", {"text": text}))

    def conversation(self, conversation_id: int) -> Conversation:
        """The conversation with all its members, as no member in particular sees it."""
        return cast(Conversation, self._call("GET", f"/api/server/conversations/{int(conversation_id)}"))

    def messages(self, conversation_id: int, *, after: int = 0, limit: Optional[int] = None) -> MessagePage:
        """One page of messages, oldest first, after the message seq ``after``."""
        query: Dict[str, int] = {"after": after}
        if limit is not None:
            query["limit"] = limit
        path = f"/api/server/conversations/{int(conversation_id)}/messages?{urllib.parse.urlencode(query)}"
        return cast(MessagePage, self._call("GET", path))

    def iter_messages(self, conversation_id: int, *, after: int = 0) -> Iterator[Message]:
        """Every message after ``after``, oldest first, page by page."""
        while True:
            page = self.messages(conversation_id, after=after)
            yield from page["results"]
            if not page["has_more"] or page["next_cursor"] is None:
                return
            after = page["next_cursor"]

    # --- webhooks --------------------------------------------------------------------------

    def create_webhook(self, url: str, *, events: Optional[Sequence[str]] = None, secret: Optional[str] = None) -> Webhook:
        """Registers an endpoint; the answer holds its ``secret`` (only this once)."""
        body: Dict[str, Any] = {"url": url}
        if events is not None:
            body["events"] = list(events)
        if secret is not None:
            body["secret"] = secret
        return cast(Webhook, self._call("POST", "/api/server/webhooks", body))

    def webhooks(self) -> List[Webhook]:
        return cast(List[Webhook], self._call("GET", "/api/server/webhooks")["results"])

    def delete_webhook(self, webhook_id: int) -> None:
        self._call("DELETE", f"/api/server/webhooks/{int(webhook_id)}")

    def webhook_deliveries(self, webhook_id: int, *, limit: int = 50) -> List[Delivery]:
        """The endpoint's delivery log, newest first."""
        path = f"/api/server/webhooks/{int(webhook_id)}/deliveries?limit={int(limit)}"
        return cast(List[Delivery], self._call("GET", path)["results"])

    # --- the operator's endpoints ------------------------------------------------------------

    def create_account(self, username: str, password: str, *, name: Optional[str] = None, admin: bool = False) -> ServerUser:
        """A password account (standalone users: support staff...)."""
        body: Dict[str, Any] = {"username": username, "password": password, "admin": admin}
        if name is not None:
            body["name"] = name
        return cast(ServerUser, self._call("POST", "/api/server/accounts", body))

    def account_by_username(self, username: str) -> ServerUser:
        return cast(ServerUser, self._call("GET", f"/api/server/accounts/by-username/{_segment(username)}"))

    def issue_token(self, user_id: int, *, ttl_secs: Optional[int] = None) -> IssuedToken:
        """An access token for parlor's user ``user_id`` (a bot, a support tool)."""
        body: Dict[str, Any] = {} if ttl_secs is None else {"ttl_secs": ttl_secs}
        return cast(IssuedToken, self._call("POST", f"/api/server/accounts/{int(user_id)}/tokens", body))

    def backup(self, path: str) -> Dict[str, Any]:
        """A consistent copy of the database, written to the new file ``path`` on parlor's machine."""
        return cast(Dict[str, Any], self._call("POST", "/api/server/backup", {"path": path}))

    def vacuum(self) -> None:
        self._call("POST", "/api/server/vacuum")

    # --- transport -------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: Optional[Dict[str, Any]] = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        headers = {"X-Api-Key": self._api_key, "Accept": "application/json", "User-Agent": "parlor-sdk-python/0.1"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        attempt = 0
        while True:
            request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (the URL is configuration)
                    raw = response.read()
                    return json.loads(raw) if raw else None
            except urllib.error.HTTPError as error:
                refusal = _refusal(error)
                wait = _retry_after(error, attempt)
                retryable = error.code in (429, 503) or (method in _IDEMPOTENT and error.code in (502, 504))
                if not retryable or attempt >= self.retries:
                    raise refusal from None
            except (urllib.error.URLError, OSError) as error:
                if method not in _IDEMPOTENT or attempt >= self.retries:
                    reason = getattr(error, "reason", error)
                    raise ParlorError(0, "unreachable", f"cannot reach parlor at {self.url}: {reason}") from None
                wait = _backoff(attempt)
            time.sleep(min(wait, self.max_wait))
            attempt += 1


def _refusal(error: urllib.error.HTTPError) -> ParlorError:
    try:
        body = json.loads(error.read() or b"{}")
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    return ParlorError(error.code, str(body.get("code", "http_error")), str(body.get("message", error.reason)))


def _retry_after(error: urllib.error.HTTPError, attempt: int) -> float:
    header: Optional[str] = error.headers.get("Retry-After") if error.headers else None
    try:
        return float(header) if header is not None else _backoff(attempt)
    except ValueError:
        return _backoff(attempt)


def _backoff(attempt: int) -> float:
    return 0.5 * (1 << attempt)
