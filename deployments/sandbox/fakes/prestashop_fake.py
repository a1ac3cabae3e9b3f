"""A PrestaShop 8.2 webservice for tests: ``httpx.MockTransport`` serving the captured samples.

Data: ``shared/contracts/prestashop-8.2/samples_json`` (captured from a real PrestaShop 8.2.0).
:func:`captured_data` completes what the captured orders and products point to, each record built
from a captured one of the same resource: address 5, country 8 (FR), order states 1, 6, 7, 8 (the
install defaults), order_details 4 and 5 (from ``order_rows``), feature values 4, 6, 7, 8.

Every rule this fake enforces names its source next to the code: a capture
(``tests/fixtures/contracts/prestashop-8.2``), PrestaShop 8's source (file and function), or
"stricter than the real platform". Test switches (``fail``, ``crash``, ``mail_fails``, ``lost``)
are named as such, not as rules.

Details: docs/connectors.md (Contract tests and the fake), tests/fixtures/contracts/README.md,
docs/prestashop.md (How it is tested: what the fake does not reproduce).
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import datetime
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

CONTRACT = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "contracts" / "prestashop-8.2"
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
"""Resources the fake takes writes for, and the node name of one record. Stricter than the real
platform: PrestaShop takes writes on most resources (WebserviceRequest::getResources forbids only
a few methods); the fake answers 405 on the resources passerelle never writes."""
CLASSES = {
    "products": "Product",
    "combinations": "Combination",
    "stock_availables": "StockAvailable",
    "specific_prices": "SpecificPrice",
    "product_options": "AttributeGroup",
    "product_option_values": "ProductAttribute",
    "categories": "Category",
    "order_carriers": "OrderCarrier",
    "order_histories": "OrderHistory",
    "customer_threads": "CustomerThread",
    "customer_messages": "CustomerMessage",
    "manufacturers": "Manufacturer",
    "product_features": "Feature",
    "product_feature_values": "FeatureValue",
}
"""The ObjectModel class of each resource (WebserviceRequest::getResources): validation messages
name it (``Property AttributeGroup->name is empty.``, ObjectModel::validateField)."""
FORBIDDEN_METHODS = {"stock_availables": {"POST", "DELETE"}}
"""``forbidden_method`` of WebserviceRequest::getResources (405, code 101)."""
NOT_WRITABLE = {"products": {"position_in_category"}}
"""Besides the synopsis' read_only fields. Stricter than the real platform: PrestaShop takes
``position_in_category`` through Product::setWsPositionInCategory, which moves the product in its
category or fails (PrestaShop issues #14903, #31340: a 500 code 135 in an empty category), so a
record read and sent back must leave it out."""
BAD_PRODUCT = (CONTRACT / "samples_xml" / "error_400_bad_product.xml").read_text()
"""The captured body of the 500 a malformed product POST got."""
DATE_FIELDS = {"date_add", "date_upd"}
"""Filterable and sortable only with ``date=1`` (WebserviceRequest::manageFilters drops them from
the available filters otherwise); contracts README: "``filter[field]=[a,b]`` with ``date=1`` for
date ranges" (observed)."""
DEFAULT_LANGUAGE = "1"
"""PS_LANG_DEFAULT of the captured shop. The configuration was not captured: language 1 (English)
is the first of ``languages.json`` and the one every captured multilingual value lists first."""
ERROR_401 = (CONTRACT / "samples_xml" / "error_401.xml").read_text()
"""The captured body of the 401 (``401 Unauthorized``, text, not an error document)."""
_PARAM = re.compile(r"^filter\[(\w+)\]$")
_SORT = re.compile(r"^\[(\w+?)_(ASC|DESC)(?:,(\w+?)_(ASC|DESC))*\]$")
_INTERVAL = re.compile(r"^([\d.:\-\s]+),([\d.:\-\s]+)$")
"""An interval filter value, as SQLUtils::getSQLRetrieveFilter recognises one."""


def schema_fields(resource: str) -> set[str]:
    """Field names of ``resource`` per its captured ``schema_synopsis`` (plus ``id``)."""
    root = ET.parse(CONTRACT / "schema_synopsis" / f"{resource}.xml").getroot()
    entity = next(iter(root))
    return {child.tag for child in entity} | {"id"}


def schema_associations(resource: str) -> set[str]:
    """Association names of ``resource`` per its captured ``schema_synopsis``."""
    root = ET.parse(CONTRACT / "schema_synopsis" / f"{resource}.xml").getroot()
    holder = next(iter(root)).find("associations")
    return {child.tag for child in holder} if holder is not None else set()


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


def _is_date(value: str, *, checkdate: bool) -> bool:
    """Validate::isDateFormat (``checkdate`` False) / Validate::isDate (True): the same pattern,
    isDate also asks PHP's checkdate (so ``0000-00-00`` is a format but not a date)."""
    match = re.fullmatch(r"(\d{4})-(0?\d|1[0-2])-(0?\d|[12]\d|3[01])( \d{2}:\d{2}:\d{2})?", value)
    if match is None:
        return False
    if not checkdate:
        return True
    try:
        datetime.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return False
    return True


_FORMATS: dict[str, Callable[[str], bool]] = {
    # classes/Validate.php (8.x). ObjectModel::validateField checks a format only on a non-empty
    # value, so each check here sees a non-empty string.
    "isBool": lambda v: v in {"0", "1"},
    "isUnsignedId": lambda v: re.fullmatch(r"0|[1-9]\d*", v) is not None and int(v) < 2**32,
    "isUnsignedInt": lambda v: re.fullmatch(r"0|[1-9]\d*", v) is not None and int(v) < 2**32,
    "isInt": lambda v: re.fullmatch(r"0|-?[1-9]\d*", v) is not None,
    "isPrice": lambda v: re.fullmatch(r"[0-9]{1,10}(\.[0-9]{1,9})?", v) is not None,
    "isNegativePrice": lambda v: re.fullmatch(r"-?[0-9]{1,10}(\.[0-9]{1,9})?", v) is not None,
    # isFloat compares (string)(float) with the text, which PHP does numerically: stricter than the
    # real platform here (no exponent, no leading dot), the connector writes plain decimals.
    "isFloat": lambda v: re.fullmatch(r"-?\d+(\.\d+)?", v) is not None,
    "isUnsignedFloat": lambda v: re.fullmatch(r"\d+(\.\d+)?", v) is not None,
    # 8.x: up to 13 digits, the check digit is not verified (a later Validate.php verifies it).
    "isEan13": lambda v: re.fullmatch(r"[0-9]{0,13}", v) is not None,
    "isReference": lambda v: re.search(r"[<>;={}]", v) is None,
    "isCatalogName": lambda v: re.search(r"[<>;=#{}]", v) is None,
    "isGenericName": lambda v: re.search(r"[<>={}]", v) is None,
    # PS_ALLOW_ACCENTED_CHARS_URL off (the install default).
    "isLinkRewrite": lambda v: re.fullmatch(r"[_a-zA-Z0-9\-]+", v) is not None,
    "isDateFormat": lambda v: _is_date(v, checkdate=False),
    "isDate": lambda v: _is_date(v, checkdate=True),
    "isTrackingNumber": lambda v: re.fullmatch(r"[~:#,%&_=\(\)\[\]\.\? \+\-@/a-zA-Z0-9]+", v) is not None,
    # Looser than the real platform (Egulias EmailValidator, RFC): any text with an @.
    "isEmail": lambda v: "@" in v,
}
"""Formats the fake checks; a format not listed here (isCleanHtml, isMessage, isColor...) is not
checked: looser than the real platform, for fields passerelle does not compose."""


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
        self.associations = {r: schema_associations(r) for r in SINGULAR}
        self.crash: Callable[[str, dict[str, Any]], bool] | None = None
        """Says which records get the captured 500 (a malformed product) instead of being written."""
        self.writes: list[tuple[str, str, str, dict[str, Any]]] = []
        """(method, resource, id, record as sent) of every write the fake accepted."""
        self.emails: list[tuple[str, str]] = []
        """(order id, state id) of every state e-mail PrestaShop would send (see ``_history``)."""
        self.mail_fails = False
        """Test switch: the shop cannot send e-mail (Mail::Send returns false), see ``_history``."""
        self.lost: list[str] = []
        """Test switch: the next write on each resource listed is saved, then answered with a read
        timeout (the resource is taken off the list)."""
        self.max_body: int | None = None
        """The web server's request body limit in bytes (None: none). Source: not PrestaShop but the
        server in front of it: nginx's ``client_max_body_size`` (default 1m) answers 413 "Request
        Entity Too Large" before PHP runs, so nothing is saved (nginx docs, ngx_http_core_module).
        Not observed on the live shop."""

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def record(self, resource: str, ident: int) -> dict[str, Any]:
        return next(r for r in self.data[resource] if r["id"] == ident)

    # -- the server -------------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.fail:
            return httpx.Response(self.fail.pop(0), text="<html>Internal Server Error</html>")
        if self.max_body is not None and len(request.content) > self.max_body:
            return httpx.Response(413, text="<html><head><title>413 Request Entity Too Large</title></head></html>")
        if not self._authorized(request):
            # The captured answer (error_401.xml). Which request it answered was not recorded;
            # WebserviceRequest::authenticate gives a present but wrong key an error document
            # (codes 18, 20, 21) instead: the connector reads the status only.
            return httpx.Response(401, text=ERROR_401)
        if request.method in {"POST", "PUT", "DELETE"}:
            return self._write(request)
        json_out = request.url.params.get("output_format") == "JSON"
        if request.url.path.rstrip("/") == "/api" and json_out:
            # Contracts README (observed): "the JSON root list (/api/?output_format=JSON) answers
            # 500, use XML there". The body was not recorded: an empty one here.
            return httpx.Response(500, text="")
        match = re.fullmatch(r"/api/(\w+)(/.*)?", request.url.path)
        if match is None:
            # Stricter than the real platform: the root list in XML is not served here (the
            # connector never reads it); any other path answers the captured empty 404 (error_404.xml).
            return httpx.Response(404, text="")
        resource = match.group(1)
        if resource not in self.fields:
            # WebserviceRequest::checkResource: 400, code 27 (with a "Did you mean" list).
            return _answer_error(json_out, 400, 27, f'Resource of type "{resource}" does not exists')
        if match.group(2):
            # Stricter than the real platform: no reads by id here; an unknown id answers this
            # empty 404 (captured error_404.xml; WebserviceRequest::getFilteredObjectDetails).
            return httpx.Response(404, text="")
        if not json_out:
            return _error(400, 0, "this fake serves JSON only: add output_format=JSON")  # stricter: XML is the default
        try:
            rows = self._select(resource, request.url.params)
        except _Refusal as exc:
            return _error(400, exc.code, exc.message)
        # An empty list answers a bare [] (captured order_payments.json, order_invoices.json).
        return httpx.Response(200, json={resource: rows} if rows else [])

    # -- writes -----------------------------------------------------------------------------
    def _write(self, request: httpx.Request) -> httpx.Response:
        match = re.fullmatch(r"/api/(\w+)(?:/(\d+))?", request.url.path)
        if match is None or match.group(1) not in SINGULAR:
            return _xml_error(405, 0, "this fake takes no write on this resource")  # stricter (see SINGULAR)
        resource, ident = match.group(1), match.group(2)
        if request.method in FORBIDDEN_METHODS.get(resource, set()):
            # WebserviceRequest::checkHTTPMethod, the resource's forbidden_method.
            return _xml_error(405, 101, f"Method {request.method} is not allowed for the resource {resource}")
        if request.method == "DELETE":
            row = self._find(resource, ident)
            if row is None:
                return _xml_error(404, 87, f"Id(s) not exists: {ident}")  # executeEntityDelete
            self.data[resource].remove(row)
            self.writes.append(("DELETE", resource, str(ident), {}))
            return httpx.Response(200, text="")  # executeEntityDelete: no output
        try:
            root = ET.fromstring(request.content)
        except ET.ParseError as exc:
            return _xml_error(500, 127, f"XML error : {exc}")  # saveEntityFromXml: 500, code 127
        node = root.find(SINGULAR[resource])
        if root.tag != "prestashop" or node is None:
            # Stricter than the real platform: saveEntityFromXml takes whatever children it finds.
            return _xml_error(400, 0, f"the XML must hold one <{SINGULAR[resource]}> (this fake is strict)")
        record, bad = _parse_record(node)
        body_id = str(record.get("id") or "")
        if request.method == "POST" and body_id:
            return _xml_error(400, 91, "id is forbidden when adding a new resource")  # saveEntityFromXml
        if request.method == "PUT" and not body_id:
            return _xml_error(400, 90, "id is required when modifying a resource")  # saveEntityFromXml
        if (request.method == "POST") == (ident is not None) or (ident is not None and ident != body_id):
            # Stricter than the real platform, which takes the id of the body only: the URL must
            # name the record (PUT /api/products/12) or none (POST /api/products).
            return _xml_error(400, 90, "the URL's id must be the record's (this fake is strict)")
        if bad and resource == "products":
            return httpx.Response(500, text=BAD_PRODUCT)  # what the real server answered such a product
        if self.crash is not None and self.crash(resource, record):
            return httpx.Response(500, text=BAD_PRODUCT)  # test switch
        current = self._find(resource, ident) if request.method == "PUT" else None
        if request.method == "PUT" and current is None:
            return _xml_error(404, 92, "Invalid ID")  # saveEntityFromXml
        error = self._validate(resource, record) or self._check_links(resource, record)
        if error is not None:
            return error
        if request.method == "POST":
            row = self._create(resource, record)
            if resource == "order_histories" and not self._history(row, request.url.params.get("sendemail") == "1"):
                self.writes.append((request.method, resource, str(row["id"]), record))
                # Observed on a live PrestaShop 8.2 that could not send e-mail: HTTP 500, code 46
                # "Unable to save resource" (WebserviceRequest::saveEntityFromXml when addWs returns
                # false), the history row and the order's new state saved all the same.
                return _xml_error(500, 46, "Unable to save resource")
        else:
            assert current is not None
            row = self._replace(resource, current, record)
        self.writes.append((request.method, resource, str(row["id"]), record))
        if resource in self.lost:
            self.lost.remove(resource)
            raise httpx.ReadTimeout("the answer was lost (test switch)", request=request)
        # saveEntityFromXml answers 201 / 200 with the record saved; the fake answers its id only
        # (what the connector reads: connectors.shop.prestashop.xml.answer_id).
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?><prestashop xmlns:xlink="http://www.w3.org/1999/xlink">'
            f"<{SINGULAR[resource]}><id><![CDATA[{row['id']}]]></id></{SINGULAR[resource]}></prestashop>"
        )
        return httpx.Response(201 if request.method == "POST" else 200, text=body)

    def _find(self, resource: str, ident: str | None) -> dict[str, Any] | None:
        return next((r for r in self.data[resource] if str(r["id"]) == str(ident)), None)

    def _validate(self, resource: str, record: dict[str, Any]) -> httpx.Response | None:
        """WebserviceRequest::saveEntityFromXml, then ObjectModel::validateFieldsLang (code 84) and
        validateFields (code 85), each field as ObjectModel::validateField checks it."""
        specs = self.specs[resource]
        klass = CLASSES[resource]
        for name, value in record.items():
            if name in {"id", "associations"}:
                continue
            spec = specs.get(name)
            if spec is None:
                # Stricter than the real platform, which ignores a field it does not know.
                return _xml_error(400, 0, f'parameter "{name}" does not exist in {resource} (this fake is strict)')
            if spec.read_only or name in NOT_WRITABLE.get(resource, set()):
                # saveEntityFromXml: a field whose setter is false (the synopsis' read_only).
                return _xml_error(400, 93, f'parameter "{name}" not writable. Please remove this attribute of this XML')
            if isinstance(value, list) != spec.i18n:
                # Stricter than the real platform: a multilingual field must come as <language>
                # nodes, a plain one as text (PrestaShop casts whatever it gets to a string).
                return _xml_error(
                    400, 84 if spec.i18n else 85, f'Validation error: "Property {klass}->{name} is not valid"'
                )
        for name, spec in specs.items():
            if spec.required and not spec.i18n and name not in record:
                return _xml_error(400, 41, f'parameter "{name}" required')  # saveEntityFromXml
        ordered = sorted(specs.values(), key=lambda spec: not spec.i18n)  # validateFieldsLang first
        for spec in ordered:
            if spec.read_only or (spec.name not in record and not spec.required):
                continue
            sent = record.get(spec.name)
            values = {v["id"]: v["value"] for v in sent} if spec.i18n and isinstance(sent, list) else {"": sent or ""}
            if spec.i18n:
                values.setdefault(DEFAULT_LANGUAGE, "")  # validateFieldsLang: the default language always
            for lang_id, text in values.items():
                message = self._field_error(
                    klass, spec, text, checks_required=not spec.i18n or lang_id == DEFAULT_LANGUAGE
                )
                if message is not None:
                    return _xml_error(400, 84 if spec.i18n else 85, f'Validation error: "{message}"')
        return None

    @staticmethod
    def _field_error(klass: str, spec: FieldSpec, text: str, *, checks_required: bool) -> str | None:
        """ObjectModel::validateField (its messages without human_errors): required (only in the
        default language for a multilingual field), size, then format on a non-empty value."""
        prop = f"{klass}->{spec.name}"
        if spec.required and checks_required and text == "":
            return f"Property {prop} is empty."
        if spec.max_size and len(text) > spec.max_size:
            return (
                f"The length of property {prop} is currently {len(text)} chars. "
                f"It must be between 0 and {spec.max_size} chars."
            )
        check = _FORMATS.get(spec.fmt or "")
        if text and check is not None and not check(text):
            return f"Property {prop} is not valid"
        return None

    def _check_links(self, resource: str, record: dict[str, Any]) -> httpx.Response | None:
        """Associations the resource has; a product's manufacturer and features must exist."""
        for name in record.get("associations") or {}:
            if name not in self.associations[resource] and name != "i18n":
                # saveEntityFromXml: an association the resource does not have (the synopsis').
                # Stricter than the real platform: PrestaShop saves the record, then refuses.
                return _xml_error(400, 86, f'The association "{name}" does not exists')
        if resource != "products":
            return None
        # Stricter than the real platform, which stores any id (Product has no check of
        # id_manufacturer; Product::setWsProductFeatures inserts the pairs as sent): the
        # manufacturer must exist, each feature entry must name a value of that feature.
        brand = str(record.get("id_manufacturer") or "0")
        if brand != "0" and self._find("manufacturers", brand) is None:
            return _xml_error(400, 0, f"manufacturer {brand} does not exist (this fake is strict)")
        for entry in (record.get("associations") or {}).get("product_features", []):
            # Both fields are required in the products synopsis' product_features association.
            if set(entry) != {"id", "id_feature_value"}:
                return _xml_error(400, 0, f"product_feature needs exactly id and id_feature_value, got {sorted(entry)}")
            value = self._find("product_feature_values", entry["id_feature_value"])
            if self._find("product_features", entry["id"]) is None or value is None:
                return _xml_error(400, 0, f"feature {entry['id']} / value {entry['id_feature_value']} does not exist")
            if str(value["id_feature"]) != str(entry["id"]):
                return _xml_error(400, 0, f"value {value['id']} is not a value of feature {entry['id']}")
        return None

    def _brand_name(self, row: dict[str, Any]) -> None:
        """The read-only ``manufacturer_name``: the name of the product's manufacturer, as read."""
        maker = self._find("manufacturers", row.get("id_manufacturer") or "0")
        row["manufacturer_name"] = maker["name"] if maker is not None else ""

    def _languages(self, spec: FieldSpec, sent: dict[str, str], existing: list[str]) -> list[dict[str, str]]:
        """A multilingual value as saved (ObjectModel::getFieldsLang): each language its value, a
        language left empty gets the default language's value if the field is required, else ''."""
        default = sent.get(DEFAULT_LANGUAGE, "")
        return [{"id": lang, "value": sent.get(lang) or (default if spec.required else "")} for lang in existing]

    def _create(self, resource: str, record: dict[str, Any]) -> dict[str, Any]:
        languages = [str(lang["id"]) for lang in _sample("languages")] or ["1"]
        row: dict[str, Any] = {"id": max((int(r["id"]) for r in self.data[resource]), default=0) + 1}
        for name, spec in self.specs[resource].items():
            if spec.i18n:
                row[name] = self._languages(spec, {v["id"]: v["value"] for v in record.get(name) or []}, languages)
            else:
                row[name] = record.get(name, "")
        if "associations" in record:
            row["associations"] = record["associations"]
        if "date_add" in row and not row["date_add"]:
            row["date_add"] = "2026-11-23 10:00:00"  # ObjectModel::add: now (a fixed clock here)
        self.data[resource].append(row)
        if resource == "products":
            self._brand_name(row)
            self._stock(str(row["id"]), "0")  # Product::add -> StockAvailable::setProductOutOfStock
        elif resource == "combinations":
            self._stock(str(row["id_product"]), str(row["id"]))  # Combination::add, likewise
            product = self._find("products", row["id_product"])
            if product is not None:
                product.setdefault("associations", {}).setdefault("combinations", []).append({"id": str(row["id"])})
        return row

    def _history(self, row: dict[str, Any], sendemail: bool) -> bool:
        """OrderHistory::addWs: the order moves to the state (changeIdOrderState, add); with
        ``sendemail=1`` addWithemail e-mails the state's template, if the state sends one
        (OrderHistory::sendEmail reads ``order_state.send_email = 1``). False when that e-mail
        fails (``mail_fails``): addWithemail returns false after the row was saved."""
        order = self._find("orders", row["id_order"])
        if order is not None:
            order["current_state"] = str(row["id_order_state"])
        state = self._find("order_states", row["id_order_state"])
        if sendemail and state is not None and str(state.get("send_email")) == "1":
            if self.mail_fails:
                return False
            self.emails.append((str(row["id_order"]), str(row["id_order_state"])))
        return True

    def _stock(self, product: str, attribute: str) -> None:
        """A stock_availables row as the captured ones (out_of_stock 2: the shop's default)."""
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
        """A PUT (saveEntityFromXml): fields not sent are emptied, multilingual ones included
        (a required one keeps the default language's value, ObjectModel::getFieldsLang);
        read-only fields and the associations not sent are kept (their setters are not called)."""
        for name, spec in self.specs[resource].items():
            if spec.read_only or name in NOT_WRITABLE.get(resource, set()):
                continue
            if spec.i18n:
                sent = {v["id"]: v["value"] for v in record.get(name) or []}
                current[name] = self._languages(spec, sent, [v["id"] for v in current[name]])
            else:
                current[name] = record.get(name, "")
        for name, items in (record.get("associations") or {}).items():
            current.setdefault("associations", {})[name] = items
        if resource == "products":
            self._brand_name(current)
        return current

    def _authorized(self, request: httpx.Request) -> bool:
        """The key as basic-auth user (empty password) or ``ws_key`` (contracts README, observed)."""
        if request.url.params.get("ws_key") == self.key:
            return True
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        user, _, _ = base64.b64decode(header[6:]).decode().partition(":")
        return user == self.key

    # -- reads --------------------------------------------------------------------------------
    def _select(self, resource: str, params: httpx.QueryParams) -> list[dict[str, Any]]:
        """WebserviceRequest::manageFilters: filters, display, sort, limit."""
        fields = self.fields[resource]
        date = params.get("date") == "1"
        filterable = fields if date else fields - DATE_FIELDS
        rows = list(self.data[resource])
        for name, value in params.multi_items():
            if name in {"output_format", "display", "sort", "limit", "date", "ws_key"}:
                continue
            match = _PARAM.match(name)
            if match is None:
                # Stricter than the real platform, which ignores a parameter it does not use.
                raise _Refusal(0, f"unknown parameter {name!r} (this fake is strict)")
            field = match.group(1)
            if field not in filterable:
                raise _Refusal(32, f"This filter does not exist ({field!r} in {resource}; dates need date=1)")
            if value == "":
                raise _Refusal(33, f'The filter "{field}" is malformed.')
            rows = [r for r in rows if _matches(r, field, value)]
        keys = self._sort_keys(resource, params.get("sort"), filterable)
        for field, descending in reversed(keys):
            rows.sort(key=lambda r, f=field: _sortable(r.get(f)), reverse=descending)
        limit = params.get("limit")
        if limit is not None:
            if not re.fullmatch(r"\d+(,\d+)?", limit):
                # PrestaShop refuses more than two parts (code 39) and casts the rest to int:
                # stricter than the real platform, any other shape is refused.
                raise _Refusal(39, f"bad limit {limit!r}: use limit=count or limit=offset,count")
            offset, _, count = limit.rpartition(",")
            start = int(offset or 0)
            rows = rows[start : start + int(count)]
        return [self._display(resource, r, params.get("display")) for r in rows]

    def _sort_keys(self, resource: str, sort: str | None, filterable: set[str]) -> list[tuple[str, bool]]:
        if sort is None:
            return [("id", False)]
        if not _SORT.fullmatch(sort):
            # Code 37; stricter than the real platform, which also takes a bare field_ASC.
            raise _Refusal(37, f"bad sort {sort!r}: use [field_ASC,field_DESC]")
        keys = []
        for part in sort.strip("[]").split(","):
            field, _, direction = part.rpartition("_")
            if field not in filterable:
                raise _Refusal(38, f"Unable to filter by this field ({field!r} in {resource}; dates need date=1)")
            keys.append((field, direction == "DESC"))
        return keys

    def _display(self, resource: str, row: dict[str, Any], display: str | None) -> dict[str, Any]:
        """WebserviceRequest::setFieldsToDisplay: full, minimum (the default: ids) or [f1,f2]."""
        if display == "full":
            return copy.deepcopy(row)
        if display is None or display == "minimum":
            return {"id": row["id"]}
        if not re.fullmatch(r"\[\w+(,\w+)*\]", display):
            # Code 36; stricter than the real platform on association sub-fields (f[a,b]).
            raise _Refusal(36, f"The 'display' syntax is wrong: {display!r}")
        wanted = display.strip("[]").split(",")
        unknown = [f for f in wanted if f not in self.fields[resource]]
        if unknown:
            raise _Refusal(35, f"Unable to display this field {unknown} of {resource}")
        return {f: copy.deepcopy(row.get(f)) for f in wanted}


class _Refusal(Exception):
    """A read PrestaShop refuses with 400 and this error code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _sortable(value: Any) -> Any:
    text = str(value)
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def _matches(row: dict[str, Any], field: str, value: str) -> bool:
    """SQLUtils::getSQLRetrieveFilter: ``[a|b]`` any of, ``[a,b]`` between (bounds sorted),
    ``[a]`` or ``a`` equal. Dates compare as the naive (shop-local) strings PrestaShop stores."""
    current = str(row.get(field))
    if not (value.startswith("[") and value.endswith("]")):
        if re.fullmatch(r"[%<>!].*\[.*\].*|.*\[.*\]%", value):
            raise _Refusal(0, f"filter {value!r}: this fake serves no LIKE, <, > or ! filter")
        return current == value
    inner = value[1:-1]
    if "|" in inner[1:]:
        return current in inner.split("|")
    interval = _INTERVAL.match(inner)
    if interval is not None:
        low, high = sorted((interval.group(1), interval.group(2)), key=_sortable)
        if current.isdigit() and low.isdigit() and high.isdigit():
            return int(low) <= int(current) <= int(high)
        return low <= current <= high
    return current == inner


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
    """PrestaShop's error document (the shape of the captured error_400_bad_product.xml)."""
    return httpx.Response(
        status,
        text=(
            '<?xml version="1.0" encoding="UTF-8"?>\n<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">\n'
            f"<errors>\n<error>\n<code><![CDATA[{code}]]></code>\n<message><![CDATA[{message}]]></message>\n"
            "</error>\n</errors>\n</prestashop>\n"
        ),
    )


def _error(status: int, code: int, message: str) -> httpx.Response:
    """The JSON error document (WebserviceOutputJSON::renderErrors: ``{"errors": [{code, message}]}``)."""
    return httpx.Response(status, json={"errors": [{"code": code, "message": message}]})


def _answer_error(json_out: bool, status: int, code: int, message: str) -> httpx.Response:
    return _error(status, code, message) if json_out else _xml_error(status, code, message)
