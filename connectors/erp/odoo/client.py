"""Odoo 16-18 external API client: JSON-RPC ``POST /jsonrpc`` (services ``common`` and ``object``).

``common.authenticate(db, login, api_key, {})`` gives the user id (``false`` for bad credentials);
every model call is ``object.execute_kw(db, uid, api_key, model, method, args, kwargs)``: the API
key travels as the password of each call, there is no session (tests/fixtures/contracts/odoo/
jsonrpc_contract.json, from Odoo's ``odoo/http.py`` and the external API documentation).

Errors come back with HTTP 200 as ``{"error": {"code": 200, "data": {"name": ...}}}``::

    odoo.exceptions.AccessDenied          -> Fatal (credentials)
    odoo.exceptions.AccessError           -> OdooError, not per record (the user's groups)
    ValidationError / UserError / MissingError -> OdooError.per_record (the values sent)
    psycopg2 serialization / lock errors  -> Retryable (Odoo's own retry gave up)
    anything else (unknown model, field)  -> OdooError (Fatal)
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from connectors.errors import Fatal, Retryable
from connectors.http import HttpClient, HttpError, paginate_offset

__all__ = ["OdooClient", "OdooError", "odoo_datetime", "parse_datetime"]

_READ_ONLY = {"search", "read", "search_read", "search_count", "fields_get", "read_group", "name_search"}
_PER_RECORD = {
    "odoo.exceptions.ValidationError",
    "odoo.exceptions.UserError",
    "odoo.exceptions.MissingError",
    "odoo.exceptions.RedirectWarning",
}
_RETRYABLE = ("psycopg2.errors.SerializationFailure", "psycopg2.errors.LockNotAvailable", "psycopg2.OperationalError")


class OdooError(Fatal):
    """Odoo refused a call; ``name`` is the exception class Odoo sent (``odoo.exceptions.UserError``)."""

    def __init__(self, message: str, *, name: str, resolution: str) -> None:
        super().__init__(message, resolution=resolution)
        self.name = name
        self.message = message

    @property
    def per_record(self) -> bool:
        """Odoo refused the values sent (a constraint, a business rule, a record gone), not the
        connection or the user's rights: a sink makes it the record's error."""
        return self.name in _PER_RECORD


def parse_datetime(value: Any) -> datetime | None:
    """An Odoo datetime (``'YYYY-MM-DD HH:MM:SS'``, UTC; ``false`` when empty) as aware UTC."""
    if not value:
        return None
    return datetime.strptime(str(value)[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)


def odoo_datetime(value: datetime) -> str:
    """Aware datetime -> Odoo's UTC string for domains and writes."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


class OdooClient:
    """An authenticated user of one Odoo database, over ``/jsonrpc``.

    Args:
        url: server root (``https://erp.example.com``).
        database: database name.
        login: the integration user's login.
        api_key: an API key of that user (Preferences > Account Security); never logged.
        language: ``lang`` of the calls' context (product names are translated).
        company_id: the company the calls work in (``allowed_company_ids``); None: the user's.
        http: options for :class:`~connectors.http.HttpClient` (``transport`` for tests).
    """

    platform = "Odoo"

    def __init__(
        self,
        url: str,
        database: str,
        *,
        login: str,
        api_key: str,
        language: str = "en_US",
        company_id: int | None = None,
        **http: Any,
    ) -> None:
        self.database = database
        self._login = login
        self._api_key = api_key
        self.context: dict[str, Any] = {"lang": language}
        if company_id is not None:
            self.context["allowed_company_ids"] = [company_id]
        self.http = HttpClient(url.rstrip("/") + "/", platform=self.platform, secrets=[api_key], **http)
        self._ids = itertools.count(1)
        self._uid: int | None = None
        self._fields: dict[str, set[str]] = {}

    @property
    def stats(self) -> Any:
        return self.http.stats

    def close(self) -> None:
        self.http.close()

    @property
    def uid(self) -> int:
        if self._uid is None:
            self._uid = self.authenticate()
        return self._uid

    def authenticate(self) -> int:
        """The user id of ``login``; a refusal is Fatal (Odoo answers ``false``, not an error)."""
        uid = self._rpc("common", "authenticate", [self.database, self._login, self._api_key, {}], idempotent=True)
        if not uid:
            raise Fatal(
                f"Odoo refused the login {self._login!r} on database {self.database!r}.",
                resolution="check the login and create a new API key for that user (Preferences > Account "
                "Security > New API Key); the key stands for the password in every call.",
            )
        return int(uid)

    def execute(
        self, model: str, method: str, *args: Any, context: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> Any:
        """``execute_kw(model, method, args, kwargs)`` with the client's context (plus ``context``)."""
        kwargs["context"] = {**self.context, **(context or {})}
        return self._rpc(
            "object",
            "execute_kw",
            [self.database, self.uid, self._api_key, model, method, list(args), kwargs],
            idempotent=method in _READ_ONLY,
        )

    def model(self, name: str) -> Model:
        return Model(self, name)

    def fields(self, model: str) -> set[str]:
        """Names of ``model``'s fields on this server (``fields_get``, once per model): how the
        connector tells Odoo 16, 17 and 18 apart field by field instead of by version number."""
        if model not in self._fields:
            self._fields[model] = set(self.execute(model, "fields_get", attributes=["type"]))
        return self._fields[model]

    def first_field(self, model: str, *names: str) -> str:
        """The first of ``names`` that ``model`` has (``tax_ids`` in 18.x SaaS, ``tax_id`` before)."""
        known = self.fields(model)
        for name in names:
            if name in known:
                return name
        raise Fatal(
            f"Odoo's {model} has none of the fields {', '.join(names)}.",
            resolution="install the module that provides them, or report the Odoo version (docs/odoo.md).",
        )

    def _rpc(self, service: str, method: str, args: list[Any], *, idempotent: bool) -> Any:
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": next(self._ids),
            "params": {"service": service, "method": method, "args": args},
        }
        try:
            response = self.http.request("POST", "jsonrpc", json=payload, idempotent=idempotent)
        except HttpError as exc:
            if exc.status == 404:
                raise Fatal(
                    f"no Odoo JSON-RPC endpoint at {self.http.base_url}jsonrpc (HTTP 404).",
                    resolution="check the connection's url (the server root, without /web or /odoo).",
                ) from None
            raise
        try:
            body = response.json()
        except ValueError:
            raise Retryable(
                f"Odoo answered a non-JSON body to {service}.{method} (HTTP {response.status_code})."
            ) from None
        if body.get("error") is not None:
            raise self._error(
                args[3] if service == "object" else service, args[4] if service == "object" else method, body["error"]
            )
        return body.get("result")

    def _error(self, model: str, method: str, error: Mapping[str, Any]) -> Exception:
        data = error.get("data") or {}
        name = str(data.get("name") or error.get("message") or "error")
        message = self.http.redact(str(data.get("message") or error.get("message") or name))
        where = f"{model}.{method}"
        if error.get("code") == 100:  # SessionExpiredException: never for /jsonrpc with a key, but mapped
            return Fatal(
                f"Odoo said the session expired on {where}.", resolution="check the API key of the connection."
            )
        if error.get("code") == 404:
            return Fatal(f"Odoo has no route for {where}.", resolution="check the connection's url.")
        if name == "odoo.exceptions.AccessDenied":
            return Fatal(
                f"Odoo refused the credentials on {where}.",
                resolution="create a new API key for the integration user (an API key expires or is revoked).",
            )
        if name.startswith(_RETRYABLE) or "could not serialize access" in message:
            return Retryable(f"Odoo {name} on {where}: {message}")
        if name == "odoo.exceptions.AccessError":
            return OdooError(
                f"Odoo {name} on {where}: {message}",
                name=name,
                resolution="give the integration user the groups docs/odoo.md lists for this flow.",
            )
        return OdooError(
            f"Odoo {name} on {where}: {message}",
            name=name,
            resolution="read Odoo's message: it names the record and the rule that refused it.",
        )


class Model:
    """``client.model("product.product").search_read(domain, fields)`` and friends."""

    def __init__(self, client: OdooClient, name: str) -> None:
        self.client = client
        self.name = name

    def __call__(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """Any public method (``action_confirm``, ``action_post``...) on the model."""
        return self.client.execute(self.name, method, *args, **kwargs)

    def search_read(
        self,
        domain: Sequence[Any],
        fields: Sequence[str],
        *,
        offset: int = 0,
        limit: int | None = None,
        order: str = "id asc",
        context: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {"fields": list(fields), "offset": offset, "order": order}
        if limit is not None:
            kwargs["limit"] = limit
        return self.client.execute(self.name, "search_read", list(domain), context=context, **kwargs)

    def iter_search_read(
        self,
        domain: Sequence[Any],
        fields: Sequence[str],
        *,
        page_size: int = 500,
        context: Mapping[str, Any] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every matching record, page after page, by id (stable pagination, loops detected)."""
        return paginate_offset(
            lambda offset, limit: self.search_read(domain, fields, offset=offset, limit=limit, context=context),
            page_size=page_size,
            key=lambda r: r["id"],
        )

    def read(
        self, ids: Sequence[int], fields: Sequence[str], *, context: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        if not ids:
            return []
        return self.client.execute(self.name, "read", list(ids), fields=list(fields), context=context)

    def search(
        self, domain: Sequence[Any], *, limit: int | None = None, context: Mapping[str, Any] | None = None
    ) -> list[int]:
        kwargs: dict[str, Any] = {"order": "id asc"}
        if limit is not None:
            kwargs["limit"] = limit
        return self.client.execute(self.name, "search", list(domain), context=context, **kwargs)

    def create(self, values: Mapping[str, Any], *, context: Mapping[str, Any] | None = None) -> int:
        """One record; Odoo 17+ answers a list for a list of values, an id for one dict."""
        result = self.client.execute(self.name, "create", dict(values), context=context)
        return int(result[0] if isinstance(result, list) else result)

    def write(self, ids: Sequence[int], values: Mapping[str, Any], *, context: Mapping[str, Any] | None = None) -> bool:
        return bool(self.client.execute(self.name, "write", list(ids), dict(values), context=context))


def m2o_id(value: Any) -> int | None:
    """The id of a many2one as read (``[id, "name"]`` or ``false``)."""
    if isinstance(value, list | tuple) and value:
        return int(value[0])
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def m2o_name(value: Any) -> str | None:
    """The display name of a many2one as read."""
    if isinstance(value, list | tuple) and len(value) > 1:
        return str(value[1])
    return None


__all__ += ["Model", "m2o_id", "m2o_name"]
