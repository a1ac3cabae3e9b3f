"""Catalogue publish from a real Tryton to a real Vendure, under Prefect."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from connectors.errors import Retryable
from connectors.shop.vendure.catalogue import VendureCatalogue
from flows.catalogue import publish_catalogue
from tasks.settings import load_config
from tasks.state import StateStore
from tests.flows.helpers import shop_products, tryton_erp, vendure_client, write_config

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]

# The demo catalogue: 37 templates, 217 articles; 6 articles are bad on purpose and two
# templates (negative price, no VAT) have no good article left.
PRODUCTS_PUBLISHED = 35
BAD_SKUS = {"TSH-ORG-RED-XL", "CND-NEG", "GFT-BOX", "SWT-HOO-GRN", "PNT-CHI-BLUE-M", "PNT-CHI-BLUE-M2"}


def test_publish_groups_variants_quarantines_bad_rows_and_is_idempotent(tryton_demo, vendure, tmp_path: Path) -> None:
    config = write_config(tmp_path, erp=tryton_erp(tryton_demo), vendure=vendure)

    first = publish_catalogue(config=str(config))

    assert first["created"] == PRODUCTS_PUBLISHED
    assert first["failed"] == 0
    assert first["quarantined"] == 6
    products = {p["name"]: p for p in shop_products(vendure)}
    assert len(products) == PRODUCTS_PUBLISHED
    tee = products["Organic cotton T-shirt"]
    assert [g["name"] for g in tee["optionGroups"]] == ["Colour", "Size"]  # Tryton's attribute strings
    skus = {v["sku"] for v in tee["variants"]}
    assert len(skus) == 15 and "TSH-ORG-RED-XL" not in skus  # the bad EAN stayed out, its siblings went in
    black_s = next(v for v in tee["variants"] if v["sku"] == "TSH-ORG-BLACK-S")
    assert black_s["price"] == 1990 and black_s["taxCategory"]["name"] == "Standard Tax"
    assert black_s["customFields"]["ean"] == "3790000010013"
    assert {f["code"] for f in tee["facetValues"]} == {"clothing", "clothing-t-shirts"}
    book = products["Sewing for beginners (book)"]
    assert book["optionGroups"] == [] and book["variants"][0]["taxCategory"]["name"] == "Reduced Tax"
    all_skus = {v["sku"] for p in products.values() for v in p["variants"]}
    assert not all_skus & BAD_SKUS

    store = StateStore(load_config(config).state_url())
    refused = {(q.field, q.reason.split(":")[0]) for q in store.quarantined(flow="catalogue")}
    assert ("ean", "TSH-ORG-RED-XL") in refused
    assert ("price", "CND-NEG") in refused
    assert ("vat_rate", "GFT-BOX") in refused

    second = publish_catalogue(config=str(config))
    assert (second["created"], second["updated"], second["archived"]) == (0, 0, 0)
    assert second["unchanged"] == PRODUCTS_PUBLISHED
    assert len(shop_products(vendure)) == PRODUCTS_PUBLISHED


def test_dry_run_writes_nothing(tryton_demo, vendure, tmp_path: Path) -> None:
    config = write_config(tmp_path, erp=tryton_erp(tryton_demo), vendure=vendure)

    summary = publish_catalogue(config=str(config), dry_run=True)

    assert len(summary["would_create"]) == PRODUCTS_PUBLISHED
    assert summary["quarantined"] == 6
    assert shop_products(vendure) == []
    assert not (tmp_path / "state.db").exists()
    assert not (tmp_path / "snapshots").exists()


def test_run_killed_after_the_shop_wrote_creates_no_duplicate(
    tryton_demo, vendure, tmp_path: Path, monkeypatch
) -> None:
    """The shop creates a batch, then the run dies before the state store records it."""
    config = write_config(tmp_path, erp=tryton_erp(tryton_demo), vendure=vendure)
    real_write = VendureCatalogue.write_products
    calls = {"n": 0}

    def write_then_die(self, writes):
        result = real_write(self, writes)
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed (simulated) after the shop answered")
        return result

    monkeypatch.setattr(VendureCatalogue, "write_products", write_then_die)
    with pytest.raises(RuntimeError, match="worker killed"):
        publish_catalogue(config=str(config))
    created_before = len(shop_products(vendure))
    assert 10 < created_before < PRODUCTS_PUBLISHED  # two batches of 10 reached the shop
    monkeypatch.setattr(VendureCatalogue, "write_products", real_write)

    rerun = publish_catalogue(config=str(config))

    products = shop_products(vendure)
    assert len(products) == PRODUCTS_PUBLISHED
    assert max(Counter(p["slug"] for p in products).values()) == 1
    sku_counts = Counter(v["sku"] for p in products for v in p["variants"])
    assert max(sku_counts.values()) == 1
    assert rerun["created"] + rerun["updated"] == PRODUCTS_PUBLISHED - 10  # first batch was bound before the crash
    again = publish_catalogue(config=str(config))
    assert (again["created"], again["updated"]) == (0, 0)


def test_transient_shop_error_is_retried_by_prefect(tryton_demo, vendure, tmp_path: Path, monkeypatch) -> None:
    """A 503 in the middle of a batch: Prefect retries the task, the retry reconciles."""
    config = write_config(tmp_path, erp=tryton_erp(tryton_demo), vendure=vendure)
    real_write = VendureCatalogue.write_products
    calls = {"n": 0}

    def flaky(self, writes):
        calls["n"] += 1
        result = real_write(self, writes)
        if calls["n"] == 1:
            raise Retryable("Vendure: HTTP 503 (simulated) after writing")
        return result

    monkeypatch.setattr(VendureCatalogue, "write_products", flaky)
    from tasks import catalogue as catalogue_tasks

    monkeypatch.setattr(catalogue_tasks.publish_batch, "retry_delay_seconds", [0, 0, 0])
    summary = publish_catalogue(config=str(config))

    assert summary["created"] + summary["updated"] == PRODUCTS_PUBLISHED
    products = shop_products(vendure)
    assert len(products) == PRODUCTS_PUBLISHED
    assert max(Counter(v["sku"] for p in products for v in p["variants"]).values()) == 1


def test_shop_enrichment_of_create_only_fields_survives(tryton_demo, vendure, tmp_path: Path) -> None:
    config = write_config(tmp_path, erp=tryton_erp(tryton_demo), vendure=vendure)
    publish_catalogue(config=str(config))
    mug = next(p for p in shop_products(vendure) if p["name"] == "Enamel mug")
    client = vendure_client(vendure)
    client.execute(
        "mutation($input: UpdateProductInput!) { updateProduct(input: $input) { id } }",
        {
            "input": {
                "id": mug["id"],
                "translations": [{"languageCode": "en", "description": "<p>Written by the shop</p>"}],
            }
        },
    )
    client.close()

    publish_catalogue(config=str(config), full=True)  # even a full resend leaves create-only fields alone

    mug = next(p for p in shop_products(vendure) if p["name"] == "Enamel mug")
    assert mug["description"] == "<p>Written by the shop</p>"
