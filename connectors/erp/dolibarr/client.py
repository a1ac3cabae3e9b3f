"""Dolibarr REST client (``/api/index.php``) through the one HTTP layer (:mod:`connectors.http`).

Auth is the ``DOLAPIKEY`` header (never a URL parameter: it would reach access logs); the key is
redacted from every message. Lists page with ``limit`` / ``page`` (0-based) sorted by
``t.rowid``; Dolibarr answers an empty list with **404** ("No product found",
``api_products.class.php`` ``index()``), so a 404 on a list page is its end, not an error.
401 (no key, bad key, or a permission the user lacks: Dolibarr 19 throws ``RestException(401)``
on missing rights) is a Fatal naming the permissions; 5xx / 429 / timeouts are Retryable (a POST
is never sent again in place), except a write's 500 that carries Dolibarr's own error (a refusal
of that record, :meth:`DolibarrClient._write`); other 4xx are Fatal (``HttpError``, its body kept
for records).

Details: docs/dolibarr.md (Requests and errors).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

from connectors.errors import Fatal, Retryable
from connectors.http import CallStats, HttpClient, HttpError, paginate_offset

__all__ = ["DolibarrClient", "quote_filter", "sql_any"]

API_PATH = "/api/index.php/"


def quote_filter(value: str) -> str:
    """A value inside Dolibarr's ``sqlfilters`` (``'...'``); parentheses and quotes cannot travel
    there (Dolibarr's criteria regex stops at ``(``/``)``, ``DolibarrApi::_checkFilters``)."""
    if any(c in value for c in "()'"):
        raise ValueError(f"{value!r} cannot be searched with Dolibarr sqlfilters (parentheses or quotes)")
    return f"'{value}'"


def sql_any(field: str, values: list[str]) -> str:
    """``(t.ref_ext:=:'a') or (t.ref_ext:=:'b')``: any of these values."""
    return " or ".join(f"({field}:=:{quote_filter(v)})" for v in values)


class DolibarrClient:
    """JSON reads and writes on one Dolibarr.

    Args:
        url: the Dolibarr root (``https://erp.example.com`` or ``.../dolibarr``); ``/api/index.php`` is added.
        api_key: the API key of the Dolibarr user passerelle works as (docs/dolibarr.md: permissions).
        http: options for :class:`~connectors.http.HttpClient` (rate_limit, timeout, transport...).
    """

    def __init__(self, url: str, api_key: str, **http: Any) -> None:
        if not api_key:
            raise Fatal("the Dolibarr connection has no API key.", resolution='set api_key = "env:DOLIBARR_API_KEY".')
        base = url.rstrip("/")
        if not base.endswith("/api/index.php"):
            base += API_PATH.rstrip("/")
        self.http = HttpClient(
            base + "/",
            platform="Dolibarr",
            headers={"DOLAPIKEY": api_key, "Accept": "application/json"},
            secrets=[api_key],
            **http,
        )

    @property
    def stats(self) -> CallStats:
        return self.http.stats

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self._json(self.http.request("GET", path.lstrip("/"), params=_params(params)))

    def find(self, path: str, params: Mapping[str, Any] | None = None) -> Any | None:
        """A record by a lookup route (``thirdparties/email/x``); None on Dolibarr's 404."""
        response = self.http.request("GET", path.lstrip("/"), params=_params(params), expect=(404,))
        return None if response.status_code == 404 else self._json(response)

    def post(self, path: str, body: Any | None = None) -> Any:
        return self._write("POST", path, body)

    def put(self, path: str, body: Any | None = None) -> Any:
        return self._write("PUT", path, body)

    def _write(self, method: str, path: str, body: Any | None) -> Any:
        """A write; a 500 carrying Dolibarr's own error (``RestException``: ``{"error": {"code",
        "message"}}``, what ``api_orders.class.php`` ``post()`` throws as "Error creating order" when
        the object refuses itself) is an :class:`HttpError` for that record, never sent again blindly;
        a 500 without it (a crash, a proxy's page) stays transient."""
        response = self.http.request(method, path.lstrip("/"), json=body if body is not None else {}, expect=(500,))
        if response.status_code == 500:
            message = _rest_error(response)
            if message is None:
                raise Retryable(f"Dolibarr: HTTP 500 on {method} {path}: the server failed (no Dolibarr error)")
            raise HttpError(
                f"Dolibarr refused {method} {path}: {message}.",
                status=500,
                body=self.http.redact(response.text[:2000]),
                resolution="the record's error (quarantined): Dolibarr's message says what it refused.",
            )
        return self._json(response)

    def delete(self, path: str) -> Any:
        return self._json(self.http.request("DELETE", path.lstrip("/")))

    def iter_list(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        page_size: int = 100,
        sqlfilters: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every record of a list route, by ``t.rowid`` ascending, ``page_size`` per request."""
        base = {"sortfield": "t.rowid", "sortorder": "ASC", **(params or {})}
        if sqlfilters:
            base["sqlfilters"] = sqlfilters

        def fetch(offset: int, limit: int) -> list[dict[str, Any]]:
            query = {**base, "limit": limit, "page": offset // limit}
            response = self.http.request("GET", path.lstrip("/"), params=_params(query), expect=(404,))
            if response.status_code == 404:  # Dolibarr's answer to an empty page (see module docstring)
                return []
            rows = self._json(response)
            if isinstance(rows, dict) and "data" in rows:  # pagination_data=true wraps the list
                rows = rows["data"]
            if not isinstance(rows, list):
                raise Fatal(
                    f"Dolibarr answered GET {path} with {type(rows).__name__}, not a list.",
                    resolution="check the base URL points at Dolibarr's root (the one that serves /api/index.php).",
                )
            return rows

        yield from paginate_offset(fetch, page_size=page_size, key=lambda row: row.get("id"))

    def status(self) -> dict[str, Any]:
        """``GET /status``: the server's version (``success.dolibarr_version``)."""
        answer = self.get("status")
        return dict(answer.get("success") or {})

    def _json(self, response: Any) -> Any:
        try:
            return response.json()
        except ValueError:
            raise HttpError(
                f"Dolibarr answered {response.request.method} {response.request.url.path} with no JSON.",
                status=response.status_code,
                body=self.http.redact(response.text[:2000]),
                resolution="check the base URL and that the API module is enabled (Home > Setup > Modules).",
            ) from None


def _rest_error(response: Any) -> str | None:
    """The message of Dolibarr's RestException answer (``{"error": {"code": 500, "message": ...}}``), else None."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return None
    return str(error["message"]) if isinstance(error, dict) and error.get("message") else None


def _params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return {k: v for k, v in params.items() if v is not None} if params else None


def path_part(value: str) -> str:
    """A value placed in a URL path (``thirdparties/email/<email>``)."""
    return quote(value, safe="")
