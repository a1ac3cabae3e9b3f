"""Reading ERP export files the way French GesCom software writes them.

CSV: ';' separator, decimal comma, cp1252 (Sage, EBP) or UTF-8 with a BOM (newer exports).
XML: one element per record, values in child elements or attributes.
Values come out as text; parsing into numbers happens in :mod:`connectors.erp.files.values`.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping
from pathlib import Path

__all__ = ["decode", "read_csv", "read_xml"]


def decode(raw: bytes, encoding: str = "auto") -> str:
    """Text of an export: a BOM wins, then strict UTF-8, then cp1252 (what Windows GesComs write)."""
    if encoding != "auto":
        return raw.decode(encoding)
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252")


def read_csv(path: Path, *, encoding: str = "auto", delimiter: str = ";") -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row by header) for each data row; blank lines are skipped."""
    text = decode(path.read_bytes(), encoding)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    if reader.fieldnames:
        reader.fieldnames = [name.strip() for name in reader.fieldnames]
    for row in reader:
        if not any((v or "").strip() for k, v in row.items() if k is not None):
            continue
        yield reader.line_num, {k: (v or "").strip() for k, v in row.items() if k is not None}


def read_xml(path: Path, *, record_tag: str, encoding: str = "auto") -> Iterator[tuple[int, dict[str, str]]]:
    """(record number, values) for each ``record_tag`` element.

    Values are the text of direct children by tag and the element's attributes as ``@name``;
    a child repeated several times (``<Image>`` ...) gives its values joined by ``|``.
    """
    raw = path.read_bytes()
    if encoding != "auto":
        source: io.IOBase = io.BytesIO(decode(raw, encoding).encode("utf-8"))
        parser = ET.XMLParser(encoding="utf-8")
    else:
        source = io.BytesIO(raw)  # the XML declaration names its encoding
        parser = None
    number = 0
    for _, element in ET.iterparse(source, events=("end",), parser=parser):
        if _local(element.tag) != record_tag:
            continue
        number += 1
        values: dict[str, str] = {f"@{_local(k)}": v.strip() for k, v in element.attrib.items()}
        for child in element:
            tag = _local(child.tag)
            text = (child.text or "").strip()
            values[tag] = f"{values[tag]}|{text}" if tag in values and text else (text or values.get(tag, ""))
        yield number, values
        element.clear()


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def pick(row: Mapping[str, str], column: str | None) -> str | None:
    if not column:
        return None
    value = row.get(column)
    return value if value not in (None, "") else None
