"""Dolibarr as a status and invoice source against the fake: statuses from the order's statut
(Commande::STATUS_*), parcels from /shipments, refunds from credit notes (type 2, through
fk_facture_source), incremental on t.tms; validated invoices (types 0, 3, 2) of web orders with their
PDF (PUT /documents/builddoc then GET /documents/download), a PDF Dolibarr cannot build refused."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from connectors.base import InvoiceSource, StatusSource
from connectors.erp.dolibarr.connector import DolibarrConnector
from connectors.erp.dolibarr.feedback import order_status
from connectors.errors import Refused
from deployments.sandbox.fakes.dolibarr import FakeDolibarr
from deployments.sandbox.fakes.dolibarr.fake import NOW
from tests.contract.test_dolibarr_catalogue import erp
from tests.contract.test_dolibarr_orders import order


def web(fake: FakeDolibarr, shop_id: str = "42") -> tuple[DolibarrConnector, int]:
    connector = erp(fake, orders={"shop": "web"})
    ref = connector.import_order(order(shop_id, customer_id=f"c{shop_id}"), {"L1": "1"})
    connector.record_payment(ref, order(shop_id).payments[0])
    return connector, int(ref.erp_id)


def final_invoice(fake: FakeDolibarr, connector: DolibarrConnector, order_id: str) -> dict[str, object]:
    """The accountant's invoice of the order, deducting this order's deposit only."""
    invoice = connector.client.post(f"invoices/createfromorder/{order_id}")
    for discount in fake.discounts.values():
        source = fake.invoices[int(discount["fk_facture_source"])]
        if source["linkedObjectsIds"] == {"commande": {"1": order_id}}:
            connector.client.post(f"invoices/{invoice['id']}/usediscount/{discount['id']}")
    return connector.client.post(f"invoices/{invoice['id']}/validate", {"notrigger": 0})


def at(stamp: int) -> datetime:
    return datetime.fromtimestamp(stamp, tz=timezone.utc)


def test_rules() -> None:
    assert order_status("1", False, False) == "processing"
    assert order_status("1", True, False) == "shipped"
    assert order_status("2", False, False) == "shipped"
    assert order_status("3", True, False) == "delivered"
    assert order_status("-1", False, False) == "cancelled"
    assert order_status("3", True, True) == "refunded"


def test_statuses_shipments_and_refund() -> None:
    fake = FakeDolibarr()
    connector, first = web(fake, "42")
    _, second = web(fake, "43")
    assert isinstance(connector, StatusSource) and isinstance(connector, InvoiceSource)
    fake.orders[999] = dict(fake.orders[first], id="999", ref_ext="other:1")  # not this shop's: left out
    statuses = {s.shop_order_id: s for s in connector.iter_statuses(None)}
    assert {k: s.status for k, s in statuses.items()} == {"42": "processing", "43": "processing"}

    fake.clock = NOW + 3600
    fake.add_shipment(first, tracking="6A12345678901", method="Colissimo", lines={"PEER-SKU-001": "3"})
    since = at(NOW + 1800)
    (shipped,) = connector.iter_statuses(since)  # only the order whose shipment moved
    assert (shipped.shop_order_id, shipped.status, shipped.erp_reference) == ("42", "shipped", "CO2611-0001")
    (parcel,) = shipped.shipments
    assert (parcel.carrier, parcel.tracking_number, parcel.shipped_at) == ("Colissimo", "6A12345678901", at(NOW + 3600))
    assert [(line.sku, line.quantity) for line in parcel.lines] == [("PEER-SKU-001", Decimal(3))]
    assert shipped.changed_at == at(NOW + 3600)

    fake.clock = NOW + 7200
    fake.set_order_status(first, 3)
    invoice = final_invoice(fake, connector, str(second))
    fake.clock = NOW + 9000
    fake.add_credit_note(int(invoice["id"]), amount=str(Decimal(invoice["total_ttc"]) + 75))  # invoice + deposit
    got = {s.shop_order_id: s.status for s in connector.iter_statuses(at(NOW + 7000))}
    assert got == {"42": "delivered", "43": "refunded"}
    (only,) = connector.iter_statuses(None, ["43"])
    assert only.status == "refunded" and only.changed_at == at(NOW + 9000)
    fake.set_order_status(second, -1)
    assert {s.shop_order_id: s.status for s in connector.iter_statuses(None, ["42"])} == {"42": "delivered"}


def test_partial_credit_note_is_an_issue_not_a_refund() -> None:
    fake = FakeDolibarr()
    connector, oid = web(fake)
    invoice = final_invoice(fake, connector, str(oid))
    fake.add_credit_note(int(invoice["id"]), amount="10.00")
    (status,) = connector.iter_statuses(None)
    assert status.status == "processing"
    assert [i.check for i in status.issues] == ["partial_refund"]


def test_invoices_with_pdf_and_a_pdf_that_cannot_be_built() -> None:
    fake = FakeDolibarr()
    connector, oid = web(fake)
    invoice = final_invoice(fake, connector, str(oid))
    credit = fake.add_credit_note(int(invoice["id"]), amount="12.00")
    draft = connector.client.post(f"invoices/createfromorder/{oid}")  # a draft: never listed
    docs = list(connector.iter_invoices(None))
    assert [(d.number, d.kind, d.shop_order_id, d.total_tax_included) for d in docs] == [
        ("AC2611-0001", "invoice", "42", Decimal("75.00")),
        (invoice["ref"], "invoice", "42", Decimal(invoice["total_ttc"]).quantize(Decimal("0.01"))),
        (f"AV2611-{credit:04d}", "credit_note", "42", Decimal("-12.00")),
    ]
    assert draft["ref"] not in {d.number for d in docs}
    assert list(connector.iter_invoices(None, ["other"])) == []
    assert list(connector.iter_invoices(at(NOW + 1))) == []  # nothing changed since

    pdf = connector.render_pdf(docs[1])  # no document stored yet: Dolibarr builds it
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert [(r.method, r.url.path.rsplit("/", 2)[-1]) for r in fake.requests[-2:]] == [
        ("GET", "download"),
        ("PUT", "builddoc"),
    ]
    assert fake.requests[-1].read() and f"{invoice['ref']}/{invoice['ref']}.pdf" in fake.requests[-1].read().decode()
    fake.pdf_fails.add(docs[2].number)
    with pytest.raises(Refused) as refused:
        connector.render_pdf(docs[2])
    assert refused.value.error.check == "render" and "Error generating document" in refused.value.error.reason
    assert connector.render_pdf(docs[0]).startswith(b"%PDF-")  # the others go on


def test_the_pdf_already_issued_is_sent_as_it_is_never_rebuilt() -> None:
    """The customer gets the document Dolibarr issued (a rebuild could differ: a model or a
    customer's address changed since): the stored file is read, builddoc only when there is none."""
    fake = FakeDolibarr()
    connector, oid = web(fake)
    invoice = final_invoice(fake, connector, str(oid))
    issued = b"%PDF-1.4 the invoice as issued %%EOF"
    fake.documents[f"invoice/{invoice['ref']}/{invoice['ref']}.pdf"] = issued
    (doc,) = [d for d in connector.iter_invoices(None) if d.number == invoice["ref"]]
    before = len(fake.requests)

    assert connector.render_pdf(doc) == issued
    assert [r.url.path.rsplit("/", 1)[-1] for r in fake.requests[before:]] == ["download"]


def test_fake_document_rules() -> None:
    fake = FakeDolibarr()
    connector, _ = web(fake)
    client = connector.client
    for body, status in [({}, 400), ({"modulepart": "invoice"}, 400),
                         ({"modulepart": "invoice", "original_file": "NOPE/NOPE.pdf"}, 404)]:  # fmt: skip
        with pytest.raises(Exception) as exc:
            client.put("documents/builddoc", body)
        assert getattr(exc.value, "status", None) == status
    with pytest.raises(Exception) as exc:
        client.get("documents/download", {"modulepart": "invoice", "original_file": "AC2611-0001/AC2611-0001.pdf"})
    assert getattr(exc.value, "status", None) == 404  # not built yet
