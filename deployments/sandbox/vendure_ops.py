"""What a web customer and a shop manager do in Vendure, for the tests and the demo.

- :func:`place_order` is a checkout through the Shop API, the way a storefront does it: items
  added by variant (looked up by SKU), a guest (``setCustomerForOrder``) or a registered customer
  (``login``), addresses, the shipping method, an optional coupon, then a payment with the
  sandbox's dummy handler: ``card-paid`` settles at once, ``card-authorised`` stays Authorized.
  ``checkout=False`` stops before the payment: the order stays in the cart (``ArrangingPayment``)
  until :func:`pay_order`.
- :func:`register_customer` makes a customer account (the sandbox needs no e-mail verification).
- :func:`create_coupon_promotion`: a percentage promotion with a coupon code (Admin API), on the
  whole order or on some variants (a line-level discount), optionally with free shipping.

The Shop API authenticates by the ``vendure-auth-token`` response header, sent back as a Bearer
token; every call of one checkout goes through one :class:`ShopSession`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import httpx

from connectors.shop.vendure.client import VendureClient

__all__ = [
    "DEFAULT_ADDRESS",
    "PAID_METHOD",
    "AUTHORISED_METHOD",
    "ShopError",
    "ShopSession",
    "create_coupon_promotion",
    "pay_order",
    "place_order",
    "register_customer",
]

PAID_METHOD = "card-paid"
AUTHORISED_METHOD = "card-authorised"
DEFAULT_ADDRESS: dict[str, Any] = {
    "fullName": "Camille Martin",
    "streetLine1": "12 rue de la Paix",
    "streetLine2": "Bâtiment B",
    "city": "Paris",
    "postalCode": "75002",
    "countryCode": "FR",
    "phoneNumber": "+33 1 23 45 67 89",
}

# -- Shop API documents (validated against tests/fixtures/vendure-3.7/shop-api.graphql) --------
ERROR_FIELDS = "__typename ... on ErrorResult { errorCode message }"
ORDER_RESULT = f"{ERROR_FIELDS} ... on Order {{ id code state active totalWithTax }}"

FIND_VARIANTS = """query FindVariants($skus: [String!]!, $skip: Int!, $take: Int!) {
  products(options: {skip: $skip, take: $take}) {
    totalItems
    items { variantList(options: {filter: {sku: {in: $skus}}}) { items { id sku } } }
  }
}"""
ADD_ITEMS = f"""mutation AddItems($inputs: [AddItemInput!]!) {{
  addItemsToOrder(inputs: $inputs) {{ order {{ id code }} errorResults {{ {ERROR_FIELDS} }} }}
}}"""
SET_CUSTOMER = f"""mutation SetCustomer($input: CreateCustomerInput!) {{
  setCustomerForOrder(input: $input) {{ {ORDER_RESULT} }}
}}"""
LOGIN = f"""mutation Login($username: String!, $password: String!) {{
  login(username: $username, password: $password) {{ {ERROR_FIELDS} ... on CurrentUser {{ id identifier }} }}
}}"""
REGISTER = f"""mutation Register($input: RegisterCustomerInput!) {{
  registerCustomerAccount(input: $input) {{ {ERROR_FIELDS} }}
}}"""
SHIPPING_ADDRESS = f"""mutation ShippingAddress($input: CreateAddressInput!) {{
  setOrderShippingAddress(input: $input) {{ {ORDER_RESULT} }}
}}"""
BILLING_ADDRESS = f"""mutation BillingAddress($input: CreateAddressInput!) {{
  setOrderBillingAddress(input: $input) {{ {ORDER_RESULT} }}
}}"""
SHIPPING_METHODS = "query ShippingMethods { eligibleShippingMethods { id code price priceWithTax } }"
SET_SHIPPING = f"""mutation SetShipping($ids: [ID!]!) {{
  setOrderShippingMethod(shippingMethodId: $ids) {{ {ORDER_RESULT} }}
}}"""
APPLY_COUPON = f"""mutation ApplyCoupon($code: String!) {{
  applyCouponCode(couponCode: $code) {{ {ORDER_RESULT} }}
}}"""
TRANSITION = f"""mutation Transition($state: String!) {{
  transitionOrderToState(state: $state) {{ {ORDER_RESULT} }}
}}"""
ADD_PAYMENT = f"""mutation AddPayment($input: PaymentInput!) {{
  addPaymentToOrder(input: $input) {{ {ORDER_RESULT} }}
}}"""
SHOP_DOCUMENTS = (
    FIND_VARIANTS,
    ADD_ITEMS,
    SET_CUSTOMER,
    LOGIN,
    REGISTER,
    SHIPPING_ADDRESS,
    BILLING_ADDRESS,
    SHIPPING_METHODS,
    SET_SHIPPING,
    APPLY_COUPON,
    TRANSITION,
    ADD_PAYMENT,
)

# -- Admin API ------------------------------------------------------------------------------
CREATE_PROMOTION = """mutation CreatePromotion($input: CreatePromotionInput!) {
  createPromotion(input: $input) {
    __typename
    ... on Promotion { id name couponCode }
    ... on ErrorResult { errorCode message }
  }
}"""
ORDER_PAYMENTS = "query OrderPayments($id: ID!) { order(id: $id) { payments { id state } } }"
SETTLE_PAYMENT = """mutation SettlePayment($id: ID!) {
  settlePayment(id: $id) {
    __typename
    ... on Payment { id state }
    ... on ErrorResult { errorCode message }
  }
}"""
ADMIN_DOCUMENTS = (CREATE_PROMOTION, ORDER_PAYMENTS, SETTLE_PAYMENT)


class ShopError(RuntimeError):
    """The Shop API refused a step of the checkout (an ErrorResult or a GraphQL error)."""


class ShopSession:
    """One storefront visitor: a Shop API endpoint and the session token Vendure hands out."""

    def __init__(self, shop_api_url: str, *, timeout: float = 60.0) -> None:
        self._http = httpx.Client(timeout=timeout, trust_env=False)
        self.url = shop_api_url
        self.token: str | None = None

    def close(self) -> None:
        self._http.close()

    def __call__(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Run one document; a GraphQL error raises :class:`ShopError`."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = self._http.post(self.url, json={"query": query, "variables": dict(variables or {})}, headers=headers)
        if token := response.headers.get("vendure-auth-token"):
            self.token = token
        body = response.json()
        if body.get("errors"):
            raise ShopError(f"Shop API error: {body['errors']}")
        return dict(body["data"])

    def result(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Run a mutation answering a union; an ErrorResult member raises :class:`ShopError`."""
        [value] = self(query, variables).values()
        if isinstance(value, dict) and "errorCode" in value:
            raise ShopError(f"{value['__typename']}: {value['errorCode']}: {value.get('message')}")
        return dict(value or {})


def variant_ids_by_sku(session: ShopSession, skus: Sequence[str], *, page: int = 100) -> dict[str, str]:
    """Variant ids of ``skus`` through the Shop API's product list (no wait for the search index)."""
    found: dict[str, str] = {}
    skip = 0
    while True:
        data = session(FIND_VARIANTS, {"skus": list(skus), "skip": skip, "take": page})["products"]
        for product in data["items"]:
            for variant in product["variantList"]["items"]:
                found.setdefault(variant["sku"], variant["id"])
        skip += page
        if skip >= data["totalItems"] or len(found) == len(set(skus)):
            return found


def register_customer(
    shop_api_url: str,
    *,
    email: str,
    password: str,
    first_name: str = "Camille",
    last_name: str = "Martin",
    phone: str | None = None,
) -> None:
    """A customer account that can log in at once (the sandbox requires no verification)."""
    session = ShopSession(shop_api_url)
    try:
        session.result(
            REGISTER,
            {
                "input": {
                    "emailAddress": email,
                    "password": password,
                    "firstName": first_name,
                    "lastName": last_name,
                    "phoneNumber": phone,
                }
            },
        )
    finally:
        session.close()


def place_order(
    shop_api_url: str,
    *,
    skus_quantities: Mapping[str, int],
    email: str,
    paid: bool = True,
    guest: bool = True,
    password: str | None = None,
    coupon: str | None = None,
    company: str | None = None,
    address: Mapping[str, Any] | None = None,
    billing_address: Mapping[str, Any] | None = None,
    first_name: str = "Camille",
    last_name: str = "Martin",
    checkout: bool = True,
) -> dict[str, Any]:
    """Order ``skus_quantities`` as a web customer would; returns ``{id, code, state, active, totalWithTax, token}``
    (``token``: the customer's session, for :func:`pay_order`).

    Args:
        guest: check out as a guest (``setCustomerForOrder``); else log in as the registered
            customer ``email`` / ``password`` (see :func:`register_customer`) before adding items.
        paid: pay with ``card-paid`` (Settled) rather than ``card-authorised`` (Authorized).
        company: set on both addresses. ``address``: the shipping address (CreateAddressInput,
            default :data:`DEFAULT_ADDRESS`); ``billing_address``: the billing one (default: the same).
        checkout: False stops before the payment: the order stays in the cart (``ArrangingPayment``).
    """
    session = ShopSession(shop_api_url)
    try:
        if not guest:
            if password is None:
                raise ValueError("a registered customer needs a password")
            session.result(LOGIN, {"username": email, "password": password})
        ids = variant_ids_by_sku(session, list(skus_quantities))
        missing = sorted(set(skus_quantities) - set(ids))
        if missing:
            raise ShopError(f"no variant with SKU {', '.join(missing)} in the shop")
        added = session(
            ADD_ITEMS, {"inputs": [{"productVariantId": ids[s], "quantity": q} for s, q in skus_quantities.items()]}
        )["addItemsToOrder"]
        if added["errorResults"]:
            raise ShopError(f"addItemsToOrder: {added['errorResults']}")
        if guest:
            session.result(
                SET_CUSTOMER, {"input": {"emailAddress": email, "firstName": first_name, "lastName": last_name}}
            )
        shipping = {**(address or DEFAULT_ADDRESS), **({"company": company} if company else {})}
        billing = {**(billing_address or shipping), **({"company": company} if company else {})}
        session.result(SHIPPING_ADDRESS, {"input": shipping})
        session.result(BILLING_ADDRESS, {"input": billing})
        methods = session(SHIPPING_METHODS)["eligibleShippingMethods"]
        if not methods:
            raise ShopError("no eligible shipping method for this order")
        session.result(SET_SHIPPING, {"ids": [methods[0]["id"]]})
        if coupon:
            session.result(APPLY_COUPON, {"code": coupon})
        order = session.result(TRANSITION, {"state": "ArrangingPayment"})
        if checkout:
            order = _pay(session, paid)
        return {**order, "token": session.token}
    finally:
        session.close()


def pay_order(shop_api_url: str, token: str, *, paid: bool = True) -> dict[str, Any]:
    """Pay the order left in the cart by ``place_order(..., checkout=False)`` (its ``token``)."""
    session = ShopSession(shop_api_url)
    session.token = token
    try:
        return {**_pay(session, paid), "token": session.token}
    finally:
        session.close()


def _pay(session: ShopSession, paid: bool) -> dict[str, Any]:
    method = PAID_METHOD if paid else AUTHORISED_METHOD
    return session.result(ADD_PAYMENT, {"input": {"method": method, "metadata": {}}})


def create_coupon_promotion(
    client: VendureClient,
    code: str,
    percent: Decimal | int | str,
    *,
    variant_ids: Sequence[str] | None = None,
    free_shipping: bool = False,
    name: str | None = None,
) -> dict[str, Any]:
    """A promotion applied by the coupon ``code``: ``percent`` off the order (``order_percentage_discount``,
    prorated over the lines by Vendure), or off ``variant_ids`` only (``products_percentage_discount``,
    a line-level discount); ``free_shipping`` adds the free shipping action. Returns ``{id, name, couponCode}``."""
    if variant_ids:
        action = {
            "code": "products_percentage_discount",
            "arguments": [
                {"name": "discount", "value": str(percent)},
                {"name": "productVariantIds", "value": json.dumps([str(v) for v in variant_ids])},
            ],
        }
    else:
        action = {"code": "order_percentage_discount", "arguments": [{"name": "discount", "value": str(percent)}]}
    actions = [action] + ([{"code": "free_shipping", "arguments": []}] if free_shipping else [])
    data = client.execute(
        CREATE_PROMOTION,
        {
            "input": {
                "enabled": True,
                "couponCode": code,
                "conditions": [],
                "actions": actions,
                "translations": [{"languageCode": "en", "name": name or f"Coupon {code}: {percent} %"}],
            }
        },
    )["createPromotion"]
    if data.get("__typename") != "Promotion":
        raise ShopError(f"createPromotion: {data.get('errorCode')}: {data.get('message')}")
    return dict(data)


def settle_payments(client: VendureClient, order_id: str) -> list[str]:
    """Capture the authorised payments of an order, as the merchant does in Vendure's admin
    (``settlePayment``); returns the ids of the payments settled."""
    payments = client.query(ORDER_PAYMENTS, {"id": order_id})["order"]["payments"]
    settled: list[str] = []
    for payment in payments:
        if payment["state"] != "Authorized":
            continue
        answer = client.execute(SETTLE_PAYMENT, {"id": payment["id"]})["settlePayment"]
        if answer.get("__typename") != "Payment" or answer.get("state") != "Settled":
            raise ShopError(f"settlePayment {payment['id']}: {answer.get('errorCode')}: {answer.get('message')}")
        settled.append(str(payment["id"]))
    return settled


# -- what the customer sees of an order (status feedback, issue 5) ------------------------------
CUSTOMER_ORDER = """query CustomerOrder($code: String!) {
  orderByCode(code: $code) {
    id code state
    fulfillments { id state method trackingCode }
    history { items { type data } }
  }
}"""
FEEDBACK_SHOP_DOCUMENTS = (CUSTOMER_ORDER,)


def customer_order(shop_api_url: str, code: str, *, token: str | None = None) -> dict[str, Any]:
    """The order ``code`` as the customer's account shows it through the Shop API: state, fulfillments
    (carrier and tracking code), and the history Vendure makes public to the customer (public notes,
    never private ones). ``token``: the customer's session from :func:`place_order` (a guest's order
    is also readable by code for a while after it is placed). Raises :class:`ShopError` when unknown."""
    session = ShopSession(shop_api_url)
    session.token = token
    try:
        order = session(CUSTOMER_ORDER, {"code": code})["orderByCode"]
    finally:
        session.close()
    if order is None:
        raise ShopError(f"the Shop API shows no order {code}")
    return dict(order)
