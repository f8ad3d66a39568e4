"""Template tags of parlor's Django integration (``{% load parlor_chat %}``)."""
