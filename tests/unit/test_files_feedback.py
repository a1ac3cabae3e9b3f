"""The files connector as an invoice source (PDFs in a folder + an index or their names) and a
status source (a shipments export).

Real files in ``tmp_path``: exports written in cp1252 with ``;``, decimal commas and CRLF as Sage
and EBP write them, and tiny real PDFs (``%PDF-1.4`` ... ``%%EOF``).
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from decimal import Decimal as D
from pathlib import Path

import pytest
from pydantic import ValidationError

from connectors.base import InvoiceSource, StatusSource
from connectors.erp.files import FilesSettings
from connectors.erp.files.connector import FilesConnector
from connectors.erp.files.feedback import ShipmentColumns, ShipmentExportSettings, order_status, web_order_id
from connectors.erp.files.invoices import InvoiceColumns, InvoiceExportSettings
from connectors.erp.files.orders import OrderExportSettings
from connectors.errors import Fatal, Refused
from connectors.models import InvoiceDocument, OrderStatus, Shipment, ShipmentLine
from connectors.registry import build

UTC = timezone.utc
SAGE_INDEX = InvoiceColumns(
    number="N° facture", kind="Type", order="Référence web", date="Date", currency="Devise", total="Total TTC"
)
INDEX_ROWS = [
    "N° facture;Type;Référence web;Date;Devise;Total TTC;Désignation",
    "FA00012;FA;vendure:42;05/07/2026;EUR;1 234,50;Thé vert Sencha",  # one row per line: the
    "FA00012;FA;vendure:42;05/07/2026;EUR;1 234,50;Théière fonte",  # document total repeated
    "AV00003;AV;vendure:42;2026-07-08 14:30;EUR;12,00;Retour théière",
    "FA00013;Facture;43;06/07/2026;;51,99;",  # the bare shop order id, the connection's currency
    "BL00077;BL;vendure:44;06/07/2026;EUR;10,00;",  # a delivery note: no invoice
    "FA00014;FA;;07/07/2026;EUR;5,00;Vente comptoir",  # names no order
]
SHIPMENT_COLUMNS = ShipmentColumns(
    order="Référence web",
    delivery="N° BL",
    date="Date BL",
    carrier="Transporteur",
    tracking_number="N° suivi",
    tracking_url="Lien suivi",
    sku="Référence article",
    quantity="Qté livrée",
    status="Statut",
    delivered_date="Date livraison",
)
SHIPMENT_HEADER = (
    "Référence web;N° BL;Date BL;Transporteur;N° suivi;Lien suivi;Référence article;Qté livrée;Statut;Date livraison"
)
FIRST_EXPORT = [
    SHIPMENT_HEADER,
    "vendure:42;BL001;05/07/2026 14:30;Colissimo;6A12345678901;;THE-001;2;Expédié;",
    "vendure:42;BL001;05/07/2026 14:30;Colissimo;6A12345678901;;POT-002;1,000;Expédié;",
    "43;BL003;06/07/2026;Colissimo;6A12345678902;;THE-001;3;livré;07/07/2026",
    "vendure:44;BL004;06/07/2026;;;;THE-001;1;Annulée;",
    "vendure:45;BL005;31/02/2026;Colissimo;6A12345678903;;THE-001;1;;",
    ";BL006;06/07/2026;Colissimo;6A12345678904;;THE-001;1;;",  # a counter sale: no web reference
    "vendure:46;BL007;06/07/2026 09:00;UPS;1Z0000000000000001;;THE-001;1;;",
    "vendure:46;BL007;06/07/2026 09:00;UPS;1Z0000000000000002;;POT-002;1;;",
    "vendure:47;BL008;06/07/2026;Colissimo;6A12345678905;;THE-001;1;perdu;",
]
SECOND_EXPORT = [
    SHIPMENT_HEADER,
    "VENDURE:42;BL002;08/07/2026;Chronopost;XY123456789FR;https://www.chronopost.fr/?l=XY123456789FR;THE-001;1;Livrée;09/07/2026",
]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def write_export(path: Path, lines: list[str]) -> Path:
    path.write_bytes("\r\n".join(lines).encode("cp1252") + b"\r\n")
    return path


def tiny_pdf(label: str) -> bytes:
    """A one-page PDF of a few hundred bytes, as a print-to-folder job would leave."""
    return (
        b"%PDF-1.4\n"
        b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
        b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>\nendobj\n"
        + f"% {label}\n".encode()
        + b"trailer\n<< /Root 1 0 R /Size 4 >>\n%%EOF\n"
    )


def set_mtime(path: Path, when: datetime) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()))


def connector(**settings: object) -> FilesConnector:
    return FilesConnector(FilesSettings.model_validate(settings))


@pytest.fixture
def exported(tmp_path: Path) -> Path:
    """The index and the PDFs of FA00012, AV00003, FA00013, FA00014 (named as print jobs name them)."""
    pdf = tmp_path / "pdf"
    pdf.mkdir()
    (pdf / "FA00012.pdf").write_bytes(tiny_pdf("FA00012"))
    (pdf / "AV00003_vendure-42.PDF").write_bytes(tiny_pdf("AV00003"))
    (pdf / "Facture FA00013.pdf").write_bytes(tiny_pdf("FA00013"))
    (pdf / "FA00014.pdf").write_bytes(tiny_pdf("FA00014"))
    (pdf / "FA00012.txt").write_text("not a PDF name")
    write_export(tmp_path / "factures.csv", INDEX_ROWS)
    return tmp_path


def index_connector(base: Path, **options: object) -> FilesConnector:
    invoices = {"folder": str(base / "pdf"), "index": str(base / "factures.csv"), "columns": SAGE_INDEX, **options}
    return connector(invoices=invoices)


def by_number(invoices: list[InvoiceDocument]) -> dict[str, InvoiceDocument]:
    return {i.number: i for i in invoices}


# -- invoices: index + PDFs ------------------------------------------------------------------------


def test_index_and_pdfs_give_documents_with_kind_total_order_and_posting_time(exported: Path) -> None:
    source = index_connector(exported)
    invoices = list(source.iter_invoices(None))
    assert [i.number for i in invoices] == ["FA00012", "FA00013", "FA00014", "AV00003"]  # oldest first
    found = by_number(invoices)
    assert found["FA00012"] == InvoiceDocument(
        erp_id="FA00012",
        number="FA00012",
        kind="invoice",
        shop_order_id="42",
        posted_at=utc(2026, 7, 4, 22),  # 05/07/2026 in Paris
        currency="EUR",
        total_tax_included=D("1234.50"),
    )
    credit = found["AV00003"]
    assert (credit.kind, credit.shop_order_id, credit.total_tax_included) == ("credit_note", "42", D("-12.00"))
    assert credit.posted_at == utc(2026, 7, 8, 12, 30)
    bare = found["FA00013"]
    assert (bare.kind, bare.shop_order_id, bare.currency, bare.total_tax_included) == (
        "invoice",
        "43",
        "EUR",
        D("51.99"),
    )
    assert source.render_pdf(found["FA00012"]) == tiny_pdf("FA00012")
    assert source.render_pdf(credit) == tiny_pdf("AV00003")  # holds the number as a word, .PDF
    assert source.render_pdf(bare) == tiny_pdf("FA00013")


def test_an_index_row_naming_no_order_is_refused_with_its_line(exported: Path) -> None:
    source = index_connector(exported)
    orphan = by_number(list(source.iter_invoices(None)))["FA00014"]
    assert orphan.shop_order_id == ""
    assert [(e.field, e.check) for e in orphan.issues] == [("shop_order_id", "parse")]
    with pytest.raises(Refused) as info:
        source.render_pdf(orphan)
    assert info.value.error.key == "FA00014"
    assert info.value.error.field == "shop_order_id"
    assert "invoice FA00014: no web order in column 'Référence web' (factures.csv line 7)" in info.value.error.reason
    # read again by the flow through its (empty) order, as it does for what it quarantined
    assert [i.number for i in source.iter_invoices(None, [""])] == ["FA00014"]


def test_prefixed_references_leave_other_documents_out(exported: Path) -> None:
    invoices = list(index_connector(exported, references="prefixed").iter_invoices(None))
    assert [(i.number, i.shop_order_id) for i in invoices] == [("FA00012", "42"), ("AV00003", "42")]


def test_the_shop_prefix_is_the_order_files_one(exported: Path) -> None:
    rows = [*INDEX_ROWS[:1], "FA00012;FA;boutique:42;05/07/2026;EUR;10,00;"]
    write_export(exported / "factures.csv", rows)
    invoices = {"folder": str(exported / "pdf"), "index": str(exported / "factures.csv"), "columns": SAGE_INDEX}
    orders = OrderExportSettings(outbox=str(exported), shop="boutique")
    (invoice,) = connector(invoices=invoices, orders=orders).iter_invoices(None)
    assert invoice.shop_order_id == "42"
    assert web_order_id("vendure:42", "boutique") == "vendure:42"
    assert web_order_id("vendure:42", "boutique", "prefixed") is None


def test_an_invoice_of_two_orders_comes_once_per_order_with_the_same_pdf(exported: Path) -> None:
    rows = [
        *INDEX_ROWS[:1],
        "FA00012;FA;vendure:42;05/07/2026;EUR;20,00;",
        "FA00012;FA;vendure:48;05/07/2026;EUR;20,00;",
    ]
    write_export(exported / "factures.csv", rows)
    source = index_connector(exported)
    invoices = list(source.iter_invoices(None))
    assert [(i.erp_id, i.shop_order_id) for i in invoices] == [("FA00012", "42"), ("FA00012", "48")]
    assert source.render_pdf(invoices[1]) == tiny_pdf("FA00012")


def test_bad_date_and_total_are_issues_naming_file_line_and_column(exported: Path) -> None:
    rows = [
        *INDEX_ROWS[:1],
        "FA00012;FA;vendure:42;31/02/2026;EUR;douze;",
        "FA00013;FA;vendure:43;06/07/2026;EUR;51,99;",
        "FA00013;FA;vendure:43;06/07/2026;EUR;12,00;",  # a line amount where the total should be
    ]
    write_export(exported / "factures.csv", rows)
    set_mtime(exported / "pdf" / "FA00012.pdf", utc(2026, 7, 9, 8))
    source = index_connector(exported)
    found = by_number(list(source.iter_invoices(None)))
    bad = found["FA00012"]
    assert [e.field for e in bad.issues] == ["posted_at", "total_tax_included"]
    assert bad.issues[0].reason == "column 'Date' (factures.csv line 2): '31/02/2026' is not a valid date"
    assert bad.issues[1].reason == "column 'Total TTC' (factures.csv line 2): 'douze' is not a number"
    assert bad.posted_at == utc(2026, 7, 9, 8)  # the PDF's time when the date cannot be read
    with pytest.raises(Refused, match=r"invoice FA00012: column 'Date'.*; column 'Total TTC'"):
        source.render_pdf(bad)
    (total,) = found["FA00013"].issues
    assert "'12,00' (factures.csv line 4) differs from 51.99 (factures.csv line 3)" in total.reason


def test_xml_index_with_a_windows_file_column(tmp_path: Path) -> None:
    (tmp_path / "pdf").mkdir()
    (tmp_path / "pdf" / "facture 1.pdf").write_bytes(tiny_pdf("1"))
    xml = (
        "<?xml version='1.0' encoding='windows-1252'?>\n<Factures>"
        "<Facture numero='1'><Type>Avoir</Type><Commande>vendure:50</Commande><Date>2026-07-05T10:00:00+02:00</Date>"
        "<TTC>-8,40</TTC><Fichier>C:\\Exports\\Pièces\\facture 1.pdf</Fichier></Facture>"
        "<Facture numero='2'><Type>Devis</Type><Commande>vendure:51</Commande></Facture></Factures>"
    )
    (tmp_path / "factures.xml").write_bytes(xml.encode("cp1252"))
    columns = InvoiceColumns(number="@numero", kind="Type", order="Commande", date="Date", total="TTC", file="Fichier")
    source = connector(
        invoices={
            "folder": str(tmp_path / "pdf"),
            "index": str(tmp_path / "factures.xml"),
            "record_tag": "Facture",
            "columns": columns,
        }
    )
    (credit,) = source.iter_invoices(None)
    assert (credit.number, credit.kind, credit.shop_order_id) == ("1", "credit_note", "50")
    assert (credit.posted_at, credit.total_tax_included) == (utc(2026, 7, 5, 8), D("-8.40"))
    assert source.render_pdf(credit) == tiny_pdf("1")


# -- invoices: file names only ---------------------------------------------------------------------


def test_name_pattern_without_index(tmp_path: Path) -> None:
    for name, when in [
        ("FA00020_42.pdf", utc(2026, 7, 5, 9)),
        ("AV00005_42.pdf", utc(2026, 7, 6, 9)),
        ("FA00021_vendure-43.pdf", utc(2026, 7, 7, 9)),  # does not match: left out
        ("conditions-generales.pdf", utc(2026, 7, 7, 9)),
    ]:
        (tmp_path / name).write_bytes(tiny_pdf(name))
        set_mtime(tmp_path / name, when)
    source = connector(
        invoices={"folder": str(tmp_path), "name_pattern": r"(?P<number>[A-Z]{2}\d+)_(?P<order>\d+)\.pdf"}
    )
    invoices = list(source.iter_invoices(None))
    assert [(i.number, i.kind, i.shop_order_id, i.posted_at) for i in invoices] == [
        ("FA00020", "invoice", "42", utc(2026, 7, 5, 9)),
        ("AV00005", "credit_note", "42", utc(2026, 7, 6, 9)),  # AV: a credit note without a type column
    ]
    assert all(i.total_tax_included == 0 and i.currency == "EUR" and not i.issues for i in invoices)
    assert source.render_pdf(invoices[1]) == tiny_pdf("AV00005_42.pdf")


def test_name_pattern_with_a_date_group(tmp_path: Path) -> None:
    (tmp_path / "FA00020_42_20260705.pdf").write_bytes(tiny_pdf("x"))
    pattern = r"(?P<number>FA\d+)_(?P<order>\d+)_(?P<date>\d{8})\.pdf"
    (invoice,) = connector(invoices={"folder": str(tmp_path), "name_pattern": pattern}).iter_invoices(None)
    assert invoice.posted_at == utc(2026, 7, 4, 22)


# -- invoices: which ones ----------------------------------------------------------------------------


def test_since_takes_the_date_or_a_pdf_or_index_written_since(exported: Path) -> None:
    old = utc(2026, 7, 1)
    for path in [exported / "factures.csv", *(exported / "pdf").iterdir()]:
        set_mtime(path, old)
    source = index_connector(exported)
    assert [i.number for i in source.iter_invoices(utc(2026, 7, 6, 22))] == ["FA00014", "AV00003"]  # included
    assert [i.number for i in source.iter_invoices(utc(2026, 7, 9))] == []
    set_mtime(exported / "pdf" / "FA00012.pdf", utc(2026, 7, 10, 3))  # exported tonight, dated 05/07
    assert [i.number for i in source.iter_invoices(utc(2026, 7, 9))] == ["FA00012"]
    set_mtime(exported / "factures.csv", utc(2026, 7, 10, 3))  # the index written again
    assert len(list(source.iter_invoices(utc(2026, 7, 9)))) == 4


def test_shop_order_ids_filter(exported: Path) -> None:
    source = index_connector(exported)
    assert [i.number for i in source.iter_invoices(None, ["42"])] == ["FA00012", "AV00003"]
    assert [i.number for i in source.iter_invoices(None, ["43", "99"])] == ["FA00013"]
    assert list(source.iter_invoices(None, [])) == []


# -- invoices: PDFs the flow cannot use --------------------------------------------------------------


def test_missing_pdf_is_refused_naming_the_invoice(exported: Path) -> None:
    (exported / "pdf" / "Facture FA00013.pdf").unlink()
    source = index_connector(exported)
    invoice = by_number(list(source.iter_invoices(None)))["FA00013"]  # the index lists it still
    with pytest.raises(Refused) as info:
        source.render_pdf(invoice)
    assert (info.value.error.key, info.value.error.field) == ("FA00013", "pdf")
    assert info.value.error.reason.startswith("invoice FA00013: no PDF of invoice FA00013 in ")


def test_pdf_renamed_or_gone_after_the_listing(exported: Path) -> None:
    source = index_connector(exported)
    invoice = by_number(list(source.iter_invoices(None)))["FA00012"]
    (exported / "pdf" / "FA00012.pdf").rename(exported / "pdf" / "FA00012_vendure-42.pdf")
    assert source.render_pdf(invoice) == tiny_pdf("FA00012")  # the folder is listed again
    (exported / "pdf" / "FA00012_vendure-42.pdf").unlink()
    with pytest.raises(Refused, match=r"invoice FA00012: no PDF of invoice FA00012 in "):
        source.render_pdf(invoice)


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "FA00012.pdf is empty"), (b"PK\x03\x04 an ODT" + bytes(300), "FA00012.pdf is not a PDF (starts with b'PK")],
)
def test_empty_or_not_a_pdf_is_refused(exported: Path, content: bytes, reason: str) -> None:
    (exported / "pdf" / "FA00012.pdf").write_bytes(content)
    source = index_connector(exported)
    invoice = by_number(list(source.iter_invoices(None)))["FA00012"]
    with pytest.raises(Refused) as info:
        source.render_pdf(invoice)
    assert info.value.error.field == "pdf" and reason in info.value.error.reason
    assert info.value.error.reason.startswith("invoice FA00012: ")


def test_two_pdfs_of_one_number_are_refused(exported: Path) -> None:
    (exported / "pdf" / "FA00012 (copie).pdf").write_bytes(tiny_pdf("copy"))
    source = index_connector(exported)
    invoice = by_number(list(source.iter_invoices(None)))["FA00012"]
    with pytest.raises(Refused, match=r"several PDFs of invoice FA00012 .*: FA00012 \(copie\)\.pdf, FA00012\.pdf"):
        source.render_pdf(invoice)


def test_missing_folder_or_index_is_fatal(exported: Path) -> None:
    with pytest.raises(Fatal, match=r"invoice folder .*nope does not exist.*Resolution: mount the share"):
        list(
            connector(
                invoices={"folder": str(exported / "nope"), "index": str(exported / "factures.csv")}
            ).iter_invoices(None)
        )
    with pytest.raises(Fatal, match=r"no invoice index file matches"):
        list(
            connector(invoices={"folder": str(exported / "pdf"), "index": str(exported / "x*.csv")}).iter_invoices(None)
        )
    with pytest.raises(Fatal, match=r"factures\.csv: the invoice index export has no column 'number'"):
        list(
            connector(
                invoices={"folder": str(exported / "pdf"), "index": str(exported / "factures.csv")}
            ).iter_invoices(None)
        )


# -- statuses from the shipments export --------------------------------------------------------------


@pytest.fixture
def shipments(tmp_path: Path) -> FilesConnector:
    write_export(tmp_path / "livraisons_0705.csv", FIRST_EXPORT)
    write_export(tmp_path / "livraisons_0708.csv", SECOND_EXPORT)
    set_mtime(tmp_path / "livraisons_0705.csv", utc(2026, 7, 6, 20))
    set_mtime(tmp_path / "livraisons_0708.csv", utc(2026, 7, 9, 20))
    return connector(shipments={"path": str(tmp_path / "livraisons_*.csv"), "columns": SHIPMENT_COLUMNS})


def by_order(statuses: list[OrderStatus]) -> dict[str, OrderStatus]:
    return {s.shop_order_id: s for s in statuses}


def test_shipments_export_gives_statuses_with_parcels_and_lines(shipments: FilesConnector) -> None:
    statuses = list(shipments.iter_statuses(None))
    found = by_order(statuses)
    assert sorted(found) == ["42", "43", "44", "45", "46", "47"]  # the counter sale is left out
    assert [s.shop_order_id for s in statuses] == ["44", "47", "46", "45", "43", "42"]  # oldest change first
    two = found["42"]
    assert (two.status, two.erp_reference, two.issues) == ("shipped", "vendure:42", [])
    assert two.changed_at == utc(2026, 7, 8, 22)  # delivered on 09/07 (Paris), the latest date of its rows
    assert two.shipments == [
        Shipment(
            erp_id="BL001",
            carrier="Colissimo",
            tracking_number="6A12345678901",
            shipped_at=utc(2026, 7, 5, 12, 30),
            lines=[ShipmentLine("THE-001", D("2")), ShipmentLine("POT-002", D("1.000"))],
        ),
        Shipment(
            erp_id="BL002",
            carrier="Chronopost",
            tracking_number="XY123456789FR",
            tracking_url="https://www.chronopost.fr/?l=XY123456789FR",
            shipped_at=utc(2026, 7, 7, 22),
            delivered_at=utc(2026, 7, 8, 22),
            lines=[ShipmentLine("THE-001", D("1"))],
        ),
    ]


def test_status_map_delivered_and_cancelled(shipments: FilesConnector) -> None:
    found = by_order(list(shipments.iter_statuses(None)))
    delivered = found["43"]  # "livré", the bare shop order id
    assert (delivered.status, delivered.changed_at) == ("delivered", utc(2026, 7, 6, 22))
    assert [(s.erp_id, s.delivered_at) for s in delivered.shipments] == [("BL003", utc(2026, 7, 6, 22))]
    cancelled = found["44"]  # "Annulée": accents and case ignored, no parcel
    assert (cancelled.status, cancelled.shipments, cancelled.issues) == ("cancelled", [], [])
    assert [(s.status, [e.field for e in s.issues]) for s in (found["46"], found["47"])] == [
        ("shipped", []),
        ("shipped", ["status"]),
    ]
    assert "'perdu' is not in shipments.statuses" in found["47"].issues[0].reason


def test_one_delivery_with_two_tracking_numbers_is_two_parcels(shipments: FilesConnector) -> None:
    parcels = by_order(list(shipments.iter_statuses(None)))["46"].shipments
    assert [(p.erp_id, p.carrier, p.tracking_number, p.lines) for p in parcels] == [
        ("BL007/1Z0000000000000001", "UPS", "1Z0000000000000001", [ShipmentLine("THE-001", D("1"))]),
        ("BL007/1Z0000000000000002", "UPS", "1Z0000000000000002", [ShipmentLine("POT-002", D("1"))]),
    ]


def test_bad_date_is_an_issue_naming_file_line_and_column(shipments: FilesConnector) -> None:
    bad = by_order(list(shipments.iter_statuses(None)))["45"]
    assert [(e.key, e.field, e.check) for e in bad.issues] == [("45", "shipments.shipped_at", "parse")]
    assert bad.issues[0].reason == "column 'Date BL' (livraisons_0705.csv line 6): '31/02/2026' is not a valid date"
    assert bad.changed_at == utc(2026, 7, 6, 20)  # no date read: when the export was written


def test_statuses_since_and_for_some_orders(shipments: FilesConnector) -> None:
    # Every date is before 09/07, but the second export was written on 09/07: order 42 is read, with
    # its parcel of the first export too.
    (again,) = shipments.iter_statuses(utc(2026, 7, 9))
    assert (again.shop_order_id, [s.erp_id for s in again.shipments]) == ("42", ["BL001", "BL002"])
    assert list(shipments.iter_statuses(utc(2026, 7, 10))) == []
    # After the first export was written: 43 by its delivery date (07/07 in Paris), 42 by both.
    assert [s.shop_order_id for s in shipments.iter_statuses(utc(2026, 7, 6, 21))] == ["43", "42"]
    assert [s.shop_order_id for s in shipments.iter_statuses(None, ["43", "42", "99"])] == ["43", "42"]


def test_order_status_rule() -> None:
    assert order_status(["shipped", "delivered"]) == "shipped"
    assert order_status(["delivered", "cancelled"]) == "delivered"
    assert order_status(["cancelled", "cancelled"]) == "cancelled"
    assert order_status(["processing", "cancelled"]) == "processing"
    assert order_status(["delivered", "refunded"]) == "refunded"


# -- settings, factory, capabilities -------------------------------------------------------------------


def test_settings_are_checked_when_read() -> None:
    with pytest.raises(ValidationError, match="set index .* or a name_pattern"):
        InvoiceExportSettings(folder="pdf")
    with pytest.raises(ValidationError, match="set index .* or a name_pattern"):
        InvoiceExportSettings(folder="pdf", name_pattern=r"(?P<number>FA\d+)\.pdf")
    with pytest.raises(ValidationError, match=r"needs a group \(\?P<number>"):
        InvoiceExportSettings(folder="pdf", index="f.csv", name_pattern=r"(?P<numero>FA\d+)\.pdf")
    with pytest.raises(ValidationError, match="both in invoice_types and credit_note_types"):
        InvoiceExportSettings(folder="pdf", index="f.csv", credit_note_types=["AV", "fa"])
    with pytest.raises(ValidationError, match="'rendu' = 'returned': map to one of"):
        ShipmentExportSettings(path="l.csv", statuses={"rendu": "returned"})
    with pytest.raises(ValidationError, match="sku and .quantity go together"):
        ShipmentExportSettings(path="l.csv", columns=ShipmentColumns(quantity=None))


def test_absent_settings_are_fatal_naming_the_table() -> None:
    bare = FilesConnector(FilesSettings())
    with pytest.raises(
        Fatal, match=r"no invoice export configured.*Resolution: add a \[connections\.<name>\.erp\.invoices\]"
    ):
        list(bare.iter_invoices(None))
    with pytest.raises(
        Fatal, match=r"no shipments export configured.*Resolution: add a \[connections\.<name>\.erp\.shipments\]"
    ):
        list(bare.iter_statuses(None))
    invoice = InvoiceDocument("FA1", "FA1", "invoice", "42", utc(2026, 7, 1), "EUR", D(1))
    with pytest.raises(Fatal, match=r"erp\.invoices"):
        bare.render_pdf(invoice)


class PathResolver:
    def __init__(self, base: Path) -> None:
        self.base = base

    def secret(self, option: str) -> str | None:
        return None

    def path(self, value: str) -> str:
        return str(self.base / value)


def test_factory_resolves_paths_and_the_connector_is_a_status_and_invoice_source(tmp_path: Path) -> None:
    options = {
        "invoices": {"folder": "pdf", "index": "factures_*.csv"},
        "shipments": {"path": "livraisons.csv"},
    }
    source = build("erp", "files", options, PathResolver(tmp_path))
    assert isinstance(source, InvoiceSource) and isinstance(source, StatusSource)
    s = source.settings
    assert s.invoices is not None and s.shipments is not None
    assert (s.invoices.folder, s.invoices.index) == (str(tmp_path / "pdf"), str(tmp_path / "factures_*.csv"))
    assert s.shipments.path == str(tmp_path / "livraisons.csv")
