"""Shopify Admin GraphQL client: one document per request over the shared HTTP layer.

Authentication: the custom app's Admin API access token in ``X-Shopify-Access-Token``. The cost
throttle (a leaky bucket per app and shop, docs/shopify.md "Limits") is kept from the
``extensions.cost.throttleStatus`` of every answer: before a document is sent the client waits
until the bucket holds what that document cost last time, and a THROTTLED answer (nothing was
executed) is waited out at the restore rate and sent again. ``userErrors`` are the caller's: they
are a record's error, never the run's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from connectors.errors import Fatal, Retryable
from connectors.http import CallStats, HttpClient

__all__ = ["DEFAULT_API_VERSION", "GraphQLRefused", "ShopifyClient", "Throttle", "user_errors"]

DEFAULT_API_VERSION = "2025-01"
"""The newest Admin API version of the contract passerelle is tested on (docs/shopify.md)."""


class GraphQLRefused(Fatal):
    """Shopify refused the whole document (validation, access scope, cost over the limit)."""


@dataclass(slots=True)
class Throttle:
    """What the last answer said of the bucket."""

    maximum: float = 1_000.0
    available: float = 1_000.0
    restore_rate: float = 50.0
    at: float = 0.0

    def now_available(self, now: float) -> float:
        return min(self.maximum, self.available + (now - self.at) * self.restore_rate)


class ShopifyClient:
    """Send GraphQL documents to one shop's Admin API.

    Args:
        shop_url: ``https://<shop>.myshopify.com``.
        token: the Admin API access token (a secret: scrubbed from every message).
        api_version: ``2025-01`` by default; the path is ``/admin/api/<version>/graphql.json``.
        max_throttle_wait: the longest wait for the bucket before giving up with ``Retryable``.
        sleep / clock: how to wait and tell time (tests pass a virtual clock).
    """

    def __init__(
        self,
        shop_url: str,
        *,
        token: str,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float = 60.0,
        max_throttle_wait: float = 120.0,
        max_throttled: int = 20,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        backoff: float = 0.5,
    ) -> None:
        self.api_version = api_version
        self.path = f"/admin/api/{api_version}/graphql.json"
        self.http = HttpClient(
            shop_url.rstrip("/"),
            platform="Shopify",
            headers={"X-Shopify-Access-Token": token, "Content-Type": "application/json"},
            secrets=[token],
            timeout=timeout,
            sleep=sleep,
            transport=transport,
            backoff=backoff,
        )
        self.http.redact.add(token)
        self._sleep = sleep
        self._clock = clock
        self.max_throttle_wait = max_throttle_wait
        self.max_throttled = max_throttled
        self.throttle: Throttle | None = None
        self._costs: dict[str, float] = {}
        self.points = 0.0
        """Cost points Shopify charged (``actualQueryCost``), summed: what the benchmarks report."""

    @property
    def stats(self) -> CallStats:
        return self.http.stats

    def close(self) -> None:
        self.http.close()

    def execute(
        self, document: str, variables: dict[str, Any] | None = None, *, mutation: bool = False
    ) -> dict[str, Any]:
        """The ``data`` of ``document``; waits for the bucket, raises on a refused document.

        A query is retried in place after a timeout or a 5xx; a mutation is not (it may have been
        applied: the caller reconciles by reading before it writes again).
        """
        throttled = 0
        while True:
            self._wait_for(document)
            response = self.http.request(
                "POST", self.path, json={"query": document, "variables": variables or {}}, idempotent=not mutation
            )
            try:
                answer = response.json()
            except ValueError:
                raise Retryable(f"Shopify answered {response.status_code} without JSON") from None
            self._note_cost(document, answer)
            errors = answer.get("errors")
            if errors and _code(errors) == "THROTTLED":
                throttled += 1
                if throttled > self.max_throttled:
                    raise Retryable("Shopify: still throttled after waiting for the bucket; try again later")
                self._wait_throttled(answer)
                continue
            if errors and answer.get("data") is None:
                raise self._refused(errors)
            if errors:  # partial answer: a field failed (e.g. an internal error on one node)
                code = _code(errors)
                if code in {"INTERNAL_SERVER_ERROR", "TIMEOUT"}:
                    raise Retryable(f"Shopify: {code} on part of the answer; the document can be sent again")
                raise self._refused(errors)
            return dict(answer.get("data") or {})

    def paginate(
        self, document: str, variables: dict[str, Any], path: tuple[str, ...], *, page_size: int = 250
    ) -> Iterator[dict[str, Any]]:
        """Every node of the connection at ``path`` (``$first`` / ``$after`` in ``document``)."""
        after: str | None = None
        while True:
            data = self.execute(document, {**variables, "first": page_size, "after": after})
            connection: Any = data
            for key in path:
                connection = (connection or {}).get(key)
            if not connection:
                return
            yield from connection.get("nodes") or [edge["node"] for edge in connection.get("edges") or []]
            info = connection.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                return
            after = info.get("endCursor")

    # -- throttle ---------------------------------------------------------------------------------

    def _note_cost(self, document: str, answer: dict[str, Any]) -> None:
        cost = (answer.get("extensions") or {}).get("cost") or {}
        status = cost.get("throttleStatus")
        if status:
            self.throttle = Throttle(
                maximum=float(status["maximumAvailable"]),
                available=float(status["currentlyAvailable"]),
                restore_rate=float(status["restoreRate"]) or 1.0,
                at=self._clock(),
            )
        if cost.get("actualQueryCost") is not None:
            self.points += float(cost["actualQueryCost"])
        if cost.get("requestedQueryCost") is not None:
            # the dearest cost seen: the same document costs more with a larger page (its variables)
            self._costs[document] = max(float(cost["requestedQueryCost"]), self._costs.get(document, 0.0))

    def _wait_for(self, document: str) -> None:
        """Wait until the bucket holds the dearest cost seen of ``document`` (never more than the bucket)."""
        needed = self._costs.get(document)
        if self.throttle is None or needed is None:
            return
        needed = min(needed + 1.0, self.throttle.maximum)  # a point of margin: float restore never lands short
        missing = needed - self.throttle.now_available(self._clock())
        if missing > 0:
            self._pause(missing / self.throttle.restore_rate)

    def _wait_throttled(self, answer: dict[str, Any]) -> None:
        cost = (answer.get("extensions") or {}).get("cost") or {}
        status = cost.get("throttleStatus") or {}
        requested = float(cost.get("requestedQueryCost") or 0)
        available = float(status.get("currentlyAvailable") or 0)
        rate = float(status.get("restoreRate") or 50.0)
        self._pause(max((requested - available) / rate, 1.0 / rate))

    def _pause(self, seconds: float) -> None:
        if seconds > self.max_throttle_wait:
            raise Retryable(
                f"Shopify: the cost bucket needs {seconds:.0f} s to refill, more than max_throttle_wait",
                retry_after=seconds,
            )
        self.http.stats.throttled_seconds += seconds
        self._sleep(seconds)

    def _refused(self, errors: Any) -> Fatal:
        code = _code(errors)
        text = self.http.redact(_messages(errors))
        if code == "ACCESS_DENIED":
            return GraphQLRefused(
                f"Shopify refused access: {text}",
                resolution="give the custom app the access scopes docs/shopify.md lists for this flow, then reinstall it.",
            )
        if code == "MAX_COST_EXCEEDED":
            return GraphQLRefused(
                f"Shopify: {text}", resolution="lower page_size in the Shopify settings (a page costs per node)."
            )
        return GraphQLRefused(
            f"Shopify refused the document: {text}",
            resolution=f"check api_version ({self.api_version}) against the versions docs/shopify.md lists.",
        )


def _code(errors: Any) -> str | None:
    if isinstance(errors, list):
        for error in errors:
            code = ((error or {}).get("extensions") or {}).get("code")
            if code:
                return str(code)
    return None


def _messages(errors: Any) -> str:
    if isinstance(errors, list):
        return "; ".join(str((error or {}).get("message")) for error in errors)[:500]
    return str(errors)[:500]


def user_errors(payload: dict[str, Any] | None) -> list[tuple[str, str]]:
    """A payload's ``userErrors`` as (field path, message) pairs."""
    found = []
    for error in (payload or {}).get("userErrors") or []:
        field = ".".join(str(part) for part in error.get("field") or []) or "input"
        found.append((field, str(error.get("message"))))
    return found
