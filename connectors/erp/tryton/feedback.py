"""Tryton as a status source: what became of the web orders imported as sales (``orders.py``).

Web orders are the sales whose ``reference`` is ``"<shop>:<shop order id>"`` (``orders.shop``).
Each gets ``refunded``, ``cancelled``, ``shipped`` or ``processing``, first rule that holds
(never ``delivered``: Tryton 8.2 records no delivery), with its parcels: customer shipments
(``stock.shipment.out``) and their packages' ``stock_package_shipping`` references.
``changed_at`` is the latest ``last_modified_at`` of the sale and its shipments, or the posting
time of its credit notes; reads are incremental on it (``since`` included), a handful of calls per
500 orders, never one per order. Statuses come oldest change first.

Details: docs/tryton-feedback.md (sections "Status rules", "Calls").
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from connectors.erp.tryton.client import TrytonClient
from connectors.erp.tryton.invoices import (
    WebInvoice,
    chunks,
    read_web_invoices,
    shop_order_id,
    web_reference,
    web_reference_clause,
)
from connectors.erp.tryton.order_rules import IMPORTED_STATES
from connectors.errors import RecordError
from connectors.models import OrderStatus, Shipment, ShipmentLine, ensure_utc

if TYPE_CHECKING:
    from connectors.erp.tryton.settings import TrytonSettings

__all__ = ["LEFT_STATES", "TrytonFeedback", "order_status", "refund_cover", "shipped_at"]

LEFT_STATES = ("shipped", "done")
"""States of a customer shipment whose goods left the warehouse."""
_SALE_FIELDS = [
    "id",
    "reference",
    "number",
    "state",
    "shipment_state",
    "last_modified_at",
    "lines",
    "moves.state",
    "shipments",
    "carrier.party.name",
    "carrier.carrier_product.name",
]
_SHIPMENT_FIELDS = [
    "id",
    "state",
    "effective_date",
    "last_modified_at",
    "shipping_reference",
    "carrier.party.name",
    "carrier.carrier_product.name",
    "outgoing_moves.product.code",
    "outgoing_moves.quantity",
    "outgoing_moves.state",
    "outgoing_moves.origin",
    "outgoing_moves.package",
    "packages.parent",
    "packages.shipping_reference",
    "packages.shipping_tracking_url",
]


# -- pure rules -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RefundCover:
    """What the order's posted invoices add up to: ``net`` (credit notes included) and ``credited``."""

    net: Decimal
    credited: Decimal

    @property
    def refunded(self) -> bool:
        return self.credited > 0 and self.net <= 0

    @property
    def partial(self) -> bool:
        return self.credited > 0 and self.net > 0


def refund_cover(invoices: Sequence[WebInvoice]) -> RefundCover:
    """Net of the order's posted invoices, and what its credit notes credit (a positive amount)."""
    net = sum((i.total for i in invoices), Decimal(0))
    credited = -sum((i.total for i in invoices if i.kind == "credit_note" and i.total < 0), Decimal(0))
    return RefundCover(net=net, credited=credited)


def order_status(
    *,
    sale_state: str,
    shipment_state: str,
    move_states: Sequence[str],
    shipped: bool,
    refunded: bool,
) -> str:
    """The canonical status of a web sale (rules in the module docstring, first that holds)."""
    if refunded:
        return "refunded"
    if sale_state == "cancelled":
        return "cancelled"
    if not shipped and move_states and all(s == "cancelled" for s in move_states) and shipment_state != "exception":
        return "cancelled"
    if shipped:
        return "shipped"
    return "processing"


def shipped_at(effective: date | None, modified: datetime, timezone: str) -> datetime:
    """When a shipment left: its last write when that is on its effective date (Tryton writes the
    state and the date together), else the effective date at midnight in the company's zone."""
    modified = ensure_utc(modified)
    if effective is None:
        return modified
    zone = ZoneInfo(timezone)
    if modified.astimezone(zone).date() == effective:
        return modified
    return ensure_utc(datetime.combine(effective, time(0), tzinfo=zone))


# -- the source -------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Sale:
    row: dict[str, Any]
    shop_order_id: str
    invoices: list[WebInvoice] = field(default_factory=list)


class TrytonFeedback:
    """``StatusSource`` over Tryton JSON-RPC (mixed into ``TrytonConnector``)."""

    client: TrytonClient
    settings: TrytonSettings

    def iter_statuses(
        self, since: datetime | None, shop_order_ids: Sequence[str] | None = None
    ) -> Iterator[OrderStatus]:
        """Statuses of web sales whose sale, shipments or credit notes changed at or after
        ``since`` (aware UTC; None: all), of these shop orders only when given; oldest change
        first (see the module docstring for the rules and the calls)."""
        shop = self.settings.orders.shop
        since = ensure_utc(since) if since is not None else None
        if shop_order_ids is None:
            batches: list[Sequence[str] | None] = [None]
        else:
            references = list(dict.fromkeys(web_reference(shop, i) for i in shop_order_ids))
            batches = list(chunks(references))
        statuses: list[OrderStatus] = []
        for references_batch in batches:
            statuses.extend(self._statuses(since, references_batch))
        statuses.sort(key=lambda s: (s.changed_at, s.shop_order_id))
        yield from statuses

    def _statuses(self, since: datetime | None, references: Sequence[str] | None) -> list[OrderStatus]:
        shop = self.settings.orders.shop
        op, value = web_reference_clause(shop, references)
        domain: list[Any] = [("reference", op, value), ("state", "in", IMPORTED_STATES)]
        if since is not None:
            credited = {
                reference
                for invoice in read_web_invoices(self.client, shop, references=references, since=since)
                if invoice.kind == "credit_note"
                for reference in invoice.references
            }
            changed: list[Any] = ["OR", ("last_modified_at", ">=", since), ("shipments.last_modified_at", ">=", since)]
            if credited:
                changed.append(("reference", "in", sorted(credited)))
            domain.append(changed)
        ids = self.client.model("sale.sale").search(domain, 0, None, [["id", "ASC"]])
        statuses: list[OrderStatus] = []
        for batch in chunks([int(i) for i in ids]):
            statuses.extend(self._read_statuses(batch))
        return statuses

    def _read_statuses(self, sale_ids: Sequence[int]) -> list[OrderStatus]:
        shop = self.settings.orders.shop
        sales: dict[str, _Sale] = {}
        for row in sorted(self.client.model("sale.sale").read(list(sale_ids), _SALE_FIELDS), key=lambda r: r["id"]):
            order_id = shop_order_id(shop, row.get("reference"))
            if order_id is not None:
                sales.setdefault(row["reference"], _Sale(row, order_id))  # by id: the first sale wins
        if not sales:
            return []
        shipment_ids = sorted({int(i) for sale in sales.values() for i in sale.row.get("shipments") or []})
        shipments = {
            int(r["id"]): r
            for batch in chunks(shipment_ids)
            for r in self.client.model("stock.shipment.out").read(list(batch), _SHIPMENT_FIELDS)
        }
        for invoice in read_web_invoices(self.client, shop, references=sorted(sales)):
            for reference in invoice.references:
                if reference in sales:
                    sales[reference].invoices.append(invoice)
        return [self._status(sale, shipments) for sale in sales.values()]

    def _status(self, sale: _Sale, shipments: Mapping[int, dict[str, Any]]) -> OrderStatus:
        row = sale.row
        own = [shipments[int(i)] for i in row.get("shipments") or [] if int(i) in shipments]
        lines = {f"sale.line,{int(i)}" for i in row.get("lines") or []}
        left = [s for s in own if s["state"] in LEFT_STATES]
        cover = refund_cover(sale.invoices)
        status = order_status(
            sale_state=row["state"],
            shipment_state=row.get("shipment_state") or "",
            move_states=[m["state"] for m in row.get("moves.") or []],
            shipped=bool(left),
            refunded=cover.refunded,
        )
        issues: list[RecordError] = []
        if cover.partial:
            issues.append(
                RecordError(
                    sale.shop_order_id,
                    "status",
                    f"credit notes of {cover.credited} against {cover.net + cover.credited} invoiced: a partial "
                    f"refund, the order stays {status}",
                    check="partial_refund",
                )
            )
        parcels: list[Shipment] = []
        for shipment in left:
            parcels.extend(self._parcels(shipment, lines, row, sale.shop_order_id, issues))
        moments = [ensure_utc(row["last_modified_at"])]
        moments += [ensure_utc(s["last_modified_at"]) for s in own if s.get("last_modified_at")]
        moments += [i.posted_at for i in sale.invoices if i.kind == "credit_note"]
        return OrderStatus(
            shop_order_id=sale.shop_order_id,
            erp_reference=row.get("number") or row["reference"],
            status=status,
            changed_at=max(moments),
            shipments=parcels,
            issues=issues,
        )

    def _parcels(
        self,
        shipment: Mapping[str, Any],
        sale_lines: set[str],
        sale: Mapping[str, Any],
        order_id: str,
        issues: list[RecordError],
    ) -> list[Shipment]:
        """One parcel per root package with a shipping reference, else one for the shipment."""
        packages = {int(p["id"]): p for p in shipment.get("packages.") or []}
        moves = [
            m
            for m in shipment.get("outgoing_moves.") or []
            if m.get("origin") in sale_lines and m["state"] != "cancelled" and m.get("quantity")
        ]

        def root(package: int | None) -> int | None:
            seen: set[int] = set()
            while package is not None and package in packages and package not in seen:
                seen.add(package)
                parent = packages[package].get("parent")
                if parent is None or int(parent) not in packages:
                    return package
                package = int(parent)
            return package

        groups: dict[int | None, list[Mapping[str, Any]]] = {}
        if any(p.get("shipping_reference") for p in packages.values()):
            for move in moves:
                groups.setdefault(root(move.get("package")), []).append(move)
        else:
            groups[None] = moves
        carrier = _carrier(shipment) or _carrier(sale)
        when = shipped_at(shipment.get("effective_date"), shipment["last_modified_at"], self.settings.timezone)
        parcels = []
        for package_id, group in groups.items():
            package = packages.get(package_id) if package_id is not None else None
            tracking = (package or {}).get("shipping_reference") or shipment.get("shipping_reference")
            parcels.append(
                Shipment(
                    erp_id=f"{shipment['id']}" if package_id is None else f"{shipment['id']}/{package_id}",
                    carrier=carrier,
                    tracking_number=tracking or None,
                    tracking_url=(package or {}).get("shipping_tracking_url") or None,
                    shipped_at=when,
                    lines=_lines(group, order_id, issues),
                )
            )
        return parcels


def _carrier(row: Mapping[str, Any]) -> str | None:
    carrier = row.get("carrier.") or {}
    return (carrier.get("party.") or {}).get("name") or (carrier.get("carrier_product.") or {}).get("name") or None


def _lines(moves: Sequence[Mapping[str, Any]], order_id: str, issues: list[RecordError]) -> list[ShipmentLine]:
    """Quantities per product code, in the order of the sale's lines."""
    quantities: dict[str, Decimal] = {}
    for move in sorted(moves, key=lambda m: (int(str(m["origin"]).rsplit(",", 1)[-1]), m["id"])):
        code = (move.get("product.") or {}).get("code")
        if not code:
            issues.append(
                RecordError(order_id, "shipments.lines.sku", f"stock move {move['id']} ships a product without a code")
            )
            continue
        quantities[code] = quantities.get(code, Decimal(0)) + Decimal(str(move["quantity"]))
    return [
        ShipmentLine(sku, q.quantize(Decimal(1)) if q == q.to_integral_value() else q) for sku, q in quantities.items()
    ]
