"""parlor in a Django platform: add ``"parlor.django"`` to ``INSTALLED_APPS``, configure
``settings.PARLOR`` and include ``parlor.django.urls``.

- ``views.token_view``: a token for ``request.user``, which parlor's embed script asks for.
- ``views.webhook_view``: receives parlor's webhooks, checks their signature, drops repeats, and
  sends :data:`signals.webhook_received` for each event.
- ``{% load parlor_chat %}``: ``{% parlor_embed %}`` and ``{% parlor_chat_button user "Chat" %}``.
- :func:`conf.sync_user`: creates or refreshes a user in parlor (connect it to ``post_save``).

``settings.PARLOR`` keys: ``URL`` (parlor's public URL), ``API_KEY``, ``JWT_SECRET``,
``WEBHOOK_SECRET``, and optionally ``TOKEN_TTL`` (900), ``TOKEN_FACTORY`` (dotted path of
``f(user) -> str``; ``"parlor.django.tokens.simplejwt_token"`` hands out the platform's own
SimpleJWT access tokens), ``TOKEN_CLAIMS`` (keyword arguments for :func:`parlor.mint_token`
matching parlor's ``[host_tokens]``), ``USER_ID`` (dotted path of ``f(user) -> str``, default
the primary key), ``USER_PROFILE`` (dotted path of ``f(user) -> {"name", "avatar"}``),
``WEBHOOK_TOLERANCE`` (300 s) and ``WEBHOOK_DEDUPE_SECONDS`` (one day, in Django's cache).
"""
