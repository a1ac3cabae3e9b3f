"""Shopify webhooks: verifying ``X-Shopify-Hmac-Sha256`` and reading which order a webhook names.

shopify.dev "Verify webhooks" (HTTPS delivery): the header is the base64 HMAC-SHA256 of the raw
request body, keyed with the app's client secret; compare in constant time, on the raw bytes
(never on re-serialised JSON). The flows then read the order with ``get_orders`` (a webhook is
only a hint: the scheduled polling stays the backstop, and a webhook's body is never imported).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

__all__ = ["ORDER_TOPICS", "parse_order_webhook", "verify_webhook"]

ORDER_TOPICS = frozenset({"orders/create", "orders/updated", "orders/paid"})
"""The webhook topics (``X-Shopify-Topic``) whose body is an order."""


def verify_webhook(raw_body: bytes, hmac_header: str, secret: str) -> bool:
    """Whether ``hmac_header`` is the base64 HMAC-SHA256 of ``raw_body`` with ``secret``."""
    if not secret or not hmac_header:
        return False
    try:
        given = base64.b64decode(hmac_header.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    expected = hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()
    return hmac.compare_digest(expected, given)


def parse_order_webhook(topic: str, body: bytes | str | dict[str, Any]) -> str | None:
    """The order's gid (``gid://shopify/Order/<id>``) of an order webhook; None for another topic.

    Raises:
        ValueError: an order topic whose body holds no order id.
    """
    if topic.strip().lower() not in ORDER_TOPICS:
        return None
    payload = json.loads(body) if isinstance(body, bytes | str) else body
    gid = payload.get("admin_graphql_api_id") if isinstance(payload, dict) else None
    if isinstance(gid, str) and gid.startswith("gid://shopify/Order/"):
        return gid
    ident = payload.get("id") if isinstance(payload, dict) else None
    if isinstance(ident, int) or (isinstance(ident, str) and ident.isdigit()):
        return f"gid://shopify/Order/{ident}"
    raise ValueError(f"the {topic} webhook holds no order id")
