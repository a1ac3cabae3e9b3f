"""The files connector as a status source: order statuses and parcels from a shipments export.

A GesCom without an API tells what it shipped in an export of its delivery notes (bons de
livraison), one row per shipped line or per parcel, with the web order's reference. Per order:
one :class:`~connectors.models.Shipment` per delivery number (or per tracking number), the
order's status from its deliveries (:func:`order_status`), ``changed_at`` the latest date of its
rows. Orders absent from the export are not reported; unparseable cells are issues naming the
file, the line and the column, never exceptions. An order is read when its latest date *or the
export file holding it* changed at or after ``since``. Also here, shared with
:mod:`connectors.erp.files.invoices`: :func:`web_order_id`, :func:`parse_export_date`
(``20260705`` too) and :func:`modified_at`.

Details: docs/files-feedback.md (sections "Shipments export", "Time windows").
"""

from __future__ import annotations

import glob
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from connectors.erp.files.reader import export_rows, match_files, pick
from connectors.erp.files.settings import DEFAULT_STATUSES, References, ShipmentColumns, ShipmentExportSettings
from connectors.erp.files.values import fold, parse_datetime, parse_decimal
from connectors.erp.references import LEGACY_PREFIX
from connectors.errors import Fatal, RecordError, Retryable
from connectors.models import OrderStatus, Shipment, ShipmentLine

if TYPE_CHECKING:
    from connectors.erp.files.settings import FilesSettings

__all__ = [
    "DEFAULT_STATUSES",
    "FilesFeedback",
    "References",
    "ShipmentColumns",
    "ShipmentExportSettings",
    "modified_at",
    "order_status",
    "parse_export_date",
    "web_order_id",
]

log = logging.getLogger(__name__)


DEFAULT_SHOP = LEGACY_PREFIX
"""The shop prefix of a connection with neither order files nor a shipments export (invoices only)."""


_SHIPPED = ("shipped", "delivered", "refunded")  # deliveries that left: their parcels are reported
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_NEVER = datetime.min.replace(tzinfo=timezone.utc)


# -- shared with the invoice source ------------------------------------------------------------


def web_order_id(reference: str | None, shop: str, references: References = "any") -> str | None:
    """The shop order id an ERP reference names: ``"vendure:42"`` -> ``"42"`` (prefix case
    ignored: some GesComs upper-case references); ``"42"`` -> ``"42"`` unless ``references`` is
    ``prefixed``; None for an empty reference or, when ``prefixed``, another document's."""
    text = (reference or "").strip()
    prefix = f"{shop}:"
    if text[: len(prefix)].casefold() == prefix.casefold():
        return text[len(prefix) :].strip() or None
    if references == "prefixed":
        return None
    return text or None


def parse_export_date(text: str, tz: tzinfo) -> datetime:
    """Aware UTC instant of an export date: what :func:`~connectors.erp.files.values.parse_datetime`
    reads, plus ``20260705`` (file names, AS400-style exports). Naive values are local to ``tz``."""
    match = _COMPACT_DATE.fullmatch(text.strip())
    try:
        return parse_datetime(f"{match[1]}-{match[2]}-{match[3]}" if match else text, tz=tz)
    except ValueError as exc:
        if match:
            raise ValueError(f"{text!r} is not a valid date") from None
        raise exc from None


def modified_at(path: Path) -> datetime:
    """When ``path`` was last written (aware UTC)."""
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)
    except OSError as exc:  # a share gone for a moment, a file the ERP is rewriting
        raise Retryable(f"cannot read {path}: {exc}") from exc


def shop_prefix(settings: FilesSettings) -> str:
    """The ``"<shop>:"`` prefix of web references: the order files', else the shipments export's."""
    if settings.orders is not None:
        return settings.orders.shop
    return settings.shipments.shop if settings.shipments is not None else DEFAULT_SHOP


# -- settings ------------------------------------------------------------------------------------


# -- rules (pure) -----------------------------------------------------------------------------------


def order_status(statuses: Iterable[str]) -> str:
    """The status of an order (or of one delivery) from those of its deliveries (or rows):
    refunded if any is; cancelled if all are; delivered when every other one is delivered;
    shipped when one left; else processing."""
    found = list(statuses)
    if "refunded" in found:
        return "refunded"
    live = [s for s in found if s != "cancelled"]
    if not live:
        return "cancelled"
    if all(s == "delivered" for s in live):
        return "delivered"
    if any(s in _SHIPPED for s in live):
        return "shipped"
    return "processing"


# -- reading ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Row:
    status: str
    shipped_at: datetime | None
    delivered_at: datetime | None
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    sku: str | None
    quantity: Decimal | None


@dataclass(slots=True)
class _Order:
    shop_order_id: str
    erp_reference: str
    deliveries: dict[str, list[_Row]] = field(default_factory=dict)
    issues: list[RecordError] = field(default_factory=list)
    touched: datetime = _NEVER
    """The latest modification time of the export files holding its rows."""

    def dates(self) -> list[datetime]:
        return [d for rows in self.deliveries.values() for r in rows for d in (r.shipped_at, r.delivered_at) if d]

    def status(self) -> OrderStatus:
        by_delivery = {number: order_status(r.status for r in rows) for number, rows in self.deliveries.items()}
        shipments = [
            parcel
            for number, rows in self.deliveries.items()
            if by_delivery[number] in _SHIPPED
            for parcel in _parcels(number, rows)
        ]
        dates = self.dates()
        return OrderStatus(
            shop_order_id=self.shop_order_id,
            erp_reference=self.erp_reference,
            status=order_status(by_delivery.values()),
            changed_at=max(dates) if dates else self.touched,
            shipments=shipments,
            issues=self.issues,
        )


def _parcels(number: str, rows: Sequence[_Row]) -> list[Shipment]:
    """One shipment per tracking number of the delivery (rows without one go with the first),
    or one for the whole delivery; lines of the same SKU summed, in order of appearance."""
    tracking = list(dict.fromkeys(r.tracking_number for r in rows if r.tracking_number))
    groups: dict[str | None, list[_Row]] = {t: [] for t in tracking} or {None: []}
    first = next(iter(groups))
    for row in rows:
        groups[row.tracking_number if row.tracking_number in groups else first].append(row)
    shipped = [r.shipped_at for r in rows if r.shipped_at]
    delivered = [r.delivered_at for r in rows if r.delivered_at]
    parcels = []
    for number_of_parcel, parcel_rows in groups.items():
        quantities: dict[str, Decimal] = {}
        for row in parcel_rows:
            if row.sku and row.quantity:
                quantities[row.sku] = quantities.get(row.sku, Decimal(0)) + row.quantity
        parcels.append(
            Shipment(
                erp_id=number if len(groups) == 1 else f"{number}/{number_of_parcel}",
                carrier=_first(r.carrier for r in [*parcel_rows, *rows]),
                tracking_number=number_of_parcel,
                tracking_url=_first(r.tracking_url for r in parcel_rows),
                shipped_at=min(shipped) if shipped else None,
                delivered_at=max(delivered) if delivered else None,
                lines=[ShipmentLine(sku, quantity) for sku, quantity in quantities.items()],
            )
        )
    return parcels


def _first(values: Iterable[str | None]) -> str | None:
    return next((v for v in values if v), None)


class FilesFeedback:
    """``StatusSource`` of the files connector (mixed into ``FilesConnector``)."""

    settings: FilesSettings

    def iter_statuses(
        self, since: datetime | None, shop_order_ids: Sequence[str] | None = None
    ) -> Iterator[OrderStatus]:
        """Statuses of the web orders of the shipments export whose rows are dated, or whose
        export file was written, at or after ``since`` (aware UTC; None: all); of these shop
        orders only when given. Oldest change first.

        Raises:
            Fatal: no shipments export configured, no file matches it, or a column is missing.
        """
        wanted = set(shop_order_ids) if shop_order_ids is not None else None
        orders = self._read_orders(wanted)
        statuses = [(order.status(), order.touched) for order in orders.values()]
        statuses.sort(key=lambda pair: (pair[0].changed_at, pair[0].shop_order_id))
        for status, touched in statuses:
            if since is None or status.changed_at >= since or touched >= since:
                yield status

    def _shipments(self) -> ShipmentExportSettings:
        if self.settings.shipments is None:
            raise Fatal(
                "the files connector has no shipments export configured.",
                resolution="add a [connections.<name>.erp.shipments] table with the export's path and columns.",
            )
        return self.settings.shipments

    def _read_orders(self, wanted: set[str] | None) -> dict[str, _Order]:
        s = self._shipments()
        c = s.columns
        shop = shop_prefix(self.settings)
        zone = ZoneInfo(s.timezone)
        statuses = {fold(k): v for k, v in s.statuses.items()}
        required = [c.order, c.delivery, c.date, c.carrier, c.tracking_number, c.tracking_url, c.sku, c.quantity]
        required += [c.status, c.delivered_date, c.erp_reference]
        orders: dict[str, _Order] = {}
        left_out = 0
        for file in match_files(s.path, what="shipments"):
            touched = modified_at(file)
            for origin, row in export_rows(glob.escape(str(file)), s, what="shipments", required=required):
                order_id = web_order_id(pick(row, c.order), shop, s.references)
                if order_id is None:
                    left_out += 1  # no web reference: a counter or phone sale's delivery
                    continue
                if wanted is not None and order_id not in wanted:
                    continue
                reference = pick(row, c.erp_reference) or pick(row, c.order) or order_id
                order = orders.setdefault(order_id, _Order(order_id, reference))
                order.touched = max(order.touched, touched)
                self._add_row(order, row, origin, statuses, zone)
        if left_out:
            log.debug("%d shipments export rows without a web order reference left out", left_out)
        return orders

    def _add_row(
        self, order: _Order, row: dict[str, str], origin: str, statuses: dict[str, str], zone: ZoneInfo
    ) -> None:
        s = self._shipments()
        c = s.columns

        def issue(field_name: str, column: str | None, reason: str) -> None:
            order.issues.append(
                RecordError(order.shop_order_id, field_name, f"column {column!r} ({origin}): {reason}", check="parse")
            )

        def date(column: str | None, field_name: str) -> datetime | None:
            text = pick(row, column)
            if text is None:
                return None
            try:
                return parse_export_date(text, zone)
            except ValueError as exc:
                issue(field_name, column, str(exc))
                return None

        delivery = pick(row, c.delivery)
        if delivery is None:
            issue("shipments.erp_id", c.delivery, "no delivery number")
            return
        status = "shipped"
        if (text := pick(row, c.status)) is not None:
            if fold(text) in statuses:
                status = statuses[fold(text)]
            else:
                issue("status", c.status, f"{text!r} is not in shipments.statuses ({', '.join(s.statuses)})")
        quantity: Decimal | None = None
        sku = pick(row, c.sku)
        if sku is not None:
            text = pick(row, c.quantity)
            try:
                quantity = parse_decimal(text or "", decimal_separator=s.decimal_separator)
                if quantity < 0:
                    raise ValueError(f"{text!r} is negative")
            except ValueError as exc:
                issue("shipments.lines.quantity", c.quantity, str(exc) if text else f"no quantity for {sku}")
                quantity = None
        order.deliveries.setdefault(delivery, []).append(
            _Row(
                status=status,
                shipped_at=date(c.date, "shipments.shipped_at"),
                delivered_at=date(c.delivered_date, "shipments.delivered_at"),
                carrier=pick(row, c.carrier),
                tracking_number=pick(row, c.tracking_number),
                tracking_url=pick(row, c.tracking_url),
                sku=sku,
                quantity=quantity,
            )
        )
