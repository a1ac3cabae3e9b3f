"""WooCommerce as a catalogue sink, against the fake that keeps the rules of a real WooCommerce 11.0
(captured products, variations, attributes, categories and tax classes; bodies checked against the
captured index: an undeclared field or a wrong type is the real 400)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from connectors.base import CatalogueSink, ProductWrite, StockWrite
from connectors.errors import Fatal, Retryable
from connectors.http import HttpError
from connectors.models import Product, ShopRef, Variant
from connectors.shop.woocommerce import WooCommerceShop
from connectors.shop.woocommerce.client import WooCommerceClient
from deployments.sandbox.fakes.woocommerce_fake import KEY, LIVE, SECRET, SITE, FakeWooCommerce, load
from tasks.diff import PRODUCT_FIELDS, VARIANT_FIELDS, Ownership

ALL = frozenset(PRODUCT_FIELDS)


def shop(fake: FakeWooCommerce, site: str = SITE, **options: object) -> WooCommerceShop:
    auth = "oauth1" if site.startswith("http://") else "basic"
    client = WooCommerceClient(
        site, consumer_key=KEY, consumer_secret=SECRET, transport=fake.transport, backoff=0.0, auth=auth
    )
    return WooCommerceShop(client, **options)  # type: ignore[arg-type]


def variant(sku: str, size: str | None = None, price: str = "39.00", tax: str = "Standard rate") -> Variant:
    return Variant(
        key=sku, sku=sku, name=f"{sku}", price=Decimal(price), currency="EUR",
        options={"size": size} if size else {}, ean="3790000010013" if size == "M" else None,
        vat_rate=Decimal("20"), tax_category=tax, weight=Decimal("0.250"),
    )  # fmt: skip


def polo() -> Product:
    return Product(
        key="POLO", name="Polo piqué", slug="polo-pique", option_groups=["size"],
        variants=[variant("POLO-M", "M"), variant("POLO-XL", "XL")],
        categories=[("Vêtements", "Polos")], images=("https://cdn.example.test/polo.jpg", "file:///tmp/x.jpg"),
        description="Piqué cotton",
    )  # fmt: skip


def tea() -> Product:
    return Product(
        key="THE", name="Thé vert", slug="the-vert", variants=[variant("THE", price="8.90", tax="Reduced rate")],
        categories=[("Épicerie", "Thé")],
    )  # fmt: skip


def sized() -> tuple[FakeWooCommerce, int]:
    """A fake whose merchant created the global attribute "Size" (S, M, L); its id."""
    fake = FakeWooCommerce()
    return fake, fake.add_attribute("Size", ("S", "M", "L"))


def create(product: Product) -> ProductWrite:
    return ProductWrite(product, None, ALL, create_variants=[v.key for v in product.variants],
                        variant_fields=frozenset(VARIANT_FIELDS))  # fmt: skip


def test_a_group_becomes_a_variable_product_and_a_lone_article_a_simple_one() -> None:
    fake, size = sized()
    sink = shop(fake)
    assert isinstance(sink, CatalogueSink)

    result = sink.write_products([create(polo()), create(tea())])

    assert result.errors == []
    ref = result.refs["POLO"]
    parent = fake.products[int(ref.product_id)]
    assert (parent["type"], parent["name"], parent["slug"], parent["status"]) == (
        "variable", "Polo piqué", "polo-pique", "publish")  # fmt: skip
    # the shop's global attribute "Size" (pa_size) is reused, its missing term XL created
    assert parent["attributes"][0]["id"] == size and parent["attributes"][0]["options"] == ["M", "XL"]
    assert parent["attributes"][0]["variation"] is True
    assert "XL" in [t["name"] for t in fake.terms[size]]
    assert [i["src"] for i in parent["images"]] == ["https://cdn.example.test/polo.jpg"]  # no local file
    category = fake.categories[parent["categories"][0]["id"]]
    assert category["name"] == "Polos" and fake.categories[category["parent"]]["name"] == "Vêtements"
    medium = fake.variation_by_sku("POLO-M")
    assert ref.variant_ids == {"POLO-M": f"{parent['id']}/{medium['id']}",
                               "POLO-XL": f"{parent['id']}/{fake.variation_by_sku('POLO-XL')['id']}"}  # fmt: skip
    assert medium["attributes"] == [{"id": size, "name": "Size", "slug": "pa_size", "option": "M"}]
    assert (medium["regular_price"], medium["weight"], medium["global_unique_id"], medium["tax_class"]) == (
        "39.00", "0.25", "3790000010013", "")  # fmt: skip
    simple = fake.product_by_sku("THE")
    assert result.refs["THE"] == ShopRef(str(simple["id"]), {"THE": str(simple["id"])})
    assert (simple["type"], simple["regular_price"], simple["tax_class"]) == ("simple", "8.90", "reduced-rate")
    # one batch for both products, one for the variations
    assert [(m, p) for m, p, _ in fake.writes() if p.endswith("batch")] == [
        ("POST", "/products/batch"), ("POST", f"/products/{parent['id']}/variations/batch")]  # fmt: skip


def labelled(product: Product, **labels: str) -> Product:
    product.option_labels = dict(labels)
    return product


# -- tax basis of prices ------------------------------------------------------------------------
def priced(price: str, *, included: bool, vat: str = "20") -> Product:
    item = variant("GIFT", price=price)
    item.vat_rate, item.tax_included = Decimal(vat), included
    return Product("GIFT", "Coffret", "coffret", [item])


@pytest.mark.parametrize(
    ("setting", "price", "included", "sent"),
    [
        ("no", "39.00", False, "39.00"),  # the same basis: as it is
        ("yes", "39.00", False, "46.80"),  # a tax-excluded ERP price on a shop entering prices with tax
        ("no", "19.99", True, "16.66"),  # a tax-included ERP price on a shop entering them without
        ("yes", "19.99", True, "19.99"),
    ],
)
def test_prices_are_sent_in_the_basis_the_shop_stores(setting: str, price: str, included: bool, sent: str) -> None:
    fake = FakeWooCommerce()
    fake.prices_include_tax = setting

    result = shop(fake).write_products([create(priced(price, included=included))])

    assert result.errors == [] and result.notices == []
    assert fake.product_by_sku("GIFT")["regular_price"] == sent


def test_a_tax_included_price_the_shop_cannot_show_to_the_cent_is_written_with_a_notice() -> None:
    fake = FakeWooCommerce()  # "No, I will enter prices exclusive of tax"
    result = shop(fake).write_products([create(priced("9.99", included=True))])

    assert result.errors == [] and set(result.refs) == {"GIFT"}
    assert fake.product_by_sku("GIFT")["regular_price"] == "8.33"  # shows 10.00 with VAT
    (notice,) = result.notices
    assert (notice.key, notice.field) == ("GIFT", "price") and "9.99" in notice.reason and "10.00" in notice.reason


def test_a_shop_without_taxes_gets_the_erp_price_as_it_is_stated() -> None:
    """Taxes off: WooCommerce has no tax settings group (404) and adds no tax; the ERP's price is what customers pay."""
    fake = FakeWooCommerce()
    fake.taxes_enabled = False
    shop(fake).write_products([create(priced("19.99", included=True))])
    assert fake.product_by_sku("GIFT")["regular_price"] == "19.99"


def test_a_fresh_shop_gets_global_attributes_named_for_customers_not_by_code() -> None:
    fake = FakeWooCommerce()  # no global attribute yet

    result = shop(fake).write_products([create(labelled(polo(), size="Taille"))])

    assert result.errors == []
    (attribute,) = fake.attributes.values()
    assert attribute["name"] == "Taille"
    parent = fake.products[int(result.refs["POLO"].product_id)]
    assert [(a["id"], a["name"], a["options"]) for a in parent["attributes"]] == [
        (attribute["id"], "Taille", ["M", "XL"])
    ]
    assert fake.variation_by_sku("POLO-M")["attributes"] == [
        {"id": attribute["id"], "name": "Taille", "slug": "pa_size", "option": "M"}]  # fmt: skip
    # its slug is the code: a later label ("Tailles") still finds it, nothing created twice
    other = labelled(Product("PULL", "Pull", "pull", option_groups=["size"],
                             variants=[variant("PULL-M", "M"), variant("PULL-S", "S")]), size="Tailles")  # fmt: skip
    assert shop(fake).write_products([create(other)]).errors == [] and len(fake.attributes) == 1


def test_an_attribute_the_merchant_created_is_found_by_its_label() -> None:
    fake = FakeWooCommerce()
    taille = fake.add_attribute("Taille", ("S", "M"))

    result = shop(fake).write_products([create(labelled(polo(), size="Taille"))])

    assert result.errors == [] and list(fake.attributes) == [taille]
    assert not [p for _, p, _ in fake.writes() if p == "/products/attributes"]
    assert fake.variation_by_sku("POLO-XL")["attributes"][0]["id"] == taille


def test_a_shop_where_passerelle_created_attributes_by_code_keeps_working() -> None:
    """Before labels, passerelle named the attribute "size": its products and variations still match it."""
    fake = FakeWooCommerce()
    ref = shop(fake).write_products([create(polo())]).refs["POLO"]  # no label: the attribute is "size"
    (old,) = fake.attributes
    assert fake.attributes[old]["name"] == "size"

    bigger = labelled(polo(), size="Taille")  # the ERP now gives the label
    bigger.variants.append(variant("POLO-S", "S"))
    owned = Ownership()
    write = ProductWrite(bigger, ref, frozenset(), create_variants=["POLO-S"], update_variants=["POLO-M"],
                         variant_fields=owned.variant_fields)  # fmt: skip
    result = shop(fake).write_products([write])

    assert result.errors == [] and list(fake.attributes) == [old]  # found by its code, none created
    assert fake.attributes[old]["name"] == "Taille"  # what customers read now, the slug kept
    assert fake.attributes[old]["slug"] == "pa_size"
    parent = fake.products[int(ref.product_id)]
    assert [(a["id"], a["options"]) for a in parent["attributes"]] == [(old, ["M", "S", "XL"])]
    rows = [v for v in fake.variations.values() if v["parent_id"] == parent["id"]]
    assert sorted((v["sku"], v["attributes"][0]["id"], v["attributes"][0]["option"]) for v in rows) == [
        ("POLO-M", old, "M"), ("POLO-S", old, "S"), ("POLO-XL", old, "XL")]  # fmt: skip


def test_an_option_code_woocommerce_reserves_as_a_slug_still_gets_its_attribute() -> None:
    fake = FakeWooCommerce()
    shirt = Product("SHIRT", "Chemise", "chemise", option_groups=["type"], option_labels={"type": "Type de col"},
                    variants=[Variant(key=k, sku=k, name=k, price=Decimal("50"), currency="EUR", options={"type": t},
                                      vat_rate=Decimal("20"), tax_category="Standard rate")
                              for k, t in (("SHIRT-O", "Officier"), ("SHIRT-F", "Français"))])  # fmt: skip

    result = shop(fake).write_products([create(shirt)])

    assert result.errors == []
    (attribute,) = fake.attributes.values()
    assert (attribute["name"], attribute["slug"]) == ("Type de col", "pa_type-de-col")  # "type" is reserved


def test_with_the_stock_flow_new_variations_and_simple_products_start_managed_at_zero() -> None:
    fake, _ = sized()
    sink = shop(fake)
    managed = [replace(create(polo()), manage_stock=True), replace(create(tea()), manage_stock=True)]

    refs = sink.write_products(managed).refs

    for row in (fake.variation_by_sku("POLO-M"), fake.variation_by_sku("POLO-XL"), fake.product_by_sku("THE")):
        assert (row["manage_stock"], row["stock_quantity"]) == (True, 0), row["sku"]  # not for sale until stocked
    # a stock run writes 7; a later catalogue update (a new size, a price) never touches stock
    sink.write_stock([StockWrite("POLO-M", refs["POLO"].variant_ids["POLO-M"], 7)])
    bigger = polo()
    bigger.variants.append(variant("POLO-S", "S"))
    bigger.variants[0].price = Decimal("35")
    owned = Ownership()
    sink.write_products([ProductWrite(bigger, refs["POLO"], owned.product_fields, create_variants=["POLO-S"],
                                      update_variants=["POLO-M"], variant_fields=owned.variant_fields,
                                      manage_stock=True)])  # fmt: skip
    assert (fake.variation_by_sku("POLO-M")["stock_quantity"], fake.variation_by_sku("POLO-S")["stock_quantity"]) == (
        7,
        0,
    )
    updates = [i for _, p, b in fake.writes() if p.endswith("batch") for i in (b.get("update") or [])]
    assert updates and not any(
        {"manage_stock", "stock_quantity"} & set(i) for i in updates if "sku" in i or "regular_price" in i
    )


def test_without_the_stock_flow_products_are_created_as_before_without_stock_fields() -> None:
    fake, _ = sized()
    shop(fake).write_products([create(polo()), create(tea())])
    created = [i for _, p, b in fake.writes() if p.endswith("batch") for i in (b.get("create") or [])]
    assert created and not any({"manage_stock", "stock_quantity"} & set(i) for i in created)


def test_a_killed_run_adopts_what_it_created_by_sku_and_slug() -> None:
    fake = FakeWooCommerce()
    written = shop(fake).write_products([create(polo()), create(tea())]).refs
    fresh = shop(fake)  # the state store lost the answer
    assert fresh.find_products([polo(), tea()]) == written
    assert fresh.find_products([Product("NEW", "New", "new", [variant("NEW")])]) == {}


def test_an_update_writes_only_owned_fields_and_keeps_the_shop_description() -> None:
    fake = FakeWooCommerce()
    sink = shop(fake)
    ref = sink.write_products([create(polo())]).refs["POLO"]
    parent = fake.products[int(ref.product_id)]
    parent["description"] = "Enriched by the merchant"
    changed = polo()
    changed.name = "Polo piqué coton"
    changed.description = "ERP text"
    changed.variants[0].price = Decimal("35")
    owned = Ownership()
    write = ProductWrite(
        changed, ref, owned.product_fields, update_variants=["POLO-M"], variant_fields=owned.variant_fields
    )

    assert sink.write_products([write]).errors == []

    assert parent["name"] == "Polo piqué coton" and parent["description"] == "Enriched by the merchant"
    assert fake.variation_by_sku("POLO-M")["regular_price"] == "35.00"
    update = [b for _, p, b in fake.writes() if p == "/products/batch"][-1]["update"][0]
    assert "description" not in update and "slug" not in update


def test_a_duplicate_sku_refuses_that_product_only() -> None:
    fake = FakeWooCommerce()
    clash = Product("HOODIE", "Hoodie copy", "hoodie-copy", [variant("PEER-HOODIE-S")])  # a captured variation's SKU

    result = shop(fake).write_products([create(clash), create(tea())])

    assert [(e.key, e.field) for e in result.errors] == [("HOODIE", "product")]
    assert "product_invalid_sku" in result.errors[0].reason
    assert set(result.refs) == {"THE"}


@pytest.mark.parametrize("price", ["12.345", "NaN", "-1"])
def test_a_price_woocommerce_would_store_as_garbage_is_refused_before_sending(price: str) -> None:
    fake = FakeWooCommerce()
    bad = Product("BAD", "Bad", "bad", [variant("BAD", price=price)])

    result = shop(fake).write_products([create(bad), create(tea())])

    assert [(e.key, e.field) for e in result.errors] == [("BAD", "price")]
    assert all(item.get("sku") != "BAD" for _, _, body in fake.writes() for item in (body or {}).get("create", []))
    assert set(result.refs) == {"THE"}


def test_the_fake_accepts_a_non_numeric_price_like_the_real_server() -> None:
    """Why the connector validates: the captured WooCommerce took "abc" with a 201 and dropped it."""
    fake = FakeWooCommerce()
    client = shop(fake).client
    created, _ = client.batch("products/batch", create=[{"name": "x", "sku": "X", "regular_price": "abc"}])
    assert created[0]["regular_price"] == "" and created[0]["purchasable"] is False


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"name": "x", "regular_price": 39.0}, "create[0].regular_price"),
        ({"name": "x", "status": "enabled"}, "create[0].status"),
        ({"name": "x", "categories": [{"id": "15"}]}, "create[0].categories[0][id]"),
        ({"name": "x", "brands": [7]}, "create[0].brands[0]"),  # brands are [{id}], not bare ids
        ({"name": "x", "attributes": [{"id": 1, "options": "M"}]}, "create[0].attributes[0][options]"),
    ],
)
def test_the_fake_refuses_wrong_types_of_declared_fields(body: dict[str, object], param: str) -> None:
    fake = FakeWooCommerce()
    with pytest.raises(HttpError) as refused:
        shop(fake).client.batch("products/batch", create=[body])
    assert refused.value.status == 400 and "rest_invalid_param" in refused.value.body and param in refused.value.body


def test_the_fake_ignores_undeclared_fields_as_woocommerce_does() -> None:
    """WordPress validates only the declared arguments; the product is created without the others."""
    fake = FakeWooCommerce()
    created, _ = shop(fake).client.batch("products/batch", create=[{"name": "x", "colour": "red", "brand": "B"}])
    product = fake.products[created[0]["id"]]
    assert product["name"] == "x" and "colour" not in product and "brand" not in product


def test_an_unknown_tax_class_is_fatal_and_names_it() -> None:
    fake = FakeWooCommerce()
    with pytest.raises(Fatal, match="'Taux réduit'.*Reduced rate"):
        shop(fake).write_products([create(Product("T", "T", "t", [variant("T", tax="Taux réduit")]))])
    assert fake.writes() == []


def test_archive_sets_draft_and_never_deletes() -> None:
    fake = FakeWooCommerce()
    sink = shop(fake)
    refs = sink.write_products([create(tea())]).refs
    result = sink.archive_products({**refs, "GONE": ShopRef("9999")})
    assert set(result.refs) == {"THE"} and [e.key for e in result.errors] == ["GONE"]
    assert fake.product_by_sku("THE")["status"] == "draft"
    assert all(r.method != "DELETE" for r in fake.requests)


def test_writes_work_over_plain_http_with_oauth_signatures() -> None:
    fake = FakeWooCommerce()
    sink = shop(fake, site="http://shop.example.test")
    assert sink.write_products([create(tea())]).errors == []
    posted = [r for r in fake.requests if r.method == "POST"]
    assert posted and all("oauth_signature" in r.url.params for r in posted)
    assert all("Authorization" not in r.headers for r in fake.requests)


def test_a_removed_variant_is_disabled_not_deleted() -> None:
    fake = FakeWooCommerce()
    sink = shop(fake)
    ref = sink.write_products([create(polo())]).refs["POLO"]
    smaller = polo()
    smaller.variants = smaller.variants[:1]
    write = ProductWrite(smaller, ref, frozenset(), disable_variants={"POLO-XL": ref.variant_ids["POLO-XL"]})
    result = sink.write_products([write])
    assert result.errors == [] and set(result.refs["POLO"].variant_ids) == {"POLO-M"}
    assert fake.variation_by_sku("POLO-XL")["status"] == "private"


def test_categories_are_found_again_by_name_and_parent_not_created_twice() -> None:
    fake = FakeWooCommerce()
    coffee = Product("CAFE", "Café", "cafe", [variant("CAFE")], categories=[("Café & Thé", "Moulu")])
    shop(fake).write_products([create(coffee)])
    other = Product("CAFE2", "Café 2", "cafe-2", [variant("CAFE2")], categories=[("Café & Thé", "Moulu")])
    shop(fake).write_products([create(other)])  # a new run: the categories are read back (HTML-escaped)
    names = sorted(c["name"] for c in fake.categories.values())
    assert names == ["Café &amp; Thé", "Moulu", "Uncategorized"]
    assert fake.product_by_sku("CAFE")["categories"] == fake.product_by_sku("CAFE2")["categories"]


def test_a_refused_variation_names_its_product_and_the_other_products_go_on() -> None:
    fake = FakeWooCommerce()
    clash = polo()
    clash.variants[1].sku = "PEER-HOODIE-L"  # taken by nothing yet
    clash.variants[0].sku = "PEER-HOODIE-S"  # a captured variation's SKU
    result = shop(fake).write_products([create(clash), create(tea())])
    assert [(e.key, e.field) for e in result.errors] == [("POLO", "variants")]
    assert "PEER-HOODIE-S" in result.errors[0].reason and "product_invalid_sku" in result.errors[0].reason
    assert "held by product 11" in result.errors[0].reason  # the captured variation that has it
    assert set(result.refs["POLO"].variant_ids) == {"POLO-XL"} and "THE" in result.refs


def test_a_batch_refused_by_an_outage_is_retryable_and_not_resent_blindly() -> None:
    fake = FakeWooCommerce()

    def outage(f: FakeWooCommerce) -> None:  # down once the tax classes, tax setting and route index are read
        f.fail_with = 503 if len(f.requests) >= 3 else None

    fake.after_request = outage
    with pytest.raises(Retryable):
        shop(fake).write_products([create(Product("T", "T", "t", [variant("T")]))])
    assert [r.method for r in fake.requests] == ["GET", "GET", "GET", "POST"]  # the batch was sent once


def test_the_ean_goes_to_global_unique_id_or_to_a_meta_on_a_woocommerce_older_than_9_2() -> None:
    fake = FakeWooCommerce()
    shop(fake).write_products([create(polo())])
    assert fake.variation_by_sku("POLO-M")["global_unique_id"] == "3790000010013"

    older = FakeWooCommerce()
    for route in ("/wc/v3/products/batch", "/wc/v3/products/(?P<product_id>[\\d]+)/variations/batch"):
        for endpoint in older.index["routes"][route]["endpoints"]:
            endpoint["args"].pop("global_unique_id", None)  # what 9.1 declares: the fake refuses the field
    assert shop(older).write_products([create(polo())]).errors == []
    medium = older.variation_by_sku("POLO-M")
    assert {m["key"]: m["value"] for m in medium["meta_data"]}["_passerelle_ean"] == "3790000010013"


def test_variations_are_adopted_by_sku_even_when_the_merchant_renamed_the_slug() -> None:
    fake = FakeWooCommerce()
    written = shop(fake).write_products([create(polo())]).refs["POLO"]
    fake.products[int(written.product_id)]["slug"] = "polo-pique-ete"
    assert shop(fake).find_products([polo()]) == {"POLO": written}


def test_a_parent_created_without_its_variations_is_adopted_by_slug() -> None:
    fake = FakeWooCommerce()
    shop(fake).client.batch("products/batch", create=[{"type": "variable", "name": "Polo piqué", "slug": "polo-pique"}])
    (parent,) = [p for p in fake.products.values() if p["slug"] == "polo-pique"]
    assert shop(fake).find_products([polo()]) == {"POLO": ShopRef(str(parent["id"]), {})}


def test_batches_are_cut_at_woocommerces_limit_of_100_items() -> None:
    fake = FakeWooCommerce()
    many = [Product(f"P{i}", f"Product {i}", f"product-{i}", [variant(f"SKU-{i}")]) for i in range(150)]

    result = shop(fake).write_products([create(p) for p in many])

    assert result.errors == [] and len(result.refs) == 150
    sizes = [len(body["create"]) for method, path, body in fake.writes() if path == "/products/batch"]
    assert sizes == [100, 50]  # the fake answers 413 above 100, as WooCommerce does
    assert len(shop(fake).find_products(many)) == 150


# -- brand and features -----------------------------------------------------------------------
FEATURES = {"composition": "Composition", "origin": "Origine"}


def branded(product: Product, brand: str | None = "Maison Laine", **custom: str | None) -> Product:
    product.custom_fields = {"brand": brand, "composition": "Coton", "origin": "France", **custom}
    return product


def attributes(product: dict[str, object]) -> list[tuple[str, bool, list[str]]]:
    return [(a["name"], a["variation"], a["options"]) for a in product["attributes"]]  # type: ignore[attr-defined, index]


def brand_names(fake: FakeWooCommerce, product: dict[str, object]) -> list[str]:
    return [fake.brands[b["id"]]["name"] for b in product["brands"]]  # type: ignore[attr-defined, index]


def test_brand_and_features_reach_a_variable_and_a_simple_product_found_by_name_or_created_once() -> None:
    fake = FakeWooCommerce()
    fake.add_attribute("Size", ("S", "M", "L", "XL"))
    sink = shop(fake, features=FEATURES)
    sink.write_products([create(branded(polo()))])
    # a second run of the same connector, another product of the same brand (other case), one of another
    tea_ = branded(tea(), "MAISON LAINE", composition="Thé vert", origin="Japon")
    other = branded(Product("CAFE", "Café", "cafe", [variant("CAFE")]), "Café & Co")

    result = sink.write_products([create(tea_), create(other)])

    assert result.errors == []
    parent = fake.products[int(sink.find_products([polo()])["POLO"].product_id)]
    assert brand_names(fake, parent) == ["Maison Laine"]
    assert brand_names(fake, fake.product_by_sku("THE")) == ["Maison Laine"]  # found by name, not created twice
    assert brand_names(fake, fake.product_by_sku("CAFE")) == ["Café &amp; Co"]  # as WordPress answers it
    assert sorted(fake.brands[i]["name"] for i in fake.brands) == ["Café &amp; Co", "Maison Laine"]
    # the variation attribute stays first and drives the variations; features are shown, not for variations
    assert attributes(parent) == [("Size", True, ["M", "XL"]), ("Composition", False, ["Coton"]),
                                  ("Origine", False, ["France"])]  # fmt: skip
    assert all(a["visible"] for a in parent["attributes"])
    assert attributes(fake.product_by_sku("THE")) == [
        ("Composition", False, ["Thé vert"]),
        ("Origine", False, ["Japon"]),
    ]
    # one global attribute per feature, its terms added: a fresh connector finds all of it again
    names = [a["name"] for a in fake.attributes.values()]
    assert sorted(names) == ["Composition", "Origine", "Size"]
    before = len(fake.writes())
    shop(fake, features=FEATURES).write_products([create(branded(Product("PULL", "Pull", "pull", [variant("PULL")])))])
    creations = [p for _, p, _ in fake.writes()[before:] if not p.endswith("batch")]
    assert creations == []  # brand, attributes and terms all found by name
    # the brand and the features are not copied into meta data as well
    keys = {m["key"] for m in fake.product_by_sku("THE")["meta_data"]}
    assert not keys & {"brand", "composition", "origin"}


def test_changing_features_keeps_the_variation_attributes_and_new_variants_keep_the_features() -> None:
    fake, _ = sized()
    sink = shop(fake, features=FEATURES)
    ref = sink.write_products([create(branded(polo()))]).refs["POLO"]
    parent = fake.products[int(ref.product_id)]
    owned = Ownership()

    changed = branded(polo(), composition="Laine")
    assert sink.write_products([ProductWrite(changed, ref, owned.product_fields)]).errors == []
    assert attributes(parent) == [("Size", True, ["M", "XL"]), ("Composition", False, ["Laine"]),
                                  ("Origine", False, ["France"])]  # fmt: skip

    # a new size, the product itself unchanged: the attribute list still carries the features
    bigger = branded(polo(), composition="Laine")
    bigger.variants.append(variant("POLO-S", "S"))
    ref = sink.write_products([ProductWrite(bigger, ref, frozenset(), create_variants=["POLO-S"])]).refs["POLO"]
    assert attributes(parent) == [("Size", True, ["M", "S", "XL"]), ("Composition", False, ["Laine"]),
                                  ("Origine", False, ["France"])]  # fmt: skip
    assert fake.variation_by_sku("POLO-S")["attributes"][0]["option"] == "S"
    assert brand_names(fake, parent) == ["Maison Laine"]


def test_attributes_the_merchant_added_in_woocommerce_survive_a_feature_change() -> None:
    fake, _ = sized()
    sink = shop(fake, features=FEATURES)
    ref = sink.write_products([create(branded(polo()))]).refs["POLO"]
    parent = fake.products[int(ref.product_id)]
    # In the shop, the merchant adds a custom "Entretien" attribute (local, id 0) to the product.
    parent["attributes"].append(
        {"id": 0, "name": "Entretien", "slug": "Entretien", "position": 3, "visible": True, "variation": False,
         "options": ["Lavage 30°"]}
    )  # fmt: skip

    changed = branded(polo(), composition="Laine")
    assert sink.write_products([ProductWrite(changed, ref, Ownership().product_fields)]).errors == []

    assert attributes(parent) == [("Size", True, ["M", "XL"]), ("Composition", False, ["Laine"]),
                                  ("Origine", False, ["France"]), ("Entretien", False, ["Lavage 30°"])]  # fmt: skip


def test_create_only_brand_and_feature_keep_what_the_shop_holds_on_update() -> None:
    fake, _ = sized()
    sink = shop(fake, features=FEATURES)
    ref = sink.write_products([create(branded(polo()))]).refs["POLO"]
    parent = fake.products[int(ref.product_id)]
    brands_before = parent["brands"]

    changed = branded(polo(), "Autre marque", composition="Laine", origin="Italie")
    changed.name = "Polo piqué bis"
    owned = Ownership(
        create_only=frozenset({"slug", "description", "custom_fields.brand", "custom_fields.composition"})
    )
    write = ProductWrite(changed, ref, owned.product_fields, keep_custom=owned.keep_custom)
    assert sink.write_products([write]).errors == []

    assert parent["name"] == "Polo piqué bis" and parent["brands"] == brands_before
    assert attributes(parent) == [("Size", True, ["M", "XL"]), ("Origine", False, ["Italie"]),
                                  ("Composition", False, ["Coton"])]  # fmt: skip
    assert not any(b["name"] == "Autre marque" for b in fake.brands.values())


def test_an_empty_field_removes_the_brand_and_that_feature_on_update() -> None:
    fake, _ = sized()
    sink = shop(fake, features=FEATURES)
    ref = sink.write_products([create(branded(polo()))]).refs["POLO"]
    parent = fake.products[int(ref.product_id)]

    bare = branded(polo(), None, origin="")
    assert sink.write_products([ProductWrite(bare, ref, Ownership().product_fields)]).errors == []

    assert parent["brands"] == []
    assert attributes(parent) == [("Size", True, ["M", "XL"]), ("Composition", False, ["Coton"])]
    # a creation without a brand sends no brand at all
    sink.write_products([create(branded(tea(), None))])
    created = [b for _, p, b in fake.writes() if p == "/products/batch"][-1]["create"][0]
    assert "brands" not in created


def test_an_unchanged_product_gets_no_brand_nor_features_when_only_a_price_changes() -> None:
    fake = FakeWooCommerce()
    sink = shop(fake, features=FEATURES)
    ref = sink.write_products([create(branded(polo())), create(branded(tea()))]).refs
    cheaper = branded(polo())
    cheaper.variants[0].price = Decimal("30")
    tea_ = branded(tea())
    tea_.variants[0].price = Decimal("7.50")
    fake.requests.clear()
    owned = Ownership()

    sink.write_products([
        ProductWrite(cheaper, ref["POLO"], frozenset(), update_variants=["POLO-M"], variant_fields=owned.variant_fields),
        ProductWrite(tea_, ref["THE"], frozenset(), update_variants=["THE"], variant_fields=owned.variant_fields),
    ])  # fmt: skip

    (sent,) = [b["update"] for _, p, b in fake.writes() if p == "/products/batch"]
    polo_body, tea_body = sent
    assert not {"brands", "meta_data", "name"} & set(polo_body)
    # a variant update may change options, so a variable product's attribute list is resent: whole
    assert [(a["variation"], a["options"]) for a in polo_body["attributes"]] == [
        (True, ["M", "XL"]), (False, ["Coton"]), (False, ["France"])]  # fmt: skip
    assert not {"brands", "attributes", "meta_data", "name"} & set(tea_body)
    assert not any("brands" in r.url.path for r in fake.requests)
    assert fake.variation_by_sku("POLO-M")["regular_price"] == "30.00"


def test_the_fake_ignores_an_empty_brand_list_as_the_live_shop_did() -> None:
    """products_batch_update_brands_empty.json: ``brands: []`` on update, 200, the brand still there
    (``WC_Brands::rest_api_add_brands_to_product`` writes only a non-empty list)."""
    captured = load("products_batch_update_brands_empty.json", LIVE)
    assert captured["body"]["update"][0]["brands"] == [] and captured["response"]["update"][0]["brands"]
    fake = FakeWooCommerce()
    sink = shop(fake)
    ref = sink.write_products([create(branded(tea()))]).refs["THE"]
    before = fake.products[int(ref.product_id)]["brands"]

    _, updated = sink.client.batch("products/batch", update=[{"id": int(ref.product_id), "brands": []}])

    assert updated[0]["brands"] == before != []


def test_a_brand_removed_in_the_erp_is_removed_in_the_shop_and_stays_removed() -> None:
    fake = FakeWooCommerce()
    sink = shop(fake)
    ref = sink.write_products([create(branded(tea()))]).refs["THE"]
    product = fake.products[int(ref.product_id)]
    assert brand_names(fake, product) == ["Maison Laine"]

    result = sink.write_products([ProductWrite(branded(tea(), None), ref, Ownership().product_fields)])

    assert result.errors == [] and result.refs["THE"] == ref
    assert product["brands"] == []


def test_a_brand_the_shop_did_not_take_is_the_records_error_not_a_success() -> None:
    fake = FakeWooCommerce()
    sink = shop(fake)
    refs = sink.write_products(
        [create(branded(tea())), create(Product("CAFE", "Café", "cafe", [variant("CAFE")]))]
    ).refs
    (brand,) = fake.brands
    del fake.brands[brand]  # the merchant deletes the brand while this connector holds its id

    cafe = Product("CAFE", "Café", "cafe", [variant("CAFE")], custom_fields={"brand": "Maison Laine"})
    result = sink.write_products([ProductWrite(cafe, refs["CAFE"], Ownership().product_fields)])

    assert [(e.key, e.field) for e in result.errors] == [("CAFE", "brand")]
    assert "Maison Laine" in result.errors[0].reason
    assert result.refs["CAFE"] == refs["CAFE"]  # still bound, not marked as written: the next run retries
    again = shop(fake).write_products([ProductWrite(cafe, refs["CAFE"], Ownership().product_fields)])
    assert again.errors == [] and brand_names(fake, fake.product_by_sku("CAFE")) == ["Maison Laine"]


def test_a_woocommerce_older_than_9_6_gets_the_brand_in_a_meta() -> None:
    older = FakeWooCommerce()
    older.without_brands()  # no /products/brands route, no brands field: the fake refuses one
    sink = shop(older)
    ref = sink.write_products([create(branded(tea()))]).refs["THE"]
    product = older.product_by_sku("THE")
    assert {m["key"]: m["value"] for m in product["meta_data"]}["_passerelle_brand"] == "Maison Laine"
    assert not any("brands" in r.url.path for r in older.requests)

    assert sink.write_products([ProductWrite(branded(tea(), ""), ref, Ownership().product_fields)]).errors == []
    assert {m["key"]: m["value"] for m in product["meta_data"]}["_passerelle_brand"] == ""
    assert [r.url.path for r in older.requests].count("/wp-json/wc/v3/") == 1  # the route index read once


@pytest.mark.parametrize("brand_field", [None, ""])
def test_no_brand_field_writes_no_brand_and_no_features_leave_attributes_alone(brand_field: str | None) -> None:
    fake = FakeWooCommerce()
    shop(fake, brand_field=brand_field).write_products([create(branded(tea()))])
    product = fake.product_by_sku("THE")
    assert product["brands"] == [] and product["attributes"] == [] and fake.brands == {}
    assert {m["key"] for m in product["meta_data"]} >= {"brand", "composition"}  # plain custom fields, as before


def test_a_batch_the_web_server_refuses_as_too_large_is_sent_in_smaller_batches() -> None:
    # Products with long descriptions, behind a web server whose body limit a batch of 40 passes.
    fake = FakeWooCommerce()
    products = [
        replace(tea(), key=f"T{n}", slug=f"the-{n}", variants=[variant(f"T{n}", price="8.90")], description="x" * 900)
        for n in range(40)
    ]
    fake.max_body = 8_000
    result = shop(fake).write_products([create(p) for p in products])
    assert result.errors == []
    assert sorted(result.refs) == sorted(p.key for p in products)
    skus = [p["sku"] for p in fake.products.values() if p["sku"].startswith("T")]
    assert sorted(skus) == sorted(f"T{n}" for n in range(40))  # each once: a refused body applied nothing
    batches = [r for r in fake.requests if r.url.path.endswith("/products/batch")]
    assert len(batches) > 2 and len(batches[0].content) > fake.max_body
    # One product alone over the limit is that product's refusal; the others are written.
    big = replace(tea(), key="BIG", slug="big", variants=[variant("BIG", price="8.90")], description="y" * 9_000)
    small = replace(tea(), key="SMALL", slug="small", variants=[variant("SMALL", price="8.90")])
    result = shop(fake).write_products([create(big), create(small)])
    assert list(result.refs) == ["SMALL"]
    [error] = result.errors
    assert (error.key, error.field) == ("BIG", "product") and "too large" in error.reason


def test_an_attribute_the_merchant_named_keeps_its_name_when_the_erp_gives_a_label() -> None:
    fake, size = sized()  # the merchant's "Size" (slug pa_size)
    shop(fake).write_products([create(labelled(polo(), size="Taille"))])
    assert list(fake.attributes) == [size] and fake.attributes[size]["name"] == "Size"
    assert not [r for r in fake.requests if r.method == "PUT" and "/attributes/" in r.url.path]
