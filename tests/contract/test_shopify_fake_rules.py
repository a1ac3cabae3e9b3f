"""The fake Shopify's own rules (core: endpoint, validation, cost, pagination; inventory: the
``inventorySetQuantities`` userErrors), each checked on the raw HTTP answers."""

from __future__ import annotations

from typing import Any

import httpx

import deployments.sandbox.fakes.shopify.inventory  # noqa: F401  (registers locations, inventory*)
from deployments.sandbox.fakes.shopify.core import TOKEN, ShopifyFake, VirtualClock
from deployments.sandbox.fakes.shopify.inventory import add_variant, quantities

SET = """
mutation Set($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { reason changes { name delta quantityAfterChange } }
    userErrors { field message code }
  }
}
"""


def fake_on_clock(**options: Any) -> ShopifyFake:
    return ShopifyFake(clock=VirtualClock().now, **options)


def post(
    fake: ShopifyFake,
    document: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str = TOKEN,
    path: str | None = None,
) -> httpx.Response:
    with httpx.Client(transport=fake.transport, base_url=fake.shop) as http:
        return http.post(
            path or fake.endpoint,
            json={"query": document, "variables": variables or {}},
            headers={"X-Shopify-Access-Token": token},
        )


def answer(fake: ShopifyFake, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    response = post(fake, document, variables)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


# -- core ---------------------------------------------------------------------------------------


def test_a_wrong_token_is_a_401_and_another_version_a_404() -> None:
    fake = fake_on_clock()
    assert post(fake, "{ shop { name } }", token="shpat_wrong").status_code == 401
    assert "Invalid API key or access token" in post(fake, "{ x }", token="shpat_wrong").text
    assert (
        post(fake, "{ locations(first: 1) { nodes { id } } }", path="/admin/api/2024-01/graphql.json").status_code
        == 404
    )


def test_validation_errors_are_http_200_with_errors_and_no_data() -> None:
    fake = fake_on_clock()
    body = answer(fake, "{ locations(first: 1) { nodes { id colour } } }")
    assert "data" not in body
    assert body["errors"][0]["message"] == "Cannot query field 'colour' on type 'Location'."


def test_costs_follow_the_rate_limits_page() -> None:
    fake = fake_on_clock()

    def cost(document: str, variables: dict[str, Any] | None = None) -> int:
        return int(answer(fake, document, variables)["extensions"]["cost"]["requestedQueryCost"])

    assert cost("{ location { id name } }") == 1  # an object 1, scalars 0
    assert cost("{ locations(first: 10) { nodes { id } } }") == 2 + 10
    assert cost("{ locations(first: 10) { edges { node { id } } } }") == 2 + 10  # edges add nothing
    variables = {"input": {"name": "available", "reason": "correction", "quantities": []}}
    assert cost(SET, variables) == 10 + 3  # a mutation 10; the group, its changes and userErrors 1 each
    # an interface costs its dearest selection; a list by ids each of its objects (stricter than Shopify
    # if it counts a list once: the page does not say)
    ids = [f"gid://shopify/ProductVariant/{n}" for n in range(100)]
    by_ids = (
        "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on ProductVariant { product { id } } ... on Order { id } } }"
    )
    assert cost(by_ids, {"ids": ids}) == 100 * (1 + 1)


def test_a_throttled_document_is_not_executed_and_says_what_it_costs() -> None:
    fake = fake_on_clock()
    fake.available = 100.0
    body = answer(fake, "{ locations(first: 250) { nodes { id } } }")
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert "data" not in body
    assert body["extensions"]["cost"]["requestedQueryCost"] == 252
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 100.0
    assert fake.available == 100.0


def test_max_cost_exceeded_is_refused_before_the_bucket() -> None:
    fake = fake_on_clock()
    aliased = " ".join(f"a{n}: locations(first: 250) {{ nodes {{ id }} }}" for n in range(4))
    body = answer(fake, "{ " + aliased + " }")
    assert body["errors"][0]["extensions"] == {"code": "MAX_COST_EXCEEDED", "cost": 1008, "maxCost": 1000}
    assert fake.available == 2_000.0


def test_a_document_refused_for_its_cost_is_not_counted_as_charged() -> None:
    fake = fake_on_clock()
    aliased = " ".join(f"a{n}: locations(first: 250) {{ nodes {{ id }} }}" for n in range(4))
    answer(fake, "{ " + aliased + " }")
    assert fake.points() == 0


def test_pages_are_at_most_250_and_cursors_are_opaque() -> None:
    fake = fake_on_clock(locations=[f"L{n}" for n in range(5)])
    body = answer(fake, "{ locations(first: 251) { nodes { id } } }")
    assert body["data"] is None and "between 0 and 250" in body["errors"][0]["message"]
    page = answer(fake, "{ locations(first: 2) { nodes { name } pageInfo { hasNextPage endCursor } } }")
    info = page["data"]["locations"]["pageInfo"]
    assert info["hasNextPage"] is True and "L" not in info["endCursor"]
    rest = answer(fake, '{ locations(first: 5, after: "' + info["endCursor"] + '") { nodes { name } } }')
    assert [n["name"] for n in rest["data"]["locations"]["nodes"]] == ["L2", "L3", "L4"]
    assert (
        "Invalid cursor"
        in answer(fake, '{ locations(first: 1, after: "nope") { nodes { id } } }')["errors"][0]["message"]
    )


def test_a_root_field_no_module_implements_is_an_error() -> None:
    fake = fake_on_clock()
    body = answer(fake, "{ giftCardsCount { count } }")
    assert "does not implement giftCardsCount" in body["errors"][0]["message"]


# -- inventory ----------------------------------------------------------------------------------


def setup() -> tuple[ShopifyFake, dict[str, Any], str]:
    fake = fake_on_clock()
    variant = add_variant(fake, "TEE", available=5)
    return fake, variant, str(fake.locations()[0]["id"])


def set_quantities(fake: ShopifyFake, rows: list[dict[str, Any]], **input: Any) -> dict[str, Any]:
    variables = {"input": {"name": "available", "reason": "correction", "quantities": rows, **input}}
    body = answer(fake, SET, variables)
    payload: dict[str, Any] = (body.get("data") or {}).get("inventorySetQuantities") or body
    return payload


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


def test_set_quantities_is_absolute_moves_on_hand_and_reports_the_changes() -> None:
    fake, tee, location = setup()
    row = {"inventoryItemId": tee["inventoryItemId"], "locationId": location, "quantity": 9, "compareQuantity": 5}
    payload = set_quantities(fake, [row])
    assert payload["userErrors"] == []
    assert payload["inventoryAdjustmentGroup"]["reason"] == "correction"
    assert {c["name"]: (c["delta"], c["quantityAfterChange"]) for c in payload["inventoryAdjustmentGroup"]["changes"]} == {
        "available": (4, 9), "on_hand": (4, 9)}  # fmt: skip
    assert quantities(fake)[(tee["inventoryItemId"], location)] == {"available": 9, "on_hand": 9}


def test_compare_quantity_is_required_and_checked_and_nothing_is_applied_on_an_error() -> None:
    fake, tee, location = setup()
    other = add_variant(fake, "CAP", available=1)
    ok = {"inventoryItemId": other["inventoryItemId"], "locationId": location, "quantity": 3, "compareQuantity": 1}
    base = {"inventoryItemId": tee["inventoryItemId"], "locationId": location, "quantity": 9}

    assert codes(set_quantities(fake, [base])) == ["COMPARE_QUANTITY_REQUIRED"]
    stale = set_quantities(fake, [ok, {**base, "compareQuantity": 4}])
    assert codes(stale) == ["COMPARE_QUANTITY_STALE"]
    assert stale["userErrors"][0]["field"] == ["input", "quantities", "1", "compareQuantity"]
    assert quantities(fake)[(other["inventoryItemId"], location)]["available"] == 1  # the call applied nothing
    assert set_quantities(fake, [base], ignoreCompareQuantity=True)["userErrors"] == []
    assert quantities(fake)[(tee["inventoryItemId"], location)]["available"] == 9


def test_reason_name_item_location_and_tracking_are_checked() -> None:
    fake, tee, location = setup()
    mug = add_variant(fake, "MUG", tracked=False)
    row = {"inventoryItemId": tee["inventoryItemId"], "locationId": location, "quantity": 1, "compareQuantity": 5}
    assert codes(set_quantities(fake, [row], reason="because")) == ["INVALID_REASON"]
    assert codes(set_quantities(fake, [row], name="committed")) == ["INVALID_NAME"]
    assert codes(set_quantities(fake, [{**row, "inventoryItemId": "gid://shopify/InventoryItem/999"}])) == [
        "INVALID_INVENTORY_ITEM"
    ]
    assert codes(set_quantities(fake, [{**row, "locationId": "gid://shopify/Location/999"}])) == ["INVALID_LOCATION"]
    assert codes(set_quantities(fake, [{**row, "quantity": -1}])) == ["INVALID_QUANTITY_NEGATIVE"]
    assert codes(set_quantities(fake, [row, row])) == ["NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR"]
    untracked = {**row, "inventoryItemId": mug["inventoryItemId"], "compareQuantity": 0}
    assert codes(set_quantities(fake, [untracked])) == ["NON_MUTABLE_INVENTORY_ITEM"]


def test_an_item_not_stocked_at_a_location_is_refused_until_activated() -> None:
    fake = fake_on_clock(locations=("Shop location", "Entrepôt Lyon"))
    first, second = (str(r["id"]) for r in fake.locations())
    tee = add_variant(fake, "TEE", locations=[first])
    row = {"inventoryItemId": tee["inventoryItemId"], "locationId": second, "quantity": 2, "compareQuantity": 0}
    assert codes(set_quantities(fake, [row])) == ["ITEM_NOT_STOCKED_AT_LOCATION"]
    activate = "mutation($i: ID!, $l: ID!) { inventoryActivate(inventoryItemId: $i, locationId: $l) { userErrors { message } } }"
    assert (
        answer(fake, activate, {"i": tee["inventoryItemId"], "l": second})["data"]["inventoryActivate"]["userErrors"]
        == []
    )
    assert set_quantities(fake, [row])["userErrors"] == []


def test_more_than_250_quantities_is_refused_as_a_whole() -> None:
    fake, _, location = setup()
    rows = [
        {
            "inventoryItemId": add_variant(fake, f"S{n}")["inventoryItemId"],
            "locationId": location,
            "quantity": 1,
            "compareQuantity": 0,
        }
        for n in range(251)
    ]
    body = answer(fake, SET, {"input": {"name": "available", "reason": "correction", "quantities": rows}})
    assert body["errors"][0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"
    assert "251" in body["errors"][0]["message"]
    assert all(quantities(fake)[(r["inventoryItemId"], location)]["available"] == 0 for r in rows)
