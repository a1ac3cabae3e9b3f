"""Vendure Admin API client: GraphQL over the shared HTTP layer.

Authentication: the ``login`` mutation answers with a ``vendure-auth-token`` header that is
then sent as a Bearer token; an expired session (``FORBIDDEN``) logs in again once.

Batching: :meth:`VendureClient.batch` sends many aliased operations in one document (Vendure
runs the mutations of a document one after the other) and returns, per alias, either the data
or the error, so one refused product does not fail its neighbours.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from connectors.errors import Fatal, RequestTooLarge, Retryable
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
    lost: set[str] = field(default_factory=set)
    """Aliases Vendure applied without answering (a later field of their document failed)."""


_DOCUMENT_OVERHEAD = 200
DEFAULT_MAX_REQUEST_BYTES = 90_000
"""Vendure reads request bodies with body-parser's default limit of 100 kB and answers an HTTP 500
with an empty message beyond it (measured on 3.7.3: a 101 000-byte body read, 150 000 refused)."""


def _size(op: Operation) -> int:
    """About what ``op`` adds to a document's JSON body (its variables and its line)."""
    values = json.dumps({name: value for name, (_, value) in op.args.items()}, separators=(",", ":"), default=str)
    return len(values.encode()) + len(op.alias) * 2 + len(op.field) + len(op.selection) + 40 * len(op.args)


def _join(answer: BatchAnswer, alias: str, pieces: list[str]) -> None:
    """The answer of a split operation from its parts' answers (lists joined in order)."""
    errors = [answer.errors.pop(p) for p in pieces if p in answer.errors]
    values = [answer.data.pop(p) for p in pieces if p in answer.data]
    lost = [p for p in pieces if p in answer.lost]
    answer.lost.difference_update(pieces)
    if errors:
        answer.errors[alias] = errors[0]
    elif lost:
        answer.lost.add(alias)
    else:
        answer.data[alias] = [item for value in values for item in (value or [])]


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
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
        **http: Any,
    ) -> None:
        self.max_request_bytes = max_request_bytes
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
        # A write's HTTP 500 is read too: Vendure's way of refusing a body over its limit (below).
        return self.http.request(
            "POST",
            "",
            json={"query": query, "variables": variables},
            idempotent=idempotent,
            expect=(400,) if idempotent else (400, 500),
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
        """Send aliased operations in as few documents as fit ``max_request_bytes``; errors are
        reported per alias.

        Vendure runs a mutation document's fields one after the other and stops at the first that
        throws: the answer is ``data: null``, the fields before it were applied (their answers are
        lost: ``BatchAnswer.lost``), the ones after it never ran and are sent again in a new
        document, so one refused operation does not fail the others. An operation too large for one
        request whose only argument is a list (``createProductVariants``) is sent in parts, and
        its answers joined again.
        """
        answer = BatchAnswer()
        parts: dict[str, list[str]] = {}
        expanded: list[Operation] = []
        for op in operations:
            pieces = self._split(op)
            if len(pieces) > 1:
                parts[op.alias] = [p.alias for p in pieces]
            expanded.extend(pieces)
        for chunk in self._chunks(expanded):
            self._document(kind, chunk, answer)
        for alias, part_aliases in parts.items():
            _join(answer, alias, part_aliases)
        return answer

    def _document(self, kind: str, operations: list[Operation], answer: BatchAnswer) -> None:
        """One document; what it did not run is sent again, what is too large goes in halves."""
        if not operations:
            return
        document, variables = build_document(kind, operations)
        try:
            body = self._json(document, variables, idempotent=kind == "query")
        except RequestTooLarge:
            # The server's limit is lower than max_request_bytes: it read nothing, send halves.
            if len(operations) == 1:
                raise
            self.max_request_bytes = max(1_000, len(document.encode()) // 2)
            half = len(operations) // 2
            self._document(kind, operations[:half], answer)
            self._document(kind, operations[half:], answer)
            return
        data = body.get("data") or {}
        order = [op.alias for op in operations]
        global_errors: list[dict[str, Any]] = []
        errors: dict[str, str] = {}
        for error in body.get("errors") or []:
            path = error.get("path") or []
            if path and path[0] in order:
                errors.setdefault(path[0], _message(error))
            else:
                global_errors.append(error)
        if global_errors and not data:
            raise self._document_error(global_errors)
        answer.errors.update(errors)
        stopped_at: int | None = None
        if body.get("data") is None and errors:
            stopped_at = min(order.index(alias) for alias in errors)
        for index, alias in enumerate(order):
            value = data.get(alias)
            if alias in errors:
                continue
            if isinstance(value, dict) and "errorCode" in value:  # an ErrorResult union member
                answer.errors[alias] = f"{value.get('errorCode')}: {value.get('message')}"
            elif stopped_at is not None and kind == "mutation" and index < stopped_at:
                answer.lost.add(alias)  # applied before the failing field; Vendure dropped its answer
            elif stopped_at is not None:
                continue  # never ran (or a read): sent again below
            elif value is None and global_errors:
                answer.errors[alias] = "; ".join(_message(e) for e in global_errors)
            elif value is None:
                answer.errors[alias] = "no answer from Vendure"
            else:
                answer.data[alias] = value
        if stopped_at is not None:
            rest = [
                op for i, op in enumerate(operations) if op.alias not in errors and (i > stopped_at or kind == "query")
            ]
            self._document(kind, rest, answer)

    def _split(self, op: Operation) -> list[Operation]:
        """``op`` in parts that each fit a request, when its only argument is a list; else ``[op]``."""
        if len(op.args) != 1 or _size(op) <= self.max_request_bytes:
            return [op]
        ((name, (gql_type, value)),) = op.args.items()
        if not isinstance(value, list) or len(value) < 2:
            return [op]
        groups: list[list[Any]] = [[]]
        room = self.max_request_bytes - _DOCUMENT_OVERHEAD - _size(replace(op, args={name: (gql_type, [])}))
        used = 0
        for item in value:
            item_size = len(json.dumps(item, separators=(",", ":"), default=str).encode()) + 1
            if groups[-1] and used + item_size > room:
                groups.append([])
                used = 0
            groups[-1].append(item)
            used += item_size
        return [
            Operation(f"{op.alias}__{n}", op.field, {name: (gql_type, g)}, op.selection) for n, g in enumerate(groups)
        ]

    def _chunks(self, operations: list[Operation]) -> Iterator[list[Operation]]:
        """Consecutive operations grouped so that each document stays under ``max_request_bytes``."""
        chunk: list[Operation] = []
        size = _DOCUMENT_OVERHEAD
        for op in operations:
            op_size = _size(op)
            if chunk and size + op_size > self.max_request_bytes:
                yield chunk
                chunk, size = [], _DOCUMENT_OVERHEAD
            chunk.append(op)
            size += op_size
        if chunk:
            yield chunk

    def _json(self, query: str, variables: dict[str, Any], *, idempotent: bool) -> dict[str, Any]:
        for attempt in (1, 2):
            response = self._post(query, variables, idempotent=idempotent)
            try:
                body = response.json()
            except ValueError:
                raise Retryable(f"Vendure answered a non-JSON body (HTTP {response.status_code}).") from None
            if response.status_code == 500 and "statusCode" in body and "data" not in body:
                raise _outside_graphql(body, len(response.request.content))
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


_TOO_LARGE_FROM = 16_384
"""Bodies from this size answered by an empty HTTP 500 are taken as over the server's limit."""


def _outside_graphql(body: dict[str, Any], size: int) -> RequestTooLarge | Retryable:
    """An HTTP 500 in NestJS's envelope (``{"statusCode": 500, "message": ""}``), not GraphQL's: the
    request failed before any resolver ran, so nothing was applied. Vendure answers this way when
    body-parser refuses a body over its limit (``PayloadTooLargeError`` in the server's log only,
    seen on 3.7.3 with a 150 000-byte body); on a small body it is a server fault (retried later)."""
    message = str(body.get("message") or "")
    if not message and size >= _TOO_LARGE_FROM:
        return RequestTooLarge(f"Vendure refused a {size}-byte request (HTTP 500 with an empty message).", size=size)
    return Retryable(f"Vendure: HTTP 500 before the request reached GraphQL: {message or 'no message'}")


def _message(error: dict[str, Any]) -> str:
    message = str(error.get("message", "unknown error"))
    code = (error.get("extensions") or {}).get("code")
    return f"{code}: {message}" if code else message
