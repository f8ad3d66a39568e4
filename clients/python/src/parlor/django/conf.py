"""``settings.PARLOR``, read when used (so tests can override it), and what it configures: the
server API client, the user's parlor id and profile, and their token."""

from __future__ import annotations

from typing import Any, Callable, Dict, Optional, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from ..client import Client
from ..types import ServerUser


def setting(key: str, default: Any = None) -> Any:
    """``settings.PARLOR[key]``; a required one (no default) missing is a configuration error."""
    value = getattr(settings, "PARLOR", {}).get(key, default)
    if value is None:
        raise ImproperlyConfigured(f'settings.PARLOR["{key}"] is not set')
    return value


def _hook(key: str, default: Callable[[Any], Any]) -> Callable[[Any], Any]:
    path = getattr(settings, "PARLOR", {}).get(key)
    return cast(Callable[[Any], Any], import_string(path)) if path else default


def user_id(user: Any) -> str:
    """The user's id as parlor knows it: the primary key unless ``USER_ID`` says otherwise."""
    return str(_hook("USER_ID", lambda u: u.pk)(user))


def _default_profile(user: Any) -> Dict[str, Optional[str]]:
    full_name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return {"name": full_name or user.get_username()}


def user_profile(user: Any) -> Dict[str, Optional[str]]:
    """The name (and avatar URL) parlor shows for the user."""
    return cast(Dict[str, Optional[str]], _hook("USER_PROFILE", _default_profile)(user))


def client() -> Client:
    """The server API client for ``URL`` and ``API_KEY``."""
    return Client(setting("URL"), setting("API_KEY"))


def sync_user(user: Any) -> ServerUser:
    """Creates or refreshes the user in parlor, so others can start a chat with them.

    ``post_save.connect(lambda sender, instance, **kw: sync_user(instance), sender=User)``
    """
    profile = user_profile(user)
    return client().upsert_user(user_id(user), name=profile.get("name"), avatar=profile.get("avatar"))


def token_for(user: Any) -> str:
    """The token ``TOKEN_FACTORY`` makes for the user (default: :func:`tokens.parlor_token`)."""
    from .tokens import parlor_token

    return str(_hook("TOKEN_FACTORY", parlor_token)(user))
