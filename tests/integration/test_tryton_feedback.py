"""The Tryton connector as a status and invoice source, against a real Tryton 8.2 sandbox.

Web orders are imported as the order sink does it; then an operator ships, cancels, invoices and
credits them in Tryton (``tryton_ops``), and the connector must say what became of each order and
hand over the invoices, as PDFs rendered by Tryton (LibreOffice on the Tryton server).
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from connectors.base import InvoiceSource, StatusSource
from connectors.erp.tryton.client import TrytonClient
from connectors.erp.tryton.connector import TrytonConnector
from connectors.erp.tryton.factory import build
from connectors.erp.tryton.feedback import order_status, refund_cover, shipped_at
from connectors.erp.tryton.invoices import WebInvoice, invoice_kind, shop_order_id
from connectors.errors import Refused
from connectors.models import (
    Address,
    Customer,
    InvoiceDocument,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    Shipment,
    ShipmentLine,
)
from deployments.sandbox import tryton_ops as ops
from deployments.sandbox.tryton import TrytonSandbox
from tests.fixtures.system import soffice_or_skip

pytestmark = pytest.mark.integration

PASSWORD = "feedback-secret"
CENT = Decimal("0.01")
PRICES = {"F-MUG": Decimal("12.00"), "F-CAP": Decimal("15.00"), "F-SOCKS": Decimal("8.50")}
SHIPPING = Decimal("4.90")
VAT = Decimal(20)
CARRIER = "La Poste Colissimo"
MICROSECOND = timedelta(microseconds=1)
UTC = timezone.utc


def catalogue() -> dict[str, Any]:
    return {
        "templates": [
            {
                "code": code,
                "name": code,
                "list_price": str(price),
                "vat": "20",
                "categories": ["Web"],
                "attribute_set": None,
                "products": [{"suffix_code": "", "attributes": {}, "cost_price": "1.00"}],
            }
            for code, price in PRICES.items()
        ]
    }


class _Secrets:
    def secret(self, option: str) -> str | None:
        return PASSWORD

    def path(self, value: str) -> str:
        return value


@pytest.fixture(scope="module")
def soffice() -> dict[str, Any]:
    """LibreOffice for Tryton's PDF conversion, when this machine has it (tests never install it)."""
    return {"path": shutil.which("soffice")}


@pytest.fixture(scope="module")
def sandbox(
    tmp_path_factory: pytest.TempPathFactory, soffice: dict[str, Any]
) -> Iterator[tuple[TrytonSandbox, dict[str, int]]]:
    erp = TrytonSandbox(admin_password=PASSWORD, workdir=tmp_path_factory.mktemp("tryton-feedback"))
    erp.start()  # after LibreOffice: trytond finds soffice on its PATH when it converts
    try:
        summary = erp.seed(catalogue(), mode="orm")
        yield erp, {code: int(i) for code, i in summary["products"].items()}
    finally:
        erp.stop()


@pytest.fixture(scope="module")
def erp(sandbox: tuple[TrytonSandbox, dict[str, int]]) -> Iterator[TrytonConnector]:
    server, _ = sandbox
    options = {"url": server.url, "database": server.database, "login": server.login, "password": "env:X"}
    built = build(options, _Secrets())
    assert isinstance(built, TrytonConnector)
    yield built
    built.close()


@pytest.fixture(scope="module")
def client(sandbox: tuple[TrytonSandbox, dict[str, int]]) -> Iterator[TrytonClient]:
    """The operator's own session (distinct from the connector's)."""
    server, _ = sandbox
    operator = TrytonClient(server.url, server.database, login=server.login, password=PASSWORD)
    yield operator
    operator.close()


@pytest.fixture(scope="module")
def products(sandbox: tuple[TrytonSandbox, dict[str, int]]) -> dict[str, int]:
    return sandbox[1]


@pytest.fixture(scope="module")
def pdf_invoices(client: TrytonClient) -> None:
    """The invoice report set to PDF before any invoice of these tests is posted (Tryton converts
    and stores the document when it posts)."""
    ops.invoice_report_extension(client, "pdf")


# -- web orders ---------------------------------------------------------------------------------------

_ids = itertools.count(1)
PARIS = Address("Jeanne", "Martin", "3 rue des Lilas", "75011", "Paris", "FR")


def web_order(items: Sequence[tuple[str, int]], *, payment: str = "pending") -> Order:
    """An order at 20 % VAT, placed now (deposit and final invoices then date from today, in
    sequence), paid online (``settled``: a deposit) or on delivery (``pending``: none)."""
    n = next(_ids)
    lines = []
    for index, (sku, quantity) in enumerate(items):
        total = PRICES[sku] * quantity
        lines.append(OrderLine(f"F{n}-{index}", sku, sku, Decimal(quantity), PRICES[sku], VAT, total, _incl(total)))
    base = sum((line.total for line in lines), SHIPPING)
    total_incl = _incl(base)
    now = datetime.now(UTC)
    return Order(
        shop_id=f"fb{n}",
        reference=f"WEB-FB{n:04d}",
        state="PaymentSettled",
        created_at=now,
        updated_at=now,
        currency="EUR",
        customer=Customer(f"feedback{n}@example.com", shop_id=f"fbc{n}", first_name="Jeanne", last_name="Martin"),
        billing=PARIS,
        shipping=PARIS,
        lines=lines,
        total=base,
        total_tax_included=total_incl,
        shipping_method="Colissimo",
        shipping_price=SHIPPING,
        shipping_price_tax_included=_incl(SHIPPING),
        shipping_vat_rate=VAT,
        payments=[Payment("card", total_incl, payment, f"fb-tx-{n}")],
    )


def _incl(amount: Decimal) -> Decimal:
    return amount + (amount * VAT / 100).quantize(CENT, ROUND_HALF_UP)


def imported(erp: TrytonConnector, products: dict[str, int], order: Order) -> int:
    """Import ``order`` (and record its payment when settled); the sale id."""
    ref = erp.import_order(order, {line.line_id: str(products[line.sku or ""]) for line in order.lines})
    if order.payments[0].state == "settled":
        erp.record_payment(ref, order.payments[0])
    return int(ref.erp_id)


def by_order(statuses: Sequence[OrderStatus]) -> dict[str, OrderStatus]:
    return {s.shop_order_id: s for s in statuses}


def sale_number(client: TrytonClient, sale_id: int) -> str:
    (row,) = client.model("sale.sale").read([sale_id], ["number"])
    return str(row["number"])


# -- pure rules --------------------------------------------------------------------------------------


def test_status_and_invoice_rules() -> None:
    def status(**changes: Any) -> str:
        facts: dict[str, Any] = {
            "sale_state": "processing",
            "shipment_state": "waiting",
            "move_states": ["draft"],
            "shipped": False,
            "refunded": False,
        }
        return order_status(**{**facts, **changes})

    assert status() == "processing"
    assert status(shipped=True, shipment_state="partially shipped") == "shipped"
    assert status(sale_state="cancelled") == "cancelled"
    # Shipments cancelled: cancelled once the exception is handled (moves ignored), not before.
    assert status(move_states=["cancelled"], shipment_state="none", sale_state="done") == "cancelled"
    assert status(move_states=["cancelled"], shipment_state="exception") == "processing"
    assert status(move_states=["cancelled", "done"], shipment_state="sent", shipped=True) == "shipped"
    assert status(refunded=True, shipped=True) == "refunded"
    assert "delivered" not in {status(shipped=True, sale_state="done", shipment_state="sent")}

    def invoice(total: str, kind: str) -> WebInvoice:
        posted = datetime(2026, 5, 4, tzinfo=UTC)
        return WebInvoice(1, "1", "posted", kind, Decimal(total), "EUR", posted, ("vendure:1",))

    # A prepaid order: deposit 30, final 0, its deposit credited: refunded.
    assert refund_cover([invoice("30", "invoice"), invoice("0", "invoice"), invoice("-30", "credit_note")]).refunded
    partial = refund_cover([invoice("30", "invoice"), invoice("-10", "credit_note")])
    assert (partial.refunded, partial.partial, partial.credited) == (False, True, Decimal(10))
    # A credit note credited in turn (an invoice again): no longer refunded.
    assert not refund_cover(
        [invoice("30", "invoice"), invoice("-30", "credit_note"), invoice("30", "invoice")]
    ).refunded
    assert not refund_cover([invoice("30", "invoice")]).refunded

    assert invoice_kind(Decimal("-1"), ["sale.line,1"]) == "credit_note"
    assert invoice_kind(Decimal(0), ["account.invoice.line,4", "account.invoice.line,5"]) == "credit_note"
    # A final invoice of a prepaid order: goods less the deposit's recall line, 0 in all.
    assert invoice_kind(Decimal(0), ["sale.line,1", "account.invoice.line,4"]) == "invoice"
    assert invoice_kind(Decimal(30), ["account.invoice.line,4"]) == "invoice"

    done = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)  # the 29th in Paris
    assert shipped_at(date(2026, 3, 29), done, "Europe/Paris") == done
    assert shipped_at(date(2026, 3, 27), done, "Europe/Paris") == datetime(2026, 3, 26, 23, 0, tzinfo=UTC)
    assert shipped_at(None, done, "Europe/Paris") == done

    assert shop_order_id("vendure", "vendure:42") == "42"
    assert shop_order_id("vendure", "shop2:42") is None
    assert shop_order_id("vendure", "vendure:") is None
    assert shop_order_id("vendure", None) is None


# -- statuses ----------------------------------------------------------------------------------------


def test_statuses_follow_shipping_and_cancelling(
    erp: TrytonConnector, client: TrytonClient, products: dict[str, int]
) -> None:
    assert isinstance(erp, StatusSource)
    shipped_order, waiting_order, cancelled_order = (
        web_order([("F-MUG", 2), ("F-CAP", 1)]),
        web_order([("F-SOCKS", 1)]),
        web_order([("F-CAP", 1)]),
    )
    shipped_id, waiting_id, cancelled_id = (
        imported(erp, products, o) for o in (shipped_order, waiting_order, cancelled_order)
    )
    ops.ship_with_tracking(client, shipped_id, "6A00000000011")
    ops.cancel_sale(client, cancelled_id)
    ops.reserve(client, "F-MUG", "WH", 1)  # a sale that is no web order

    ids = [shipped_order.shop_id, waiting_order.shop_id, cancelled_order.shop_id, "never-imported"]
    statuses = list(erp.iter_statuses(None, ids))
    assert [s.changed_at for s in statuses] == sorted(s.changed_at for s in statuses)
    found = by_order(statuses)
    assert sorted(found) == sorted(ids[:3])
    assert {s: found[s].status for s in found} == {
        shipped_order.shop_id: "shipped",
        waiting_order.shop_id: "processing",
        cancelled_order.shop_id: "cancelled",
    }
    shipped = found[shipped_order.shop_id]
    assert shipped.erp_reference == sale_number(client, shipped_id)
    (parcel,) = shipped.shipments
    assert (parcel.carrier, parcel.tracking_number, parcel.tracking_url) == (CARRIER, "6A00000000011", None)
    assert parcel.lines == [ShipmentLine("F-MUG", Decimal(2)), ShipmentLine("F-CAP", Decimal(1))]
    assert parcel.shipped_at is not None and parcel.shipped_at <= shipped.changed_at
    assert parcel.shipped_at > datetime.now(UTC) - timedelta(minutes=10)
    assert found[waiting_order.shop_id].shipments == [] and found[cancelled_order.shop_id].shipments == []
    assert all(s.changed_at.tzinfo is not None and s.issues == [] for s in statuses)

    # Every web sale and nothing else: the reservation (no shop reference) never comes out.
    everything = list(erp.iter_statuses(None))
    web = client.model("sale.sale").search_count([("reference", "like", "vendure:%")])
    assert len(everything) == web >= 3
    assert by_order(everything)[waiting_order.shop_id] == found[waiting_order.shop_id]
    assert list(erp.iter_statuses(None, [waiting_order.shop_id])) == [found[waiting_order.shop_id]]
    assert list(erp.iter_statuses(None, [])) == []

    # Nothing changed since the last change: nothing, in two calls.
    last = max(s.changed_at for s in everything)
    calls = erp.client.stats.calls
    assert list(erp.iter_statuses(last + MICROSECOND)) == []
    assert erp.client.stats.calls - calls == 2
    assert [s.changed_at for s in erp.iter_statuses(last)] == [last]  # since is included

    # The waiting order leaves with another carrier, its reference on the shipment: it alone
    # comes out, in five calls (credit notes, sales, then read sales, shipments, invoices).
    ops.ship_with_tracking(client, waiting_id, "DPD-778899", carrier="DPD France", on="shipment")
    calls = erp.client.stats.calls
    (now_shipped,) = erp.iter_statuses(last + MICROSECOND)
    assert erp.client.stats.calls - calls == 5
    assert (now_shipped.shop_order_id, now_shipped.status) == (waiting_order.shop_id, "shipped")
    (shipment_id,) = client.model("sale.sale").read([waiting_id], ["shipments"])[0]["shipments"]
    assert now_shipped.shipments == [
        Shipment(
            erp_id=str(shipment_id),
            carrier="DPD France",
            tracking_number="DPD-778899",
            shipped_at=now_shipped.shipments[0].shipped_at,
            lines=[ShipmentLine("F-SOCKS", Decimal(1))],
        )
    ]
    assert now_shipped.changed_at > last


def test_a_partial_shipment_is_shipped_with_what_left(
    erp: TrytonConnector, client: TrytonClient, products: dict[str, int]
) -> None:
    order = web_order([("F-MUG", 3), ("F-CAP", 1)])
    sale_id = imported(erp, products, order)
    first = ops.ship_with_tracking(client, sale_id, "PART-1", quantities={"F-MUG": 1})
    (status,) = erp.iter_statuses(None, [order.shop_id])
    assert status.status == "shipped"
    (parcel,) = status.shipments
    assert (parcel.erp_id.split("/")[0], parcel.tracking_number) == (str(first[0]), "PART-1")
    assert parcel.lines == [ShipmentLine("F-MUG", Decimal(1)), ShipmentLine("F-CAP", Decimal(1))]

    # The backorder, handed over to the carrier only (Tryton's Ship step): a second parcel.
    second = ops.ship_with_tracking(client, sale_id, "PART-2", done=False)
    (shipment,) = client.model("stock.shipment.out").read(second, ["state", "effective_date"])
    assert (shipment["state"], shipment["effective_date"]) == ("shipped", None)
    (later,) = erp.iter_statuses(status.changed_at + MICROSECOND, [order.shop_id])
    assert later.status == "shipped"
    assert [(p.tracking_number, p.lines) for p in later.shipments] == [
        ("PART-1", [ShipmentLine("F-MUG", Decimal(1)), ShipmentLine("F-CAP", Decimal(1))]),
        ("PART-2", [ShipmentLine("F-MUG", Decimal(2))]),
    ]
    assert later.shipments[1].shipped_at is not None and later.shipments[1].shipped_at <= later.changed_at


# -- invoices ------------------------------------------------------------------------------------------


def test_invoices_and_credit_notes_of_web_orders(
    erp: TrytonConnector, client: TrytonClient, products: dict[str, int], pdf_invoices: None
) -> None:
    assert isinstance(erp, InvoiceSource)
    invoices = client.model("account.invoice")

    # Paid online: deposit posted and paid; shipped: final invoice (goods less the deposit) posted;
    # then the deposit credited with the Credit wizard.
    prepaid = web_order([("F-MUG", 1), ("F-SOCKS", 2)], payment="settled")
    prepaid_id = imported(erp, products, prepaid)
    final = ops.final_invoice(client, prepaid_id)
    invoices.post([final["id"]])
    (deposit_id,) = client.model("sale.sale").read([prepaid_id], ["advance_payment_invoices"])[0][
        "advance_payment_invoices"
    ]
    credit_id = ops.credit_invoice(client, deposit_id)

    # Cash on delivery: invoiced when processed, shipped, then all returned (Sale > Return).
    on_delivery = web_order([("F-CAP", 2)])
    on_delivery_id = imported(erp, products, on_delivery)
    ops.ship_with_tracking(client, on_delivery_id, "6A00000000099")
    (invoice_id,) = client.model("sale.sale").read([on_delivery_id], ["invoices"])[0]["invoices"]
    invoices.post([invoice_id])
    returned = ops.return_sale(client, on_delivery_id)

    documents = list(erp.iter_invoices(None, [prepaid.shop_id, on_delivery.shop_id]))
    numbers = {int(r["id"]): r["number"] for r in invoices.read([int(d.erp_id) for d in documents], ["number"])}
    total = prepaid.total_tax_included
    assert [(d.shop_order_id, int(d.erp_id), d.kind, d.total_tax_included) for d in documents] == [
        (prepaid.shop_id, deposit_id, "invoice", total),
        (prepaid.shop_id, final["id"], "invoice", Decimal(0)),
        (prepaid.shop_id, credit_id, "credit_note", -total),
        (on_delivery.shop_id, invoice_id, "invoice", on_delivery.total_tax_included),
        (on_delivery.shop_id, returned["credit_note"], "credit_note", -on_delivery.total_tax_included),
    ]
    assert all(d.number == numbers[int(d.erp_id)] and d.currency == "EUR" for d in documents)
    assert [d.posted_at for d in documents] == sorted(d.posted_at for d in documents)
    assert all(d.posted_at.tzinfo is not None for d in documents)

    # Filtered by order, and by posting time (included).
    assert [d.erp_id for d in erp.iter_invoices(None, [prepaid.shop_id])] == [d.erp_id for d in documents[:3]]
    assert list(erp.iter_invoices(documents[-1].posted_at)) == documents[-1:]
    assert list(erp.iter_invoices(documents[-1].posted_at + MICROSECOND)) == []
    assert list(erp.iter_invoices(None, ["never-imported"])) == []

    # Both orders are refunded: the credit notes cover what was invoiced.
    statuses = by_order(erp.iter_statuses(None, [prepaid.shop_id, on_delivery.shop_id]))
    assert {k: s.status for k, s in statuses.items()} == {prepaid.shop_id: "refunded", on_delivery.shop_id: "refunded"}
    assert statuses[prepaid.shop_id].changed_at >= documents[2].posted_at
    assert statuses[on_delivery.shop_id].shipments[0].tracking_number == "6A00000000099"
    # The credit note alone makes its order come out of an incremental read.
    since = max(s.changed_at for s in erp.iter_statuses(None)) + MICROSECOND
    late = web_order([("F-SOCKS", 1)])
    late_id = imported(erp, products, late)
    (late_invoice,) = client.model("sale.sale").read([late_id], ["invoices"])[0]["invoices"]
    invoices.post([late_invoice])
    credit = ops.credit_invoice(client, late_invoice)
    refunded = [s for s in erp.iter_statuses(since) if s.shop_order_id == late.shop_id]
    assert [s.status for s in refunded] == ["refunded"]
    assert [d.erp_id for d in erp.iter_invoices(since, [late.shop_id])] == [str(late_invoice), str(credit)]


def test_render_pdf(
    erp: TrytonConnector, client: TrytonClient, products: dict[str, int], pdf_invoices: None, soffice: dict[str, Any]
) -> None:
    soffice_or_skip()
    order = web_order([("F-MUG", 2)], payment="settled")
    sale_id = imported(erp, products, order)
    final = ops.final_invoice(client, sale_id)
    client.model("account.invoice").post([final["id"]])
    documents = list(erp.iter_invoices(None, [order.shop_id]))
    assert [d.kind for d in documents] == ["invoice", "invoice"]
    for document in documents:
        pdf = erp.render_pdf(document)
        assert pdf.startswith(b"%PDF-") and len(pdf) > 5000
        # Tryton stored the document when it posted the invoice: the same bytes every time.
        assert erp.render_pdf(document) == pdf


def test_a_render_failure_is_refused_naming_the_invoice(
    erp: TrytonConnector, client: TrytonClient, products: dict[str, int], pdf_invoices: None
) -> None:
    # Posted while the report still gave ODT (a Tryton without the PDF setting, or without
    # LibreOffice): Tryton keeps that ODT for good.
    previous = ops.invoice_report_extension(client, "")
    try:
        order = web_order([("F-CAP", 1)], payment="settled")
        imported(erp, products, order)
    finally:
        ops.invoice_report_extension(client, previous)
    (document,) = erp.iter_invoices(None, [order.shop_id])
    with pytest.raises(Refused) as refused:
        erp.render_pdf(document)
    error = refused.value.error
    assert (error.key, error.field) == (document.erp_id, "pdf")
    assert "'odt'" in error.reason and f"invoice {document.number} " in error.reason
    assert "Refresh Invoice Report" in error.reason

    missing = InvoiceDocument("999999", "X-1", "invoice", "nowhere", datetime.now(UTC), "EUR", Decimal(1))
    with pytest.raises(Refused) as refused:
        erp.render_pdf(missing)
    assert refused.value.error.key == "999999" and "999999" in refused.value.error.reason
