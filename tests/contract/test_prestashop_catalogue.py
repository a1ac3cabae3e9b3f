"""PrestaShop catalogue sink against the fake webservice (captured PrestaShop 8.2 samples, XML
writes validated against the captured schema synopsis: deployments/sandbox/fakes/prestashop_fake.py)."""

from __future__ import annotations

import copy
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from connectors.base import CatalogueSink, ProductWrite
from connectors.errors import Fatal
from connectors.models import Product, ShopRef, Variant
from connectors.shop.prestashop.client import PrestaShopClient, WriteRefused
from connectors.shop.prestashop.factory import PrestaShopSettings, PrestaShopShop, shop_from
from connectors.shop.prestashop.xml import writable
from deployments.sandbox.fakes.prestashop_fake import FakePrestaShop

KEY = "ZQ88PRJX5VWQHCWE4EE7SQ7HPNX00RAJ"
ALL = frozenset({"name", "slug", "description", "categories", "images", "enabled", "custom_fields", "option_groups"})
VARIANT_FIELDS = frozenset({"sku", "name", "price", "currency", "options", "ean", "tax_category", "weight", "enabled"})
OWNED = ALL - {"slug", "description", "images"}


@pytest.fixture
def fake() -> FakePrestaShop:
    return FakePrestaShop(KEY)


def shop_for(fake: FakePrestaShop) -> PrestaShopShop:
    client = PrestaShopClient(
        "http://shop.test", KEY, allow_insecure_http=True, transport=fake.transport(), max_retries=0, backoff=0
    )
    return PrestaShopShop(client)


def variant(sku: str, price: str, size: str | None = None, **kw: Any) -> Variant:
    return Variant(
        key=sku,
        sku=sku,
        name=sku,
        price=Decimal(price),
        currency="EUR",
        options={"Taille": size} if size else {},
        tax_category="FR Taux standard (20%)",
        weight=Decimal("0.25"),
        **kw,
    )


def tee() -> Product:
    return Product(
        key="TEE",
        name="Tee-shirt bio",
        slug="tee-shirt-bio",
        variants=[variant("TEE-S", "19.90", "S", ean="4006381333931"), variant("TEE-M", "21.90", "M")],
        option_groups=["Taille"],
        description="<p>Coton bio</p>",
        categories=[("Vêtements", "Hauts")],
    )


def mug() -> Product:
    return Product(key="MUG", name="Mug", slug="mug", variants=[variant("MUG-1", "8.50")], categories=[("Maison",)])


def create(product: Product) -> ProductWrite:
    return ProductWrite(
        product, None, ALL, create_variants=[v.key for v in product.variants], variant_fields=VARIANT_FIELDS
    )


def test_shop_implements_the_catalogue_sink(fake: FakePrestaShop) -> None:
    assert isinstance(shop_for(fake), CatalogueSink)


def test_product_with_sizes_becomes_combinations_with_price_impacts(fake: FakePrestaShop) -> None:
    shop = shop_for(fake)
    result = shop.write_products([create(tee()), create(mug())])
    assert result.errors == []
    tee_ref = result.refs["TEE"]
    product = fake.record("products", int(tee_ref.product_id))
    assert product["price"] == "19.900000"  # tax excluded, the lowest variant's price
    assert product["product_type"] == "combinations"
    assert product["reference"] == "TEE"
    assert product["id_tax_rules_group"] == "1"  # "FR Taux standard (20%)" resolved by name
    assert product["link_rewrite"][0]["value"] == "tee-shirt-bio"
    assert product["description"][0]["value"] == "<p>Coton bio</p>"
    # Category path created under Home (2): Vêtements > Hauts, the leaf as default category.
    hauts = fake.record("categories", int(product["id_category_default"]))
    assert hauts["name"][0]["value"] == "Hauts"
    assert fake.record("categories", int(hauts["id_parent"]))["id_parent"] == "2"
    combos = {c["reference"]: c for c in fake.data["combinations"] if c["id_product"] == tee_ref.product_id}
    assert combos["TEE-S"]["price"] == "0.000000" and combos["TEE-M"]["price"] == "2.000000"
    assert combos["TEE-S"]["ean13"] == "4006381333931"
    assert tee_ref.variant_ids == {
        "TEE-S": f"{tee_ref.product_id}:{combos['TEE-S']['id']}",
        "TEE-M": f"{tee_ref.product_id}:{combos['TEE-M']['id']}",
    }
    # Attribute group "Taille" and its values created once, used by the combinations.
    group = next(g for g in fake.data["product_options"] if g["name"][0]["value"] == "Taille")
    values = {
        v["name"][0]["value"]: str(v["id"])
        for v in fake.data["product_option_values"]
        if v["id_attribute_group"] == str(group["id"])
    }
    assert set(values) == {"S", "M"}
    assert combos["TEE-M"]["associations"]["product_option_values"] == [{"id": values["M"]}]
    # The simple product: no combination, its variant is the product itself.
    mug_ref = result.refs["MUG"]
    assert mug_ref.variant_ids == {"MUG-1": f"{mug_ref.product_id}:0"}
    assert fake.record("products", int(mug_ref.product_id))["reference"] == "MUG-1"
    # Stock rows exist for each sellable pair (PrestaShop adds them).
    pairs = {(s["id_product"], s["id_product_attribute"]) for s in fake.data["stock_availables"]}
    assert (mug_ref.product_id, "0") in pairs


def test_existing_attribute_values_are_reused(fake: FakePrestaShop) -> None:
    shop = shop_for(fake)
    product = Product(
        key="PULL", name="Pull", slug="pull", variants=[variant("PULL-S", "30", "S")], option_groups=["Size"]
    )
    product.variants[0].options = {"Size": "S"}
    before = len(fake.data["product_option_values"])
    result = shop.write_products([create(product)])
    assert result.errors == []
    assert len(fake.data["product_option_values"]) == before  # captured "Size" / "S" (id 1)
    combo = next(c for c in fake.data["combinations"] if c["reference"] == "PULL-S")
    assert combo["associations"]["product_option_values"] == [{"id": "1"}]


def test_find_products_adopts_what_a_cut_off_run_created(fake: FakePrestaShop) -> None:
    shop = shop_for(fake)
    created = shop.write_products([create(tee()), create(mug())]).refs
    found = shop_for(fake).find_products([tee(), mug()])
    assert found == created


def test_update_keeps_the_enriched_description_and_sends_the_whole_record(fake: FakePrestaShop) -> None:
    shop = shop_for(fake)
    ref = shop.write_products([create(mug())]).refs["MUG"]
    row = fake.record("products", int(ref.product_id))
    row["description"][0]["value"] = "<p>Written by the merchant</p>"
    row["meta_title"][0]["value"] = "SEO title"
    changed = mug()
    changed.name = "Mug XL"
    changed.variants[0].price = Decimal("9.90")
    write = ProductWrite(changed, ref, OWNED, update_variants=["MUG-1"], variant_fields=VARIANT_FIELDS)
    assert shop.write_products([write]).errors == []
    row = fake.record("products", int(ref.product_id))
    assert row["name"][0]["value"] == "Mug XL"
    assert row["price"] == "9.900000"
    assert row["description"][0]["value"] == "<p>Written by the merchant</p>"
    assert row["meta_title"][0]["value"] == "SEO title"
    assert row["state"] == "1" and row["visibility"] == "both"  # not emptied by the PUT


def test_new_variant_on_existing_product_gets_impact_from_product_price(fake: FakePrestaShop) -> None:
    shop = shop_for(fake)
    ref = shop.write_products([create(tee())]).refs["TEE"]
    product = tee()
    product.variants.append(variant("TEE-L", "23.40", "L"))
    write = ProductWrite(product, ref, frozenset(), create_variants=["TEE-L"], variant_fields=VARIANT_FIELDS)
    result = shop.write_products([write])
    assert result.errors == []
    combo = next(c for c in fake.data["combinations"] if c["reference"] == "TEE-L")
    assert combo["price"] == "3.500000"
    assert set(result.refs["TEE"].variant_ids) == {"TEE-S", "TEE-M", "TEE-L"}


def test_archive_disables_never_deletes(fake: FakePrestaShop) -> None:
    shop = shop_for(fake)
    ref = shop.write_products([create(mug())]).refs["MUG"]
    result = shop.archive_products({"MUG": ref})
    assert result.errors == [] and result.refs == {"MUG": ref}
    assert fake.record("products", int(ref.product_id))["active"] == "0"
    assert not [w for w in fake.writes if w[0] == "DELETE"]


def test_malformed_product_is_a_record_error_and_the_others_go_on(fake: FakePrestaShop) -> None:
    fake.crash = lambda resource, record: resource == "products" and record.get("reference") == "TEE"
    result = shop_for(fake).write_products([create(tee()), create(mug())])
    assert [(e.key, e.field) for e in result.errors] == [("TEE", "product")]
    assert "PHP Warning" in result.errors[0].reason
    assert set(result.refs) == {"MUG"}


def test_invalid_name_is_refused_with_the_validation_error(fake: FakePrestaShop) -> None:
    bad = mug()
    bad.name = "Mug <b>"
    result = shop_for(fake).write_products([create(bad)])
    assert "Property Product->name is not valid" in result.errors[0].reason


def test_unknown_tax_rule_group_is_fatal_naming_it(fake: FakePrestaShop) -> None:
    product = mug()
    product.variants[0].tax_category = "TVA 21%"
    with pytest.raises(Fatal, match="TVA 21%"):
        shop_for(fake).write_products([create(product)])


@pytest.mark.parametrize("field", ["quantity", "manufacturer_name", "position_in_category"])
def test_fake_refuses_read_only_fields_as_prestashop_does(fake: FakePrestaShop, field: str) -> None:
    client = PrestaShopClient(
        "http://shop.test", KEY, allow_insecure_http=True, transport=fake.transport(), max_retries=0, backoff=0
    )
    record = {k: v for k, v in fake.record("products", 1).items() if k != "associations"}
    record = {**writable("products", record), field: "1"}
    with pytest.raises(WriteRefused, match=f'parameter "{field}" not writable'):
        client.update("products", "1", record)
    # What the connector sends back is accepted.
    client.update("products", "1", writable("products", fake.record("products", 1)))


def test_fake_refuses_unknown_fields(fake: FakePrestaShop) -> None:
    client = PrestaShopClient(
        "http://shop.test", KEY, allow_insecure_http=True, transport=fake.transport(), max_retries=0, backoff=0
    )
    with pytest.raises(WriteRefused, match="sku"):
        client.create("combinations", {"id_product": "1", "minimal_quantity": "1", "sku": "X"})


def test_disabled_variant_gets_no_stock_and_refuses_orders(fake: FakePrestaShop) -> None:
    shop = shop_for(fake)
    ref = shop.write_products([create(tee())]).refs["TEE"]
    product = tee()
    product.variants = product.variants[:1]
    write = ProductWrite(
        product, ref, frozenset(), variant_fields=VARIANT_FIELDS, disable_variants={"TEE-M": ref.variant_ids["TEE-M"]}
    )
    result = shop.write_products([write])
    assert result.errors == [] and "TEE-M" not in result.refs["TEE"].variant_ids
    pid, cid = ref.variant_ids["TEE-M"].split(":")
    row = next(s for s in fake.data["stock_availables"] if (s["id_product"], s["id_product_attribute"]) == (pid, cid))
    assert (row["quantity"], row["out_of_stock"]) == ("0", "0")
    assert any(c["reference"] == "TEE-M" for c in fake.data["combinations"])  # not deleted


def test_product_is_sent_as_prestashop_xml_with_languages_in_cdata(fake: FakePrestaShop) -> None:
    product = mug()
    product.name = "Mug & co"
    shop_for(fake).write_products([create(product)])
    (post,) = [r for r in fake.requests if r.method == "POST" and r.url.path == "/api/products"]
    body = post.content.decode()
    assert post.headers["Content-Type"] == "application/xml"
    assert body.startswith(
        '<?xml version="1.0" encoding="UTF-8"?>\n<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">'
    )
    assert '<name><language id="1"><![CDATA[Mug & co]]></language></name>' in body
    assert "<associations>\n<categories>\n<category><id><![CDATA[" in body
    assert "<quantity>" not in body and "<manufacturer_name>" not in body


def test_fake_refuses_a_multilingual_field_sent_as_plain_text(fake: FakePrestaShop) -> None:
    client = PrestaShopClient(
        "http://shop.test", KEY, allow_insecure_http=True, transport=fake.transport(), max_retries=0, backoff=0
    )
    with pytest.raises(WriteRefused, match=r"Property Product->name is not valid"):
        client.create("products", {"price": "1.000000", "name": "Mug"})
    with pytest.raises(WriteRefused, match='parameter "price" required'):
        client.create("products", {"name": [{"id": "1", "value": "Mug"}]})


def test_new_vat_rate_of_combinations_moves_the_products_tax_rule_group(fake: FakePrestaShop) -> None:
    shop = shop_for(fake)
    ref = shop.write_products([create(tee())]).refs["TEE"]
    product = tee()
    for v in product.variants:
        v.tax_category = "FR Taux réduit (5.5%)"
    write = ProductWrite(product, ref, frozenset(), update_variants=["TEE-S", "TEE-M"], variant_fields=VARIANT_FIELDS)
    assert shop.write_products([write]).errors == []
    assert fake.record("products", int(ref.product_id))["id_tax_rules_group"] == "3"
    # Unchanged: the product is read, not written.
    writes = len([w for w in fake.writes if w[1] == "products"])
    assert shop.write_products([write]).errors == []
    assert len([w for w in fake.writes if w[1] == "products"]) == writes


def test_refused_combination_is_an_error_of_that_variant_the_product_is_bound(fake: FakePrestaShop) -> None:
    product = tee()
    product.variants[1].ean = "40063813339310"  # 14 digits: over the combination's ean13 maxSize (13)
    result = shop_for(fake).write_products([create(product)])
    assert [(e.key, e.field) for e in result.errors] == [("TEE-M", "variants")]
    assert "property Combination->ean13 is currently 14 chars" in result.errors[0].reason
    assert set(result.refs["TEE"].variant_ids) == {"TEE-S"}


def test_archiving_a_product_deleted_by_hand_is_a_record_error(fake: FakePrestaShop) -> None:
    shop = shop_for(fake)
    ref = shop.write_products([create(mug())]).refs["MUG"]
    result = shop.archive_products({"MUG": ref, "GONE": ShopRef("999", {})})
    assert [(e.key, e.field) for e in result.errors] == [("GONE", "product")]
    assert set(result.refs) == {"MUG"}


# -- brand (manufacturer) and features ---------------------------------------------------------
FEATURES = {"composition": "Composition", "origine": "Origine"}


def shop_with(fake: FakePrestaShop, **settings: Any) -> PrestaShopShop:
    client = PrestaShopClient(
        "http://shop.test", KEY, allow_insecure_http=True, transport=fake.transport(), max_retries=0, backoff=0
    )
    return shop_from(PrestaShopSettings.model_validate({"url": "http://shop.test", "key": "env:K", **settings}), client)


def branded(key: str, brand: str, **custom: Any) -> Product:
    product = Product(key=key, name=key, slug=key.lower(), variants=[variant(f"{key}-1", "10")])
    product.custom_fields = {"brand": brand, **custom}
    return product


def features_of(fake: FakePrestaShop, pid: str) -> dict[str, list[str]]:
    """Feature name -> value texts of a product, as the shop shows them."""
    out: dict[str, list[str]] = {}
    for entry in fake.record("products", int(pid))["associations"].get("product_features", []):
        feature = fake.record("product_features", int(entry["id"]))
        value = fake.record("product_feature_values", int(entry["id_feature_value"]))
        assert value["id_feature"] == str(feature["id"])
        out.setdefault(feature["name"][0]["value"], []).append(value["value"][0]["value"])
    return out


def test_brand_and_features_are_found_by_name_or_created_once(fake: FakePrestaShop) -> None:
    fake.data["manufacturers"].append({**fake.record("manufacturers", 2), "id": 3, "name": "Toto &amp; Cie"})
    shop = shop_with(fake, features=FEATURES)
    products = [
        branded("A", "studio DESIGN", composition="wool", origine="France"),  # captured brand and value, other case
        branded("B", "Maison Dupont", composition="Lin", origine="France"),
        branded("C", "maison dupont", composition="lin", origine="france"),
        branded("D", "Toto & Cie", composition=["Lin", "Coton bio"]),  # HTML-unescaped match; several values
    ]
    result = shop.write_products([create(p) for p in products])
    assert result.errors == []
    rows = {k: fake.record("products", int(ref.product_id)) for k, ref in result.refs.items()}
    assert {k: r["manufacturer_name"] for k, r in rows.items()} == {
        "A": "Studio Design",
        "B": "Maison Dupont",
        "C": "Maison Dupont",
        "D": "Toto &amp; Cie",
    }
    assert [m["name"] for m in fake.data["manufacturers"]].count("Maison Dupont") == 1
    assert rows["A"]["id_manufacturer"] == "1" and rows["D"]["id_manufacturer"] == "3"
    assert features_of(fake, rows["A"]["id"]) == {"Composition": ["Wool"], "Origine": ["France"]}
    assert features_of(fake, rows["C"]["id"]) == {"Composition": ["Lin"], "Origine": ["France"]}
    assert features_of(fake, rows["D"]["id"]) == {"Composition": ["Lin", "Coton bio"]}
    names = [f["name"][0]["value"] for f in fake.data["product_features"]]
    assert names.count("Composition") == 1 and names.count("Origine") == 1
    values = [(v["id_feature"], v["value"][0]["value"]) for v in fake.data["product_feature_values"]]
    assert len(values) == len(set(values))  # "France" / "Lin" created once, "wool" found (captured 2)
    created = next(v for v in fake.data["product_feature_values"] if v["value"][0]["value"] == "France")
    assert created["custom"] == "0"  # a predefined value, offered for other products in the back office
    # Each table read once per run, each feature's values once.
    gets = [r.url.path for r in fake.requests if r.method == "GET"]
    assert gets.count("/api/manufacturers") == 1 and gets.count("/api/product_features") == 1
    assert gets.count("/api/product_feature_values") == 2


def test_update_changes_brand_removes_emptied_features_keeps_the_merchants(fake: FakePrestaShop) -> None:
    shop = shop_with(fake, features=FEATURES)
    ref = shop.write_products([create(branded("A", "Maison Dupont", composition="Lin", origine="France"))]).refs["A"]
    row = fake.record("products", int(ref.product_id))
    row["associations"]["product_features"].append({"id": "2", "id_feature_value": "7"})  # the merchant's
    changed = branded("A", "", composition="Coton")  # brand gone, origin gone, composition changed
    write = ProductWrite(changed, ref, OWNED, variant_fields=VARIANT_FIELDS)
    assert shop.write_products([write]).errors == []
    row = fake.record("products", int(ref.product_id))
    assert (row["id_manufacturer"], row["manufacturer_name"]) == ("0", "")
    assert features_of(fake, ref.product_id) == {"Property": ["Long sleeves"], "Composition": ["Coton"]}


def test_create_only_brand_and_feature_keep_what_the_shop_holds_on_update(fake: FakePrestaShop) -> None:
    shop = shop_with(fake, features=FEATURES)
    ref = shop.write_products([create(branded("A", "Maison Dupont", composition="Lin", origine="France"))]).refs["A"]
    # In the back office the merchant sets another brand; create_only names brand and composition.
    fake.record("products", int(ref.product_id))["id_manufacturer"] = "2"
    changed = branded("A", "Autre", composition="Coton", origine="Italie")
    changed.name = "A bis"
    write = ProductWrite(
        changed, ref, OWNED, variant_fields=VARIANT_FIELDS, keep_custom=frozenset({"brand", "composition"})
    )
    assert shop.write_products([write]).errors == []
    row = fake.record("products", int(ref.product_id))
    assert row["name"][0]["value"] == "A bis" and row["id_manufacturer"] == "2"
    assert features_of(fake, ref.product_id) == {"Composition": ["Lin"], "Origine": ["Italie"]}
    assert not any(m["name"] == "Autre" for m in fake.data["manufacturers"])


def test_unchanged_brand_and_features_are_not_sent(fake: FakePrestaShop) -> None:
    shop = shop_with(fake, features=FEATURES)
    product = branded("A", "Maison Dupont", composition="Lin")
    ref = shop.write_products([create(product)]).refs["A"]
    # Other product fields changed: the PUT carries the same brand and no product_features association.
    product.name = "A bis"
    assert shop.write_products([ProductWrite(product, ref, OWNED, variant_fields=VARIANT_FIELDS)]).errors == []
    (put,) = [r for r in fake.requests if r.method == "PUT"]
    assert "<product_features>" not in put.content.decode()
    assert fake.record("products", int(ref.product_id))["manufacturer_name"] == "Maison Dupont"
    # The diff says the product did not change: nothing is written, the merchant's brand survives.
    fake.record("products", int(ref.product_id))["id_manufacturer"] = "2"
    product.custom_fields["brand"] = "Autre"
    write = ProductWrite(product, ref, frozenset(), variant_fields=VARIANT_FIELDS)
    assert shop.write_products([write]).errors == []
    assert fake.record("products", int(ref.product_id))["id_manufacturer"] == "2"
    assert not any(m["name"] == "Autre" for m in fake.data["manufacturers"])


def test_brand_field_none_leaves_the_brand_to_the_merchant(fake: FakePrestaShop) -> None:
    shop = shop_with(fake, brand_field=None)
    ref = shop.write_products([create(branded("A", "Maison Dupont"))]).refs["A"]
    fake.record("products", int(ref.product_id))["id_manufacturer"] = "2"
    product = branded("A", "Maison Dupont")
    product.name = "A bis"
    assert shop.write_products([ProductWrite(product, ref, OWNED, variant_fields=VARIANT_FIELDS)]).errors == []
    assert fake.record("products", int(ref.product_id))["id_manufacturer"] == "2"
    assert not any(r.url.path == "/api/manufacturers" for r in fake.requests)


def test_brand_refused_by_prestashop_is_an_error_of_that_field(fake: FakePrestaShop) -> None:
    shop = shop_with(fake, brand_field="marque")
    bad = branded("A", "")
    bad.custom_fields["marque"] = "Dupont #1"  # isCatalogName refuses '#'
    result = shop.write_products([create(bad), create(branded("B", ""))])
    assert [(e.key, e.field) for e in result.errors] == [("A", "custom_fields.marque")]
    assert "Property Manufacturer->name is not valid" in result.errors[0].reason
    assert set(result.refs) == {"B"}


def test_fake_refuses_a_feature_value_of_another_feature_and_unknown_brand(fake: FakePrestaShop) -> None:
    client = PrestaShopClient(
        "http://shop.test", KEY, allow_insecure_http=True, transport=fake.transport(), max_retries=0, backoff=0
    )
    record = writable("products", fake.record("products", 1))
    with pytest.raises(WriteRefused, match="not a value of feature 2"):
        client.update(
            "products", "1", {**record, "associations": {"product_features": [{"id": "2", "id_feature_value": "1"}]}}
        )
    with pytest.raises(WriteRefused, match="id and id_feature_value"):
        client.update("products", "1", {**record, "associations": {"product_features": [{"id": "1", "value": "1"}]}})
    with pytest.raises(WriteRefused, match="manufacturer 99"):
        client.update("products", "1", {**record, "id_manufacturer": "99"})
    with pytest.raises(WriteRefused, match='parameter "link_rewrite" not writable'):
        client.create("manufacturers", {"name": "X", "active": "1", "link_rewrite": "x"})
    with pytest.raises(WriteRefused, match="Property Feature->name is not valid"):
        client.create("product_features", {"name": "Origine"})  # multilingual
    with pytest.raises(WriteRefused, match='parameter "id_feature" required'):
        client.create("product_feature_values", {"value": [{"id": "1", "value": "France"}]})


def test_settings_reach_the_sink() -> None:
    settings = PrestaShopSettings.model_validate(
        {"url": "http://x", "key": "env:K", "brand_field": "marque", "features": {"composition": "Composition"}}
    )
    shop = shop_from(settings, PrestaShopClient("http://x", "K", allow_insecure_http=True))
    assert (shop.options.brand_field, shop.options.features) == ("marque", {"composition": "Composition"})
    assert PrestaShopSettings.model_validate({"url": "http://x", "key": "env:K"}).brand_field == "brand"
    off = PrestaShopSettings.model_validate({"url": "http://x", "key": "env:K", "brand_field": ""})
    assert (
        shop_from(off, PrestaShopClient("http://x", "K", allow_insecure_http=True)).options.brand_field is None
    )  # TOML has no null


def test_tax_included_erp_prices_are_stored_tax_excluded_with_six_decimals(fake: FakePrestaShop) -> None:
    """A "Prix de vente TTC" export: PrestaShop stores HT; 19.99 TTC at 20 % is 16.658333 HT."""
    ttc = {"tax_included": True, "vat_rate": Decimal("20")}
    mug_ttc = Product(key="MUG", name="Mug", slug="mug", variants=[variant("MUG-1", "19.99", **ttc)])
    tee_ttc = tee()
    tee_ttc.variants = [variant("TEE-S", "19.99", "S", **ttc), variant("TEE-M", "24.99", "M", **ttc)]
    result = shop_for(fake).write_products([create(mug_ttc), create(tee_ttc)])
    assert result.errors == [] and result.notices == []  # six decimals show every TTC price exactly
    mug_row = fake.record("products", int(result.refs["MUG"].product_id))
    assert mug_row["price"] == "16.658333"
    tee_row = fake.record("products", int(result.refs["TEE"].product_id))
    assert tee_row["price"] == "16.658333"  # the lowest variant price
    impacts = {
        c["reference"]: c["price"] for c in fake.data["combinations"] if str(c["id_product"]) == str(tee_row["id"])
    }
    assert impacts == {"TEE-S": "0.000000", "TEE-M": "4.166667"}  # 20.825000 - 16.658333
    assert (Decimal("16.658333") + Decimal("4.166667")) * Decimal("1.2") == Decimal("24.9900000")


def labelled(options: dict[str, str], labels: dict[str, str]) -> Product:
    v = variant("CAP-1", "12.00")
    v.options = options
    return Product(
        key="CAP",
        name="Casquette",
        slug="casquette",
        variants=[v],
        option_groups=list(options),
        option_labels=labels,
        categories=[("Accessoires",)],
    )


def test_attribute_groups_are_created_with_the_label_customers_read(fake: FakePrestaShop) -> None:
    before = {g["id"] for g in fake.data["product_options"]}
    result = shop_for(fake).write_products([create(labelled({"colour": "Rouge"}, {"colour": "Couleur"}))])
    assert result.errors == []
    (created,) = [g for g in fake.data["product_options"] if g["id"] not in before]
    assert {v["value"] for v in created["name"]} == {"Couleur"}
    assert {v["value"] for v in created["public_name"]} == {"Couleur"}


def test_attribute_groups_are_found_by_public_name_label_or_code(fake: FakePrestaShop) -> None:
    merchant = fake.record("product_options", 1)  # captured "Size"
    merchant["public_name"] = [{"id": "1", "value": "Taille"}, {"id": "2", "value": "Taille"}]
    groups = len(fake.data["product_options"])
    shop = shop_for(fake)
    assert shop.write_products([create(labelled({"size": "M"}, {"size": "Taille"}))]).errors == []
    fake2 = FakePrestaShop(KEY)  # a shop where an earlier version created the group by its code
    fake2.record("product_options", 2)["name"] = [{"id": "1", "value": "colour"}, {"id": "2", "value": "colour"}]
    assert shop_for(fake2).write_products([create(labelled({"colour": "Rouge"}, {"colour": "Couleur"}))]).errors == []
    assert len(fake.data["product_options"]) == groups and len(fake2.data["product_options"]) == groups
    assert fake2.data["product_option_values"][-1]["id_attribute_group"] == "2"


def test_a_product_the_web_server_refuses_as_too_large_is_its_error_and_the_others_go_on(
    fake: FakePrestaShop,
) -> None:
    big = tee()
    big.description = "<p>" + "Organic cotton. " * 600 + "</p>"
    fake.max_body = 6_000
    result = shop_for(fake).write_products([create(big), create(mug())])
    assert [(e.key, e.field) for e in result.errors] == [("TEE", "product")]
    assert "too large" in result.errors[0].reason and "HTTP 413" in result.errors[0].reason
    assert set(result.refs) == {"MUG"}


def test_a_group_an_earlier_version_named_by_its_code_gets_the_label_a_merchants_name_stays(
    fake: FakePrestaShop,
) -> None:
    code_named = fake.record("product_options", 2)  # as an earlier passerelle created "colour"
    code_named["name"] = [{"id": "1", "value": "colour"}, {"id": "2", "value": "colour"}]
    code_named["public_name"] = [{"id": "1", "value": "colour"}, {"id": "2", "value": "color"}]
    merchant = fake.record("product_options", 1)  # the captured "Size", named by the merchant
    before = copy.deepcopy(merchant)
    product = labelled({"colour": "Rouge", "size": "M"}, {"colour": "Couleur", "size": "Taille"})
    assert shop_for(fake).write_products([create(product)]).errors == []
    assert code_named["public_name"] == [{"id": "1", "value": "Couleur"}, {"id": "2", "value": "color"}]
    assert code_named["name"][0] == {"id": "1", "value": "Couleur"}
    assert merchant["name"] == before["name"] and merchant["public_name"] == before["public_name"]
    puts = [r for r in fake.requests if r.method == "PUT" and "/product_options/" in r.url.path]
    assert len(puts) == 1
    shop_for(fake).write_products([create(replace(product, key="AGAIN", slug="again"))])
    assert len([r for r in fake.requests if r.method == "PUT" and "/product_options/" in r.url.path]) == 1
