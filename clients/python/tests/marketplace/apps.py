"""The platform's app: keeps parlor's copy of its users current."""

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_save


class MarketplaceConfig(AppConfig):
    name = "tests.marketplace"
    label = "marketplace"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model

        from parlor.django.conf import sync_user

        # Every user is known to parlor from sign-up, so anyone can start a chat with them.
        def user_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
            sync_user(instance)

        post_save.connect(user_saved, sender=get_user_model(), dispatch_uid="parlor-sync-user", weak=False)

        from . import chat  # noqa: F401 (connects the webhook receivers)
