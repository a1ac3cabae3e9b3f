"""The Tryton connector as an order sink, against a real Tryton 8.2 sandbox.

A canonical web order must become one confirmed sale with Tryton's own taxes and the shop's
total, its customer matched or created; a settled payment a posted and paid deposit invoice,
which the final invoice deducts.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from connectors.base import ErpOrderRef, OrderSink
from connectors.erp.tryton.client import TrytonClient
from connectors.erp.tryton.connector import TrytonConnector
from connectors.erp.tryton.factory import build
from connectors.erp.tryton.orders import OrderRefused, discount_shares, net_unit_price, total_adjustment
from connectors.errors import Fatal, Skip
from connectors.models import Address, Customer, Discount, Order, OrderLine, Payment
from deployments.sandbox import tryton_ops as ops
from deployments.sandbox.tryton import TrytonSandbox
from tests.fixtures.catalogues import web_catalogue

pytestmark = pytest.mark.integration

PASSWORD = "orders-secret"
CENT = Decimal("0.01")
PRICES = {
    "O-TSH-RED-M": ("19.90", "20"),
    "O-TSH-BLUE-L": ("19.90", "20"),
    "O-BOOK": ("29.90", "5.5"),
    "O-MUG": ("12.00", "20"),
}
SHIPPING = (Decimal("4.90"), Decimal("20"))


class _Secrets:
    def secret(self, option: str) -> str | None:
        return PASSWORD

    def path(self, value: str) -> str:
        return value


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TrytonSandbox, dict[str, int]]]:
    erp = TrytonSandbox(admin_password=PASSWORD, workdir=tmp_path_factory.mktemp("tryton-orders"))
    erp.start()
    try:
        summary = erp.seed(web_catalogue("O"), mode="orm")
        yield erp, {code: int(i) for code, i in summary["products"].items()}
    finally:
        erp.stop()


@pytest.fixture(scope="module")
def erp(sandbox: tuple[TrytonSandbox, dict[str, int]]) -> TrytonConnector:
    server, _ = sandbox
    options = {"url": server.url, "database": server.database, "login": server.login, "password": "env:X"}
    built = build(options, _Secrets())
    assert isinstance(built, TrytonConnector)
    return built


@pytest.fixture(scope="module")
def client(sandbox: tuple[TrytonSandbox, dict[str, int]]) -> TrytonClient:
    """The operator's own session (distinct from the connector's)."""
    server, _ = sandbox
    return TrytonClient(server.url, server.database, login=server.login, password=PASSWORD)


@pytest.fixture(scope="module")
def products(sandbox: tuple[TrytonSandbox, dict[str, int]]) -> dict[str, int]:
    return sandbox[1]


# -- canonical orders, with the totals a shop computes ---------------------------------------------

_ids = itertools.count(1)
PARIS = Address("Jeanne", "Martin", "3 rue des Lilas", "75011", "Paris", "FR")
LYON = Address("Paul", "Martin", "2 place du Marché", "69001", "Lyon", "FR", street2="Bâtiment B")
BERLIN = Address("Lena", "Schmidt", "Torstraße 1", "10119", "Berlin", "DE")


def web_order(
    items: Sequence[tuple[Any, ...]],
    *,
    customer: Customer | None = None,
    billing: Address | None = PARIS,
    shipping: Address | None = PARIS,
    payment: str | None = "settled",
    discounts: Sequence[tuple[str, str]] = (),
    free_shipping: bool = False,
    total_offset: Decimal = Decimal(0),
    vat: str | None = None,
) -> Order:
    """An order whose totals are right (VAT per rate on the rate's base, as Tryton rounds).

    ``items``: (sku, quantity[, line discount]); ``discounts``: (label, tax-excluded amount),
    shared over the VAT rates in proportion, as the shop does; ``vat``: the rate the shop charged
    on every line and the shipping (a destination country's VAT), else each article's.
    """
    n = next(_ids)
    shipping_rate = Decimal(vat) if vat is not None else SHIPPING[1]
    lines: list[OrderLine] = []
    bases: dict[Decimal, Decimal] = {}
    for index, item in enumerate(items):
        sku, quantity = str(item[0]), Decimal(item[1])
        line_discount = Decimal(item[2]) if len(item) > 2 else Decimal(0)
        price, rate = (Decimal(v) for v in PRICES[sku])
        rate = Decimal(vat) if vat is not None else rate
        total = price * quantity - line_discount
        bases[rate] = bases.get(rate, Decimal(0)) + total
        lines.append(
            OrderLine(
                f"L{n}-{index}",
                sku,
                f"{sku} (web)",
                quantity,
                price,
                rate,
                total,
                _incl(total, rate),
                discount=line_discount,
            )
        )
    order_discounts = []
    for label, amount in discounts:
        shares = discount_shares(Decimal(amount), bases, CENT)
        for rate, share in shares.items():
            bases[rate] -= share
        incl = sum((_incl(share, rate) for rate, share in shares.items()), Decimal(0))
        order_discounts.append(Discount(label, Decimal(amount), incl, code="WELCOME"))
    if free_shipping:  # a shipping discount: the shipping's base goes, at the shipping's rate
        order_discounts.append(
            Discount("Free shipping", SHIPPING[0], _incl(SHIPPING[0], shipping_rate), code="FREESHIP")
        )
    else:
        bases[shipping_rate] = bases.get(shipping_rate, Decimal(0)) + SHIPPING[0]
    total = sum(bases.values(), Decimal(0))
    total_incl = sum((_incl(base, rate) for rate, base in bases.items()), Decimal(0)) + total_offset
    created = datetime(2026, 3, 28, 23, 30, tzinfo=timezone.utc) + timedelta(minutes=n)
    payments = [Payment("card", total_incl, payment, f"tx-{n}")] if payment else []
    return Order(
        shop_id=f"o{n}",
        reference=f"WEB{n:05d}",
        state="PaymentSettled",
        created_at=created,
        updated_at=created,
        currency="EUR",
        customer=customer
        or Customer(f"buyer{n}@example.com", shop_id=f"c{n}", first_name="Jeanne", last_name="Martin"),
        billing=billing,
        shipping=shipping,
        lines=lines,
        total=total,
        total_tax_included=total_incl,
        shipping_method="Colissimo",
        shipping_price=SHIPPING[0],
        shipping_price_tax_included=_incl(SHIPPING[0], shipping_rate),
        shipping_vat_rate=shipping_rate,
        discounts=order_discounts,
        payments=payments,
    )


def _incl(amount: Decimal, rate: Decimal) -> Decimal:
    return amount + (amount * rate / 100).quantize(CENT, ROUND_HALF_UP)


def bindings(order: Order, products: dict[str, int]) -> dict[str, str]:
    return {line.line_id: str(products[line.sku or ""]) for line in order.lines}


def sale(client: TrytonClient, ref: ErpOrderRef) -> dict[str, Any]:
    (row,) = client.model("sale.sale").read(
        [int(ref.erp_id)],
        [
            "id",
            "state",
            "number",
            "reference",
            "description",
            "comment",
            "sale_date",
            "party",
            "invoice_address",
            "shipment_address",
            "warehouse.code",
            "advance_payment_term.name",
            "advance_payment_invoices",
            "carrier",
            "total_amount",
            "untaxed_amount",
            "lines.product.code",
            "lines.quantity",
            "lines.unit_price",
            "lines.amount",
            "lines.taxes.rate",
            "lines.description",
        ],
    )
    return row


def party(client: TrytonClient, party_id: int | str) -> dict[str, Any]:
    (row,) = client.model("party.party").read(
        [int(party_id)],
        [
            "id",
            "name",
            "identifiers.type",
            "identifiers.code",
            "identifiers.address",
            "addresses.street_unstructured",
            "addresses.postal_code",
            "addresses.city",
            "addresses.country.code",
            "addresses.party_name",
            "contact_mechanisms.type",
            "contact_mechanisms.value",
        ],
    )
    return row


def rates(line: dict[str, Any]) -> list[Decimal]:
    return [(t["rate"] * 100).normalize() for t in line["taxes."]]


# -- pure rules ------------------------------------------------------------------------------------


def test_pure_rules() -> None:
    line = OrderLine("l", "S", "S", Decimal(3), Decimal("19.90"), Decimal(20), Decimal("58.70"), Decimal("70.44"))
    assert net_unit_price(replace(line, discount=Decimal("1.00"))) == Decimal("19.5667")
    assert net_unit_price(line) == Decimal("19.9000")
    assert discount_shares(Decimal("10"), {"a": Decimal("39.80"), "b": Decimal("29.90")}, CENT) == {
        "a": Decimal("5.71"),
        "b": Decimal("4.29"),
    }
    assert discount_shares(Decimal("10"), {"a": Decimal(0)}, CENT) == {}
    assert total_adjustment("o", Decimal("10.00"), Decimal("10.02"), Decimal("0.05")) == Decimal("0.02")
    with pytest.raises(OrderRefused) as refused:
        total_adjustment("o", Decimal("10.00"), Decimal("15.00"), Decimal("0.05"))
    assert "10.00" in str(refused.value) and "15.00" in str(refused.value)


# -- against Tryton --------------------------------------------------------------------------------


def test_paid_order_becomes_one_confirmed_sale_and_its_deposit_is_paid_once(
    erp: TrytonConnector, client: TrytonClient, products: dict[str, int]
) -> None:
    assert isinstance(erp, OrderSink)
    order = web_order([("O-TSH-RED-M", 2), ("O-BOOK", 1)])
    ref = erp.import_order(order, bindings(order, products))

    row = sale(client, ref)
    assert ref.total_tax_included == row["total_amount"] == order.total_tax_included
    assert (ref.reference, ref.customer_id) == (row["number"], str(row["party"]))
    assert row["state"] == "processing"  # confirmed, and processed at once (no queue worker)
    assert (row["reference"], row["description"]) == (f"vendure:{order.shop_id}", order.reference)
    assert row["warehouse."]["code"] == "WH"
    assert row["advance_payment_term."]["name"] == "Web order paid"
    assert row["carrier"] is not None
    assert str(row["sale_date"]) == "2026-03-29"  # 23:31 UTC is the 29th in Paris
    assert row["untaxed_amount"] == order.total
    lines = [(li["product."]["code"], li["quantity"], li["unit_price"], rates(li)) for li in row["lines."]]
    assert lines == [
        ("O-TSH-RED-M", 2.0, Decimal("19.9000"), [Decimal(20)]),
        ("O-BOOK", 1.0, Decimal("29.9000"), [Decimal("5.5")]),
        ("SHIP-COLISSIMO", 1.0, Decimal("4.9000"), [Decimal(20)]),
    ]
    assert order.issues == []

    # Found by its shop id; imported again, the same sale.
    assert erp.find_orders([order.shop_id, "never-imported"]) == {order.shop_id: ref}
    assert erp.import_order(order, bindings(order, products)) == ref
    assert client.model("sale.sale").search_count([("reference", "=", f"vendure:{order.shop_id}")]) == 1

    # The deposit: drafted by processing, posted and paid by record_payment, once.
    (deposit_id,) = row["advance_payment_invoices"]
    (deposit,) = client.model("account.invoice").read([deposit_id], ["state", "total_amount"])
    assert (deposit["state"], deposit["total_amount"]) == ("draft", order.total_tax_included)
    paid = erp.record_payment(ref, order.payments[0])
    assert paid == str(deposit_id)
    assert erp.record_payment(ref, order.payments[0]) == paid
    (deposit,) = client.model("account.invoice").read(
        [deposit_id], ["state", "total_amount", "payment_lines", "payment_lines.move.description"]
    )
    assert deposit["state"] == "paid" and len(deposit["payment_lines"]) == 1
    assert "tx-" in deposit["payment_lines."][0]["move."]["description"]

    # The final invoice, once shipped: the order's total less the deposit (a recall line).
    final = ops.final_invoice(client, int(ref.erp_id))
    assert final["recall"] == [-deposit["total_amount"]]
    assert final["total"] == row["total_amount"] - deposit["total_amount"] == 0


def test_a_repeat_buyer_stays_one_party(erp: TrytonConnector, client: TrytonClient, products: dict[str, int]) -> None:
    buyer = Customer("Repeat.Buyer@example.com", shop_id="c-repeat", first_name="Rémi", last_name="Dupont")
    first = web_order([("O-MUG", 1)], customer=buyer)
    # Same e-mail in another case, as a guest: matched by e-mail.
    second = web_order([("O-MUG", 2)], customer=replace(buyer, email="repeat.buyer@EXAMPLE.com", shop_id=None))
    # Same shop customer with a new e-mail, shipped elsewhere: matched by the shop id.
    third = web_order([("O-MUG", 1)], customer=replace(buyer, email="remi@example.org"), shipping=LYON)
    refs = [erp.import_order(o, bindings(o, products)) for o in (first, second, third)]
    assert len({r.customer_id for r in refs}) == 1
    assert client.model("party.party").search_count([("name", "=", "Rémi Dupont")]) == 1
    found = party(client, refs[0].customer_id or 0)
    assert [(i["type"], i["code"]) for i in found["identifiers."]] == [(None, "vendure:c-repeat")]
    # Paris reused by the second order; Lyon added by the third, with its recipient.
    streets = sorted(a["street_unstructured"] for a in found["addresses."])
    assert streets == ["2 place du Marché\nBâtiment B", "3 rue des Lilas"]
    lyon = next(a for a in found["addresses."] if a["city"] == "Lyon")
    assert lyon["party_name"] == "Paul Martin"
    rows = [sale(client, r) for r in refs]
    assert rows[0]["shipment_address"] == rows[1]["shipment_address"] != rows[2]["shipment_address"]
    assert rows[2]["shipment_address"] == lyon["id"]


def test_a_guest_gets_a_party_with_its_addresses(
    erp: TrytonConnector, client: TrytonClient, products: dict[str, int]
) -> None:
    guest = Customer("guest.only@example.com", first_name="Ana", last_name="Costa", phone="+33 6 12 34 56 78")
    order = web_order([("O-TSH-BLUE-L", 1)], customer=guest, billing=PARIS, shipping=LYON)
    ref = erp.import_order(order, bindings(order, products))
    row = sale(client, ref)
    found = party(client, row["party"])
    assert found["name"] == "Ana Costa" and found["identifiers."] == []
    mechanisms = {(m["type"], m["value"]) for m in found["contact_mechanisms."]}
    assert ("email", "guest.only@example.com") in mechanisms and ("phone", "+33 6 12 34 56 78") in mechanisms
    addresses = {a["id"]: a for a in found["addresses."]}
    assert addresses[row["invoice_address"]]["city"] == "Paris"
    assert addresses[row["invoice_address"]]["party_name"] == "Jeanne Martin"  # the billing name
    assert addresses[row["shipment_address"]]["city"] == "Lyon"
    assert addresses[row["shipment_address"]]["country."]["code"] == "FR"
    assert row["total_amount"] == order.total_tax_included


def test_a_company_with_vat_number_and_siret(
    erp: TrytonConnector, client: TrytonClient, products: dict[str, int]
) -> None:
    company = Customer(
        "achats@atelier.example",
        shop_id="c-atelier",
        company="Atelier Lumière",
        vat_number="FR40303265045",
        siret="73282932000074",
        first_name="Luc",
        last_name="Bernard",
    )
    order = web_order([("O-MUG", 6)], customer=company, billing=replace(PARIS, company="Atelier Lumière"))
    ref = erp.import_order(order, bindings(order, products))
    found = party(client, ref.customer_id or 0)
    assert found["name"] == "Atelier Lumière"
    identifiers = {i["type"]: i for i in found["identifiers."]}
    assert identifiers["eu_vat"]["code"].replace(" ", "") == "FR40303265045"
    assert identifiers["fr_siret"]["code"].replace(" ", "") == "73282932000074"
    assert identifiers["fr_siret"]["address"] == sale(client, ref)["invoice_address"]
    assert order.issues == []

    # A VAT number Tryton refuses does not lose the order: a note, the comment, order.issues,
    # each naming the field and Tryton's rule, none repeating the customer's number or name.
    wrong = replace(company, shop_id="c-wrong-vat", company="Atelier Faux", vat_number="FR12345678901", siret=None)
    refused = web_order([("O-MUG", 1)], customer=replace(wrong, email="faux@atelier.example"))
    ref = erp.import_order(refused, bindings(refused, products))
    assert sale(client, ref)["state"] == "processing"
    [issue] = refused.issues
    assert issue.field == "customer.vat_number" and "not valid" in issue.reason
    notes = client.model("ir.note").search_read([("resource", "=", f"party.party,{ref.customer_id}")], ["message"])
    comment = sale(client, ref)["comment"]
    assert len(notes) == 1 and "customer.vat_number" in notes[0]["message"] and "customer.vat_number" in comment
    for text in (issue.reason, notes[0]["message"], comment):
        assert "FR12345678901" not in text and "Atelier Faux" not in text
    assert [i["type"] for i in party(client, ref.customer_id or 0)["identifiers."]] == [None]


def test_a_payment_settled_later_gets_its_deposit_then(
    erp: TrytonConnector, client: TrytonClient, products: dict[str, int]
) -> None:
    order = web_order([("O-BOOK", 2)], payment="authorized")
    ref = erp.import_order(order, bindings(order, products))
    row = sale(client, ref)
    assert row["advance_payment_term."]["name"] == "Web order paid"
    (deposit_id,) = row["advance_payment_invoices"]
    with pytest.raises(Skip):
        erp.record_payment(ref, order.payments[0])  # authorised only: nothing to book yet
    (deposit,) = client.model("account.invoice").read([deposit_id], ["state"])
    assert deposit["state"] == "draft"
    settled = replace(order.payments[0], state="settled", paid_at=order.created_at + timedelta(days=2))
    assert erp.record_payment(ref, settled) == str(deposit_id)
    (deposit,) = client.model("account.invoice").read([deposit_id], ["state"])
    assert deposit["state"] == "paid"

    # Paid in two parts (gift card, then card): a partial payment, then the rest.
    split = web_order([("O-MUG", 1)])
    ref = erp.import_order(split, bindings(split, products))
    total = split.total_tax_included
    gift = Payment("gift-card", Decimal("5.00"), "settled", "gift-1")
    card = Payment("card", total - gift.amount, "settled", "card-1")
    deposit_id = int(erp.record_payment(ref, gift))
    assert erp.record_payment(ref, gift) == str(deposit_id)
    (deposit,) = client.model("account.invoice").read([deposit_id], ["state", "amount_to_pay"])
    assert (deposit["state"], deposit["amount_to_pay"]) == ("posted", card.amount)
    assert erp.record_payment(ref, card) == str(deposit_id)
    (deposit,) = client.model("account.invoice").read([deposit_id], ["state", "payment_lines"])
    assert deposit["state"] == "paid" and len(deposit["payment_lines"]) == 2

    # Cash on delivery (pending): Tryton's default terms, no deposit to pay.
    cod = web_order([("O-MUG", 1)], payment="pending")
    ref = erp.import_order(cod, bindings(cod, products))
    assert sale(client, ref)["advance_payment_term."] is None
    with pytest.raises(Skip):
        erp.record_payment(ref, replace(cod.payments[0], state="settled"))


def test_line_and_order_discounts(erp: TrytonConnector, client: TrytonClient, products: dict[str, int]) -> None:
    order = web_order([("O-TSH-RED-M", 3, "1.00"), ("O-BOOK", 1)], discounts=[("Welcome coupon", "10.00")])
    ref = erp.import_order(order, bindings(order, products))
    row = sale(client, ref)
    by_code: dict[str, list[dict[str, Any]]] = {}
    for line in row["lines."]:
        by_code.setdefault(line["product."]["code"], []).append(line)
    # Tryton rounds the VAT of negative bases (the coupon) apart from the positive ones: a cent
    # off the shop's VAT, made up by the adjustment line.
    adjustment = sum((line["amount"] for line in by_code.get("WEB-ADJUST", [])), Decimal(0))
    assert row["total_amount"] == order.total_tax_included
    assert row["untaxed_amount"] == order.total + adjustment and abs(adjustment) <= Decimal("0.05")
    (tshirt,) = by_code["O-TSH-RED-M"]
    assert (tshirt["unit_price"], tshirt["amount"]) == (Decimal("19.5667"), Decimal("58.70"))  # net of 1.00
    # The coupon over both VAT rates, in proportion of 58.70 and 29.90.
    shares = sorted((line["amount"], rates(line)) for line in by_code["WEB-DISCOUNT"])
    assert shares == [(Decimal("-6.63"), [Decimal(20)]), (Decimal("-3.37"), [Decimal("5.5")])]
    assert all("Welcome coupon (WELCOME)" in line["description"] for line in by_code["WEB-DISCOUNT"])

    # Free shipping on a cart of two VAT rates: one line at the shipping's rate, not pro rata.
    free = web_order([("O-BOOK", 1), ("O-MUG", 1)], free_shipping=True)
    row = sale(client, erp.import_order(free, bindings(free, products)))
    assert row["total_amount"] == free.total_tax_included and row["untaxed_amount"] == free.total
    (line,) = [li for li in row["lines."] if li["product."]["code"] == "WEB-DISCOUNT"]
    assert (line["amount"], rates(line), line["description"]) == (
        Decimal("-4.90"),
        [Decimal(20)],
        "Free shipping (FREESHIP)",
    )


def test_totals_rounding_adjusted_larger_difference_refused(
    erp: TrytonConnector, client: TrytonClient, products: dict[str, int]
) -> None:
    order = web_order([("O-MUG", 1)], total_offset=Decimal("0.02"))
    ref = erp.import_order(order, bindings(order, products))
    row = sale(client, ref)
    assert row["state"] == "processing" and row["total_amount"] == order.total_tax_included
    (adjustment,) = [li for li in row["lines."] if li["product."]["code"] == "WEB-ADJUST"]
    assert adjustment["amount"] == Decimal("0.02")
    (deposit,) = client.model("account.invoice").read(row["advance_payment_invoices"], ["total_amount"])
    assert deposit["total_amount"] == order.total_tax_included

    far = web_order([("O-MUG", 1)], total_offset=Decimal("5.00"))
    with pytest.raises(OrderRefused) as refused:
        erp.import_order(far, bindings(far, products))
    assert refused.value.error.field == "total_tax_included"
    assert str(far.total_tax_included) in refused.value.error.reason
    assert str(far.total_tax_included - Decimal("5.00")) in refused.value.error.reason
    assert client.model("sale.sale").search_count([("reference", "=", f"vendure:{far.shop_id}")]) == 0
    assert erp.find_orders([far.shop_id]) == {}

    # A shop selling the mug at 5.5 % VAT: the reason says which line's rate differs.
    base = web_order([("O-MUG", 10)])
    shop_vat = replace(base.lines[0], vat_rate=Decimal("5.5"))
    mug = replace(base, lines=[shop_vat], total_tax_included=base.total_tax_included - Decimal("17.40"))
    with pytest.raises(
        OrderRefused, match=r"lines\[0\].vat_rate: VAT differs: the shop charged 5.5 %.* O-MUG in Tryton are 20 %"
    ):
        erp.import_order(mug, bindings(mug, products))


def test_an_unbound_article_refuses_the_order(erp: TrytonConnector, products: dict[str, int]) -> None:
    order = web_order([("O-MUG", 1), ("O-BOOK", 1)])
    with pytest.raises(OrderRefused) as refused:
        erp.import_order(order, {order.lines[0].line_id: str(products["O-MUG"])})
    assert (refused.value.error.key, refused.value.error.field) == (order.shop_id, "lines[1].sku")
    with pytest.raises(OrderRefused, match="missing or inactive"):
        erp.import_order(order, {order.lines[0].line_id: "999999", order.lines[1].line_id: str(products["O-BOOK"])})


def test_a_placeholder_article_takes_an_unbound_line_when_configured(
    sandbox: tuple[TrytonSandbox, dict[str, int]], client: TrytonClient, products: dict[str, int]
) -> None:
    server, _ = sandbox
    options = {
        "url": server.url,
        "database": server.database,
        "login": server.login,
        "password": "env:X",
        "orders": {"placeholder_product": "O-MUG"},
    }
    erp = build(options, _Secrets())
    order = web_order([("O-TSH-RED-M", 1), ("O-BOOK", 1)])  # the T-shirt (20 %, like the mug) is unbound
    ref = erp.import_order(order, {order.lines[1].line_id: str(products["O-BOOK"])})
    row = sale(client, ref)
    assert row["total_amount"] == order.total_tax_included
    first = row["lines."][0]
    assert first["product."]["code"] == "O-MUG" and "O-TSH-RED-M" in first["description"]
    assert [(e.field, e.check) for e in order.issues] == [("lines[0].sku", "placeholder")]
    erp.close()


def test_a_sale_left_in_draft_by_a_cut_run_is_made_again(
    erp: TrytonConnector, client: TrytonClient, products: dict[str, int]
) -> None:
    order = web_order([("O-MUG", 2)])
    tag = f"vendure:{order.shop_id}"
    (some_party,) = client.model("party.party").search([], 0, 1, None)
    (leftover,) = client.model("sale.sale").create([{"party": some_party, "reference": tag}])
    assert erp.find_orders([order.shop_id]) == {}  # a draft is no imported order
    ref = erp.import_order(order, bindings(order, products))
    assert int(ref.erp_id) != leftover
    assert client.model("sale.sale").search([("reference", "=", tag)], 0, None, None) == [int(ref.erp_id)]
    assert sale(client, ref)["state"] == "processing"


def connector(sandbox: tuple[TrytonSandbox, dict[str, int]], **orders: Any) -> TrytonConnector:
    server, _ = sandbox
    options = {
        "url": server.url,
        "database": server.database,
        "login": server.login,
        "password": "env:X",
        "orders": orders,
    }
    built = build(options, _Secrets())
    assert isinstance(built, TrytonConnector)
    return built


def test_an_address_tryton_refuses_refuses_the_order_not_the_run(
    erp: TrytonConnector, client: TrytonClient, products: dict[str, int]
) -> None:
    # A city pasted with a tab: Tryton's Char fields refuse it (ForbiddenCharValidationError).
    pasted = replace(LYON, city="Lyon\t1er")
    order = web_order([("O-MUG", 1)], billing=PARIS, shipping=pasted)
    with pytest.raises(OrderRefused) as refused:
        erp.import_order(order, bindings(order, products))
    error = refused.value.error
    assert (error.key, error.field) == (order.shop_id, "shipping")
    assert "invalid" in error.reason and "Lyon" not in error.reason and "Paul" not in error.reason
    assert erp.find_orders([order.shop_id]) == {}
    # The customer fixes the address: the same order goes in, its party made once.
    fixed = replace(order, shipping=LYON)
    ref = erp.import_order(fixed, bindings(fixed, products))
    assert sale(client, ref)["total_amount"] == order.total_tax_included
    key = f"vendure:{order.customer.shop_id}"
    assert client.model("party.identifier").search_count([("code", "=", key)]) == 1


def test_a_destination_country_and_its_vat_reach_the_sale_or_refuse_the_order(
    sandbox: tuple[TrytonSandbox, dict[str, int]], client: TrytonClient, products: dict[str, int]
) -> None:
    # A French shop ships a mug to Berlin and charges German VAT (OSS): 19 %, shipping too.
    erp = connector(sandbox)
    order = web_order([("O-MUG", 2)], billing=BERLIN, shipping=BERLIN, vat="19")
    assert client.model("country.country").search_count([("code", "=", "DE")]) == 0
    with pytest.raises(OrderRefused) as refused:
        erp.import_order(order, bindings(order, products))
    assert (refused.value.error.field, "DE" in refused.value.error.reason) == ("billing.country", True)
    assert "Berlin" not in refused.value.error.reason

    # Germany created: the country is there, but no Tryton tax says 19 %: refused, naming both rates.
    client.model("country.country").create([{"name": "Germany", "code": "DE"}])
    with pytest.raises(OrderRefused) as refused:
        erp.import_order(order, bindings(order, products))
    error = refused.value.error
    assert error.field == "lines[0].vat_rate"
    assert "19 %" in error.reason and "20 %" in error.reason and "DE" in error.reason
    assert "destination_taxes" in error.reason
    assert erp.find_orders([order.shop_id]) == {}
    erp.close()

    # The accountant adds the OSS tax; the connection maps DE 19 % to it: the sale has it, the
    # shop's total to the cent, and the Berlin address with its country.
    (french,) = client.model("account.tax").search_read(
        [("rate", "=", Decimal("0.2")), ("type", "=", "percentage")], ["invoice_account", "credit_note_account"]
    )
    client.model("account.tax").create(
        [
            {
                "name": "DE VAT 19% (OSS)",
                "description": "DE VAT 19% (OSS)",
                "type": "percentage",
                "rate": Decimal("0.19"),
                "invoice_account": french["invoice_account"],
                "credit_note_account": french["credit_note_account"],
            }
        ]
    )
    erp = connector(sandbox, destination_taxes={"DE": {"19": "DE VAT 19% (OSS)"}})
    ref = erp.import_order(order, bindings(order, products))
    row = sale(client, ref)
    assert row["total_amount"] == order.total_tax_included
    assert [(li["product."]["code"], rates(li)) for li in row["lines."]] == [
        ("O-MUG", [Decimal(19)]),
        ("SHIP-COLISSIMO", [Decimal(19)]),
    ]
    countries = {a["country."]["code"] for a in party(client, row["party"])["addresses."] if a.get("country.")}
    assert countries == {"DE"}
    # A French order through the same connection keeps the article's own 20 %.
    home = web_order([("O-MUG", 1)])
    assert [rates(li) for li in sale(client, erp.import_order(home, bindings(home, products)))["lines."]] == [
        [Decimal(20)],
        [Decimal(20)],
    ]
    erp.close()

    # A mapping naming a tax Tryton does not have stops the run: that is the connection's setting.
    erp = connector(sandbox, destination_taxes={"DE": {"7": "DE VAT 7% (OSS)"}})
    third = web_order([("O-MUG", 1)])
    with pytest.raises(Fatal, match="destination_taxes"):
        erp.import_order(third, bindings(third, products))
    erp.close()


def test_a_payment_tryton_refuses_is_the_orders_error_not_the_runs(
    erp: TrytonConnector, client: TrytonClient, products: dict[str, int]
) -> None:
    # Paid on a date no fiscal year of the company covers: Tryton's pay wizard refuses it.
    order = web_order([("O-MUG", 1)])
    late = replace(order.payments[0], paid_at=datetime(2011, 5, 2, 10, 0, tzinfo=timezone.utc))
    ref = erp.import_order(order, bindings(order, products))
    with pytest.raises(OrderRefused) as refused:
        erp.record_payment(ref, late)
    assert (refused.value.error.key, refused.value.error.field) == (ref.reference, "payments")
    assert "Tryton refused the deposit's payment" in refused.value.error.reason
    # The deposit is still there to pay once the date is right.
    assert erp.record_payment(ref, order.payments[0]) == str(sale(client, ref)["advance_payment_invoices"][0])


def test_a_batch_takes_fewer_calls_and_refuses_only_the_orders_at_fault(
    sandbox: tuple[TrytonSandbox, dict[str, int]], client: TrytonClient, products: dict[str, int]
) -> None:
    """``import_orders``: the same answers as ``import_order`` one by one, in fewer calls."""

    def batch_of_orders() -> list[Order]:
        repeat = Customer("Repeat@Example.com", shop_id=f"r{next(_ids)}", first_name="Jeanne", last_name="Martin")
        again = replace(repeat, email="repeat@example.com")
        return [
            web_order([("O-MUG", 2), ("O-BOOK", 1)]),
            web_order([("O-TSH-RED-M", 1)], customer=repeat),
            web_order([("O-MUG", 1)], customer=again),  # the same buyer in the same batch
            web_order([("O-MUG", 1)], total_offset=Decimal("0.02")),  # adjusted to the shop's total
            web_order([("O-MUG", 1)], total_offset=Decimal("5.00")),  # refused: totals too far apart
            web_order([("O-MUG", 1)], shipping=replace(LYON, city="Lyon\t1er")),  # refused: address
            web_order([("O-MUG", 1), ("O-BOOK", 1)]),  # refused: its book is unbound
        ]

    def items(orders: list[Order]) -> list[tuple[Order, dict[str, str]]]:
        bound = [bindings(o, products) for o in orders]
        del bound[-1][orders[-1].lines[1].line_id]
        return list(zip(orders, bound, strict=True))

    one_by_one = connector(sandbox, shop="single")
    batched = connector(sandbox, shop="batch")
    try:
        single: list[ErpOrderRef | str] = []
        calls = one_by_one.client.stats.calls
        for order, bound in items(batch_of_orders()):
            try:
                single.append(one_by_one.import_order(order, bound))
            except OrderRefused as refused:
                single.append(refused.error.field)
        single_calls = one_by_one.client.stats.calls - calls

        orders = batch_of_orders()
        done = batched.import_order(orders[0], bindings(orders[0], products))  # imported by an earlier run
        calls = batched.client.stats.calls
        answers = batched.import_orders(items(orders))
        batch_calls = batched.client.stats.calls - calls
        # Their deposits posted in one call, then each paid by record_payment, once.
        paid = [(a, o.payments[0]) for o, a in zip(orders, answers, strict=True) if isinstance(a, ErpOrderRef)]
        assert batched.prepare_payments(paid[1:]) == 3  # the three sales the batch made
        deposits = [batched.record_payment(ref, payment) for ref, payment in paid]
        assert batched.prepare_payments(paid) == 0
        assert [batched.record_payment(ref, payment) for ref, payment in paid] == deposits
        states = client.model("account.invoice").read([int(d) for d in deposits], ["state"])
        assert [row["state"] for row in states] == ["paid"] * 4
    finally:
        one_by_one.close()
        batched.close()

    assert answers[0] == done  # found, not made twice
    fields = [a.field for a in answers if not isinstance(a, ErpOrderRef)]
    assert fields == ["total_tax_included", "shipping", "lines[1].sku"]
    assert [a if isinstance(a, str) else "sale" for a in single] == ["sale"] * 4 + fields
    made = [a for a in answers if isinstance(a, ErpOrderRef)]
    for order, ref in zip(orders, made, strict=False):
        row = sale(client, ref)
        assert row["state"] == "processing" and row["total_amount"] == order.total_tax_included
        assert row["reference"] == f"batch:{order.shop_id}"
    assert made[1].customer_id == made[2].customer_id  # one party for the repeat buyer
    key = f"batch:{orders[1].customer.shop_id}"
    assert client.model("party.identifier").search_count([("code", "=", key)]) == 1
    for refused in orders[4:]:  # nothing left behind for the refused orders
        assert client.model("sale.sale").search_count([("reference", "=", f"batch:{refused.shop_id}")]) == 0
    # One search, read, create, quote and confirm for the batch instead of each order's own.
    assert batch_calls < single_calls * 0.6, (batch_calls, single_calls)
