"""Change detection: only what changed is sent; create-only fields are never resent."""

from __future__ import annotations

from decimal import Decimal as D

from connectors.models import Product, Variant
from tasks.diff import BindingView, Ownership, plan_catalogue

OWN = Ownership()


def product(price: str = "10.00", description: str = "d", variants: tuple[str, ...] = ("1", "2")) -> Product:
    return Product(
        key="g:T",
        name="Tee",
        slug="tee-t",
        description=description,
        option_groups=["size"],
        variants=[
            Variant(key=k, sku=f"S{k}", name=f"Tee {k}", price=D(price), currency="EUR", options={"size": k})
            for k in variants
        ],
    )


def bound(p: Product, state: str = "synced") -> tuple[dict, dict]:
    products = {p.key: BindingView(p.key, "100", OWN.product_hash(p), state)}
    variants = {
        v.key: BindingView(v.key, f"v{v.key}", OWN.variant_hash(v), "synced", parent_key=p.key) for v in p.variants
    }
    return products, variants


def plan(p: Product, products: dict, variants: dict, **kw):
    keys = {v.key for v in p.variants}
    return plan_catalogue(
        [p],
        products,
        variants,
        ownership=OWN,
        read_article_keys=kw.pop("read", keys),
        read_product_keys=kw.pop("read_products", {p.key}),
        **kw,
    )


def test_new_product_is_created_and_unchanged_one_is_not_sent() -> None:
    p = product()
    assert [w.ref for w in plan(p, {}, {}).writes] == [None]
    assert plan(p, *bound(p)).unchanged == ["g:T"]


def test_price_change_updates_only_that_variant_and_description_change_is_ignored() -> None:
    products, variants = bound(product())
    changed = product(description="rewritten in the ERP")
    changed.variants[0].price = D("12.00")
    (write,) = plan(changed, products, variants).writes
    assert write.update_variants == ["1"] and write.product_fields == frozenset()
    assert plan(product(description="rewritten"), products, variants).unchanged == ["g:T"]


def test_full_resends_owned_fields_but_never_create_only_ones() -> None:
    p = product()
    (write,) = plan(p, *bound(p), full=True).writes
    assert (
        "name" in write.product_fields
        and "description" not in write.product_fields
        and "slug" not in write.product_fields
    )
    assert write.update_variants == ["1", "2"]


def test_new_variant_created_gone_variant_disabled_quarantined_variant_kept() -> None:
    products, variants = bound(product(variants=("1", "2")))
    (write,) = plan(product(variants=("1", "3")), products, variants, read={"1", "3"}).writes
    assert write.create_variants == ["3"] and write.disable_variants == {"2": "v2"}
    (write,) = plan(product(variants=("1", "3")), products, variants, read={"1", "2", "3"}).writes
    assert write.disable_variants == {}  # "2" was read but refused by the gate: leave it in the shop


def test_gone_product_archived_unless_partial_and_comes_back() -> None:
    p = product()
    products, variants = bound(p)
    result = plan_catalogue([], products, variants, ownership=OWN, read_article_keys=set(), read_product_keys=set())
    assert list(result.archive) == ["g:T"]
    result = plan_catalogue(
        [], products, variants, ownership=OWN, read_article_keys=set(), read_product_keys=set(), archive_missing=False
    )
    assert result.archive == {}
    archived = {p.key: BindingView(p.key, "100", OWN.product_hash(p), "archived")}
    (write,) = plan(p, archived, variants).writes
    assert "enabled" in write.product_fields


def test_pending_claim_keeps_its_slug() -> None:
    pending = {"g:T": BindingView("g:T", None, None, "pending", data={"slug": "tee-old-slug"})}
    (write,) = plan(product(), pending, {}).writes
    assert write.ref is None and write.product.slug == "tee-old-slug"
