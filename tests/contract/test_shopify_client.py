"""The Shopify client against the fake: authentication, refused documents, the cost throttle,
pagination, retries."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

import deployments.sandbox.fakes.shopify.inventory  # noqa: F401  (registers locations, inventory*)
from connectors.errors import Fatal, Retryable
from connectors.shop.shopify.client import GraphQLRefused, ShopifyClient
from deployments.sandbox.fakes.shopify.core import PLANS, TOKEN, ShopifyFake, VirtualClock

LOCATIONS = "query Locations($first: Int!, $after: String) { locations(first: $first, after: $after) { nodes { id name } pageInfo { hasNextPage endCursor } } }"
PAGE_250 = "query Page { locations(first: 250) { nodes { id } } }"
SET = """
mutation Set($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) { userErrors { field message code } }
}
"""


def setup(
    plan: str = "standard", *, token: str = TOKEN, **options: Any
) -> tuple[ShopifyFake, ShopifyClient, VirtualClock]:
    clock = VirtualClock()
    fake = ShopifyFake(plan=plan, clock=clock.now, **options)
    client = ShopifyClient(fake.shop, token=token, transport=fake.transport, sleep=clock.sleep, clock=clock.now)
    return fake, client, clock


def raw(fake: ShopifyFake, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """The fake's whole answer (``extensions`` included), without the client."""
    with httpx.Client(transport=fake.transport, base_url=fake.shop) as http:
        response = http.post(
            fake.endpoint,
            json={"query": document, "variables": variables or {}},
            headers={"X-Shopify-Access-Token": TOKEN},
        )
    assert response.status_code == 200
    answer: dict[str, Any] = response.json()
    return answer


def test_a_wrong_token_is_fatal_with_a_resolution_and_never_shows_the_token() -> None:
    wrong = "shpat_wrong_secret_0123456789abcdef"
    _, client, _ = setup(token=wrong)

    with pytest.raises(Fatal) as caught:
        client.execute(PAGE_250)

    message = str(caught.value)
    assert "401" in message and "Invalid API key or access token" in message
    assert "Resolution:" in message and "credentials" in message
    assert wrong not in message and TOKEN not in message


def test_a_document_the_schema_refuses_is_graphql_refused_with_the_schemas_message() -> None:
    fake, client, _ = setup()

    with pytest.raises(GraphQLRefused) as caught:
        client.execute("query { locations(first: 1) { nodes { id colour } } }")

    assert "Cannot query field 'colour' on type 'Location'." in str(caught.value)
    assert "Resolution:" in str(caught.value)
    assert fake.exchanges[-1].operation == "invalid"  # nothing executed, nothing charged
    assert fake.points() == 0


def test_a_page_of_250_nodes_costs_2_plus_250_and_the_answer_tells_the_bucket_of_the_plan() -> None:
    for plan, (bucket, rate) in PLANS.items():
        fake = ShopifyFake(plan=plan, clock=VirtualClock().now)
        answer = raw(fake, PAGE_250)
        cost = answer["extensions"]["cost"]
        # rate-limits page: a connection costs 2 plus its page size times one node (an object: 1).
        assert (cost["requestedQueryCost"], cost["actualQueryCost"]) == (252, 252)
        assert cost["throttleStatus"] == {
            "maximumAvailable": bucket,
            "currentlyAvailable": bucket - 252,
            "restoreRate": rate,
        }
    assert PLANS["standard"] == (2_000.0, 100.0)
    assert PLANS["plus"] == (20_000.0, 1_000.0)


def test_a_throttled_answer_is_waited_out_on_the_clock_and_sent_again() -> None:
    fake, client, clock = setup()
    fake.available = 0.0  # another app emptied the bucket

    data = client.execute(PAGE_250)

    assert data["locations"]["nodes"]
    throttled = [e for e in fake.exchanges if e.throttled]
    assert len(throttled) == 1  # answered THROTTLED once (nothing executed), then executed
    # the restore time of what was missing (the client keeps one point of margin)
    assert 252 / 100 <= clock.seconds <= 253 / 100 + 1e-9
    assert client.stats.throttled_seconds == pytest.approx(clock.seconds)


def _burst() -> tuple[int, int, float]:
    """20 x 252 points (2.5 buckets of the standard plan): (executed, throttled answers, seconds waited)."""
    fake, client, clock = setup()
    for _ in range(20):
        client.execute(PAGE_250)
    throttled = sum(1 for e in fake.exchanges if e.throttled)
    return fake.calls("locations") - throttled, throttled, clock.seconds


def test_the_client_waits_before_a_repeated_document_so_it_is_seldom_throttled() -> None:
    executed, throttled, seconds = _burst()

    assert executed == 20
    assert throttled <= 5  # without the proactive wait: one THROTTLED answer per call past the bucket
    assert seconds >= (20 * 252 - 2_000) / 100 - 1  # paid at the restore rate, not faster


def test_the_client_waits_before_a_repeated_document_instead_of_being_throttled() -> None:
    executed, throttled, _ = _burst()
    assert (executed, throttled) == (20, 0)


def test_a_document_whose_cost_depends_on_its_variables_is_not_throttled_either() -> None:
    """The same document with a larger page costs more (a connection costs its ``first``): the client
    waits for the dearest cost it has seen of it, not the last one."""
    fake, client, _ = setup()
    for first in [100, 250] * 10:
        client.execute(LOCATIONS, {"first": first})
    assert sum(1 for e in fake.exchanges if e.throttled) == 0


def test_a_document_costing_more_than_1000_points_is_refused() -> None:
    fake, client, _ = setup()
    four_pages = "query { a: locations(first: 250) { nodes { id } } b: locations(first: 250) { nodes { id } } " \
        "c: locations(first: 250) { nodes { id } } d: locations(first: 250) { nodes { id } } }"  # fmt: skip

    with pytest.raises(GraphQLRefused) as caught:
        client.execute(four_pages)

    assert "Query cost is 1008" in str(caught.value) and "page_size" in str(caught.value)
    assert fake.available == 2_000  # nothing executed, nothing taken from the bucket


def test_pagination_returns_every_node_with_opaque_cursors_and_refuses_pages_over_250() -> None:
    fake, client, _ = setup(locations=[f"Location {n}" for n in range(600)])

    rows = list(client.paginate(LOCATIONS, {}, ("locations",), page_size=250))

    assert len(rows) == 600 and len({r["id"] for r in rows}) == 600
    assert fake.calls("locations") == 3
    page = raw(fake, LOCATIONS, {"first": 2})["data"]["locations"]
    cursor = page["pageInfo"]["endCursor"]
    assert cursor not in {r["id"] for r in page["nodes"]} and base64.b64decode(cursor)  # opaque, base64
    with pytest.raises(GraphQLRefused, match="between 0 and 250"):
        client.execute(LOCATIONS, {"first": 251})


def test_inventory_items_paginate_past_600_too() -> None:
    from deployments.sandbox.fakes.shopify.inventory import add_variant

    fake, client, _ = setup()
    for n in range(610):
        add_variant(fake, f"SKU-{n}")
    document = "query Items($first: Int!, $after: String) { inventoryItems(first: $first, after: $after) { edges { cursor node { id sku } } pageInfo { hasNextPage endCursor } } }"

    rows = list(client.paginate(document, {}, ("inventoryItems",), page_size=250))

    assert [r["sku"] for r in rows] == [f"SKU-{n}" for n in range(610)]


def test_a_5xx_is_retried_on_a_query_and_not_on_a_mutation() -> None:
    fake, client, _ = setup()
    fake.fail_next = [{"status": 502}]

    assert client.execute(PAGE_250)["locations"]["nodes"]
    assert client.stats.retries == 1

    fake.fail_next = [{"status": 502}]
    before = len(fake.exchanges)
    variables = {"input": {"name": "available", "reason": "correction", "quantities": []}}
    with pytest.raises(Retryable, match="502"):
        client.execute(SET, variables, mutation=True)
    assert len(fake.exchanges) == before + 1  # sent once: it may have been applied
    assert client.stats.retries == 1
