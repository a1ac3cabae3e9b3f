"""The XML the PrestaShop webservice takes for writes, built from records shaped like its JSON reads.

A record is what ``GET ...?output_format=JSON&display=full`` answers for one resource: scalar
fields as strings, multilingual fields as ``[{"id": "1", "value": "..."}]`` and ``associations``
as ``{"categories": [{"id": "2"}], ...}``. :func:`to_xml` turns it into the document a POST or a
PUT takes (``<prestashop xmlns:xlink=...><product>...</product></prestashop>``, every value in
CDATA, multilingual values as ``<language id="1">``); :func:`writable` drops the read-only fields
the server refuses (``parameter "quantity" not writable``). Answers are parsed by :func:`answer_id`
and :func:`error_messages`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

__all__ = [
    "ASSOCIATION_NODES",
    "READ_ONLY",
    "SINGULAR",
    "answer_id",
    "error_messages",
    "language_value",
    "to_xml",
    "writable",
]

SINGULAR = {
    "products": "product",
    "combinations": "combination",
    "categories": "category",
    "product_options": "product_option",
    "product_option_values": "product_option_value",
    "manufacturers": "manufacturer",
    "product_features": "product_feature",
    "product_feature_values": "product_feature_value",
    "stock_availables": "stock_available",
    "specific_prices": "specific_price",
    "order_carriers": "order_carrier",
    "order_histories": "order_history",
    "customer_threads": "customer_thread",
    "customer_messages": "customer_message",
}
"""XML node name of one record of each resource written."""

ASSOCIATION_NODES = {
    "categories": "category",
    "images": "image",
    "combinations": "combination",
    "product_option_values": "product_option_value",
    "product_features": "product_feature",
    "tags": "tag",
    "stock_availables": "stock_available",
    "attachments": "attachment",
    "accessories": "product",
    "product_bundle": "product",
    "customer_messages": "customer_message",
    "products": "product",
}
"""Child node name of each association list (the ``nodeType`` of the schema synopsis)."""

READ_ONLY = {
    "products": frozenset({"manufacturer_name", "quantity", "position_in_category", "id_default_image"}),
    "categories": frozenset({"level_depth", "nb_products_recursive"}),
    "manufacturers": frozenset({"link_rewrite"}),
}
"""Fields read but never sent back: ``read_only`` in the schema synopsis (their setter is false:
``parameter "quantity" not writable``), plus product ``position_in_category`` and
``id_default_image``, whose webservice setters move the product in its default category and re-set
its cover image: passerelle manages neither."""

WRITTEN_ASSOCIATIONS = {
    "products": ("categories",),
    "combinations": ("product_option_values",),
}
"""Associations passerelle writes; the others are left out of a PUT, which leaves them unchanged."""


def language_value(value: Any, language: str) -> str:
    """The text of a multilingual JSON field in ``language`` ('' when missing)."""
    if isinstance(value, list):
        for item in value:
            if str(item.get("id")) == str(language):
                return str(item.get("value") or "")
        return ""
    return "" if value is None else str(value)


def writable(resource: str, record: dict[str, Any]) -> dict[str, Any]:
    """A copy of a record read as JSON, fit to be sent back: read-only fields dropped, only the
    associations passerelle writes kept (PrestaShop leaves an association missing from a PUT as it is)."""
    drop = READ_ONLY.get(resource, frozenset())
    out = {k: v for k, v in record.items() if k not in drop and k != "associations"}
    kept = {
        name: value
        for name, value in (record.get("associations") or {}).items()
        if name in WRITTEN_ASSOCIATIONS.get(resource, ())
    }
    if kept:
        out["associations"] = kept
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _cdata(value: Any) -> str:
    # ``]]>`` cannot appear inside a CDATA section: split it as XML does.
    return "<![CDATA[" + _text(value).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def to_xml(resource: str, record: dict[str, Any]) -> bytes:
    """The XML document of one record (see the module docstring for the record's shape)."""
    node = SINGULAR[resource]
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', '<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">']
    parts.append(f"<{node}>")
    for name, value in record.items():
        if name == "associations":
            parts.append("<associations>")
            for assoc_name, items in value.items():
                child = ASSOCIATION_NODES[assoc_name]
                parts.append(f"<{assoc_name}>")
                for item in items:
                    inner = "".join(f"<{k}>{_cdata(v)}</{k}>" for k, v in item.items())
                    parts.append(f"<{child}>{inner}</{child}>")
                parts.append(f"</{assoc_name}>")
            parts.append("</associations>")
        elif isinstance(value, list):
            langs = "".join(
                f'<language id="{int(item["id"])}">{_cdata(item.get("value"))}</language>' for item in value
            )
            parts.append(f"<{name}>{langs}</{name}>")
        else:
            parts.append(f"<{name}>{_cdata(value)}</{name}>")
    parts.append(f"</{node}>")
    parts.append("</prestashop>")
    return "\n".join(parts).encode()


def answer_id(body: bytes | str) -> str | None:
    """The ``id`` of the record a POST or PUT answered, or None."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    for entity in root:
        found = entity.find("id")
        if found is not None and (found.text or "").strip():
            return (found.text or "").strip()
    return None


def error_messages(body: bytes | str) -> list[str] | None:
    """The messages of a PrestaShop ``<errors>`` answer, or None when the body is not one."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    errors = root.find("errors")
    if errors is None:
        return None
    return [(e.findtext("message") or "").strip() for e in errors.findall("error")]
