"""parlor's Python server SDK, for a platform's backend.

- :class:`Client`: the server API (users, conversations for your contexts and their members,
  notices, flags, webhooks), authenticated with parlor's ``api_key``.
- :func:`mint_token`: a host-app token for your signed-in user (parlor's ``jwt_secret``).
- :func:`verify_webhook`: checks a webhook delivery's signature and returns its event.
- :mod:`parlor.django`: a token view, a webhook receiver and template tags for Django.

See docs/integrate.md in parlor's repository for a platform added end to end.
"""

from .client import Client, ParlorError
from .tokens import mint_token
from .webhooks import WebhookVerificationError, verify_webhook

__all__ = ["Client", "ParlorError", "mint_token", "verify_webhook", "WebhookVerificationError"]
__version__ = "0.1.0"
