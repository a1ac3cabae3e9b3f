"""Settings of an Odoo connection (``[connections.<name>.erp]`` with ``type = "odoo"``): pydantic only."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connectors.erp.references import prefix_or_default
from connectors.timezones import TimeZoneName

__all__ = ["CONNECTOR_SETTINGS", "OdooOrderSettings", "OdooSettings"]


class OdooOrderSettings(BaseModel):
    """How web orders become sale.order records (``[connections.<name>.erp.orders]``)."""

    model_config = ConfigDict(extra="forbid")
    shop: str = Field(default="", validate_default=True)
    """Prefix of ``client_order_ref`` and of the customer's ``ref``: ``"<shop>:<id>"``. Default: the
    connection's name (``connectors.erp.references``)."""
    customer_field: str = "ref"
    """res.partner field holding ``"<shop>:<customer id>"`` (``ref``, or a custom ``x_`` field)."""
    shipping_product: str = "SHIP-WEB"
    """default_code of the service product of the shipping line (a delivery.carrier's product)."""
    shipping_products: dict[str, str] = Field(default_factory=dict)
    """Shop shipping method name -> default_code of its product, when not ``shipping_product``."""
    discount_product: str = "WEB-DISCOUNT"
    """``default_code`` of the service product of discount lines."""
    adjustment_product: str = "WEB-ADJUST"
    """Service product (no tax) of the line that makes up a rounding difference."""
    total_tolerance: Decimal = Decimal("0.05")
    """Largest difference between Odoo's total and the shop's made up by an adjustment line."""
    deposits: bool = True
    """A settled web payment becomes a down payment invoice, posted and paid (the final invoice
    deducts it); False: payments are left to the accountant (``record_payment`` skips them)."""
    journal: str = "BNK1"
    """Code of the account.journal that receives the web payments (account.payment.register)."""
    vat_rate_tolerance: Decimal = Decimal("0.05")
    """Largest difference (percentage points) between the rate the shop charged and the product's sale
    tax that is still the same tax."""

    _shop = field_validator("shop", mode="before")(prefix_or_default)


class OdooSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str
    """Odoo's root URL (``/jsonrpc`` is added)."""
    database: str
    """The Odoo database name."""
    login: str
    """The Odoo user whose API key is ``api_key`` (its groups decide what it may read and write:
    docs/odoo.md)."""
    api_key: str
    """Secret reference: ``env:ODOO_API_KEY`` or ``block:odoo-api-key``."""
    language: str = "en_US"
    """``lang`` of the calls' context: product names are read in it."""
    company_id: int | None = None
    """The company whose taxes, stock and prices are read (multi-company databases); None: the user's."""
    currency: str = "EUR"
    """Currency (ISO 4217) of the company's prices."""
    group_by_template: bool = True
    """Variants of one product.template form one product (else each variant is a lone article)."""
    brand_field: str | None = None
    """product.template field holding the brand (a many2one's name or a char), e.g. ``x_brand_id``."""
    feature_fields: dict[str, str] = Field(default_factory=dict)
    """Article field name (``fields.<name>`` in mappings) -> product.template field (char, selection,
    many2one or many2many: names joined by ``|``)."""
    page_size: int = 500
    rate_limit: float | None = None
    timeout: float = 120.0
    timezone: TimeZoneName = "Europe/Paris"
    """Not read: Odoo answers its times in UTC (pricelist rule dates included); kept so that files setting it load."""
    promotion_pricelist: str | None = None
    """Name of the pricelist whose dated rules are the shop's promotions (usually the public one)."""
    orders: OdooOrderSettings = Field(default_factory=OdooOrderSettings)


CONNECTOR_SETTINGS = OdooSettings
"""The model of this connector's options (``connectors.registry.settings_model``)."""
