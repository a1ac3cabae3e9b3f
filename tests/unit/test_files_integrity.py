"""Export files that cannot be trusted are refused by name before anything is read from them.

Issue 12, defect 14: a last CSV line cut mid-row used to vanish into a record with empty cells, a
UTF-16 file was read as cp1252 (every line quarantined as "SKU is missing"), an XML file cut short
or a cp1252 file configured as UTF-8 crashed with a bare ``ParseError`` / ``UnicodeDecodeError``.
Every export the files ERP reads (articles, stock, prices, shipments, invoice index), in CSV and
in XML, is checked here through its own source, the way a flow reads it.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from connectors.erp.files import FilesSettings
from connectors.erp.files.connector import FilesConnector
from connectors.erp.files.reader import decode, read_csv, read_xml
from connectors.errors import Fatal


@dataclass(frozen=True)
class Export:
    """One kind of export: its columns, two records, and how its source is built and read."""

    kind: str
    record_tag: str
    header: list[str]
    records: list[list[str]]
    settings: Callable[[Path, Path, dict[str, Any]], dict[str, Any]]
    read: Callable[[FilesConnector], list[Any]]

    def csv(self, records: list[list[str]] | None = None) -> str:
        rows = [self.header, *(self.records if records is None else records)]
        return "".join(";".join(row) + "\r\n" for row in rows)

    def xml(self, encoding: str = "windows-1252") -> str:
        body = "".join(
            f"  <{self.record_tag}>"
            + "".join(f"<{c}>{v}</{c}>" for c, v in zip(self.header, r, strict=True))
            + f"</{self.record_tag}>\r\n"
            for r in self.records
        )
        return f'<?xml version="1.0" encoding="{encoding}"?>\r\n<Export>\r\n{body}</Export>\r\n'

    def connector(self, file: Path, **options: Any) -> FilesConnector:
        folder = file.parent / "pdf"
        folder.mkdir(exist_ok=True)
        return FilesConnector(FilesSettings.model_validate(self.settings(file, folder, options)))


EXPORTS = [
    Export(
        "articles",
        "Article",
        ["sku", "name", "price"],
        [["A1", "Bol été", "3,00"], ["A2", "Tasse crème", "2,50"]],
        lambda f, _, o: {"path": str(f), "record_tag": "Article", **o},
        lambda c: list(c.iter_articles()),
    ),
    Export(
        "stock",
        "Stock",
        ["sku", "name", "quantity"],
        [["A1", "Bol été", "3"], ["A2", "Tasse crème", "5"]],
        lambda f, _, o: {"stock": {"path": str(f), **o}},
        lambda c: list(c.iter_stock(["default"])),
    ),
    Export(
        "prices",
        "Article",
        ["sku", "name", "price"],
        [["A1", "Bol été", "3,00"], ["A2", "Tasse crème", "2,50"]],
        lambda f, _, o: {"prices": {"path": str(f), "record_tag": "Article", **o}},
        lambda c: list(c.iter_prices([])),
    ),
    Export(
        "shipments",
        "Shipment",
        ["reference", "delivery", "date", "carrier", "tracking_number", "sku", "quantity", "name"],
        [
            ["vendure:42", "BL1", "05/07/2026", "Colissimo", "6A12345678901", "A1", "1", "Bol été"],
            ["vendure:43", "BL2", "06/07/2026", "Colissimo", "6A12345678902", "A2", "2", "Tasse crème"],
        ],
        lambda f, _, o: {"shipments": {"path": str(f), **o}},
        lambda c: list(c.iter_statuses(None)),
    ),
    Export(
        "invoice index",
        "Invoice",
        ["number", "type", "reference", "date", "total_tax_included", "name"],
        [
            ["FA1", "FA", "vendure:42", "05/07/2026", "12,00", "Bol été"],
            ["FA2", "FA", "43", "06/07/2026", "5,00", "Tasse"],
        ],
        lambda f, folder, o: {"invoices": {"folder": str(folder), "index": str(f), **o}},
        lambda c: list(c.iter_invoices(None)),
    ),
]
IDS = [e.kind for e in EXPORTS]


def refused(export: Export, file: Path, **options: Any) -> str:
    """The message of the Fatal the export's source raises; it must name the file."""
    with pytest.raises(Fatal) as info:
        export.read(export.connector(file, **options))
    message = str(info.value)
    assert file.name in message and "Resolution:" in message
    return message


@pytest.mark.parametrize("export", EXPORTS, ids=IDS)
def test_complete_exports_read_in_every_encoding(export: Export, tmp_path: Path) -> None:
    """The checks refuse nothing sound: cp1252, UTF-8 with and without BOM, a last line without
    a line end, UTF-16 with its byte order mark, XML in windows-1252."""
    files = {
        "cp1252.csv": export.csv().encode("cp1252"),
        "bom.csv": codecs.BOM_UTF8 + export.csv().encode(),
        "plain.csv": export.csv().encode(),
        "no-end.csv": export.csv().rstrip("\r\n").encode("cp1252"),
        "utf16.csv": export.csv().encode("utf-16"),
        "export.xml": export.xml().encode("cp1252"),
        "utf8.xml": export.xml("UTF-8").encode(),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        assert len(export.read(export.connector(tmp_path / name))) == 2, name


@pytest.mark.parametrize("export", EXPORTS, ids=IDS)
def test_a_csv_cut_inside_its_last_record_is_refused_by_name_and_line(export: Export, tmp_path: Path) -> None:
    file = tmp_path / "export.csv"
    cut = export.csv().rstrip("\r\n")
    file.write_bytes(cut[: cut.rindex(";")].encode("cp1252"))  # the last field never written
    message = refused(export, file)
    assert "cut short" in message and "line 3" in message


@pytest.mark.parametrize("export", EXPORTS, ids=IDS)
def test_a_csv_cut_inside_a_quoted_field_is_refused(export: Export, tmp_path: Path) -> None:
    file = tmp_path / "export.csv"
    rows = [*export.records[:1], [*export.records[1][:-1], '"Tasse\r\ncrème']]
    file.write_bytes(export.csv(rows).encode("cp1252"))
    message = refused(export, file)
    assert "cut short" in message and "quoted field" in message and "line 3" in message


@pytest.mark.parametrize("export", EXPORTS, ids=IDS)
def test_an_xml_cut_short_is_refused_by_name_and_line(export: Export, tmp_path: Path) -> None:
    file = tmp_path / "export.xml"
    data = export.xml().encode("cp1252")
    file.write_bytes(data[: data.rindex(f"</{export.record_tag}>".encode())])  # cut inside the last record
    message = refused(export, file)
    assert "cut short" in message and "line 4" in message and f"after 1 complete <{export.record_tag}>" in message


@pytest.mark.parametrize("export", EXPORTS, ids=IDS)
def test_an_empty_file_is_refused(export: Export, tmp_path: Path) -> None:
    for name in ("empty.csv", "empty.xml"):
        (tmp_path / name).write_bytes(b"")
        assert "empty" in refused(export, tmp_path / name)


@pytest.mark.parametrize("export", EXPORTS, ids=IDS)
def test_utf16_configured_as_cp1252_is_refused_naming_the_encoding_found(export: Export, tmp_path: Path) -> None:
    file = tmp_path / "export.csv"
    file.write_bytes(export.csv().encode("utf-16"))
    message = refused(export, file, encoding="cp1252")
    assert "UTF-16 LE" in message and "'cp1252'" in message


@pytest.mark.parametrize("export", EXPORTS, ids=IDS)
def test_utf16_without_a_byte_order_mark_is_refused_for_its_nul_bytes(export: Export, tmp_path: Path) -> None:
    file = tmp_path / "export.csv"
    file.write_bytes(export.csv().encode("utf-16-le"))
    message = refused(export, file)
    assert "NUL" in message and "UTF-16 LE without a byte order mark" in message and "line 1" in message


@pytest.mark.parametrize("export", EXPORTS, ids=IDS)
def test_cp1252_configured_as_utf8_is_refused_naming_the_line(export: Export, tmp_path: Path) -> None:
    file = tmp_path / "export.csv"
    file.write_bytes(export.csv().encode("cp1252"))
    message = refused(export, file, encoding="utf-8")
    assert "'utf-8'" in message and "line 2" in message and "cp1252" in message


@pytest.mark.parametrize("export", EXPORTS, ids=IDS)
def test_utf8_configured_as_cp1252_is_refused_before_accents_are_garbled(export: Export, tmp_path: Path) -> None:
    file = tmp_path / "export.csv"
    file.write_bytes(export.csv().encode())
    message = refused(export, file, encoding="cp1252")
    assert "is UTF-8" in message and "line 2" in message


@pytest.mark.parametrize("export", EXPORTS, ids=IDS)
def test_xml_not_in_its_declared_encoding_is_refused(export: Export, tmp_path: Path) -> None:
    cp1252_as_utf8 = tmp_path / "declared-utf8.xml"
    cp1252_as_utf8.write_bytes(export.xml("UTF-8").encode("cp1252"))
    assert "line 3" in refused(export, cp1252_as_utf8)
    utf8_as_cp1252 = tmp_path / "declared-cp1252.xml"
    utf8_as_cp1252.write_bytes(export.xml("windows-1252").encode())
    assert "is UTF-8" in refused(export, utf8_as_cp1252)


@pytest.mark.parametrize("export", EXPORTS, ids=IDS)
def test_a_cut_file_in_a_glob_refuses_the_run(export: Export, tmp_path: Path) -> None:
    """The sound file before it does not make a partial read: the source raises, so the flow,
    which reads everything before it sends anything, sends nothing."""
    (tmp_path / "export_1.csv").write_bytes(export.csv().encode("cp1252"))
    cut = export.csv().rstrip("\r\n")
    (tmp_path / "export_2.csv").write_bytes(cut[: cut.rindex(";")].encode("cp1252"))
    with pytest.raises(Fatal, match="export_2.csv is cut short"):
        export.read(export.connector(tmp_path / "export_*.csv"))


# -- the reader itself -------------------------------------------------------------------------


def test_nothing_is_given_out_before_the_whole_file_is_checked(tmp_path: Path) -> None:
    csv_file = tmp_path / "a.csv"
    csv_file.write_bytes(b"sku;name;price\r\nA1;Bol;3,00\r\nA2;Ta")
    with pytest.raises(Fatal, match="a.csv is cut short: its last record \\(line 3\\) has 2 of the header's 3"):
        next(read_csv(csv_file))
    xml_file = tmp_path / "a.xml"
    xml_file.write_bytes(b"<E><Article><sku>A1</sku></Article><Article><sku>A")
    with pytest.raises(Fatal, match="after 1 complete <Article> records"):
        next(read_xml(xml_file, record_tag="Article"))


def test_a_utf8_file_cut_inside_a_character_is_cut_short_not_cp1252(tmp_path: Path) -> None:
    """Strict UTF-8 fails on the last bytes only: that is a cut, not a reason to read it all as cp1252."""
    file = tmp_path / "a.csv"
    file.write_bytes("sku;name\r\nA1;Bol été".encode()[:-1])
    with pytest.raises(Fatal, match="a.csv is cut short: it ends in the middle of a utf-8 character"):
        next(read_csv(file))


def test_a_utf8_file_with_one_cp1252_line_is_refused_as_mixed(tmp_path: Path) -> None:
    file = tmp_path / "a.csv"
    file.write_bytes("sku;name\r\nA1;Bol été\r\n".encode() + "A2;Tasse crème\r\n".encode("cp1252"))
    with pytest.raises(Fatal, match="a.csv mixes encodings: it is UTF-8, but line 3"):
        next(read_csv(file))


def test_a_quote_character_inside_an_unquoted_last_field_is_no_cut(tmp_path: Path) -> None:
    file = tmp_path / "a.csv"
    file.write_bytes(b'sku;name\r\nA1;Bol 15" large')
    assert list(read_csv(file)) == [(2, {"sku": "A1", "name": 'Bol 15" large'})]


def test_decode_names_the_encoding_found() -> None:
    with pytest.raises(Fatal, match="starts with a UTF-8 byte order mark"):
        decode(codecs.BOM_UTF8 + b"sku\n", "cp1252", name="a.csv")
    assert decode(codecs.BOM_UTF8 + "été".encode(), "utf-8") == "été"
    assert decode("été".encode("utf-16-be"), "utf-16-be") == "été"
    assert decode("été".encode("utf-16"), "auto") == "été"
    with pytest.raises(Fatal, match="unknown encoding 'klingon'"):
        decode(b"sku", "klingon", name="a.csv")


def test_a_cp1252_file_ending_with_an_accent_is_no_cut(tmp_path: Path) -> None:
    """ "é" as the very last byte of a cp1252 file looks like the start of a UTF-8 character."""
    file = tmp_path / "a.csv"
    file.write_bytes("sku;name\r\nA1;Café".encode("cp1252"))
    assert list(read_csv(file)) == [(2, {"sku": "A1", "name": "Café"})]


def test_a_cp1252_line_before_utf8_ones_is_mixed_too(tmp_path: Path) -> None:
    file = tmp_path / "a.csv"
    file.write_bytes("sku;name\r\nA1;Bol été\r\n".encode("cp1252") + "A2;Tasse crème\r\n".encode())
    with pytest.raises(Fatal, match="a.csv mixes encodings: it is UTF-8, but line 2"):
        next(read_csv(file))
