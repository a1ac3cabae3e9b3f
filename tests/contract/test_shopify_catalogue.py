"""Shopify as a catalogue sink, against the fake (Shopify's 2025-01 schema, productSet rules)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

import deployments.sandbox.fakes.shopify.catalogue  # noqa: F401  (registers the catalogue handlers)
from connectors.base import CatalogueSink, ProductWrite
from connectors.models import Product, ShopRef, Variant
from connectors.shop.shopify import catalogue as catalogue_module
from connectors.shop.shopify.catalogue import ShopifyCatalogue
from connectors.shop.shopify.client import ShopifyClient
from connectors.shop.shopify.settings import ShopifySettings
from deployments.sandbox.fakes.shopify.catalogue import product_of, variants_of
from deployments.sandbox.fakes.shopify.core import TOKEN, ShopifyFake, VirtualClock
from tasks.diff import PRODUCT_FIELDS, VARIANT_FIELDS, Ownership

ALL = frozenset(PRODUCT_FIELDS)
FEATURES = {"composition": "composition", "origin": "origine"}
_CLOCKS: dict[int, VirtualClock] = {}


def shopify(**options: Any) -> ShopifyFake:
    clock = VirtualClock()
    fake = ShopifyFake(clock=clock.now, **options)
    _CLOCKS[id(fake)] = clock
    return fake


def sink(fake: ShopifyFake, transport: httpx.BaseTransport | None = None, **settings: Any) -> ShopifyCatalogue:
    clock = _CLOCKS[id(fake)]
    client = ShopifyClient(
        fake.shop, token=TOKEN, transport=transport or fake.transport, sleep=clock.sleep, clock=clock.now
    )
    settings.setdefault("features", FEATURES)
    return ShopifyCatalogue(client, ShopifySettings(url=fake.shop, access_token="env:SHOPIFY_ACCESS_TOKEN", **settings))


def variant(sku: str, size: str | None = None, colour: str | None = None, price: str = "39.00") -> Variant:
    options = {k: v for k, v in (("size", size), ("colour", colour)) if v}
    return Variant(
        key=sku, sku=sku, name=sku, price=Decimal(price), currency="EUR", options=options,
        ean="3790000010013" if size == "M" else None, vat_rate=Decimal("20"), weight=Decimal("0.250"),
    )  # fmt: skip


def polo(**custom: Any) -> Product:
    return Product(
        key="POLO", name="Polo piqué", slug="polo-pique", option_groups=["size"], option_labels={"size": "Taille"},
        variants=[variant("POLO-M", "M"), variant("POLO-XL", "XL")], categories=[("Vêtements", "Polos")],
        description="<p>Piqué cotton</p>",
        custom_fields={"brand": "Armor", "composition": "Coton", "origin": "France", **custom},
    )  # fmt: skip


def tea() -> Product:
    return Product(key="THE", name="Thé vert", slug="the-vert", variants=[variant("THE", price="8.90")])


def create(product: Product) -> ProductWrite:
    return ProductWrite(product, None, ALL, create_variants=[v.key for v in product.variants],
                        variant_fields=frozenset(VARIANT_FIELDS))  # fmt: skip


def metafields(product: dict[str, Any]) -> dict[str, str]:
    return {f"{m['namespace']}.{m['key']}": m["value"] for m in product["_metafields"]}


def mutations(fake: ShopifyFake) -> int:
    return sum(1 for e in fake.exchanges if e.operation == "mutation")


def test_a_product_with_variants_is_created_with_labels_skus_eans_prices_vendor_tags_and_metafields() -> None:
    fake = shopify(taxes_included=False)
    shop = sink(fake)
    assert isinstance(shop, CatalogueSink)

    result = shop.write_products([create(polo()), create(tea())])

    assert result.errors == [] and result.notices == []
    ref = result.refs["POLO"]
    product = fake.get("Product", ref.product_id)
    assert product is not None
    assert (product["title"], product["handle"], product["vendor"], product["status"]) == (
        "Polo piqué", "polo-pique", "Armor", "ACTIVE")  # fmt: skip
    assert product["descriptionHtml"] == "<p>Piqué cotton</p>"
    assert (product["productType"], product["tags"]) == ("Polos", ["Polos", "Vêtements"])
    assert [(o["name"], o["values"]) for o in product["options"]] == [("Taille", ["M", "XL"])]  # the label, not "size"
    assert metafields(product) == {"passerelle.key": "POLO", "passerelle.composition": "Coton",
                                   "passerelle.origine": "France", "passerelle.tags": '["Vêtements", "Polos"]'}  # fmt: skip
    rows = variants_of(fake, ref.product_id)
    assert [(v["sku"], v["barcode"], v["price"], v["selectedOptions"]) for v in rows] == [
        ("POLO-M", "3790000010013", "39.00", [{"name": "Taille", "value": "M"}]),
        ("POLO-XL", "", "39.00", [{"name": "Taille", "value": "XL"}]),
    ]
    assert ref.variant_ids == {"POLO-M": rows[0]["id"], "POLO-XL": rows[1]["id"]}
    item = fake.get("InventoryItem", rows[0]["inventoryItemId"])
    assert item is not None and item["tracked"] is True and item["variantId"] == rows[0]["id"]
    assert item["measurement"] == {"weight": {"value": 0.25, "unit": "KILOGRAMS"}}
    the = product_of(fake, "THE")
    assert the is not None and the["options"] == []  # Shopify's default option "Title"
    assert variants_of(fake, the["id"])[0]["selectedOptions"] == [{"name": "Title", "value": "Default Title"}]
    assert fake.calls("productSet") == 2


@pytest.mark.parametrize(
    ("taxes_included", "price", "tax_included", "sent"),
    [
        (False, "39.00", False, "39.00"),
        (True, "39.00", False, "46.80"),  # a tax-excluded ERP price on a shop whose prices include taxes
        (False, "19.99", True, "16.66"),
        (True, "19.99", True, "19.99"),
    ],
)
def test_prices_are_sent_in_the_shops_tax_basis(
    taxes_included: bool, price: str, tax_included: bool, sent: str
) -> None:
    fake = shopify(taxes_included=taxes_included)
    item = variant("GIFT", price=price)
    item.tax_included = tax_included
    result = sink(fake).write_products([create(Product("GIFT", "Coffret", "coffret", [item]))])

    assert result.errors == [] and result.notices == []
    assert variants_of(fake, result.refs["GIFT"].product_id)[0]["price"] == sent


def test_a_tax_included_price_the_shop_cannot_show_to_the_cent_is_written_with_a_notice() -> None:
    fake = shopify(taxes_included=False)
    item = variant("GIFT", price="9.99")
    item.tax_included = True
    result = sink(fake).write_products([create(Product("GIFT", "Coffret", "coffret", [item]))])

    assert result.errors == [] and set(result.refs) == {"GIFT"}
    (notice,) = result.notices
    assert (notice.key, notice.field) == ("GIFT", "price")


def test_a_rerun_with_nothing_changed_sends_no_mutation_and_a_change_sends_only_it() -> None:
    fake = shopify(taxes_included=False)
    shop = sink(fake)
    ref = shop.write_products([create(polo())]).refs["POLO"]
    owned = Ownership()
    before = mutations(fake)

    same = shop.write_products(
        [
            ProductWrite(
                polo(),
                ref,
                owned.product_fields,
                update_variants=["POLO-M", "POLO-XL"],
                variant_fields=owned.variant_fields,
            )
        ]
    )
    assert same.errors == [] and same.refs["POLO"] == ref
    assert mutations(fake) == before  # read, found equal, nothing sent

    sent: list[dict[str, Any]] = []

    def spy(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        response = fake.handle(request)
        if "productSet" in body["query"] and not fake.exchanges[-1].throttled:  # a throttled one was not executed
            sent.append(body["variables"]["input"])
        return response

    changed = polo()
    changed.name = "Polo piqué coton"
    changed.variants[0].price = Decimal("35")
    result = sink(fake, httpx.MockTransport(spy)).write_products(
        [
            ProductWrite(
                changed, ref, owned.product_fields, update_variants=["POLO-M"], variant_fields=owned.variant_fields
            )
        ]
    )

    assert result.errors == [] and result.refs["POLO"] == ref
    (body,) = sent
    assert body["title"] == "Polo piqué coton"
    assert not {"handle", "descriptionHtml", "vendor", "tags", "metafields"} & set(body)
    assert [v["price"] for v in body["variants"] if "price" in v] == ["35.00"]
    assert [v["price"] for v in variants_of(fake, ref.product_id)] == ["35.00", "39.00"]
    assert [v["id"] for v in variants_of(fake, ref.product_id)] == list(ref.variant_ids.values())  # none re-created


def test_tags_the_merchant_added_survive_a_change_of_categories() -> None:
    """productSet replaces the tag list (schema, ``ProductSetInput.tags``): passerelle remembers the
    tags it set (metafield ``passerelle.tags``) and sends back every other tag Shopify holds."""
    fake = shopify()
    shop = sink(fake)
    ref = shop.write_products([create(polo())]).refs["POLO"]
    product = fake.get("Product", ref.product_id)
    assert product is not None
    product["tags"] = [*product["tags"], "Soldes"]  # added by the merchant in the admin
    moved = polo()
    moved.categories = [("Vêtements", "Hauts")]

    result = shop.write_products([ProductWrite(moved, ref, Ownership().product_fields)])

    assert result.errors == []
    assert sorted(product["tags"]) == ["Hauts", "Soldes", "Vêtements"]  # "Polos" was passerelle's
    assert product["productType"] == "Hauts"


def test_a_product_write_asks_back_only_the_variants_it_sent() -> None:
    """A connection costs 2 + its page size x the node (shopify.dev "rate limits"): asking for 250
    variants in the answer of a 2-variant product cost 514 points, a tenth of a Standard bucket."""
    fake = shopify()
    result = sink(fake).write_products([create(polo())])

    assert result.errors == []
    (exchange,) = [e for e in fake.exchanges if "productSet" in e.fields]
    assert exchange.requested_cost <= 10 + 1 + 2 + 2 * 3  # mutation, product, variants(first: 2) of 3 each


def test_create_only_fields_the_merchant_edited_are_kept() -> None:
    fake = shopify()
    shop = sink(fake)
    ref = shop.write_products([create(polo())]).refs["POLO"]
    product = fake.get("Product", ref.product_id)
    assert product is not None
    product["descriptionHtml"] = "<p>Enriched by the merchant</p>"
    product["vendor"] = "Merchant's vendor"
    product["_metafields"].append(
        {"namespace": "custom", "key": "care", "type": "single_line_text_field", "value": "30°"}
    )
    for m in product["_metafields"]:
        if m["key"] == "composition":
            m["value"] = "Coton bio"
    changed = polo(composition="Laine", origin="Italie", brand="Other")
    changed.description = "ERP text"
    owned = Ownership(create_only=frozenset({"slug", "description", "images", "custom_fields.brand",
                                             "custom_fields.composition"}))  # fmt: skip

    result = shop.write_products([ProductWrite(changed, ref, owned.product_fields, keep_custom=owned.keep_custom)])

    assert result.errors == []
    assert product["descriptionHtml"] == "<p>Enriched by the merchant</p>" and product["vendor"] == "Merchant's vendor"
    assert metafields(product) == {"custom.care": "30°", "passerelle.composition": "Coton bio",
                                   "passerelle.key": "POLO", "passerelle.origine": "Italie",
                                   "passerelle.tags": '["Vêtements", "Polos"]'}  # fmt: skip


def test_a_user_error_on_one_product_is_its_record_error_and_the_others_are_written() -> None:
    fake = shopify()
    shop = sink(fake)
    shop.write_products([create(tea())])
    clash = Product("COPY", "Copy", "the-vert", [variant("COPY")])  # a handle another product holds

    result = shop.write_products([create(clash), create(polo())])

    assert [(e.key, e.field) for e in result.errors] == [("COPY", "slug")]
    assert "already in use" in result.errors[0].reason
    assert set(result.refs) == {"POLO"}
    assert product_of(fake, "COPY") is None


def test_more_than_three_option_groups_is_the_records_error_before_anything_is_sent() -> None:
    fake = shopify()
    wide = Product("WIDE", "Wide", "wide", [variant("W1", "M", "Red")], option_groups=["size", "colour", "fit", "cut"])
    wide.variants[0].options.update(fit="slim", cut="v")

    result = sink(fake).write_products([create(wide), create(tea())])

    assert [(e.key, e.field) for e in result.errors] == [("WIDE", "option_groups")]
    assert set(result.refs) == {"THE"} and fake.calls("productSet") == 1


def test_the_fake_refuses_what_shopify_refuses() -> None:
    fake = shopify()
    shop = sink(fake)
    ref = shop.write_products([create(polo())]).refs["POLO"]
    document = catalogue_module.SET

    def refused(input: dict[str, Any]) -> list[str | None]:
        payload = shop.client.execute(document, {"input": input, "variants": 10}, mutation=True)["productSet"]
        return [e["code"] for e in payload["userErrors"]]

    four = [{"name": n, "values": [{"name": "a"}]} for n in "ABCD"]
    assert refused({"title": "X", "productOptions": four, "variants": []}) == ["OPTIONS_OVER_LIMIT"]
    one = [{"name": "Size", "values": [{"name": "M"}]}]
    assert refused({"title": "X", "productOptions": one,
                    "variants": [{"optionValues": [{"optionName": "Size", "name": "L"}]}]}) == ["OPTION_VALUE_DOES_NOT_EXIST"]  # fmt: skip
    twice = [{"optionValues": [{"optionName": "Size", "name": "M"}]}] * 2
    assert refused({"title": "X", "productOptions": one, "variants": twice}) == ["DUPLICATED_VALUE"]
    assert refused({"title": "X", "productOptions": one,
                    "variants": [{"optionValues": [{"optionName": "Size", "name": "M"}], "price": "-1"}]}) == ["INVALID_VARIANT"]  # fmt: skip
    assert refused({"id": "gid://shopify/Product/999", "title": "X"}) == ["PRODUCT_DOES_NOT_EXIST"]
    assert refused({"id": ref.product_id, "productOptions": one,
                    "variants": [{"id": "gid://shopify/ProductVariant/999",
                                  "optionValues": [{"optionName": "Size", "name": "M"}]}]}) == ["PRODUCT_VARIANT_DOES_NOT_EXIST"]  # fmt: skip
    assert refused({"title": "X", "handle": "polo-pique", "productOptions": one,
                    "variants": [{"optionValues": [{"optionName": "Size", "name": "M"}]}]}) == ["HANDLE_NOT_UNIQUE"]  # fmt: skip


def test_a_run_cut_off_after_writing_adopts_by_sku_and_creates_no_duplicate() -> None:
    fake = shopify()
    written = sink(fake).write_products([create(polo()), create(tea())]).refs
    fresh = sink(fake)  # the state store lost the answer

    found = fresh.find_products([polo(), tea(), Product("NEW", "New", "new", [variant("NEW")])])

    assert found == written
    result = fresh.write_products(
        [
            ProductWrite(
                polo(),
                found["POLO"],
                Ownership().product_fields,
                update_variants=["POLO-M"],
                variant_fields=Ownership().variant_fields,
            )
        ]
    )
    assert result.errors == [] and result.refs["POLO"] == written["POLO"]
    assert len(fake.all("Product")) == 2 and len(fake.all("ProductVariant")) == 3


def test_a_new_variant_is_added_and_one_gone_from_the_erp_is_kept_with_a_notice() -> None:
    fake = shopify()
    shop = sink(fake)
    ref = shop.write_products([create(polo())]).refs["POLO"]
    bigger = polo()
    bigger.variants = [variant("POLO-S", "S"), bigger.variants[0]]
    write = ProductWrite(bigger, ShopRef(ref.product_id, {"POLO-M": ref.variant_ids["POLO-M"]}), frozenset(),
                         create_variants=["POLO-S"], disable_variants={"POLO-XL": ref.variant_ids["POLO-XL"]})  # fmt: skip

    result = shop.write_products([write])

    assert result.errors == []
    assert [(n.key, n.field) for n in result.notices] == [("POLO-XL", "enabled")]
    skus = [v["sku"] for v in variants_of(fake, ref.product_id)]
    assert skus == ["POLO-S", "POLO-M", "POLO-XL"]  # nothing deleted
    assert set(result.refs["POLO"].variant_ids) == {"POLO-S", "POLO-M"}


def test_archive_sets_the_archive_status_and_never_deletes() -> None:
    fake = shopify()
    ref = sink(fake).write_products([create(tea())]).refs["THE"]

    result = sink(fake, archive_status="DRAFT").archive_products({"THE": ref})
    assert result.errors == [] and result.refs == {"THE": ref}
    assert fake.get("Product", ref.product_id)["status"] == "DRAFT"  # type: ignore[index]
    assert sink(fake).archive_products({"THE": ref}).errors == []
    assert fake.get("Product", ref.product_id)["status"] == "ARCHIVED"  # type: ignore[index]
    gone = sink(fake).archive_products({"X": ShopRef("gid://shopify/Product/999")})
    assert [(e.key, e.field) for e in gone.errors] == [("X", "enabled")]


def test_a_product_deleted_in_shopify_is_the_records_error() -> None:
    fake = shopify()
    result = sink(fake).write_products([ProductWrite(tea(), ShopRef("gid://shopify/Product/999"), ALL)])
    assert [(e.key, e.field) for e in result.errors] == [("THE", "product")]


def test_the_stock_sink_finds_the_inventory_items_of_created_variants() -> None:
    from connectors.base import StockWrite
    from connectors.shop.shopify.stock import ShopifyStock
    from deployments.sandbox.fakes.shopify.inventory import quantities

    fake = shopify()
    shop = sink(fake)
    ref = shop.write_products([create(polo())]).refs["POLO"]
    stock = ShopifyStock(shop.client, shop.settings)

    result = stock.write_stock([StockWrite("POLO-M", ref.variant_ids["POLO-M"], 4)])

    assert result.errors == []
    item = variants_of(fake, ref.product_id)[0]["inventoryItemId"]
    assert [q["available"] for (i, _), q in quantities(fake).items() if i == item] == [4]


def test_a_product_over_the_shops_variant_limit_is_the_records_error() -> None:
    fake = shopify()
    fake.max_product_variants = 2  # type: ignore[attr-defined]  (a shop at a lower resourceLimits)
    big = Product("BIG", "Big", "big", [variant(f"B{n}", str(n)) for n in range(3)], option_groups=["size"])

    result = sink(fake).write_products([create(big), create(tea())])

    assert [(e.key, e.field) for e in result.errors] == [("BIG", "variants")]
    assert set(result.refs) == {"THE"}
