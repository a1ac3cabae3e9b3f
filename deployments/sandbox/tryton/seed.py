"""Seed a catalogue into the sandbox's Tryton database, fast, through trytond's own API.

Run with the Tryton virtualenv's python::

    python seed.py /path/to/passerelle.sqlite CATALOGUE.json [--mode auto|orm|bulk] [--skip-rejected]

Two paths write the same rows: ``orm`` (``Template.create`` in batches, Tryton's whole validation)
and ``bulk`` (the same rows as multi-row INSERTs, Tryton's refusals repeated by
``BulkWriter.check``); ``auto`` (default) is bulk from ``AUTO_BULK`` articles. The server may keep
running. Prints one line of JSON (ids, counts, rejected templates, seconds).

Details and the catalogue format: deployments/sandbox/tryton/README.md (section "Seeding").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

UNTYPED = {None, "", "other"}
# SQLite only: Tryton checks the unique product code of a batch with one query whose OR-chain
# nests one level per product, and SQLite's parser stack overflows past about 50 products.
DEFAULT_BATCH = 40
# From this many articles ``--mode auto`` writes in bulk: the ORM costs ~2.5 ms per article.
AUTO_BULK = 2000


def rate_key(rate: Decimal | str) -> str:
    """A rate in percent as the seed's ``vat`` key spells it: "20" for 20.000, "5.5" for "5,5", "0" for "0%"."""
    value = Decimal(str(rate).replace(",", ".").rstrip("%").strip()).normalize()
    return f"{value:f}"


class Seeder:
    """Lookups (ids only, valid across transactions) built once per seed, and the values to create."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        Uom = pool.get("product.uom")
        Category = pool.get("product.category")
        AttributeSet = pool.get("product.attribute.set")
        self.unit = Uom.search([("name", "=", "Unit")])[0].id
        self.uoms = {u.symbol: u.id for u in Uom.search([("category.name", "=", "Weight")])}
        self.vat: dict[str, int] = {}
        self.accounting_model: int | None = None
        for category in Category.search([("accounting", "=", True)], order=[("id", "ASC")]):
            taxes = [t for t in category.customer_taxes if t.type == "percentage"]
            if taxes:
                self.vat.setdefault(rate_key(taxes[0].rate * 100), category.id)
                self.accounting_model = self.accounting_model or category.id
        self.sets = {s.name: s.id for s in AttributeSet.search([])}
        self.paths: dict[str, int] = {}
        by_id = {c.id: c for c in Category.search([("accounting", "=", False)])}
        for category in by_id.values():
            names, node = [], category
            while node is not None:
                names.append(node.name)
                node = node.parent
            self.paths.setdefault("/".join(reversed(names)), category.id)

    def vat_category(self, vat: str | None) -> int | None:
        if vat in (None, ""):
            return None
        key = rate_key(vat)
        if key not in self.vat:
            self.vat[key] = self._new_vat(key)
        return self.vat[key]

    def _new_vat(self, key: str) -> int:
        """A tax and accounting category for a rate the database lacks (e.g. a foreign 7 %)."""
        Tax = self.pool.get("account.tax")
        Category = self.pool.get("product.category")
        if self.accounting_model is None:
            raise ValueError("no accounting category with a customer tax to copy accounts from (run setup_db.py)")
        model = Category(self.accounting_model)
        source = model.customer_taxes[0]
        name = f"TVA {key.replace('.', ',')}%"
        (tax,) = Tax.create(
            [
                {
                    "name": name,
                    "description": name,
                    "type": "percentage",
                    "rate": Decimal(key) / 100,
                    "invoice_account": source.invoice_account.id,
                    "credit_note_account": source.credit_note_account.id,
                }
            ]
        )
        (category,) = Category.create(
            [
                {
                    "name": f"Accounting VAT {key}%",
                    "accounting": True,
                    "account_revenue": model.account_revenue.id,
                    "account_expense": model.account_expense.id,
                    "customer_taxes": [("add", [tax.id])],
                }
            ]
        )
        return category.id

    def category(self, path: str) -> int:
        Category = self.pool.get("product.category")
        parts = [p.strip() for p in path.split("/") if p.strip()]
        parent = None
        for depth in range(1, len(parts) + 1):
            sub = "/".join(parts[:depth])
            if sub not in self.paths:
                (created,) = Category.create([{"name": parts[depth - 1], "parent": parent}])
                self.paths[sub] = created.id
            parent = self.paths[sub]
        if parent is None:
            raise ValueError(f"empty category path {path!r}")
        return parent

    def template_values(self, t: dict[str, Any]) -> dict[str, Any]:
        products = [self.product_values(p, t) for p in t.get("products") or []]
        values: dict[str, Any] = {
            "name": t["name"],
            "code": t.get("code") or None,
            "type": t.get("type") or "goods",
            "salable": t.get("salable", True),
            "default_uom": self.unit,
            "sale_uom": self.unit,
            "list_price": Decimal(t["list_price"]) if t.get("list_price") is not None else None,
            "account_category": self.vat_category(t.get("vat")),
            "categories": [("add", [self.category(c) for c in t.get("categories") or []])],
            "attribute_set": self._attribute_set(t.get("attribute_set")),
            "active": t.get("active", True),
            "products": [("create", products)],
        }
        if t.get("weight") not in (None, ""):
            values["weight"] = float(t["weight"])
            uom = t.get("weight_uom") or "kg"
            if uom not in self.uoms:
                raise ValueError(f"{t.get('code')}: unknown weight unit {uom!r} (known: {sorted(self.uoms)})")
            values["weight_uom"] = self.uoms[uom]
        return values

    def _attribute_set(self, name: str | None) -> int | None:
        if not name:
            return None
        if name not in self.sets:
            raise ValueError(f"unknown attribute set {name!r} (known: {sorted(self.sets)})")
        return self.sets[name]

    def product_values(self, p: dict[str, Any], t: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {
            "suffix_code": p.get("suffix_code") or None,
            "attributes": p.get("attributes") or None,
            "active": p.get("active", True),
            "description": p.get("description") if p.get("description") is not None else t.get("description"),
        }
        if p.get("cost_price") is not None:
            values["cost_price"] = Decimal(p["cost_price"])
        if p.get("list_price") is not None:
            values["list_price"] = Decimal(p["list_price"])
        if p.get("ean"):
            kind = p.get("identifier_type", "ean")
            values["identifiers"] = [("create", [{"type": None if kind in UNTYPED else kind, "code": p["ean"]}])]
        return values


class Rejected(Exception):
    """A row the bulk path refuses for the same reason Tryton's create would."""


class BulkWriter:
    """Insert the rows Tryton's ``create`` would write, with its SQL, minus its per-record Python.

    Same tables, columns, defaults (``default_get``), ``sql_format`` (stripping, JSON of the
    attributes dict), translations, multi-value records and create_uid/create_date as the ORM;
    ``tests/integration/test_tryton_sandbox.py`` compares both paths on one catalogue. Only
    the checks Tryton actually fails on for this data are repeated (see ``check``); what Tryton
    accepts (negative prices or weights, odd attributes, extra VAT rates) is accepted too.
    Categories and taxes still go through the ORM (few rows).
    """

    STDNUM = {"ean", "isan", "isbn", "isil", "isin", "ismn"}

    def __init__(self, pool: Any, seeder: Seeder) -> None:
        from trytond.transaction import Transaction

        self.pool = pool
        self.seeder = seeder
        self.transaction = Transaction()
        self.company = self.transaction.context["company"]
        self.user = self.transaction.user
        self.language = self.transaction.language
        self.Template = pool.get("product.template")
        self.Product = pool.get("product.product")
        self.Identifier = pool.get("product.identifier")
        self.identifier_types = {k for k, _ in self.Identifier.type.selection}
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.next_ids: dict[str, int] = {}
        cursor = self.transaction.connection.cursor()
        product = self.Product.__table__()
        cursor.execute(*product.select(product.code, where=(product.active == True) & (product.code != "")))  # noqa: E712
        self.active_codes = {code for (code,) in cursor}
        self.defaults: dict[str, dict[str, Any]] = {}
        self.cost_price_method = self.Template.default_cost_price_method(company=self.company)
        self.default_cost_price = self.Product.default_cost_price(company=self.company)

    @staticmethod
    def _defaults(Model: Any) -> dict[str, Any]:
        defaults = Model.default_get(list(Model._fields), with_rec_name=False)
        return {
            k: v for k, v in defaults.items() if Model._fields[k].__class__.__name__ not in {"One2Many", "Many2Many"}
        }

    def _id(self, Model: Any) -> int:
        table = Model._table
        if table not in self.next_ids:
            cursor = self.transaction.connection.cursor()
            sql_table = Model.__table__()
            from sql.aggregate import Max

            cursor.execute(*sql_table.select(Max(sql_table.id)))
            self.next_ids[table] = (cursor.fetchone()[0] or 0) + 1
        self.next_ids[table] += 1
        return self.next_ids[table] - 1

    def _add(self, Model: Any, values: dict[str, Any]) -> int:
        """Queue one record (defaults, then stored fields only, as ModelSQL.create does) and its translations."""
        if Model.__name__ not in self.defaults:
            self.defaults[Model.__name__] = self._defaults(Model)
        record_id = self._id(Model)
        row = {"id": record_id}
        for name, value in {**self.defaults[Model.__name__], **values}.items():
            field = Model._fields[name]
            if hasattr(field, "set"):
                continue
            row[name] = field.sql_format(value)
            if getattr(field, "translate", False) and row[name]:
                self._translation(f"{Model.__name__},{name}", record_id, row[name])
        self.rows.setdefault(Model.__name__, []).append(row)
        return record_id

    def _translation(self, name: str, res_id: int, value: str) -> None:
        Translation = self.pool.get("ir.translation")
        self._add(
            Translation,
            {
                "name": name,
                "res_id": res_id,
                "lang": self.language,
                "type": "model",
                "src": value,
                "value": value,
                "fuzzy": False,
            },
        )

    def check(self, t: dict[str, Any], taken: set[str]) -> None:
        """Tryton's refusals for catalogue rows: required name, identifier type and code, unique code."""
        if not (t.get("name") or "").strip():
            raise Rejected('RequiredValidationError: A value is required for field "Name" of "Product Template".')
        for product in (self.seeder.product_values(p, t) for p in t.get("products") or []):
            for identifier in (product.get("identifiers") or [("create", [])])[0][1]:
                kind, code = identifier["type"], identifier["code"]
                if kind not in self.identifier_types:
                    raise Rejected(f'SelectionValidationError: The value "{kind}" for field "Type" is not allowed.')
                if kind in self.STDNUM:
                    from importlib import import_module

                    try:
                        module = import_module(f"stdnum.{kind}")
                    except ModuleNotFoundError:
                        continue
                    if not module.is_valid(code):
                        raise Rejected(
                            f'InvalidIdentifierCode: The {kind} "{code}" for product "{product_code(t, product)}".'
                        )
            code = product_code(t, product)
            if product.get("active", True) and code:
                if code in self.active_codes or code in taken:
                    raise Rejected(f"SQLConstraintError: Code of active product must be unique ({code}).")
                taken.add(code)

    def prepare(self, t: dict[str, Any]) -> dict[str, Any]:
        """Check a template and resolve its lookups; may create categories or taxes (ORM)."""
        taken: set[str] = set()
        self.check(t, taken)
        values = self.seeder.template_values(t)
        for product in values["products"][0][1]:
            product["code"] = product_code(t, product)
        self.active_codes |= taken
        return values

    def add_template(self, values: dict[str, Any]) -> tuple[int, str | None, list[tuple[int, str | None]]]:
        """Queue the rows of a prepared template; ids follow the tables' maximum, so call it
        only once no ORM create will come (categories and taxes write translations too)."""
        products = values.pop("products")[0][1]
        categories = values.pop("categories")[0][1]
        list_price = values.pop("list_price")
        template_id = self._add(self.Template, values)
        ListPrice = self.pool.get("product.list_price")
        CostPriceMethod = self.pool.get("product.cost_price_method")
        CostPrice = self.pool.get("product.cost_price")
        Category = self.pool.get("product.template-product.category")
        if list_price is not None:
            self._add(ListPrice, {"template": template_id, "company": self.company, "list_price": list_price})
        self._add(
            CostPriceMethod,
            {"template": template_id, "company": self.company, "cost_price_method": self.cost_price_method},
        )
        for category in categories:
            self._add(Category, {"template": template_id, "category": category})
        variants = []
        for product in products:
            identifiers = (product.pop("identifiers", None) or [("create", [])])[0][1]
            variant_price = product.pop("list_price", None)
            cost_price = product.pop("cost_price", self.default_cost_price)
            product_id = self._add(self.Product, {**product, "template": template_id})
            if product["code"]:
                # Tryton writes the code right after create (sync_code): write_uid/write_date set.
                self.rows["product.product"][-1]["write_uid"] = self.user
            for identifier in identifiers:
                self._add(self.Identifier, {**identifier, "product": product_id})
            if variant_price is not None:
                self._add(
                    ListPrice,
                    {
                        "template": template_id,
                        "product": product_id,
                        "company": self.company,
                        "list_price": variant_price,
                    },
                )
            if cost_price is not None:
                self._add(CostPrice, {"product": product_id, "company": self.company, "cost_price": cost_price})
            variants.append((product_id, self.Product._fields["code"].sql_format(product.get("code"))))
        return template_id, self.Template._fields["code"].sql_format(values.get("code")), variants

    def flush(self) -> None:
        """Multi-row INSERTs, at most 20 000 bound values each (SQLite allows 32 766)."""
        from sql import Column
        from sql.functions import CurrentTimestamp

        cursor = self.transaction.connection.cursor()
        for model, rows in self.rows.items():
            Model = self.pool.get(model)
            table = Model.__table__()
            names = sorted({k for row in rows for k in row} - {"write_uid"})
            columns = [Column(table, n) for n in [*names, "create_uid", "create_date", "write_uid", "write_date"]]
            step = max(1, 20000 // len(columns))
            for start in range(0, len(rows), step):
                values = [
                    [row.get(n) for n in names]
                    + [
                        self.user,
                        CurrentTimestamp(),
                        row.get("write_uid"),
                        CurrentTimestamp() if row.get("write_uid") else None,
                    ]
                    for row in rows[start : start + step]
                ]
                cursor.execute(*table.insert(columns, values))
        self.rows.clear()
        # What ValueMixin.on_modification does after a create: other processes (the running
        # server) drop their cached multi-values at their next transaction (ir_cache).
        for name in ("product.list_price", "product.cost_price", "product.cost_price_method"):
            self.pool.get(name)._values_cache().clear()


def product_code(t: dict[str, Any], product: dict[str, Any]) -> str | None:
    """What Product.sync_code writes after create: template code + suffix code."""
    return "".join(filter(None, [t.get("code"), product.get("suffix_code")])).strip() or None


def batches(templates: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    """Groups of templates with about ``size`` products (a bigger template goes alone)."""
    batch: list[dict[str, Any]] = []
    count = 0
    for t in templates:
        n = max(1, len(t.get("products") or []))
        if batch and count + n > size:
            yield batch
            batch, count = [], 0
        batch.append(t)
        count += n
    if batch:
        yield batch


def run_bulk(
    pool: Any, database: str, templates: list[dict[str, Any]], *, skip_rejected: bool
) -> tuple[list[tuple[int, str | None, list[tuple[int, str | None]]]], list[dict[str, Any]]]:
    """The bulk path: one transaction, rows checked then inserted; nothing written on a refusal
    unless ``skip_rejected``."""
    from trytond.transaction import Transaction

    created: list[tuple[int, str | None, list[tuple[int, str | None]]]] = []
    rejected: list[dict[str, Any]] = []
    with Transaction().start(database, 0) as transaction:
        User = pool.get("res.user")
        (admin,) = User.search([("login", "=", "admin")])
        with transaction.set_user(admin.id), transaction.set_context(User.get_preferences(context_only=True)):
            writer = BulkWriter(pool, Seeder(pool))
            prepared = []
            for t in templates:
                try:
                    prepared.append(writer.prepare(t))
                except (Rejected, ValueError) as error:
                    if not skip_rejected:
                        raise
                    rejected.append({"code": t.get("code"), "name": t.get("name"), "error": describe(error)})
            created = [writer.add_template(values) for values in prepared]
            writer.flush()
        transaction.commit()
    return created, rejected


def describe(error: BaseException) -> str:
    if isinstance(error, Rejected):
        return str(error)
    message = getattr(error, "message", None) or str(error)
    return f"{type(error).__name__}: {message}".strip()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db_file", type=Path)
    parser.add_argument("catalogue", type=Path)
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, help="products per create call")
    parser.add_argument("--skip-rejected", action="store_true", help="commit what Tryton accepts, list the rest")
    parser.add_argument(
        "--mode",
        choices=["auto", "orm", "bulk"],
        default="auto",
        help=f"orm: Template.create batches; bulk: the same rows by SQL; auto: bulk from {AUTO_BULK} articles",
    )
    args = parser.parse_args(argv)
    db_file: Path = args.db_file.resolve()
    if not db_file.is_file():
        parser.error(f"no database file {db_file}")
    os.environ["TRYTOND_DATABASE__URI"] = "sqlite://"
    os.environ["TRYTOND_DATABASE__PATH"] = str(db_file.parent)
    os.environ.pop("TRYTOND_CONFIG", None)
    started = time.monotonic()
    catalogue = json.loads(args.catalogue.read_text(encoding="utf-8"))

    from trytond.pool import Pool
    from trytond.transaction import Transaction

    database = db_file.stem
    Pool.start()
    pool = Pool(database)
    pool.init()
    rejected: list[dict[str, Any]] = []
    created: list[tuple[int, str | None, list[tuple[int, str | None]]]] = []
    groups = list(batches(catalogue["templates"], args.batch))

    seeder: Seeder | None = None

    def run(groups: list[list[dict[str, Any]]]) -> list[tuple[int, str | None, list[tuple[int, str | None]]]]:
        """Create batches of templates in one transaction as the admin (company, warehouse in context)."""
        nonlocal seeder
        with Transaction().start(database, 0) as transaction:
            User = pool.get("res.user")
            Template = pool.get("product.template")
            (admin,) = User.search([("login", "=", "admin")])
            with transaction.set_user(admin.id), transaction.set_context(User.get_preferences(context_only=True)):
                try:
                    seeder = seeder or Seeder(pool)
                    result = []
                    for batch in groups:
                        records = Template.create([seeder.template_values(t) for t in batch])
                        result += [(r.id, r.code, [(p.id, p.code) for p in r.products]) for r in records]
                except Exception:
                    seeder = None  # it may hold categories or taxes of the rolled-back transaction
                    raise
            transaction.commit()
        return result

    articles = sum(max(1, len(t.get("products") or [])) for t in catalogue["templates"])
    mode = args.mode if args.mode != "auto" else ("bulk" if articles >= AUTO_BULK else "orm")
    if mode == "bulk":
        created, rejected = run_bulk(pool, database, catalogue["templates"], skip_rejected=args.skip_rejected)
    elif not args.skip_rejected:
        # All or nothing: one transaction, one create per batch.
        created = run(groups)
    else:
        for batch in groups:
            try:
                created += run([batch])
            except Exception:
                # Tryton rolled the batch back; find the refused rows one by one.
                for t in batch:
                    try:
                        created += run([[t]])
                    except Exception as error:
                        rejected.append({"code": t.get("code"), "name": t.get("name"), "error": describe(error)})

    products: dict[str, int] = {}
    for _tid, _code, variants in created:
        for pid, pcode in variants:
            products.setdefault(pcode or f"#{pid}", pid)
    summary = {
        "templates": {code or f"#{tid}": tid for tid, code, _ in created},
        "products": products,
        "counts": {"templates": len(created), "products": sum(len(v) for _, _, v in created)},
        "rejected": rejected,
        "mode": mode,
        "seconds": round(time.monotonic() - started, 2),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # one clear line for the launcher, the traceback for humans
        import traceback

        traceback.print_exc()
        print(f"seed failed: {describe(exc)}", file=sys.stderr)
        sys.exit(1)
