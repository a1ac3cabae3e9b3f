"""A fake Odoo 16-18 ``/jsonrpc`` server on an httpx MockTransport, with state per model.

Every rule names its source (PROVENANCE.md in ``tests/fixtures/contracts/odoo``):

- envelope, authenticate (``false`` on bad credentials), ``execute_kw`` argument order, the error
  shapes: ``jsonrpc_contract.json`` (from Odoo's ``odoo/http.py`` and the external API docs);
- a wrong uid or API key in ``execute_kw``: ``odoo.exceptions.AccessDenied`` (Odoo's
  ``odoo/service/model.py`` ``execute_kw`` -> ``security.check``);
- access rights (``deny(model, operation)``): ``odoo.exceptions.AccessError`` with the captured
  message shape (``jsonrpc_contract.json`` ``error_response_server_error``);
- unknown model: ``KeyError`` (Odoo's ``odoo/service/model.py`` ``execute_cr``: ``env[model]``);
  unknown field in ``fields`` / values / domains: ``ValueError`` "Invalid field ..." (``odoo/models.py``);
- required fields missing on create (after the defaults of :data:`schema.DEFAULTS`):
  ``ValidationError`` (Odoo's ``odoo/service/model.py`` ``convert_pgerror_not_null``; message shape
  not observed);
- a many2one / x2many id that does not exist, a selection value not in the captured selection, a
  value of the wrong type: ``ValidationError`` (stricter than the real server, which answers a
  database error or coerces);
- a write to a field the captured lists mark readonly: ``ValidationError`` (stricter than the real
  server, which ignores or applies it: readonly is a view attribute in Odoo);
- ``active_test``: records with ``active = False`` are left out unless the domain names ``active``
  or the context says ``active_test: False`` (``odoo/models.py`` ``_search``);
- product.product ``_inherits`` product.template: the template's fields read and write through the
  variant; ``lst_price`` = template ``list_price`` + the variant's attribute values' ``price_extra``
  (``product/models/product_product.py`` ``_compute_product_lst_price``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import httpx

from deployments.sandbox.fakes.odoo.domain import evaluate
from deployments.sandbox.fakes.odoo.errors import FakeOdooError, validation
from deployments.sandbox.fakes.odoo.sales import install as install_sales
from deployments.sandbox.fakes.odoo.schema import DEFAULTS, ModelSchema, load_schema

__all__ = ["FakeOdooError", "OdooFake"]

# one2many -> its inverse many2one (each from the field's declaration in the model's Odoo source)
INVERSES = {
    ("sale.order", "order_line"): "order_id",
    ("res.partner", "child_ids"): "parent_id",
    ("account.move", "invoice_line_ids"): "move_id",
    ("account.move", "line_ids"): "move_id",
}
Method = Callable[["OdooFake", list[Any], dict[str, Any]], Any]
_SCALARS = {
    "integer": (int,),
    "float": (int, float),
    "monetary": (int, float),
    "char": (str,),
    "text": (str,),
    "html": (str,),
    "boolean": (bool,),
    "date": (str,),
    "datetime": (str,),
    "selection": (str,),
    "binary": (str,),
    "json": (dict, list),
}


class OdooFake:
    """State per model, ``/jsonrpc`` on :attr:`transport`; ``requests`` logs (model, method)."""

    def __init__(
        self,
        *,
        version: int = 18,
        database: str = "passerelle",
        login: str = "integration@example.com",
        api_key: str = "odoo-api-key-0123456789",
        uid: int = 7,
    ) -> None:
        self.version = version
        self.database = database
        self.login = login
        self.api_key = api_key
        self.uid = uid
        self.schema: dict[str, ModelSchema] = load_schema(version)
        self.tables: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in self.schema}
        self.denied: set[tuple[str, str]] = set()
        self.requests: list[tuple[str, str]] = []
        self.bodies: list[dict[str, Any]] = []
        self.methods: dict[tuple[str, str], Method] = {}
        self.on_create: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
        self.computes: dict[tuple[str, str], Callable[[dict[str, Any]], Any]] = {
            ("product.product", "price_extra"): self._price_extra,
            ("product.product", "lst_price"): lambda r: (
                (self.value("product.product", r, "list_price") or 0.0) + self._price_extra(r)
            ),
            ("stock.quant", "available_quantity"): lambda r: (
                (r.get("quantity") or 0.0) - (r.get("reserved_quantity") or 0.0)
            ),
        }
        if version >= 18:  # account/models/account_tax.py _compute_price_include (company default: excluded)
            self.computes[("account.tax", "price_include")] = lambda r: (
                r.get("price_include_override") == "tax_included"
            )
        self._next: dict[str, int] = {}
        self.clock = lambda: datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
        self.transport = httpx.MockTransport(self.handle)
        self.seed("res.currency", name="EUR")
        self.seed("res.company", name="Passerelle SAS", currency_id=1)
        self.seed("uom.uom", name="Units")
        self.seed("account.journal", name="Customer Invoices", code="INV", type="sale", company_id=1)
        self.seed("account.journal", name="Bank", code="BNK1", type="bank", company_id=1)
        install_sales(self)

    # -- set-up -----------------------------------------------------------------------------------
    def seed(self, model: str, **values: Any) -> int:
        """Create a record as an administrator would (readonly fields allowed, rules enforced)."""
        return self.create(model, values, admin=True, context={"create_product_product": False})

    def deny(self, model: str, operation: str) -> None:
        """Take ``operation`` (read, write, create) on ``model`` away from the integration user."""
        self.denied.add((model, operation))

    # -- HTTP -------------------------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != "/jsonrpc":
            return httpx.Response(404, text="<html>404: Not Found</html>")
        body = json.loads(request.content)
        self.bodies.append(body)
        params = body.get("params") or {}
        try:
            result = self._dispatch(params.get("service"), params.get("method"), params.get("args") or [])
        except FakeOdooError as exc:
            return httpx.Response(200, json=self._envelope(body.get("id"), exc))
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": body.get("id"), "result": result})

    def _envelope(self, request_id: Any, exc: FakeOdooError) -> dict[str, Any]:
        # jsonrpc_contract.json error_response_server_error / error_response_validation
        return {
            "jsonrpc": "2.0",
            "id": request_id,
            "error": {
                "code": 200,
                "message": "Odoo Server Error",
                "data": {
                    "name": exc.name,
                    "debug": "Traceback (most recent call last): ...",
                    "message": exc.message,
                    "arguments": [exc.message],
                    "context": {},
                },
            },
        }

    def _dispatch(self, service: str | None, method: str | None, args: list[Any]) -> Any:
        if service == "common" and method == "authenticate":
            db, login, key = args[0], args[1], args[2]
            return self.uid if (db, login, key) == (self.database, self.login, self.api_key) else False
        if service == "common" and method == "version":
            return {
                "server_version": f"{self.version}.0",
                "server_version_info": [self.version, 0, 0, "final", 0, ""],
                "server_serie": f"{self.version}.0",
                "protocol_version": 1,
            }
        if service != "object" or method != "execute_kw":
            raise FakeOdooError("builtins.NameError", f"service {service!r} has no method {method!r}")
        db, uid, key, model, name = args[:5]
        positional = args[5] if len(args) > 5 else []
        named = dict(args[6]) if len(args) > 6 else {}
        if db != self.database or uid != self.uid or key != self.api_key:
            raise FakeOdooError("odoo.exceptions.AccessDenied", "Access Denied")
        self.requests.append((model, name))
        if model not in self.schema:
            raise FakeOdooError("builtins.KeyError", repr(model))
        context = named.pop("context", None) or {}
        return self.call(model, name, list(positional), named, context)

    # -- ORM --------------------------------------------------------------------------------------
    def call(self, model: str, name: str, args: list[Any], kwargs: dict[str, Any], context: dict[str, Any]) -> Any:
        if (model, name) in self.methods:
            self._check_access(model, "write")
            return self.methods[(model, name)](self, args, {**kwargs, "context": context})
        if name.startswith("_"):  # odoo/service/model.py: private methods are not callable over RPC
            raise FakeOdooError(
                "odoo.exceptions.AccessError", f"Private methods (such as '{model}.{name}') cannot be called remotely."
            )
        if name == "fields_get":
            self._check_access(model, "read")
            return {
                f.name: {
                    "type": f.type,
                    "string": f.string,
                    "required": f.required,
                    "readonly": f.readonly,
                    "relation": f.relation,
                }
                for f in self.fields_of(model).values()
            }
        if name in ("search", "search_read", "search_count"):
            self._check_access(model, "read")
            domain = args[0] if args else kwargs.pop("domain", [])
            ids = self.search(model, domain, context=context, order=kwargs.get("order"))
            if name == "search_count":
                return len(ids)
            offset = int(kwargs.get("offset") or 0)
            limit = kwargs.get("limit")
            ids = ids[offset : offset + limit if limit else None]
            if name == "search":
                return ids
            return self.read(model, ids, kwargs.get("fields") or None)
        if name == "read":
            self._check_access(model, "read")
            ids = args[0] if args else []
            fields = args[1] if len(args) > 1 else kwargs.get("fields")
            return self.read(model, [i for i in ids if i in self.tables[model]], fields or None)
        if name == "create":
            self._check_access(model, "create")
            values = args[0] if args else kwargs.get("vals_list")
            if isinstance(values, list):
                return [self.create(model, v, context=context) for v in values]
            return self.create(model, values, context=context)
        if name == "write":
            self._check_access(model, "write")
            self.write(model, list(args[0]), args[1])
            return True
        if name == "unlink":
            self._check_access(model, "unlink")
            self.unlink(model, list(args[0]))
            return True
        raise FakeOdooError("builtins.AttributeError", f"The method '{name}' does not exist on the model '{model}'")

    def _check_access(self, model: str, operation: str) -> None:
        if (model, operation) in self.denied:
            label = model.replace(".", " ").title()
            raise FakeOdooError(
                "odoo.exceptions.AccessError",
                f"You are not allowed to {'access' if operation == 'read' else operation} '{label}' ({model}) records.",
            )

    def fields_of(self, model: str) -> dict[str, Any]:
        schema = self.schema[model]
        fields = dict(schema.fields)
        if schema.inherits:
            for name, spec in self.schema[schema.inherits].fields.items():
                fields.setdefault(name, spec)
        return fields

    def search(
        self, model: str, domain: list[Any], *, context: dict[str, Any] | None = None, order: str | None = None
    ) -> list[int]:
        context = context or {}
        fields = self.fields_of(model)
        domain = list(domain or [])
        names = {leaf[0].split(".")[0] for leaf in domain if isinstance(leaf, list | tuple)}
        if "active" in fields and "active" not in names and context.get("active_test", True):
            domain = ["&", ["active", "=", True], *domain] if domain else [["active", "=", True]]
        ids = [rid for rid, rec in self.tables[model].items() if evaluate(self, model, rec, domain)]
        for part in reversed([p.strip() for p in (order or "id asc").split(",") if p.strip()]):
            name, _, direction = part.partition(" ")
            ids.sort(
                key=lambda i, n=name: _sortable(self.value(model, self.tables[model][i], n)),
                reverse=direction.strip().lower() == "desc",
            )
        return ids

    def value(self, model: str, rec: dict[str, Any], name: str) -> Any:
        """A field's value as stored (many2one as an id), through ``_inherits`` and the computes."""
        schema = self.schema[model]
        if (model, name) in INVERSES:  # a one2many is its comodel's records pointing back
            spec = schema.fields[name]
            inverse = INVERSES[(model, name)]
            return sorted(i for i, r in self.tables[spec.relation or ""].items() if r.get(inverse) == rec["id"])
        if name in rec:
            return rec[name]
        if (model, name) in self.computes:
            return self.computes[(model, name)](rec)
        if name == "display_name":
            return self.display_name(model, rec)
        if self._inherited(model, name):
            parent = self.tables[schema.inherits].get(rec.get("product_tmpl_id") or 0)
            return self.value(schema.inherits, parent, name) if parent else False
        if name == "attribute_id" and model == "product.template.attribute.value":
            pav = self.tables["product.attribute.value"].get(rec.get("product_attribute_value_id") or 0) or {}
            return pav.get("attribute_id", False)
        spec = self.fields_of(model).get(name)
        if spec is not None and spec.type in ("one2many", "many2many"):
            return []
        return False

    def display_name(self, model: str, rec: dict[str, Any]) -> str:
        if model == "product.template.attribute.value":
            pav = self.tables["product.attribute.value"].get(rec.get("product_attribute_value_id") or 0) or {}
            return str(pav.get("name") or "")
        name = self.value(model, rec, "name") if "name" in self.fields_of(model) else None
        if model == "product.product" and rec.get("default_code"):
            return f"[{rec['default_code']}] {name}"
        return str(name) if name else f"{model},{rec['id']}"

    def read(self, model: str, ids: list[int], fields: list[str] | None) -> list[dict[str, Any]]:
        known = self.fields_of(model)
        names = fields or [n for n, f in known.items() if f.type != "binary"]
        for name in names:
            if name not in known:
                raise FakeOdooError("builtins.ValueError", f"Invalid field {name!r} on model {model!r}")
        rows = []
        for rid in ids:
            rec = self.tables[model][rid]
            row: dict[str, Any] = {"id": rid}
            for name in names:
                value = self.value(model, rec, name)
                spec = known[name]
                if spec.type == "many2one":
                    target = self.tables.get(spec.relation or "", {}).get(value) if value else None
                    row[name] = [value, self.display_name(spec.relation or "", target)] if target else False
                elif spec.type in ("one2many", "many2many"):
                    row[name] = list(value or [])
                else:
                    row[name] = value if value is not None else False
            rows.append(row)
        return rows

    def create(
        self, model: str, values: dict[str, Any], *, admin: bool = False, context: dict[str, Any] | None = None
    ) -> int:
        schema = self.schema[model]
        values = dict(values)
        if model in self.on_create:
            values = self.on_create[model](values)
        if model == "sale.advance.payment.inv" and (context or {}).get("active_model") == "sale.order":
            values.setdefault("sale_order_ids", list(context["active_ids"]))  # its field default
        if schema.inherits and not values.get("product_tmpl_id"):
            own = {k: v for k, v in values.items() if not self._inherited(model, k)}
            inherited = {k: v for k, v in values.items() if k not in own}
            values = {
                **own,
                "product_tmpl_id": self.create(
                    schema.inherits, inherited, admin=admin, context={"create_product_product": False}
                ),
            }
        if model == "product.template" and self.version < 18:
            # 16/17: type is computed from detailed_type (product/models/product_template.py _compute_type)
            kind = values.get("detailed_type") or values.get("type") or "consu"
            values.update(detailed_type=kind, type=kind)
        self._check_values(model, values, admin=admin, creating=True)
        rid = self._next.get(model, 1)  # ids are per table, as in Odoo's database
        self._next[model] = rid + 1
        now = self.clock().strftime("%Y-%m-%d %H:%M:%S")
        record = {
            "id": rid,
            **DEFAULTS.get(model, {}),
            **self._stored(model, values),
            "create_date": now,
            "write_date": now,
        }
        children = record.pop("__children__", [])
        if (context or {}).get("active_ids"):  # a wizard's default from the context (active_ids)
            record["_active_ids"] = list(context["active_ids"])  # type: ignore[index]
        self.tables[model][rid] = record
        self._create_children(model, rid, children, admin=admin)
        if schema.inherits:
            self.write(
                schema.inherits,
                [record["product_tmpl_id"]],
                {k: v for k, v in values.items() if self._inherited(model, k)},
                admin=admin,
            )
        if model == "product.template" and (context or {}).get("create_product_product", True):
            # product/models/product_template.py _create_variant_ids: one variant without attribute lines
            self.create("product.product", {"product_tmpl_id": rid}, admin=True)
        return rid

    def write(self, model: str, ids: list[int], values: dict[str, Any], *, admin: bool = False) -> None:
        schema = self.schema[model]
        missing = [i for i in ids if i not in self.tables[model]]
        if missing:  # odoo/models.py _check_concurrency / check_access: MissingError
            raise FakeOdooError(
                "odoo.exceptions.MissingError",
                f"Record does not exist or has been deleted.\n(Record: {model}({missing[0]},), User: {self.uid})",
            )
        own = {k: v for k, v in values.items() if not self._inherited(model, k)}
        self._check_values(model, own, admin=admin, creating=False)
        now = self.clock().strftime("%Y-%m-%d %H:%M:%S")
        for rid in ids:
            rec = self.tables[model][rid]
            stored = self._stored(model, own, rec)
            children = stored.pop("__children__", [])
            rec.update(stored)
            rec["write_date"] = now
            self._create_children(model, rid, children, admin=admin)
            inherited = {k: v for k, v in values.items() if k not in own}
            if inherited:
                self.write(schema.inherits or "", [rec["product_tmpl_id"]], inherited, admin=admin)

    def unlink(self, model: str, ids: list[int]) -> None:
        if model == "sale.order":
            if any(self.tables[model][i]["state"] not in ("draft", "cancel") for i in ids):
                # sale/models/sale_order.py _unlink_except_draft_or_cancel
                raise FakeOdooError(
                    "odoo.exceptions.UserError",
                    "You can not delete a sent quotation or a confirmed sales order. You must first cancel it.",
                )
            for order in ids:
                for line in self.value(model, self.tables[model][order], "order_line"):
                    self.tables["sale.order.line"].pop(line, None)
        for rid in ids:
            self.tables[model].pop(rid, None)

    def _inherited(self, model: str, name: str) -> bool:
        """A field of the ``_inherits`` parent (stored there, not here)."""
        schema = self.schema[model]
        if not schema.inherits or name not in self.schema[schema.inherits].fields:
            return False
        return name not in schema.fields or not schema.fields[name].store

    def _check_values(self, model: str, values: dict[str, Any], *, admin: bool, creating: bool) -> None:
        fields = self.schema[model].fields
        for name, value in values.items():
            spec = fields.get(name)
            if spec is None:
                raise FakeOdooError("builtins.ValueError", f"Invalid field {name!r} on model {model!r}")
            if spec.readonly and not admin and name not in ("id",):
                raise validation(
                    f"{model}.{name} is read-only (stricter than Odoo: the fake refuses writes to readonly fields)"
                )
            self._check_type(model, spec, value)
        if creating:
            defaults = DEFAULTS.get(model, {})
            for spec in fields.values():
                if (
                    spec.required
                    and spec.store
                    and spec.name not in values
                    and spec.name not in defaults
                    and spec.type not in ("one2many", "many2many")
                ):
                    raise validation(
                        "The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n"
                        f"Model: {model}, Field: {spec.string} ({spec.name})"
                    )

    def _check_type(self, model: str, spec: Any, value: Any) -> None:
        where = f"{model}.{spec.name}"
        if value is False or value is None:
            if spec.required:
                raise validation(f"The operation cannot be completed: a mandatory field is not set ({where})")
            return
        if spec.type == "many2one":
            if not isinstance(value, int) or isinstance(value, bool):
                raise validation(f"{where}: expected a record id, got {value!r} (stricter than Odoo)")
            self._exists(spec.relation, [value], where)
        elif spec.type in ("one2many", "many2many"):
            if not isinstance(value, list):
                raise validation(f"{where}: expected a list of commands or ids (stricter than Odoo)")
            for command in value:
                if isinstance(command, int):
                    self._exists(spec.relation, [command], where)
                elif isinstance(command, list | tuple) and command and command[0] in (4, 1, 2, 3):
                    self._exists(spec.relation, [command[1]], where)
                elif isinstance(command, list | tuple) and command and command[0] == 6:
                    self._exists(spec.relation, list(command[2]), where)
                elif not (isinstance(command, list | tuple) and command and command[0] in (0, 5)):
                    raise validation(f"{where}: {command!r} is no x2many command")
        elif spec.type in _SCALARS:
            if not isinstance(value, _SCALARS[spec.type]) or (
                spec.type in ("integer", "float", "monetary") and isinstance(value, bool)
            ):
                raise validation(f"{where}: {value!r} is not a {spec.type} (stricter than Odoo)")
            if spec.type == "selection" and spec.selection and value not in spec.selection:
                raise validation(f"Wrong value for {where}: {value!r}")

    def _exists(self, relation: str | None, ids: list[Any], where: str) -> None:
        table = self.tables.get(relation or "")
        if table is None:
            return  # a model the fake does not hold: not checked
        for rid in ids:
            if rid not in table:
                raise validation(
                    f"{where}: {relation} record {rid!r} does not exist (stricter than Odoo's database error)"
                )

    def _stored(self, model: str, values: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, Any]:
        """Values as stored: x2many commands applied to the current ids (0 creates in the comodel)."""
        stored: dict[str, Any] = {}
        fields = self.schema[model].fields
        for name, value in values.items():
            spec = fields[name]
            if spec.type not in ("one2many", "many2many") or not isinstance(value, list):
                stored[name] = value
                continue
            ids = list((current or {}).get(name) or [])
            deferred = []
            for command in value:
                if isinstance(command, int):
                    ids = [*ids, command] if command not in ids else ids
                elif command[0] == 6:
                    ids = list(command[2])
                elif command[0] == 5:
                    ids = []
                elif command[0] == 4:
                    ids = [*ids, command[1]] if command[1] not in ids else ids
                elif command[0] in (2, 3):
                    ids = [i for i in ids if i != command[1]]
                elif command[0] == 0:
                    deferred.append(command[2])
            if (model, name) not in INVERSES:  # a one2many is computed from its comodel
                stored[name] = ids
            if deferred:
                stored.setdefault("__children__", []).append((spec, deferred))
        return stored

    def _create_children(self, model: str, rid: int, children: list[Any], *, admin: bool = False) -> None:
        """``[0, 0, values]`` commands: records of the comodel linked back by the inverse field."""
        for spec, rows in children:
            inverse = INVERSES[(model, spec.name)]
            for values in rows:
                self._check_values(spec.relation, values, admin=admin, creating=False)
                self.create(spec.relation, {**values, inverse: rid}, admin=True)

    def _price_extra(self, rec: dict[str, Any]) -> float:
        values = self.tables["product.template.attribute.value"]
        return float(
            sum(
                (values.get(v) or {}).get("price_extra") or 0.0
                for v in rec.get("product_template_attribute_value_ids") or []
            )
        )


def _sortable(value: Any) -> Any:
    if value is False or value is None:
        return (0, "")
    return (1, value)
