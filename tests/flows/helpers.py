"""Configuration files and shop queries shared by the flow tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connectors.shop.vendure.client import VendureClient

TAXES = """
[connections.main.catalogue.taxes.FR]
"20" = "Standard Tax"
"10" = "Intermediate Tax"
"5.5" = "Reduced Tax"
"2.1" = "Super Reduced Tax"
"0" = "Zero Tax"
"""


def write_config(tmp_path: Path, *, erp: str, vendure: Any, catalogue: str = "", state_url: str | None = None) -> Path:
    """A passerelle.toml with connection "main": the given [erp] block and the Vendure sandbox."""
    config = tmp_path / "passerelle.toml"
    config.write_text(
        f"""
[state]
url = "{state_url or "sqlite:///state.db"}"

[snapshots]
root = "snapshots"

[connections.main.erp]
{erp}

[connections.main.shop]
type = "vendure"
url = "{vendure.admin_api_url}"
username = "{vendure.username}"
password = "env:TEST_VENDURE_PASSWORD"

[connections.main.catalogue]
attributes = ["colour", "size"]
batch_size = 10
{catalogue if "categories" in catalogue else 'categories = [["fields.categories"]]' + chr(10) + catalogue}
{TAXES}
""",
        encoding="utf-8",
    )
    return config


def tryton_erp(tryton: Any) -> str:
    return f"""type = "tryton"
url = "{tryton.url}"
database = "{tryton.database}"
login = "admin"
password = "env:TEST_TRYTON_PASSWORD"
barcode_types = ["ean", ""]"""


def shop_products(vendure: Any) -> list[dict[str, Any]]:
    """Every product in the shop with its variants, as the Admin API shows them."""
    client = VendureClient(vendure.admin_api_url, username=vendure.username, password=vendure.password)
    try:
        data = client.query(
            """{ products(options: {take: 1000}) { totalItems items { id name slug enabled description
                 facetValues { code } optionGroups { name options { code } }
                 variants { id sku name price enabled options { code } taxCategory { name } customFields { ean } } } } }"""
        )
    finally:
        client.close()
    return data["products"]["items"]


def vendure_client(vendure: Any) -> VendureClient:
    return VendureClient(vendure.admin_api_url, username=vendure.username, password=vendure.password)


def shop_variants(vendure: Any) -> dict[str, dict[str, Any]]:
    """Every variant by SKU with its stock and price, as the Admin API shows them."""
    client = vendure_client(vendure)
    try:
        data = client.query(
            "{ productVariants(options: {take: 1000}) { items { id sku price priceWithTax stockOnHand stockAllocated } } }"
        )
    finally:
        client.close()
    return {v["sku"]: v for v in data["productVariants"]["items"]}
