"""The files connector as an order sink: one order file per web order, dropped in an outbox folder
for the ERP's import (Sage 100's "import de pièces", EBP's "import paramétrable"), found again there
or in the folders the import moves it to, written so the ERP never sees half a file and two
writers cannot both place it; a payment settled later gets a deposit file of its own. The rows are
made in :mod:`.order_rows`; layout, exactly-once and payments: ``docs/files-orders.md``."""

from __future__ import annotations

import csv
import errno
import glob
import hashlib
import os
import re
import secrets
import string
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from connectors.base import ErpOrderRef
from connectors.erp.files.order_rows import (
    _ENCODED,
    _articles,
    _cell,
    _check,
    _deposit,
    _deposit_label,
    _Money,
    _Row,
    _serialise,
    order_rows,
    split_discount,
)
from connectors.erp.files.reader import read_csv, read_xml
from connectors.erp.files.settings import _SAFE, OrderColumns, OrderExportSettings, RowTypes
from connectors.erp.files.values import parse_decimal
from connectors.errors import Fatal, RecordError, Retryable, Skip
from connectors.models import Order, Payment, ensure_utc

if TYPE_CHECKING:
    from connectors.erp.files.settings import FilesSettings

__all__ = ["FilesOrders", "OrderColumns", "OrderExportSettings", "RowTypes", "order_rows", "split_discount"]

_MAX_KEY = 40


# -- settings ---------------------------------------------------------------------------------------


# -- the rows of an order (pure) --------------------------------------------------------------------


# -- file names -------------------------------------------------------------------------------------


def _quote(value: str) -> str:
    """A value in a file name: letters, digits, '-' and '_' kept, anything else %-encoded (UTF-8),
    so the name is portable (Windows shares) and the id reads back exactly."""
    return "".join(c if c.isascii() and _SAFE.match(c) else "".join(f"%{b:02X}" for b in c.encode()) for c in value)


def _payment_key(payment: Payment) -> str:
    """The part of a deposit file's name that identifies the payment."""
    if payment.transaction_id and len(_quote(payment.transaction_id)) <= _MAX_KEY:
        return _quote(payment.transaction_id)
    paid = ensure_utc(payment.paid_at).isoformat() if payment.paid_at else "-"
    identity = payment.transaction_id or f"{payment.method}|{format(payment.amount.normalize(), 'f')}|{paid}"
    return "h" + hashlib.sha256(identity.encode()).hexdigest()[:16]


@dataclass(slots=True)
class _Names:
    """File names of one configuration, and the expressions that recognise them in a folder."""

    s: OrderExportSettings
    order: re.Pattern[str] = field(init=False)
    deposit: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        stem = ""
        for literal, name, _, _ in string.Formatter().parse(self.s.file_name):
            stem += re.escape(literal)
            if name == "shop":
                stem += re.escape(self.s.shop)
            elif name == "id":
                stem += f"(?P<id>{_ENCODED})"
            elif name == "date":
                stem += r"\d{8}"
        suffix = re.escape(self.s.suffix)
        self.order = re.compile(f"(?<![A-Za-z0-9]){stem}{suffix}")
        self.deposit = re.compile(f"(?<![A-Za-z0-9]){stem}-deposit-(?P<key>{_ENCODED}){suffix}")

    def of_order(self, order: Order) -> str:
        day = ensure_utc(order.created_at).astimezone(ZoneInfo(self.s.timezone)).strftime("%Y%m%d")
        return self.s.file_name.format(shop=self.s.shop, id=_quote(order.shop_id), date=day) + self.s.suffix

    def of_deposit(self, order_file: str, payment: Payment) -> str:
        return f"{order_file.removesuffix(self.s.suffix)}-deposit-{_payment_key(payment)}{self.s.suffix}"


@dataclass(slots=True)
class _Written:
    """What a scan of the outbox and the processed folders found, by shop order id."""

    orders: dict[str, tuple[Path, str]] = field(default_factory=dict)
    """shop order id -> (where the file is now, the name passerelle gave it)."""
    deposits: dict[tuple[str, str], tuple[Path, str]] = field(default_factory=dict)

    def add(self, path: Path, names: _Names, *, exact: bool) -> None:
        """Classify one file: in the outbox the name is passerelle's own (exact); in a processed
        folder the ERP may have prefixed or suffixed it (``20260705-vendure-42.csv.done``)."""
        name = path.name
        if name.startswith(".") and name.endswith(".tmp"):
            return  # a write in progress, or the leftover of a killed one
        match = names.deposit.fullmatch(name) if exact else names.deposit.search(name)
        if match is not None:
            self.deposits.setdefault((unquote(match["id"]), match["key"]), (path, match.group(0)))
            return
        match = names.order.fullmatch(name) if exact else names.order.search(name)
        if match is not None:
            self.orders.setdefault(unquote(match["id"]), (path, match.group(0)))


# -- the sink ---------------------------------------------------------------------------------------


class FilesOrders:
    """``OrderSink`` of the files connector (mixed into ``FilesConnector``)."""

    settings: FilesSettings

    def find_orders(self, shop_refs: Sequence[str]) -> dict[str, ErpOrderRef]:
        """Order files already written for these shop order ids (not prefixed), in the outbox or
        taken by the ERP (``processed``): one scan of the folders whatever the number of ids.

        Raises:
            Fatal: no ``orders`` settings, a missing outbox or processed folder, a file unreadable.
        """
        s = self._orders()
        written = self._scan(s)
        return {
            shop_id: self._ref(s, shop_id, *written.orders[shop_id])
            for shop_id in dict.fromkeys(shop_refs)
            if shop_id in written.orders
        }

    def import_order(self, order: Order, products: Mapping[str, str]) -> ErpOrderRef:
        """Write the order file of ``order`` (see the module docstring); idempotent.

        ``products`` maps line ids to ERP article codes. The returned ``total_tax_included`` is the
        shop's: a files ERP computes nothing passerelle can read back. Characters the encoding
        cannot hold (a name in another script) are transliterated and noted in ``order.issues``, as
        is a line written with the placeholder article.

        Raises:
            Refused: no lines, an unbound line without ``placeholder_article``, a currency not in
                ``currencies``.
            Fatal: no ``orders`` settings; the outbox missing or not writable.
            Retryable: the outbox could not be written for another reason (a share gone away).
        """
        s = self._orders()
        names = _Names(s)
        written = self._scan(s)
        if order.shop_id in written.orders:
            return self._ref(s, order.shop_id, *written.orders[order.shop_id])
        _check(order, s)
        rows = order_rows(order, _articles(order, products, s), s)
        data, changed = _serialise(rows, s)
        order.issues += [
            RecordError(order.shop_id, f, f"not representable in {s.encoding}: transliterated", check="platform")
            for f in changed
        ]
        name = names.of_order(order)
        if not _place(Path(s.outbox), name, data):  # another writer placed it meanwhile
            return self._ref(s, order.shop_id, Path(s.outbox) / name, name)
        header = rows[0].values
        account = header["account"] if s.format == "xml" or s.columns.account else ""  # as find_orders reads it
        return ErpOrderRef(name, header["reference"], order.total_tax_included, account or None)

    def record_payment(self, erp: ErpOrderRef, payment: Payment) -> str:
        """Export a settled payment as a deposit; returns the name of the file that holds it.

        A payment settled at import time is in the order file already (its name is returned);
        a later one gets a deposit file with the order's header row and one deposit row. The
        same payment (same transaction id; without one, same method, amount and time) always
        gives the same file, written once.

        Raises:
            Skip: the payment is not settled.
            Fatal: the order file cannot be found (an ERP that deletes imported files, or a
                processed folder missing from the settings) or read back.
        """
        if payment.state != "settled":
            raise Skip(f"payment {payment.transaction_id or payment.method} is {payment.state}, not settled")
        s = self._orders()
        names = _Names(s)
        shop_id = erp.reference.removeprefix(f"{s.shop}:")
        written = self._scan(s)
        if shop_id not in written.orders:
            raise Fatal(
                f"the order file {erp.erp_id} ({erp.reference}) is neither in the outbox nor in a processed folder.",
                resolution="make the ERP's import move imported files (not delete them) and list that folder in "
                "processed of [connections.<name>.erp.orders].",
            )
        path, order_file = written.orders[shop_id]
        header, deposits = _read_back(path, s)
        if any(_same_payment(row, payment, s) for row in deposits):
            return order_file
        name = names.of_deposit(order_file, payment)
        if (shop_id, _payment_key(payment)) in written.deposits:
            return written.deposits[shop_id, _payment_key(payment)][1]
        money = _Money(header.get("currency") or None, s.decimal_separator)
        header = {**header, "document_type": s.deposit_document_type}
        data, _ = _serialise([_Row("header", header), _Row("deposit", _deposit(payment, s, money))], s)
        _place(Path(s.outbox), name, data)
        return name

    # -- helpers ---------------------------------------------------------------------------------
    def _orders(self) -> OrderExportSettings:
        if self.settings.orders is None:
            raise Fatal(
                "the files connector has no order outbox configured.",
                resolution="add a [connections.<name>.erp.orders] table with the outbox folder the ERP imports "
                "orders from (see docs/files-orders.md).",
            )
        return self.settings.orders

    def _scan(self, s: OrderExportSettings) -> _Written:
        """Every order and deposit file in the outbox, then in the processed folders.

        The outbox is listed first on purpose: a file the ERP moves while we scan is either still
        in the outbox when we list it, or already in its processed folder when we list that (a
        move, or a copy then a delete, never leaves it in neither place over that order).
        """
        names = _Names(s)
        written = _Written()
        outbox = Path(s.outbox)
        if not outbox.is_dir():
            raise Fatal(
                f"the order outbox {outbox} is not a folder.",
                resolution="create it (or mount the share the ERP imports from), or fix outbox in "
                "[connections.<name>.erp.orders].",
            )
        for path in _files(outbox):
            written.add(path, names, exact=True)
        for entry in s.processed:
            if glob.has_magic(entry):
                folders = [Path(m) for m in sorted(glob.glob(entry, recursive=True))]
            elif Path(entry).is_dir():
                folders = [Path(entry)]
            else:
                raise Fatal(
                    f"the processed folder {entry} does not exist: orders the ERP already took could be written again.",
                    resolution="create it (or mount its share), or fix processed in [connections.<name>.erp.orders].",
                )
            for folder in folders:
                for path in _files(folder) if folder.is_dir() else [folder]:
                    written.add(path, names, exact=False)
        return written

    def _ref(self, s: OrderExportSettings, shop_id: str, path: Path, name: str) -> ErpOrderRef:
        """The ref of an order file found on disk: its total and account read back from it."""
        header, _ = _read_back(path, s)
        try:
            total = parse_decimal(header.get("total_tax_included", ""), decimal_separator=s.decimal_separator)
        except ValueError as exc:
            raise _unreadable(path, f"its total: {exc}") from None
        return ErpOrderRef(name, f"{s.shop}:{shop_id}", total, header.get("account") or None)


# -- serialisation, reading back, placing -----------------------------------------------------------


def _read_back(path: Path, s: OrderExportSettings) -> tuple[dict[str, str], list[dict[str, str]]]:
    """(header, deposit rows) of an order file passerelle wrote, by field name."""
    try:
        if s.format == "xml":
            headers = [row for _, row in read_xml(path, record_tag="header")]
            deposits = [row for _, row in read_xml(path, record_tag="deposit")]
        else:
            by_column = {name: f for f, name in s.columns.enabled()}
            rows = [
                {by_column[k]: v for k, v in row.items() if k in by_column}
                for _, row in read_csv(path, encoding=s.encoding, delimiter=s.delimiter)
            ]
            headers = [r for r in rows if r.get("row_type") == s.row_types.header]
            deposits = [r for r in rows if r.get("row_type") == s.row_types.deposit]
    except (OSError, UnicodeDecodeError, csv.Error, ET.ParseError) as exc:
        raise _unreadable(path, str(exc)) from None
    if not headers:
        raise _unreadable(path, f"no header row (row type {s.row_types.header!r} in {s.columns.row_type!r})")
    return headers[0], deposits


def _unreadable(path: Path, why: str) -> Fatal:
    return Fatal(
        f"the order file {path} cannot be read back ({why}).",
        resolution="the orders settings (format, encoding, columns, row types) must stay those the file was "
        "written with: restore them in [connections.<name>.erp.orders], or move the file out of the way "
        "after checking the ERP has the order.",
    )


def _same_payment(row: Mapping[str, str], payment: Payment, s: OrderExportSettings) -> bool:
    """A deposit row read back is this payment: same transaction id, or, without one, same
    method, amount and description (which carries the time of payment to the second)."""
    encoding = None if s.format == "xml" else s.encoding
    if payment.transaction_id:
        return row.get("transaction_id") == _cell(payment.transaction_id, encoding)
    if row.get("transaction_id"):
        return False
    method = s.payment_methods.get(payment.method, payment.method)
    try:
        amount = parse_decimal(row.get("deposit_amount", ""), decimal_separator=s.decimal_separator)
    except ValueError:
        return False
    return (
        row.get("payment_method") == _cell(method, encoding)
        and amount == payment.amount
        and row.get("description") == _cell(_deposit_label(payment, s), encoding)
    )


def _files(folder: Path) -> Iterator[Path]:
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_file():
                yield Path(entry.path)


def _place(folder: Path, name: str, data: bytes) -> bool:
    """Write ``folder/name`` atomically; False when a file of that name appeared meanwhile.

    Temporary file in the same folder (same file system: the link and the rename are atomic),
    flushed to disk, then hard-linked to its name, which refuses an existing name; on a share
    without hard links, renamed over it (a concurrent writer of the same order wrote the same
    bytes). Leftovers of killed writes of this name are removed first.
    """
    for stale in folder.glob(f".{glob.escape(name)}.*.tmp"):
        with suppress(OSError):
            stale.unlink()
    temporary = folder / f".{name}.{secrets.token_hex(4)}.tmp"
    target = folder / name
    try:
        # Not mkstemp: its 0600 mode would hide the file from an ERP running as another user.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, target)
        except FileExistsError:
            return False
        except OSError:
            os.replace(temporary, target)
        _sync_folder(folder)
        return True
    except OSError as exc:
        if not isinstance(exc, PermissionError) and exc.errno != errno.EROFS:
            raise Retryable(f"writing {target} failed: {exc}") from exc
        raise Fatal(
            f"cannot write in the order outbox {folder}: {exc}.",
            resolution="give the passerelle worker write access to it, or fix outbox in "
            "[connections.<name>.erp.orders].",
        ) from None
    finally:
        with suppress(OSError):
            temporary.unlink()


def _sync_folder(folder: Path) -> None:
    """Make the new name durable (POSIX; Windows and some shares cannot open a folder)."""
    with suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
