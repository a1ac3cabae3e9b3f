"""PrestaShop 8 webservice client: JSON reads through the one HTTP layer (:mod:`connectors.http`).

The webservice lives at ``<shop>/api/``; the key is the basic-auth user, so a URL that is not
``https://`` is a Fatal unless ``allow_insecure_http``. Reads ask ``output_format=JSON`` with
``display``, ``filter[field]``, ``sort`` and ``limit``; writes are XML
(:mod:`connectors.shop.prestashop.xml`) and a PUT replaces the whole record. A write refused with
a PrestaShop ``<errors>`` document raises :class:`WriteRefused` (a RecordError for that record);
401 is a Fatal naming the permissions, 5xx / 429 / timeouts are Retryable (a POST is never sent
again in place), other 4xx Fatal. The requests sent are counted in ``stats``.

Details: docs/prestashop.md (introduction; Requests and errors).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from connectors.errors import Fatal, PasserelleError, RequestTooLarge, Retryable
from connectors.http import CallStats, HttpClient
from connectors.shop.prestashop.xml import answer_id, error_messages, to_xml

__all__ = ["READ_RESOURCES", "PrestaShopClient", "WriteRefused", "id_filter", "interval_filter", "local_text"]

_REFUSALS = (400, 401, 403, 404, 405, 500)


class WriteRefused(PasserelleError):
    """PrestaShop refused one write with an ``<errors>`` document (its messages in ``messages``)."""

    def __init__(self, status: int, messages: list[str]) -> None:
        super().__init__(f"PrestaShop answered HTTP {status}: " + " / ".join(messages))
        self.status = status
        self.messages = messages


READ_RESOURCES = (
    "orders",
    "order_details",
    "customers",
    "addresses",
    "countries",
    "currencies",
    "order_states",
    "order_payments",
    "carriers",
)
"""Resources the order source reads: the webservice key needs GET on each."""


def local_text(value: datetime) -> str:
    """A naive wall-clock time as PrestaShop writes it."""
    return value.strftime("%Y-%m-%d %H:%M:%S")


def id_filter(values: Iterable[str]) -> str:
    """``[1|2|3]``: any of these values."""
    return "[" + "|".join(values) + "]"


def interval_filter(low: str, high: str) -> str:
    """``[low,high]``: an inclusive interval."""
    return f"[{low},{high}]"


class PrestaShopClient:
    """Reads webservice resources as lists of JSON records.

    Args:
        url: the shop's root (``https://shop.example.com``); ``/api/`` is added.
        key: the webservice key (Advanced parameters > Webservice).
        allow_insecure_http: accept an ``http://`` URL (the key then travels in clear: a loopback lab only).
        http: options for :class:`~connectors.http.HttpClient` (rate_limit, timeout, transport...).

    Raises:
        Fatal: the URL is not ``https://`` (and ``allow_insecure_http`` does not allow ``http://``).
    """

    def __init__(self, url: str, key: str, *, allow_insecure_http: bool = False, **http: Any) -> None:
        scheme = urlsplit(url.strip()).scheme.lower()
        if scheme != "https" and not (scheme == "http" and allow_insecure_http):
            # The URL itself is not repeated: it may carry a user and password.
            raise Fatal(
                "the PrestaShop shop URL is not an https:// URL: the webservice key is sent as basic auth "
                "and would travel in clear.",
                resolution='set url = "https://<the shop>" (the shop must serve HTTPS); only for a lab shop on '
                "loopback, allow plain http with allow_insecure_http = true.",
            )
        base = url.strip().rstrip("/")
        if not base.endswith("/api"):
            base += "/api"
        self.http = HttpClient(base + "/", platform="PrestaShop", secrets=[key], auth=(key, ""), **http)

    @property
    def stats(self) -> CallStats:
        """Requests sent so far (``calls``), retries and time spent."""
        return self.http.stats

    def close(self) -> None:
        self.http.close()

    def get(
        self,
        resource: str,
        *,
        display: str | Sequence[str] = "full",
        filters: Mapping[str, str] | None = None,
        sort: Sequence[str] = (),
        limit: tuple[int, int] | None = None,
        date: bool = False,
    ) -> list[dict[str, Any]]:
        """The records of ``resource`` matching ``filters`` (already formatted values)."""
        params: dict[str, str] = {
            "output_format": "JSON",
            "display": display if isinstance(display, str) else "[" + ",".join(display) + "]",
        }
        for name, value in (filters or {}).items():
            params[f"filter[{name}]"] = value
        if sort:
            params["sort"] = "[" + ",".join(sort) + "]"
        if limit is not None:
            params["limit"] = f"{limit[0]},{limit[1]}"
        if date:
            params["date"] = "1"
        response = self.http.request("GET", resource, params=params, expect=(401,))
        if response.status_code == 401:
            raise Fatal(
                f"PrestaShop refused the webservice key (HTTP 401) on {resource}.",
                resolution="check the key under Advanced parameters > Webservice: it must be enabled and "
                "allowed GET on " + ", ".join(READ_RESOURCES) + " for the order import (the other flows need the "
                "resources and methods docs/prestashop.md lists); and the webservice itself must be enabled.",
            )
        return _records(response, resource)

    def create(self, resource: str, record: dict[str, Any], *, params: Mapping[str, str] | None = None) -> str:
        """POST one record; returns the new id."""
        response = self._write("POST", resource, record, params)
        ident = answer_id(response.content)
        if ident is None:
            raise Retryable(f"PrestaShop created a {resource} record but its answer carries no id.")
        return ident

    def update(self, resource: str, ident: str, record: dict[str, Any]) -> None:
        """PUT the whole record (``record`` holds its ``id``)."""
        self._write("PUT", f"{resource}/{ident}", {"id": ident, **{k: v for k, v in record.items() if k != "id"}})

    def delete(self, resource: str, ident: str) -> None:
        response = self.http.request("DELETE", f"{resource}/{ident}", expect=_REFUSALS)
        self._check(response, resource)

    def _write(
        self, method: str, path: str, record: dict[str, Any], params: Mapping[str, str] | None = None
    ) -> httpx.Response:
        resource = path.split("/", 1)[0]
        try:
            response = self.http.request(
                method,
                path,
                content=to_xml(resource, record),
                headers={"Content-Type": "application/xml"},
                params=dict(params or {}),
                expect=_REFUSALS,
            )
        except RequestTooLarge as exc:  # one record per request: that record's refusal (nothing saved)
            raise WriteRefused(
                413,
                [
                    f"the web server refused the {resource} record as too large ({exc.size} bytes): raise its "
                    "request body limit (nginx client_max_body_size, Apache LimitRequestBody) and PHP's "
                    "post_max_size, or shorten the record"
                ],
            ) from None
        self._check(response, resource)
        return response

    def _check(self, response: httpx.Response, resource: str) -> None:
        status = response.status_code
        if status < 300:
            return
        if status == 401:
            raise Fatal(
                f"PrestaShop refused the webservice key (HTTP 401) on {resource}.",
                resolution="allow the key the methods docs/prestashop.md lists for each flow "
                "(Advanced parameters > Webservice).",
            )
        if status == 405 or status == 403:
            raise Fatal(
                f"PrestaShop does not allow this write on {resource} (HTTP {status}).",
                resolution=f"allow the key POST/PUT on {resource} (Advanced parameters > Webservice).",
            )
        messages = error_messages(response.content)
        if messages is None:
            if status >= 500:
                raise Retryable(f"PrestaShop: HTTP {status} on a {resource} write (no error document).")
            messages = [response.text[:300]]
        raise WriteRefused(status, messages)


def _records(response: httpx.Response, resource: str) -> list[dict[str, Any]]:
    try:
        data = response.json()
    except ValueError:
        raise Fatal(
            f"PrestaShop answered {resource} with something that is not JSON.",
            resolution="check the URL points at the shop root and that the webservice is enabled.",
        ) from None
    if isinstance(data, list):  # an empty answer is a bare []
        return []
    items = data.get(resource, [])
    return list(items) if isinstance(items, list) else [items]
