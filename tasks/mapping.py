"""Mapping: groups of ERP articles -> canonical shop products.

A table of direct copies (``fields``: shop field <- ERP field) plus one small function per
derived field (name, slug, categories, tax category). Mapping never refuses a record: it
copies what is there and the quality gate, which runs next, says what is wrong.

Field paths on the shop side: product fields (``name``, ``description``, ``custom_fields.brand``)
and variant fields prefixed with ``variant.`` (``variant.name``, ``variant.custom_fields.ean``).
On the ERP side: article attributes (``name``, ``description``, ``group_name``...), export
columns ``fields.<name>`` and variant attributes ``attributes.<name>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from connectors.models import Article, Product, Variant, slugify
from tasks.grouping import ArticleGroup, article_field

__all__ = ["MappingRules", "map_group", "map_groups", "normalise_rate", "slugify"]

DEFAULT_FIELDS: dict[str, str] = {"description": "description", "variant.name": "name"}


@dataclass(frozen=True, slots=True)
class MappingRules:
    currency: str = "EUR"
    country: str = "FR"
    fields: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_FIELDS))
    categories: tuple[tuple[str, ...], ...] = ()
    category_separator: str = "/"
    taxes: Mapping[str, str] = field(default_factory=dict)
    """VAT rate (normalised text, ``"5.5"``) -> the shop's tax category for ``country``."""
    attribute_labels: Mapping[str, str] = field(default_factory=dict)
    """Attribute code -> the name customers read ("colour" -> "Couleur"), over the ERP's own labels."""


def normalise_rate(rate: Decimal | None) -> str | None:
    """``Decimal("20.00")`` -> ``"20"``, ``Decimal("5.50")`` -> ``"5.5"``: the key of tax tables."""
    if rate is None:
        return None
    return format(rate.normalize(), "f")


def map_groups(groups: Iterable[ArticleGroup], rules: MappingRules) -> list[Product]:
    return [map_group(g, rules) for g in groups]


def map_group(group: ArticleGroup, rules: MappingRules) -> Product:
    """One group -> one product with one variant per article."""
    first = group.articles[0]
    product_values = {
        t: _first_value(group.articles, s) for t, s in rules.fields.items() if not t.startswith("variant.")
    }
    name = product_values.pop("name", None) or _product_name(group)
    code = group.key.split(":", 1)[1] if ":" in group.key and not group.is_lone else (first.sku or first.key)
    product = Product(
        key=group.key,
        name=name,
        slug=slugify(f"{name}-{code}") or slugify(group.key),
        description=product_values.pop("description", None),
        option_groups=list(group.attributes),
        option_labels=_option_labels(group, rules),
        categories=_categories(first, rules),
        images=_images(group.articles),
        variants=[_variant(a, group, rules) for a in group.articles],
    )
    product.custom_fields = {
        t.removeprefix("custom_fields."): v for t, v in product_values.items() if t.startswith("custom_fields.")
    }
    return product


def _variant(article: Article, group: ArticleGroup, rules: MappingRules) -> Variant:
    values = {t[8:]: article_field(article, s) for t, s in rules.fields.items() if t.startswith("variant.")}
    rate = normalise_rate(article.vat_rate)
    return Variant(
        key=article.key,
        sku=article.sku,  # type: ignore[arg-type]  # None is refused by the quality gate
        name=values.pop("name", None) or article.name or "",
        price=article.price,  # type: ignore[arg-type]
        currency=article.currency or rules.currency,
        options={name: article.attributes.get(name) or "" for name in group.attributes},
        ean=article.ean,
        vat_rate=article.vat_rate,
        tax_category=rules.taxes.get(rate) if rate is not None else None,
        weight=article.weight,
        tax_included=article.tax_included,
        custom_fields={
            t.removeprefix("custom_fields."): v for t, v in values.items() if t.startswith("custom_fields.")
        },
    )


def _option_labels(group: ArticleGroup, rules: MappingRules) -> dict[str, str]:
    """Display name of each attribute: the configured one, else the ERP's label, else the code."""
    labels: dict[str, str] = {}
    for code in group.attributes:
        label = rules.attribute_labels.get(code) or next(
            (a.attribute_labels[code] for a in group.articles if a.attribute_labels.get(code)), None
        )
        labels[code] = label or code
    return labels


def _first_value(articles: list[Article], source: str) -> str | None:
    for article in articles:
        value = article_field(article, source)
        if value:
            return value
    return None


def _product_name(group: ArticleGroup) -> str:
    """The ERP's group name, else the first article's name without its option values
    ("Polo piqué Rouge M" -> "Polo piqué")."""
    first = group.articles[0]
    if first.group_name:
        return first.group_name
    name = first.name or first.sku or first.key
    if group.is_lone:
        return name
    # Option values may have several words ("Bleu marine", "Taille unique"): strip whole values
    # from the end of the name, longest first, as long as something is left.
    values = sorted({" ".join(v.lower().split()) for v in first.attributes.values() if v}, key=len, reverse=True)
    words = name.split()
    stripped = True
    while stripped and len(words) > 1:
        stripped = False
        tail = [w.lower().strip(",-/") for w in words]
        for value in values:
            size = len(value.split())
            if size < len(words) and " ".join(tail[-size:]) == value:
                del words[-size:]
                stripped = True
                break
    return " ".join(words).rstrip(" ,-/")


def _categories(article: Article, rules: MappingRules) -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = []
    for sources in rules.categories:
        if len(sources) == 1:
            # One ERP field may list several category paths separated by "|" (Tryton's many2many).
            for alternative in (article_field(article, sources[0]) or "").split("|"):
                path_of_one = tuple(p.strip() for p in alternative.split(rules.category_separator) if p.strip())
                if path_of_one and path_of_one not in paths:
                    paths.append(path_of_one)
            continue
        path: list[str] = []
        for source in sources:
            value = article_field(article, source)
            if value:
                path.extend(p.strip() for p in value.split(rules.category_separator) if p.strip())
        if path and tuple(path) not in paths:
            paths.append(tuple(path))
    return paths


def _images(articles: list[Article]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for article in articles:
        for image in article.images:
            seen.setdefault(image, None)
    return tuple(seen)
