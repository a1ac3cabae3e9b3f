"""Change detection: only what changed is sent, create-only fields are never resent, nothing that is
merely quarantined is disabled or archived."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from connectors.models import Product, ShopRef, Variant
from tasks.diff import PRODUCT_FIELDS, VARIANT_FIELDS, BindingView, CataloguePlan, Ownership, plan_catalogue

OWN = Ownership()
Bindings = tuple[dict[str, BindingView], dict[str, BindingView]]


def product(
    *,
    name: str = "Tee",
    description: str = "Coton bio",
    price: str = "10.00",
    variants: tuple[str, ...] = ("1", "2"),
    custom_fields: dict[str, Any] | None = None,
) -> Product:
    return Product(
        key="g:T",
        name=name,
        slug="tee-t",
        description=description,
        option_groups=["size"],
        custom_fields=dict(custom_fields or {}),
        variants=[
            Variant(key=k, sku=f"T-{k}", name=f"Tee {k}", price=D(price), currency="EUR", options={"size": k})
            for k in variants
        ],
    )


def bound(p: Product, *, state: str = "synced", ownership: Ownership = OWN) -> Bindings:
    """Bindings as a successful run leaves them: product 100, variant v<key>."""
    products = {p.key: BindingView(p.key, "100", ownership.product_hash(p), state)}
    variants = {
        v.key: BindingView(v.key, f"v{v.key}", ownership.variant_hash(v), "synced", parent_key=p.key)
        for v in p.variants
    }
    return products, variants


def plan(
    p: Product | None,
    bindings: Bindings,
    *,
    read: set[str] | None = None,
    read_products: set[str] | None = None,
    ownership: Ownership = OWN,
    **options: Any,
) -> CataloguePlan:
    products = [p] if p is not None else []
    return plan_catalogue(
        products,
        bindings[0],
        bindings[1],
        ownership=ownership,
        read_article_keys=read if read is not None else {v.key for q in products for v in q.variants},
        read_product_keys=read_products if read_products is not None else {q.key for q in products},
        **options,
    )


def test_new_product_is_created_with_every_field() -> None:
    result = plan(product(), ({}, {}))
    (write,) = result.writes
    assert result.creates == [write] and result.updates == [] and result.unchanged == []
    assert write.ref is None
    assert write.product_fields == frozenset(PRODUCT_FIELDS)
    assert write.create_variants == ["1", "2"] and write.update_variants == []
    assert write.variant_fields == frozenset(VARIANT_FIELDS)


def test_unchanged_product_is_not_sent() -> None:
    p = product()
    result = plan(product(), bound(p))
    assert result.writes == [] and result.unchanged == ["g:T"] and result.archive == {}


def test_owned_product_field_change_is_an_update() -> None:
    bindings = bound(product())
    (write,) = plan(product(name="Tee-shirt bio"), bindings).writes
    assert write.ref == ShopRef(product_id="100", variant_ids={"1": "v1", "2": "v2"})
    assert write.product_fields == OWN.product_fields
    assert {"name", "enabled", "categories"} <= write.product_fields
    assert not {"slug", "description", "images"} & write.product_fields
    assert write.update_variants == [] and write.create_variants == []


def test_variant_change_updates_only_that_variant() -> None:
    bindings = bound(product())
    changed = product()
    changed.variants[0].price = D("12.00")
    (write,) = plan(changed, bindings).writes
    assert write.product_fields == frozenset() and write.update_variants == ["1"]
    assert write.variant_fields == OWN.variant_fields


def test_equal_amounts_written_differently_are_not_a_change() -> None:
    bindings = bound(product(price="10.00"))
    assert plan(product(price="10.0"), bindings).unchanged == ["g:T"]


def test_create_only_field_change_is_not_sent() -> None:
    bindings = bound(product())
    result = plan(product(description="Rewritten in the ERP"), bindings)
    assert result.writes == [] and result.unchanged == ["g:T"]


def test_create_only_custom_field() -> None:
    ownership = Ownership(create_only=frozenset({"slug", "description", "images", "custom_fields.material"}))
    bindings = bound(product(custom_fields={"brand": "Acme", "material": "coton"}), ownership=ownership)
    enriched = product(custom_fields={"brand": "Acme", "material": "coton bio (enriched in the shop)"})
    assert plan(enriched, bindings, ownership=ownership).unchanged == ["g:T"]
    rebranded = product(custom_fields={"brand": "Other", "material": "coton"})
    (write,) = plan(rebranded, bindings, ownership=ownership).writes
    assert "custom_fields" in write.product_fields
    assert ownership.product_payload(rebranded)["custom_fields"] == {"brand": "Other"}
    # The sink is told which custom fields it must leave as the shop has them on this update.
    assert (write.keep_custom, write.keep_variant_custom) == (frozenset({"material"}), frozenset())


def test_a_creation_writes_create_only_custom_fields() -> None:
    ownership = Ownership(create_only=frozenset({"custom_fields.material", "variant.custom_fields.care"}))
    (write,) = plan(product(custom_fields={"material": "coton"}), ({}, {}), ownership=ownership).writes
    assert write.ref is None and write.keep_custom == frozenset() and write.keep_variant_custom == frozenset()
    assert ownership.keep_variant_custom == frozenset({"care"})


def test_full_resends_every_owned_field_but_no_create_only_one() -> None:
    p = product()
    (write,) = plan(p, bound(p), full=True).writes
    assert write.product_fields == OWN.product_fields
    assert "description" not in write.product_fields and "slug" not in write.product_fields
    assert write.update_variants == ["1", "2"]


def test_binding_not_synced_is_sent_again() -> None:
    p = product()
    products, variants = bound(p, state="pending")
    variants["2"] = BindingView("2", "v2", OWN.variant_hash(p.variants[1]), "pending", parent_key="g:T")
    (write,) = plan(p, (products, variants)).writes
    assert write.product_fields == OWN.product_fields and write.update_variants == ["2"]


# -- variants appearing and disappearing -----------------------------------------------------------


def test_new_variant_is_created() -> None:
    bindings = bound(product(variants=("1", "2")))
    (write,) = plan(product(variants=("1", "2", "3")), bindings).writes
    assert write.create_variants == ["3"] and write.update_variants == [] and write.disable_variants == {}
    assert write.product_fields == frozenset()


def test_variant_gone_from_the_erp_is_disabled() -> None:
    bindings = bound(product(variants=("1", "2")))
    (write,) = plan(product(variants=("1",)), bindings, read={"1"}).writes
    assert write.disable_variants == {"2": "v2"}


def test_quarantined_variant_is_not_disabled() -> None:
    bindings = bound(product(variants=("1", "2")))
    # "2" was read from the ERP but refused by the gate: it is not in the product, yet still exists.
    result = plan(product(variants=("1",)), bindings, read={"1", "2"})
    assert result.writes == [] and result.unchanged == ["g:T"]


def disabled_variant_2() -> Bindings:
    """Variant "2" was disabled in the shop by an earlier run (binding archived, shop id kept)."""
    p = product(variants=("1", "2"))
    products, variants = bound(p)
    variants["2"] = BindingView("2", "v2", OWN.variant_hash(p.variants[1]), "archived", parent_key="g:T")
    return products, variants


def test_disabled_variant_is_not_disabled_again() -> None:
    assert plan(product(variants=("1",)), disabled_variant_2(), read={"1"}).unchanged == ["g:T"]


def test_disabled_variant_back_in_the_erp_is_enabled_again_not_recreated() -> None:
    (write,) = plan(product(variants=("1", "2")), disabled_variant_2()).writes
    assert write.create_variants == [] and write.update_variants == ["2"]
    assert write.ref is not None and write.ref.variant_ids["2"] == "v2"


def test_variant_bound_to_another_product_is_created_here() -> None:
    p = product(variants=("1", "2"))
    products, variants = bound(p)
    variants["2"] = BindingView("2", "v2", OWN.variant_hash(p.variants[1]), "synced", parent_key="g:OTHER")
    (write,) = plan(p, (products, variants)).writes
    assert write.create_variants == ["2"]


# -- products disappearing --------------------------------------------------------------------------


def test_product_gone_from_the_erp_is_archived_with_its_variants() -> None:
    result = plan(None, bound(product()), read=set(), read_products=set())
    assert result.writes == []
    assert result.archive == {"g:T": ShopRef(product_id="100", variant_ids={"1": "v1", "2": "v2"})}


def test_quarantined_product_is_not_archived() -> None:
    result = plan(None, bound(product()), read={"1", "2"}, read_products={"g:T"})
    assert result.archive == {}


def test_archive_missing_false_archives_nothing() -> None:
    result = plan(None, bound(product()), read=set(), read_products=set(), archive_missing=False)
    assert result.archive == {}


def test_already_archived_or_never_created_products_are_not_archived() -> None:
    archived = {"g:T": BindingView("g:T", "100", "h", "archived")}
    assert plan(None, (archived, {}), read=set(), read_products=set()).archive == {}
    pending = {"g:T": BindingView("g:T", None, None, "pending")}
    assert plan(None, (pending, {}), read=set(), read_products=set()).archive == {}


def test_archived_product_coming_back_is_rewritten_and_enabled() -> None:
    p = product()
    products, variants = bound(p, state="archived")
    (write,) = plan(p, (products, variants)).writes
    assert write.ref is not None and write.ref.product_id == "100"
    assert write.product_fields == OWN.product_fields and "enabled" in write.product_fields
    assert write.product.enabled is True


def test_archived_product_coming_back_reenables_its_variants() -> None:
    p = product()
    products, variants = bound(p, state="archived")
    # archive_products marks the variants of an archived product archived too.
    variants = {
        k: BindingView(k, b.shop_id, b.content_hash, "archived", parent_key=b.parent_key) for k, b in variants.items()
    }
    (write,) = plan(p, (products, variants)).writes
    assert write.create_variants == [] and sorted(write.update_variants) == ["1", "2"]
    assert write.ref is not None and write.ref.variant_ids == {"1": "v1", "2": "v2"}


# -- claims cut off before the shop answered ----------------------------------------------------------


def test_pending_binding_with_a_slug_keeps_that_slug() -> None:
    pending = {"g:T": BindingView("g:T", None, None, "pending", data={"slug": "tee-t-2"})}
    (write,) = plan(product(), (pending, {})).writes
    assert write.ref is None and write.product.slug == "tee-t-2"
    assert write.create_variants == ["1", "2"]


def test_pending_binding_without_a_slug_keeps_the_mapped_one() -> None:
    pending = {"g:T": BindingView("g:T", None, None, "pending")}
    (write,) = plan(product(), (pending, {})).writes
    assert write.ref is None and write.product.slug == "tee-t"
