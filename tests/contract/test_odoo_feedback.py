"""Odoo as a status and invoice source against the fake: web orders only, pickings, tracking, PDFs."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from connectors.base import InvoiceSource, StatusSource
from connectors.erp.odoo.feedback import order_status
from connectors.errors import Refused
from deployments.sandbox.fakes.odoo import OdooFake, seed_catalogue
from deployments.sandbox.fakes.odoo.catalog import ship, store_pdf
from tests.contract.test_odoo_orders import bound, connect, final_invoice, web_order


@pytest.fixture(params=[16, 18])
def fake(request: pytest.FixtureRequest) -> OdooFake:
    fake = OdooFake(version=request.param)
    fake.ids = seed_catalogue(fake)  # type: ignore[attr-defined]
    return fake


def test_status_rules() -> None:
    assert order_status("sale", []) == "processing"
    assert order_status("sale", [{"state": "done"}, {"state": "assigned"}]) == "processing"
    assert order_status("sale", [{"state": "done"}, {"state": "cancel"}]) == "shipped"
    assert order_status("cancel", [{"state": "done"}]) == "cancelled"


def test_statuses_of_web_orders_with_parcels_incremental(fake: OdooFake) -> None:
    sink = connect(fake)
    assert isinstance(sink, StatusSource) and isinstance(sink, InvoiceSource)
    shipped = sink.import_order(web_order("1"), bound(fake))
    sink.import_order(web_order("2"), bound(fake))
    partner = fake.seed("res.partner", name="Shop walk-in")
    fake.seed("sale.order", partner_id=partner, state="sale")  # not a web order
    ship(fake, int(shipped.erp_id), "6A123456789")
    statuses = {s.shop_order_id: s for s in sink.iter_statuses(None)}
    assert {k: s.status for k, s in statuses.items()} == {"1": "shipped", "2": "processing"}
    [parcel] = statuses["1"].shipments
    assert (parcel.carrier, parcel.tracking_number) == ("Colissimo", "6A123456789")
    # incremental: only what changed at or after ``since``
    fake.clock = lambda: datetime(2026, 6, 2, 8, tzinfo=timezone.utc)
    ship(fake, int(shipped.erp_id), None, state="assigned")  # a back order moves order 1 only
    later = list(sink.iter_statuses(datetime(2026, 6, 2, tzinfo=timezone.utc)))
    assert [(s.shop_order_id, s.status) for s in later] == [("1", "processing")]
    assert [s.shop_order_id for s in sink.iter_statuses(None, ["2"])] == ["2"]


def test_posted_invoices_of_web_orders_with_their_stored_pdf(fake: OdooFake) -> None:
    sink = connect(fake)
    order = web_order("7")
    ref = sink.import_order(order, bound(fake))
    deposit = int(sink.record_payment(ref, order.payments[0]))
    final = final_invoice(fake, int(ref.erp_id))
    invoices = list(sink.iter_invoices(None))
    assert [(i.erp_id, i.shop_order_id, i.kind, i.total_tax_included) for i in invoices] == [
        (str(deposit), "7", "invoice", Decimal("60.00"))
    ]  # the final invoice is still a draft
    assert final["amount_total"] == 0.0
    with pytest.raises(Refused, match="no PDF"):
        sink.render_pdf(invoices[0])
    store_pdf(fake, deposit)
    assert sink.render_pdf(invoices[0]).startswith(b"%PDF")
