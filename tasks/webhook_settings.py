"""The settings of the order webhooks of one connection: ``[connections.<name>.webhooks]``.

Kept apart from ``tasks/settings.py`` (which holds only the field): docs/webhooks.md.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DEFAULT_DEPLOYMENT", "WebhookSettings"]

DEFAULT_DEPLOYMENT = "import-orders/orders-every-5-minutes"
"""The orders deployment of prefect.yaml (``<flow name>/<deployment name>``)."""


class WebhookSettings(BaseModel):
    """``passerelle serve`` receives this connection's order webhooks and imports each order at once."""

    model_config = ConfigDict(extra="forbid")

    secret: str
    """Secret reference (``env:NAME``, ``block:NAME``, ``file:PATH``): the key the shop signs with
    (WooCommerce: the webhook's secret; Shopify: the app's client secret)."""
    platform: Literal["woocommerce", "shopify"] | None = None
    """Which shop signs the webhooks; default: read from ``[connections.<name>.shop] type``."""
    trigger: Literal["deployment", "inline"] = "deployment"
    """``deployment``: start a run of ``deployment`` on the workers (production); ``inline``: the
    ``serve`` process runs the import itself (one machine, no worker)."""
    deployment: str = DEFAULT_DEPLOYMENT
    """The orders deployment a webhook starts (``trigger = "deployment"``)."""
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    """A larger body is refused (HTTP 413) before it is read whole."""
    max_attempts: int = Field(default=5, ge=1)
    """How many times an event whose dispatch failed is tried again (the 5-minute schedule is the backstop)."""
    retry_seconds: float = Field(default=30, gt=0)
    """How long before trying again an event whose dispatch failed or found the import busy."""
