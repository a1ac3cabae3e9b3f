"""The settings of a PrestaShop connection (``[connections.<name>.shop]`` with ``type =
"prestashop"``): docs/prestashop.md explains each."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from connectors.timezones import TimeZoneName

__all__ = ["CONNECTOR_SETTINGS", "PrestaShopSettings"]


class PrestaShopSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str
    """The shop's root, e.g. ``https://shop.example.com`` (the webservice is under ``/api/``)."""
    key: str
    """Secret reference to the webservice key: ``env:PRESTASHOP_KEY`` or ``block:prestashop-key``."""
    allow_insecure_http: bool = False
    """Accept an ``http://`` url. The key is sent as basic auth, so over plain HTTP it travels in
    clear: only for a lab shop on loopback; otherwise an ``http://`` url stops the run (Fatal)."""
    timezone: TimeZoneName = "Europe/Paris"
    """The shop's time zone (International > Localization): ``date_upd`` is wall-clock time there."""
    language: int = 1
    """Language id of the names read (order states, categories, attribute groups and values, features
    and their values, customer groups) and written (product names, slugs and descriptions, new
    categories, attributes, features and feature values)."""
    cancelled_states: list[int] = [6]
    """States read as cancelled (order source and status sink)."""
    refunded_states: list[int] = [7]
    """States read as refunded (order source and status sink)."""
    error_states: list[int] = [8]
    """States read as a payment error (order source)."""
    home_category: int = 2
    """Category under which the catalogue's category paths are found or created (Home)."""
    currency: str = "EUR"
    """The shop's default currency: prices in another one are refused."""
    groups: dict[str, int] = {}
    """Canonical customer-group name (ERP price list) -> PrestaShop group id; unmapped names are
    looked up by name in Customers > Groups."""
    paid_states: list[int] = [2]
    """States read as ``processing`` besides ``processing_state`` (2: payment accepted)."""
    processing_state: int = 3
    """State written for ``processing`` (3: processing in progress)."""
    shipped_state: int = 4
    """State written for ``shipped`` (4: shipped; its e-mail carries the tracking number)."""
    delivered_state: int = 5
    """State written for ``delivered`` (5: delivered)."""
    cancelled_state: int = 6
    """State written for ``cancelled`` (6: canceled)."""
    refunded_state: int = 7
    """State written for ``refunded`` (7: refunded)."""
    stock_location_fatal: bool = False
    """A stock write naming a location (PrestaShop has none) stops the run instead of refusing the record."""
    contact_id: int = 2
    """Contact (Customers > Customer service) of the threads holding document links (2: Customer service)."""
    employee_id: int = 1
    """Employee the document-link messages are written as (shown as the shop's answer)."""
    brand_field: str | None = "brand"
    """Custom field of the product (``custom_fields.<name>`` in the catalogue's ``fields``) holding
    its brand: written as the product's manufacturer (``id_manufacturer``, found by name or created);
    empty: no brand. ``""`` or None: passerelle never writes the brand (the merchant's)."""
    features: dict[str, str] = {}
    """Custom field name -> feature name (Catalog > Attributes & Features > Features), e.g.
    ``{composition = "Composition"}``: the field's text is the product's value of that feature
    (features and values found by name or created); empty: the feature is removed from the product.
    Features not named here are left as the merchant set them."""
    rate_limit: float | None = None
    timeout: float = 60.0


CONNECTOR_SETTINGS = PrestaShopSettings
"""The model of this connector's options (``connectors.registry.settings_model``)."""
