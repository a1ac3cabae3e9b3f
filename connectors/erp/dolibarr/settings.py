"""Settings of a Dolibarr connection (``[connections.<name>.erp]``, ``[...erp.orders]``)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connectors.erp.references import prefix_or_default

__all__ = ["CONNECTOR_SETTINGS", "DolibarrOrderSettings", "DolibarrSettings"]


class DolibarrOrderSettings(BaseModel):
    """How web orders become Dolibarr sales orders (``[connections.<name>.options.orders]``)."""

    model_config = ConfigDict(extra="forbid")
    shop: str = Field(default="", validate_default=True)
    """Prefix of ``ref_ext`` on orders and thirdparties: ``"<shop>:<shop id>"`` (default: the connection's name)."""
    customer_extrafield: str | None = None
    """Extrafield code (without ``options_``) holding the shop customer id on thirdparties; None: ``ref_ext``."""
    warehouse: str | None = None
    """Ref of the warehouse given to ``orders/{id}/validate`` (stock decrease on validation); None: none."""
    shipping_product: str | None = None
    """Ref of the service product of the shipping line; None: a free-text service line."""
    adjustment_label: str = "Web rounding adjustment"
    """Description of the line that makes up a rounding difference."""
    total_tolerance: Decimal = Decimal("0.05")
    """Largest difference between Dolibarr's total and the shop's made up by a free adjustment line."""
    deposit_states: list[str] = Field(default_factory=lambda: ["settled"])
    """Payment states that get a deposit invoice (type 3) validated, paid and made a discount."""
    payment_mode_id: int = 6
    """``paymentid`` of the deposit's payment (dictionary c_paiement; 6 = CB in a fresh Dolibarr)."""
    bank_account_id: int = 1
    """``accountid`` (bank account) the deposit payments are registered on."""
    deposit_label: str = "Web payment"
    """Label of the deposit invoice's line, followed by the payment's transaction id."""

    _shop = field_validator("shop", mode="before")(prefix_or_default)


class DolibarrSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str
    """Dolibarr's root URL (``/api/index.php`` is added)."""
    api_key: str
    """Secret reference: ``env:DOLIBARR_API_KEY`` or ``block:dolibarr-api-key``."""
    currency: str = "EUR"
    """Currency (ISO 4217) of the company's prices."""
    brand_field: str | None = None
    """Extrafield code (``array_options`` key without ``options_``) read as ``fields.brand``."""
    features: dict[str, str] = Field(default_factory=dict)
    """``fields.<name>`` -> extrafield code, for product features."""
    price_levels: dict[str, int] = Field(default_factory=dict)
    """Customer group -> Dolibarr price level (PRODUIT_MULTIPRICES: ``multiprices[level]``)."""
    customer_prices: dict[str, int] = Field(default_factory=dict)
    """Customer group -> id of the thirdparty whose customer prices (PRODUIT_CUSTOMER_PRICES) the group
    gets; where that thirdparty has no price for a product, the group's ``price_levels`` level applies."""
    only_products: bool = True
    """Read physical products only (``mode=1``); services (shipping, fees) are no catalogue articles."""
    page_size: int = 100
    rate_limit: float | None = None
    timeout: float = 60.0
    orders: DolibarrOrderSettings = Field(default_factory=DolibarrOrderSettings)


CONNECTOR_SETTINGS = DolibarrSettings
"""The model of this connector's options (``connectors.registry.settings_model``)."""
