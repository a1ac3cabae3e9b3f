"""The state store: the local base that knows what was already synced.

SQLModel tables on SQLite (default) or PostgreSQL, migrated by Alembic (``tasks/migrations``) to
the latest revision when the store opens: ``binding`` (ERP key <-> shop id, content hash),
``cursor``, ``quarantine``, ``sent_value`` (the last value sent, for stock and prices),
``order_import`` (one row per shop order, ``claimed`` before the ERP write, ``imported`` after),
``lease`` (one writing run at a time per flow and connection) and ``webhook_event`` (the shops'
order webhooks, recorded before they are answered: docs/webhooks.md). A ``pending`` binding or a
``claimed`` order left by a killed run is reconciled, never written twice.

Details: docs/architecture.md (sections "State store", "Exactly once (catalogue)", "Exactly once
(orders)").
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, Session, SQLModel, select

from connectors.errors import PasserelleError, RecordError

__all__ = [
    "Lease",
    "LeaseLost",
    "OrderImport",
    "OrderState",
    "Binding",
    "BindingState",
    "Cursor",
    "QuarantineEntry",
    "QuarantineRecord",
    "SentValue",
    "StateStore",
    "WebhookEvent",
    "WebhookStatus",
    "utcnow",
]

_BATCH = 500  # rows per statement: stays below SQLite's variable limit and PG's packet sizes


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} refused by the state store")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class BindingState:
    PENDING = "pending"
    SYNCED = "synced"
    ARCHIVED = "archived"


class Binding(SQLModel, table=True):
    __tablename__ = "binding"
    __table_args__ = (
        sa.UniqueConstraint("connection", "entity", "erp_key", name="uq_binding_erp"),
        sa.UniqueConstraint("connection", "entity", "shop_id", name="uq_binding_shop"),
    )

    id: int | None = Field(default=None, primary_key=True)
    connection: str = Field(max_length=100)
    entity: str = Field(max_length=50)
    erp_key: str = Field(max_length=255)
    shop_id: str | None = Field(default=None, max_length=255)
    parent_key: str | None = Field(default=None, max_length=255, index=True)
    content_hash: str | None = Field(default=None, max_length=64)
    state: str = Field(default=BindingState.PENDING, max_length=20)
    data: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.data) if self.data else {}


class Cursor(SQLModel, table=True):
    __tablename__ = "cursor"
    __table_args__ = (sa.UniqueConstraint("connection", "flow", "entity", name="uq_cursor"),)

    id: int | None = Field(default=None, primary_key=True)
    connection: str = Field(max_length=100)
    flow: str = Field(max_length=100)
    entity: str = Field(max_length=50)
    value: str = Field(max_length=255)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class QuarantineRecord(SQLModel, table=True):
    __tablename__ = "quarantine"
    __table_args__ = (
        sa.UniqueConstraint("connection", "flow", "entity", "record_key", "check", "field", name="uq_quarantine"),
    )

    id: int | None = Field(default=None, primary_key=True)
    connection: str = Field(max_length=100)
    flow: str = Field(max_length=100)
    entity: str = Field(max_length=50)
    record_key: str = Field(max_length=255)
    check: str = Field(max_length=100)
    field: str = Field(max_length=255)
    reason: str = Field(sa_type=sa.Text)
    payload: str | None = Field(default=None, sa_type=sa.Text)
    status: str = Field(default="open", max_length=20, index=True)
    run_id: str | None = Field(default=None, max_length=64)
    occurrences: int = 1
    first_seen: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SentValue(SQLModel, table=True):
    __tablename__ = "sent_value"
    __table_args__ = (sa.UniqueConstraint("connection", "entity", "key", name="uq_sent_value"),)

    id: int | None = Field(default=None, primary_key=True)
    connection: str = Field(max_length=100)
    entity: str = Field(max_length=50)
    key: str = Field(max_length=255)
    shop_id: str | None = Field(default=None, max_length=255)
    value: str = Field(sa_type=sa.Text)
    content_hash: str = Field(max_length=64)
    run_id: str | None = Field(default=None, max_length=64)
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def payload(self) -> Any:
        return json.loads(self.value)


class OrderState:
    WAITING = "waiting"
    """Read, not importable yet by the import rules (not paid): re-read until it is."""
    CLAIMED = "claimed"
    """Being written to the ERP (or cut off while it was): reconciled by the next run."""
    IMPORTED = "imported"
    QUARANTINED = "quarantined"
    SKIPPED = "skipped"
    """Never to be imported (cancelled before import, a payment method set to ``never``)."""


class OrderImport(SQLModel, table=True):
    __tablename__ = "order_import"
    __table_args__ = (sa.UniqueConstraint("connection", "shop_order_id", name="uq_order_import"),)

    id: int | None = Field(default=None, primary_key=True)
    connection: str = Field(max_length=100)
    shop_order_id: str = Field(max_length=255)
    reference: str | None = Field(default=None, max_length=255)
    state: str = Field(max_length=20)
    reason: str | None = Field(default=None, sa_type=sa.Text)
    erp_id: str | None = Field(default=None, max_length=255)
    erp_reference: str | None = Field(default=None, max_length=255)
    erp_total: str | None = Field(default=None, max_length=40)
    shop_total: str | None = Field(default=None, max_length=40)
    currency: str | None = Field(default=None, max_length=3)
    order_hash: str | None = Field(default=None, max_length=64)
    payments: str | None = Field(default=None, sa_type=sa.Text)
    """JSON object: payment key -> id of what the ERP recorded for it."""
    follow: bool = False
    attempts: int = 0
    run_id: str | None = Field(default=None, max_length=64)
    shop_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    imported_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def recorded_payments(self) -> dict[str, str]:
        return dict(json.loads(self.payments)) if self.payments else {}


class Lease(SQLModel, table=True):
    __tablename__ = "lease"

    name: str = Field(primary_key=True, max_length=200)
    holder: str = Field(max_length=64)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class WebhookStatus:
    RECEIVED = "received"
    """Verified and recorded; its order's import not started yet (or to start again: the import was busy)."""
    DISPATCHED = "dispatched"
    """Its order's import was started (a deployment run created) or run (inline)."""
    FAILED = "failed"
    """Starting the import failed; tried again until ``max_attempts`` (the schedule is the backstop)."""


class WebhookEvent(SQLModel, table=True):
    """One verified order webhook (migration 0004): recorded before the shop gets its 200."""

    __tablename__ = "webhook_event"
    __table_args__ = (
        # A delivery id alone is not unique on WooCommerce (one per webhook and second): with the body's hash.
        sa.UniqueConstraint("connection", "platform", "delivery_id", "body_sha256", name="uq_webhook_delivery"),
        sa.Index("ix_webhook_event_status", "status", "connection"),
    )

    id: int | None = Field(default=None, primary_key=True)
    connection: str = Field(max_length=100)
    platform: str = Field(max_length=20)
    topic: str = Field(max_length=100)
    delivery_id: str = Field(max_length=255)
    shop_order_id: str = Field(max_length=255)
    body_sha256: str = Field(max_length=64)
    status: str = Field(default=WebhookStatus.RECEIVED, max_length=20)
    attempts: int = 0
    """Dispatches tried."""
    deliveries: int = 1
    """How many times the shop delivered it (a duplicate is counted here, never dispatched again)."""
    run_id: str | None = Field(default=None, max_length=64)
    """The Prefect flow run that imports its order, when known."""
    error: str | None = Field(default=None, sa_type=sa.Text)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    dispatched_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LeaseLost(PasserelleError):
    """This run no longer holds its lease (another run took it over): it stops before its next
    write, and the next run goes on from what the state store says."""


@dataclass(frozen=True, slots=True)
class QuarantineEntry:
    """A refused record on its way to the store: the error and the record as it was read."""

    error: RecordError
    payload: dict[str, Any] | None = None


def _default_url() -> str:
    path = Path(".passerelle") / "state.db"
    return f"sqlite:///{path}"


class StateStore:
    """Access to the state tables; every method is one short transaction.

    Args:
        url: SQLAlchemy URL (``sqlite:///path.db`` or ``postgresql+psycopg://...``).
        migrate: bring the schema to the latest migration when opening (the default).
    """

    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        self.url = url or _default_url()
        if self.url.startswith("sqlite:///") and not self.url.startswith("sqlite:///:memory:"):
            Path(self.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine: Engine = sa.create_engine(self.url, **_engine_options(self.url))
        if migrate:
            self.migrate()

    # -- schema ------------------------------------------------------------------------------
    def migrate(self) -> None:
        from tasks.migrations import upgrade

        upgrade(self.engine)

    def is_initialised(self) -> bool:
        return sa.inspect(self.engine).has_table("binding")

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    # -- bindings ----------------------------------------------------------------------------
    def bindings(self, connection: str, entity: str, keys: Iterable[str] | None = None) -> dict[str, Binding]:
        """Bindings of one entity by ERP key (all of them, or those of ``keys``)."""
        with self.session() as s:
            stmt = select(Binding).where(Binding.connection == connection, Binding.entity == entity)
            if keys is None:
                return {b.erp_key: b for b in s.exec(stmt)}
            result: dict[str, Binding] = {}
            key_list = list(keys)
            for i in range(0, len(key_list), _BATCH):
                chunk = key_list[i : i + _BATCH]
                result.update({b.erp_key: b for b in s.exec(stmt.where(Binding.erp_key.in_(chunk)))})  # type: ignore[attr-defined]
            return result

    def upsert_bindings(self, connection: str, entity: str, rows: Sequence[dict[str, Any]]) -> None:
        """Insert or update bindings by (connection, entity, erp_key).

        Each row has ``erp_key`` and any of ``shop_id``, ``parent_key``, ``content_hash``,
        ``state``, ``data`` (a dict); keys absent from a row keep their stored value.
        """
        if not rows:
            return
        now = utcnow()
        table = Binding.__table__  # type: ignore[attr-defined]
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows:
            values = dict(row)
            if "data" in values and not isinstance(values["data"], str | None):
                values["data"] = json.dumps(values["data"], sort_keys=True)
            values.update(connection=connection, entity=entity, updated_at=now)
            groups.setdefault(tuple(sorted(values)), []).append(values)
        with self.engine.begin() as conn:
            for columns, values_list in groups.items():
                update_cols = [c for c in columns if c not in {"connection", "entity", "erp_key"}]
                stmt = self._insert(table)
                stmt = stmt.on_conflict_do_update(
                    index_elements=["connection", "entity", "erp_key"],
                    set_={c: getattr(stmt.excluded, c) for c in update_cols},
                )
                # executemany: one compiled statement, batched by SQLAlchemy's insertmanyvalues.
                conn.execute(stmt, [dict(v, created_at=now) for v in values_list])

    def delete_bindings(self, connection: str, entity: str, keys: Iterable[str]) -> None:
        key_list = list(keys)
        with self.engine.begin() as conn:
            for i in range(0, len(key_list), _BATCH):
                conn.execute(
                    sa.delete(Binding).where(
                        Binding.connection == connection,  # type: ignore[arg-type]
                        Binding.entity == entity,  # type: ignore[arg-type]
                        Binding.erp_key.in_(key_list[i : i + _BATCH]),  # type: ignore[attr-defined]
                    )
                )

    # -- cursors -----------------------------------------------------------------------------
    def get_cursor(self, connection: str, flow: str, entity: str) -> str | None:
        with self.session() as s:
            row = s.exec(
                select(Cursor).where(Cursor.connection == connection, Cursor.flow == flow, Cursor.entity == entity)
            ).first()
            return row.value if row else None

    def set_cursor(self, connection: str, flow: str, entity: str, value: str) -> None:
        table = Cursor.__table__  # type: ignore[attr-defined]
        stmt = self._insert(table).values(
            connection=connection, flow=flow, entity=entity, value=value, updated_at=utcnow()
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["connection", "flow", "entity"],
            set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
        )
        with self.engine.begin() as conn:
            conn.execute(stmt)

    # -- last values sent --------------------------------------------------------------------
    def sent_hashes(self, connection: str, entity: str) -> dict[str, str]:
        """Key -> content hash of the value last sent, for every key of the entity (one query)."""
        table = SentValue.__table__  # type: ignore[attr-defined]
        stmt = sa.select(table.c.key, table.c.content_hash).where(
            table.c.connection == connection, table.c.entity == entity
        )
        with self.engine.connect() as conn:
            return {row.key: row.content_hash for row in conn.execute(stmt)}

    def sent_values(self, connection: str, entity: str, keys: Iterable[str]) -> dict[str, SentValue]:
        with self.session() as s:
            stmt = select(SentValue).where(SentValue.connection == connection, SentValue.entity == entity)
            result: dict[str, SentValue] = {}
            key_list = list(keys)
            for i in range(0, len(key_list), _BATCH):
                chunk = key_list[i : i + _BATCH]
                result.update({v.key: v for v in s.exec(stmt.where(SentValue.key.in_(chunk)))})  # type: ignore[attr-defined]
            return result

    def record_sent(self, connection: str, entity: str, rows: Sequence[dict[str, Any]], *, run_id: str | None) -> None:
        """Upsert the values the shop accepted: rows of ``key``, ``value`` (JSON-able),
        ``content_hash`` and optionally ``shop_id``."""
        if not rows:
            return
        now = utcnow()
        table = SentValue.__table__  # type: ignore[attr-defined]
        values = [
            {
                "connection": connection,
                "entity": entity,
                "key": r["key"],
                "shop_id": r.get("shop_id"),
                "value": json.dumps(r["value"], sort_keys=True, default=str),
                "content_hash": r["content_hash"],
                "run_id": run_id,
                "sent_at": now,
            }
            for r in rows
        ]
        stmt = self._insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=["connection", "entity", "key"],
            set_={c: getattr(stmt.excluded, c) for c in ("shop_id", "value", "content_hash", "run_id", "sent_at")},
        )
        with self.engine.begin() as conn:
            for i in range(0, len(values), _BATCH):
                conn.execute(stmt, values[i : i + _BATCH])

    def forget_sent(self, connection: str, entity: str, keys: Iterable[str], *, locations: bool = False) -> None:
        """Drop last-sent values (the next run sends these keys again); ``locations`` drops those of
        every shop location of these keys too (stock keys ``<key>@<location>``)."""
        key_list = list(keys)
        column = SentValue.key  # type: ignore[var-annotated]
        size = 100 if locations else _BATCH  # one LIKE per key: SQLite's expression depth is limited
        with self.engine.begin() as conn:
            for i in range(0, len(key_list), size):
                chunk = key_list[i : i + size]
                match = column.in_(chunk)  # type: ignore[attr-defined]
                if locations:
                    escaped = [k.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for k in chunk]
                    match = sa.or_(match, *(column.like(f"{k}@%", escape="\\") for k in escaped))  # type: ignore[attr-defined]
                conn.execute(
                    sa.delete(SentValue).where(
                        SentValue.connection == connection,  # type: ignore[arg-type]
                        SentValue.entity == entity,  # type: ignore[arg-type]
                        match,
                    )
                )

    # -- quarantine --------------------------------------------------------------------------
    def quarantine(
        self, connection: str, flow: str, entity: str, entries: Sequence[QuarantineEntry], *, run_id: str | None
    ) -> None:
        """Open (or refresh) one quarantine row per (record, check, field)."""
        if not entries:
            return
        now = utcnow()
        table = QuarantineRecord.__table__  # type: ignore[attr-defined]
        rows: dict[tuple[str, str, str], dict[str, Any]] = {}
        for entry in entries:
            e = entry.error
            rows[(e.key, e.check, e.field)] = dict(
                connection=connection,
                flow=flow,
                entity=entity,
                record_key=e.key,
                check=e.check,
                field=e.field,
                reason=e.reason,
                payload=json.dumps(entry.payload, sort_keys=True, default=str) if entry.payload is not None else None,
                status="open",
                run_id=run_id,
                occurrences=1,
                first_seen=now,
                last_seen=now,
                resolved_at=None,
            )
        stmt = self._insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=["connection", "flow", "entity", "record_key", "check", "field"],
            set_={
                "reason": stmt.excluded.reason,
                "payload": stmt.excluded.payload,
                "run_id": stmt.excluded.run_id,
                "last_seen": stmt.excluded.last_seen,
                # A record an operator discarded stays discarded; anything else is open again.
                "status": sa.case((table.c.status == "discarded", "discarded"), else_="open"),
                "resolved_at": sa.case((table.c.status == "discarded", table.c.resolved_at), else_=None),
                "occurrences": table.c.occurrences + 1,
            },
        )
        with self.engine.begin() as conn:
            conn.execute(stmt, list(rows.values()))

    def resolve_quarantine(self, connection: str, flow: str, entity: str, passed_keys: Iterable[str]) -> int:
        """Close the open entries of records that went through this time; returns how many."""
        key_list = list(passed_keys)
        closed = 0
        with self.engine.begin() as conn:
            for i in range(0, len(key_list), _BATCH):
                result = conn.execute(
                    sa.update(QuarantineRecord)
                    .where(
                        QuarantineRecord.connection == connection,  # type: ignore[arg-type]
                        QuarantineRecord.flow == flow,  # type: ignore[arg-type]
                        QuarantineRecord.entity == entity,  # type: ignore[arg-type]
                        QuarantineRecord.status == "open",  # type: ignore[arg-type]
                        QuarantineRecord.record_key.in_(key_list[i : i + _BATCH]),  # type: ignore[attr-defined]
                    )
                    .values(status="resolved", resolved_at=utcnow())
                )
                closed += result.rowcount or 0
        return closed

    def quarantined(
        self,
        *,
        connection: str | None = None,
        flow: str | None = None,
        entity: str | None = None,
        status: str | None = "open",
    ) -> list[QuarantineRecord]:
        with self.session() as s:
            stmt = select(QuarantineRecord)
            for column, value in (
                (QuarantineRecord.connection, connection),
                (QuarantineRecord.flow, flow),
                (QuarantineRecord.entity, entity),
                (QuarantineRecord.status, status),
            ):
                if value is not None:
                    stmt = stmt.where(column == value)
            order = (QuarantineRecord.last_seen.desc(), QuarantineRecord.id)  # type: ignore[attr-defined]
            return list(s.exec(stmt.order_by(*order)))  # type: ignore[arg-type]

    def discard_quarantine(self, ids: Iterable[int]) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                sa.update(QuarantineRecord)
                .where(QuarantineRecord.id.in_(list(ids)))  # type: ignore[union-attr]
                .values(status="discarded", resolved_at=utcnow())
            )
            return result.rowcount or 0

    # -- order imports -----------------------------------------------------------------------
    def order_imports(self, connection: str, shop_ids: Iterable[str]) -> dict[str, OrderImport]:
        """Import rows of these shop order ids (those that have one)."""
        ids = list(dict.fromkeys(shop_ids))
        result: dict[str, OrderImport] = {}
        with self.session() as s:
            for i in range(0, len(ids), _BATCH):
                stmt = select(OrderImport).where(
                    OrderImport.connection == connection,
                    OrderImport.shop_order_id.in_(ids[i : i + _BATCH]),  # type: ignore[attr-defined]
                )
                result.update({r.shop_order_id: r for r in s.exec(stmt)})
        return result

    def orders_by_reference(self, reference: str, *, limit: int = 50) -> list[OrderImport]:
        """Import rows whose shop reference (the code or number the shop and its e-mails show, with
        or without Shopify's ``#``) or ERP order number is ``reference``, case-insensitive, in every
        connection."""
        bare = reference.strip().lstrip("#").lower()
        if not bare:
            return []
        wanted = [bare, f"#{bare}"]
        with self.session() as s:
            stmt = (
                select(OrderImport)
                .where(
                    sa.or_(
                        sa.func.lower(OrderImport.reference).in_(wanted),
                        sa.func.lower(OrderImport.erp_reference).in_(wanted),
                    )
                )
                .order_by(OrderImport.id)  # type: ignore[arg-type]
                .limit(limit)
            )
            return list(s.exec(stmt))

    def followed_orders(self, connection: str, *, changed_after: datetime, limit: int = 5000) -> list[OrderImport]:
        """Orders the next run re-reads by id (waiting for payment, claimed, quarantined, imported
        with a payment still to record), last changed in the shop after ``changed_after``."""
        with self.session() as s:
            stmt = (
                select(OrderImport)
                .where(
                    OrderImport.connection == connection,
                    OrderImport.follow == True,  # noqa: E712 - SQL expression
                    sa.or_(
                        OrderImport.shop_changed_at >= changed_after,  # type: ignore[arg-type,operator]
                        OrderImport.shop_changed_at.is_(None),  # type: ignore[union-attr]
                        OrderImport.state == OrderState.CLAIMED,  # type: ignore[arg-type]
                    ),
                )
                .order_by(OrderImport.id)  # type: ignore[arg-type]
                .limit(limit)
            )
            return list(s.exec(stmt))

    def save_order_import(self, connection: str, shop_order_id: str, **values: Any) -> None:
        """Insert or update the import row of one order; columns not given keep their value."""
        self.save_order_imports(connection, [{"shop_order_id": shop_order_id, **values}])

    def save_order_imports(self, connection: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert or update the import rows of several orders (each a ``shop_order_id`` and the
        columns to set; those not given keep their value) in one transaction."""
        if not rows:
            return
        now = utcnow()
        table = OrderImport.__table__  # type: ignore[attr-defined]
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for given in rows:
            values = dict(given)
            if isinstance(values.get("payments"), dict):
                values["payments"] = json.dumps(values["payments"], sort_keys=True)
            # A new row needs a state; an existing one keeps every column not given.
            params = {"connection": connection, "updated_at": now, **values}
            groups.setdefault(tuple(sorted(params)), []).append(params)
        with self.engine.begin() as conn:
            for columns, group in groups.items():
                stmt = self._insert(table)
                update = {c: getattr(stmt.excluded, c) for c in columns if c not in {"connection", "shop_order_id"}}
                stmt = stmt.on_conflict_do_update(index_elements=["connection", "shop_order_id"], set_=update)
                defaults = {"created_at": now, "state": OrderState.WAITING}
                # One statement, many parameter sets: the defaults only fill what a row lacks.
                conn.execute(stmt, [{**defaults, **params} for params in group])

    def claim_order(self, connection: str, shop_order_id: str, *, run_id: str, lease: str, **values: Any) -> bool:
        """Mark the order ``claimed`` by ``run_id`` before the ERP is written; False when it is
        imported already (nothing to write). One order of :meth:`claim_orders`."""
        return bool(
            self.claim_orders(connection, [{"shop_order_id": shop_order_id, **values}], run_id=run_id, lease=lease)
        )

    def claim_orders(
        self, connection: str, orders: Sequence[Mapping[str, Any]], *, run_id: str, lease: str
    ) -> set[str]:
        """Mark these orders (each a ``shop_order_id`` and its columns) ``claimed`` by ``run_id``
        before the ERP is written, in one transaction; returns the ids claimed (an order imported
        already is not: nothing to write).

        A claim is its run's alone: only the current holder of ``lease`` (unexpired) claims, checked
        in the claim's own transaction, which locks the lease row so that no run takes the lease
        over meanwhile. A claim's owner is its ``run_id`` and its expiry that run's lease: a claim
        left by a run that died or lost its lease is claimed again by the new holder (the caller
        reconciles it with the ERP first).

        Raises:
            LeaseLost: ``run_id`` does not hold ``lease`` (any more): nothing was claimed.
        """
        if not orders:
            return set()
        now = utcnow()
        table = OrderImport.__table__  # type: ignore[attr-defined]
        leases = Lease.__table__  # type: ignore[attr-defined]
        claimed: set[str] = set()
        with self.engine.begin() as conn:
            # A no-op update of our own lease row: it takes the row's write lock (PostgreSQL) or the
            # database's (SQLite) until the claims commit, so a takeover waits and then sees them.
            held = conn.execute(
                sa.update(leases)
                .where(leases.c.name == lease, leases.c.holder == run_id, leases.c.expires_at > now)
                .values(expires_at=leases.c.expires_at)
                .returning(leases.c.name)
            ).first()
            if held is None:
                holder = conn.execute(sa.select(leases.c.holder).where(leases.c.name == lease)).scalar()
                names = ", ".join(str(o["shop_order_id"]) for o in orders[:5]) + (" ..." if len(orders) > 5 else "")
                raise LeaseLost(
                    f"run {run_id} does not hold the lease {lease} (held by {holder or 'nobody'}): "
                    f"{'order' if len(orders) == 1 else 'orders'} {names} not claimed, nothing written"
                )
            columns: tuple[str, ...] | None = None
            stmt: Any = None
            for values in orders:
                row = {
                    "connection": connection,
                    "state": OrderState.CLAIMED,
                    "follow": True,
                    "run_id": run_id,
                    "claimed_at": now,
                    "updated_at": now,
                    **values,
                }
                if columns != tuple(row):  # one statement for the orders with the same columns
                    columns = tuple(row)
                    insert = self._insert(table)
                    update = {c: getattr(insert.excluded, c) for c in row if c not in {"connection", "shop_order_id"}}
                    update["attempts"] = table.c.attempts + 1
                    stmt = insert.on_conflict_do_update(
                        index_elements=["connection", "shop_order_id"],
                        set_=update,
                        where=table.c.state != OrderState.IMPORTED,
                    ).returning(table.c.id)
                # RETURNING, not rowcount: drivers count a skipped ON CONFLICT update differently.
                if conn.execute(stmt, {"created_at": now, "attempts": 1, **row}).first() is not None:
                    claimed.add(str(values["shop_order_id"]))
        return claimed

    def bindings_by_shop_id(self, connection: str, entity: str, shop_ids: Iterable[str]) -> dict[str, Binding]:
        """Bindings of one entity by shop id (the reverse lookup of web order lines)."""
        ids = list(dict.fromkeys(shop_ids))
        result: dict[str, Binding] = {}
        with self.session() as s:
            stmt = select(Binding).where(Binding.connection == connection, Binding.entity == entity)
            for i in range(0, len(ids), _BATCH):
                rows = s.exec(stmt.where(Binding.shop_id.in_(ids[i : i + _BATCH])))  # type: ignore[union-attr]
                result.update({b.shop_id: b for b in rows if b.shop_id})
        return result

    # -- webhook events ----------------------------------------------------------------------
    def record_webhook_event(
        self,
        connection: str,
        *,
        platform: str,
        topic: str,
        delivery_id: str,
        shop_order_id: str,
        body_sha256: str,
    ) -> tuple[WebhookEvent, bool]:
        """Record one verified webhook; ``(event, True)`` when new, ``(the earlier one, False)`` for a
        delivery already recorded (same delivery id and body), whose count of deliveries goes up."""
        now = utcnow()
        table = WebhookEvent.__table__  # type: ignore[attr-defined]
        key = (
            (table.c.connection == connection)
            & (table.c.platform == platform)
            & (table.c.delivery_id == delivery_id)
            & (table.c.body_sha256 == body_sha256)
        )
        stmt = (
            self._insert(table)
            .values(
                connection=connection,
                platform=platform,
                topic=topic,
                delivery_id=delivery_id,
                shop_order_id=shop_order_id,
                body_sha256=body_sha256,
                status=WebhookStatus.RECEIVED,
                attempts=0,
                deliveries=1,
                received_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["connection", "platform", "delivery_id", "body_sha256"])
            .returning(table.c.id)
        )
        with self.engine.begin() as conn:
            inserted = conn.execute(stmt).first()
            if inserted is None:
                conn.execute(sa.update(table).where(key).values(deliveries=table.c.deliveries + 1, updated_at=now))
        with self.session() as s:
            event = s.exec(
                select(WebhookEvent).where(
                    WebhookEvent.connection == connection,
                    WebhookEvent.platform == platform,
                    WebhookEvent.delivery_id == delivery_id,
                    WebhookEvent.body_sha256 == body_sha256,
                )
            ).one()
        return event, inserted is not None

    def webhook_events_to_dispatch(
        self, *, max_attempts: int, failed_before: datetime, connection: str | None = None, limit: int = 1000
    ) -> list[WebhookEvent]:
        """Events whose order's import is still to start: ``received`` ones, and ``failed`` ones tried
        fewer than ``max_attempts`` times and last tried before ``failed_before``; oldest first."""
        table = WebhookEvent.__table__  # type: ignore[attr-defined]
        with self.session() as s:
            stmt = select(WebhookEvent).where(
                sa.or_(
                    table.c.status == WebhookStatus.RECEIVED,
                    sa.and_(
                        table.c.status == WebhookStatus.FAILED,
                        table.c.attempts < max_attempts,
                        table.c.updated_at < failed_before,
                    ),
                )
            )
            if connection is not None:
                stmt = stmt.where(WebhookEvent.connection == connection)
            stmt = stmt.order_by(WebhookEvent.id).limit(limit)  # type: ignore[arg-type]
            return list(s.exec(stmt))

    def mark_webhook_events(
        self, ids: Iterable[int], status: str, *, run_id: str | None = None, error: str | None = None
    ) -> None:
        """Record the outcome of a dispatch of these events (one attempt more), or put them back to
        ``received`` (no attempt counted) when the import was busy."""
        keys = list(ids)
        if not keys:
            return
        now = utcnow()
        table = WebhookEvent.__table__  # type: ignore[attr-defined]
        values: dict[str, Any] = {"status": status, "updated_at": now, "error": error}
        if status != WebhookStatus.RECEIVED:
            values["attempts"] = table.c.attempts + 1
        if status == WebhookStatus.DISPATCHED:
            values.update(run_id=run_id, dispatched_at=now)
        with self.engine.begin() as conn:
            for i in range(0, len(keys), _BATCH):
                conn.execute(sa.update(table).where(table.c.id.in_(keys[i : i + _BATCH])).values(**values))

    def webhook_events(self, connection: str, *, shop_order_id: str | None = None) -> list[WebhookEvent]:
        """The recorded webhooks of a connection (of one order), oldest first."""
        with self.session() as s:
            stmt = select(WebhookEvent).where(WebhookEvent.connection == connection)
            if shop_order_id is not None:
                stmt = stmt.where(WebhookEvent.shop_order_id == shop_order_id)
            return list(s.exec(stmt.order_by(WebhookEvent.id)))  # type: ignore[arg-type]

    # -- leases ------------------------------------------------------------------------------
    def acquire_lease(self, name: str, holder: str, *, ttl: timedelta) -> bool:
        """Take (or renew) the lease ``name`` for ``ttl``; False while another holder has it
        and it has not expired."""
        now = utcnow()
        table = Lease.__table__  # type: ignore[attr-defined]
        stmt = self._insert(table).values(name=name, holder=holder, expires_at=now + ttl)
        stmt = stmt.on_conflict_do_update(
            index_elements=["name"],
            set_={"holder": stmt.excluded.holder, "expires_at": stmt.excluded.expires_at},
            where=sa.or_(table.c.holder == holder, table.c.expires_at < now),
        )
        with self.engine.begin() as conn:
            conn.execute(stmt)
            current = conn.execute(sa.select(table.c.holder).where(table.c.name == name)).scalar_one()
        return bool(current == holder)

    def renew_lease(self, name: str, holder: str, *, ttl: timedelta) -> bool:
        """Push the lease ``name`` back to ``ttl`` from now if ``holder`` still holds it; False when
        another run took it over (or it is gone): never taken back."""
        table = Lease.__table__  # type: ignore[attr-defined]
        with self.engine.begin() as conn:
            renewed = conn.execute(
                sa.update(table)
                .where(table.c.name == name, table.c.holder == holder)
                .values(expires_at=utcnow() + ttl)
                .returning(table.c.name)
            ).first()
        return renewed is not None

    def take_over_lease(self, name: str, holder: str, *, previous: str, ttl: timedelta) -> bool:
        """Take the lease ``name`` from ``previous`` (a run known to be over), whatever its expiry;
        False when it changed hands meanwhile (another run took it first)."""
        table = Lease.__table__  # type: ignore[attr-defined]
        with self.engine.begin() as conn:
            taken = conn.execute(
                sa.update(table)
                .where(table.c.name == name, table.c.holder == previous)
                .values(holder=holder, expires_at=utcnow() + ttl)
                .returning(table.c.name)
            ).first()
        return taken is not None

    def lease(self, name: str) -> Lease | None:
        """The lease row ``name`` (holder and expiry), if any."""
        with self.session() as s:
            return s.get(Lease, name)

    def release_lease(self, name: str, holder: str) -> None:
        table = Lease.__table__  # type: ignore[attr-defined]
        with self.engine.begin() as conn:
            conn.execute(sa.delete(table).where(table.c.name == name, table.c.holder == holder))

    def _insert(self, table: sa.Table) -> Any:
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(table)
        if self.engine.dialect.name == "sqlite":
            return sqlite.insert(table)
        raise NotImplementedError(f"state store backend {self.engine.dialect.name!r} is not supported")


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # Several Prefect task threads share the store; SQLite serialises writers with a timeout.
        return {"connect_args": {"check_same_thread": False, "timeout": 30}}
    return {"pool_pre_ping": True}
