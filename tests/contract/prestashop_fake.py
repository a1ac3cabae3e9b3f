"""A PrestaShop 8.2 webservice for tests: ``httpx.MockTransport`` serving the captured samples.

Data: ``shared/contracts/prestashop-8.2/samples_json`` (captured from a real PrestaShop 8.2.0).
The capture holds subsets of some tables, so :func:`captured_data` completes what the captured
orders point to, each record built from a captured one of the same resource: address 5 (the demo
customer's), country 8 (FR), order states 1, 6, 7, 8 (PrestaShop's install defaults: awaiting
check payment, canceled, refunded, payment error) and the order_details rows 4 and 5 (from the
orders' ``order_rows``).

Rules the real server enforces, enforced here: the key as basic-auth user or ``ws_key`` (else the
captured 401 answer); only known resources; filter, display and sort fields must exist in the
resource's ``schema_synopsis``; a date interval filter needs ``date=1``; ``limit`` is ``count`` or
``offset,count``; JSON only with ``output_format=JSON`` (this fake serves no XML); an empty list
answers ``[]``. Dates compare as the naive (shop-local) strings PrestaShop stores.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx

CONTRACT = Path(__file__).resolve().parents[1] / "fixtures" / "contracts" / "prestashop-8.2"
"""Copies of ``shared/contracts/prestashop-8.2`` (tests/fixtures/contracts/README.md)."""
RESOURCES = (
    "orders",
    "order_details",
    "customers",
    "addresses",
    "countries",
    "currencies",
    "order_states",
    "order_payments",
    "order_histories",
    "carriers",
)
DATE_FIELDS = {"date_add", "date_upd", "invoice_date", "delivery_date"}
ERROR_401 = (CONTRACT / "samples_xml" / "error_401.xml").read_text()
_PARAM = re.compile(r"^filter\[(\w+)\]$")
_SORT = re.compile(r"^\[(\w+?)_(ASC|DESC)(?:,(\w+?)_(ASC|DESC))*\]$")


def schema_fields(resource: str) -> set[str]:
    """Field names of ``resource`` per its captured ``schema_synopsis`` (plus ``id``)."""
    root = ET.parse(CONTRACT / "schema_synopsis" / f"{resource}.xml").getroot()
    entity = next(iter(root))
    return {child.tag for child in entity} | {"id"}


def _sample(resource: str) -> list[dict[str, Any]]:
    data = json.loads((CONTRACT / "samples_json" / f"{resource}.json").read_text())
    return [] if isinstance(data, list) else list(data[resource])


def captured_data() -> dict[str, list[dict[str, Any]]]:
    """The captured records of every served resource, completed as the module docstring says."""
    data = {r: _sample(r) for r in RESOURCES}
    address = copy.deepcopy(next(a for a in data["addresses"] if a["id"] == 6))
    address.update(
        id=5, id_customer="2", id_supplier="0", id_country="8", alias="Mon adresse", company="My Company",
        lastname="DOE", firstname="John", address1="16, Main street", address2="2nd floor",
        postcode="75002", city="Paris", phone="0102030405",
    )  # fmt: skip
    data["addresses"].append(address)
    france = copy.deepcopy(data["countries"][0])
    france.update(id=8, iso_code="FR", call_prefix="33", active="1", name=[{"id": "1", "value": "France"}])
    data["countries"].append(france)
    template = data["order_states"][0]
    for ident, name, mail, paid in (
        (1, "Awaiting check payment", "cheque", "0"),
        (6, "Canceled", "order_canceled", "0"),
        (7, "Refunded", "refund", "1"),
        (8, "Payment error", "payment_error", "0"),
    ):
        state = copy.deepcopy(template)
        state.update(id=ident, paid=paid, logable="0", invoice="0", name=[{"id": "1", "value": name}])
        state["template"] = [{"id": "1", "value": mail}]
        data["order_states"].append(state)
    known = {str(d["id"]) for d in data["order_details"]}
    detail_template = data["order_details"][0]
    for order in data["orders"]:
        for row in order["associations"]["order_rows"]:
            if row["id"] not in known:
                detail = copy.deepcopy(detail_template)
                detail.update({k: v for k, v in row.items() if k in detail})
                quantity = int(row["product_quantity"])
                detail.update(
                    id=int(row["id"]),
                    id_order=str(order["id"]),
                    total_price_tax_excl=f"{float(row['unit_price_tax_excl']) * quantity:.6f}",
                    total_price_tax_incl=f"{float(row['unit_price_tax_incl']) * quantity:.6f}",
                )
                data["order_details"].append(detail)
    return data


class FakePrestaShop:
    """The fake server. ``data`` may be changed by a test; ``fail`` lists statuses to answer first."""

    def __init__(self, key: str, data: dict[str, list[dict[str, Any]]] | None = None) -> None:
        self.key = key
        self.data = data if data is not None else captured_data()
        self.fail: list[int] = []
        self.requests: list[httpx.Request] = []
        self.fields = {r: schema_fields(r) for r in RESOURCES}

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def record(self, resource: str, ident: int) -> dict[str, Any]:
        return next(r for r in self.data[resource] if r["id"] == ident)

    # -- the server -------------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.fail:
            return httpx.Response(self.fail.pop(0), text="<html>Internal Server Error</html>")
        if not self._authorized(request):
            return httpx.Response(401, text=ERROR_401)  # the captured answer
        match = re.fullmatch(r"/api/(\w+)", request.url.path)
        if match is None or match.group(1) not in self.fields:
            return httpx.Response(404, text="")
        resource = match.group(1)
        params = request.url.params
        if params.get("output_format") != "JSON":
            return _error(400, "this fake serves JSON only: add output_format=JSON")
        try:
            rows = self._select(resource, params)
        except ValueError as exc:
            return _error(400, str(exc))
        return httpx.Response(200, json={resource: rows} if rows else [])

    def _authorized(self, request: httpx.Request) -> bool:
        if request.url.params.get("ws_key") == self.key:
            return True
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        user, _, _ = base64.b64decode(header[6:]).decode().partition(":")
        return user == self.key

    def _select(self, resource: str, params: httpx.QueryParams) -> list[dict[str, Any]]:
        fields = self.fields[resource]
        rows = list(self.data[resource])
        for name, value in params.multi_items():
            if name in {"output_format", "display", "sort", "limit", "date", "ws_key"}:
                continue
            match = _PARAM.match(name)
            if match is None:
                raise ValueError(f"unknown parameter {name!r}")
            field = match.group(1)
            if field not in fields:
                raise ValueError(f"filter field {field!r} does not exist in {resource}")
            rows = [r for r in rows if _matches(r, field, value, params.get("date") == "1")]
        keys = self._sort_keys(resource, params.get("sort"))
        for field, descending in reversed(keys):
            rows.sort(key=lambda r, f=field: _sortable(r.get(f)), reverse=descending)
        limit = params.get("limit")
        if limit is not None:
            if not re.fullmatch(r"\d+(,\d+)?", limit):
                raise ValueError(f"bad limit {limit!r}: use limit=count or limit=offset,count")
            offset, _, count = limit.rpartition(",")
            start = int(offset or 0)
            rows = rows[start : start + int(count)]
        return [self._display(resource, r, params.get("display")) for r in rows]

    def _sort_keys(self, resource: str, sort: str | None) -> list[tuple[str, bool]]:
        if sort is None:
            return [("id", False)]
        if not _SORT.fullmatch(sort):
            raise ValueError(f"bad sort {sort!r}")
        keys = []
        for part in sort.strip("[]").split(","):
            field, _, direction = part.rpartition("_")
            if field not in self.fields[resource]:
                raise ValueError(f"sort field {field!r} does not exist in {resource}")
            keys.append((field, direction == "DESC"))
        return keys

    def _display(self, resource: str, row: dict[str, Any], display: str | None) -> dict[str, Any]:
        if display == "full":
            return copy.deepcopy(row)
        if display is None:
            return {"id": row["id"]}
        if not re.fullmatch(r"\[\w+(,\w+)*\]", display):
            raise ValueError(f"bad display {display!r}")
        wanted = display.strip("[]").split(",")
        unknown = [f for f in wanted if f not in self.fields[resource]]
        if unknown:
            raise ValueError(f"display fields {unknown} do not exist in {resource}")
        return {f: copy.deepcopy(row.get(f)) for f in wanted}


def _sortable(value: Any) -> Any:
    text = str(value)
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def _matches(row: dict[str, Any], field: str, value: str, date: bool) -> bool:
    if not (value.startswith("[") and value.endswith("]")):
        return str(row.get(field)) == value
    inner = value[1:-1]
    if "," in inner:
        if field in DATE_FIELDS and not date:
            raise ValueError("a date interval filter needs date=1")
        low, high = inner.split(",", 1)
        current = str(row.get(field))
        if field in DATE_FIELDS:
            return low <= current <= high
        return int(low) <= int(current) <= int(high)
    return str(row.get(field)) in inner.split("|")


def _error(status: int, message: str) -> httpx.Response:
    return httpx.Response(
        status,
        json={"errors": [{"code": 0, "message": message}]},
    )
