"""Vendure Admin API client: GraphQL over the shared HTTP layer.

Authentication: the ``login`` mutation answers with a ``vendure-auth-token`` header that is
then sent as a Bearer token; an expired session (``FORBIDDEN``) logs in again once.

Batching: :meth:`VendureClient.batch` sends many aliased operations in one document (Vendure
runs the mutations of a document one after the other) and returns, per alias, either the data
or the error, so one refused product does not fail its neighbours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from connectors.errors import Fatal, Retryable
from connectors.http import HttpClient

__all__ = ["GraphQLError", "Operation", "VendureClient"]


class GraphQLError(Fatal):
    """The whole document was refused (validation error, unknown field, server error)."""


@dataclass(slots=True)
class Operation:
    """One aliased field of a batch document: ``alias: field(arg: $var) { selection }``."""

    alias: str
    field: str
    args: dict[str, tuple[str, Any]]
    """argument name -> (GraphQL type of its variable, value)."""
    selection: str = ""


@dataclass(slots=True)
class BatchAnswer:
    data: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def build_document(kind: str, operations: Sequence[Operation]) -> tuple[str, dict[str, Any]]:
    """A ``mutation``/``query`` document with one variable per argument (values never inlined)."""
    declarations: list[str] = []
    fields: list[str] = []
    variables: dict[str, Any] = {}
    for op in operations:
        args: list[str] = []
        for name, (gql_type, value) in op.args.items():
            var = f"{op.alias}_{name}"
            declarations.append(f"${var}: {gql_type}")
            args.append(f"{name}: ${var}")
            variables[var] = value
        call = f"{op.field}({', '.join(args)})" if args else op.field
        fields.append(f"  {op.alias}: {call}" + (f" {{ {op.selection} }}" if op.selection else ""))
    header = f"{kind} Batch" + (f"({', '.join(declarations)})" if declarations else "")
    return header + " {\n" + "\n".join(fields) + "\n}", variables


class VendureClient:
    """GraphQL client of one Vendure Admin API.

    Args:
        url: the Admin API endpoint (``https://shop.example/admin-api``).
        username / password: an administrator with the Catalog and Order permissions.
        channel_token: the channel to work in (default channel when None).
        http: options for :class:`~connectors.http.HttpClient` (rate limit, timeout, transport).
    """

    platform = "Vendure"

    def __init__(
        self,
        url: str,
        *,
        username: str,
        password: str,
        channel_token: str | None = None,
        **http: Any,
    ) -> None:
        self._username = username
        self._password = password
        headers = {"Content-Type": "application/json"}
        if channel_token:
            headers["vendure-token"] = channel_token
        self.http = HttpClient(url, platform=self.platform, headers=headers, secrets=[password], **http)
        self._logged_in = False

    @property
    def stats(self) -> Any:
        return self.http.stats

    def close(self) -> None:
        self.http.close()

    # -- transport ---------------------------------------------------------------------------
    def login(self) -> None:
        response = self._post(
            "mutation Login($u: String!, $p: String!) { login(username: $u, password: $p) "
            "{ __typename ... on CurrentUser { id } ... on ErrorResult { errorCode message } } }",
            {"u": self._username, "p": self._password},
            authenticated=False,
        )
        body = response.json()
        result = (body.get("data") or {}).get("login") or {}
        token = response.headers.get("vendure-auth-token")
        if result.get("__typename") != "CurrentUser" or not token:
            raise Fatal(
                f"Vendure refused the login of {self._username!r}: {result.get('message') or body.get('errors')}.",
                resolution="check the Vendure administrator user name and password of this connection.",
            )
        self.http.set_header("Authorization", f"Bearer {token}")
        self._logged_in = True

    def _post(
        self, query: str, variables: dict[str, Any], *, authenticated: bool = True, idempotent: bool = False
    ) -> httpx.Response:
        if authenticated and not self._logged_in:
            self.login()
        # GraphQL validation errors come back as HTTP 400 with a JSON body: read them, do not raise.
        return self.http.request(
            "POST", "", json={"query": query, "variables": variables}, idempotent=idempotent, expect=(400,)
        )

    def execute(
        self, query: str, variables: dict[str, Any] | None = None, *, idempotent: bool = False
    ) -> dict[str, Any]:
        """Run one document; any GraphQL error fails the call (use :meth:`batch` for partial results)."""
        body = self._json(query, variables or {}, idempotent=idempotent)
        if body.get("errors"):
            raise self._document_error(body["errors"])
        return body.get("data") or {}

    def query(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """A read: safe to retry in place on 5xx and timeouts."""
        return self.execute(query, variables, idempotent=True)

    def batch(self, kind: str, operations: Sequence[Operation]) -> BatchAnswer:
        """Send aliased operations in one document; errors are reported per alias."""
        answer = BatchAnswer()
        if not operations:
            return answer
        document, variables = build_document(kind, operations)
        body = self._json(document, variables, idempotent=kind == "query")
        data = body.get("data") or {}
        aliases = {op.alias for op in operations}
        global_errors: list[dict[str, Any]] = []
        for error in body.get("errors") or []:
            path = error.get("path") or []
            if path and path[0] in aliases:
                answer.errors.setdefault(path[0], _message(error))
            else:
                global_errors.append(error)
        if global_errors and not data:
            raise self._document_error(global_errors)
        for alias in aliases:
            value = data.get(alias)
            if alias in answer.errors:
                continue
            if isinstance(value, dict) and "errorCode" in value:  # an ErrorResult union member
                answer.errors[alias] = f"{value.get('errorCode')}: {value.get('message')}"
            elif value is None and global_errors:
                answer.errors[alias] = "; ".join(_message(e) for e in global_errors)
            elif value is None:
                # Vendure stops a document at the first failing mutation and answers data: null:
                # earlier ones may have been applied (the next run finds them by slug / SKU),
                # later ones did not run. Neither is a success.
                answer.errors[alias] = "no answer: the batch stopped at another operation's error"
            else:
                answer.data[alias] = value
        return answer

    def _json(self, query: str, variables: dict[str, Any], *, idempotent: bool) -> dict[str, Any]:
        for attempt in (1, 2):
            response = self._post(query, variables, idempotent=idempotent)
            try:
                body = response.json()
            except ValueError:
                raise Retryable(f"Vendure answered a non-JSON body (HTTP {response.status_code}).") from None
            codes = {((e.get("extensions") or {}).get("code")) for e in body.get("errors") or []}
            if "FORBIDDEN" in codes and not body.get("data") and attempt == 1:
                self._logged_in = False  # the session expired: log in again once
                continue
            return body
        raise Fatal(
            "Vendure answered FORBIDDEN after a fresh login.",
            resolution="give the administrator of this connection the Catalog and Order permissions on the channel.",
        )

    def _document_error(self, errors: list[dict[str, Any]]) -> Fatal | Retryable:
        messages = "; ".join(_message(e) for e in errors[:5])
        codes = {((e.get("extensions") or {}).get("code")) for e in errors}
        if "FORBIDDEN" in codes:
            return Fatal(
                f"Vendure refused the request: {messages}.",
                resolution="give the administrator of this connection the needed permissions on the channel.",
            )
        if "INTERNAL_SERVER_ERROR" in codes:
            return Retryable(self.http.redact(f"Vendure internal error: {messages}"))
        return GraphQLError(
            self.http.redact(f"Vendure refused the GraphQL document: {messages}."),
            resolution="the server's schema differs from what passerelle expects: check the Vendure version "
            "(3.x supported) and the custom fields named in the configuration.",
        )


def _message(error: dict[str, Any]) -> str:
    message = str(error.get("message", "unknown error"))
    code = (error.get("extensions") or {}).get("code")
    return f"{code}: {message}" if code else message
