"""The Tryton sandbox is a real Tryton 8.2: seeded data reads back over raw JSON-RPC, the
accounting setup carries a web sale with a deposit to its final invoice, and the seed's two
paths (ORM and bulk SQL) write the same rows and refuse the same bad data as Tryton."""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from deployments.sandbox.tryton import TrytonSandbox

pytestmark = pytest.mark.integration

PASSWORD = "sandbox-test-secret"


def catalogue(prefix: str) -> dict[str, Any]:
    """A T-shirt with three colour/size variants (one with its own price) and a simple book."""
    return {
        "templates": [
            {
                "code": f"{prefix}TSH",
                "name": f"{prefix} Basic T-shirt",
                "description": "Organic cotton.",
                "list_price": "19.90",
                "vat": "20",
                "categories": ["Clothing/T-shirts"],
                "attribute_set": "Apparel",
                "weight": "0.200",
                "weight_uom": "kg",
                "active": True,
                "products": [
                    {
                        "suffix_code": "-RED-M",
                        "attributes": {"colour": "red", "size": "M"},
                        "ean": "3790000000014",
                        "cost_price": "7.50",
                        "list_price": None,
                        "active": True,
                        "description": None,
                    },
                    {
                        "suffix_code": "-RED-L",
                        "attributes": {"colour": "red", "size": "L"},
                        "ean": "3790000000021",
                        "cost_price": "7.50",
                        "list_price": None,
                        "active": True,
                        "description": None,
                    },
                    {
                        "suffix_code": "-BLUE-XL",
                        "attributes": {"colour": "blue", "size": "XL"},
                        "ean": "3790000000038",
                        "cost_price": "8.00",
                        "list_price": "21.90",
                        "active": True,
                        "description": "Bigger, dearer.",
                    },
                ],
            },
            {
                "code": f"{prefix}BOOK",
                "name": f"{prefix} Natural dyes (book)",
                "description": None,
                "list_price": "29.90",
                "vat": "5.5",
                "categories": ["Books/Crafts"],
                "attribute_set": None,
                "weight": "450",
                "weight_uom": "g",
                "active": True,
                "products": [{"suffix_code": "", "attributes": {}, "ean": "9782070368228", "active": True}],
            },
        ]
    }


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, dt.datetime):
        return {
            "__class__": "datetime",
            "year": value.year,
            "month": value.month,
            "day": value.day,
            "hour": value.hour,
            "minute": value.minute,
            "second": value.second,
            "microsecond": value.microsecond,
        }
    raise TypeError(type(value))


def _decode(obj: dict[str, Any]) -> Any:
    kind = obj.get("__class__")
    if kind == "Decimal":
        return Decimal(obj["decimal"])
    if kind == "datetime":
        return dt.datetime(*(obj[k] for k in ("year", "month", "day", "hour", "minute", "second", "microsecond")))
    if kind == "date":
        return dt.date(obj["year"], obj["month"], obj["day"])
    return obj


class Rpc:
    """Tryton's JSON-RPC as any client speaks it: login, session header, context last."""

    def __init__(self, sandbox: TrytonSandbox) -> None:
        self.http = httpx.Client(base_url=sandbox.url, timeout=60)
        self.path = f"/{sandbox.database}/rpc/"
        self.ids = itertools.count(1)
        uid, session = self.call("common.db.login", sandbox.login, {"password": sandbox.password}, "en")[:2]
        token = base64.b64encode(f"{sandbox.login}:{uid}:{session}".encode()).decode()
        self.http.headers["Authorization"] = f"Session {token}"
        self.context = self.call("model.res.user.get_preferences", True, {})

    def call(self, method: str, *params: Any) -> Any:
        body = json.dumps({"id": next(self.ids), "method": method, "params": list(params)}, default=_encode)
        response = self.http.post(self.path, content=body, headers={"Content-Type": "application/json"})
        response.raise_for_status()
        payload = json.loads(response.text, object_hook=_decode)
        if payload.get("error"):
            raise AssertionError(f"{method}: {payload['error']}")
        return payload["result"]

    def __call__(self, model: str, method: str, *args: Any) -> Any:
        return self.call(f"model.{model}.{method}", *args, self.context)


@pytest.fixture(scope="module")
def erp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TrytonSandbox, dict[str, Any]]]:
    sandbox = TrytonSandbox(admin_password=PASSWORD, workdir=tmp_path_factory.mktemp("tryton"))
    sandbox.start()
    try:
        orm = sandbox.seed(catalogue("A-"), mode="orm")
        bulk = sandbox.seed(catalogue("B-"), mode="bulk")  # while the server runs
        yield sandbox, {"A-": orm, "B-": bulk}
    finally:
        sandbox.stop()


@pytest.fixture(scope="module")
def rpc(erp: tuple[TrytonSandbox, dict[str, Any]]) -> Rpc:
    return Rpc(erp[0])


def test_server_answers_and_rejects_a_wrong_password(erp: tuple[TrytonSandbox, dict[str, Any]]) -> None:
    sandbox, _ = erp
    version = httpx.post(f"{sandbox.url}rpc/", json={"id": 1, "method": "common.server.version", "params": []})
    assert version.json()["result"] == "8.2"
    wrong = httpx.post(
        f"{sandbox.url}{sandbox.database}/rpc/",
        json={"id": 2, "method": "common.db.login", "params": ["admin", {"password": "admin"}, "en"]},
    )
    assert wrong.status_code == 401 or "error" in wrong.json()


@pytest.mark.parametrize("prefix", ["A-", "B-"], ids=["orm-seed", "bulk-seed"])
def test_seeded_catalogue_reads_back_over_json_rpc(
    erp: tuple[TrytonSandbox, dict[str, Any]], rpc: Rpc, prefix: str
) -> None:
    summary = erp[1][prefix]
    assert summary["counts"] == {"templates": 2, "products": 4}
    assert summary["rejected"] == []
    fields = [
        "code",
        "template.name",
        "list_price",
        "list_price_used",
        "attributes",
        "identifiers",
        "description",
        "template.categories",
        "template.account_category",
        "template.weight",
        "template.weight_uom.symbol",
        "write_date",
    ]
    rows = rpc("product.product", "search_read", [("code", "like", f"{prefix}%")], 0, None, [("code", "ASC")], fields)
    by_code = {r["code"]: r for r in rows}
    assert sorted(by_code) == sorted(f"{prefix}{c}" for c in ["BOOK", "TSH-BLUE-XL", "TSH-RED-L", "TSH-RED-M"])
    assert {r["id"] for r in rows} == set(summary["products"].values())

    red_m = by_code[f"{prefix}TSH-RED-M"]
    assert red_m["template."]["name"] == f"{prefix} Basic T-shirt"
    assert red_m["attributes"] == {"colour": "red", "size": "M"}
    assert red_m["list_price"] is None  # no variant price: the template's is used
    assert red_m["list_price_used"] == Decimal("19.90")
    assert red_m["description"] == "Organic cotton."
    assert red_m["template."]["weight"] == pytest.approx(0.2)
    assert red_m["template."]["weight_uom."]["symbol"] == "kg"
    assert red_m["write_date"] is not None  # Tryton writes the code right after create
    blue = by_code[f"{prefix}TSH-BLUE-XL"]
    assert (blue["list_price"], blue["list_price_used"]) == (Decimal("21.90"), Decimal("21.90"))
    assert blue["description"] == "Bigger, dearer."
    book = by_code[f"{prefix}BOOK"]
    assert book["attributes"] is None
    assert book["template."]["weight"] == pytest.approx(450) and book["template."]["weight_uom."]["symbol"] == "g"

    identifiers = rpc(
        "product.identifier", "read", [i for r in rows for i in r["identifiers"]], ["product", "type", "code"]
    )
    assert {(i["product"], i["type"], i["code"]) for i in identifiers} == {
        (red_m["id"], "ean", "3790000000014"),
        (by_code[f"{prefix}TSH-RED-L"]["id"], "ean", "3790000000021"),
        (blue["id"], "ean", "3790000000038"),
        (book["id"], "ean", "9782070368228"),
    }

    categories = rpc("product.category", "read", red_m["template."]["categories"], ["name", "parent.name"])
    assert [(c["name"], c["parent."]["name"]) for c in categories] == [("T-shirts", "Clothing")]
    for row, rate in [(red_m, Decimal("0.2")), (book, Decimal("0.055"))]:
        (accounting,) = rpc("product.category", "read", [row["template."]["account_category"]], ["customer_taxes"])
        (tax,) = rpc("account.tax", "read", accounting["customer_taxes"], ["type", "rate"])
        assert (tax["type"], tax["rate"]) == ("percentage", rate)


def test_list_price_write_over_json_rpc(erp: tuple[TrytonSandbox, dict[str, Any]], rpc: Rpc) -> None:
    product_id = erp[1]["A-"]["products"]["A-TSH-RED-L"]
    assert rpc("product.product", "write", [product_id], {"list_price": Decimal("18.50")}) is None
    (row,) = rpc("product.product", "read", [product_id], ["list_price", "list_price_used", "template.list_price"])
    assert (row["list_price"], row["template."]["list_price"]) == (Decimal("18.50"), Decimal("19.90"))


def test_reference_setup(rpc: Rpc) -> None:
    warehouses = rpc("stock.location", "search_read", [("type", "=", "warehouse")], 0, None, None, ["code"])
    assert sorted(w["code"] for w in warehouses) == ["STORE", "WH"]
    (wh,) = [w for w in warehouses if w["code"] == "WH"]
    assert rpc.context.get("warehouse") == wh["id"]  # the admin's current warehouse
    taxes = rpc("account.tax", "search_read", [("name", "like", "TVA %")], 0, None, None, ["name", "rate"])
    assert {t["name"]: t["rate"] for t in taxes} == {
        "TVA 20%": Decimal("0.2"),
        "TVA 10%": Decimal("0.1"),
        "TVA 5,5%": Decimal("0.055"),
        "TVA 2,1%": Decimal("0.021"),
        "TVA 0%": Decimal("0"),
    }
    sets = rpc("product.attribute.set", "search_read", [], 0, None, None, ["name", "attributes.name"])
    assert {s["name"]: sorted(a["name"] for a in s["attributes."]) for s in sets} == {
        "Apparel": ["colour", "size"],
        "Generic": ["material"],
    }
    (term,) = rpc("sale.advance_payment_term", "search_read", [], 0, None, None, ["name", "lines"])
    (line,) = rpc("sale.advance_payment_term.line", "read", term["lines"], ["formula", "block_shipping", "account"])
    assert term["name"] == "Web order paid" and line["block_shipping"] and line["account"]
    assert line["formula"] == "1.0 * total_amount"
    (price_list,) = rpc("product.price_list", "search_read", [], 0, None, None, ["name", "lines.formula"])
    assert price_list["name"] == "Wholesale" and price_list["lines."][0]["formula"] == "unit_price * 0.9"
    (carrier,) = rpc("carrier", "search_read", [], 0, None, None, ["rec_name", "carrier_product.code"])
    assert carrier["carrier_product."]["code"] == "SHIP-COLISSIMO"
    company = rpc("company.company", "read", [rpc.context["company"]], ["rec_name", "currency.code"])
    assert company[0]["rec_name"] == "Passerelle Demo SARL" and company[0]["currency."]["code"] == "EUR"


SALE_SCRIPT = """
import json, sys
from decimal import Decimal
from proteus import Model, config

config.set_trytond(sys.argv[2], config_file=sys.argv[1])
Party = Model.get("party.party")
Sale = Model.get("sale.sale")
customer = Party(name="Web customer")
address = customer.addresses.new()
address.street_unstructured = "2 place du Marché"
address.postal_code = "69001"
address.city = "Lyon"
customer.save()
(term,) = Model.get("sale.advance_payment_term").find([("name", "=", "Web order paid")])
(payment_term,) = Model.get("account.invoice.payment_term").find([("name", "=", "Direct")])
(method,) = Model.get("account.invoice.payment.method").find([("name", "=", "Card (web)")])
sale = Sale(party=customer, payment_term=payment_term, advance_payment_term=term)
line = sale.lines.new()
line.product = Model.get("product.product")(int(sys.argv[3]))
line.quantity = 2
sale.click("quote")
quoted = {"total": str(sale.total_amount), "advance": [str(a.amount) for a in sale.advance_payment_lines]}
sale.click("confirm")
sale.click("process")
(deposit,) = sale.advance_payment_invoices
deposit.click("post")
pay = deposit.click("pay")
pay.form.payment_method = method
pay.execute("choice")
deposit.reload()
sale.reload()
final = sale.invoices[0] if sale.invoices else None
print(json.dumps({
    "quoted": quoted,
    "state": sale.state,
    "warehouse": sale.warehouse.code,
    "carrier": sale.carrier.rec_name if sale.carrier else None,
    "deposit_state": deposit.state,
    "deposit_total": str(deposit.total_amount),
    "shipments": len(sale.shipments),
    "final_lines": sorted(str(l.quantity) for l in final.lines) if final else None,
    "final_total": str(final.total_amount) if final else None,
}))
"""


def test_web_sale_with_advance_payment_goes_through(erp: tuple[TrytonSandbox, dict[str, Any]]) -> None:
    sandbox, summaries = erp
    out = json.loads(sandbox.run_python(SALE_SCRIPT, str(summaries["A-"]["products"]["A-TSH-RED-M"])).splitlines()[-1])
    total = Decimal(out["quoted"]["total"])
    assert total > Decimal("2") * Decimal("19.90")  # VAT and the Colissimo line on top
    assert [Decimal(a) for a in out["quoted"]["advance"]] == [total]
    assert out["state"] == "processing" and out["warehouse"] == "WH"
    assert out["carrier"].startswith("La Poste Colissimo")  # rec_name: "party - [code] product"
    assert (out["deposit_state"], Decimal(out["deposit_total"])) == ("paid", total)
    assert out["shipments"] == 1
    # The final invoice recalls the deposit with a negative line: nothing left to pay.
    assert out["final_lines"] is not None and "-1.0" in out["final_lines"]
    assert Decimal(out["final_total"]) == 0


# Tables whose ids nothing references (multi-values, translations): the ORM numbers their rows
# batch by batch, the bulk path template by template; their content must still match.
UNORDERED = {"ir_translation", "product_list_price", "product_cost_price", "product_cost_price_method"}


def _rows(db: Path, since: str) -> dict[str, list[str]]:
    """Every table's rows without timestamps; for ir_cache, the caches cleared after ``since``."""
    con = sqlite3.connect(db)
    try:
        out: dict[str, list[str]] = {}
        for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type='table' AND name != 'sqlite_sequence'"):
            if table == "ir_cache":
                out[table] = sorted(
                    n for (n,) in con.execute("SELECT name FROM ir_cache WHERE timestamp > ?", (since,))
                )
                continue
            columns = [
                c[1] for c in con.execute(f'PRAGMA table_info("{table}")') if c[1] not in {"create_date", "write_date"}
            ]
            if table in UNORDERED:
                columns.remove("id")
            rows = con.execute(f'SELECT {", ".join(chr(34) + c + chr(34) for c in columns)} FROM "{table}" ORDER BY id')
            out[table] = [repr(r) for r in rows]
            if table in UNORDERED:
                out[table].sort()
        return out
    finally:
        con.close()


def bad_rows() -> dict[str, Any]:
    """One template per kind of bad data the quality gate has to catch."""

    def template(code: str, products: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        base = {
            "code": code,
            "name": code,
            "list_price": "10.00",
            "vat": "20",
            "categories": ["Probe"],
            "attribute_set": "Apparel",
            "weight": "0.1",
            "weight_uom": "kg",
            "products": products,
        }
        return {**base, **extra}

    def variant(suffix: str, colour: str | None = "red", size: str | None = "M", **extra: Any) -> dict[str, Any]:
        attributes = {k: v for k, v in {"colour": colour, "size": size}.items() if v}
        return {"suffix_code": suffix, "attributes": attributes, "cost_price": "1.00", **extra}

    return {
        "templates": [
            template("EAN-OK", [variant("-A", ean="3790000000014")]),
            template("EAN-BAD-TYPED", [variant("-A", ean="3790000000015")]),
            template("EAN-BAD-UNTYPED", [variant("-A", ean="3790000000015", identifier_type=None)]),
            template("EAN-BAD-OTHER", [variant("-A", ean="3790000000015", identifier_type="other")]),
            template("DUP", [variant("")], attribute_set=None),
            template("DUP", [variant("")], attribute_set=None, name="DUP again"),
            template("DUP-INACTIVE", [variant("")], attribute_set=None),
            template("DUP-INACTIVE", [variant("", active=False)], attribute_set=None, name="DUP-INACTIVE again"),
            template("NEG-PRICE", [variant("")], attribute_set=None, list_price="-4.00"),
            template("NEG-WEIGHT", [variant("")], attribute_set=None, weight="-0.5"),
            template("NO-SIZE", [variant("-GRN", colour="green", size=None)]),
            template("SAME-ATTRS", [variant("-M1"), variant("-M2")]),
            template("BAD-COLOUR", [variant("-PNK", colour="pink")]),
            template("VAT-7", [variant("")], attribute_set=None, vat="7"),
            template("", [variant("")], attribute_set=None, name=""),
        ]
    }


def test_bulk_and_orm_write_the_same_rows_and_refuse_the_same_bad_data(tmp_path: Path) -> None:
    results = {}
    for mode in ("orm", "bulk"):
        sandbox = TrytonSandbox(workdir=tmp_path / mode)
        since = dt.datetime.now().isoformat(" ")
        first = sandbox.seed(catalogue("A-"), mode=mode)
        bad = sandbox.seed(bad_rows(), mode=mode, skip_rejected=True)
        results[mode] = (first, bad, _rows(sandbox.db_file, since))
    orm, bulk = results["orm"], results["bulk"]
    assert orm[0]["products"] == bulk[0]["products"]
    assert orm[1]["products"] == bulk[1]["products"]
    assert [r["code"] for r in orm[1]["rejected"]] == [r["code"] for r in bulk[1]["rejected"]]
    differing = [t for t in orm[2] if orm[2][t] != bulk[2].get(t)]
    assert differing == []

    # What Tryton 8.2 refuses: a wrong check digit on an "ean" identifier, a second active
    # product with the same code, a template without name. Everything else goes in.
    refused = {r["code"]: r["error"] for r in orm[1]["rejected"]}
    assert sorted(refused) == ["", "DUP", "EAN-BAD-TYPED"]
    assert "InvalidIdentifierCode" in refused["EAN-BAD-TYPED"]
    assert "SQLConstraintError" in refused["DUP"]
    assert "RequiredValidationError" in refused[""]
    accepted = orm[1]["products"]
    for code in [
        "EAN-BAD-UNTYPED-A",
        "EAN-BAD-OTHER-A",
        "DUP",
        "DUP-INACTIVE",
        "NEG-PRICE",
        "NEG-WEIGHT",
        "NO-SIZE-GRN",
        "SAME-ATTRS-M1",
        "SAME-ATTRS-M2",
        "BAD-COLOUR-PNK",
        "VAT-7",
    ]:
        assert code in accepted, code
