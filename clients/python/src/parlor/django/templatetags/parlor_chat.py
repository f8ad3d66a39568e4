"""``{% load parlor_chat %}``: ``{% parlor_embed %}`` puts parlor's embed script on a page (it
fetches the user's token from the token view), and ``{% parlor_chat_button user "Chat" %}`` is a
button that opens the conversation with ``user`` in a panel (docs/web-client.md)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from .. import conf

register = template.Library()


@register.simple_tag
def parlor_embed() -> SafeString:
    src = conf.setting("URL").rstrip("/") + "/embed.js"
    token_url = conf.setting("TOKEN_URL", "") or reverse("parlor-token")
    return format_html('<script src="{}" data-token-url="{}" defer></script>', src, token_url)


@register.simple_tag
def parlor_chat_button(user: Any, label: str = "Message", css_class: str = "parlor-chat-button") -> SafeString:
    return format_html(
        '<button type="button" class="{}" data-parlor-chat-with="{}">{}</button>', css_class, conf.user_id(user), label
    )
