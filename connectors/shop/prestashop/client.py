"""PrestaShop 8 webservice client: JSON reads through the one HTTP layer (:mod:`connectors.http`).

The webservice lives at ``<shop>/api/``; the key is the basic-auth user (empty password). Reads
ask ``output_format=JSON`` and ``display=full`` (or a ``[f1,f2]`` field list); filters are
``filter[field]=[a|b]`` (values) or ``filter[field]=[a,b]`` (an inclusive interval; dates need
``date=1``); ``sort=[date_upd_ASC,id_ASC]``; ``limit=offset,count``. An empty list answers ``[]``
instead of ``{"orders": []}``.

Errors: 401 -> Fatal naming the permissions the key needs; 5xx, 429, timeouts -> Retryable
(retried in place first, reads are idempotent); other 4xx -> Fatal (:class:`~connectors.http.HttpError`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx

from connectors.errors import Fatal
from connectors.http import HttpClient

__all__ = ["READ_RESOURCES", "PrestaShopClient", "id_filter", "interval_filter", "local_text"]

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
        http: options for :class:`~connectors.http.HttpClient` (rate_limit, timeout, transport...).
    """

    def __init__(self, url: str, key: str, **http: Any) -> None:
        base = url.rstrip("/")
        if not base.endswith("/api"):
            base += "/api"
        self.http = HttpClient(base + "/", platform="PrestaShop", secrets=[key], auth=(key, ""), **http)

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
                "allowed GET on " + ", ".join(READ_RESOURCES) + "; and the webservice itself must be enabled.",
            )
        return _records(response, resource)


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
