"""The shapes of what parlor's server API answers (docs/protocol.md §13, docs/webhooks.md).

They are ``TypedDict``s: the values are the plain JSON objects the server sent, so fields a
newer server adds are there too, untyped.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, TypedDict

__all__ = [
    "ServerUser",
    "Unread",
    "Connection",
    "Context",
    "Conversation",
    "Message",
    "MessagePage",
    "IssuedToken",
    "Webhook",
    "Delivery",
    "WebhookEvent",
]


class ServerUser(TypedDict):
    """A user as the server API shows it."""

    id: int
    external_id: Optional[str]
    username: Optional[str]
    name: str
    avatar: Optional[str]


class Unread(TypedDict):
    """A user's unread messages (``total``, per conversation) and notifications."""

    user_id: int
    total: int
    conversations: List[Dict[str, Any]]
    notifications: int


class Connection(TypedDict):
    connection_id: int
    status: str
    conversation_id: int


class Context(TypedDict):
    """What a context-linked conversation is about: ``{"type": "job", "id": "42", "title": ...}``."""

    type: str
    id: str
    title: Optional[str]


class _ConversationFields(TypedDict):
    id: int
    kind: str
    title: Optional[str]
    context: Optional[Context]


class Conversation(_ConversationFields, total=False):
    """A conversation; ``members`` is present where the server lists them."""

    members: List[Dict[str, Any]]


class Message(TypedDict):
    """A message (docs/protocol.md §4.3); ``system`` messages are written by user 0."""

    id: int
    conversation_id: int
    seq: int
    sender_id: int
    sender_name: str
    content: str
    kind: str
    preview: str
    deleted: bool
    created_at: str


class MessagePage(TypedDict):
    results: List[Message]
    next_cursor: Optional[int]
    has_more: bool


class IssuedToken(TypedDict):
    user_id: int
    access: str
    token_type: str
    expires_in: int


class _WebhookFields(TypedDict):
    id: int
    url: str
    events: Optional[List[str]]
    created_at: str


class Webhook(_WebhookFields, total=False):
    """A webhook endpoint; ``secret`` only in the answer that created it."""

    secret: str


class Delivery(TypedDict):
    """One attempt at delivering one event, from an endpoint's delivery log."""

    id: int
    event_id: str
    event_type: str
    attempt: int
    ok: bool
    status: Optional[int]
    error: Optional[str]
    duration_ms: int
    at: str


class WebhookEvent(TypedDict):
    """A verified webhook delivery's body (docs/webhooks.md §3)."""

    id: str
    type: str
    created_at: str
    conversation_id: int
    data: Dict[str, Any]
