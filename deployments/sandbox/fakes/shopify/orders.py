"""Orders of the fake Shopify: ``orders`` / ``order`` / ``nodes``, ``fulfillmentCreate``,
``orderCancel``, ``metafieldsSet``, and the test switches that place and pay orders.

Records are dicts shaped like the 2025-01 schema's objects (checked against ``schema()``); the
connections and arguments-taking fields are callables over the record's hidden ``_`` keys. Every
rule names its source: the schema, a shopify.dev page, or "stricter than Shopify". The
``userErrors`` messages are written from the documentation, never captured (docs/shopify.md,
"Not observed").

Times: ``updatedAt`` / ``createdAt`` / ``processedAt`` come from :func:`set_clock` (an aware UTC
datetime the test controls; each write that changes an order moves it on by one second so that
two writes never share a time).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from graphql import GraphQLError

from deployments.sandbox.fakes.shopify.core import ShopifyFake, connection, gid_number, mutation, query, user_error

__all__ = [
    "authorize",
    "capture",
    "now",
    "pay",
    "place_order",
    "refund",
    "set_clock",
    "set_updated",
]

UTC = timezone.utc
CENT = Decimal("0.01")


# -- the clock ------------------------------------------------------------------------------------


def set_clock(fake: ShopifyFake, at: datetime) -> None:
    """Test switch: the time the fake stamps on what changes next (aware UTC)."""
    if at.tzinfo is None:
        raise ValueError("the fake's order clock takes aware datetimes")
    fake.orders_clock = at.astimezone(UTC)  # type: ignore[attr-defined]


def now(fake: ShopifyFake) -> datetime:
    """The fake's order time, moved on one second by every call (never two writes at one time)."""
    current: datetime = getattr(fake, "orders_clock", None) or datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    fake.orders_clock = current + timedelta(seconds=1)  # type: ignore[attr-defined]
    return current


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _bag(amount: Decimal, currency: str) -> dict[str, Any]:
    """A MoneyBag (schema: ``shopMoney`` and ``presentmentMoney``, both MoneyV2); one currency here."""
    money = {"amount": str(amount.quantize(CENT)), "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": dict(money)}


def _amount(bag: dict[str, Any]) -> Decimal:
    return Decimal(bag["shopMoney"]["amount"])


def _tax(amount: Decimal, rate: Decimal, included: bool) -> Decimal:
    """The tax of ``amount`` at ``rate`` %: Shopify rounds each line's tax to the cent (help center,
    "Tax calculations": taxes are calculated per line item and rounded)."""
    factor = rate / 100
    tax = amount - amount / (1 + factor) if included else amount * factor
    return tax.quantize(CENT, rounding=ROUND_HALF_UP)


def _tax_line(amount: Decimal, rate: Decimal, currency: str) -> dict[str, Any]:
    return {
        "title": "TVA" if rate else "Tax",
        "rate": float(rate / 100),
        "ratePercentage": float(rate),
        "priceSet": _bag(amount, currency),
        "price": str(amount),
        "channelLiable": False,
        "source": "Shopify",
    }


# -- placing orders (test switches) ---------------------------------------------------------------


def place_order(
    fake: ShopifyFake,
    *,
    lines: Sequence[tuple[str, int, Decimal | str]],
    tax_rate: Decimal | str = "20",
    taxes_included: bool | None = None,
    currency: str | None = None,
    shipping: tuple[str, Decimal | str] | None = ("Colissimo", "6.00"),
    line_discounts: dict[str, Decimal | str] | None = None,
    discount_code: tuple[str, Decimal | str] | None = None,
    email: str = "marie@example.com",
    customer: bool = True,
    country: str = "FR",
    at: datetime | None = None,
) -> dict[str, Any]:
    """Test switch: a checkout completed by a customer, as Shopify stores it.

    ``lines``: (SKU, quantity, unit price in the shop's tax basis); ``line_discounts``: SKU -> the
    discount of that whole line (an automatic product discount, allocation EACH/ENTITLED);
    ``discount_code``: (code, amount) spread over the lines in proportion to their amounts after
    line discounts (allocation ACROSS, target selection ALL), the last line taking the rest.
    Taxes are per line after discounts (help center "Tax calculations"); shipping is taxed at the
    same rate. The order is unpaid (``PENDING``) until :func:`pay` / :func:`authorize`.
    Returns the Order record (its FulfillmentOrder and LineItems are stored too).
    """
    rate = Decimal(str(tax_rate))
    included = fake.taxes_included if taxes_included is None else taxes_included
    currency = currency or fake.currency
    created = at or now(fake)
    number = 1000 + len(fake.all("Order")) + 1
    applications: list[dict[str, Any]] = []
    line_discounts = {k: Decimal(str(v)) for k, v in (line_discounts or {}).items()}
    automatic = None
    if line_discounts:
        automatic = {"__typename": "AutomaticDiscountApplication", "index": 0, "title": "Promotion",
                     "allocationMethod": "EACH", "targetSelection": "ENTITLED", "targetType": "LINE_ITEM",
                     "value": {"__typename": "PricingPercentageValue", "percentage": 10.0}}  # fmt: skip
        applications.append(automatic)
    code_app = None
    if discount_code:
        code_app = {"__typename": "DiscountCodeApplication", "index": len(applications), "code": discount_code[0],
                    "allocationMethod": "ACROSS", "targetSelection": "ALL", "targetType": "LINE_ITEM",
                    "value": {"__typename": "MoneyV2", "amount": str(Decimal(str(discount_code[1]))),
                              "currencyCode": currency}}  # fmt: skip
        applications.append(code_app)

    items: list[dict[str, Any]] = []
    after_line: list[Decimal] = []
    for sku, quantity, price in lines:
        unit = Decimal(str(price))
        own = line_discounts.get(sku, Decimal(0))
        after_line.append(unit * quantity - own)
        item = fake.add(
            "LineItem",
            {
                "sku": sku,
                "name": f"Article {sku}",
                "title": f"Article {sku}",
                "variantTitle": None,
                "quantity": quantity,
                "currentQuantity": quantity,
                "requiresShipping": True,
                "taxable": True,
                "originalUnitPriceSet": _bag(unit, currency),
                "originalTotalSet": _bag(unit * quantity, currency),
                "variant": _variant(fake, sku),
                "_allocations": [],
            },
        )
        if own and automatic is not None:
            item["_allocations"].append((automatic, own))
        items.append(item)
    if code_app is not None and discount_code is not None:
        spread = Decimal(str(discount_code[1]))
        base = sum(after_line, Decimal(0))
        rest = spread
        for i, item in enumerate(items):
            share = rest if i == len(items) - 1 else (spread * after_line[i] / base).quantize(CENT)
            rest -= share
            item["_allocations"].append((code_app, share))
    subtotal = Decimal(0)
    taxes = Decimal(0)
    for item, sku_line in zip(items, lines, strict=True):
        quantity = sku_line[1]
        unit = _amount(item["originalUnitPriceSet"])
        discounts = sum((a for _, a in item["_allocations"]), Decimal(0))
        net = unit * quantity - discounts
        tax = _tax(net, rate, included) if rate else Decimal(0)
        taxes += tax
        subtotal += net
        item["discountAllocations"] = [
            {"allocatedAmountSet": _bag(a, currency), "allocatedAmount": _bag(a, currency)["shopMoney"],
             "discountApplication": app} for app, a in item["_allocations"]
        ]  # fmt: skip
        item["totalDiscountSet"] = _bag(discounts, currency)
        item["discountedTotalSet"] = _bag(unit * quantity - discounts, currency)
        item["discountedUnitPriceSet"] = _bag((unit * quantity - discounts) / quantity, currency)
        item["taxLines"] = [_tax_line(tax, rate, currency)] if rate else []

    shipping_lines = []
    shipping_price = Decimal(0)
    if shipping is not None:
        shipping_price = Decimal(str(shipping[1]))
        tax = _tax(shipping_price, rate, included) if rate else Decimal(0)
        taxes += tax
        shipping_lines.append({"id": fake.new_id("ShippingLine"), "title": shipping[0], "code": shipping[0],
                               "source": "shopify", "carrierIdentifier": None, "isRemoved": False,
                               "originalPriceSet": _bag(shipping_price, currency),
                               "discountedPriceSet": _bag(shipping_price, currency), "discountAllocations": [],
                               "taxLines": [_tax_line(tax, rate, currency)] if rate else []})  # fmt: skip
    total = subtotal + shipping_price + (Decimal(0) if included else taxes)
    address = {"firstName": "Marie", "lastName": "Curie", "name": "Marie Curie", "company": None,
               "address1": "1 rue Pierre et Marie Curie", "address2": None, "zip": "75005", "city": "Paris",
               "countryCodeV2": country, "provinceCode": None, "phone": "+33123456789"}  # fmt: skip
    owner = None
    if customer:
        owner = fake.add("Customer", {"email": email, "firstName": "Marie", "lastName": "Curie", "phone": None})
    order = fake.add(
        "Order",
        {
            "name": f"#{number}",
            "email": email,
            "createdAt": _iso(created),
            "updatedAt": _iso(created),
            "processedAt": _iso(created),
            "cancelledAt": None,
            "cancelReason": None,
            "closed": False,
            "confirmed": True,
            "test": False,
            "currencyCode": currency,
            "presentmentCurrencyCode": currency,
            "taxesIncluded": included,
            "displayFinancialStatus": "PENDING",
            "displayFulfillmentStatus": "UNFULFILLED",
            "customer": owner,
            "billingAddress": dict(address),
            "shippingAddress": dict(address),
            "subtotalPriceSet": _bag(subtotal, currency),
            "totalShippingPriceSet": _bag(shipping_price, currency),
            "totalTaxSet": _bag(taxes, currency),
            "totalPriceSet": _bag(total, currency),
            "currentTotalPriceSet": _bag(total, currency),
            "totalDiscountsSet": _bag(sum((_amount(i["totalDiscountSet"]) for i in items), Decimal(0)), currency),
            "totalReceivedSet": _bag(Decimal(0), currency),
            "totalRefundedSet": _bag(Decimal(0), currency),
            "paymentGatewayNames": [],
            "refunds": [],
            "_lines": items,
            "_shipping": shipping_lines,
            "_applications": applications,
            "_transactions": [],
            "_fulfillment_orders": [],
            "_fulfillments": [],
            "_metafields": {},
        },
    )
    order["legacyResourceId"] = str(gid_number(order["id"]))
    _attach(fake, order)
    location = fake.locations()[0]
    fulfillment_order = fake.add(
        "FulfillmentOrder",
        {"status": "OPEN", "requestStatus": "UNSUBMITTED", "supportedActions": [],
         "assignedLocation": {"name": location["name"], "location": location}, "_order": order["id"]},
    )  # fmt: skip
    fo_lines = [
        fake.add(
            "FulfillmentOrderLineItem",
            {
                "lineItem": item,
                "sku": item["sku"],
                "totalQuantity": item["quantity"],
                "remainingQuantity": item["quantity"],
            },
        )
        for item in items
    ]
    fulfillment_order["_lines"] = fo_lines
    fulfillment_order["lineItems"] = lambda info, **a: connection(fo_lines, **a)
    fulfillment_order["order"] = order
    order["_fulfillment_orders"].append(fulfillment_order)
    return order


def _variant(fake: ShopifyFake, sku: str) -> dict[str, Any] | None:
    """The stored ProductVariant with this SKU (the catalogue's), else None (a deleted product)."""
    return next((v for v in fake.all("ProductVariant") if v.get("sku") == sku), None)


def _attach(fake: ShopifyFake, order: dict[str, Any]) -> None:
    """The argument-taking fields of an Order (schema: connections take first/after/last/before/reverse)."""
    order["lineItems"] = lambda info, **a: connection(order["_lines"], **a)
    order["shippingLines"] = lambda info, includeRemovals=False, **a: connection(order["_shipping"], **a)
    order["shippingLine"] = order["_shipping"][0] if order["_shipping"] else None
    order["discountApplications"] = lambda info, **a: connection(order["_applications"], **a)
    order["transactions"] = lambda info, first=None, capturable=None, manuallyResolvable=None: order["_transactions"][
        :first
    ]
    order["fulfillments"] = lambda info, first=None: order["_fulfillments"][:first]

    def fulfillment_orders(info: Any, displayable: bool | None = None, query: str | None = None, **a: Any) -> Any:
        return connection(order["_fulfillment_orders"], **a)

    order["fulfillmentOrders"] = fulfillment_orders
    order["metafield"] = lambda info, key, namespace=None: order["_metafields"].get((namespace or "$app", key))

    def metafields(info: Any, namespace: str | None = None, keys: list[str] | None = None, **a: Any) -> Any:
        found = [
            m
            for (ns, key), m in order["_metafields"].items()
            if (namespace is None or ns == namespace) and (keys is None or f"{ns}.{key}" in keys)
        ]
        return connection(found, **a)

    order["metafields"] = metafields


def _touch(fake: ShopifyFake, order: dict[str, Any]) -> None:
    """A change Shopify records on the order moves its ``updatedAt`` (the ``updated_at`` search key)."""
    order["updatedAt"] = _iso(now(fake))


def set_updated(fake: ShopifyFake, order: dict[str, Any], at: datetime) -> None:
    """Test switch: the order was changed at ``at`` (a merchant's edit, a tag)."""
    order["updatedAt"] = _iso(at)


def _transaction(
    fake: ShopifyFake,
    order: dict[str, Any],
    kind: str,
    amount: Decimal | str | None,
    *,
    status: str = "SUCCESS",
    gateway: str = "shopify_payments",
    parent: dict[str, Any] | None = None,
) -> dict[str, Any]:
    value = _amount(order["totalPriceSet"]) if amount is None else Decimal(str(amount))
    at = now(fake)
    record = fake.add(
        "OrderTransaction",
        {"kind": kind, "status": status, "gateway": gateway, "formattedGateway": gateway, "test": False,
         "amountSet": _bag(value, order["currencyCode"]), "createdAt": _iso(at), "processedAt": _iso(at),
         "parentTransaction": parent, "authorizationCode": None, "errorCode": None},
    )  # fmt: skip
    order["_transactions"].append(record)
    if gateway not in order["paymentGatewayNames"]:
        order["paymentGatewayNames"].append(gateway)
    _financial_status(order)
    order["updatedAt"] = _iso(at)
    return record


def _financial_status(order: dict[str, Any]) -> None:
    """``displayFinancialStatus`` from the successful transactions (schema's OrderDisplayFinancialStatus)."""
    ok = [t for t in order["_transactions"] if t["status"] == "SUCCESS"]
    total = _amount(order["totalPriceSet"])
    paid = sum((_amount(t["amountSet"]) for t in ok if t["kind"] in {"SALE", "CAPTURE"}), Decimal(0))
    refunded = sum((_amount(t["amountSet"]) for t in ok if t["kind"] == "REFUND"), Decimal(0))
    authorized = any(t["kind"] == "AUTHORIZATION" for t in ok)
    voided = any(t["kind"] == "VOID" for t in ok)
    if refunded and refunded >= paid:
        status = "REFUNDED"
    elif refunded:
        status = "PARTIALLY_REFUNDED"
    elif paid >= total:
        status = "PAID"
    elif paid:
        status = "PARTIALLY_PAID"
    elif voided:
        status = "VOIDED"
    elif authorized:
        status = "AUTHORIZED"
    else:
        status = "PENDING"
    order["displayFinancialStatus"] = status
    currency = order["currencyCode"]
    order["totalReceivedSet"] = _bag(paid, currency)
    order["totalRefundedSet"] = _bag(refunded, currency)


def pay(fake: ShopifyFake, order: dict[str, Any], amount: Decimal | str | None = None, **kw: Any) -> dict[str, Any]:
    """Test switch: the customer paid at checkout (a SALE transaction, captured at once)."""
    return _transaction(fake, order, "SALE", amount, **kw)


def authorize(
    fake: ShopifyFake, order: dict[str, Any], amount: Decimal | str | None = None, **kw: Any
) -> dict[str, Any]:
    """Test switch: the card was authorised at checkout (manual capture): money held, not taken."""
    return _transaction(fake, order, "AUTHORIZATION", amount, **kw)


def capture(fake: ShopifyFake, order: dict[str, Any], amount: Decimal | str | None = None) -> dict[str, Any]:
    """Test switch: the merchant captured the authorisation (a CAPTURE whose parent is it)."""
    parent = next(t for t in order["_transactions"] if t["kind"] == "AUTHORIZATION")
    return _transaction(fake, order, "CAPTURE", amount, gateway=parent["gateway"], parent=parent)


def refund(fake: ShopifyFake, order: dict[str, Any], amount: Decimal | str | None = None) -> dict[str, Any]:
    """Test switch: the merchant refunded (a REFUND transaction)."""
    parent = next(t for t in order["_transactions"] if t["kind"] in {"SALE", "CAPTURE"})
    return _transaction(fake, order, "REFUND", amount, gateway=parent["gateway"], parent=parent)


# -- queries --------------------------------------------------------------------------------------

_TERM = re.compile(r"^(updated_at|created_at):(>=|<=|>|<)'?([^']+)'?$")
_FIELDS = {"updated_at": "updatedAt", "created_at": "createdAt"}
_SORTS = {"UPDATED_AT": "updatedAt", "CREATED_AT": "createdAt", "ID": None, "PROCESSED_AT": "processedAt"}


def _matches(order: dict[str, Any], search: str | None) -> bool:
    """Shopify's search syntax (shopify.dev "Search syntax": ``field:>=value``, ``AND``); the fake
    knows ``updated_at`` / ``created_at`` comparisons only and refuses other terms (stricter than
    Shopify, which ignores what it cannot parse and warns in ``extensions.search``)."""
    if not search:
        return True
    for term in re.split(r"\s+AND\s+", search.strip()):
        found = _TERM.match(term.strip())
        if not found:
            raise GraphQLError(f"the fake cannot search {term!r} (stricter than Shopify)")
        name, operator, value = found.groups()
        left, right = _parse(order[_FIELDS[name]]), _parse(value)
        if not {">=": left >= right, "<=": left <= right, ">": left > right, "<": left < right}[operator]:
            return False
    return True


@query("orders")
def orders(
    fake: ShopifyFake,
    info: Any,
    *,
    query: str | None = None,
    sortKey: str = "ID",
    reverse: bool = False,
    savedSearchId: str | None = None,
    **page: Any,
) -> dict[str, Any]:
    """``QueryRoot.orders``: the shop's orders (draft orders are another type: schema), filtered by
    ``query``, sorted by ``sortKey`` then id (schema: OrderSortKeys; ties by id as cursors are)."""
    found = [o for o in fake.all("Order") if _matches(o, query)]
    key = _SORTS.get(sortKey)
    if sortKey not in _SORTS:
        raise GraphQLError(f"the fake does not sort orders by {sortKey} (stricter than Shopify)")
    found.sort(key=lambda o: ((_parse(o[key]) if key else 0), gid_number(o["id"])))
    return connection(found, reverse=reverse, **page)


@query("order")
def order_by_id(fake: ShopifyFake, info: Any, *, id: str) -> dict[str, Any] | None:
    """``QueryRoot.order``: null for an unknown id (schema: ``Order``, nullable)."""
    return fake.get("Order", id)


# -- mutations ------------------------------------------------------------------------------------


@mutation("fulfillmentCreate")
def fulfillment_create(fake: ShopifyFake, info: Any, *, fulfillment: dict[str, Any], message: str | None = None) -> Any:
    """``Mutation.fulfillmentCreate`` (shopify.dev reference): fulfils the given fulfillment orders'
    line items (all remaining ones when ``fulfillmentOrderLineItems`` is left out), with the
    tracking info; the fulfillment order closes when nothing remains, the order shows FULFILLED
    (PARTIALLY_FULFILLED while some remains) and its ``updatedAt`` moves."""
    groups = fulfillment.get("lineItemsByFulfillmentOrder") or []
    if not groups:
        return {"fulfillment": None, "userErrors": [user_error(["fulfillment"], "Line items by fulfillment order must not be empty.")]}  # fmt: skip
    plan: list[tuple[dict[str, Any], int]] = []
    orders_seen: set[str] = set()
    for i, group in enumerate(groups):
        field = ["fulfillment", "lineItemsByFulfillmentOrder", str(i), "fulfillmentOrderId"]
        fo = fake.get("FulfillmentOrder", group["fulfillmentOrderId"])
        if fo is None:
            return {"fulfillment": None, "userErrors": [user_error(field, "Fulfillment order does not exist.")]}
        # reference: only fulfillment orders with the ``create_fulfillment`` action (OPEN / IN_PROGRESS)
        if fo["status"] not in {"OPEN", "IN_PROGRESS"}:
            return {"fulfillment": None, "userErrors": [user_error(
                field, f"Fulfillment order {group['fulfillmentOrderId']} has an unfulfillable status= {fo['status'].lower()}.")]}  # fmt: skip
        orders_seen.add(fo["_order"])
        wanted = group.get("fulfillmentOrderLineItems")
        if wanted is None:
            plan += [(line, line["remainingQuantity"]) for line in fo["_lines"] if line["remainingQuantity"]]
            continue
        for item in wanted:
            line = next((x for x in fo["_lines"] if x["id"] == item["id"]), None)
            if line is None or not 0 < item["quantity"] <= line["remainingQuantity"]:
                return {"fulfillment": None, "userErrors": [user_error(
                    ["fulfillment", "lineItemsByFulfillmentOrder"], "Invalid fulfillment order line item quantity requested.")]}  # fmt: skip
            plan.append((line, item["quantity"]))
    if len(orders_seen) > 1:  # reference: "fulfillment orders that belong to the same order"
        return {"fulfillment": None, "userErrors": [user_error(["fulfillment"], "All fulfillment orders must belong to the same order.")]}  # fmt: skip
    if not plan:
        return {
            "fulfillment": None,
            "userErrors": [user_error(["fulfillment"], "Nothing to fulfill.")],
        }  # stricter than Shopify
    order = fake.get("Order", orders_seen.pop())
    assert order is not None
    for line, quantity in plan:
        line["remainingQuantity"] -= quantity
    for group in groups:
        fo = fake.get("FulfillmentOrder", group["fulfillmentOrderId"])
        assert fo is not None
        fo["status"] = "CLOSED" if not any(x["remainingQuantity"] for x in fo["_lines"]) else "IN_PROGRESS"
    tracking = fulfillment.get("trackingInfo") or {}
    numbers = tracking.get("numbers") or ([tracking["number"]] if tracking.get("number") else [])
    urls = tracking.get("urls") or ([tracking["url"]] if tracking.get("url") else [])
    at = now(fake)
    record = fake.add(
        "Fulfillment",
        {"name": f"{order['name']}.{len(order['_fulfillments']) + 1}", "status": "SUCCESS", "createdAt": _iso(at),
         "trackingInfo": [{"number": n, "company": tracking.get("company"), "url": urls[i] if i < len(urls) else None}
                          for i, n in enumerate(numbers)],
         "_notify": bool(fulfillment.get("notifyCustomer")), "_lines": plan, "order": order},
    )  # fmt: skip
    order["_fulfillments"].append(record)
    remaining = any(x["remainingQuantity"] for fo in order["_fulfillment_orders"] for x in fo["_lines"])
    order["displayFulfillmentStatus"] = "PARTIALLY_FULFILLED" if remaining else "FULFILLED"
    order["updatedAt"] = _iso(at)
    return {"fulfillment": record, "userErrors": []}


@mutation("orderCancel")
def order_cancel(
    fake: ShopifyFake,
    info: Any,
    *,
    orderId: str,
    refund: bool,
    restock: bool,
    reason: str,
    notifyCustomer: bool | None = None,
    staffNote: str | None = None,
) -> dict[str, Any]:
    """``Mutation.orderCancel`` (shopify.dev reference; ``refund``, ``restock`` and ``reason`` are
    required in 2025-01: schema). It answers a Job; the fake applies the cancellation at once."""
    order = fake.get("Order", orderId)

    def refused(message: str, code: str) -> dict[str, Any]:
        error = user_error(["orderId"], message, code)
        return {"job": None, "orderCancelUserErrors": [error], "userErrors": [user_error(["orderId"], message)]}

    if order is None:
        return refused("Order does not exist", "NOT_FOUND")
    if order["cancelledAt"]:
        return refused("Order has already been cancelled", "INVALID")  # help center "Cancel an order"
    if order["_fulfillments"]:
        # help center "Canceling an order": a fulfilled order's fulfillments must be cancelled first
        return refused("Cannot cancel an order with fulfillments; cancel its fulfillments first", "INVALID")
    at = now(fake)
    order["cancelledAt"] = _iso(at)
    order["cancelReason"] = reason
    order["closed"] = True  # reference: a cancelled order is archived (closed)
    order["_cancel"] = {"refund": refund, "restock": restock, "notifyCustomer": bool(notifyCustomer),
                        "staffNote": staffNote}  # fmt: skip
    for fo in order["_fulfillment_orders"]:
        if fo["status"] in {"OPEN", "IN_PROGRESS", "SCHEDULED", "ON_HOLD"}:
            fo["status"] = "CANCELLED"
    if refund:
        paid = _amount(order["totalReceivedSet"]) - _amount(order["totalRefundedSet"])
        if paid > 0:
            _transaction(fake, order, "REFUND", paid)
        elif any(t["kind"] == "AUTHORIZATION" and t["status"] == "SUCCESS" for t in order["_transactions"]):
            _transaction(fake, order, "VOID", Decimal(0))
    order["updatedAt"] = _iso(at)
    return {"job": {"id": fake.new_id("Job"), "done": True}, "orderCancelUserErrors": [], "userErrors": []}


_KEY = re.compile(r"^[A-Za-z0-9_-]{2,64}$")
_NAMESPACE = re.compile(r"^[A-Za-z0-9_-]{3,255}$")
_METAFIELD_TYPES = {"single_line_text_field", "multi_line_text_field", "url", "json", "boolean", "number_integer"}


@mutation("metafieldsSet")
def metafields_set(fake: ShopifyFake, info: Any, *, metafields: list[dict[str, Any]]) -> dict[str, Any]:
    """``Mutation.metafieldsSet`` (shopify.dev reference): up to 25 metafields, created or updated
    by (owner, namespace, key), all or none. Key 2-64 and namespace 3-255 characters of letters,
    digits, ``-`` and ``_`` ("Metafields" page, limits); ``type`` required to create; a ``url``
    value is an http(s) URL and a ``single_line_text_field`` has no line break ("List of data
    types"). Owners: orders only in this fake (stricter than Shopify)."""
    if len(metafields) > 25:
        return {"metafields": None, "userErrors": [user_error(["metafields"], "Exceeded the maximum metafields input limit of 25.", "LESS_THAN_OR_EQUAL_TO")]}  # fmt: skip
    errors = []
    for i, m in enumerate(metafields):
        path = ["metafields", str(i)]
        owner = fake.get("Order", m["ownerId"])
        namespace = m.get("namespace") or "$app"
        existing = owner["_metafields"].get((namespace, m["key"])) if owner else None
        kind = m.get("type") or (existing or {}).get("type")
        if owner is None:
            errors.append(user_error([*path, "ownerId"], "Owner does not exist.", "INVALID_VALUE"))
        elif not _KEY.match(m["key"]):
            errors.append(user_error([*path, "key"], "Key is invalid.", "INVALID_VALUE"))
        elif namespace != "$app" and not _NAMESPACE.match(namespace):
            errors.append(user_error([*path, "namespace"], "Namespace is invalid.", "INVALID_VALUE"))
        elif kind is None:
            errors.append(user_error([*path, "type"], "Type can't be blank.", "BLANK"))
        elif kind not in _METAFIELD_TYPES:
            errors.append(user_error([*path, "type"], "Type is invalid.", "INVALID_TYPE"))
        elif kind == "url" and not re.match(r"^https?://\S+$", m["value"]):
            errors.append(user_error([*path, "value"], "Value must be a valid URL.", "INVALID_VALUE"))
        elif kind == "single_line_text_field" and "\n" in m["value"]:
            errors.append(user_error([*path, "value"], "Value must be a single line text string.", "INVALID_VALUE"))
        elif existing is not None and m.get("type") and m["type"] != existing["type"]:
            errors.append(user_error([*path, "type"], "Type cannot be changed.", "INVALID_TYPE"))
        if errors:
            errors[-1]["elementIndex"] = i
    if errors:
        return {"metafields": None, "userErrors": errors}
    written = []
    for m in metafields:
        owner = fake.get("Order", m["ownerId"])
        assert owner is not None
        namespace = m.get("namespace") or "$app"
        existing = owner["_metafields"].get((namespace, m["key"]))
        at = _iso(now(fake))
        record = existing or fake.add("Metafield", {"namespace": namespace, "key": m["key"], "ownerType": "ORDER",
                                                    "createdAt": at, "type": m.get("type")})  # fmt: skip
        record.update(value=m["value"], updatedAt=at, compareDigest=str(hash((record["id"], m["value"]))))
        owner["_metafields"][(namespace, m["key"])] = record
        written.append(record)
    return {"metafields": written, "userErrors": []}
