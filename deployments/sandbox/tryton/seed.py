"""Seed a catalogue into the sandbox's Tryton database (Tryton venv python, server may run).

    python seed.py CONFIG_FILE DATABASE CATALOGUE.json

Uses trytond's own API in one transaction with batched creates (thousands of articles in
seconds). Format: see deployments/demo/catalogue.py. Prints a JSON summary.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal


def main(config_file: str, database: str, catalogue_file: str) -> None:
    from trytond import config

    config.update_etc(config_file)
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    with open(catalogue_file, encoding="utf-8") as fh:
        catalogue = json.load(fh)
    Pool.start()
    pool = Pool(database)
    pool.init()
    with Transaction().start(database, 0, context={"company": 1}) as transaction:
        User = pool.get("res.user")
        (admin,) = User.search([("login", "=", "admin")])
        with transaction.set_user(admin.id), transaction.set_context(User.get_preferences(context_only=True)):
            summary = _seed(pool, catalogue)
        transaction.commit()
    print(json.dumps(summary))


def _seed(pool, catalogue):
    Template = pool.get("product.template")
    Category = pool.get("product.category")
    Uom = pool.get("product.uom")
    AttributeSet = pool.get("product.attribute.set")
    (unit,) = Uom.search([("name", "=", "Unit")])
    kg = Uom.search([("symbol", "=", "kg")])[0]
    grams = Uom.search([("symbol", "=", "g")])[0]
    vat_categories = {}
    for category in Category.search([("accounting", "=", True)]):
        rate = category.name.removeprefix("Accounting VAT ").removesuffix("%")
        vat_categories[rate] = category.id
    sets = {s.name: s.id for s in AttributeSet.search([])}
    paths = {}

    def category_id(path):
        if path in paths:
            return paths[path]
        parent = None
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            sub = "/".join(parts[:depth])
            if sub not in paths:
                (created,) = Category.create([{"name": parts[depth - 1], "parent": parent}])
                paths[sub] = created.id
            parent = paths[sub]
        return paths[path]

    for existing in Category.search([("accounting", "=", False)]):
        paths.setdefault(existing.rec_name.replace(" / ", "/"), existing.id)

    values = []
    for t in catalogue["templates"]:
        products = []
        for p in t["products"]:
            product = {
                "suffix_code": p.get("suffix_code") or None,
                "attributes": p.get("attributes") or None,
                "active": p.get("active", True),
                "description": p.get("description"),
            }
            if p.get("cost_price"):
                product["cost_price"] = Decimal(p["cost_price"])
            if p.get("ean"):
                product["identifiers"] = [("create", [{"type": p.get("identifier_type", "ean"), "code": p["ean"]}])]
            products.append(product)
        template = {
            "name": t["name"],
            "code": t.get("code"),
            "type": "goods",
            "salable": True,
            "default_uom": unit.id,
            "sale_uom": unit.id,
            "list_price": Decimal(t["list_price"]),
            "account_category": vat_categories.get(t.get("vat") or ""),
            "categories": [("add", [category_id(c) for c in t.get("categories") or []])],
            "attribute_set": sets.get(t.get("attribute_set") or ""),
            "active": t.get("active", True),
            "products": [("create", products)],
        }
        if t.get("weight") is not None:
            template["weight"] = float(t["weight"])
            template["weight_uom"] = grams.id if t.get("weight_uom") == "g" else kg.id
        values.append(template)
    created = []
    # Batches of about 25 products: Tryton checks the unique product code with one SQL query
    # per batch, and SQLite's parser overflows on much larger ones.
    batch: list = []
    for template in values:
        batch.append(template)
        if sum(len(t["products"][0][1]) for t in batch) >= 25:
            created += Template.create(batch)
            batch = []
    if batch:
        created += Template.create(batch)
    return {"templates": len(created), "products": sum(len(t.products) for t in created)}


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
