"""The shared HTTP layer: error classification, safe retries, redaction, pagination."""

from __future__ import annotations

import httpx
import pytest

from connectors.errors import Fatal, Retryable
from connectors.http import HttpClient, HttpError, paginate_offset, parse_retry_after


def client(handler, **kw) -> HttpClient:
    return HttpClient(
        "https://shop.test/api/",
        platform="Shop",
        transport=httpx.MockTransport(handler),
        backoff=0,
        max_backoff=0,
        **kw,
    )


@pytest.mark.parametrize(
    ("status", "method", "expected", "requests_sent"),
    [
        (200, "GET", None, 1),
        (429, "POST", Retryable, 4),  # not processed by the server: safe to retry even a POST
        (500, "GET", Retryable, 4),
        (503, "GET", Retryable, 4),
        (500, "POST", Retryable, 1),  # may have been applied: the task reconciles, not the client
        (401, "GET", HttpError, 1),
        (403, "GET", HttpError, 1),
        (404, "GET", HttpError, 1),
        (422, "POST", HttpError, 1),
    ],
)
def test_status_table(status: int, method: str, expected: type | None, requests_sent: int) -> None:
    sent = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(status, json={"error": "x"}, headers={"Retry-After": "0"} if status == 429 else {})

    c = client(handler)
    if expected is None:
        assert c.request(method, "items").status_code == 200
    else:
        with pytest.raises(expected) as info:
            c.request(method, "items")
        if expected is HttpError:
            assert isinstance(info.value, Fatal) and "Resolution:" in str(info.value)
    assert len(sent) == requests_sent


def test_timeout_is_retryable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(Retryable):
        client(handler).request("GET", "items")


def test_retry_after_seconds_and_date() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after(None) is None


def test_secrets_never_appear_in_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, text="bad key hunter2-secret")

    c = client(handler, secrets=["hunter2-secret"])
    with pytest.raises(HttpError) as info:
        c.request("GET", "products?ws_key=ABCDEF123456&consumer_secret=cs_999")
    message = str(info.value)
    assert "hunter2-secret" not in message and "ABCDEF123456" not in message and "cs_999" not in message
    assert "ws_key=***" in message


def test_pagination_stops_on_short_page_and_detects_loops() -> None:
    data = list(range(25))
    assert list(paginate_offset(lambda o, n: data[o : o + n], page_size=10, key=lambda x: x)) == data
    with pytest.raises(Fatal, match="pagination loop"):
        list(paginate_offset(lambda o, n: data[:10], page_size=10, key=lambda x: x))
