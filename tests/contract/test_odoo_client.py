"""The Odoo client's envelope and error classification, and the fake's rules (each names its source)."""

from __future__ import annotations

import httpx
import pytest

from connectors.erp.odoo.client import OdooClient, OdooError
from connectors.errors import Fatal, Retryable
from deployments.sandbox.fakes.odoo import OdooFake, seed_catalogue


def client(fake: OdooFake, *, api_key: str | None = None, transport: httpx.BaseTransport | None = None) -> OdooClient:
    return OdooClient(
        "https://odoo.test",
        fake.database,
        login=fake.login,
        api_key=api_key or fake.api_key,
        transport=transport or fake.transport,
        max_retries=0,
    )


def test_execute_kw_envelope_as_captured() -> None:
    fake = OdooFake()
    client(fake).model("res.partner").search_read([["name", "=", "x"]], ["name"], limit=1)
    auth, call = fake.bodies
    assert auth["params"] == {
        "service": "common",
        "method": "authenticate",
        "args": [fake.database, fake.login, fake.api_key, {}],
    }
    db, uid, key, model, method, args, kwargs = call["params"]["args"]
    assert (call["method"], call["params"]["service"], call["params"]["method"]) == ("call", "object", "execute_kw")
    assert (db, uid, key, model, method, args) == (
        fake.database,
        fake.uid,
        fake.api_key,
        "res.partner",
        "search_read",
        [[["name", "=", "x"]]],
    )
    assert kwargs["fields"] == ["name"] and kwargs["limit"] == 1 and kwargs["context"] == {"lang": "en_US"}


def test_bad_credentials_are_fatal_and_never_show_the_key() -> None:
    fake = OdooFake()
    with pytest.raises(Fatal, match="refused the login") as caught:
        client(fake, api_key="wrong-secret-key").model("res.partner").search([])
    assert "wrong-secret-key" not in str(caught.value)


def test_a_revoked_key_mid_run_is_fatal() -> None:
    fake = OdooFake()
    odoo = client(fake)
    odoo.model("res.partner").search([])
    fake.api_key = "rotated"
    with pytest.raises(Fatal, match="refused the credentials"):
        odoo.model("res.partner").search([])


def test_access_error_names_the_groups_not_the_record() -> None:
    fake = OdooFake()
    fake.deny("product.product", "read")
    with pytest.raises(OdooError, match="not allowed to access") as caught:
        client(fake).model("product.product").search_read([], ["id"])
    assert caught.value.name == "odoo.exceptions.AccessError"
    assert caught.value.per_record is False
    assert "groups docs/odoo.md lists" in str(caught.value)


def test_validation_error_is_the_records() -> None:
    fake = OdooFake()
    with pytest.raises(OdooError, match="mandatory field") as caught:
        client(fake).model("sale.order").create({"name": "S1"})  # no partner_id
    assert caught.value.per_record is True


def test_unknown_field_is_fatal_not_per_record() -> None:
    fake = OdooFake()
    with pytest.raises(OdooError, match="Invalid field 'nope'") as caught:
        client(fake).model("product.product").search_read([], ["nope"])
    assert caught.value.per_record is False


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (httpx.Response(503, text="busy"), Retryable),
        (httpx.Response(502, text="<html>bad gateway</html>"), Retryable),
        (httpx.Response(200, text="<html>maintenance</html>"), Retryable),
        (httpx.Response(404, text="<html>404: Not Found</html>"), Fatal),
        (
            httpx.Response(
                200,
                json={
                    "jsonrpc": "2.0",
                    "id": 1,
                    "error": {
                        "code": 200,
                        "message": "Odoo Server Error",
                        "data": {
                            "name": "psycopg2.errors.SerializationFailure",
                            "message": "could not serialize access due to concurrent update",
                        },
                    },
                },
            ),
            Retryable,
        ),
    ],
)
def test_transport_answers(answer: httpx.Response, kind: type[Exception]) -> None:
    fake = OdooFake()

    def app(request: httpx.Request) -> httpx.Response:
        if b'"authenticate"' in request.content:
            return fake.handle(request)
        return answer

    with pytest.raises(kind) as caught:
        client(fake, transport=httpx.MockTransport(app)).model("res.partner").search([])
    assert fake.api_key not in str(caught.value)


def test_fields_tell_versions_apart() -> None:
    assert client(OdooFake(version=17)).first_field("sale.order.line", "tax_ids", "tax_id") == "tax_id"
    assert client(OdooFake(version=18)).first_field("sale.order.line", "tax_ids", "tax_id") == "tax_ids"


# -- the fake's rules ---------------------------------------------------------------------------


def test_fake_refuses_unknown_relations_selections_readonly_and_private_methods() -> None:
    fake = OdooFake()
    ids = seed_catalogue(fake)
    products = client(fake).model("product.product")
    with pytest.raises(OdooError, match="does not exist"):
        client(fake).model("sale.order").create({"partner_id": 999})
    with pytest.raises(OdooError, match="Wrong value"):
        client(fake).model("res.partner").create({"name": "A", "type": "nowhere"})
    with pytest.raises(OdooError, match="read-only"):
        products.write([ids["red_s"]], {"price_extra": 3.0})
    with pytest.raises(OdooError, match="cannot be called remotely"):
        products("_compute_product_lst_price", [ids["red_s"]])
    with pytest.raises(OdooError, match="MissingError|does not exist"):
        products.write([999], {"barcode": "1"})


def test_fake_active_test_child_of_and_inherits() -> None:
    fake = OdooFake()
    ids = seed_catalogue(fake)
    products = client(fake).model("product.product")
    assert ids["red_m"] not in products.search([])
    assert ids["red_m"] in products.search([], context={"active_test": False})
    located = client(fake).model("stock.location").search([["id", "child_of", ids["wh_stock"]]])
    assert located == [ids["wh_stock"], ids["shelf"]]
    [row] = products.read([ids["blue_m"]], ["name", "lst_price", "categ_id", "product_tmpl_id"])
    assert row["name"] == "Tee" and row["lst_price"] == 22.0 and row["categ_id"] == [ids["tshirts"], "T-shirts"]
    products.write([ids["blue_m"]], {"list_price": 30.0})  # a template field written through the variant
    assert products.read([ids["red_s"]], ["lst_price"])[0]["lst_price"] == 30.0
