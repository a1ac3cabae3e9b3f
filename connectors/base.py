"""What a connector can do, split by capability.

A platform implements the protocols it supports; flows ask the registry for a capability and
get a clear ``Fatal`` when the configured platform lacks it. Connectors take explicit
arguments, never read the environment, and never import Prefect.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from connectors.errors import RecordError
from connectors.models import Article, Product, ShopRef

__all__ = [
    "BatchResult",
    "CatalogueSink",
    "CatalogueSource",
    "Closeable",
    "ProductWrite",
]


@runtime_checkable
class Closeable(Protocol):
    def close(self) -> None: ...


@runtime_checkable
class CatalogueSource(Protocol):
    """An ERP (or export) that lists sellable articles."""

    def iter_articles(self) -> Iterator[Article]:
        """Every article the ERP sells (inactive ones with ``active=False`` or left out)."""
        ...


@dataclass(slots=True)
class ProductWrite:
    """One product to create or update in the shop, and exactly what to write.

    ``ref`` is None for a creation. ``product_fields`` names the product-level fields to write
    (every field on creation; only owned, changed ones on update, never create-only fields).
    ``create_variants`` / ``update_variants`` are variant keys of ``product.variants``;
    ``variant_fields`` names the variant fields to write on update (a created variant gets
    every field); ``disable_variants`` maps keys of variants gone from the ERP to their shop ids.
    """

    product: Product
    ref: ShopRef | None
    product_fields: frozenset[str]
    create_variants: list[str] = field(default_factory=list)
    update_variants: list[str] = field(default_factory=list)
    variant_fields: frozenset[str] = frozenset()
    disable_variants: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class BatchResult:
    """What the shop answered for a batch: refs of the products it holds now, per-record errors."""

    refs: dict[str, ShopRef] = field(default_factory=dict)
    errors: list[RecordError] = field(default_factory=list)
    answers: dict[str, object] = field(default_factory=dict)


@runtime_checkable
class CatalogueSink(Protocol):
    """A shop that receives products with variants."""

    platform: str

    def find_products(self, products: Sequence[Product]) -> dict[str, ShopRef]:
        """Products (and their variants) already in the shop, found by the platform's natural
        identity (slug, reference, SKU). This is how a run killed after the shop wrote but
        before the state store did adopts what it created instead of creating it twice."""
        ...

    def write_products(self, writes: Sequence[ProductWrite]) -> BatchResult:
        """Create or update a batch of products; a refused product is an error, not an exception."""
        ...

    def archive_products(self, refs: dict[str, ShopRef]) -> BatchResult:
        """Disable (never delete) products gone from the ERP."""
        ...
