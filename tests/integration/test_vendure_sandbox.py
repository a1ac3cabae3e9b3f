"""The Vendure sandbox is a real Vendure 3.7.3 shop with the initial data the connectors rely on.

Also pins what the real server does that a connector must cope with (error shapes, slugs, SKUs,
filters, aliased mutations), and checks the SDL fixtures still match the live schemas.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from deployments.sandbox.vendure import VendureSandbox

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vendure-3.7"
PASSWORD = "vendure-sandbox-test"
EN = "en"

LOGIN = """mutation Login($username: String!, $password: String!) {
  login(username: $username, password: $password) {
    __typename
    ... on CurrentUser { id identifier }
    ... on ErrorResult { errorCode message }
  }
}"""
CREATE_PRODUCT = """mutation CreateProduct($input: CreateProductInput!) {
  createProduct(input: $input) { id slug name customFields { brand material } }
}"""
UPDATE_PRODUCT = """mutation UpdateProduct($input: UpdateProductInput!) {
  updateProduct(input: $input) { id slug customFields { brand material } }
}"""
CREATE_GROUP = """mutation CreateGroup($input: CreateProductOptionGroupInput!) {
  createProductOptionGroup(input: $input) { id code options { id code name } }
}"""
ADD_GROUP = """mutation AddGroup($productId: ID!, $optionGroupId: ID!) {
  addOptionGroupToProduct(productId: $productId, optionGroupId: $optionGroupId) { id optionGroups { code } }
}"""
VARIANT_FIELDS = "id sku price priceWithTax currencyCode stockOnHand taxCategory { name } options { code } customFields { ean weight }"
CREATE_VARIANTS = f"""mutation CreateVariants($input: [CreateProductVariantInput!]!) {{
  createProductVariants(input: $input) {{ {VARIANT_FIELDS} }}
}}"""
UPDATE_VARIANTS = f"""mutation UpdateVariants($input: [UpdateProductVariantInput!]!) {{
  updateProductVariants(input: $input) {{ {VARIANT_FIELDS} }}
}}"""
PRODUCTS_BY_SLUG = """query ProductsBySlug($slugs: [String!]!) {
  products(options: { filter: { slug: { in: $slugs } }, take: 100 }) {
    totalItems
    items { id slug name customFields { brand material } optionGroups { code options { code } } variants { sku } }
  }
}"""
VARIANTS_BY_SKU = """query VariantsBySku($skus: [String!]!) {
  productVariants(options: { filter: { sku: { in: $skus } }, take: 100 }) {
    totalItems
    items { id sku price productId product { slug } options { code } customFields { ean weight } }
  }
}"""
REMOVE_GROUP = """mutation RemoveGroup($productId: ID!, $optionGroupId: ID!) {
  removeOptionGroupFromProduct(productId: $productId, optionGroupId: $optionGroupId) {
    __typename
    ... on Product { id }
    ... on ErrorResult { errorCode message }
    ... on ProductOptionInUseError { optionGroupCode productVariantCount }
  }
}"""


class Api:
    """One GraphQL endpoint; no cookie jar, so only the Bearer token authenticates."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url
        self.token = token

    def post(self, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = httpx.post(
            self.url, json={"query": query, "variables": variables or {}}, headers=headers, timeout=60
        )
        if token := response.headers.get("vendure-auth-token"):
            self.token = token
        return response

    def __call__(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = self.post(query, variables).json()
        assert not body.get("errors"), body["errors"]
        return body["data"]


@pytest.fixture(scope="module")
def shop() -> Iterator[VendureSandbox]:
    with VendureSandbox(password=PASSWORD) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def admin(shop: VendureSandbox) -> Api:
    api = Api(shop.admin_api_url)
    response = api.post(LOGIN, {"username": shop.username, "password": shop.password})
    assert response.json()["data"]["login"] == {"__typename": "CurrentUser", "id": "1", "identifier": "superadmin"}
    assert api.token, "login answers with a vendure-auth-token header"
    return api


def _translations(name: str, slug: str | None = None) -> list[dict[str, Any]]:
    item: dict[str, Any] = {"languageCode": EN, "name": name, "description": ""}
    if slug is not None:
        item["slug"] = slug
    return [item]


def _fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def test_sandbox_urls_listen_on_loopback(shop: VendureSandbox) -> None:
    assert shop.admin_api_url == f"http://127.0.0.1:{shop.port}/admin-api"
    assert shop.shop_api_url == f"http://127.0.0.1:{shop.port}/shop-api"
    assert f"PASSERELLE VENDURE READY {shop.port}" in shop.log_path.read_text()


def test_wrong_password_is_an_error_result_not_an_http_error(shop: VendureSandbox) -> None:
    api = Api(shop.admin_api_url)
    response = api.post(LOGIN, {"username": shop.username, "password": "wrong-password"})
    assert response.status_code == 200
    assert "vendure-auth-token" not in response.headers
    assert response.json() == {
        "data": {
            "login": {
                "__typename": "InvalidCredentialsError",
                "errorCode": "INVALID_CREDENTIALS_ERROR",
                "message": "The provided credentials are invalid",
            }
        }
    }
    assert response.json() == _fixture("login_invalid_credentials")["response"]


def test_admin_api_without_token_is_forbidden_in_a_200(shop: VendureSandbox) -> None:
    response = Api(shop.admin_api_url).post("query Products { products { totalItems } }")
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN"}


def test_unknown_field_is_a_400_validation_error(admin: Api) -> None:
    response = admin.post("query Products { products { items { id nope } } }")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert error["message"].startswith('Cannot query field "nope" on type "Product".')
    assert response.json() == _fixture("validation_error_unknown_field")["response"]


def test_channel_is_eur_tax_excluded_with_europe_as_default_zone(admin: Api) -> None:
    data = admin(
        """query {
          activeChannel { defaultCurrencyCode availableCurrencyCodes pricesIncludeTax defaultLanguageCode
                          defaultTaxZone { name } defaultShippingZone { name } }
          zones { items { name members { code } } }
          countries(options: { take: 100 }) { items { code enabled } }
        }"""
    )
    assert data["activeChannel"] == {
        "defaultCurrencyCode": "EUR",
        "availableCurrencyCodes": ["EUR"],
        "pricesIncludeTax": False,
        "defaultLanguageCode": "en",
        "defaultTaxZone": {"name": "Europe"},
        "defaultShippingZone": {"name": "Europe"},
    }
    zones = {z["name"]: {m["code"] for m in z["members"]} for z in data["zones"]["items"]}
    assert zones["Europe"] == {"FR", "BE", "DE", "ES", "IT", "LU", "NL"}
    codes = {c["code"] for c in data["countries"]["items"] if c["enabled"]}
    assert {"FR", "BE", "DE", "ES", "IT", "LU", "NL", "GB", "CH", "US"} <= codes


def test_french_tax_categories_and_rates(admin: Api) -> None:
    data = admin(
        """query {
          taxCategories { items { name isDefault } }
          taxRates(options: { take: 100 }) { items { value enabled category { name } zone { name } } }
        }"""
    )
    categories = {c["name"]: c["isDefault"] for c in data["taxCategories"]["items"]}
    assert categories == {
        "Standard Tax": True,
        "Intermediate Tax": False,
        "Reduced Tax": False,
        "Super Reduced Tax": False,
        "Zero Tax": False,
    }
    europe = {r["category"]["name"]: r["value"] for r in data["taxRates"]["items"] if r["zone"]["name"] == "Europe"}
    assert europe == {
        "Standard Tax": 20,
        "Intermediate Tax": 10,
        "Reduced Tax": 5.5,
        "Super Reduced Tax": 2.1,
        "Zero Tax": 0,
    }


def test_payment_and_shipping_methods(admin: Api) -> None:
    data = admin(
        """query {
          paymentMethods { items { code enabled handler { code args { name value } } } }
          shippingMethods { items { code fulfillmentHandlerCode calculator { code args { name value } } } }
        }"""
    )
    payments = {
        p["code"]: (p["enabled"], p["handler"]["code"], {a["name"]: a["value"] for a in p["handler"]["args"]})
        for p in data["paymentMethods"]["items"]
    }
    assert payments == {
        "card-paid": (True, "dummy-payment-handler", {"automaticSettle": "true"}),
        "card-authorised": (True, "dummy-payment-handler", {"automaticSettle": "false"}),
    }
    [shipping] = data["shippingMethods"]["items"]
    assert shipping["code"] == "standard-shipping"
    assert shipping["fulfillmentHandlerCode"] == "manual-fulfillment"
    args = {a["name"]: a["value"] for a in shipping["calculator"]["args"]}
    assert args == {"rate": "490", "includesTax": "auto", "taxRate": "20"}


def test_product_with_an_option_group_and_two_variants(admin: Api) -> None:
    product = admin(
        CREATE_PRODUCT,
        {
            "input": {
                "translations": _translations("Tee-shirt Vendure test", "tee-sandbox"),
                "customFields": {"brand": "Passerelle", "material": "cotton"},
            }
        },
    )["createProduct"]
    assert product["slug"] == "tee-sandbox"
    assert product["customFields"] == {"brand": "Passerelle", "material": "cotton"}
    group = admin(
        CREATE_GROUP,
        {
            "input": {
                "code": "tee-sandbox-size",
                "translations": [{"languageCode": EN, "name": "Size"}],
                "options": [{"code": c, "translations": [{"languageCode": EN, "name": c.upper()}]} for c in ("s", "m")],
            }
        },
    )["createProductOptionGroup"]
    options = {o["code"]: o["id"] for o in group["options"]}
    assert set(options) == {"s", "m"}
    added = admin(ADD_GROUP, {"productId": product["id"], "optionGroupId": group["id"]})["addOptionGroupToProduct"]
    assert added["optionGroups"] == [{"code": "tee-sandbox-size"}]

    variants = admin(
        CREATE_VARIANTS,
        {
            "input": [
                {
                    "productId": product["id"],
                    "sku": f"TEE-SBX-{size.upper()}",
                    "price": 1990,
                    "stockOnHand": 10,
                    "optionIds": [options[size]],
                    "translations": [{"languageCode": EN, "name": f"Tee-shirt {size.upper()}"}],
                    "customFields": {"ean": ean, "weight": 0.2},
                }
                for size, ean in (("s", "4006381333931"), ("m", "4006381333948"))
            ]
        },
    )["createProductVariants"]
    assert [(v["sku"], v["price"], v["priceWithTax"], v["currencyCode"]) for v in variants] == [
        ("TEE-SBX-S", 1990, 2388, "EUR"),
        ("TEE-SBX-M", 1990, 2388, "EUR"),
    ]
    assert variants[0]["taxCategory"] == {"name": "Standard Tax"}  # the default category
    assert variants[0]["customFields"] == {"ean": "4006381333931", "weight": 0.2}
    assert [v["options"] for v in variants] == [[{"code": "s"}], [{"code": "m"}]]

    # Read back through the two filters the connector uses to find what exists.
    found = admin(PRODUCTS_BY_SLUG, {"slugs": ["tee-sandbox", "no-such-slug"]})["products"]
    assert found["totalItems"] == 1
    [item] = found["items"]
    assert item["optionGroups"] == [{"code": "tee-sandbox-size", "options": [{"code": "s"}, {"code": "m"}]}]
    assert sorted(v["sku"] for v in item["variants"]) == ["TEE-SBX-M", "TEE-SBX-S"]
    by_sku = admin(VARIANTS_BY_SKU, {"skus": ["TEE-SBX-S", "TEE-SBX-M", "NO-SUCH-SKU"]})["productVariants"]
    assert by_sku["totalItems"] == 2
    assert {v["sku"]: (v["productId"], v["customFields"]["ean"]) for v in by_sku["items"]} == {
        "TEE-SBX-S": (product["id"], "4006381333931"),
        "TEE-SBX-M": (product["id"], "4006381333948"),
    }

    # Custom fields and prices are writable afterwards; null clears a custom field.
    updated = admin(
        UPDATE_PRODUCT, {"input": {"id": product["id"], "customFields": {"brand": "Autre", "material": None}}}
    )["updateProduct"]
    assert updated["customFields"] == {"brand": "Autre", "material": None}
    assert updated["slug"] == "tee-sandbox"
    changed = admin(
        UPDATE_VARIANTS,
        {
            "input": [
                {"id": variants[0]["id"], "price": 2190, "customFields": {"ean": "4006381333955"}},
                {"id": variants[1]["id"], "sku": "TEE-SBX-M2"},
            ]
        },
    )["updateProductVariants"]
    assert [(v["sku"], v["price"], v["customFields"]["ean"]) for v in changed] == [
        ("TEE-SBX-S", 2190, "4006381333955"),
        ("TEE-SBX-M2", 1990, "4006381333948"),
    ]

    # A second variant with the same option combination is a plain GraphQL error, not an ErrorResult.
    duplicate = dict(
        productId=product["id"],
        sku="TEE-SBX-S-AGAIN",
        price=1990,
        optionIds=[options["s"]],
        translations=[{"languageCode": EN, "name": "again"}],
    )
    body = admin.post(CREATE_VARIANTS, {"input": [duplicate]}).json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "USER_INPUT_ERROR"}
    assert body["errors"][0]["message"].startswith("A ProductVariant with the selected options already exists")

    # Removing an option group in use answers an ErrorResult member of the union, in "data".
    result = admin(REMOVE_GROUP, {"productId": product["id"], "optionGroupId": group["id"]})
    assert result["removeOptionGroupFromProduct"] == {
        "__typename": "ProductOptionInUseError",
        "errorCode": "PRODUCT_OPTION_IN_USE_ERROR",
        "message": 'Cannot remove ProductOptionGroup "tee-sandbox-size" as it is used by 2 ProductVariants. '
        "Use the `force` argument to remove it anyway",
        "optionGroupCode": "tee-sandbox-size",
        "productVariantCount": 2,
    }


def test_slugs_get_a_suffix_skus_are_not_unique_and_aliases_work(admin: Api) -> None:
    # Several aliased mutations in one document run in order; a taken slug silently gets "-2".
    data = admin(
        """mutation Two($a: CreateProductInput!, $b: CreateProductInput!) {
          a: createProduct(input: $a) { id slug }
          b: createProduct(input: $b) { id slug }
        }""",
        {
            "a": {"translations": _translations("Mug", "mug-sandbox")},
            "b": {"translations": _translations("Mug again", "mug-sandbox")},
        },
    )
    assert (data["a"]["slug"], data["b"]["slug"]) == ("mug-sandbox", "mug-sandbox-2")
    # Vendure does not enforce unique SKUs: the connector must look them up itself.
    for product in (data["a"], data["b"]):
        admin(
            CREATE_VARIANTS,
            {
                "input": [
                    {
                        "productId": product["id"],
                        "sku": "MUG-SANDBOX",
                        "price": 990,
                        "translations": [{"languageCode": EN, "name": "Mug"}],
                    }
                ]
            },
        )
    found = admin(VARIANTS_BY_SKU, {"skus": ["MUG-SANDBOX"]})["productVariants"]
    assert found["totalItems"] == 2
    # slug and description are optional in the schema but NOT NULL in the database (no slug from the name).
    for translation, column in (
        ({"languageCode": EN, "name": "No slug", "description": ""}, "slug"),
        ({"languageCode": EN, "name": "No text", "slug": "no-text-sandbox"}, "description"),
    ):
        body = admin.post(CREATE_PRODUCT, {"input": {"translations": [translation]}}).json()
        assert body["data"] is None
        assert body["errors"][0]["message"] == f"NOT NULL constraint failed: product_translation.{column}"


def test_a_failing_alias_nulls_the_whole_answer_after_earlier_mutations_committed(admin: Api) -> None:
    # Mutation fields run in order and createProduct returns Product!: b's error nulls "data" as a whole,
    # so a's id is lost although a is committed, and c never runs.
    body = admin.post(
        """mutation Batch($a: CreateProductInput!, $b: CreateProductInput!, $c: CreateProductInput!) {
          a: createProduct(input: $a) { id slug }
          b: createProduct(input: $b) { id slug }
          c: createProduct(input: $c) { id slug }
        }""",
        {
            "a": {"translations": _translations("Batch A", "batch-a-sandbox")},
            "b": {"translations": [{"languageCode": EN, "name": "Batch B", "description": ""}]},  # no slug
            "c": {"translations": _translations("Batch C", "batch-c-sandbox")},
        },
    ).json()
    assert body["data"] is None
    assert [e["path"] for e in body["errors"]] == [["b"]]
    assert "extensions" not in body["errors"][0]  # a database error carries no code at all
    found = admin(PRODUCTS_BY_SLUG, {"slugs": ["batch-a-sandbox", "batch-c-sandbox"]})["products"]
    assert [p["slug"] for p in found["items"]] == ["batch-a-sandbox"]


def test_checkout_settles_or_authorises_by_payment_method(shop: VendureSandbox, admin: Api) -> None:
    product = admin(CREATE_PRODUCT, {"input": {"translations": _translations("Socks", "socks-sandbox")}})
    variant = admin(
        CREATE_VARIANTS,
        {
            "input": [
                {
                    "productId": product["createProduct"]["id"],
                    "sku": "SOCKS-SANDBOX",
                    "price": 1000,
                    "stockOnHand": 50,
                    "translations": [{"languageCode": EN, "name": "Socks"}],
                }
            ]
        },
    )["createProductVariants"][0]
    for method, order_state, payment_state in (
        ("card-paid", "PaymentSettled", "Settled"),
        ("card-authorised", "PaymentAuthorized", "Authorized"),
    ):
        customer = Api(shop.shop_api_url)
        customer(
            "mutation($v: ID!) { addItemToOrder(productVariantId: $v, quantity: 2) { __typename } }",
            {"v": variant["id"]},
        )
        customer(
            """mutation { setCustomerForOrder(input: {emailAddress: "client@example.com", firstName: "A",
                 lastName: "B"}) { __typename } }"""
        )
        customer(
            """mutation { setOrderShippingAddress(input: {fullName: "A B", streetLine1: "1 rue de la Paix",
                 city: "Paris", postalCode: "75002", countryCode: "FR"}) { __typename } }"""
        )
        [shipping] = customer("query { eligibleShippingMethods { id code price priceWithTax } }")[
            "eligibleShippingMethods"
        ]
        assert (shipping["code"], shipping["price"], shipping["priceWithTax"]) == ("standard-shipping", 490, 588)
        order = customer(
            """mutation($ids: [ID!]!) { setOrderShippingMethod(shippingMethodId: $ids) {
                 ... on Order { subTotal shipping total totalWithTax currencyCode } } }""",
            {"ids": [shipping["id"]]},
        )["setOrderShippingMethod"]
        assert order == {"subTotal": 2000, "shipping": 490, "total": 2490, "totalWithTax": 2988, "currencyCode": "EUR"}
        customer('mutation { transitionOrderToState(state: "ArrangingPayment") { __typename } }')
        paid = customer(
            """mutation($m: String!) { addPaymentToOrder(input: {method: $m, metadata: {}}) {
                 __typename ... on Order { state payments { method state amount } } } }""",
            {"m": method},
        )["addPaymentToOrder"]
        assert paid["state"] == order_state
        assert paid["payments"] == [{"method": method, "state": payment_state, "amount": 2988}]


@pytest.mark.parametrize("api", ["admin-api", "shop-api"])
def test_schema_fixtures_match_the_live_server(shop: VendureSandbox, admin: Api, api: str) -> None:
    from graphql import IntrospectionQuery, build_client_schema, get_introspection_query, print_schema

    endpoint = Api(shop.admin_api_url if api == "admin-api" else shop.shop_api_url, admin.token)
    introspection = cast(IntrospectionQuery, endpoint(get_introspection_query(descriptions=True)))
    live = print_schema(build_client_schema(introspection)) + "\n"
    sdl = (FIXTURES / f"{api}.graphql").read_text()
    assert live == sdl, f"tests/fixtures/vendure-3.7/{api}.graphql is stale: run tests/fixtures/vendure-3.7/capture.py"


def test_schema_fixture_validates_documents() -> None:
    from graphql import build_schema, parse, validate

    schema = build_schema((FIXTURES / "admin-api.graphql").read_text())
    for document in (LOGIN, CREATE_PRODUCT, UPDATE_PRODUCT, CREATE_GROUP, ADD_GROUP, CREATE_VARIANTS):
        assert validate(schema, parse(document)) == []
    for document in (UPDATE_VARIANTS, PRODUCTS_BY_SLUG, VARIANTS_BY_SKU, REMOVE_GROUP):
        assert validate(schema, parse(document)) == []
    [error] = validate(schema, parse("query Products { products { items { id nope } } }"))
    assert error.message.startswith("Cannot query field 'nope' on type 'Product'.")  # graphql-core quotes with '


def test_db_file_keeps_the_shop_between_runs_and_populates_once(tmp_path: Path) -> None:
    db_file = tmp_path / "shop.sqlite"
    for run in (1, 2):
        with VendureSandbox(password=PASSWORD, db_file=db_file, log_dir=tmp_path) as shop:
            api = Api(shop.admin_api_url)
            api.post(LOGIN, {"username": shop.username, "password": shop.password})
            if run == 1:
                api(CREATE_PRODUCT, {"input": {"translations": _translations("Kept", "kept-between-runs")}})
            data = api(
                "query { products { items { slug } } taxCategories { totalItems } paymentMethods { totalItems } }"
            )
            assert data == {
                "products": {"items": [{"slug": "kept-between-runs"}]},
                "taxCategories": {"totalItems": 5},
                "paymentMethods": {"totalItems": 2},
            }
        assert db_file.stat().st_size > 0


def test_missing_npm_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from deployments.sandbox.base import SandboxError

    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SandboxError, match=r"not found on PATH.*Resolution: install Node\.js"):
        VendureSandbox().install()
