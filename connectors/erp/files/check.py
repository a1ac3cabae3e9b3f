"""``passerelle check`` for the files ERP: the export each configured flow reads is there and
readable (a glob matches at least one file), the order outbox is a folder passerelle may write to
(``os.access``, nothing written), the warehouses of ``[stock]`` appear in the stock export. Reads only."""

from __future__ import annotations

import glob
import os
from typing import TYPE_CHECKING

from connectors.checks import Check, CheckNeeds, attempt, failed, missing_names, passed

if TYPE_CHECKING:
    from connectors.erp.files.settings import FilesSettings

__all__ = ["FilesCheck"]


class FilesCheck:
    """``Checkable`` mixin of :class:`~connectors.erp.files.connector.FilesConnector`."""

    settings: FilesSettings

    if TYPE_CHECKING:  # provided by FilesStock

        def warehouses(self) -> list[str]: ...

    def check(self, needs: CheckNeeds) -> list[Check]:
        s = self.settings
        checks: list[Check] = []
        if needs.runs("catalogue"):
            checks.append(_files("article export", s.path, "erp.path"))
        if needs.runs("stock"):
            checks.append(_files("stock export", s.stock.path if s.stock else None, "erp.stock.path"))
            if s.stock is not None and needs.warehouses and checks[-1].ok:
                known, problem = attempt("warehouses", self.warehouses)
                checks += (
                    [problem]
                    if problem
                    else missing_names(
                        "warehouse",
                        needs.warehouses,
                        known or [],
                        where="the stock export",
                        resolution="use a warehouse code of the export's warehouse column in [stock] warehouses, "
                        "or list it in erp.stock.known_warehouses.",
                    )
                )
        if needs.runs("prices") and s.prices is not None:
            if s.prices.path is not None:
                checks.append(_files("price export", s.prices.path, "erp.prices.path"))
            if needs.groups and s.prices.group_prices is not None:
                checks.append(_files("group price export", s.prices.group_prices.path, "erp.prices.group_prices.path"))
        if needs.runs("orders"):
            if s.orders is None:
                checks.append(
                    failed(
                        "order outbox",
                        "not configured",
                        "set [connections.<name>.erp.orders] outbox (docs/files-exports.md).",
                    )
                )
            else:
                checks.append(_folder("order outbox", s.orders.outbox, write=True))
                checks += [_folder("processed order folder", folder) for folder in s.orders.processed]
        if needs.runs("feedback") and s.shipments is not None:
            checks.append(_files("shipment export", s.shipments.path, "erp.shipments.path"))
        if needs.runs("invoices") and s.invoices is not None:
            checks.append(_folder("invoice folder", s.invoices.folder))
            if s.invoices.index is not None:
                checks.append(_files("invoice index", s.invoices.index, "erp.invoices.index"))
        return checks


def _files(what: str, pattern: str | None, key: str) -> Check:
    if not pattern:
        return failed(what, "not configured", f"set {key} to the export's file (or a glob).")
    found = sorted(glob.glob(pattern))
    if not found:
        return failed(
            what,
            f"no file matches {pattern}",
            "check the path (relative paths are from the configuration's folder) and that the ERP exported it.",
        )
    unreadable = [path for path in found if not os.access(path, os.R_OK)]
    if unreadable:
        return failed(what, f"{unreadable[0]} cannot be read", "let the worker's user read the export files.")
    return passed(what, f"{len(found)} file{'s' if len(found) > 1 else ''} ({found[-1]})")


def _folder(what: str, path: str, *, write: bool = False) -> Check:
    if not os.path.isdir(path):
        return failed(what, f"{path} is not a folder", "create it, or fix the path in the configuration.")
    if not os.access(path, os.R_OK | os.X_OK | (os.W_OK if write else 0)):
        return failed(
            what,
            f"{path} cannot be {'written' if write else 'read'} by this user",
            f"let the worker's user {'write to' if write else 'read'} it.",
        )
    return passed(what, f"{path}{' (writable)' if write else ''}")
