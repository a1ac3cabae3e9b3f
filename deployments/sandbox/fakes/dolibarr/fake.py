"""A fake Dolibarr 19.0 REST API that keeps state and the rules of the real server.

Every rule names its source next to the code: a capture (``tests/fixtures/contracts/dolibarr-19.0``,
copies of ``shared/contracts``, from a real 19.0.4: its ``status.json``), ``swagger.json`` (the
server's own), Dolibarr's source (``htdocs/<module>/class/api_<module>.class.php``, function), or
"stricter than the real server" (a check kept to catch a malformed request of the connector's).
Records are made from the captured ones (copies with changed values), so their shapes are the
server's. Totals are computed as ``CommonObject::update_price`` does by default (each line rounded
to the cent, then summed).
"""

from __future__ import annotations

import base64
import copy
import json
import re
from collections.abc import Callable
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx

CONTRACTS = Path(__file__).resolve().parents[4] / "tests" / "fixtures" / "contracts"
CAPTURE = CONTRACTS / "dolibarr-19.0"
URL = "https://erp.example.test"
API = "/api/index.php/"
KEY = "fake-dolapikey-0123456789abcdef"
CENT = Decimal("0.01")
NOW = 1795383970  # the captures' clock (date_creation of thirdparties.json)


def load(name: str) -> Any:
    return json.loads((CAPTURE / name).read_text(encoding="utf-8"))


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.00000001'))}"


def _error(status: int, message: str, source: str) -> httpx.Response:
    """Restler's error body (error_401.json / error_404.json: code, message, debug.source)."""
    label = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error",
             503: "Service Unavailable"}[status]  # fmt: skip
    return httpx.Response(
        status,
        json={"error": {"code": status, "message": f"{label}: {message}"},
              "debug": {"source": source, "stages": {"success": ["get", "route", "negotiate"], "failure": ["call"]}}},
    )  # fmt: skip


# sqlfilters: "(t.field:op:value) and|or (...)"; DolibarrApi::_checkFilters / dolForgeCriteriaCallback
# (core/lib/functions.lib.php in 19) accept these operators; the value may hold colons (explode limit 3).
_CRITERION = re.compile(r"\(([a-z]+\.[a-zA-Z0-9_]+):(=|!=|<>|<=|>=|<|>|like|notlike|in|is):((?:[^()']|'[^']*')+)\)")


def _criteria(text: str) -> list[tuple[str, tuple[str, str, str]]] | None:
    """[(joiner, (field, op, value))] or None when Dolibarr refuses the syntax (503)."""
    out: list[tuple[str, tuple[str, str, str]]] = []
    rest, joiner = text.strip(), "and"
    while rest:
        match = _CRITERION.match(rest)
        if not match:
            return None
        out.append((joiner, (match.group(1), match.group(2), match.group(3).strip())))
        rest = rest[match.end() :].strip()
        if rest:
            word = re.match(r"(and|or)\s+", rest, re.IGNORECASE)
            if not word:
                return None
            joiner, rest = word.group(1).lower(), rest[word.end() :]
    return out


def _value(raw: str) -> list[str]:
    parts = re.findall(r"'([^']*)'|([^,]+)", raw)
    return [a if a or not b else b.strip() for a, b in parts]


class FakeDolibarr:
    """State: products, categories, warehouses, thirdparties, contacts, orders, invoices, discounts."""

    def __init__(self) -> None:
        self.transport = httpx.MockTransport(self.handle)
        self.requests: list[httpx.Request] = []
        self.products: dict[int, dict[str, Any]] = {}
        self.categories: dict[int, dict[str, Any]] = {}
        self.category_members: dict[int, set[int]] = {}
        self.warehouses: dict[int, dict[str, Any]] = {}
        self.thirdparties: dict[int, dict[str, Any]] = {}
        self.contacts: dict[int, dict[str, Any]] = {}
        self.orders: dict[int, dict[str, Any]] = {}
        self.invoices: dict[int, dict[str, Any]] = {}
        self.payments: dict[int, list[dict[str, Any]]] = {}
        self.discounts: dict[int, dict[str, Any]] = {}
        self.shipments: dict[int, dict[str, Any]] = {}
        self.attributes: dict[int, dict[str, Any]] = {}
        """Module Variants: llx_product_attribute (ProductAttribute: id, ref, ref_ext, label, position)."""
        self.attribute_values: dict[int, dict[str, Any]] = {}
        """llx_product_attribute_value (ProductAttributeValue: id, fk_product_attribute, ref, value, position)."""
        self.combinations: dict[int, dict[str, Any]] = {}
        """llx_product_attribute_combination + its combination2val pairs (ProductCombination)."""
        self.customer_prices: dict[int, dict[str, Any]] = {}
        """llx_product_customer_price (PriceByCustomerLine of productcustomerprice.class.php fetchAll)."""
        self.constants: set[str] = set()
        """Setup constants switched on (llx_const), e.g. PRODUIT_CUSTOMER_PRICES; none in a fresh Dolibarr."""
        self.documents: dict[str, bytes] = {}
        """Files of the documents dir, by "<modulepart>/<original_file>" (what builddoc wrote)."""
        self.pdf_fails: set[str] = set()
        """Invoice refs whose PDF generation fails (Facture::generateDocument <= 0: a broken model)."""
        self.clock = NOW
        """What the server's clock says: written into date_modification (llx_*.tms) on every change."""
        self.countries = {"FR": 1, "DE": 5, "BE": 2, "AD": 34, "AE": 227}  # llx_c_country rowids
        self._ids: dict[str, int] = {}
        self.fail_next: dict[str, int] = {}
        """Route prefix -> HTTP status answered once (a server error injected by a test)."""
        for row in load("warehouses.json"):
            self.warehouses[int(row["id"])] = row
        for row in load("thirdparties.json"):
            self.thirdparties[int(row["id"])] = row
        for row in load("products.json"):
            self.products[int(row["id"])] = row

    # -- helpers for tests -------------------------------------------------------------------------
    def _next(self, kind: str, table: dict[int, Any]) -> int:
        self._ids[kind] = max([self._ids.get(kind, 0), *table]) + 1
        return self._ids[kind]

    def add_product(self, ref: str, label: str, price: str, *, vat: str = "20", base: str = "HT", **fields: Any) -> int:
        row = copy.deepcopy(load("products.json")[0])
        pid = self._next("product", self.products)
        rate = Decimal(vat)
        amount = Decimal(price)
        ht, ttc = (amount, amount * (1 + rate / 100)) if base == "HT" else (amount / (1 + rate / 100), amount)
        row.update(id=str(pid), ref=ref, label=label, price=_money(ht), price_ttc=_money(ttc), price_base_type=base,
                   tva_tx=f"{rate:.4f}", stock_reel=None, **fields)  # fmt: skip
        self.products[pid] = row
        return pid

    def add_customer_price(
        self, product_id: int, thirdparty_id: int, price: str, *, base: str = "HT", vat: str = "20"
    ) -> int:
        """A customer price as the product card's "Prices per customer" tab saves it: both ``price``
        and ``price_ttc`` stored, whatever the basis typed (ProductCustomerPrice::create)."""
        rate, amount = Decimal(vat), Decimal(price)
        ht, ttc = (amount, amount * (1 + rate / 100)) if base == "HT" else (amount / (1 + rate / 100), amount)
        lid = self._next("customer_price", self.customer_prices)
        product, soc = self.products[product_id], self.thirdparties.get(thirdparty_id, {})
        # Columns of fetchAll's SELECT, values as the database driver returns them (strings).
        self.customer_prices[lid] = {
            "id": str(lid), "entity": "1", "datec": self.clock, "tms": self.clock, "fk_product": str(product_id),
            "ref_customer": None, "fk_soc": str(thirdparty_id), "price": _money(ht), "price_ttc": _money(ttc),
            "price_min": "0.00000000", "price_min_ttc": "0.00000000", "price_base_type": base,
            "default_vat_code": None, "tva_tx": f"{rate:.3f}", "recuperableonly": "0", "localtax1_tx": "0.000",
            "localtax2_tx": "0.000", "fk_user": "1", "import_key": None, "socname": soc.get("name"),
            "prodref": product["ref"],
        }  # fmt: skip
        return lid

    def add_category(self, label: str, parent: int = 0, members: tuple[int, ...] = ()) -> int:
        cid = self._next("category", self.categories)
        self.categories[cid] = {"id": str(cid), "label": label, "fk_parent": str(parent), "type": "0"}
        self.category_members[cid] = set(members)
        return cid

    def add_attribute(self, ref: str, label: str, values: dict[str, str]) -> tuple[int, dict[str, int]]:
        """An attribute and its values (POST /products/attributes, /attributes/{id}/values:
        ProductAttribute / ProductAttributeValue fields); returns its id and value ref -> id."""
        aid = self._next("attribute", self.attributes)
        self.attributes[aid] = {"id": str(aid), "ref": ref, "ref_ext": None, "label": label,
                                "position": str(len(self.attributes))}  # fmt: skip
        ids: dict[str, int] = {}
        for position, (value_ref, value) in enumerate(values.items()):
            vid = self._next("attribute_value", self.attribute_values)
            self.attribute_values[vid] = {"id": str(vid), "fk_product_attribute": str(aid), "ref": value_ref,
                                          "value": value, "position": str(position)}  # fmt: skip
            ids[value_ref] = vid
        return aid, ids

    def add_variant(
        self, parent_id: int, features: dict[int, int], price_impact: str = "0", *, percent: bool = False,
        weight_impact: str = "0", **fields: Any,
    ) -> int:  # fmt: skip
        """What POST /products/{id}/variants does (ProductCombination::createProductCombination): a
        child product whose ref is the parent's + "_" + each value's ref, a description of the parent's
        + "<strong>label:</strong> value", no barcode; then updateProperties writes the child's price
        (the parent's price in the parent's price_base_type, + the impact, or x (1 + impact/100)), its
        weight (parent + weight impact) and the parent's tva_tx. Returns the child's id."""
        parent = self.products[parent_id]
        base = parent["price_base_type"]
        price = Decimal(parent["price_ttc"] if base == "TTC" else parent["price"])
        price = price * (1 + Decimal(price_impact) / 100) if percent else price + Decimal(price_impact)
        ref, description = parent["ref"], parent.get("description") or ""
        for aid, vid in features.items():
            value = self.attribute_values[vid]
            ref += "_" + value["ref"]
            line = f"<strong>{self.attributes[aid]['label']}:</strong> {value['value']}"
            description += ("<br>" if description else "") + line
        child = self.add_product(ref, parent["label"], str(price), vat=parent["tva_tx"], base=base,
                                 **{"description": description, "barcode": None, **fields})  # fmt: skip
        if parent.get("weight") not in (None, ""):
            self.products[child]["weight"] = str(Decimal(parent["weight"]) + Decimal(weight_impact))
        cid = self._next("combination", self.combinations)
        self.combinations[cid] = {
            "id": str(cid), "fk_product_parent": str(parent_id), "fk_product_child": str(child),
            "variation_price": str(Decimal(price_impact)), "variation_price_percentage": "1" if percent else "0",
            "variation_weight": str(Decimal(weight_impact)), "variation_ref_ext": None, "entity": "1",
            # ProductCombination2ValuePair::fetchByFkCombination: ids only (id is the attribute's rowid)
            "attributes": [{"id": str(aid), "fk_prod_attr": str(aid), "fk_prod_attr_val": str(vid),
                            "fk_prod_combination": str(cid)} for aid, vid in features.items()],
        }  # fmt: skip
        return child

    def add_warehouse(self, ref: str) -> int:
        row = copy.deepcopy(load("warehouses.json")[0])
        wid = self._next("warehouse", self.warehouses)
        row.update(id=str(wid), ref=ref, label=ref)
        self.warehouses[wid] = row
        return wid

    def set_stock(self, product_id: int, warehouse_id: int, quantity: str) -> None:
        """What ``POST /stockmovements`` leaves in llx_product_stock (stockmovements.json: qty per warehouse)."""
        stock = self.products[product_id].setdefault("_stock", {})
        stock[warehouse_id] = Decimal(quantity)

    def writes(self) -> list[tuple[str, str]]:
        return [(r.method, r.url.path.removeprefix(API)) for r in self.requests if r.method != "GET"]

    # -- dispatch ------------------------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        # DOLAPIKEY header (api_access.class.php authenticate; error_401.json); the URL parameter also works
        # on the real server but the connector never sends it.
        if request.headers.get("DOLAPIKEY") != KEY:
            if "DOLAPIKEY" not in request.headers:
                return httpx.Response(401, json=load("error_401.json"))
            return _error(401, "Access denied", "api_access.class.php:186 at authenticate stage")
        path = request.url.path
        if not path.startswith(API):
            return httpx.Response(404, text="<html>Not Found</html>")
        route = unquote(path[len(API) :]).strip("/")
        for prefix, status in list(self.fail_next.items()):
            if route.startswith(prefix):
                del self.fail_next[prefix]
                return _error(status, "injected", "fake")
        body = json.loads(request.content) if request.content else {}
        params = request.url.params
        for method, pattern, handler in self._routes():
            if method == request.method:
                match = re.fullmatch(pattern, route)
                if match:
                    return handler(params, body, *match.groups())
        return _error(404, "Not found", "restler routing")  # a route swagger.json does not declare

    def _routes(self) -> list[tuple[str, str, Callable[..., httpx.Response]]]:
        return [
            ("GET", r"status", lambda p, b: httpx.Response(200, json=load("status.json"))),
            ("GET", r"products", self._list_products),
            ("GET", r"products/(\d+)", self._get_product),
            ("GET", r"products/ref/(.+)", self._get_product_by_ref),
            ("GET", r"products/(\d+)/variants", self._variants),
            ("GET", r"products/(\d+)/selling_multiprices/per_customer", self._customer_prices),
            ("GET", r"products/attributes", self._list_attributes),
            ("GET", r"products/attributes/(\d+)/values", self._attribute_values),
            ("GET", r"categories", self._list_categories),
            ("GET", r"categories/(\d+)/objects", self._category_objects),
            ("GET", r"warehouses", lambda p, b: self._list("warehouse", list(self.warehouses.values()), p)),
            ("GET", r"thirdparties", lambda p, b: self._list("thirdparty", list(self.thirdparties.values()), p)),
            ("GET", r"thirdparties/email/(.+)", self._thirdparty_by_email),
            ("POST", r"thirdparties", self._create_thirdparty),
            ("GET", r"contacts", self._list_contacts),
            ("POST", r"contacts", self._create_contact),
            ("GET", r"setup/dictionary/countries/byCode/([A-Za-z]{2})", self._country),
            ("GET", r"orders", lambda p, b: self._list("order", list(self.orders.values()), p)),
            ("GET", r"orders/(\d+)", lambda p, b, i: self._get(self.orders, i, "Order not found")),
            ("POST", r"orders", self._create_order),
            ("DELETE", r"orders/(\d+)", self._delete_order),
            ("POST", r"orders/(\d+)/lines", self._add_order_line),
            ("POST", r"orders/(\d+)/validate", self._validate_order),
            ("POST", r"orders/(\d+)/contact/(\d+)/([A-Z]+)", self._order_contact),
            ("GET", r"invoices", lambda p, b: self._list("invoice", list(self.invoices.values()), p)),
            ("GET", r"invoices/(\d+)", lambda p, b, i: self._get(self.invoices, i, "Invoice not found")),
            ("POST", r"invoices", self._create_invoice),
            ("POST", r"invoices/createfromorder/(\d+)", self._invoice_from_order),
            ("POST", r"invoices/(\d+)/validate", self._validate_invoice),
            ("GET", r"invoices/(\d+)/payments", self._list_payments),
            ("POST", r"invoices/(\d+)/payments", self._add_payment),
            ("GET", r"invoices/(\d+)/discount", self._get_discount),
            ("POST", r"invoices/(\d+)/markAsCreditAvailable", self._credit_available),
            ("POST", r"invoices/(\d+)/usediscount/(\d+)", self._use_discount),
            ("GET", r"shipments", lambda p, b: self._list("shipment", list(self.shipments.values()), p)),
            ("GET", r"shipments/(\d+)", lambda p, b, i: self._get(self.shipments, i, "Shipment not found")),
            ("PUT", r"documents/builddoc", self._builddoc),
            ("GET", r"documents/download", self._download),
        ]

    # -- lists -----------------------------------------------------------------------------------------
    def _list(self, noun: str, rows: list[dict[str, Any]], params: httpx.QueryParams) -> httpx.Response:
        """limit (default 100) / page (0-based) / sortfield / sortorder / sqlfilters (api_*.class.php
        index()); an empty answer is 404 "No <noun> found" (api_products.class.php index(), 19.0)."""
        socids = params.get("thirdparty_ids")
        if socids:  # api_*.class.php index(): "AND t.fk_soc IN (thirdparty_ids)"
            wanted = {s.strip() for s in socids.split(",")}
            rows = [r for r in rows if str(r.get("socid")) in wanted]
        filters = params.get("sqlfilters")
        if filters:
            criteria = _criteria(filters)
            if criteria is None:  # DolibarrApi::_checkFilters
                return _error(400, f"Error when validating parameter sqlfilters -> {filters}", "api.class.php")
            try:
                rows = [r for r in rows if self._matches(r, criteria)]
            except KeyError as exc:  # an unknown column: the SQL fails (api_*.class.php index(): 503)
                return _error(503, f"Error when retrieving {noun} list : Unknown column '{exc.args[0]}'", "index")
        field = (params.get("sortfield") or "t.rowid").split(".")[-1]
        field = "id" if field == "rowid" else field
        rows = sorted(rows, key=lambda r: _sort_key(r.get(field)), reverse=params.get("sortorder", "ASC") == "DESC")
        limit = int(params.get("limit", 100))
        page = max(0, int(params.get("page", 0)))
        if limit:
            rows = rows[limit * page : limit * (page + 1)]
        if not rows:
            return _error(404, f"No {noun} found", f"api_{noun}s.class.php at call stage")
        listed = [self._public(r) for r in rows]
        if noun in ("invoice", "order"):  # invoices.json / orders.json: the list does not fetchObjectLinked
            for row in listed:
                row["linkedObjectsIds"] = None
        return httpx.Response(200, json=listed)

    def _matches(self, row: dict[str, Any], criteria: list[tuple[str, tuple[str, str, str]]]) -> bool:
        result = True
        for i, (joiner, (field, op, raw)) in enumerate(criteria):
            table, name = field.split(".", 1)
            if table == "ef":
                extras = row.get("array_options") or {}
                value = extras.get(f"options_{name}") if isinstance(extras, dict) else None
            elif name == "tms":  # llx_<table>.tms, read back as date_modification (Commande::fetch)
                stamp = row.get("date_modification")
                value = None if stamp is None else _sql_date(int(stamp))
            else:
                name = "id" if name == "rowid" else name
                if name not in row:
                    raise KeyError(field)
                value = row.get(name)
            hit = _compare(value, op, _value(raw))
            result = hit if i == 0 else (result and hit if joiner == "and" else result or hit)
        return result

    def _public(self, row: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in row.items() if not k.startswith("_")}

    def _get(self, table: dict[int, dict[str, Any]], ident: str, missing: str) -> httpx.Response:
        row = table.get(int(ident))
        if row is None:
            return _error(404, missing, "at call stage")
        return httpx.Response(200, json=self._public(row))

    # -- products --------------------------------------------------------------------------------------
    def _product_out(self, row: dict[str, Any], stock: bool) -> dict[str, Any]:
        out = self._public(row)
        if stock:  # Product::load_stock: stock_warehouse[fk_entrepot] = {real, id}
            levels = row.get("_stock") or {}
            out["stock_warehouse"] = {str(w): {"real": str(q), "id": str(w)} for w, q in levels.items()} or []
            out["stock_reel"] = str(sum(levels.values(), Decimal(0)))
        return out

    def _list_products(self, params: httpx.QueryParams, body: Any) -> httpx.Response:
        rows = list(self.products.values())
        mode = params.get("mode", "0")  # 1 products only, 2 services only (api_products.class.php index())
        if mode in ("1", "2"):
            rows = [r for r in rows if r.get("type") == ("0" if mode == "1" else "1")]
        # variant_filter (api_products.class.php index()): 1 neither parent nor child, 2 parents, 3 children
        parents = {c["fk_product_parent"] for c in self.combinations.values()}
        children = {c["fk_product_child"] for c in self.combinations.values()}
        variant_filter = params.get("variant_filter", "0")
        if variant_filter == "1":
            rows = [r for r in rows if r["id"] not in parents | children]
        elif variant_filter == "2":
            rows = [r for r in rows if r["id"] in parents]
        elif variant_filter == "3":
            rows = [r for r in rows if r["id"] in children]
        answer = self._list("product", rows, params)
        if answer.status_code == 200 and params.get("includestockdata") == "1":
            ids = [int(r["id"]) for r in answer.json()]
            answer = httpx.Response(200, json=[self._product_out(self.products[i], True) for i in ids])
        wanted = [p.strip() for p in (params.get("properties") or "").split(",") if p.strip()]
        if answer.status_code == 200 and wanted:  # index(): _filterObjectProperties keeps only these
            answer = httpx.Response(200, json=[{k: v for k, v in r.items() if k in wanted} for r in answer.json()])
        return answer

    def _variants(self, params: httpx.QueryParams, body: Any, ident: str) -> httpx.Response:
        """api_products.class.php getVariants(): ProductCombination::fetchAllByFkProductParent, each
        with ``attributes`` (ProductCombination2ValuePair::fetchByFkCombination); no 404 check of the
        product: an unknown id or a product without combinations answers []."""
        found = [copy.deepcopy(c) for c in self.combinations.values() if c["fk_product_parent"] == ident]
        return httpx.Response(200, json=found)

    def _customer_prices(self, params: httpx.QueryParams, body: Any, ident: str) -> httpx.Response:
        """api_products.class.php getCustomerPricesPerCustomer(): 400 "API not available" unless
        PRODUIT_CUSTOMER_PRICES; 404 "Product not found"; the product's lines (filtered on ``t.fk_soc``
        by ``thirdparty_id``), 404 "Prices not found" when there are none. A comma list of ids passes
        the parameter's pattern ``/^[0-9,]*$/``; how fetchAll then filters was not read: refused
        here (stricter than the real server)."""
        if "PRODUIT_CUSTOMER_PRICES" not in self.constants:
            return _error(
                400, "API not available: this mode of pricing is not enabled by setup", "getCustomerPricesPerCustomer"
            )
        if int(ident) not in self.products:
            return _error(404, "Product not found", "getCustomerPricesPerCustomer")
        wanted = params.get("thirdparty_id") or ""
        if not re.fullmatch(r"[0-9]*", wanted):
            return _error(400, "Bad parameter thirdparty_id", "stricter than the real server")
        lines = [
            copy.deepcopy(line) for line in self.customer_prices.values()
            if line["fk_product"] == ident and (not wanted or line["fk_soc"] == wanted)
        ]  # fmt: skip
        if not lines:
            return _error(404, "Prices not found", "getCustomerPricesPerCustomer")
        return httpx.Response(200, json=lines)

    def _list_attributes(self, params: httpx.QueryParams, body: Any) -> httpx.Response:
        """api_products.class.php getAttributes(): a list (limit/page/sortfield/sqlfilters); an empty one
        is 404, as every list here (the message is not taken from the source: stricter than the real server)."""
        return self._list("product attribute", list(self.attributes.values()), params)

    def _attribute_values(self, params: httpx.QueryParams, body: Any, ident: str) -> httpx.Response:
        """api_products.class.php getAttributeValues(): ProductAttributeValue::fetchAllByProductAttribute;
        none is 404 "Attribute values not found"."""
        found = [v for v in self.attribute_values.values() if v["fk_product_attribute"] == ident]
        if not found:
            return _error(404, "Attribute values not found", "api_products.class.php getAttributeValues")
        return httpx.Response(200, json=found)

    def _get_product(self, params: httpx.QueryParams, body: Any, ident: str) -> httpx.Response:
        row = self.products.get(int(ident))
        if row is None:
            return httpx.Response(404, json=load("error_404.json"))  # error_404.json: "Product not found"
        return httpx.Response(200, json=self._product_out(row, params.get("includestockdata") == "1"))

    def _get_product_by_ref(self, params: httpx.QueryParams, body: Any, ref: str) -> httpx.Response:
        for pid, row in self.products.items():
            if row["ref"] == ref:
                return self._get_product(params, body, str(pid))
        return httpx.Response(404, json=load("error_404.json"))

    def _list_categories(self, params: httpx.QueryParams, body: Any) -> httpx.Response:
        # type=product is category type 0 (Categorie::$MAP_ID); api_categories.class.php index()
        kind = params.get("type", "product")
        rows = [r for r in self.categories.values() if kind == "product"]
        return self._list("category", rows, params)

    def _category_objects(self, params: httpx.QueryParams, body: Any, ident: str) -> httpx.Response:
        if int(ident) not in self.categories:
            return _error(404, "category not found", "api_categories.class.php getObjects")
        if not params.get("type"):  # api_categories.class.php getObjects(): type is mandatory
            return _error(400, "type is mandatory", "api_categories.class.php getObjects")
        members = sorted(self.category_members[int(ident)])
        if params.get("onlyids") == "1":
            return httpx.Response(200, json=[str(m) for m in members])
        return httpx.Response(200, json=[self._public(self.products[m]) for m in members])

    # -- thirdparties and contacts ----------------------------------------------------------------------
    def _thirdparty_by_email(self, params: httpx.QueryParams, body: Any, email: str) -> httpx.Response:
        for row in self.thirdparties.values():
            if (row.get("email") or "").lower() == email.lower():
                return httpx.Response(200, json=self._public(row))
        return _error(404, "Thirdparty not found", "api_thirdparties.class.php _fetch")

    def _create_thirdparty(self, params: httpx.QueryParams, body: Any) -> httpx.Response:
        if not isinstance(body, dict) or not body.get("name"):  # Thirdparties::$FIELDS = ['name']
            return _error(400, "name field missing", "api_thirdparties.class.php _validate")
        row = copy.deepcopy(load("thirdparties.json")[0])
        tid = self._next("thirdparty", self.thirdparties)
        code = body.pop("code_client", None)
        row.update({k: v for k, v in body.items() if k in row or k == "array_options"})
        row.update(id=str(tid), ref=str(tid), date_creation=NOW, date_modification=NOW)
        if code in ("auto", "-1"):  # Societe::create -> get_codeclient (mod_codeclient_monkey: CUyymm-nnnnn)
            row["code_client"] = f"CU2611-{tid:05d}"
        if not row.get("array_options"):
            row["array_options"] = []
        self.thirdparties[tid] = row
        return httpx.Response(200, json=tid)

    def _list_contacts(self, params: httpx.QueryParams, body: Any) -> httpx.Response:
        rows = list(self.contacts.values())
        if params.get("thirdparty_ids"):
            wanted = set(params["thirdparty_ids"].split(","))
            rows = [r for r in rows if r["socid"] in wanted]
        return self._list("contact", rows, params)

    def _create_contact(self, params: httpx.QueryParams, body: Any) -> httpx.Response:
        if not isinstance(body, dict) or not body.get("lastname"):  # Contacts::$FIELDS = ['lastname']
            return _error(400, "lastname field missing", "api_contacts.class.php _validate")
        cid = self._next("contact", self.contacts)
        self.contacts[cid] = {"id": str(cid), **{k: v for k, v in body.items()}, "socid": str(body.get("socid"))}
        return httpx.Response(200, json=cid)

    def _country(self, params: httpx.QueryParams, body: Any, code: str) -> httpx.Response:
        cid = self.countries.get(code.upper())
        if cid is None:
            return _error(404, "country not found", "api_setup.class.php getCountryByCode")
        return httpx.Response(200, json={"id": str(cid), "code": code.upper(), "label": code.upper(), "active": "1"})

    # -- orders ---------------------------------------------------------------------------------------
    def _line(self, template: dict[str, Any], body: dict[str, Any], rang: int) -> dict[str, Any] | httpx.Response:
        line = copy.deepcopy(template)
        for field in ("qty", "subprice", "tva_tx"):  # Commande::addline: numeric or refused (stricter: types)
            try:
                Decimal(str(body.get(field, "0" if field == "tva_tx" else "")))
            except ArithmeticError:
                return _error(400, f"{field} must be numeric", "stricter than the real server")
        qty, subprice = Decimal(str(body["qty"])), Decimal(str(body["subprice"]))
        rate = Decimal(str(body.get("tva_tx") or 0))
        remise = Decimal(str(body.get("remise_percent") or 0))
        ht = (qty * subprice * (1 - remise / 100)).quantize(CENT, ROUND_HALF_UP)  # calcul_price_total
        tva = (ht * rate / 100).quantize(CENT, ROUND_HALF_UP)
        product = self.products.get(int(body["fk_product"])) if body.get("fk_product") else None
        if body.get("fk_product") and product is None:
            return _error(400, "Unknown product", "Commande::addline (fk_product)")
        line.update(
            qty=str(qty), subprice=_money(subprice), tva_tx=f"{rate:.4f}", remise_percent=str(remise),
            total_ht=_money(ht), total_tva=_money(tva), total_ttc=_money(ht + tva), multicurrency_total_ht=_money(ht),
            multicurrency_total_tva=_money(tva), multicurrency_total_ttc=_money(ht + tva),
            multicurrency_subprice=_money(subprice), rang=str(rang), desc=body.get("desc"),
            description=body.get("desc"), product_type=str(body.get("product_type", 0)),
            fk_product=str(product["id"]) if product else None, ref=product["ref"] if product else None,
            product_ref=product["ref"] if product else None, product_label=product["label"] if product else None,
            libelle=product["label"] if product else None, info_bits=str(body.get("info_bits", 0)),
            fk_remise_except=body.get("fk_remise_except"),
        )  # fmt: skip
        return line

    def _totals(self, row: dict[str, Any]) -> None:
        for part in ("ht", "tva", "ttc"):
            total = sum((Decimal(str(line[f"total_{part}"])) for line in row["lines"]), Decimal(0))
            row[f"total_{part}"] = row[f"multicurrency_total_{part}"] = _money(total)

    def _create_order(self, params: httpx.QueryParams, body: Any) -> httpx.Response:
        for field in ("socid", "date"):  # Orders::$FIELDS = ['socid', 'date'] (api_orders.class.php _validate)
            if not isinstance(body, dict) or field not in body:
                return _error(400, f"{field} field missing", "api_orders.class.php _validate")
        if int(body["socid"]) not in self.thirdparties:
            return _error(500, "Error creating order", "Commande::create (ErrorFieldRequired socid)")
        template = load("orders.json")[0]
        row = copy.deepcopy(template)
        oid = self._next("order", self.orders)
        row.update(id=str(oid), ref=f"(PROV{oid})", statut="0", status="0", socid=str(body["socid"]),
                   ref_client=body.get("ref_client"), ref_ext=body.get("ref_ext"), date=body["date"],
                   date_commande=body["date"], note_private=body.get("note_private", ""), lines=[],
                   date_validation=None, user_validation_id=None, date_creation=NOW, _contacts=[])  # fmt: skip
        for rang, given in enumerate(body.get("lines") or [], start=1):
            line = self._line(template["lines"][0], given, rang)
            if isinstance(line, httpx.Response):
                return line
            row["lines"].append(line)
        self._totals(row)
        self.orders[oid] = row
        return httpx.Response(200, json=oid)

    def _delete_order(self, params: httpx.QueryParams, body: Any, ident: str) -> httpx.Response:
        if self.orders.pop(int(ident), None) is None:
            return _error(404, "Order not found", "api_orders.class.php delete")
        return httpx.Response(200, json={"success": {"code": 200, "message": "Order deleted"}})

    def _add_order_line(self, params: httpx.QueryParams, body: Any, ident: str) -> httpx.Response:
        row = self.orders.get(int(ident))
        if row is None:
            return _error(404, "Order not found", "api_orders.class.php postLine")
        if row["statut"] != "0":  # Commande::addline: only on a draft (statut == STATUS_DRAFT)
            return _error(400, "Order is not draft", "Commande::addline")
        line = self._line(load("orders.json")[0]["lines"][0], body, len(row["lines"]) + 1)
        if isinstance(line, httpx.Response):
            return line
        line["id"] = line["rowid"] = str(100 * int(ident) + len(row["lines"]) + 1)
        row["lines"].append(line)
        self._totals(row)
        return httpx.Response(200, json=int(line["id"]))

    def _validate_order(self, params: httpx.QueryParams, body: Any, ident: str) -> httpx.Response:
        row = self.orders.get(int(ident))
        if row is None:
            return _error(404, "Order not found", "api_orders.class.php validate")
        if row["statut"] != "0":  # Commande::valid returns 0 when not a draft -> 304 Not Modified (api)
            return httpx.Response(304)
        if body.get("idwarehouse") and int(body["idwarehouse"]) not in self.warehouses:
            return _error(500, "Error when validating Order", "Commande::valid (warehouse)")
        row.update(statut="1", status="1", ref=f"CO2611-{int(ident):04d}", date_validation=self.clock,
                   user_validation_id="1", date_modification=self.clock)  # fmt: skip
        return httpx.Response(200, json=self._public(row))

    def _order_contact(
        self, params: httpx.QueryParams, body: Any, ident: str, contact: str, kind: str
    ) -> httpx.Response:
        row = self.orders.get(int(ident))
        if row is None or int(contact) not in self.contacts:
            return _error(404, "Order or contact not found", "api_orders.class.php postContact")
        if kind not in ("BILLING", "SHIPPING", "CUSTOMER"):  # api_orders.class.php postContact: type values
            return _error(500, "type must be BILLING, SHIPPING or CUSTOMER", "api_orders.class.php postContact")
        row["_contacts"].append((int(contact), kind))
        return httpx.Response(200, json={"success": {"code": 200, "message": "Contact linked to the order"}})

    # -- invoices ---------------------------------------------------------------------------------------
    def _new_invoice(self, body: dict[str, Any], template_name: str) -> dict[str, Any] | httpx.Response:
        template = load(template_name)
        row = copy.deepcopy(template)
        iid = self._next("invoice", self.invoices)
        kind = str(body.get("type", 0))
        row.update(id=str(iid), ref=f"(PROV{iid})", statut="0", status="0", paye="0", socid=str(body["socid"]),
                   type=kind, ref_ext=body.get("ref_ext"), note_public=body.get("note_public"), lines=[],
                   linkedObjectsIds=None, totalpaid=0, sumpayed=None, last_main_doc=None, date=body.get("date", NOW),
                   fk_facture_source=None)  # fmt: skip
        if body.get("origin") == "commande" and body.get("origin_id"):  # Facture::create: add_object_linked
            row["linkedObjectsIds"] = {"commande": {"1": str(body["origin_id"])}}
        for rang, given in enumerate(body.get("lines") or [], start=1):
            line = self._line(template["lines"][0], given, rang)
            if isinstance(line, httpx.Response):
                return line
            line["id"] = line["rowid"] = str(100 * iid + rang)
            row["lines"].append(line)
        self._totals(row)
        self.invoices[iid] = row
        return row

    def _create_invoice(self, params: httpx.QueryParams, body: Any) -> httpx.Response:
        if not isinstance(body, dict) or "socid" not in body:  # Invoices::$FIELDS = ['socid']
            return _error(400, "socid field missing", "api_invoices.class.php _validate")
        if str(body.get("type", 0)) not in ("0", "1", "2", "3", "5"):  # Facture::TYPE_* constants
            return _error(400, "invalid type", "stricter than the real server")
        row = self._new_invoice(body, "invoice_deposit_type3.json")
        return row if isinstance(row, httpx.Response) else httpx.Response(200, json=int(row["id"]))

    def _invoice_from_order(self, params: httpx.QueryParams, body: Any, ident: str) -> httpx.Response:
        order = self.orders.get(int(ident))
        if order is None:
            return _error(404, "Order not found", "api_invoices.class.php createInvoiceFromOrder")
        lines = [{"fk_product": line.get("fk_product"), "qty": line["qty"], "subprice": line["subprice"],
                  "tva_tx": line["tva_tx"], "remise_percent": line.get("remise_percent") or 0,
                  "product_type": line.get("product_type"), "desc": line.get("desc")} for line in order["lines"]]  # fmt: skip
        row = self._new_invoice(
            {"socid": order["socid"], "type": 0, "lines": lines}, "invoice_final_with_deposit_line.json"
        )
        if isinstance(row, httpx.Response):
            return row
        row["linkedObjectsIds"] = {"commande": {"1": str(order["id"])}}
        return httpx.Response(200, json=self._public(row))

    def _validate_invoice(self, params: httpx.QueryParams, body: Any, ident: str) -> httpx.Response:
        row = self.invoices.get(int(ident))
        if row is None:
            return _error(404, "Invoice not found", "api_invoices.class.php validate")
        if row["statut"] != "0":  # Facture::validate on a non-draft: 304 (api_invoices.class.php validate)
            return httpx.Response(304)
        prefix = {"3": "AC", "2": "AV"}.get(
            row["type"], "FA"
        )  # Dolibarr's mod_facture_terre: AC deposit, AV credit note  # invoice_deposit_type3.json AC..., final FA...
        row.update(statut="1", status="1", ref=f"{prefix}2611-{int(ident):04d}", date_validation=self.clock,
                   date_modification=self.clock)  # fmt: skip
        row["remaintopay"] = str(Decimal(row["total_ttc"]).normalize())
        return httpx.Response(200, json=self._public(row))

    def _list_payments(self, params: httpx.QueryParams, body: Any, ident: str) -> httpx.Response:
        if int(ident) not in self.invoices:
            return _error(404, "Invoice not found", "api_invoices.class.php getPayments")
        return httpx.Response(200, json=self.payments.get(int(ident), []))

    def _add_payment(self, params: httpx.QueryParams, body: Any, ident: str) -> httpx.Response:
        row = self.invoices.get(int(ident))
        if row is None:
            return _error(404, "Invoice not found", "api_invoices.class.php addPayment")
        missing = [f for f in ("datepaye", "paymentid", "closepaidinvoices", "accountid") if f not in body]
        if missing:  # swagger.json invoicesAddPaymentModel.required
            return _error(400, f"{missing[0]} field missing", "swagger.json invoicesAddPaymentModel")
        if row["statut"] == "0":  # addPayment: "Invoice must be validated" (api_invoices.class.php)
            return _error(403, "Invoice must be validated before adding a payment", "api_invoices.class.php addPayment")
        amount = Decimal(str(row.get("remaintopay") or row["total_ttc"]))
        payments = self.payments.setdefault(int(ident), [])
        pid = sum(len(p) for p in self.payments.values()) + 1
        payments.append({"amount": _money(amount), "type": "CB", "date": body["datepaye"], "num": body.get("num_payment"),
                         "ref": f"PAY2611-{pid:04d}", "fk_bank_line": str(pid)})  # fmt: skip
        if body["closepaidinvoices"] == "yes":  # paid in full: Facture::setPaid -> statut 2, paye 1
            row.update(
                statut="2", status="2", paye="1", totalpaid=float(amount), sumpayed=_money(amount), remaintopay="0"
            )
        return httpx.Response(200, json=pid)

    def _get_discount(self, params: httpx.QueryParams, body: Any, ident: str) -> httpx.Response:
        for discount in self.discounts.values():
            if discount["fk_facture_source"] == ident:
                return httpx.Response(200, json=discount)
        return _error(404, "Discount not found", "api_invoices.class.php getDiscount")

    def _credit_available(self, params: httpx.QueryParams, body: Any, ident: str) -> httpx.Response:
        row = self.invoices.get(int(ident))
        if row is None:
            return _error(404, "Invoice not found", "api_invoices.class.php markAsCreditAvailable")
        if row["type"] == "3" and row["paye"] != "1":  # a deposit must be paid first (markAsCreditAvailable)
            return _error(500, "Deposit invoice must be fully paid", "api_invoices.class.php markAsCreditAvailable")
        if any(d["fk_facture_source"] == ident for d in self.discounts.values()):
            return _error(500, "Discount already exists", "DiscountAbsolute::create (duplicate source)")
        did = len(self.discounts) + 1
        self.discounts[did] = {"id": str(did), "fk_soc": row["socid"], "fk_facture_source": ident,
                               "amount_ht": row["total_ht"], "amount_tva": row["total_tva"],
                               "amount_ttc": row["total_ttc"], "description": "(DEPOSIT)", "fk_facture": None}  # fmt: skip
        return httpx.Response(200, json=self._public(row))

    def _use_discount(self, params: httpx.QueryParams, body: Any, ident: str, did: str) -> httpx.Response:
        row, discount = self.invoices.get(int(ident)), self.discounts.get(int(did))
        if row is None or discount is None:
            return _error(404, "Invoice or discount not found", "api_invoices.class.php useDiscount")
        if row["statut"] != "0" or discount["fk_facture"]:  # Facture::insert_discount: draft only, unused
            return _error(400, "Discount cannot be used", "Facture::insert_discount")
        source = self.invoices[int(discount["fk_facture_source"])]
        for src in source["lines"]:  # invoice_final_with_deposit_line.json: "(DEPOSIT)", info_bits 2, rang -1
            line = self._line(load("invoice_final_with_deposit_line.json")["lines"][0],
                              {"qty": "1", "subprice": str(-Decimal(src["total_ht"])), "tva_tx": src["tva_tx"],
                               "desc": "(DEPOSIT)", "product_type": 0, "info_bits": 2, "fk_remise_except": did}, -1)  # fmt: skip
            assert isinstance(line, dict)
            row["lines"].insert(0, line)
        discount["fk_facture"] = ident
        self._totals(row)
        return httpx.Response(200, json=1)

    # -- statuses, shipments, credit notes, documents (helpers for tests) -------------------------
    def set_order_status(self, order_id: int, statut: int) -> None:
        """What the order card does: close (3, Commande::cloture), cancel (-1), shipment in process (2,
        set when a shipment is validated, Expedition::valid); tms moves (llx_commande.tms)."""
        self.orders[order_id].update(statut=str(statut), status=str(statut), date_modification=self.clock)

    def add_shipment(
        self, order_id: int, *, tracking: str | None, method: str | None, lines: dict[str, str], statut: int = 1
    ) -> int:
        """A shipment of the order (Expedition::create + valid): origin / origin_id from llx_element_element
        (Expedition::fetch), ``tracking_number``, ``shipping_method`` (the c_shipment_mode code),
        lines ``product_ref`` x ``qty_shipped`` (Expedition::fetch_lines). Shape from the source: no capture."""
        order = self.orders[order_id]
        sid = self._next("shipment", self.shipments)
        self.shipments[sid] = {
            "id": str(sid), "ref": f"SH2611-{sid:04d}", "socid": order["socid"], "origin": "commande",
            "origin_id": str(order_id), "origin_type": "commande", "statut": str(statut), "status": str(statut),
            "tracking_number": tracking, "tracking_url": None, "shipping_method": method,
            "shipping_method_id": "1" if method else None, "date_creation": self.clock, "date_valid": self.clock,
            "date_shipping": self.clock, "date_delivery": None, "date_modification": self.clock,
            "lines": [{"product_ref": ref, "qty_shipped": qty, "fk_origin_line": None} for ref, qty in lines.items()],
        }  # fmt: skip
        if statut >= 1 and order["statut"] == "1":  # Expedition::valid: order -> STATUS_SHIPMENTONPROCESS
            self.set_order_status(order_id, 2)
        return sid

    def add_credit_note(self, source_id: int, amount: str | None = None) -> int:
        """A validated credit note (type 2) correcting invoice ``source_id`` (Facture::createFromCurrent /
        the "credit note" card: ``fk_facture_source``), for its whole total unless ``amount`` (TTC) is given.
        Linked to the order only through the source invoice (not through llx_element_element)."""
        source = self.invoices[source_id]
        total = Decimal(amount) if amount is not None else Decimal(source["total_ttc"])
        rate = Decimal(source["lines"][0]["tva_tx"]) if source["lines"] else Decimal(0)
        body = {"socid": source["socid"], "type": 2, "lines": [
            {"desc": "Credit", "qty": "1", "subprice": str(-(total / (1 + rate / 100))), "tva_tx": str(rate),
             "product_type": 1}]}  # fmt: skip
        row = self._new_invoice(body, "invoice_final_with_deposit_line.json")
        assert isinstance(row, dict)
        row.update(fk_facture_source=str(source_id), linkedObjectsIds=[])
        self._validate_invoice(httpx.QueryParams(), {}, row["id"])
        return int(row["id"])

    def _builddoc(self, params: httpx.QueryParams, body: Any) -> httpx.Response:
        """api_documents.class.php builddoc(): modulepart required (swagger documentsBuilddocModel),
        original_file required (400); the invoice fetched by ref = the file's basename without its
        extension (404 "Invoice not found"); generateDocument <= 0 -> 500; answer {filename,
        content-type, filesize, content (base64), langcode, template, encoding}."""
        if not isinstance(body, dict) or not body.get("modulepart"):
            return _error(400, "bad value for parameter modulepart", "api_documents.class.php builddoc")
        original = str(body.get("original_file") or "")
        if not original:
            return _error(400, "bad value for parameter original_file", "api_documents.class.php builddoc")
        if ".." in original or re.search(r"[<>|]", original):
            return _error(403, "Forbidden", "api_documents.class.php builddoc")
        if body["modulepart"] not in ("invoice", "facture"):  # only invoices here (the others: not needed)
            return _error(403, "Generation not available for this modulepart", "stricter than the real server")
        ref = re.sub(r"\.[^.]+$", "", original.rsplit("/", 1)[-1])
        row = next((r for r in self.invoices.values() if r["ref"] == ref), None)
        if row is None:
            return _error(404, "Invoice not found", "api_documents.class.php builddoc")
        if ref in self.pdf_fails:
            return _error(500, "Error generating document", "api_documents.class.php builddoc")
        if original != f"{ref}/{ref}.pdf":  # generateDocument writes <ref>/<ref>.pdf: another name is not found
            return _error(404, "File not found", "api_documents.class.php builddoc")
        content = _pdf(ref, row)
        self.documents[f"invoice/{original}"] = content
        row["last_main_doc"] = f"facture/{original}"  # invoice_deposit_type3.json last_main_doc
        return httpx.Response(200, json=self._document(original, content) | {"langcode": "en_US", "template": "crabe"})

    def _download(self, params: httpx.QueryParams, body: Any) -> httpx.Response:
        """api_documents.class.php index() (GET /documents/download): modulepart and original_file
        required (400), a missing file 404 "File not found"; the file as base64."""
        modulepart, original = params.get("modulepart"), params.get("original_file")
        if not modulepart:
            return _error(400, "bad value for parameter modulepart", "api_documents.class.php index")
        if not original:
            return _error(400, "bad value for parameter original_file", "api_documents.class.php index")
        key = f"{'invoice' if modulepart == 'facture' else modulepart}/{original}"
        if key not in self.documents:
            return _error(404, "File not found", "api_documents.class.php index")
        return httpx.Response(200, json=self._document(original, self.documents[key]))

    def _document(self, original: str, content: bytes) -> dict[str, Any]:
        return {"filename": original.rsplit("/", 1)[-1], "content-type": "application/pdf", "filesize": len(content),
                "content": base64.b64encode(content).decode(), "encoding": "base64"}  # fmt: skip


def _pdf(ref: str, row: dict[str, Any]) -> bytes:
    """A small valid PDF naming the invoice (the bytes of a real crabe PDF are not captured)."""
    text = f"{ref} {row.get('total_ttc')}".replace("(", "").replace(")", "")
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"]  # fmt: skip
    out, offsets = b"%PDF-1.4\n", []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def _sql_date(stamp: int) -> str:
    """A timestamp as the SQL text Dolibarr compares (``'YYYY-MM-DD HH:MM:SS'``, UTC here)."""
    return datetime.fromtimestamp(stamp, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _compare(value: Any, op: str, wanted: list[str]) -> bool:
    text = "" if value is None else str(value)
    if op == "=":
        return text == wanted[0]
    if op in ("!=", "<>"):
        return text != wanted[0]
    if op == "in":
        return text in wanted
    if op == "like":
        return re.fullmatch(re.escape(wanted[0]).replace("%", ".*"), text) is not None
    if op in ("<", ">", "<=", ">="):
        left, right = _sort_key(value), _sort_key(wanted[0])
        if left[0] != right[0]:  # a date against a date text: compared as text, as SQL does
            left, right = (1, text), (1, wanted[0])
        return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op]
    return False


def _sort_key(value: Any) -> tuple[int, Any]:
    text = "" if value is None else str(value)
    try:
        return (0, Decimal(text))
    except ArithmeticError:
        return (1, text)
