"""Dolibarr's answers to a write: a refusal Dolibarr explains (its RestException JSON, even with
HTTP 500 as api_orders.class.php post() throws "Error creating order") is the record's error, never
retried blindly; a 500 without Dolibarr's error body (a crash, a proxy) stays transient."""

from __future__ import annotations

import json

import httpx
import pytest

from connectors.erp.dolibarr.client import DolibarrClient
from connectors.errors import Retryable
from connectors.http import HttpError

REFUSED = {"error": {"code": 500, "message": "Internal Server Error: Error creating order"}, "debug": {}}


def client(status: int, body: str, content_type: str) -> tuple[DolibarrClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, text=body, headers={"Content-Type": content_type})

    return DolibarrClient("https://erp.example", "k3y", transport=httpx.MockTransport(handler), max_retries=2), seen


@pytest.mark.parametrize("method", ["post", "put"])
def test_a_refusal_dolibarr_explains_with_a_500_is_the_records_error_sent_once(method: str) -> None:
    dolibarr, seen = client(500, json.dumps(REFUSED), "application/json")
    with pytest.raises(HttpError) as refused:
        getattr(dolibarr, method)("orders", {"socid": 1})
    assert refused.value.status == 500 and "Error creating order" in refused.value.body
    assert len(seen) == 1


def test_a_500_without_dolibarrs_error_body_is_transient() -> None:
    dolibarr, _ = client(500, "<html><body>Internal Server Error</body></html>", "text/html")
    with pytest.raises(Retryable):
        dolibarr.post("orders", {"socid": 1})
