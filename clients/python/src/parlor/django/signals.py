"""Signals of parlor's Django integration."""

from django.dispatch import Signal

#: Sent once per verified webhook delivery, with ``sender`` the event type (``"message.created"``)
#: and ``event`` the event (docs/webhooks.md §3). A receiver that raises makes the view answer
#: 500, so parlor delivers the event again later.
webhook_received = Signal()
