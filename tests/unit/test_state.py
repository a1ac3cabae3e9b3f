"""The state store on SQLite (a file) and PostgreSQL: migrations, bindings, cursors, quarantine.

PostgreSQL tests share one database for the session: each test works under its own
``connection`` name so they never see each other's rows.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.errors import RecordError
from tasks.state import Binding, BindingState, QuarantineEntry, QuarantineRecord, StateStore

PARIS_SUMMER = timezone(timedelta(hours=2))


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'nested' / 'state.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    opened = StateStore(url)
    yield opened
    opened.dispose()


@pytest.fixture
def conn() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


def is_utc(value: datetime | None) -> bool:
    return value is not None and value.tzinfo is not None and value.utcoffset() == timedelta(0)


def entry(
    key: str, field: str = "ean", reason: str = "EAN has check digit 2, expected 1", check: str = "ean"
) -> QuarantineEntry:
    return QuarantineEntry(RecordError(key, field, reason, check), {"sku": key, "ean": "4006381333932"})


# -- schema ------------------------------------------------------------------------------------


def test_migrations_create_the_tables_and_reopening_is_idempotent(store: StateStore, conn: str) -> None:
    inspector = sa.inspect(store.engine)
    assert {
        "binding",
        "cursor",
        "quarantine",
        "sent_value",
        "order_import",
        "lease",
        "webhook_event",
        "alembic_version",
    } <= set(inspector.get_table_names())
    assert store.is_initialised()
    store.upsert_bindings(conn, "product", [{"erp_key": "g:T", "shop_id": "1", "state": BindingState.SYNCED}])

    for _ in range(2):
        again = StateStore(store.url)
        again.dispose()
    with store.engine.connect() as c:
        assert c.execute(sa.text("select version_num from alembic_version")).scalars().all() == ["0004"]
    assert store.bindings(conn, "product")["g:T"].shop_id == "1"  # nothing dropped or recreated


def test_sqlite_store_creates_its_folder_and_can_open_without_migrating(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "state.db"
    untouched = StateStore(f"sqlite:///{path}", migrate=False)
    assert path.parent.is_dir()
    assert not untouched.is_initialised()
    untouched.migrate()
    assert untouched.is_initialised()
    untouched.dispose()


# -- bindings ----------------------------------------------------------------------------------


def test_upsert_inserts_then_partial_update_keeps_absent_columns(store: StateStore, conn: str) -> None:
    store.upsert_bindings(
        conn,
        "variant",
        [
            {
                "erp_key": "1",
                "shop_id": "10",
                "parent_key": "g:T",
                "content_hash": "h1",
                "state": BindingState.SYNCED,
                "data": {"slug": "tee", "sku": "T-1"},
            },
            {"erp_key": "2"},  # a claim: nothing known yet
        ],
    )
    first = store.bindings(conn, "variant")
    assert first["2"].state == BindingState.PENDING and first["2"].shop_id is None
    created_at = first["1"].created_at

    store.upsert_bindings(conn, "variant", [{"erp_key": "1", "content_hash": "h2"}])
    store.upsert_bindings(conn, "variant", [{"erp_key": "2", "shop_id": "20", "state": BindingState.SYNCED}])
    after = store.bindings(conn, "variant")
    one = after["1"]
    assert (one.shop_id, one.parent_key, one.content_hash, one.state) == ("10", "g:T", "h2", BindingState.SYNCED)
    assert one.payload == {"slug": "tee", "sku": "T-1"}
    assert one.created_at == created_at and one.updated_at >= created_at
    assert (after["2"].shop_id, after["2"].state) == ("20", BindingState.SYNCED)

    store.upsert_bindings(conn, "variant", [{"erp_key": "1", "data": None}])
    assert store.bindings(conn, "variant")["1"].payload == {}


def test_shop_id_is_unique_per_connection_and_entity(store: StateStore, conn: str) -> None:
    store.upsert_bindings(conn, "variant", [{"erp_key": "1", "shop_id": "10", "state": BindingState.SYNCED}])
    with pytest.raises(sa.exc.IntegrityError):
        store.upsert_bindings(conn, "variant", [{"erp_key": "2", "shop_id": "10", "state": BindingState.SYNCED}])
    assert set(store.bindings(conn, "variant")) == {"1"}  # the failed statement left nothing behind

    # The same shop id under another entity or connection is another object.
    store.upsert_bindings(conn, "product", [{"erp_key": "2", "shop_id": "10"}])
    store.upsert_bindings(conn + "-other", "variant", [{"erp_key": "2", "shop_id": "10"}])
    # Pending claims have no shop id yet: any number of them may coexist.
    store.upsert_bindings(conn, "variant", [{"erp_key": "3"}, {"erp_key": "4"}])
    assert set(store.bindings(conn, "variant")) == {"1", "3", "4"}


def test_bindings_by_keys_and_delete_over_many_statements(store: StateStore, conn: str) -> None:
    rows = [{"erp_key": str(i), "shop_id": f"s{i}", "state": BindingState.SYNCED} for i in range(1200)]
    store.upsert_bindings(conn, "variant", rows)
    wanted = [str(i) for i in range(0, 1200, 2)] + ["missing"]
    found = store.bindings(conn, "variant", wanted)
    assert set(found) == {str(i) for i in range(0, 1200, 2)}
    assert found["600"].shop_id == "s600"
    assert store.bindings(conn, "variant", []) == {}

    store.delete_bindings(conn, "variant", [str(i) for i in range(1100)])
    assert set(store.bindings(conn, "variant")) == {str(i) for i in range(1100, 1200)}


# -- cursors -----------------------------------------------------------------------------------


def test_cursors(store: StateStore, conn: str) -> None:
    assert store.get_cursor(conn, "orders", "order") is None
    store.set_cursor(conn, "orders", "order", "2026-01-01T00:00:00+00:00")
    store.set_cursor(conn, "orders", "order", "2026-01-02T00:00:00+00:00")
    store.set_cursor(conn, "orders", "customer", "c-1")
    store.set_cursor(conn + "-other", "orders", "order", "other")
    assert store.get_cursor(conn, "orders", "order") == "2026-01-02T00:00:00+00:00"
    assert store.get_cursor(conn, "orders", "customer") == "c-1"
    assert store.get_cursor(conn, "stock", "order") is None
    with store.engine.connect() as c:
        count = c.execute(sa.text("select count(*) from cursor where connection = :c"), {"c": conn}).scalar_one()
    assert count == 2  # upserted, not appended


# -- quarantine --------------------------------------------------------------------------------


def test_quarantine_lifecycle(store: StateStore, conn: str) -> None:
    store.quarantine(conn, "catalogue", "article", [entry("SKU1")], run_id="r1")
    (row,) = store.quarantined(connection=conn)
    assert (row.record_key, row.check, row.field, row.status, row.occurrences) == ("SKU1", "ean", "ean", "open", 1)
    assert json.loads(row.payload or "") == {"sku": "SKU1", "ean": "4006381333932"}
    first_seen = row.first_seen

    store.quarantine(conn, "catalogue", "article", [entry("SKU1", reason="new reason")], run_id="r2")
    (row,) = store.quarantined(connection=conn)
    assert (row.occurrences, row.run_id, row.reason) == (2, "r2", "new reason")
    assert row.first_seen == first_seen and row.last_seen >= first_seen

    assert store.resolve_quarantine(conn, "catalogue", "article", ["SKU1", "never-refused"]) == 1
    assert store.quarantined(connection=conn) == []
    (resolved,) = store.quarantined(connection=conn, status="resolved")
    assert is_utc(resolved.resolved_at)
    assert store.resolve_quarantine(conn, "catalogue", "article", ["SKU1"]) == 0  # already closed

    store.quarantine(conn, "catalogue", "article", [entry("SKU1")], run_id="r3")
    (row,) = store.quarantined(connection=conn)
    assert (row.status, row.occurrences, row.resolved_at, row.run_id) == ("open", 3, None, "r3")


def test_quarantine_rows_per_record_check_and_field(store: StateStore, conn: str) -> None:
    entries = [
        entry("A", field="ean"),
        entry("A", field="price", check="price_non_negative", reason="price -1 is negative"),
        entry("A", field="ean"),  # the same problem twice in one batch counts once
        entry("B", field="ean"),
    ]
    store.quarantine(conn, "catalogue", "article", entries, run_id="r1")
    rows = store.quarantined(connection=conn)
    assert sorted((r.record_key, r.field, r.occurrences) for r in rows) == [
        ("A", "ean", 1),
        ("A", "price", 1),
        ("B", "ean", 1),
    ]
    # Another flow or entity is another quarantine.
    store.quarantine(conn, "orders", "order", [entry("A")], run_id="r1")
    assert store.resolve_quarantine(conn, "catalogue", "article", ["A"]) == 2
    assert {(r.flow, r.record_key) for r in store.quarantined(connection=conn)} == {("catalogue", "B"), ("orders", "A")}
    assert [r.record_key for r in store.quarantined(connection=conn, flow="orders", entity="order")] == ["A"]


def test_discarded_stays_discarded(store: StateStore, conn: str) -> None:
    store.quarantine(conn, "catalogue", "article", [entry("SKU1")], run_id="r1")
    (row,) = store.quarantined(connection=conn)
    assert store.discard_quarantine([row.id]) == 1  # type: ignore[list-item]

    store.quarantine(conn, "catalogue", "article", [entry("SKU1")], run_id="r2")
    assert store.quarantined(connection=conn) == []
    (row,) = store.quarantined(connection=conn, status="discarded")
    assert row.occurrences == 2  # still counted, never reopened
    assert store.resolve_quarantine(conn, "catalogue", "article", ["SKU1"]) == 0
    assert store.quarantined(connection=conn, status="discarded")[0].status == "discarded"


def test_discarded_row_keeps_its_discard_time(store: StateStore, conn: str) -> None:
    store.quarantine(conn, "catalogue", "article", [entry("SKU1")], run_id="r1")
    (row,) = store.quarantined(connection=conn)
    store.discard_quarantine([row.id])  # type: ignore[list-item]
    (discarded,) = store.quarantined(connection=conn, status="discarded")
    store.quarantine(conn, "catalogue", "article", [entry("SKU1")], run_id="r2")
    (again,) = store.quarantined(connection=conn, status="discarded")
    assert again.resolved_at == discarded.resolved_at


# -- timestamps --------------------------------------------------------------------------------


def test_naive_datetime_is_refused(store: StateStore, conn: str) -> None:
    with pytest.raises(sa.exc.StatementError, match="naive datetime"), store.session() as session:
        session.add(Binding(connection=conn, entity="product", erp_key="1", created_at=datetime(2026, 1, 1)))
        session.commit()
    assert store.bindings(conn, "product") == {}


def test_timestamps_come_back_aware_utc(store: StateStore, conn: str) -> None:
    noon_in_paris = datetime(2026, 7, 1, 12, 0, tzinfo=PARIS_SUMMER)
    with store.session() as session:
        session.add(Binding(connection=conn, entity="product", erp_key="1", created_at=noon_in_paris))
        session.add(
            QuarantineRecord(
                connection=conn,
                flow="catalogue",
                entity="article",
                record_key="A",
                check="ean",
                field="ean",
                reason="r",
                first_seen=noon_in_paris,
                last_seen=noon_in_paris,
                resolved_at=noon_in_paris,
            )
        )
        session.commit()
    binding = store.bindings(conn, "product")["1"]
    assert binding.created_at == datetime(2026, 7, 1, 10, 0, tzinfo=timezone.utc)
    assert is_utc(binding.created_at) and is_utc(binding.updated_at)

    (row,) = store.quarantined(connection=conn)
    assert row.first_seen == noon_in_paris and is_utc(row.first_seen) and is_utc(row.resolved_at)

    store.upsert_bindings(conn, "variant", [{"erp_key": "v"}])
    store.quarantine(conn, "catalogue", "article", [entry("B")], run_id="r")
    assert is_utc(store.bindings(conn, "variant")["v"].updated_at)
    assert all(is_utc(r.last_seen) for r in store.quarantined(connection=conn))


# -- last values sent --------------------------------------------------------------------------


def test_sent_values_upsert_by_key_and_survive_reopening(store: StateStore, conn: str) -> None:
    rows = [
        {"key": f"v{i}@web", "value": {"quantity": i}, "content_hash": f"h{i}", "shop_id": str(i)} for i in range(1200)
    ]
    store.record_sent(conn, "stock", rows, run_id="run-1")
    store.record_sent(
        conn, "stock", [{"key": "v7@web", "value": {"quantity": 70}, "content_hash": "new"}], run_id="run-2"
    )

    hashes = store.sent_hashes(conn, "stock")
    assert len(hashes) == 1200 and hashes["v7@web"] == "new" and hashes["v8@web"] == "h8"
    assert store.sent_hashes(conn, "price") == {} and store.sent_hashes("other", "stock") == {}
    (seven,) = store.sent_values(conn, "stock", ["v7@web"]).values()
    assert seven.payload == {"quantity": 70} and seven.run_id == "run-2" and is_utc(seven.sent_at)

    store.forget_sent(conn, "stock", [f"v{i}@web" for i in range(600)])
    assert len(store.sent_hashes(conn, "stock")) == 600


# -- order imports and leases -------------------------------------------------------------------
def test_order_claim_is_unique_per_shop_order_and_never_reclaims_an_imported_one(store: StateStore, conn: str) -> None:
    from tasks.state import OrderState

    lease = f"import-orders:{conn}"
    assert store.acquire_lease(lease, "run-1", ttl=timedelta(minutes=10))
    assert store.claim_order(conn, "17", run_id="run-1", lease=lease, reference="ABC")
    # run-1 dies; once its lease is gone the next holder claims the order again (and reconciles).
    store.release_lease(lease, "run-1")
    assert store.acquire_lease(lease, "run-2", ttl=timedelta(minutes=10))
    assert store.claim_order(conn, "17", run_id="run-2", lease=lease, reference="ABC")
    row = store.order_imports(conn, ["17"])["17"]
    assert (row.state, row.attempts, row.run_id, row.follow) == (OrderState.CLAIMED, 2, "run-2", True)
    store.save_order_import(conn, "17", state=OrderState.IMPORTED, erp_id="5", erp_reference="SO5", follow=False)
    assert not store.claim_order(conn, "17", run_id="run-2", lease=lease)
    row = store.order_imports(conn, ["17"])["17"]
    assert (row.state, row.erp_reference, row.reference, row.attempts) == (OrderState.IMPORTED, "SO5", "ABC", 2)
    # The same shop order id in another connection is another order.
    assert store.acquire_lease(f"{lease}-b", "run-3", ttl=timedelta(minutes=10))
    assert store.claim_order(f"{conn}-b", "17", run_id="run-3", lease=f"{lease}-b")


def test_only_the_lease_holder_claims_so_a_live_run_keeps_its_claims(store: StateStore, conn: str) -> None:
    from tasks.state import LeaseLost, OrderState

    lease = f"import-orders:{conn}"
    assert store.acquire_lease(lease, "run-a", ttl=timedelta(minutes=10))
    assert store.claim_order(conn, "21", run_id="run-a", lease=lease)
    # run-b has no lease: it can neither take run-a's claim nor claim a new order.
    for order in ("21", "22"):
        with pytest.raises(LeaseLost, match=f"held by run-a\\): order {order} not claimed"):
            store.claim_order(conn, order, run_id="run-b", lease=lease)
    assert store.order_imports(conn, ["21", "22"]).keys() == {"21"}
    assert store.order_imports(conn, ["21"])["21"].run_id == "run-a"
    # An expired lease claims nothing either, even while no one has taken it over yet.
    assert store.acquire_lease(f"{lease}-x", "run-c", ttl=timedelta(seconds=-1))
    with pytest.raises(LeaseLost, match="held by run-c"):
        store.claim_order(conn, "23", run_id="run-c", lease=f"{lease}-x")
    # run-a loses its lease to run-b (taken over): run-a's next claim stops, run-b's goes through.
    assert store.take_over_lease(lease, "run-b", previous="run-a", ttl=timedelta(minutes=10))
    with pytest.raises(LeaseLost, match="held by run-b"):
        store.claim_order(conn, "22", run_id="run-a", lease=lease)
    assert store.claim_order(conn, "21", run_id="run-b", lease=lease)
    assert store.order_imports(conn, ["21"])["21"].state == OrderState.CLAIMED


def test_recorded_payments_round_trip_and_partial_updates_keep_columns(store: StateStore, conn: str) -> None:
    from tasks.state import OrderState

    store.save_order_import(conn, "8", reference="R8", state=OrderState.IMPORTED, erp_id="9", follow=True)
    store.save_order_import(conn, "8", payments={"card:tx-1": "41"})
    row = store.order_imports(conn, ["8"])["8"]
    assert row.recorded_payments == {"card:tx-1": "41"}
    assert (row.reference, row.erp_id, row.follow) == ("R8", "9", True)


def test_followed_orders_are_recent_open_ones_and_claims_whatever_their_age(store: StateStore, conn: str) -> None:
    from tasks.state import OrderState

    now = datetime.now(timezone.utc)
    store.save_order_import(conn, "1", state=OrderState.WAITING, follow=True, shop_changed_at=now)
    store.save_order_import(conn, "2", state=OrderState.WAITING, follow=True, shop_changed_at=now - timedelta(days=40))
    store.save_order_import(conn, "3", state=OrderState.IMPORTED, follow=False, shop_changed_at=now)
    store.save_order_import(conn, "4", state=OrderState.CLAIMED, follow=True, shop_changed_at=now - timedelta(days=90))
    followed = store.followed_orders(conn, changed_after=now - timedelta(days=30))
    assert sorted(r.shop_order_id for r in followed) == ["1", "4"]


def test_lease_one_holder_at_a_time_until_it_expires_or_is_released(store: StateStore, conn: str) -> None:
    name = f"import-orders:{conn}"
    assert store.acquire_lease(name, "run-a", ttl=timedelta(minutes=30))
    assert not store.acquire_lease(name, "run-b", ttl=timedelta(minutes=30))
    assert store.acquire_lease(name, "run-a", ttl=timedelta(minutes=30))  # renewal
    store.release_lease(name, "run-b")  # not the holder: no effect
    assert not store.acquire_lease(name, "run-b", ttl=timedelta(minutes=30))
    store.release_lease(name, "run-a")
    assert store.acquire_lease(name, "run-b", ttl=timedelta(seconds=-1))  # taken, already expired
    assert store.acquire_lease(name, "run-c", ttl=timedelta(minutes=5))


def test_lease_renewal_and_take_over_never_take_a_lease_back(store: StateStore, conn: str) -> None:
    name = f"stock:{conn}"
    assert not store.renew_lease(name, "run-a", ttl=timedelta(minutes=5))  # no lease: nothing created
    assert store.lease(name) is None
    assert store.acquire_lease(name, "run-a", ttl=timedelta(seconds=1))
    assert store.renew_lease(name, "run-a", ttl=timedelta(minutes=5))
    lease = store.lease(name)
    assert lease is not None and lease.holder == "run-a" and is_utc(lease.expires_at)
    assert lease.expires_at > datetime.now(timezone.utc) + timedelta(minutes=4)
    assert not store.renew_lease(name, "run-b", ttl=timedelta(minutes=5))
    # A take-over names the holder it replaces: two runs that both saw run-a crash, one wins.
    assert store.take_over_lease(name, "run-b", previous="run-a", ttl=timedelta(minutes=5))
    assert not store.take_over_lease(name, "run-c", previous="run-a", ttl=timedelta(minutes=5))
    assert not store.renew_lease(name, "run-a", ttl=timedelta(minutes=5))  # run-a lost it for good
    assert store.lease(name).holder == "run-b"  # type: ignore[union-attr]


def test_bindings_by_shop_id(store: StateStore, conn: str) -> None:
    store.upsert_bindings(conn, "variant", [{"erp_key": "101", "shop_id": "7"}, {"erp_key": "102", "shop_id": "8"}])
    found = store.bindings_by_shop_id(conn, "variant", ["8", "99"])
    assert {k: b.erp_key for k, b in found.items()} == {"8": "102"}


def test_orders_are_found_by_the_shops_reference_or_the_erps(store: StateStore, conn: str) -> None:
    """Operators know the code the shop and its e-mails show (Vendure's T8QQF9LZYFDHPJGR, Shopify's
    #1001) or the ERP's order number, not the shop's internal id."""
    store.save_order_import(conn, "42", reference="T8QQF9LZYFDHPJGR", state="imported", erp_reference="SO0042")
    store.save_order_import(conn, "gid-7", reference="#1001", state="quarantined")

    def found(reference: str) -> list[str]:
        return sorted(r.shop_order_id for r in store.orders_by_reference(reference) if r.connection == conn)

    assert found("T8QQF9LZYFDHPJGR") == found("t8qqf9lzyfdhpjgr") == ["42"]
    assert found("SO0042") == ["42"]
    assert found("1001") == found("#1001") == ["gid-7"]
    assert found("UNKNOWN") == []


def test_the_head_revision_read_from_the_files_is_alembics() -> None:
    from alembic.script import ScriptDirectory

    from tasks.migrations import alembic_config, head_revision

    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_opening_an_up_to_date_store_does_not_load_alembic(tmp_path: Path) -> None:
    """Alembic's import and its upgrade check cost a quarter of a second of every CLI command."""
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'state.db'}"
    StateStore(url).dispose()  # created and migrated
    probe = f"import sys; from tasks.state import StateStore; StateStore({url!r}).dispose(); print('alembic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
