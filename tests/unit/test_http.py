"""The shared HTTP layer: error classification, safe retries, redaction, rate limiting, pagination.

Every test plugs a tiny callable app into ``httpx.MockTransport``; backoffs are zero so the
retry table runs in milliseconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest

from connectors.errors import Fatal, Retryable, is_retryable
from connectors.http import (
    CallStats,
    HttpClient,
    HttpError,
    RateLimiter,
    Redactor,
    paginate_offset,
    paginate_pages,
    parse_retry_after,
)

BASE = "https://shop.test/api/"
Handler = Callable[[httpx.Request], httpx.Response]


def make_client(handler: Handler, **options: object) -> HttpClient:
    options.setdefault("backoff", 0)
    options.setdefault("max_backoff", 0)
    options.setdefault("sleep", lambda seconds: None)
    return HttpClient(BASE, platform="Shop", transport=httpx.MockTransport(handler), **options)  # type: ignore[arg-type]


class Recorder:
    """A server that answers the listed responses in turn (the last one forever) and keeps the requests."""

    def __init__(self, *responses: httpx.Response | Exception) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.responses[min(len(self.requests), len(self.responses)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer


# -- classification table -------------------------------------------------------------------

RETRY_AFTER_1 = {"Retry-After": "1"}


@pytest.mark.parametrize(
    ("status", "method", "headers", "expected", "requests_sent"),
    [
        pytest.param(200, "GET", {}, None, 1, id="200-ok"),
        pytest.param(201, "POST", {}, None, 1, id="201-ok"),
        pytest.param(204, "DELETE", {}, None, 1, id="204-ok"),
        # 429: the platform did not process the request, so even a POST is retried in place.
        pytest.param(429, "GET", RETRY_AFTER_1, Retryable, 4, id="429-get"),
        pytest.param(429, "POST", RETRY_AFTER_1, Retryable, 4, id="429-post"),
        pytest.param(500, "GET", {}, Retryable, 4, id="500-get"),
        pytest.param(502, "GET", {}, Retryable, 4, id="502-get"),
        pytest.param(503, "GET", {}, Retryable, 4, id="503-get"),
        pytest.param(503, "PUT", {}, Retryable, 4, id="503-put-idempotent"),
        # A POST answered 5xx may have been applied: the task reconciles, the client does not resend.
        pytest.param(500, "POST", {}, Retryable, 1, id="500-post-not-resent"),
        pytest.param(502, "POST", {}, Retryable, 1, id="502-post-not-resent"),
        pytest.param(400, "POST", {}, HttpError, 1, id="400"),
        pytest.param(401, "GET", {}, HttpError, 1, id="401"),
        pytest.param(403, "GET", {}, HttpError, 1, id="403"),
        pytest.param(404, "GET", {}, HttpError, 1, id="404"),
        pytest.param(422, "POST", {}, HttpError, 1, id="422"),
    ],
)
def test_status_table(
    status: int, method: str, headers: dict[str, str], expected: type[Exception] | None, requests_sent: int
) -> None:
    server = Recorder(httpx.Response(status, json={"error": f"status {status}"}, headers=headers))
    client = make_client(server, max_retries=3)
    if expected is None:
        assert client.request(method, "items").status_code == status
    else:
        with pytest.raises(expected) as info:
            client.request(method, "items")
        message = str(info.value)
        assert f"HTTP {status} on {method} https://shop.test/api/items" in message
        if expected is HttpError:
            assert isinstance(info.value, Fatal) and not is_retryable(info.value)
            assert info.value.status == status
            assert "Resolution:" in message
        else:
            assert is_retryable(info.value)
    assert len(server.requests) == requests_sent
    assert all(r.method == method for r in server.requests)


@pytest.mark.parametrize(
    ("status", "hint"),
    [(401, "credentials"), (403, "permissions"), (404, "base URL"), (422, "refused")],
)
def test_fatal_answers_say_how_to_resolve(status: int, hint: str) -> None:
    client = make_client(Recorder(httpx.Response(status, text="nope")))
    with pytest.raises(HttpError) as info:
        client.request("GET", "items")
    assert info.value.resolution in str(info.value)
    assert hint in str(info.value).split("Resolution:", 1)[1]


def test_429_with_retry_after_seconds_ends_retryable_with_that_delay() -> None:
    server = Recorder(httpx.Response(429, headers={"Retry-After": "7"}))
    client = make_client(server, max_retries=2)
    with pytest.raises(Retryable) as info:
        client.request("GET", "items")
    assert info.value.retry_after == 7.0
    assert len(server.requests) == 3
    assert client.stats.retries == 2


def test_429_with_retry_after_http_date() -> None:
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    server = Recorder(httpx.Response(429, headers={"Retry-After": when}))
    client = make_client(server, max_retries=1)
    with pytest.raises(Retryable) as info:
        client.request("POST", "orders", json={"a": 1})
    assert info.value.retry_after is not None and 25 <= info.value.retry_after <= 30
    assert len(server.requests) == 2  # retried once in place, then surfaced


def test_retry_after_longer_than_the_backoff_cap_is_waited_in_full() -> None:
    slept: list[float] = []
    server = Recorder(httpx.Response(429, headers={"Retry-After": "45"}), httpx.Response(200, json=[]))
    client = make_client(server, max_backoff=30, sleep=slept.append)
    assert client.request("GET", "items").json() == []
    assert slept == [45.0]  # not cut to 30 s, which would only earn another 429


def test_retry_after_beyond_patience_is_raised_at_once_for_a_later_retry() -> None:
    slept: list[float] = []
    server = Recorder(httpx.Response(429, headers={"Retry-After": "3600"}))
    client = make_client(server, sleep=slept.append, max_retry_after=120)
    with pytest.raises(Retryable) as info:
        client.request("GET", "items")
    assert info.value.retry_after == 3600.0
    assert len(server.requests) == 1 and slept == []


def test_backoff_without_retry_after_doubles_up_to_the_cap() -> None:
    slept: list[float] = []
    client = make_client(Recorder(httpx.Response(503)), backoff=1, max_backoff=3, sleep=slept.append)
    with pytest.raises(Retryable):
        client.request("GET", "items")
    assert slept == [1, 2, 3]


def test_429_retry_in_place_then_success() -> None:
    server = Recorder(httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(201, json={"id": 5}))
    client = make_client(server)
    assert client.request("POST", "orders", json={"a": 1}).json() == {"id": 5}
    assert len(server.requests) == 2
    assert (client.stats.calls, client.stats.retries) == (2, 1)


def test_5xx_on_get_recovers_after_a_retry() -> None:
    server = Recorder(httpx.Response(503), httpx.Response(502), httpx.Response(200, json=[1]))
    client = make_client(server)
    assert client.request("GET", "items").json() == [1]
    assert (client.stats.calls, client.stats.retries) == (3, 2)


def test_post_marked_idempotent_is_retried_on_5xx() -> None:
    server = Recorder(httpx.Response(500), httpx.Response(200, json={"ok": True}))
    client = make_client(server)
    assert client.request("POST", "search", idempotent=True).json() == {"ok": True}
    assert len(server.requests) == 2


def test_expected_status_is_returned_not_raised() -> None:
    server = Recorder(httpx.Response(400, json={"errors": ["bad"]}))
    response = make_client(server).request("POST", "graphql", expect=(400,))
    assert response.status_code == 400 and response.json() == {"errors": ["bad"]}


# -- timeouts and network errors ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "error", "requests_sent"),
    [
        ("GET", httpx.ReadTimeout, 4),
        ("GET", httpx.ConnectTimeout, 4),
        ("GET", httpx.ConnectError, 4),
        ("POST", httpx.ReadTimeout, 1),  # the POST may have been applied: not resent in place
    ],
)
def test_timeouts_and_network_errors_are_retryable(
    method: str, error: type[httpx.TransportError], requests_sent: int
) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        raise error("the network is slow today", request=request)

    client = make_client(handler, max_retries=3)
    with pytest.raises(Retryable) as info:
        client.request(method, "items")
    assert error.__name__ in str(info.value) and info.value.retry_after is None
    assert len(sent) == requests_sent
    assert client.stats.calls == requests_sent


def test_a_server_that_refuses_connections_names_its_url_and_what_to_check() -> None:
    """A real closed port on 127.0.0.1: the operator reads where passerelle tried and what to check."""
    from deployments.sandbox.base import free_port

    url = f"http://127.0.0.1:{free_port()}/admin-api/"
    client = HttpClient(url, platform="Vendure", max_retries=1, backoff=0, sleep=lambda seconds: None)
    with pytest.raises(Retryable) as info:
        client.request("POST", "", json={"query": "{ me { id } }"})
    text = str(info.value)
    assert url in text and "Resolution:" in text and "reachable" in text
    assert info.value.resolution is not None and "port" in info.value.resolution


def test_timeout_then_success_on_get() -> None:
    server = Recorder(httpx.ReadTimeout("slow"), httpx.Response(200, json={"ok": 1}))
    client = make_client(server)
    assert client.request("GET", "items").json() == {"ok": 1}
    assert client.stats.retries == 1


# -- secrets ---------------------------------------------------------------------------------


def echo(status: int) -> Handler:
    """A server that quotes the whole request (URL, headers, body) in its error message."""

    def handler(request: httpx.Request) -> httpx.Response:
        text = f"refused {request.url} headers={dict(request.headers)} body={request.content.decode()}"
        return httpx.Response(status, text=text)

    return handler


@pytest.mark.parametrize("status", [401, 422, 500])
def test_password_and_secret_query_params_never_in_messages(status: int) -> None:
    client = make_client(echo(status), secrets=["hunter2-password"], max_retries=0)
    with pytest.raises((HttpError, Retryable)) as info:
        client.request(
            "POST",
            "products?ws_key=ABCDEF123456&consumer_key=ck_abc987&consumer_secret=cs_999888&page=2",
            json={"login": "admin", "password": "hunter2-password"},
        )
    message = str(info.value)
    for secret in ("hunter2-password", "ABCDEF123456", "ck_abc987", "cs_999888"):
        assert secret not in message
        if isinstance(info.value, HttpError):
            assert secret not in info.value.body
    assert "ws_key=***" in message and "consumer_secret=***" in message
    assert "page=2" in message  # ordinary parameters stay readable


def test_secret_in_url_is_redacted_from_timeout_messages() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout(f"timed out on {request.url}", request=request)

    client = make_client(handler, max_retries=0)
    with pytest.raises(Retryable) as info:
        client.request("GET", "products?ws_key=ABCDEF123456")
    assert "ABCDEF123456" not in str(info.value)


def test_authorization_set_by_set_header_never_in_messages() -> None:
    client = make_client(echo(403))
    client.set_header("Authorization", "Bearer tok-0123456789abcdef")
    with pytest.raises(HttpError) as info:
        client.request("GET", "items")
    assert "tok-0123456789abcdef" not in str(info.value)
    assert "tok-0123456789abcdef" not in info.value.body


def test_authorization_given_to_the_constructor_never_in_messages() -> None:
    client = make_client(echo(403), headers={"Authorization": "Bearer tok-0123456789abcdef"})
    with pytest.raises(HttpError) as info:
        client.request("GET", "items")
    assert "tok-0123456789abcdef" not in str(info.value)


def test_bare_token_of_the_authorization_header_never_in_messages() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        token = request.headers["Authorization"].split(" ", 1)[1]
        return httpx.Response(401, text=f"invalid or expired token {token}")

    client = make_client(handler)
    client.set_header("Authorization", "Bearer tok-0123456789abcdef")
    with pytest.raises(HttpError) as info:
        client.request("GET", "items")
    assert "tok-0123456789abcdef" not in str(info.value)


def test_redactor() -> None:
    redact = Redactor(["s3cr3t-value", None, "abc"])
    assert redact("x s3cr3t-value y") == "x *** y"
    assert redact("abc is too short to be a secret") == "abc is too short to be a secret"
    assert redact("https://h/p?api_key=K1&token=T2&q=ok") == "https://h/p?api_key=***&token=***&q=ok"
    assert redact.headers({"Authorization": "Bearer x", "Accept": "application/json"}) == {
        "Authorization": "***",
        "Accept": "application/json",
    }


# -- Retry-After parsing ---------------------------------------------------------------------


def test_parse_retry_after() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 120 ") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412500.0) == 0.0  # already past
    assert parse_retry_after("soon") is None
    assert parse_retry_after("") is None
    assert parse_retry_after(None) is None


# -- rate limiting ---------------------------------------------------------------------------


def test_rate_limiter_spaces_requests() -> None:
    limiter = RateLimiter(20)  # one every 50 ms
    started = time.monotonic()
    for _ in range(6):
        limiter.acquire()
    assert time.monotonic() - started >= 5 * 0.05 - 0.01


def test_rate_limiter_allows_a_burst_then_waits() -> None:
    limiter = RateLimiter(10, burst=3)
    started = time.monotonic()
    waits = [limiter.acquire() for _ in range(3)]
    assert waits == [0.0, 0.0, 0.0] and time.monotonic() - started < 0.05
    assert limiter.acquire() > 0.05


def test_rate_limiter_without_rate_never_waits() -> None:
    limiter = RateLimiter(None)
    assert [limiter.acquire() for _ in range(100)] == [0.0] * 100


def test_client_rate_limit_spaces_requests_and_counts_throttling() -> None:
    stamps: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        stamps.append(time.monotonic())
        return httpx.Response(200)

    client = make_client(handler, rate_limit=25)  # 40 ms apart
    for _ in range(5):
        client.request("GET", "items")
    gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    assert min(gaps) >= 0.04 - 0.005
    assert client.stats.throttled_seconds >= 4 * 0.04 - 0.02


def test_call_stats() -> None:
    assert CallStats() == CallStats(calls=0, retries=0, seconds=0.0, throttled_seconds=0.0)
    server = Recorder(httpx.Response(503), httpx.Response(200), httpx.Response(404))
    client = make_client(server)
    client.request("GET", "a")
    with pytest.raises(HttpError):
        client.request("GET", "b")
    assert (client.stats.calls, client.stats.retries) == (3, 1)
    assert client.stats.seconds > 0 and client.stats.throttled_seconds == 0


# -- pagination ------------------------------------------------------------------------------


def test_paginate_offset_stops_on_a_short_page() -> None:
    data = list(range(25))
    asked: list[tuple[int, int]] = []

    def fetch(offset: int, limit: int) -> list[int]:
        asked.append((offset, limit))
        return data[offset : offset + limit]

    assert list(paginate_offset(fetch, page_size=10, key=lambda x: x)) == data
    assert asked == [(0, 10), (10, 10), (20, 10)]


def test_paginate_offset_exact_multiple_ends_on_an_empty_page() -> None:
    data = list(range(20))
    asked: list[int] = []

    def fetch(offset: int, limit: int) -> list[int]:
        asked.append(offset)
        return data[offset : offset + limit]

    assert list(paginate_offset(fetch, page_size=10)) == data
    assert asked == [0, 10, 20]
    assert list(paginate_offset(lambda o, n: [], page_size=10)) == []


def test_paginate_offset_detects_a_server_ignoring_the_offset() -> None:
    data = [{"id": i} for i in range(30)]
    received: list[dict[str, int]] = []
    with pytest.raises(Fatal, match="pagination loop at offset 10") as info:
        for item in paginate_offset(lambda o, n: data[:n], page_size=10, key=lambda r: r["id"]):
            received.append(item)
    assert received == data[:10]  # the first page once, never twice
    assert "Resolution:" in str(info.value)


def test_paginate_pages_follows_the_page_count() -> None:
    pages = {1: ["a", "b"], 2: ["c", "d"], 3: ["e"]}
    asked: list[int] = []

    def fetch(page: int) -> tuple[list[str], int | None]:
        asked.append(page)
        return pages.get(page, []), 3

    assert list(paginate_pages(fetch)) == ["a", "b", "c", "d", "e"]
    assert asked == [1, 2, 3]


def test_paginate_pages_without_count_stops_on_an_empty_page() -> None:
    pages = {1: [1, 2], 2: [3]}
    assert list(paginate_pages(lambda p: (pages.get(p, []), None))) == [1, 2, 3]


def test_paginate_pages_gives_up_after_max_pages() -> None:
    with pytest.raises(Fatal, match="did not end after 5 pages") as info:
        list(paginate_pages(lambda p: ([p], None), max_pages=5))
    assert "Resolution:" in str(info.value)
