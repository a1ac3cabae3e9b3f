"""Configuration files and shop queries shared by the flow tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connectors.shop.vendure.client import VendureClient

GESCOM_DOCUMENTS = """[connections.main.erp.shipments]
path = "export/livraisons.csv"
[connections.main.erp.shipments.columns]
order = "Référence web"
delivery = "N° BL"
date = "Date BL"
carrier = "Transporteur"
tracking_number = "N° suivi"
sku = "Article"
quantity = "Qté"
[connections.main.erp.invoices]
folder = "pdf"
index = "export/factures.csv"
[connections.main.erp.invoices.columns]
number = "N° facture"
kind = "Type"
order = "Référence web"
date = "Date"
total = "Total TTC"
"""
"""The files ERP's delivery-note export and invoice PDF folder + index (GesCom column names)."""


def storage_toml(bucket: Any, s3_server: dict[str, str]) -> str:
    """The invoice flow's S3 storage on moto's server (keys from the ``bucket`` fixture's env)."""
    return f"""
[connections.main.invoices.storage]
bucket = "{bucket.name}"
endpoint_url = "{s3_server["endpoint_url"]}"
region = "{s3_server["region"]}"
access_key = "env:TEST_S3_KEY"
secret_key = "env:TEST_S3_SECRET"
"""


def pdf(text: str) -> bytes:
    """A small, well-formed one-page PDF (what a GesCom's PDF export writes)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer << /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


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
