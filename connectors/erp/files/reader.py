"""Reading ERP export files the way French GesCom software writes them.

CSV: ';' separator, decimal comma, cp1252 (Sage, EBP) or UTF-8 with a BOM (newer exports).
XML: one element per record, values in child elements or attributes.
Values come out as text; parsing into numbers happens in :mod:`connectors.erp.files.values`.

A file that cannot be trusted as a whole is refused before any of its records is given out
(a :class:`~connectors.errors.Fatal` naming the file, the line and the encoding): one that is
cut short (the export was still being written, or copied incompletely: a last CSV record without
a line end and with fewer fields than the header, a quoted field or a character left open at the
end, an XML document that does not parse to its end, an empty file), and one that is not in its
encoding (a byte order mark of another encoding, NUL bytes, bytes the encoding cannot decode,
UTF-8 read as a single-byte encoding). A bad value in one record is that record's issue instead:
the callers quarantine it and the others go on.
"""

from __future__ import annotations

import codecs
import csv
import glob
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from xml.parsers import expat

from pydantic import BaseModel, ConfigDict

from connectors.errors import Fatal

__all__ = ["ExportFormat", "decode", "export_format", "export_rows", "match_files", "pick", "read_csv", "read_xml"]

_NOT_TRUSTED = "nothing was read from this file"
_RERUN = (
    "run the export again and let the ERP finish writing it (or have it write to a temporary name "
    f"and rename the file when done); {_NOT_TRUSTED}."
)
# Longest mark first: the UTF-32 LE mark starts with the UTF-16 LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32 LE", ("utf-32", "utf-32-le")),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32 BE", ("utf-32", "utf-32-be")),
    (codecs.BOM_UTF8, "utf-8", "UTF-8", ("utf-8", "utf-8-sig")),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16 LE", ("utf-16", "utf-16-le")),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 BE", ("utf-16", "utf-16-be")),
)
# A character written as valid multi-byte UTF-8: in a cp1252 text these pairs ("Ã©", "Â«") do not occur.
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_XML_DECLARATION = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_XML_CUT = {
    expat.errors.codes[message]
    for message in (
        expat.errors.XML_ERROR_NO_ELEMENTS,
        expat.errors.XML_ERROR_UNCLOSED_TOKEN,
        expat.errors.XML_ERROR_UNCLOSED_CDATA_SECTION,
        expat.errors.XML_ERROR_PARTIAL_CHAR,
    )
}


class ExportFormat(BaseModel):
    """How one kind of export is written; every export settings model (articles, stock, prices,
    group prices) extends it and sets its own ``record_tag`` default."""

    model_config = ConfigDict(extra="forbid")
    format: str = "auto"
    encoding: str = "auto"
    delimiter: str = ";"
    decimal_separator: str = ","
    record_tag: str = "Article"


# -- encodings -----------------------------------------------------------------------------------


def decode(raw: bytes, encoding: str = "auto", *, name: str = "the export") -> str:
    """Text of an export file named ``name``.

    ``auto``: a byte order mark wins (UTF-8, UTF-16, UTF-32), then strict UTF-8, then cp1252
    (what Windows GesComs write). A configured encoding must be the file's: a mark of another
    encoding, bytes it cannot decode, NUL characters or UTF-8 read as a single-byte encoding are
    refused (:class:`Fatal` naming the file, the line and the encoding found).
    """
    bom = next((b for b in _BOMS if raw.startswith(b[0])), None)
    if encoding == "auto":
        if bom is not None:
            return _checked(raw[len(bom[0]) :], bom[1], "auto", name)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            at_end = exc.end == len(raw) and exc.reason == "unexpected end of data"
            if at_end and _UTF8_SEQUENCE.search(raw, 0, exc.start):
                raise _cut_character(raw, exc, name) from None  # UTF-8 so far: not a cp1252 "é" at the end
            if _UTF8_SEQUENCE.search(raw):
                line = _line(raw, exc.start, "utf-8")
                raise Fatal(
                    f"{name} mixes encodings: it is UTF-8, but line {line} has a byte ({raw[exc.start]:#04x}) "
                    "that is not.",
                    resolution=f"export the file again in one encoding; {_NOT_TRUSTED}.",
                ) from None
            return _checked(raw, "cp1252", "auto", name)
        return _checked_text(text, raw, "utf-8", "auto", name)
    codec = _codec(encoding, name)
    if bom is not None:
        if codec not in bom[3]:
            raise Fatal(
                f"{name} is not in its configured encoding {encoding!r}: it starts with a {bom[2]} byte order mark.",
                resolution=f'set encoding = "auto" (or "{bom[1]}") for this export, or have the ERP export it '
                f"in {encoding}; {_NOT_TRUSTED}.",
            )
        return _checked(raw[len(bom[0]) :], bom[1], encoding, name)
    return _checked(raw, codec, encoding, name)


def _codec(encoding: str, name: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise Fatal(
            f"{name}: unknown encoding {encoding!r}.",
            resolution='set encoding = "auto", "cp1252", "utf-8" or another Python codec name.',
        ) from None


def _checked(raw: bytes, codec: str, configured: str, name: str) -> str:
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError as exc:
        if exc.end == len(raw) and exc.reason in ("unexpected end of data", "truncated data"):
            raise _cut_character(raw, exc, name) from None
        line = _line(raw, exc.start, codec)
        shown = "auto (UTF-8, else cp1252)" if configured == "auto" else repr(configured)
        raise Fatal(
            f"{name} is not in its encoding {shown}: line {line} has a byte ({raw[exc.start]:#04x}) it cannot "
            f"decode; the file looks like {_guess(raw)}.",
            resolution=f"set encoding to the file's for this export, or have the ERP export it in {codec}; "
            f"{_NOT_TRUSTED}.",
        ) from None
    return _checked_text(text, raw, codec, configured, name)


def _checked_text(text: str, raw: bytes, codec: str, configured: str, name: str) -> str:
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise Fatal(
            f"{name} holds NUL characters (line {line}) read as {codec}: the file looks like {_guess(raw)}.",
            resolution=f"set encoding to the file's for this export (a UTF-16 file without a byte order mark: "
            f'"utf-16-le"), or have the ERP export it in cp1252 or UTF-8; {_NOT_TRUSTED}.',
        )
    if not codec.startswith("utf") and (found := _UTF8_SEQUENCE.search(raw)):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return text  # single-byte text with an unlucky pair of bytes: not UTF-8
        line = raw.count(b"\n", 0, found.start()) + 1
        raise Fatal(
            f"{name} is UTF-8, not {configured!r} (line {line} has a character written as UTF-8 bytes): read as "
            f"{codec}, its accents would reach the shop garbled.",
            resolution=f'set encoding = "utf-8" (or "auto") for this export; {_NOT_TRUSTED}.',
        )
    return text


def _cut_character(raw: bytes, exc: UnicodeDecodeError, name: str) -> Fatal:
    line = _line(raw, exc.start, exc.encoding)
    return Fatal(
        f"{name} is cut short: it ends in the middle of a {exc.encoding} character (line {line}).",
        resolution=_RERUN,
    )


def _line(raw: bytes, offset: int, codec: str) -> int:
    return raw[:offset].decode(codec, errors="replace").count("\n") + 1


def _guess(raw: bytes) -> str:
    """What the bytes look like, for the operator: the encoding to configure."""
    for mark, _, label, _ in _BOMS:
        if raw.startswith(mark):
            return f"{label} (byte order mark)"
    sample = raw[:4096]
    if b"\x00" in sample:
        odd = sample[1::2].count(0)
        even = sample[0::2].count(0)
        return "UTF-16 LE without a byte order mark" if odd > even else "UTF-16 BE without a byte order mark"
    try:
        raw.decode("utf-8")
        return "UTF-8" if _UTF8_SEQUENCE.search(raw) else "ASCII"
    except UnicodeDecodeError:
        return "cp1252 or another single-byte encoding"


# -- CSV -----------------------------------------------------------------------------------------


class _Lines:
    """The file's lines as the csv module reads them, remembering the last one given."""

    def __init__(self, text: str) -> None:
        self._lines = iter(io.StringIO(text, newline=""))
        self.current: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.current.append(line)
        return line


def read_csv(path: Path, *, encoding: str = "auto", delimiter: str = ";") -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row by header) for each data row; blank lines are skipped.

    The whole file is checked before the first row is given: a file cut short or not in its
    encoding is a :class:`Fatal` (see the module docstring).
    """
    name = path.name
    text = decode(path.read_bytes(), encoding, name=name)
    if not text.strip():
        raise Fatal(f"{name} is empty: not even a header line.", resolution=_RERUN)
    lines = _Lines(text)
    reader = csv.reader(lines, delimiter=delimiter)
    records: list[tuple[int, dict[str, str]]] = []
    last_cells: list[str] = []
    last_lines: list[str] = []
    try:
        header = [column.strip() for column in next(reader)]
        header_lines, lines.current = lines.current, []
        for cells in reader:
            consumed, lines.current = lines.current, []
            if not any(cell.strip() for cell in cells):
                continue
            records.append((reader.line_num, _row(header, cells)))
            last_cells, last_lines = cells, consumed
    except csv.Error as exc:
        raise Fatal(
            f"{name} line {reader.line_num} cannot be read as CSV ({exc}).",
            resolution=f"check the delimiter setting and the export; {_NOT_TRUSTED}.",
        ) from None
    if records:
        _check_last_record(name, header, last_cells, last_lines, records[-1][0], delimiter)
    elif not header_lines[-1].endswith(("\n", "\r")):
        raise Fatal(f"{name} is cut short: it holds only part of a header line, no line end.", resolution=_RERUN)
    yield from records


def _row(header: list[str], cells: list[str]) -> dict[str, str]:
    """Cells by column; a row with fewer cells has the missing ones empty, extra cells are dropped."""
    return {column: (cells[i].strip() if i < len(cells) else "") for i, column in enumerate(header)}


def _check_last_record(
    name: str, header: list[str], cells: list[str], raw_lines: list[str], line: int, delimiter: str
) -> None:
    """The last record must be whole: the file is refused when it was cut inside it."""
    try:
        list(csv.reader(raw_lines, delimiter=delimiter, strict=True))
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            first = line - len(raw_lines) + 1
            raise Fatal(
                f"{name} is cut short: its last record (line {first}) ends inside a quoted field.",
                resolution=_RERUN,
            ) from None
    if not raw_lines[-1].endswith(("\n", "\r")) and len(cells) < len(header):
        raise Fatal(
            f"{name} is cut short: its last record (line {line}) has {len(cells)} of the header's "
            f"{len(header)} fields and no line end.",
            resolution=_RERUN,
        )


# -- XML -----------------------------------------------------------------------------------------


def read_xml(path: Path, *, record_tag: str, encoding: str = "auto") -> Iterator[tuple[int, dict[str, str]]]:
    """(record number, values) for each ``record_tag`` element.

    Values are the text of direct children by tag and the element's attributes as ``@name``;
    a child repeated several times (``<Image>`` ...) gives its values joined by ``|``.
    ``auto``: the encoding the document says (byte order mark, XML declaration, else UTF-8), held
    to the same checks as a configured one. The whole document is parsed before the first record
    is given: one that does not parse to its end is a :class:`Fatal`.
    """
    name = path.name
    raw = path.read_bytes()
    if not raw.strip():
        raise Fatal(f"{name} is empty: no XML document.", resolution=_RERUN)
    text = decode(raw, _xml_encoding(raw) if encoding == "auto" else encoding, name=name)
    # The text is handed over as UTF-8 whatever the declaration says: it was decoded above.
    parser = ET.XMLParser(encoding="utf-8")
    records: list[tuple[int, dict[str, str]]] = []
    try:
        for _, element in ET.iterparse(io.BytesIO(text.encode("utf-8")), events=("end",), parser=parser):
            if _local(element.tag) != record_tag:
                continue
            values: dict[str, str] = {f"@{_local(k)}": v.strip() for k, v in element.attrib.items()}
            for child in element:
                tag = _local(child.tag)
                value = (child.text or "").strip()
                values[tag] = f"{values[tag]}|{value}" if tag in values and value else (value or values.get(tag, ""))
            records.append((len(records) + 1, values))
            element.clear()
    except ET.ParseError as exc:
        line, column = exc.position
        if exc.code in _XML_CUT:
            raise Fatal(
                f"{name} is cut short: the XML document ends at line {line} before its elements are closed "
                f"(after {len(records)} complete <{record_tag}> records).",
                resolution=_RERUN,
            ) from None
        raise Fatal(
            f"{name} is not well-formed XML: line {line}, column {column}: {expat.ErrorString(exc.code)}.",
            resolution=f"check the export (record_tag {record_tag!r}); {_NOT_TRUSTED}.",
        ) from None
    yield from records


def _xml_encoding(raw: bytes) -> str:
    """The encoding an XML document says it has: its byte order mark, else its declaration
    (a declaration-less UTF-16 document is recognised by its first ``<``), else UTF-8."""
    for mark, codec, _, _ in _BOMS:
        if raw.startswith(mark):
            return codec
    if raw.startswith(b"<\x00?\x00"):
        return "utf-16-le"
    if raw.startswith(b"\x00<\x00?"):
        return "utf-16-be"
    declared = _XML_DECLARATION.match(raw)
    return declared.group(1).decode("ascii") if declared else "utf-8"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


# -- files and records ---------------------------------------------------------------------------


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
