"""Settings of a Tryton connection (``[connections.<name>.erp]``, ``[...erp.orders]``): pydantic
models only, imported by the connector's modules."""

from __future__ import annotations

import re
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connectors.erp.references import prefix_or_default
from connectors.timezones import TimeZoneName

__all__ = ["CONNECTOR_SETTINGS", "TrytonOrderSettings", "TrytonSettings", "rate_key"]


def rate_key(rate: Decimal) -> str:
    """A rate in percent as a key: "19" for 19.0000, "5.5" for 5.50."""
    return f"{rate.normalize():f}"


class TrytonOrderSettings(BaseModel):
    """How web orders become sales (``[connections.<name>.options.orders]``)."""

    model_config = ConfigDict(extra="forbid")
    shop: str = Field(default="", validate_default=True)
    """Prefix of the sale reference and of the customer identifier: ``"<shop>:<id>"``. Default: the
    connection's name (``connectors.erp.references``); two connections on one Tryton database
    cannot share it. Sales imported before 2026-07 carry ``vendure``: set it to keep them."""
    warehouse: str = "WH"
    """Code of the warehouse that ships web orders."""
    shipping_product: str = "SHIP-COLISSIMO"
    """Code of the service product of the shipping line."""
    shipping_products: dict[str, str] = Field(default_factory=dict)
    """Shop shipping method name -> service product code, when it is not ``shipping_product``."""
    discount_product: str = "WEB-DISCOUNT"
    """Code of the service product of discount lines (coupons, promotions of the shop)."""
    placeholder_product: str | None = None
    """Code of the product a line gets when its shop variant is bound to no Tryton article (the
    shop's SKU and name go to the line's description and the sale's comment); None: such an
    order is refused (quarantined) until the catalogue binds the article. Its customer taxes are
    the line's: give it the VAT most web articles have (a different rate shows as a total
    difference, quarantined)."""
    adjustment_product: str = "WEB-ADJUST"
    """Service product of the rounding line (best without VAT: its amount is the difference)."""
    total_tolerance: Decimal = Decimal("0.05")
    """Largest difference between Tryton's total and the shop's made up by an adjustment line."""
    advance_payment_term: str = "Web order paid"
    """Name of the sale.advance_payment_term of orders paid online (the deposit invoice)."""
    deposit_states: list[str] = Field(default_factory=lambda: ["settled", "authorized"])
    """Payment states that give an order the advance payment term; others (cash on delivery,
    bank transfer) get Tryton's default terms and no deposit."""
    payment_term: str | None = None
    """Name of the payment term of the sales; None: Tryton's default customer payment term."""
    payment_method: str = "Card (web)"
    """Name of the account.invoice.payment.method that pays deposits."""
    payment_methods: dict[str, str] = Field(default_factory=dict)
    """Shop payment method -> Tryton payment method name, when it is not ``payment_method``."""
    vat_identifier_type: str = "eu_vat"
    """party.identifier type the customer's VAT number is stored as."""
    siret_identifier_type: str = "fr_siret"
    """party.identifier type the customer's SIRET is stored as."""
    destination_taxes: dict[str, dict[str, str]] = Field(default_factory=dict)
    """Destination country (ISO code) -> VAT rate the shop charged (percent) -> name of the Tryton
    tax a line shipped there at that rate gets instead of its product's customer taxes (EU OSS: a
    French shop charges German VAT on a parcel to Berlin). Example: ``{DE = {"19" = "DE VAT 19%
    (OSS)", "7" = "DE VAT 7% (OSS)"}}``."""
    vat_rate_tolerance: Decimal = Decimal("0.05")
    """Largest difference (percentage points) between the rate the shop charged on a line and its
    Tryton taxes' rate that is still the same tax; a larger one refuses the order unless
    ``destination_taxes`` maps it."""

    _shop = field_validator("shop", mode="before")(prefix_or_default)

    @field_validator("destination_taxes")
    @classmethod
    def _destinations(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        cleaned: dict[str, dict[str, str]] = {}
        for country, taxes in value.items():
            if not re.fullmatch(r"[A-Za-z]{2}", country):
                raise ValueError(f"destination_taxes: {country!r} is not a two-letter country code")
            for rate in taxes:
                try:
                    Decimal(rate)
                except ArithmeticError:
                    raise ValueError(f"destination_taxes.{country}: {rate!r} is not a rate in percent") from None
            cleaned[country.upper()] = {rate_key(Decimal(r)): name for r, name in taxes.items()}
        return cleaned


class TrytonSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str
    """Tryton's JSON-RPC root, e.g. ``https://erp.example.com:8000`` (the database is added)."""
    database: str
    """The Tryton database name."""
    login: str
    """The Tryton user passerelle logs in as (give it only the access its flows need:
    docs/operations.md)."""
    password: str
    """Secret reference: ``env:TRYTON_PASSWORD`` or ``block:tryton-password``."""
    language: str = "en"
    """Language code of the session: product names and descriptions are read in it."""
    currency: str = "EUR"
    """Currency (ISO 4217) of the company's prices."""
    barcode_types: list[str] = Field(default_factory=lambda: ["ean"])
    """product.identifier types read as the EAN; "" stands for identifiers without a type."""
    group_by_template: bool = True
    """Variants of one template form one product (else each variant is a lone article)."""
    extra: dict[str, str] = Field(default_factory=dict)
    """User-defined fields (``fields.<name>`` in mappings) -> product.product field path (``template.code``)."""
    page_size: int = 500
    rate_limit: float | None = None
    timeout: float = 120.0
    timezone: TimeZoneName = "Europe/Paris"
    """Time zone of the ERP's dates (promotion start and end dates, sale dates), as the company works in it."""
    orders: TrytonOrderSettings = Field(default_factory=TrytonOrderSettings)
    """How web orders become sales and payments deposit invoices (``orders.py``)."""


CONNECTOR_SETTINGS = TrytonSettings
"""The model of this connector's options (``connectors.registry.settings_model``)."""
