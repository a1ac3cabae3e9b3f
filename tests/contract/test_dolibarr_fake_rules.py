"""The fake answers as the captured Dolibarr 19.0.4 does: shapes of the records it makes, the 401 and
404 bodies, paging, sqlfilters and required fields (each rule's source is named in the fake)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from deployments.sandbox.fakes.dolibarr import KEY, URL, FakeDolibarr, load

API = URL + "/api/index.php/"


def call(fake: FakeDolibarr, method: str, path: str, *, key: str | None = KEY, **kwargs: Any) -> httpx.Response:
    headers = {"DOLAPIKEY": key} if key is not None else {}
    with httpx.Client(transport=fake.transport, headers=headers) as client:
        return client.request(method, API + path, **kwargs)


def test_missing_key_answers_the_captured_401() -> None:
    answer = call(FakeDolibarr(), "GET", "products", key=None)
    assert answer.status_code == 401 and answer.json() == load("error_401.json")
    assert call(FakeDolibarr(), "GET", "products", key="wrong").status_code == 401


def test_unknown_product_answers_the_captured_404() -> None:
    answer = call(FakeDolibarr(), "GET", "products/999")
    assert answer.status_code == 404 and answer.json() == load("error_404.json")


@pytest.mark.parametrize(("path", "capture"), [("products", "products.json"), ("warehouses", "warehouses.json"),
                                               ("thirdparties", "thirdparties.json")])  # fmt: skip
def test_lists_answer_the_captured_records(path: str, capture: str) -> None:
    assert call(FakeDolibarr(), "GET", path).json() == load(capture)


def test_made_records_have_the_captured_shapes() -> None:
    fake = FakeDolibarr()
    pid = fake.add_product("X", "X", "1")
    assert set(call(fake, "GET", f"products/{pid}").json()) == set(load("products.json")[0])
    oid = call(fake, "POST", "orders", json={"socid": 1, "date": 1795305600, "lines": [
        {"fk_product": 1, "qty": "3", "subprice": "20", "tva_tx": "20", "product_type": 0}]}).json()  # fmt: skip
    order = call(fake, "POST", f"orders/{oid}/validate", json={"notrigger": 0}).json()
    captured = load("orders.json")[0]
    assert set(order) - {"ref_client", "date_commande"} <= set(captured) | {"ref_client"}
    assert set(order["lines"][0]) == set(captured["lines"][0]) | {"desc", "description", "fk_remise_except"}
    for field in ("total_ht", "total_tva", "total_ttc", "statut"):
        assert order[field] == captured[field]  # 3 x 20.00 at 20 %: the captured order's totals
    iid = call(fake, "POST", "invoices", json={"socid": 1, "type": 3, "lines": [
        {"desc": "Acompte", "qty": "1", "subprice": "18", "tva_tx": "20", "product_type": 1}]}).json()  # fmt: skip
    call(fake, "POST", f"invoices/{iid}/validate", json={})
    call(fake, "POST", f"invoices/{iid}/payments",
         json={"datepaye": 1795305600, "paymentid": 6, "closepaidinvoices": "yes", "accountid": 1})  # fmt: skip
    deposit = call(fake, "GET", f"invoices/{iid}").json()
    expected = load("invoice_deposit_type3.json")
    for field in ("type", "statut", "paye", "total_ht", "total_tva", "total_ttc", "sumpayed", "remaintopay"):
        assert deposit[field] == expected[field], field
    assert set(deposit) <= set(expected) | {"fk_facture_source"}


def test_empty_pages_answer_404_and_pages_are_zero_based() -> None:
    fake = FakeDolibarr()
    for i in range(3):
        fake.add_product(f"P{i}", "p", "1")
    refs = [r["ref"] for r in call(fake, "GET", "products", params={"limit": 2, "page": 1}).json()]
    assert refs == ["P1", "P2"]
    empty = call(fake, "GET", "products", params={"limit": 2, "page": 2})
    assert empty.status_code == 404 and empty.json()["error"]["message"] == "Not Found: No product found"


def test_sqlfilters_and_their_errors() -> None:
    fake = FakeDolibarr()
    found = call(
        fake, "GET", "thirdparties", params={"sqlfilters": "(t.email:=:'client@example.com') or (t.ref_ext:=:'x:1')"}
    )
    assert [r["id"] for r in found.json()] == ["1"]
    assert call(fake, "GET", "thirdparties", params={"sqlfilters": "t.email = 'x'"}).status_code == 400
    assert call(fake, "GET", "thirdparties", params={"sqlfilters": "(t.nope:=:'x')"}).status_code == 503


@pytest.mark.parametrize(("path", "body", "missing"), [
    ("orders", {"socid": 1}, "date"), ("thirdparties", {"email": "a@b.c"}, "name"),
    ("contacts", {"socid": 1}, "lastname"), ("invoices", {"type": 3}, "socid"),
])  # fmt: skip
def test_required_fields(path: str, body: dict[str, Any], missing: str) -> None:
    answer = call(FakeDolibarr(), "POST", path, json=body)
    assert answer.status_code == 400 and answer.json()["error"]["message"] == f"Bad Request: {missing} field missing"


def test_payment_needs_a_validated_invoice_and_the_swagger_fields() -> None:
    fake = FakeDolibarr()
    iid = call(fake, "POST", "invoices", json={"socid": 1, "type": 3}).json()
    assert call(fake, "POST", f"invoices/{iid}/payments", json={"datepaye": 1}).status_code == 400
    body = {"datepaye": 1, "paymentid": 6, "closepaidinvoices": "yes", "accountid": 1}
    assert call(fake, "POST", f"invoices/{iid}/payments", json=body).status_code == 403
    assert call(fake, "POST", f"invoices/{iid}/markAsCreditAvailable").status_code == 500  # unpaid deposit


def test_customer_prices_route_answers_as_get_customer_prices_per_customer() -> None:
    fake = FakeDolibarr()
    off = call(fake, "GET", "products/1/selling_multiprices/per_customer")
    assert off.status_code == 400 and "not enabled by setup" in off.json()["error"]["message"]
    fake.constants.add("PRODUIT_CUSTOMER_PRICES")
    none = call(fake, "GET", "products/1/selling_multiprices/per_customer")
    assert none.status_code == 404 and none.json()["error"]["message"].endswith("Prices not found")
    assert call(fake, "GET", "products/999/selling_multiprices/per_customer").status_code == 404
    fake.add_customer_price(1, 1, "18.00")
    fake.add_customer_price(1, 7, "21.60", base="TTC")
    lines = call(fake, "GET", "products/1/selling_multiprices/per_customer").json()
    assert [(line["fk_soc"], line["price"], line["price_ttc"], line["price_base_type"]) for line in lines] == [
        ("1", "18.00000000", "21.60000000", "HT"),
        ("7", "18.00000000", "21.60000000", "TTC"),
    ]
    only = call(fake, "GET", "products/1/selling_multiprices/per_customer", params={"thirdparty_id": "7"}).json()
    assert [line["fk_soc"] for line in only] == ["7"]
