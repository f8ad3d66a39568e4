"""The token view (what parlor's embed script asks for the signed-in user's token) and the
webhook receiver (signature checked, repeats dropped, one signal per event)."""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from ..webhooks import WebhookVerificationError, verify_webhook
from . import conf
from .signals import webhook_received


@require_GET
@never_cache
def token_view(request: HttpRequest) -> JsonResponse:
    """``{"token": ..., "expires_in": ...}`` for the signed-in user; 401 for anyone else."""
    if not request.user.is_authenticated:
        return JsonResponse({"detail": "sign in first"}, status=401)
    token = conf.token_for(request.user)
    return JsonResponse({"token": token, "expires_in": int(conf.setting("TOKEN_TTL", 900))})


@csrf_exempt
@require_POST
def webhook_view(request: HttpRequest) -> JsonResponse:
    """Receives one delivery: 400 unless parlor signed it with ``WEBHOOK_SECRET`` recently;
    200 at once for an event already received; otherwise :data:`webhook_received` is sent, and
    a receiver that raises answers 500 so parlor delivers the event again later."""
    try:
        event = verify_webhook(
            request.body,
            request.headers.get("X-Parlor-Signature"),
            conf.setting("WEBHOOK_SECRET"),
            int(conf.setting("WEBHOOK_TOLERANCE", 300)),
        )
    except WebhookVerificationError as refused:
        return JsonResponse({"detail": str(refused)}, status=400)
    # Delivery is at least once (a retry after a lost answer): the cache remembers what came.
    seen = f"parlor:webhook:{event['id']}"
    if not cache.add(seen, True, timeout=int(conf.setting("WEBHOOK_DEDUPE_SECONDS", 86400))):
        return JsonResponse({"duplicate": True})
    try:
        webhook_received.send(sender=event["type"], event=event)
    except Exception:
        cache.delete(seen)
        raise
    return JsonResponse({"ok": True})
