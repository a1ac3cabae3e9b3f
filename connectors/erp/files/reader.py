"""Reading ERP export files the way French GesCom software writes them.

CSV: ';' separator, decimal comma, cp1252 (Sage, EBP) or UTF-8 with a BOM (newer exports).
XML: one element per record, values in child elements or attributes.
Values come out as text; parsing into numbers happens in :mod:`connectors.erp.files.values`.
"""

from __future__ import annotations

import csv
import glob
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from connectors.errors import Fatal

__all__ = ["ExportFormat", "decode", "export_format", "export_rows", "match_files", "pick", "read_csv", "read_xml"]


class ExportFormat(BaseModel):
    """How one kind of export is written; every export settings model (articles, stock, prices,
    group prices) extends it and sets its own ``record_tag`` default."""

    model_config = ConfigDict(extra="forbid")
    format: str = "auto"
    encoding: str = "auto"
    delimiter: str = ";"
    decimal_separator: str = ","
    record_tag: str = "Article"


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


def match_files(pattern: str, *, what: str = "export") -> list[Path]:
    """Files matching ``pattern`` (a path or a glob), in name order; none is a Fatal."""
    matches = sorted(glob.glob(pattern))
    if not matches:
        raise Fatal(
            f"no {what} file matches {pattern}.",
            resolution="check the path in the configuration and that the ERP export ran.",
        )
    return [Path(m) for m in matches]


def export_format(file: Path, fmt: str = "auto") -> str:
    """ "csv" or "xml": the configured format, else the file's extension (``.txt`` is CSV)."""
    chosen = fmt if fmt != "auto" else file.suffix.lower().lstrip(".")
    if chosen in ("csv", "txt"):
        return "csv"
    if chosen == "xml":
        return "xml"
    raise Fatal(f"{file}: unknown export format {chosen!r}.", resolution='set format = "csv" or "xml".')


def export_rows(
    pattern: str,
    layout: ExportFormat,
    *,
    what: str,
    required: Sequence[str | None] = (),
) -> Iterator[tuple[str, dict[str, str]]]:
    """(origin, row) of every record of every file matching ``pattern``.

    ``origin`` names the record for the operator, as the catalogue does: ``"stock.csv line 4"``
    or ``"stock.xml <Stock> #2"``. ``required`` are configured columns a CSV header must have: a
    misspelt column would otherwise read as empty cells everywhere (zero stock, no promotion).
    XML records may omit empty children, so they are not checked.
    """
    for file in match_files(pattern, what=what):
        if export_format(file, layout.format) == "csv":
            rows = read_csv(file, encoding=layout.encoding, delimiter=layout.delimiter)
            where = "line "
        else:
            rows = read_xml(file, record_tag=layout.record_tag, encoding=layout.encoding)
            where = f"<{layout.record_tag}> #"
        first = True
        for number, row in rows:
            if first and where == "line ":
                _require_columns(file, row, required, what)
            first = False
            yield f"{file.name} {where}{number}", row


def _require_columns(file: Path, row: Mapping[str, str], required: Sequence[str | None], what: str) -> None:
    missing = [c for c in required if c and c not in row]
    if missing:
        raise Fatal(
            f"{file.name}: the {what} export has no column {', '.join(map(repr, missing))} "
            f"(its columns: {', '.join(map(repr, row))}).",
            resolution=f"set the {what} column names to the export's headers (accents and case count).",
        )
