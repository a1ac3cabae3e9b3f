"""Variant grouping: flat ERP articles -> groups that become one shop product each.

Rules come from configuration:
- ``group_field``: the article field holding the group key (``group_key`` as filled by the
  connector, e.g. the Tryton template, or any ``fields.<name>`` column of an export);
- ``reference_pattern``: a regular expression on the SKU whose named group ``group`` is the
  group key and whose other named groups are attribute values (``TSH-(?P<colour>..)-(?P<size>..)``);
- ``attributes``: the attributes that tell variants apart (option groups), in display order.

An article with no group key is a lone article: a simple product with one variant and no options.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from connectors.models import Article

__all__ = ["ArticleGroup", "GroupingRules", "group_articles"]


@dataclass(frozen=True, slots=True)
class GroupingRules:
    group_field: str | None = "group_key"
    reference_pattern: str | None = None
    attributes: tuple[str, ...] = ()

    def compiled(self) -> re.Pattern[str] | None:
        return re.compile(self.reference_pattern) if self.reference_pattern else None


@dataclass(slots=True)
class ArticleGroup:
    """Articles that become one shop product. ``key`` is stable across runs."""

    key: str
    articles: list[Article] = field(default_factory=list)
    attributes: tuple[str, ...] = ()

    @property
    def is_lone(self) -> bool:
        return not self.attributes


def article_field(article: Article, path: str) -> str | None:
    """Value of ``name``, ``fields.<name>`` or ``attributes.<name>`` on an article, as text."""
    if path.startswith("fields."):
        return article.fields.get(path[7:])
    if path.startswith("attributes."):
        return article.attributes.get(path[11:])
    value = getattr(article, path, None)
    return None if value is None else str(value)


def group_articles(articles: Iterable[Article], rules: GroupingRules) -> list[ArticleGroup]:
    """Group articles by the configured rule, keeping the ERP's order.

    With a reference pattern, attribute values captured from the SKU fill the attributes the
    ERP left empty (flat exports often only encode them in the reference).
    """
    pattern = rules.compiled()
    groups: dict[str, ArticleGroup] = {}
    for article in articles:
        group_value: str | None = None
        if pattern is not None and article.sku:
            match = pattern.fullmatch(article.sku)
            if match is not None:
                captured = match.groupdict()
                group_value = captured.pop("group", None)
                for name, value in captured.items():
                    if value is not None and not article.attributes.get(name):
                        article.attributes[name] = value
        if group_value is None and rules.group_field:
            group_value = article_field(article, rules.group_field)
        if group_value:
            key = f"g:{group_value}"
            group = groups.get(key)
            if group is None:
                group = groups[key] = ArticleGroup(key=key, attributes=rules.attributes)
            group.articles.append(article)
        else:
            # Two lone rows with one key (a duplicated SKU in an export) stay together, so the
            # quality gate sees the duplicate instead of one row silently replacing the other.
            key = f"a:{article.key}"
            groups.setdefault(key, ArticleGroup(key=key)).articles.append(article)
    for key, group in groups.items():
        if key.startswith("a:"):
            continue
        # Attributes no member uses are not options (a family sized but not coloured); with no
        # configured list, every attribute a member carries is one, in name order.
        used = {name for a in group.articles for name, v in a.attributes.items() if v}
        names = group.attributes or tuple(sorted(used))
        group.attributes = tuple(name for name in names if name in used)
    return list(groups.values())
