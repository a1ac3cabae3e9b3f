"""Tryton JSON-RPC client (Tryton 7/8: ``POST /<database>/rpc/``).

Login with ``common.db.login`` gives ``[user_id, session]``; later calls carry
``Authorization: Session base64(login:user_id:session)`` and end with the user context from
``model.res.user.get_preferences``. Decimal, date, datetime and bytes travel as
``{"__class__": ...}`` objects (see ../shared/contracts/tryton-8.2).
Errors come back with HTTP 200 as ``{"error": [name, args]}``.
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from connectors.errors import Fatal, Retryable
from connectors.http import HttpClient, HttpError, paginate_offset

__all__ = ["TrytonClient", "TrytonError", "decode", "encode"]


class TrytonError(Fatal):
    """Tryton refused a call (UserError, AccessError...): the message is Tryton's own."""

    def __init__(self, message: str, *, kind: str, resolution: str) -> None:
        super().__init__(message, resolution=resolution)
        self.kind = kind
        self.message = message

    @property
    def per_record(self) -> bool:
        """Tryton refused the values sent, not the connection: a ``UserError`` (validation errors,
        access rules: ``trytond/exceptions.py`` sends every subclass under that name) or a
        ``UserWarning``. A sink makes it the record's error; anything else (an unknown model, a
        server error) stays :class:`Fatal`."""
        return self.kind in ("UserError", "UserWarning")


def encode(value: Any) -> Any:
    """Python -> Tryton JSON (Decimal, datetime, date, time, timedelta, bytes as ``__class__`` objects)."""
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, datetime):
        if value.tzinfo is not None:  # Tryton stores naive UTC
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return {
            "__class__": "datetime",
            "year": value.year,
            "month": value.month,
            "day": value.day,
            "hour": value.hour,
            "minute": value.minute,
            "second": value.second,
            "microsecond": value.microsecond,
        }
    if isinstance(value, date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, time):
        return {
            "__class__": "time",
            "hour": value.hour,
            "minute": value.minute,
            "second": value.second,
            "microsecond": value.microsecond,
        }
    if isinstance(value, timedelta):
        return {"__class__": "timedelta", "seconds": value.total_seconds()}
    if isinstance(value, bytes):
        return {"__class__": "bytes", "base64": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    return value


def decode(value: Any) -> Any:
    """Tryton JSON -> Python; datetimes come back aware UTC (Tryton stores UTC)."""
    if isinstance(value, dict):
        cls = value.get("__class__")
        if cls == "Decimal":
            return Decimal(value["decimal"])
        if cls == "datetime":
            return datetime(
                value["year"],
                value["month"],
                value["day"],
                value.get("hour", 0),
                value.get("minute", 0),
                value.get("second", 0),
                value.get("microsecond", 0),
                tzinfo=timezone.utc,
            )
        if cls == "date":
            return date(value["year"], value["month"], value["day"])
        if cls == "time":
            return time(
                value.get("hour", 0), value.get("minute", 0), value.get("second", 0), value.get("microsecond", 0)
            )
        if cls == "timedelta":
            return timedelta(seconds=value["seconds"])
        if cls == "bytes":
            return base64.b64decode(value["base64"])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


_RETRYABLE_ERRORS = {"DatabaseOperationalError", "ConcurrencyException", "TimeoutException", "RateLimitException"}


class TrytonClient:
    """A logged-in JSON-RPC session on one Tryton database.

    Args:
        url: server root (``https://erp.example.com/``).
        database: database name.
        login / password: a Tryton user allowed to read products (and write sales for orders).
        language: language code of the session (product names are translated).
        http: options for :class:`~connectors.http.HttpClient`.
    """

    platform = "Tryton"

    def __init__(
        self, url: str, database: str, *, login: str, password: str, language: str = "en", **http: Any
    ) -> None:
        self.database = database
        self._login = login
        self._password = password
        self.language = language
        self.http = HttpClient(url.rstrip("/") + "/", platform=self.platform, secrets=[password], **http)
        self._ids = itertools.count(1)
        self._session: str | None = None
        self.context: dict[str, Any] = {}

    @property
    def stats(self) -> Any:
        return self.http.stats

    def close(self) -> None:
        self.http.close()

    # -- session -----------------------------------------------------------------------------
    def login(self) -> None:
        try:
            result = self._rpc(
                "common.db.login", [self._login, {"password": self._password}, self.language], authenticated=False
            )
        except HttpError as exc:
            if exc.status in (401, 403):
                raise Fatal(
                    f"Tryton refused the login of {self._login!r} on database {self.database!r}.",
                    resolution="check the Tryton user name and password of this connection.",
                ) from None
            raise
        user_id, session = result[0], result[1]
        token = base64.b64encode(f"{self._login}:{user_id}:{session}".encode()).decode()
        self.http.set_header("Authorization", f"Session {token}")
        self._session = session
        self.context = self._rpc("model.res.user.get_preferences", [True, {}])

    def call(self, method: str, *params: Any, context: Mapping[str, Any] | None = None) -> Any:
        """Call ``model.<name>.<method>`` (or a wizard / report); the context is appended.

        ``context`` adds keys for this call only, over the session's (stock quantities, for
        example, are computed for the ``locations`` and ``stock_date_end`` of the context).
        """
        if self._session is None:
            self.login()
        try:
            return self._rpc(method, [*params, {**self.context, **(context or {})}])
        except HttpError as exc:
            if exc.status not in (401, 403):
                raise
            self.login()  # the session expired: log in again once
            return self._rpc(method, [*params, {**self.context, **(context or {})}])

    def model(self, name: str) -> Model:
        return Model(self, name)

    def _rpc(self, method: str, params: list[Any], *, authenticated: bool = True) -> Any:
        request_id = next(self._ids)
        read_only = method.rsplit(".", 1)[-1] in {
            "search",
            "read",
            "search_read",
            "search_count",
            "fields_get",
            "get_preferences",
            "version",
            "list",
        }
        response = self.http.request(
            "POST",
            f"{self.database}/rpc/",
            json={"id": request_id, "method": method, "params": encode(params)},
            idempotent=read_only,
        )
        try:
            body = response.json()
        except ValueError:
            raise Retryable(f"Tryton answered a non-JSON body to {method} (HTTP {response.status_code}).") from None
        if body.get("error") is not None:
            raise self._error(method, body["error"])
        return decode(body.get("result"))

    def _error(self, method: str, error: Any) -> Exception:
        kind = str(error[0]) if isinstance(error, list) and error else "Error"
        detail = error[1] if isinstance(error, list) and len(error) > 1 else ""
        if isinstance(detail, list) and detail:
            message = " ".join(str(d) for d in detail[:2] if d)
        else:
            message = str(detail or kind)
        if kind in _RETRYABLE_ERRORS:
            return Retryable(self.http.redact(f"Tryton {kind} on {method}: {message}"))
        if kind.startswith("'") or kind == "KeyError":
            return TrytonError(
                f"Tryton does not know {kind} (called {method}).",
                kind=kind,
                resolution="activate the Tryton module that provides it (deployments/sandbox/tryton/requirements.txt lists the ones passerelle uses).",
            )
        return TrytonError(
            self.http.redact(f"Tryton {kind} on {method}: {message}"),
            kind=kind,
            resolution="read Tryton's message: it names the record and the rule that refused it.",
        )


class Model:
    """Convenience wrapper: ``client.model("product.product").search_read(...)``.

    ``search_read``, ``iter_search_read`` and ``read`` take an optional ``context`` merged over
    the session's for that call; other methods (``create``, ``write``, buttons) go through
    attribute access with the session context.
    """

    def __init__(self, client: TrytonClient, name: str) -> None:
        self.client = client
        self.name = name

    def __getattr__(self, method: str) -> Any:
        def call(*params: Any) -> Any:
            return self.client.call(f"model.{self.name}.{method}", *params)

        return call

    def search_read(
        self,
        domain: Sequence[Any],
        fields: Sequence[str],
        *,
        offset: int = 0,
        limit: int | None = None,
        order: Sequence[tuple[str, str]] | None = (("id", "ASC"),),
        context: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        return self.client.call(
            f"model.{self.name}.search_read",
            list(domain),
            offset,
            limit,
            [list(o) for o in order] if order else None,
            list(fields),
            context=context,
        )

    def read(
        self, ids: Sequence[int], fields: Sequence[str], *, context: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Rows of ``ids`` (in Tryton's order, which need not be the order of ``ids``)."""
        return self.client.call(f"model.{self.name}.read", list(ids), list(fields), context=context)

    def iter_search_read(
        self,
        domain: Sequence[Any],
        fields: Sequence[str],
        *,
        page_size: int = 1000,
        context: Mapping[str, Any] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every matching record, page after page, ordered by id (stable pagination)."""
        return paginate_offset(
            lambda offset, limit: self.search_read(domain, fields, offset=offset, limit=limit, context=context),
            page_size=page_size,
            key=lambda r: r["id"],
        )
