"""What the platform does with parlor's events: here it keeps them, so the tests can see them;
a real platform e-mails, counts or indexes (quickly: parlor waits for the answer)."""

import logging
from typing import Any, Dict, List

from django.dispatch import receiver

from parlor.django.signals import webhook_received

log = logging.getLogger(__name__)

#: The events received, in order.
received: List[Dict[str, Any]] = []
#: Set to make the receiver fail (parlor then delivers the event again).
failing = False


@receiver(webhook_received)
def on_parlor_event(sender: str, event: Dict[str, Any], **kwargs: Any) -> None:
    if failing:
        raise RuntimeError("the platform's database is down")
    if sender == "message.created":
        log.info("%s wrote in conversation %s", event["data"]["sender_name"], event["conversation_id"])
    received.append(event)
