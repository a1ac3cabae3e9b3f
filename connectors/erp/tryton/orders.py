"""Tryton as an order sink: a web order becomes one confirmed ``sale.sale``, a settled payment a
paid deposit invoice (``TrytonOrders``); the party side is in :mod:`.parties`, the rules without a
server in :mod:`.order_rules`. Keys, lines, totals, deposits and the calls per order:
``docs/orders.md`` ("Tryton")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from connectors.base import ErpOrderRef
from connectors.erp.tryton.client import TrytonClient, TrytonError
from connectors.erp.tryton.order_rules import (
    _PARTY_FIELDS,
    _PRODUCT_FIELDS,
    _SHIPPING,
    IMPORTED_STATES,
    PRICE_QUANTUM,
    OrderRefused,
    _BatchCache,
    _like,
    _line,
    _line_description,
    _Party,
    _percent,
    _ref,
    _refusal,
    _Setup,
    _taxes,
    _vat_mismatches,
    _with_tax,
    discount_shares,
    net_unit_price,
    total_adjustment,
)
from connectors.erp.tryton.parties import TrytonParties
from connectors.erp.tryton.payments import TrytonPayments
from connectors.erp.tryton.settings import TrytonOrderSettings, rate_key
from connectors.errors import RecordError
from connectors.models import Order, currency_quantum, ensure_utc

if TYPE_CHECKING:
    from connectors.erp.tryton.settings import TrytonSettings

__all__ = [
    "IMPORTED_STATES",
    "OrderRefused",
    "TrytonOrderSettings",
    "TrytonOrders",
    "discount_shares",
    "net_unit_price",
    "total_adjustment",
]

_SEARCH_CHUNK = 500


@dataclass(slots=True)
class _Prepared:
    """An order of a batch ready for its sale: its place in the batch, the sale's values."""

    index: int
    order: Order
    values: dict[str, Any]
    taxes: Mapping[str, tuple[int, ...]]
    party: _Party


# -- the sink ---------------------------------------------------------------------------------


class TrytonOrders(TrytonPayments, TrytonParties):
    """``OrderSink`` over Tryton JSON-RPC (mixed into ``TrytonConnector``)."""

    client: TrytonClient
    settings: TrytonSettings
    _orders_setup: _Setup | None
    _batch_cache: _BatchCache | None = None

    # -- OrderSink -------------------------------------------------------------------------------
    def find_orders(self, shop_refs: Sequence[str]) -> dict[str, ErpOrderRef]:
        """Imported sales (confirmed or later) of these shop order ids: one search per 500 ids."""
        wanted = {self._tag(ref): ref for ref in dict.fromkeys(shop_refs)}
        found: dict[str, ErpOrderRef] = {}
        tags = list(wanted)
        for start in range(0, len(tags), _SEARCH_CHUNK):
            rows = self.client.model("sale.sale").search_read(
                [("reference", "in", tags[start : start + _SEARCH_CHUNK]), ("state", "in", IMPORTED_STATES)],
                ["id", "number", "reference", "total_amount", "party"],
            )
            for row in rows:  # by id: the first sale of a reference wins
                found.setdefault(wanted[row["reference"]], _ref(row))
        return found

    def import_order(self, order: Order, products: Mapping[str, str]) -> ErpOrderRef:
        """Create the confirmed sale of ``order`` (see the module docstring); idempotent.

        Details Tryton refused without refusing the order (a VAT number) are appended to
        ``order.issues``.

        Raises:
            OrderRefused: an unbound or unknown article, an unknown currency, a total too far
                from the shop's, or Tryton refusing the sale.
            Fatal: the ``orders`` settings name something Tryton does not have.
        """
        sales = self.client.model("sale.sale")
        tag = self._tag(order.shop_id)
        existing = sales.search_read(
            [("reference", "=", tag)], ["id", "number", "reference", "total_amount", "party", "state"]
        )
        done = [r for r in existing if r["state"] in IMPORTED_STATES]
        if done:
            return _ref(done[0])
        self._discard([int(r["id"]) for r in existing])
        setup = self._setup()
        currency = setup.currencies.get(order.currency.upper())
        if currency is None:
            raise OrderRefused(RecordError(order.shop_id, "currency", f"Tryton has no currency {order.currency}"))
        notes: list[str] = []
        goods = self._products(order, products, setup, notes)
        self._countries(order, setup)
        taxes = self._line_taxes(order, goods, setup)
        try:
            party = self._party(order, setup, notes)
        except TrytonError as exc:  # a party detail not caught closer (each call names its field)
            raise _refusal(order, "customer", "the customer", exc) from exc
        values = self._sale_values(order, setup, currency, party, goods, taxes, notes)
        try:
            (sale_id,) = sales.create([values])
        except TrytonError as exc:
            raise _refusal(order, "sale", "the sale", exc) from exc
        return self._complete(order, int(sale_id), values, taxes, setup, party)

    def import_orders(self, items: Sequence[tuple[Order, Mapping[str, str]]]) -> list[ErpOrderRef | RecordError]:
        """:meth:`import_order` for a batch: one search of the sales there already, one read of
        the products, one search of the customers, one ``create`` of the sales, one ``quote``,
        one ``read`` and one ``confirm`` for the whole batch (``docs/orders.md``, "Tryton": the
        calls per order). When Tryton refuses one of the batched calls, the orders of that step
        go on one by one, so that only the order at fault is refused.

        Returns one answer per item, in order: the sale, or why Tryton refused the order.
        """
        sales = self.client.model("sale.sale")
        answers: list[ErpOrderRef | RecordError | None] = [None] * len(items)
        index = {self._tag(order.shop_id): i for i, (order, _) in enumerate(items)}
        tags = list(index)
        existing: list[dict[str, Any]] = []
        for start in range(0, len(tags), _SEARCH_CHUNK):
            existing += sales.search_read(
                [("reference", "in", tags[start : start + _SEARCH_CHUNK])],
                ["id", "number", "reference", "total_amount", "party", "state"],
            )
        existing.sort(key=lambda r: r["id"])
        for row in existing:  # by id: the first imported sale of a reference wins, as import_order
            i = index[row["reference"]]
            if answers[i] is None and row["state"] in IMPORTED_STATES:
                answers[i] = _ref(row)
        self._discard([int(r["id"]) for r in existing if answers[index[r["reference"]]] is None])
        setup = self._setup()
        todo = [i for i in range(len(items)) if answers[i] is None]
        prepared: list[_Prepared] = []
        self._batch_cache = _BatchCache()
        try:
            self._prefetch([items[i] for i in todo], setup)
            for i in todo:
                order, products = items[i]
                try:
                    prepared.append(self._prepare(i, order, products, setup))
                except OrderRefused as refused:
                    answers[i] = refused.error
        finally:
            self._batch_cache = None
        for i, answer in self._sales(prepared, setup).items():
            answers[i] = answer
        assert all(a is not None for a in answers)
        return [a for a in answers if a is not None]

    def _prepare(self, i: int, order: Order, products: Mapping[str, str], setup: _Setup) -> _Prepared:
        """Everything of :meth:`import_order` before the sale is created (its customer included)."""
        currency = setup.currencies.get(order.currency.upper())
        if currency is None:
            raise OrderRefused(RecordError(order.shop_id, "currency", f"Tryton has no currency {order.currency}"))
        notes: list[str] = []
        goods = self._products(order, products, setup, notes)
        self._countries(order, setup)
        taxes = self._line_taxes(order, goods, setup)
        try:
            party = self._party(order, setup, notes)
        except TrytonError as exc:
            raise _refusal(order, "customer", "the customer", exc) from exc
        values = self._sale_values(order, setup, currency, party, goods, taxes, notes)
        return _Prepared(i, order, values, taxes, party)

    def _prefetch(self, items: Sequence[tuple[Order, Mapping[str, str]]], setup: _Setup) -> None:
        """One read of the batch's products, one search of its new countries and one of its
        customers, kept in the batch cache for :meth:`_products`, :meth:`_countries`, :meth:`_party`."""
        cache = self._batch_cache
        assert cache is not None
        ids = sorted({int(p[line.line_id]) for o, p in items for line in o.lines if line.line_id in p})
        for start in range(0, len(ids), _SEARCH_CHUNK):
            rows = self.client.model("product.product").search_read(
                [("id", "in", ids[start : start + _SEARCH_CHUNK])], _PRODUCT_FIELDS, context={"active_test": False}
            )
            cache.products.update({int(r["id"]): r for r in rows})
        codes = sorted(
            {
                a.country.upper()
                for o, _ in items
                for a in (o.billing, o.shipping)
                if a is not None and a.country and a.country.upper() not in setup.countries
            }
        )
        if codes:
            rows = self.client.model("country.country").search_read([("code", "in", codes)], ["id", "code"])
            setup.countries.update({r["code"]: int(r["id"]) for r in rows})
        keys = sorted({self._customer_key(o) for o, _ in items} - {None})  # type: ignore[type-var]
        emails = sorted({o.customer.email.strip() for o, _ in items if o.customer.email.strip()})
        clauses: list[Any] = []
        if keys:
            clauses.append(("identifiers", "where", [("type", "=", None), ("code", "in", keys)]))
        clauses += [
            ("contact_mechanisms", "where", [("type", "=", "email"), ("value", "ilike", _like(email))])
            for email in emails
        ]
        if clauses:
            cache.parties = self.client.model("party.party").search_read(["OR", *clauses], _PARTY_FIELDS)
            cache.searched = {*(k for k in keys if k), *(e.lower() for e in emails)}

    def _sales(self, prepared: Sequence[_Prepared], setup: _Setup) -> dict[int, ErpOrderRef | RecordError]:
        """Create, quote, adjust and confirm the prepared sales, batched; one by one from the
        step Tryton refused."""
        sales = self.client.model("sale.sale")
        answers: dict[int, ErpOrderRef | RecordError] = {}
        if not prepared:
            return answers
        try:
            created = [int(i) for i in sales.create([p.values for p in prepared])]
        except TrytonError:
            return {p.index: self._alone(p, setup) for p in prepared}
        ids = {p.index: sale_id for p, sale_id in zip(prepared, created, strict=True)}
        try:
            sales.quote(created)
            rows = {r["id"]: r for r in sales.read(created, ["id", "number", "reference", "total_amount", "party"])}
        except TrytonError:
            return {p.index: self._alone(p, setup, ids[p.index]) for p in prepared}
        ready: list[_Prepared] = []
        adjust: list[tuple[_Prepared, Decimal]] = []
        refused: list[int] = []
        for p in prepared:
            try:
                difference = self._difference(p, rows[ids[p.index]]["total_amount"], setup)
            except OrderRefused as exc:
                answers[p.index] = exc.error
                refused.append(ids[p.index])
                continue
            if difference:
                adjust.append((p, difference))
            else:
                ready.append(p)
        self._discard(refused)
        for p, difference in adjust:  # rare (a rounding the shop did otherwise): one by one
            answers[p.index] = self._adjusted(p, ids[p.index], difference, setup)
        confirm = [ids[p.index] for p in ready]
        try:
            if confirm:
                sales.confirm(confirm)
        except TrytonError:
            for p in ready:
                answers[p.index] = self._alone(p, setup, ids[p.index])
            return answers
        for p in ready:
            answers[p.index] = self._answer(p, rows[ids[p.index]])
        return answers

    def _alone(self, p: _Prepared, setup: _Setup, sale_id: int | None = None) -> ErpOrderRef | RecordError:
        """One prepared order on its own (a batched step failed): its sale, or why not."""
        try:
            if sale_id is None:
                try:
                    (sale_id,) = self.client.model("sale.sale").create([p.values])
                except TrytonError as exc:
                    raise _refusal(p.order, "sale", "the sale", exc) from exc
            return self._complete(p.order, int(sale_id), p.values, p.taxes, setup, p.party)
        except OrderRefused as refused:
            return refused.error

    def _adjusted(self, p: _Prepared, sale_id: int, difference: Decimal, setup: _Setup) -> ErpOrderRef | RecordError:
        sales = self.client.model("sale.sale")
        try:
            sales.draft([sale_id])
            sales.write([sale_id], {"lines": [["create", [self._adjustment_line(setup, difference, p.values)]]]})
            row = self._quote(sale_id)
            sales.confirm([sale_id])
        except TrytonError as exc:
            self._discard([sale_id])
            refusal = _refusal(p.order, "sale", "the sale", exc)
            if isinstance(refusal, OrderRefused):
                return refusal.error
            raise refusal from exc
        return self._answer(p, row)

    def _answer(self, p: _Prepared, row: Mapping[str, Any]) -> ErpOrderRef:
        return ErpOrderRef(
            erp_id=str(row["id"]),
            reference=row["number"] or self._tag(p.order.shop_id),
            total_tax_included=row["total_amount"],
            customer_id=str(p.party.id),
        )

    def _difference(self, p: _Prepared, total: Decimal, setup: _Setup) -> Decimal:
        """The adjustment the sale needs to reach the shop's total (0: none).

        Raises:
            OrderRefused: the totals are further apart than ``total_tolerance`` (with the VAT
                rates that differ, when some do).
        """
        order = p.order
        try:
            return total_adjustment(
                order.shop_id, total, order.total_tax_included, self.settings.orders.total_tolerance
            )
        except OrderRefused as refused:
            hints = _vat_mismatches(order, p.taxes, setup)
            if hints:
                reason = f"{refused.error.reason}; VAT differs: {'; '.join(hints)}"
                raise OrderRefused(replace(refused.error, reason=reason)) from None
            raise

    def _complete(
        self,
        order: Order,
        sale_id: int,
        values: Mapping[str, Any],
        taxes: Mapping[str, tuple[int, ...]],
        setup: _Setup,
        party: _Party,
    ) -> ErpOrderRef:
        """Quote the created sale, adjust it to the shop's total, confirm it; discarded when refused."""
        sales = self.client.model("sale.sale")
        p = _Prepared(0, order, dict(values), taxes, party)
        try:
            row = self._quote(sale_id)
            difference = self._difference(p, row["total_amount"], setup)
            if difference:
                sales.draft([sale_id])
                sales.write([sale_id], {"lines": [["create", [self._adjustment_line(setup, difference, values)]]]})
                row = self._quote(sale_id)
            sales.confirm([sale_id])
        except (TrytonError, OrderRefused) as exc:
            self._discard([sale_id])
            if isinstance(exc, OrderRefused):
                raise
            raise _refusal(order, "sale", "the sale", exc) from exc
        return self._answer(p, row)

    # -- sale ----------------------------------------------------------------------------------
    def _tag(self, shop_id: str) -> str:
        return f"{self.settings.orders.shop}:{shop_id}"

    def _quote(self, sale_id: int) -> dict[str, Any]:
        sales = self.client.model("sale.sale")
        sales.quote([sale_id])
        (row,) = sales.read([sale_id], ["id", "number", "reference", "total_amount", "party"])
        return row

    def _discard(self, ids: Sequence[int]) -> None:
        """Delete sales of an import cut short (draft, or quotation sent back to draft first)."""
        sales = self.client.model("sale.sale")
        try:
            rows = sales.read(list(ids), ["id", "state"]) if ids else []
            quoted = [r["id"] for r in rows if r["state"] == "quotation"]
            if quoted:
                sales.draft(quoted)  # a button refuses records in a state it does not leave
            removable = [r["id"] for r in rows if r["state"] in ("draft", "quotation")]
            if removable:
                sales.delete(removable)
        except TrytonError:
            pass  # best effort: the next import of this order finds and discards it again

    def _sale_values(
        self,
        order: Order,
        setup: _Setup,
        currency: int,
        party: _Party,
        goods: Mapping[str, dict[str, Any]],
        line_taxes: Mapping[str, tuple[int, ...]],
        notes: list[str],
    ) -> dict[str, Any]:
        opts = self.settings.orders
        quantum = currency_quantum(order.currency)
        lines: list[dict[str, Any]] = []
        bases: dict[tuple[int, ...], Decimal] = {}
        for line in order.lines:
            product = goods[line.line_id]
            price = net_unit_price(line)
            taxes = line_taxes[line.line_id]
            bases[taxes] = bases.get(taxes, Decimal(0)) + line.total
            values = _line(product, line.quantity, price, _line_description(line), taxes)
            if line.discount:
                values["note"] = f"Shop: {line.quantity} x {line.unit_price} - discount {line.discount}"
            lines.append(values)
        shipping = self._shipping_product(order, setup)
        shipping_taxes = line_taxes[_SHIPPING]
        if order.shipping_price or order.shipping_method:
            lines.append(
                _line(
                    shipping,
                    Decimal(1),
                    order.shipping_price.quantize(PRICE_QUANTUM, ROUND_HALF_UP),
                    order.shipping_method or shipping["rec_name"],
                    shipping_taxes,
                )
            )
        discount = setup.products[opts.discount_product]
        for item in order.discounts:
            label = (
                f"{item.description} ({item.code})"
                if item.code and item.code not in item.description
                else item.description
            )
            amount = abs(item.amount)
            shares = discount_shares(amount, bases, quantum) or {_taxes(discount): amount}
            # A shipping discount (free shipping) lowers the shipping's base, not the goods': the
            # shop's tax-included amount tells which one it reduced.
            on_shipping = {shipping_taxes: amount}
            if (
                order.shipping_price
                and amount <= order.shipping_price
                and _with_tax(on_shipping, setup.tax_rates, quantum) == abs(item.amount_tax_included)
                and _with_tax(shares, setup.tax_rates, quantum) != abs(item.amount_tax_included)
            ):
                shares = on_shipping
            for taxes, share in shares.items():
                rate = " + ".join(f"{(setup.tax_rates.get(t, Decimal(0)) * 100).normalize():f} %" for t in taxes)
                text = f"{label} (VAT {rate})" if len(shares) > 1 and rate else label
                lines.append(_line(discount, Decimal(1), -share, text, taxes))
        for sequence, values in enumerate(lines, start=1):
            values["sequence"] = sequence
        carrier = setup.carriers.get(shipping["id"])
        deposit = any(p.state in opts.deposit_states for p in order.payments)
        created = ensure_utc(order.created_at).astimezone(ZoneInfo(self.settings.timezone))
        comment = [f"Web order {order.reference} ({self._tag(order.shop_id)}), placed {created:%Y-%m-%d %H:%M %Z}."]
        comment += [
            f"Payment: {p.method} {p.state} {p.amount} {order.currency}"
            + (f", transaction {p.transaction_id}" if p.transaction_id else "")
            for p in order.payments
        ]
        comment += notes
        values = {
            "company": setup.company,
            "party": party.id,
            "invoice_address": party.invoice_address,
            "shipment_address": party.shipment_address,
            "contact": party.contact,
            "currency": currency,
            "warehouse": setup.warehouse,
            "reference": self._tag(order.shop_id),
            "description": order.reference,
            "sale_date": created.date(),
            "advance_payment_term": setup.advance_term if deposit else None,
            "carrier": carrier,
            "shipment_cost_method": None,  # the shop's shipping line, not Tryton's carrier price
            "comment": "\n".join(comment),
            "lines": [["create", lines]],
        }
        if setup.payment_term is not None:
            values["payment_term"] = setup.payment_term
        return values

    def _shipping_product(self, order: Order, setup: _Setup) -> dict[str, Any]:
        opts = self.settings.orders
        return setup.products[opts.shipping_products.get(order.shipping_method or "", opts.shipping_product)]

    def _line_taxes(
        self, order: Order, goods: Mapping[str, Mapping[str, Any]], setup: _Setup
    ) -> dict[str, tuple[int, ...]]:
        """The Tryton taxes of each line (by line id) and of the shipping (``_SHIPPING``): the tax
        ``destination_taxes`` maps the shipping country and the shop's rate to, else the product's
        customer taxes when their rate is the shop's (within ``vat_rate_tolerance``).

        Raises:
            OrderRefused: the shop charged another rate on a line with an amount, unmapped.
        """
        items: list[tuple[str, str, Mapping[str, Any], Decimal | None, Decimal]] = [
            (line.line_id, f"lines[{index}].vat_rate", goods[line.line_id], line.vat_rate, line.total)
            for index, line in enumerate(order.lines)
        ]
        shipping = self._shipping_product(order, setup)
        items.append((_SHIPPING, "shipping_vat_rate", shipping, order.shipping_vat_rate, order.shipping_price))
        address = order.shipping or order.billing
        country = (address.country or "").upper() if address else ""
        found: dict[str, tuple[int, ...]] = {}
        for key, field_name, product, rate, amount in items:
            own = _taxes(product)
            if rate is None:
                found[key] = own
                continue
            mapped = setup.destination_taxes.get((country, rate_key(rate)))
            if mapped is not None:
                found[key] = (mapped,)
                continue
            tryton = _percent(own, setup)
            if abs(tryton - rate) <= self.settings.orders.vat_rate_tolerance or not amount:
                found[key] = own
                continue
            where = f" (shipped to {country})" if country else ""
            raise OrderRefused(
                RecordError(
                    order.shop_id,
                    field_name,
                    f"VAT differs: the shop charged {rate_key(rate)} %{where}, the customer taxes of "
                    f"{product.get('code') or product['rec_name']} in Tryton are {rate_key(tryton)} %; map the "
                    f"shop's rate to a Tryton tax with orders.destination_taxes.{country or '<country>'}."
                    f'"{rate_key(rate)}" = "<tax name>", or correct the VAT of one of them',
                )
            )
        return found

    def _adjustment_line(self, setup: _Setup, difference: Decimal, sale: Mapping[str, Any]) -> dict[str, Any]:
        """A line of the adjustment product whose tax-included amount is ``difference``."""
        product = setup.products[self.settings.orders.adjustment_product]
        taxes = _taxes(product)
        rate = sum((setup.tax_rates.get(t, Decimal(0)) for t in taxes), Decimal(0))
        price = (difference / (1 + rate)).quantize(PRICE_QUANTUM, ROUND_HALF_UP)
        values = _line(product, Decimal(1), price, f"Rounding difference with the shop's total ({difference:+})", taxes)
        values["sequence"] = len(sale["lines"][0][1]) + 1
        return values

    def _products(
        self, order: Order, products: Mapping[str, str], setup: _Setup, notes: list[str]
    ) -> dict[str, dict[str, Any]]:
        """The product.product row of each line (one read), or the order is refused."""
        placeholder = self.settings.orders.placeholder_product
        found: dict[str, dict[str, Any]] = {}
        for index, line in enumerate(order.lines):
            if line.line_id in products:
                continue
            if placeholder is None:
                raise OrderRefused(
                    RecordError(order.shop_id, f"lines[{index}].sku", f"no ERP article bound to SKU {line.sku!r}")
                )
            found[line.line_id] = setup.products[placeholder]
            note = f"line {index + 1}: SKU {line.sku!r} ({line.name}) has no Tryton article: {placeholder} used"
            notes.append(note[0].upper() + note[1:] + ".")
            order.issues.append(RecordError(order.shop_id, f"lines[{index}].sku", note, check="placeholder"))
        ids = sorted({int(products[line.line_id]) for line in order.lines if line.line_id in products})
        cache = self._batch_cache
        if cache is not None and all(i in cache.products for i in ids):
            rows = {i: cache.products[i] for i in ids}  # read for the whole batch (``_prefetch``)
        else:
            rows = {
                r["id"]: r
                for r in self.client.model("product.product").search_read(
                    [("id", "in", ids)], _PRODUCT_FIELDS, context={"active_test": False}
                )
            }
        for index, line in enumerate(order.lines):
            if line.line_id not in products:
                continue
            row = rows.get(int(products[line.line_id]))
            if row is None or not row.get("active", True):
                raise OrderRefused(
                    RecordError(
                        order.shop_id,
                        f"lines[{index}].sku",
                        f"Tryton product {products[line.line_id]} (SKU {line.sku!r}) is missing or inactive",
                    )
                )
            found[line.line_id] = row
        return found


# -- mapping helpers ------------------------------------------------------------------------------
