"""The one HTTP layer every connector uses (httpx).

What it does for every platform, so no connector does it again:
- classifies answers into the error vocabulary of :mod:`connectors.errors`
  (429 -> Retryable with Retry-After, 5xx/timeouts -> Retryable, 401/403/404/other 4xx -> Fatal);
- retries in place only what is safe: a 429 (the platform did not process the request) and,
  for idempotent requests, 5xx and timeouts; anything else surfaces to the Prefect task;
- rate-limits with a token bucket;
- paginates with loop detection;
- redacts secrets from every message it builds (URLs, bodies, exceptions).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx

from connectors.errors import Fatal, RequestTooLarge, Retryable

__all__ = [
    "CallStats",
    "HttpClient",
    "HttpError",
    "RateLimiter",
    "Redactor",
    "paginate_offset",
    "paginate_pages",
    "parse_retry_after",
]

T = TypeVar("T")

_SECRET_PARAMS = re.compile(
    r"(?i)((?:ws_key|key|api_key|apikey|token|access_token|password|passwd|secret|consumer_key|consumer_secret|"
    r"oauth_signature|signature|session)=)([^&\s\"']+)"
)
_SECRET_HEADERS = {"authorization", "cookie", "set-cookie", "dolapikey", "x-shopify-access-token", "vendure-auth-token"}


class Redactor:
    """Replaces known secret values and secret-looking URL parameters with ``***``."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: set[str] = set()
        for s in secrets:
            self.add(s)

    def add(self, secret: str | None) -> None:
        # Very short values would redact ordinary words; they are not secrets worth the name.
        if secret and len(secret) >= 4:
            self._secrets.add(secret)

    def __call__(self, text: str) -> str:
        for s in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(s, "***")
        return _SECRET_PARAMS.sub(r"\1***", text)

    def headers(self, headers: httpx.Headers | dict[str, str]) -> dict[str, str]:
        return {k: ("***" if k.lower() in _SECRET_HEADERS else self(v)) for k, v in headers.items()}


class HttpError(Fatal):
    """A non-retryable HTTP answer, with its status and (redacted) body for per-record reporting."""

    def __init__(self, message: str, *, status: int, body: str, resolution: str) -> None:
        super().__init__(message, resolution=resolution)
        self.status = status
        self.body = body


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


class RateLimiter:
    """Token bucket: at most ``rate`` requests per second on average, bursts of ``burst``."""

    def __init__(self, rate: float | None, burst: int = 1) -> None:
        self.rate = rate
        self.capacity = float(max(1, burst))
        self._tokens = self.capacity
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Block until a request may go; return the seconds waited."""
        if not self.rate:
            return 0.0
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
            self._last = now
            wait = 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate
            self._tokens -= 1
        if wait:
            time.sleep(wait)
        return wait


@dataclass
class CallStats:
    """What a client sent: the benchmarks and the run summaries read it."""

    calls: int = 0
    retries: int = 0
    seconds: float = 0.0
    throttled_seconds: float = 0.0


_RESOLUTIONS = {
    401: "check the credentials configured for this connection (user, key or password) and that they are still valid.",
    403: "give the API user the permissions listed in the connector's documentation.",
    404: "check the base URL of the connection and that the resource still exists.",
}


class HttpClient:
    """httpx client with classification, safe retries, rate limiting and redaction.

    Args:
        base_url: root of the platform's API.
        platform: name used in messages ("Vendure", "Tryton"...).
        headers: default headers (auth headers are never logged).
        secrets: values to scrub from every message.
        timeout: seconds per request.
        rate_limit: requests per second (None: unlimited).
        max_retries: in-place retries for retryable answers before raising ``Retryable``.
        backoff: first backoff in seconds (doubles each retry, capped by ``max_backoff``).
        max_retry_after: the longest ``Retry-After`` waited in place (in full: waiting less only earns
            another 429); a longer one is raised at once as ``Retryable(retry_after=...)`` for the
            task's retry or the next scheduled run.
        sleep: how to wait (tests pass a recorder).
        transport: an httpx transport (tests plug ``httpx.MockTransport`` here).
    """

    def __init__(
        self,
        base_url: str,
        *,
        platform: str,
        headers: dict[str, str] | None = None,
        secrets: Iterable[str | None] = (),
        timeout: float = 60.0,
        rate_limit: float | None = None,
        burst: int = 1,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
        auth: httpx.Auth | tuple[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        verify: bool = True,
    ) -> None:
        self.platform = platform
        self.redact = Redactor(secrets)
        for name, value in (headers or {}).items():
            if name.lower() in _SECRET_HEADERS:
                self.redact.add(value)
                self.redact.add(value.rsplit(" ", 1)[-1])
        self.limiter = RateLimiter(rate_limit, burst)
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self._pause = sleep
        self.stats = CallStats()
        self._client = httpx.Client(
            base_url=base_url, headers=headers, timeout=timeout, auth=auth, transport=transport, verify=verify
        )

    @property
    def base_url(self) -> str:
        return str(self._client.base_url)

    def set_header(self, name: str, value: str, *, secret: bool = True) -> None:
        if secret:
            self.redact.add(value)
            self.redact.add(value.rsplit(" ", 1)[-1])  # the bare token of "Bearer <token>" too
        self._client.headers[name] = value

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        idempotent: bool | None = None,
        expect: Sequence[int] = (),
        **kwargs: Any,
    ) -> httpx.Response:
        """Send one request; return the response or raise Retryable / HttpError.

        ``idempotent`` defaults to True for GET/HEAD/OPTIONS/PUT/DELETE. A POST is retried in
        place only on 429; after a 5xx or a timeout it may have been applied, so the caller's
        task decides (it reconciles before trying again).
        ``expect`` lists extra non-2xx statuses returned to the caller instead of raised.
        """
        if idempotent is None:
            idempotent = method.upper() in {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}
        attempt = 0
        while True:
            self.stats.throttled_seconds += self.limiter.acquire()
            started = time.perf_counter()
            try:
                response = self._client.request(method, url, **kwargs)
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                self.stats.calls += 1
                self.stats.seconds += time.perf_counter() - started
                error: Retryable = Retryable(
                    self.redact(f"{self.platform}: {type(exc).__name__} on {method} {self._where(url)}: {exc}"),
                    resolution=self._network_resolution(exc),
                )
                if idempotent and attempt < self.max_retries:
                    attempt += 1
                    self._sleep(attempt, None)
                    continue
                raise error from None
            self.stats.calls += 1
            self.stats.seconds += time.perf_counter() - started
            status = response.status_code
            if status < 300 or status in expect:
                return response
            if status == 413:  # refused before it was read: nothing was applied, whatever the method
                raise RequestTooLarge(
                    self.redact(f"{self.platform}: HTTP 413 on {method} {self._where(url)}: the request is too large"),
                    size=_request_size(response),
                )
            if status == 429 or status >= 500:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                patient = retry_after is None or retry_after <= self.max_retry_after
                if (status == 429 or idempotent) and attempt < self.max_retries and patient:
                    attempt += 1
                    self._sleep(attempt, retry_after)
                    continue
                raise Retryable(
                    self.redact(
                        f"{self.platform}: HTTP {status} on {method} {self._where(url)}: {_snippet(response.text)}"
                    ),
                    retry_after=retry_after,
                )
            raise HttpError(
                self.redact(
                    f"{self.platform}: HTTP {status} on {method} {self._where(url)}: {_snippet(response.text)}"
                ),
                status=status,
                body=self.redact(response.text[:4000]),
                resolution=_RESOLUTIONS.get(status, "read the platform's message above; the request was refused."),
            )

    def _network_resolution(self, exc: Exception) -> str:
        """What to check when the platform did not answer (no HTTP status to go by)."""
        where = self.redact(str(self._client.base_url))
        if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, httpx.ConnectTimeout):
            return (
                f"{self.platform} at {where} took longer than the connector's timeout to answer: check its load,"
                " or raise the connection's timeout setting."
            )
        return (
            f"check that {where} is {self.platform}'s address and is reachable from this machine: the server"
            " running, the host name and port, DNS, a firewall or a proxy on the way."
        )

    def _where(self, url: str) -> str:
        return str(self._client.base_url.join(url)) if not url.startswith("http") else url

    def _sleep(self, attempt: int, retry_after: float | None) -> None:
        self.stats.retries += 1
        if retry_after is not None:  # what the platform asked for, in full (bounded by max_retry_after)
            self._pause(retry_after)
        else:
            self._pause(min(self.backoff * 2 ** (attempt - 1), self.max_backoff))


def _request_size(response: httpx.Response) -> int:
    try:
        return len(response.request.content)
    except (RuntimeError, httpx.RequestNotRead):
        return 0


def _snippet(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def paginate_offset(
    fetch: Callable[[int, int], Sequence[T]],
    *,
    page_size: int,
    key: Callable[[T], Any] | None = None,
    total: Callable[[], int | None] | None = None,
) -> Iterator[T]:
    """Items of an offset/limit API, page after page, until a short page.

    ``fetch(offset, limit)`` returns one page. A page whose keys were already seen means the
    server ignores the offset (a pagination loop): that raises Fatal instead of looping forever.
    """
    offset = 0
    seen_pages: set[tuple[Any, ...]] = set()
    while True:
        page = fetch(offset, page_size)
        if not page:
            return
        if key is not None:
            signature = tuple(key(item) for item in page)
            if signature in seen_pages:
                raise Fatal(
                    f"pagination loop at offset {offset}: the server answered a page it already sent.",
                    resolution="the platform ignores the offset parameter; check its version and API settings.",
                )
            seen_pages.add(signature)
        yield from page
        if len(page) < page_size:
            return
        offset += len(page)


def paginate_pages(fetch: Callable[[int], tuple[Sequence[T], int | None]], *, max_pages: int = 100_000) -> Iterator[T]:
    """Items of a page-numbered API (1-based) where each answer says how many pages exist."""
    page = 1
    while page <= max_pages:
        items, total_pages = fetch(page)
        yield from items
        if not items or (total_pages is not None and page >= total_pages):
            return
        page += 1
    raise Fatal(
        f"pagination did not end after {max_pages} pages.", resolution="check the platform's pagination headers."
    )
