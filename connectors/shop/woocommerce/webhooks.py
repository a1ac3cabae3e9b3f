"""WooCommerce webhooks: verifying ``X-WC-Webhook-Signature`` and reading which order one names.

What WooCommerce sends (``WC_Webhook::deliver``, woocommerce/includes/class-wc-webhook.php): a POST
whose body is the JSON of the resource as the REST API shows it (``/wc/v3/orders/<id>``), with the
headers ``X-WC-Webhook-Topic`` (``order.created``), ``X-WC-Webhook-Resource`` (``order``),
``X-WC-Webhook-Event``, ``X-WC-Webhook-ID``, ``X-WC-Webhook-Delivery-ID`` and
``X-WC-Webhook-Signature``: base64 of the HMAC-SHA256 of the raw body, keyed with the webhook's
secret (``wp_specialchars_decode``: the secret as the merchant typed it). Compare in constant time, on
the raw bytes, never on re-serialised JSON.

When a webhook is created (or re-activated) WooCommerce first sends a *ping* (``deliver_ping``): a
form body ``webhook_id=<id>`` with no topic and no signature; anything but HTTP 200 and WooCommerce
refuses to save the webhook. A ping carries no order: it is answered 200 and nothing else.

The delivery id is ``wp_hash(<webhook id> . <time in seconds>)``: two deliveries of one webhook in the
same second share it, so it only identifies a delivery together with its body.

A webhook is a hint: the flows read the order again with ``get_orders`` (its body is never imported).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from typing import Any

__all__ = ["ORDER_TOPICS", "is_ping", "parse_order_webhook", "verify_webhook"]

ORDER_TOPICS = frozenset({"order.created", "order.updated"})
"""The webhook topics (``X-WC-Webhook-Topic``) that import an order."""

_PING = re.compile(rb"webhook_id=\d{1,20}")


def verify_webhook(raw_body: bytes, signature_header: str | None, secret: str) -> bool:
    """Whether ``signature_header`` is the base64 HMAC-SHA256 of ``raw_body`` keyed with ``secret``."""
    if not secret or not signature_header:
        return False
    try:
        given = base64.b64decode(signature_header.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    expected = hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()
    return hmac.compare_digest(expected, given)


def is_ping(raw_body: bytes, topic: str | None, signature_header: str | None) -> bool:
    """Whether the request is the ping WooCommerce sends when a webhook is saved: ``webhook_id=N``,
    no topic, no signature."""
    return not topic and not signature_header and _PING.fullmatch(raw_body.strip()) is not None


def parse_order_webhook(topic: str, body: bytes | str | dict[str, Any]) -> str | None:
    """The shop order id of an order webhook (``order.created``, ``order.updated``); None for another topic.

    Raises:
        ValueError: an order topic whose body is not JSON or holds no order id.
    """
    if topic.strip().lower() not in ORDER_TOPICS:
        return None
    try:
        payload = json.loads(body) if isinstance(body, bytes | str) else body
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ValueError(f"the {topic} webhook's body is not JSON") from None
    ident = payload.get("id") if isinstance(payload, dict) else None
    if isinstance(ident, bool):
        ident = None
    if isinstance(ident, int) and ident > 0:
        return str(ident)
    if isinstance(ident, str) and ident.isdigit() and int(ident) > 0:
        return str(int(ident))
    raise ValueError(f"the {topic} webhook holds no order id")
