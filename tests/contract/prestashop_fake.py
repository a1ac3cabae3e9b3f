"""A PrestaShop 8.2 webservice for tests: ``httpx.MockTransport`` serving the captured samples.

Data: ``shared/contracts/prestashop-8.2/samples_json`` (captured from a real PrestaShop 8.2.0).
The capture holds subsets of some tables, so :func:`captured_data` completes what the captured
orders point to, each record built from a captured one of the same resource: address 5 (the demo
customer's), country 8 (FR), order states 1, 6, 7, 8 (PrestaShop's install defaults: awaiting
check payment, canceled, refunded, payment error), the order_details rows 4 and 5 (from the
orders' ``order_rows``) and the feature values 4, 6, 7, 8 the captured products point to (the demo
data's Cotton, Matt paper, Long sleeves, Short sleeves; only 1-3 were captured).

Rules the real server enforces, enforced here: the key as basic-auth user or ``ws_key`` (else the
captured 401 answer); only known resources; filter, display and sort fields must exist in the
resource's ``schema_synopsis``; a date interval filter needs ``date=1``; ``limit`` is ``count`` or
``offset,count``; JSON only with ``output_format=JSON`` (this fake serves no XML); an empty list
answers ``[]``. Dates compare as the naive (shop-local) strings PrestaShop stores.

Writes (XML, as the real webservice takes them; :class:`FakePrestaShop` keeps the state): POST
creates, PUT replaces the whole record, DELETE removes it. The body must be
``<prestashop><{singular}>...`` with the resource's fields per ``schema_synopsis``: a ``read_only``
field (and product ``position_in_category``) gets PrestaShop's 400 ``parameter "x" not writable.
Please remove this attribute of this XML`` (code 93); a required field missing gets ``parameter
"x" required`` (code 41); a value that fails the field's ``format`` / ``maxSize`` gets
``Validation error: "Property Class->field is not valid"`` (code 85); a product whose
``associations/categories`` is text instead of ``<category>`` nodes gets the captured 500 (PHP
warning, ``error_400_bad_product.xml``), as does any record ``crash`` says yes to. Stricter than
the real server: an unknown field is refused (PrestaShop ignores it silently), so a connector that
misspells a field fails its test. Like the real server (WebserviceRequest::saveEntityFromXml), a PUT
empties every field it does not carry, multilingual ones included (a required one left out: the
"is empty" validation error), and keeps the associations it does not carry; a POST of a
product or a combination adds its ``stock_availables`` row; an ``order_histories`` POST moves the
order's ``current_state`` (and is logged in ``emails`` with ``sendemail=1``).

Brand and features (stricter than the real server, which stores any id): a product's
``id_manufacturer`` must be 0 or a manufacturer's id; each ``associations/product_features`` entry
must be exactly ``<id>`` (a feature) and ``<id_feature_value>`` (a value *of that feature*), both
required by the synopsis. A product's read-only ``manufacturer_name`` follows its manufacturer.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
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
    "products",
    "combinations",
    "stock_availables",
    "specific_prices",
    "product_options",
    "product_option_values",
    "categories",
    "tax_rule_groups",
    "groups",
    "order_carriers",
    "customer_threads",
    "customer_messages",
    "manufacturers",
    "product_features",
    "product_feature_values",
)
SINGULAR = {
    "products": "product",
    "combinations": "combination",
    "stock_availables": "stock_available",
    "specific_prices": "specific_price",
    "product_options": "product_option",
    "product_option_values": "product_option_value",
    "categories": "category",
    "order_carriers": "order_carrier",
    "order_histories": "order_history",
    "customer_threads": "customer_thread",
    "customer_messages": "customer_message",
    "manufacturers": "manufacturer",
    "product_features": "product_feature",
    "product_feature_values": "product_feature_value",
}
"""Resources the fake takes writes for, and the node name of one record."""
NOT_WRITABLE = {"products": {"position_in_category"}}
"""Besides the synopsis' read_only fields: what PrestaShop 8 mishandles in a product PUT."""
BAD_PRODUCT = (CONTRACT / "samples_xml" / "error_400_bad_product.xml").read_text()
"""The captured body of the 500 a malformed product POST got."""
DATE_FIELDS = {"date_add", "date_upd", "invoice_date", "delivery_date"}
ERROR_401 = (CONTRACT / "samples_xml" / "error_401.xml").read_text()
_PARAM = re.compile(r"^filter\[(\w+)\]$")
_SORT = re.compile(r"^\[(\w+?)_(ASC|DESC)(?:,(\w+?)_(ASC|DESC))*\]$")


def schema_fields(resource: str) -> set[str]:
    """Field names of ``resource`` per its captured ``schema_synopsis`` (plus ``id``)."""
    root = ET.parse(CONTRACT / "schema_synopsis" / f"{resource}.xml").getroot()
    entity = next(iter(root))
    return {child.tag for child in entity} | {"id"}


@dataclasses.dataclass(frozen=True)
class FieldSpec:
    name: str
    required: bool
    read_only: bool
    fmt: str | None
    max_size: int | None
    i18n: bool


def field_specs(resource: str) -> dict[str, FieldSpec]:
    """The writable shape of ``resource`` per its captured ``schema_synopsis``."""
    root = ET.parse(CONTRACT / "schema_synopsis" / f"{resource}.xml").getroot()
    entity = next(iter(root))
    specs = {}
    for child in entity:
        if child.tag == "associations":
            continue
        size = child.get("maxSize")
        specs[child.tag] = FieldSpec(
            child.tag,
            child.get("required") == "true",
            child.get("read_only") == "true",
            child.get("format"),
            int(size) if size else None,
            child.find("language") is not None,
        )
    return specs


_FORMATS: dict[str, Callable[[str], bool]] = {
    "isBool": lambda v: v in {"", "0", "1"},
    "isUnsignedId": lambda v: v == "" or v.isdigit(),
    "isUnsignedInt": lambda v: v == "" or v.isdigit(),
    "isPositiveInt": lambda v: v == "" or (v.isdigit() and int(v) > 0),
    "isInt": lambda v: v == "" or re.fullmatch(r"-?\d+", v) is not None,
    "isPrice": lambda v: v == "" or re.fullmatch(r"\d{1,10}(\.\d{1,9})?", v) is not None,
    "isNegativePrice": lambda v: v == "" or re.fullmatch(r"-?\d{1,10}(\.\d{1,9})?", v) is not None,
    "isFloat": lambda v: v == "" or re.fullmatch(r"-?\d+(\.\d+)?", v) is not None,
    "isUnsignedFloat": lambda v: v == "" or re.fullmatch(r"\d+(\.\d+)?", v) is not None,
    "isEan13": lambda v: re.fullmatch(r"\d{0,13}", v) is not None,
    "isReference": lambda v: re.search(r"[<>;={}]", v) is None,
    "isCatalogName": lambda v: re.search(r"[<>;=#{}]", v) is None,
    "isGenericName": lambda v: re.search(r"[<>={}]", v) is None,
    "isLinkRewrite": lambda v: re.fullmatch(r"[_a-zA-Z0-9\-]*", v) is not None,
    "isDateFormat": lambda v: v == "" or re.fullmatch(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?", v) is not None,
    "isDate": lambda v: v == "" or re.fullmatch(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?", v) is not None,
    "isTrackingNumber": lambda v: re.fullmatch(r"[~:#,%&_=\(\)\[\]\.\? \+\-@/a-zA-Z0-9]*", v) is not None,
    "isEmail": lambda v: v == "" or "@" in v,
}


def _sample(resource: str) -> list[dict[str, Any]]:
    if not (CONTRACT / "samples_json" / f"{resource}.json").exists():
        return []  # nothing captured: the fake starts without any
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
    value_template = data["product_feature_values"][0]
    for ident, feature, text in (
        (4, "1", "Cotton"),
        (6, "1", "Matt paper"),
        (7, "2", "Long sleeves"),
        (8, "2", "Short sleeves"),
    ):
        value = copy.deepcopy(value_template)
        value.update(id=ident, id_feature=feature, value=[{"id": "1", "value": text}, {"id": "2", "value": text}])
        data["product_feature_values"].append(value)
    return data


class FakePrestaShop:
    """The fake server. ``data`` may be changed by a test; ``fail`` lists statuses to answer first."""

    def __init__(self, key: str, data: dict[str, list[dict[str, Any]]] | None = None) -> None:
        self.key = key
        self.data = data if data is not None else captured_data()
        self.fail: list[int] = []
        self.requests: list[httpx.Request] = []
        self.fields = {r: schema_fields(r) for r in RESOURCES}
        self.specs = {r: field_specs(r) for r in SINGULAR}
        self.crash: Callable[[str, dict[str, Any]], bool] | None = None
        """Says which records get the captured 500 (a malformed product) instead of being written."""
        self.writes: list[tuple[str, str, str, dict[str, Any]]] = []
        """(method, resource, id, record as sent) of every write the fake accepted."""
        self.emails: list[tuple[str, str]] = []
        """(order id, state id) of every state change sent with ``sendemail=1``."""

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
        if request.method in {"POST", "PUT", "DELETE"}:
            return self._write(request)
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

    # -- writes -----------------------------------------------------------------------------
    def _write(self, request: httpx.Request) -> httpx.Response:
        match = re.fullmatch(r"/api/(\w+)(?:/(\d+))?", request.url.path)
        if match is None or match.group(1) not in SINGULAR:
            return _xml_error(405, 0, "Method not allowed on this resource")
        resource, ident = match.group(1), match.group(2)
        if (request.method == "POST") == (ident is not None):
            return _xml_error(400, 66, "id is forbidden when adding a new resource" if ident else "id is required")
        if request.method == "DELETE":
            row = self._find(resource, ident)
            if row is None:
                return _xml_error(404, 87, f"Id(s) not exists: {ident}")
            self.data[resource].remove(row)
            self.writes.append(("DELETE", resource, str(ident), {}))
            return httpx.Response(200, text="")
        try:
            root = ET.fromstring(request.content)
        except ET.ParseError as exc:
            return _xml_error(400, 127, f"XML error : {exc}")
        node = root.find(SINGULAR[resource])
        if root.tag != "prestashop" or node is None:
            return _xml_error(400, 37, f"the XML must hold one <{SINGULAR[resource]}>")
        record, bad = _parse_record(node)
        if bad and resource == "products":
            return httpx.Response(500, text=BAD_PRODUCT)  # what the real server answered such a product
        if self.crash is not None and self.crash(resource, record):
            return httpx.Response(500, text=BAD_PRODUCT)
        error = self._validate(resource, record, ident) or self._check_links(resource, record)
        if error is not None:
            return error
        if request.method == "POST":
            row = self._create(resource, record)
            if resource == "order_histories" and request.url.params.get("sendemail") == "1":
                self.emails.append((str(row["id_order"]), str(row["id_order_state"])))
        else:
            current = self._find(resource, ident)
            if current is None:
                return _xml_error(404, 87, f"Id(s) not exists: {ident}")
            if str(record.get("id")) != str(ident):
                return _xml_error(400, 90, "id is required when modifying a resource (and must be the URL's)")
            row = self._replace(resource, current, record)
        self.writes.append((request.method, resource, str(row["id"]), record))
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?><prestashop xmlns:xlink="http://www.w3.org/1999/xlink">'
            f"<{SINGULAR[resource]}><id><![CDATA[{row['id']}]]></id></{SINGULAR[resource]}></prestashop>"
        )
        return httpx.Response(201 if request.method == "POST" else 200, text=body)

    def _find(self, resource: str, ident: str | None) -> dict[str, Any] | None:
        return next((r for r in self.data[resource] if str(r["id"]) == str(ident)), None)

    def _validate(self, resource: str, record: dict[str, Any], ident: str | None) -> httpx.Response | None:
        specs = self.specs[resource]
        klass = "".join(part.capitalize() for part in SINGULAR[resource].split("_"))
        for name, value in record.items():
            if name in {"id", "associations"}:
                continue
            spec = specs.get(name)
            if spec is None:
                return _xml_error(400, 0, f'parameter "{name}" does not exist in {resource} (this fake is strict)')
            if spec.read_only or name in NOT_WRITABLE.get(resource, set()):
                return _xml_error(400, 93, f'parameter "{name}" not writable. Please remove this attribute of this XML')
            texts = [v["value"] for v in value] if isinstance(value, list) else [value]
            if isinstance(value, list) != spec.i18n:
                return _xml_error(400, 85, f'Validation error: "Property {klass}->{name} is not valid"')
            check = _FORMATS.get(spec.fmt or "")
            for text in texts:
                if (check is not None and not check(text)) or (spec.max_size and len(text) > spec.max_size):
                    return _xml_error(400, 85, f'Validation error: "Property {klass}->{name} is not valid"')
        for name, spec in specs.items():
            if spec.required and not spec.i18n and name not in record:
                return _xml_error(400, 41, f'parameter "{name}" required')
            if spec.required and spec.i18n and not any(v["value"] for v in record.get(name) or []):
                return _xml_error(400, 85, f'Validation error: "Property {klass}->{name} is empty"')
        return None

    def _check_links(self, resource: str, record: dict[str, Any]) -> httpx.Response | None:
        """A product's manufacturer and features must exist (see the module docstring)."""
        if resource != "products":
            return None
        brand = str(record.get("id_manufacturer") or "0")
        if brand != "0" and self._find("manufacturers", brand) is None:
            return _xml_error(400, 0, f"manufacturer {brand} does not exist (this fake is strict)")
        for entry in (record.get("associations") or {}).get("product_features", []):
            if set(entry) != {"id", "id_feature_value"}:
                return _xml_error(400, 0, f"product_feature needs exactly id and id_feature_value, got {sorted(entry)}")
            value = self._find("product_feature_values", entry["id_feature_value"])
            if self._find("product_features", entry["id"]) is None or value is None:
                return _xml_error(400, 0, f"feature {entry['id']} / value {entry['id_feature_value']} does not exist")
            if str(value["id_feature"]) != str(entry["id"]):
                return _xml_error(400, 0, f"value {value['id']} is not a value of feature {entry['id']}")
        return None

    def _brand_name(self, row: dict[str, Any]) -> None:
        maker = self._find("manufacturers", row.get("id_manufacturer") or "0")
        row["manufacturer_name"] = maker["name"] if maker is not None else ""

    def _create(self, resource: str, record: dict[str, Any]) -> dict[str, Any]:
        languages = [str(lang["id"]) for lang in _sample("languages")] or ["1"]
        row: dict[str, Any] = {"id": max((int(r["id"]) for r in self.data[resource]), default=0) + 1}
        for name, spec in self.specs[resource].items():
            if spec.i18n:
                sent = {v["id"]: v["value"] for v in record.get(name) or []}
                first = next(iter(sent.values()), "")
                row[name] = [{"id": lang, "value": sent.get(lang, first)} for lang in languages]
            else:
                row[name] = record.get(name, "")
        if "associations" in record:
            row["associations"] = record["associations"]
        if "date_add" in row and not row["date_add"]:
            row["date_add"] = "2026-11-23 10:00:00"
        self.data[resource].append(row)
        if resource == "products":
            self._brand_name(row)
            self._stock(str(row["id"]), "0")
        elif resource == "combinations":
            self._stock(str(row["id_product"]), str(row["id"]))
            product = self._find("products", row["id_product"])
            if product is not None:
                product.setdefault("associations", {}).setdefault("combinations", []).append({"id": str(row["id"])})
        elif resource == "order_histories":
            order = self._find("orders", row["id_order"])
            if order is not None:
                order["current_state"] = str(row["id_order_state"])
        return row

    def _stock(self, product: str, attribute: str) -> None:
        rows = self.data["stock_availables"]
        rows.append(
            {
                "id": max((int(r["id"]) for r in rows), default=0) + 1,
                "id_product": product,
                "id_product_attribute": attribute,
                "id_shop": "1",
                "id_shop_group": "0",
                "quantity": "0",
                "depends_on_stock": "0",
                "out_of_stock": "2",
                "location": "",
            }
        )

    def _replace(self, resource: str, current: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
        """A PUT: fields not sent are emptied (read-only ones and associations not sent are kept)."""
        for name, spec in self.specs[resource].items():
            if spec.read_only or name in NOT_WRITABLE.get(resource, set()):
                continue
            if spec.i18n:
                sent = {v["id"]: v["value"] for v in record.get(name) or []}
                current[name] = [{"id": v["id"], "value": sent.get(v["id"], "")} for v in current[name]]
            else:
                current[name] = record.get(name, "")
        for name, items in (record.get("associations") or {}).items():
            current.setdefault("associations", {})[name] = items
        if resource == "products":
            self._brand_name(current)
        return current

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


def _parse_record(node: ET.Element) -> tuple[dict[str, Any], bool]:
    """A record in the JSON shape from its XML node; True when an association is malformed."""
    record: dict[str, Any] = {}
    bad = False
    for child in node:
        if child.tag == "associations":
            assoc: dict[str, list[dict[str, str]]] = {}
            for holder in child:
                if (holder.text or "").strip() and not len(holder):
                    bad = True  # text where PrestaShop loops over nodes: its PHP warning, a 500
                assoc[holder.tag] = [{f.tag: f.text or "" for f in item} for item in holder]
            record["associations"] = assoc
        elif child.find("language") is not None:
            record[child.tag] = [{"id": lang.get("id", ""), "value": lang.text or ""} for lang in child]
        else:
            record[child.tag] = child.text or ""
    return record, bad


def _xml_error(status: int, code: int, message: str) -> httpx.Response:
    """PrestaShop's error document (the shape of the captured error_*.xml)."""
    return httpx.Response(
        status,
        text=(
            '<?xml version="1.0" encoding="UTF-8"?>\n<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">\n'
            f"<errors>\n<error>\n<code><![CDATA[{code}]]></code>\n<message><![CDATA[{message}]]></message>\n"
            "</error>\n</errors>\n</prestashop>\n"
        ),
    )


def _error(status: int, message: str) -> httpx.Response:
    return httpx.Response(
        status,
        json={"errors": [{"code": 0, "message": message}]},
    )
