"""The files connector as an order sink: one order file per web order, exactly once, with its deposits.

Real files in ``tmp_path`` (no mocks): what the ERP's import would read is read back with the
connector's own CSV reader (cp1252, ``;``, decimal comma) or ElementTree.
"""

from __future__ import annotations

import os
import shutil
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import datetime, timezone
from decimal import Decimal as D
from pathlib import Path

import pytest
from pydantic import ValidationError

from connectors.base import CatalogueSource, ErpOrderRef, OrderSink
from connectors.erp.files import FilesSettings
from connectors.erp.files.connector import FilesConnector
from connectors.erp.files.orders import OrderExportSettings
from connectors.erp.files.reader import read_csv, read_xml
from connectors.erp.files.values import parse_decimal
from connectors.errors import Fatal, Refused, Skip
from connectors.models import Address, Customer, Discount, Order, OrderLine, Payment
from connectors.registry import build

UTC = timezone.utc
PLACED = datetime(2026, 7, 4, 22, 30, tzinfo=UTC)  # 5 July, 00:30 in Paris: the file says 05/07/2026
PAID = datetime(2026, 7, 4, 22, 31, 5, tzinfo=UTC)
PRODUCTS = {"L1": "THE-001", "L2": "POT-002"}
ADDRESS = Address(
    first_name="Claire",
    last_name="Léger",
    street="12 rue de l\u2019Église",
    street2="Bâtiment B\n2e étage",
    postal_code="69001",
    city="Lyon",
    country="fr",
)


def make_order(shop_id: str = "42", **changes: object) -> Order:
    """Two VAT rates (5.5 % tea, 20 % teapot with a line discount), shipping at 20 %, a 10 % coupon
    spread over both rates, paid by card: 45.50 tax excluded, 51.99 tax included."""
    order = Order(
        shop_id=shop_id,
        reference="WEB-2026-0042",
        state="PaymentSettled",
        created_at=PLACED,
        updated_at=PAID,
        currency="EUR",
        customer=Customer(
            email="claire@example.fr",
            shop_id="7",
            first_name="Claire",
            last_name="Léger",
            company="Les Thés d\u2019Élise",
            vat_number="FR12345678901",
            siret="12345678900012",
            phone="0102030405",
        ),
        billing=ADDRESS,
        shipping=replace(ADDRESS, street="3 quai Saint-Vincent", street2=None, company="Boutique"),
        lines=[
            OrderLine("L1", "THE-001", "Thé vert Sencha", D(2), D("10.00"), D("5.5"), D("20.00"), D("21.10")),
            OrderLine(
                "L2", "POT-002", "Théière fonte", D(1), D("30.00"), D("20"), D("25.00"), D("30.00"), discount=D("5.00")
            ),
        ],
        total=D("45.50"),
        total_tax_included=D("51.99"),
        shipping_method="colissimo",
        shipping_price=D("5.00"),
        shipping_price_tax_included=D("6.00"),
        shipping_vat_rate=D("20"),
        discounts=[Discount("10 % de bienvenue", D("4.50"), D("5.11"), code="BIENVENUE10")],
        payments=[Payment("card", D("51.99"), "settled", "pi_123", PAID)],
    )
    for name, value in changes.items():
        setattr(order, name, value)
    return order


def sink(tmp_path: Path, **orders: object) -> FilesConnector:
    (tmp_path / "outbox").mkdir(exist_ok=True)
    (tmp_path / "archive").mkdir(exist_ok=True)
    options = {"outbox": str(tmp_path / "outbox"), "processed": [str(tmp_path / "archive")], **orders}
    return FilesConnector(FilesSettings(orders=OrderExportSettings.model_validate(options)))


def rows_of(path: Path) -> list[dict[str, str]]:
    return [row for _, row in read_csv(path, encoding="cp1252", delimiter=";")]


def amount(text: str) -> D:
    return parse_decimal(text, decimal_separator=",")


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# -- the order file --------------------------------------------------------------------------------


def test_paid_order_with_two_vat_rates_shipping_and_coupon_is_one_cp1252_file(tmp_path: Path) -> None:
    ref = sink(tmp_path).import_order(make_order(), PRODUCTS)

    assert names(tmp_path / "outbox") == ["vendure-42.csv"]
    path = tmp_path / "outbox" / "vendure-42.csv"
    raw = path.read_bytes()
    assert "Désignation".encode("cp1252") in raw and b"\r\n" in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    rows = rows_of(path)
    assert [r["Type ligne"] for r in rows] == ["E", "L", "L", "L", "L", "L", "A"]
    assert all(r["Référence web"] == "vendure:42" for r in rows)  # an import grouping rows by document can

    header = rows[0]
    assert {k: header[k] for k in ("Type pièce", "N° commande", "Date", "Code client", "E-mail", "Devise")} == {
        "Type pièce": "BC",
        "N° commande": "WEB-2026-0042",
        "Date": "05/07/2026",
        "Code client": "vendure:7",
        "E-mail": "claire@example.fr",
        "Devise": "EUR",
    }
    assert (header["Prénom"], header["Nom"], header["Raison sociale"]) == ("Claire", "Léger", "Les Thés d\u2019Élise")
    assert (header["N° TVA intracom"], header["SIRET"]) == ("FR12345678901", "12345678900012")
    assert header["Fact. adresse"] == "12 rue de l\u2019Église" and header["Fact. complément"] == "Bâtiment B 2e étage"
    assert (header["Fact. code postal"], header["Fact. ville"], header["Fact. pays"]) == ("69001", "Lyon", "FR")
    assert (header["Livr. adresse"], header["Livr. société"], header["Livr. contact"]) == (
        "3 quai Saint-Vincent",
        "Boutique",
        "Claire Léger",
    )
    assert (header["Total HT"], header["Total TTC"], header["Transporteur"]) == ("45,50", "51,99", "colissimo")
    assert header["Code article"] == "" and header["Montant acompte"] == ""

    columns = ("Code article", "Désignation", "Quantité", "PU HT", "Remise HT", "Taux TVA", "Montant HT", "Montant TTC")
    assert [tuple(r[c] for c in columns) for r in rows[1:6]] == [
        ("THE-001", "Thé vert Sencha", "2", "10,00", "", "5,5", "20,00", "21,10"),
        ("POT-002", "Théière fonte", "1", "30,00", "5,00", "20", "25,00", "30,00"),
        ("PORT", "colissimo", "1", "5,00", "", "20", "5,00", "6,00"),
        # the coupon lowers each VAT base in proportion (20 : 25), the rows add up to the shop's 4.50 / 5.11
        ("REMISE", "10 % de bienvenue (BIENVENUE10) (TVA 5,5 %)", "1", "-2,00", "", "5,5", "-2,00", "-2,11"),
        ("REMISE", "10 % de bienvenue (BIENVENUE10) (TVA 20 %)", "1", "-2,50", "", "20", "-2,50", "-3,00"),
    ]
    assert sum(amount(r["Montant HT"]) for r in rows[1:6]) == D("45.50")
    assert sum(amount(r["Montant TTC"]) for r in rows[1:6]) == D("51.99")

    deposit = rows[6]
    assert {k: deposit[k] for k in ("Code article", "Montant acompte", "Mode de règlement", "N° transaction")} == {
        "Code article": "ACOMPTE",
        "Montant acompte": "51,99",
        "Mode de règlement": "card",
        "N° transaction": "pi_123",
    }
    assert deposit["Date règlement"] == "05/07/2026" and deposit["Montant TTC"] == ""
    assert ref == ErpOrderRef("vendure-42.csv", "vendure:42", D("51.99"), "vendure:7")


def test_a_second_import_writes_nothing_and_returns_the_same_ref(tmp_path: Path) -> None:
    connector = sink(tmp_path)
    first = connector.import_order(make_order(), PRODUCTS)
    path = tmp_path / "outbox" / "vendure-42.csv"
    before = (path.read_bytes(), path.stat().st_mtime_ns, path.stat().st_ino)

    changed = make_order(total_tax_included=D("99.99"))  # even edited in the shop: the ERP has it already
    assert connector.import_order(changed, PRODUCTS) == first
    assert (path.read_bytes(), path.stat().st_mtime_ns, path.stat().st_ino) == before
    assert names(tmp_path / "outbox") == ["vendure-42.csv"]


def test_a_file_the_erp_moved_to_processed_is_still_the_order(tmp_path: Path) -> None:
    connector = sink(tmp_path)
    ref = connector.import_order(make_order(), PRODUCTS)
    connector.import_order(make_order("420"), PRODUCTS)  # a name that contains the other's must not count
    shutil.move(tmp_path / "outbox" / "vendure-42.csv", tmp_path / "archive" / "vendure-42.csv")

    assert connector.find_orders(["42", "43", "42"]) == {"42": ref}
    assert connector.import_order(make_order(), PRODUCTS) == ref
    assert names(tmp_path / "outbox") == ["vendure-420.csv"]


def test_processed_globs_and_names_the_erp_decorated_when_archiving(tmp_path: Path) -> None:
    connector = sink(tmp_path, processed=[str(tmp_path / "archive" / "*")])
    ref = connector.import_order(make_order(), PRODUCTS)
    (tmp_path / "archive" / "2026").mkdir()
    os.replace(tmp_path / "outbox" / "vendure-42.csv", tmp_path / "archive" / "2026" / "20260705_vendure-42.csv.done")
    (tmp_path / "archive" / "2026" / "avendure-43.csv").write_text("not ours")

    assert connector.find_orders(["42", "43"]) == {"42": ref}
    assert connector.import_order(make_order(), PRODUCTS) == ref
    assert names(tmp_path / "outbox") == []


def test_an_import_that_renames_in_place_is_understood_when_the_outbox_is_listed_as_processed(tmp_path: Path) -> None:
    connector = sink(tmp_path, processed=[str(tmp_path / "outbox")])
    ref = connector.import_order(make_order(), PRODUCTS)
    os.replace(tmp_path / "outbox" / "vendure-42.csv", tmp_path / "outbox" / "vendure-42.csv.imp")

    assert connector.import_order(make_order(), PRODUCTS) == ref
    assert names(tmp_path / "outbox") == ["vendure-42.csv.imp"]


def test_guest_order_has_an_empty_account(tmp_path: Path) -> None:
    order = make_order()
    order.customer.shop_id = None
    ref = sink(tmp_path).import_order(order, PRODUCTS)

    assert rows_of(tmp_path / "outbox" / "vendure-42.csv")[0]["Code client"] == ""
    assert ref.customer_id is None
    assert sink(tmp_path).find_orders(["42"])["42"].customer_id is None


def test_unbound_sku_refuses_the_order_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(Refused) as refused:
        sink(tmp_path).import_order(make_order(), {"L2": "POT-002"})

    assert refused.value.error.key == "42"
    assert refused.value.error.field == "lines[0].sku"
    assert "'THE-001'" in refused.value.error.reason
    assert names(tmp_path / "outbox") == []


def test_placeholder_article_keeps_the_original_sku_in_the_description(tmp_path: Path) -> None:
    order = make_order()
    sink(tmp_path, placeholder_article="DIVERS").import_order(order, {"L2": "POT-002"})

    line = rows_of(tmp_path / "outbox" / "vendure-42.csv")[1]
    assert (line["Code article"], line["Désignation"]) == ("DIVERS", "Thé vert Sencha [THE-001]")
    assert [(i.field, i.check) for i in order.issues] == [("lines[0].sku", "platform")]


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"lines": []}, "lines"), ({"currency": "USD"}, "currency")],
)
def test_orders_the_erp_cannot_take_are_refused(tmp_path: Path, changes: dict[str, object], field: str) -> None:
    with pytest.raises(Refused) as refused:
        sink(tmp_path, currencies=["EUR"]).import_order(make_order(**changes), PRODUCTS)
    assert refused.value.error.field == field
    assert names(tmp_path / "outbox") == []


def test_a_free_shipping_discount_lowers_the_shipping_base_and_a_gap_gets_an_adjustment_row(tmp_path: Path) -> None:
    order = make_order(
        discounts=[Discount("Livraison offerte", D("5.00"), D("6.00"))],
        total=D("45.00"),
        total_tax_included=D("51.11"),  # the parts make 51.10: a cent the shop rounded elsewhere
    )
    sink(tmp_path).import_order(order, PRODUCTS)

    rows = rows_of(tmp_path / "outbox" / "vendure-42.csv")
    columns = ("Code article", "Taux TVA", "Montant HT", "Montant TTC")
    assert [tuple(r[c] for c in columns) for r in rows[4:6]] == [
        ("REMISE", "20", "-5,00", "-6,00"),
        ("ECART", "", "0,00", "0,01"),
    ]
    assert sum(amount(r["Montant TTC"]) for r in rows if r["Type ligne"] == "L") == D("51.11")


def test_characters_the_encoding_cannot_hold_are_transliterated_and_noted(tmp_path: Path) -> None:
    order = make_order()
    order.customer.last_name = "Dvořák"
    order.lines[0].name = "Thé 🍵 vert"
    sink(tmp_path).import_order(order, PRODUCTS)

    rows = rows_of(tmp_path / "outbox" / "vendure-42.csv")
    assert rows[0]["Nom"] == "Dvorák" and rows[1]["Désignation"] == "Thé ? vert"
    assert sorted(i.field for i in order.issues) == ["description", "last_name"]


def test_file_name_pattern_with_the_date_and_an_id_that_is_not_a_file_name(tmp_path: Path) -> None:
    connector = sink(tmp_path, file_name="{date}_{shop}_{id}", extension="txt", header_on_every_row=True)
    ref = connector.import_order(make_order("T/42 é"), PRODUCTS)

    assert names(tmp_path / "outbox") == ["20260705_vendure_T%2F42%20%C3%A9.txt"]
    assert ref.reference == "vendure:T/42 é" and ref.erp_id == "20260705_vendure_T%2F42%20%C3%A9.txt"
    assert connector.find_orders(["T/42 é", "T"]) == {"T/42 é": ref}
    line = rows_of(tmp_path / "outbox" / ref.erp_id)[1]
    assert (line["Code client"], line["Total TTC"], line["Type pièce"]) == ("vendure:7", "51,99", "BC")


# -- exactly once against crashes and bad folders ----------------------------------------------------


def test_a_leftover_temporary_file_of_a_killed_write_is_not_the_order_and_is_replaced(tmp_path: Path) -> None:
    connector = sink(tmp_path)
    leftover = tmp_path / "outbox" / ".vendure-42.csv.0badf00d.tmp"
    leftover.write_bytes("Type ligne;Référence web\r\nE;vendure:42\r\nL;ven".encode("cp1252"))

    assert connector.find_orders(["42"]) == {}
    ref = connector.import_order(make_order(), PRODUCTS)

    assert names(tmp_path / "outbox") == ["vendure-42.csv"]
    assert len(rows_of(tmp_path / "outbox" / ref.erp_id)) == 7
    assert connector.find_orders(["42"]) == {"42": ref}


def test_no_orders_settings_is_a_fatal_naming_the_table(tmp_path: Path) -> None:
    connector = FilesConnector(FilesSettings())
    with pytest.raises(
        Fatal, match=r"no order outbox configured.*Resolution: add a \[connections\.<name>\.erp\.orders\]"
    ):
        connector.import_order(make_order(), PRODUCTS)
    with pytest.raises(Fatal, match=r"erp\.orders"):
        connector.find_orders(["42"])


def test_a_missing_outbox_or_processed_folder_is_fatal_not_a_second_copy(tmp_path: Path) -> None:
    connector = sink(tmp_path)
    shutil.rmtree(tmp_path / "outbox")
    with pytest.raises(Fatal, match=r"outbox .* is not a folder.*Resolution:.*erp\.orders"):
        connector.import_order(make_order(), PRODUCTS)

    connector = sink(tmp_path)
    shutil.rmtree(tmp_path / "archive")
    with pytest.raises(Fatal, match=r"processed folder .* does not exist.*Resolution:"):
        connector.find_orders(["42"])
    assert names(tmp_path / "outbox") == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes in a read-only folder")
def test_an_outbox_that_is_not_writable_is_fatal(tmp_path: Path) -> None:
    connector = sink(tmp_path)
    (tmp_path / "outbox").chmod(0o555)
    try:
        with pytest.raises(Fatal, match=r"cannot write in the order outbox.*Resolution:.*erp\.orders"):
            connector.import_order(make_order(), PRODUCTS)
    finally:
        (tmp_path / "outbox").chmod(0o755)


# -- payments --------------------------------------------------------------------------------------


def partly_paid() -> Order:
    return make_order(
        payments=[
            Payment("card", D("20.00"), "settled", "pi_1", PAID),
            Payment("card", D("31.99"), "authorized", "pi_2"),
        ]
    )


def test_a_payment_settled_after_the_import_gets_one_deposit_file(tmp_path: Path) -> None:
    connector = sink(tmp_path, payment_methods={"card": "CB"})
    ref = connector.import_order(partly_paid(), PRODUCTS)
    later = Payment("card", D("31.99"), "settled", "pi_2", datetime(2026, 7, 6, 9, 0, tzinfo=UTC))

    name = connector.record_payment(ref, later)

    assert name == "vendure-42-deposit-pi_2.csv"
    assert names(tmp_path / "outbox") == ["vendure-42-deposit-pi_2.csv", "vendure-42.csv"]
    order_header = rows_of(tmp_path / "outbox" / "vendure-42.csv")[0]
    header, deposit = rows_of(tmp_path / "outbox" / name)
    assert header == {**order_header, "Type pièce": "AC"}  # the same identity: reference, customer, addresses
    assert (deposit["Type ligne"], deposit["Référence web"], deposit["Code article"]) == ("A", "vendure:42", "ACOMPTE")
    assert (deposit["Montant acompte"], deposit["Mode de règlement"], deposit["N° transaction"]) == (
        "31,99",
        "CB",
        "pi_2",
    )
    assert deposit["Date règlement"] == "06/07/2026"

    before = (tmp_path / "outbox" / name).stat().st_mtime_ns
    assert connector.record_payment(ref, later) == name
    assert (tmp_path / "outbox" / name).stat().st_mtime_ns == before
    shutil.move(tmp_path / "outbox" / name, tmp_path / "archive" / name)  # the ERP took it
    assert connector.record_payment(ref, later) == name
    assert names(tmp_path / "outbox") == ["vendure-42.csv"]


def test_a_payment_settled_at_import_is_not_exported_twice(tmp_path: Path) -> None:
    connector = sink(tmp_path)
    order = partly_paid()
    ref = connector.import_order(order, PRODUCTS)
    shutil.move(tmp_path / "outbox" / "vendure-42.csv", tmp_path / "archive" / "vendure-42.csv")

    assert connector.record_payment(ref, order.payments[0]) == "vendure-42.csv"
    assert names(tmp_path / "outbox") == []


def test_a_payment_without_transaction_id_is_known_by_method_amount_and_time(tmp_path: Path) -> None:
    connector = sink(tmp_path)
    at_import = Payment("cheque", D("20.00"), "settled", None, PAID)
    ref = connector.import_order(make_order(payments=[at_import]), PRODUCTS)
    assert connector.record_payment(ref, at_import) == "vendure-42.csv"

    second = replace(at_import, paid_at=datetime(2026, 7, 4, 22, 31, 6, tzinfo=UTC))  # one second later
    name = connector.record_payment(ref, second)
    assert name.startswith("vendure-42-deposit-h") and name.endswith(".csv")
    assert connector.record_payment(ref, replace(second)) == name
    assert len(names(tmp_path / "outbox")) == 2


@pytest.mark.parametrize("state", ["pending", "authorized", "declined", "refunded"])
def test_a_payment_not_settled_is_skipped(tmp_path: Path, state: str) -> None:
    connector = sink(tmp_path)
    ref = connector.import_order(make_order(), PRODUCTS)
    with pytest.raises(Skip, match=state):
        connector.record_payment(ref, Payment("transfer", D("51.99"), state, "tr_1"))
    assert names(tmp_path / "outbox") == ["vendure-42.csv"]


def test_a_payment_of_an_order_file_the_erp_deleted_is_fatal(tmp_path: Path) -> None:
    connector = sink(tmp_path)
    ref = connector.import_order(partly_paid(), PRODUCTS)
    (tmp_path / "outbox" / "vendure-42.csv").unlink()
    with pytest.raises(Fatal, match=r"neither in the outbox nor in a processed folder.*Resolution:.*processed"):
        connector.record_payment(ref, Payment("card", D("31.99"), "settled", "pi_2", PAID))


# -- XML ---------------------------------------------------------------------------------------------


def test_xml_order_file_parses_with_header_lines_and_deposits(tmp_path: Path) -> None:
    connector = sink(tmp_path, format="xml")
    order = partly_paid()
    order.customer.last_name = "Dvořák"  # not in windows-1252: a character reference, nothing lost
    ref = connector.import_order(order, PRODUCTS)

    path = tmp_path / "outbox" / "vendure-42.xml"
    assert ref.erp_id == "vendure-42.xml"
    assert path.read_bytes().startswith(b"<?xml version='1.0' encoding='windows-1252'?>")
    root = ET.parse(path).getroot()
    assert root.tag == "order" and [e.tag for e in root] == ["header"] + ["line"] * 5 + ["deposit"]
    header = root.find("header")
    assert header is not None
    assert (header.findtext("reference"), header.findtext("last_name"), header.findtext("total_tax_included")) == (
        "vendure:42",
        "Dvořák",
        "51,99",
    )
    assert [e.get("kind") for e in root.iter("line")] == ["goods", "goods", "shipping", "discount", "discount"]
    lines = [row for _, row in read_xml(path, record_tag="line")]
    assert [(r["article"], r["line_total_tax_included"]) for r in lines][:3] == [
        ("THE-001", "21,10"),
        ("POT-002", "30,00"),
        ("PORT", "6,00"),
    ]
    assert root.findtext("deposit/transaction_id") == "pi_1"

    assert connector.find_orders(["42"]) == {"42": ref}
    assert connector.record_payment(ref, order.payments[0]) == "vendure-42.xml"
    later = Payment("card", D("31.99"), "settled", "pi_2", PAID)
    deposit = ET.parse(tmp_path / "outbox" / connector.record_payment(ref, later)).getroot()
    assert deposit.findtext("header/document_type") == "AC" and deposit.findtext("deposit/deposit_amount") == "31,99"


# -- settings, factory, protocol ---------------------------------------------------------------------


class PathResolver:
    def __init__(self, base: Path) -> None:
        self.base = base

    def secret(self, option: str) -> str | None:
        return None

    def path(self, value: str) -> str:
        return str(self.base / value)


def test_factory_resolves_the_outbox_and_processed_folders_and_the_connector_is_an_order_sink(tmp_path: Path) -> None:
    options = {"orders": {"outbox": "commandes/a-importer", "processed": ["commandes/importees", "archive/*"]}}
    connector = build("erp", "files", options, PathResolver(tmp_path))

    assert isinstance(connector, OrderSink) and isinstance(connector, CatalogueSource)
    s = connector.settings.orders
    assert s is not None and s.outbox == str(tmp_path / "commandes/a-importer")
    assert s.processed == [str(tmp_path / "commandes/importees"), str(tmp_path / "archive/*")]
    assert (s.encoding, s.delimiter, s.decimal_separator, s.format) == ("cp1252", ";", ",", "csv")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"file_name": "commande-{reference}"}, "needs {id} once"),
        ({"file_name": "{id}-{id}"}, "needs {id} once"),
        ({"file_name": "../{id}"}, "not a path"),
        ({"format": "json"}, "'csv' or 'xml'"),
        ({"encoding": "klingon"}, "unknown encoding"),
        ({"timezone": "Europe/Lyon"}, "unknown time zone"),
        ({"shop": "my shop"}, "letters, digits"),
        ({"columns": {"email": "Nom"}}, "share the column 'Nom'"),
        ({"columns": {"transaction_id": ""}}, "cannot be empty"),
        ({"row_types": {"deposit": "L"}}, "three different"),
        ({"decimal_separator": ";"}, "other than the decimal separator"),
    ],
)
def test_settings_refuse_what_would_write_unreadable_files(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("{", r"\{").replace("}", r"\}")):
        OrderExportSettings.model_validate({"outbox": "out", **options})
