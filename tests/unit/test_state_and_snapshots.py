"""State store on SQLite and PostgreSQL; snapshots on a local folder and on S3 (moto server)."""

from __future__ import annotations

import uuid
from datetime import datetime

import boto3
import pytest
import sqlalchemy as sa

from connectors.errors import RecordError
from tasks.snapshots import SnapshotRow, SnapshotStore, s3_filesystem
from tasks.state import Binding, QuarantineEntry, StateStore


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path) -> StateStore:
    if request.param == "sqlite":
        return StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    return StateStore(request.getfixturevalue("postgres_url"))


def test_bindings_upsert_partial_update_and_uniqueness(store: StateStore) -> None:
    conn = f"c-{uuid.uuid4().hex[:8]}"
    store.upsert_bindings(conn, "variant", [{"erp_key": "1", "shop_id": "10", "content_hash": "h1", "state": "synced"}])
    store.upsert_bindings(conn, "variant", [{"erp_key": "1", "content_hash": "h2"}])
    b = store.bindings(conn, "variant")["1"]
    assert (b.shop_id, b.content_hash) == ("10", "h2")  # absent columns keep their value
    assert b.updated_at.tzinfo is not None and b.updated_at.utcoffset().total_seconds() == 0
    with pytest.raises(sa.exc.IntegrityError):
        store.upsert_bindings(conn, "variant", [{"erp_key": "2", "shop_id": "10", "state": "synced"}])
    StateStore(store.url)  # re-opening migrates nothing twice


def test_quarantine_lifecycle_and_cursor(store: StateStore) -> None:
    conn = f"c-{uuid.uuid4().hex[:8]}"
    entry = QuarantineEntry(RecordError("SKU1", "ean", "bad check digit", "ean_check_digit"), {"sku": "SKU1"})
    store.quarantine(conn, "catalogue", "article", [entry], run_id="r1")
    store.quarantine(conn, "catalogue", "article", [entry], run_id="r2")
    (row,) = store.quarantined(connection=conn)
    assert (row.occurrences, row.run_id, row.field) == (2, "r2", "ean")
    assert store.resolve_quarantine(conn, "catalogue", "article", ["SKU1"]) == 1
    assert store.quarantined(connection=conn) == []
    store.quarantine(conn, "catalogue", "article", [entry], run_id="r3")
    (row,) = store.quarantined(connection=conn)
    store.discard_quarantine([row.id])
    store.quarantine(conn, "catalogue", "article", [entry], run_id="r4")
    assert store.quarantined(connection=conn) == []  # discarded stays discarded
    store.set_cursor(conn, "orders", "order", "2026-01-01T00:00:00Z")
    store.set_cursor(conn, "orders", "order", "2026-01-02T00:00:00Z")
    assert store.get_cursor(conn, "orders", "order") == "2026-01-02T00:00:00Z"


def test_naive_datetimes_are_refused(tmp_path) -> None:
    store = StateStore(f"sqlite:///{tmp_path / 's.db'}")
    with pytest.raises(sa.exc.StatementError, match="naive datetime"), store.session() as session:
        session.add(Binding(connection="c", entity="p", erp_key="1", state="synced", created_at=datetime(2026, 1, 1)))
        session.commit()


def _write_and_read(snapshots: SnapshotStore) -> None:
    snapshots.write(
        run_id="r1",
        flow="catalogue",
        entity="article",
        stage="read",
        rows=[SnapshotRow("1", "h", {"sku": "A", "email": "jane@example.com"})],
    )
    snapshots.write(
        run_id="r2", flow="catalogue", entity="article", stage="sent", rows=[SnapshotRow("1", "h2", {"sku": "A"})]
    )
    history = snapshots.history("article", "1")
    assert [(r["run_id"], r["stage"]) for r in history] == [("r1", "read"), ("r2", "sent")]
    assert history[0]["payload"]["email"].startswith("masked:")
    assert snapshots.keys_for_sku("A") == ["1"]


def test_local_snapshots_are_partitioned_and_masked(tmp_path) -> None:
    snapshots = SnapshotStore(str(tmp_path / "snap"), mask_fields=["email"], mask_key="k")
    _write_and_read(snapshots)
    files = list((tmp_path / "snap").rglob("*.parquet"))
    assert files and all("flow=catalogue" in str(f) and "entity=article" in str(f) and "date=" in str(f) for f in files)
    assert not any(b"jane@example.com" in f.read_bytes() for f in files)
    other_key = SnapshotStore(str(tmp_path / "snap2"), mask_fields=["email"], mask_key="other")
    other_key.write(
        run_id="r",
        flow="f",
        entity="article",
        stage="read",
        rows=[SnapshotRow("1", None, {"email": "jane@example.com"})],
    )
    assert (
        other_key.history("article", "1")[0]["payload"]["email"]
        != SnapshotStore(str(tmp_path / "snap"), mask_fields=["email"], mask_key="k").history("article", "1")[0][
            "payload"
        ]["email"]
    )


def test_s3_snapshots_on_moto_server(s3_server) -> None:
    boto3.client(
        "s3",
        endpoint_url=s3_server["endpoint_url"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket="audit-trail")
    fs = s3_filesystem(
        endpoint_url=s3_server["endpoint_url"], region="us-east-1", access_key="testing", secret_key="testing"
    )
    snapshots = SnapshotStore("s3://audit-trail/passerelle", filesystem=fs, mask_fields=["email"])
    _write_and_read(snapshots)
    keys = [
        o["Key"]
        for o in boto3.client(
            "s3",
            endpoint_url=s3_server["endpoint_url"],
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ).list_objects_v2(Bucket="audit-trail")["Contents"]
    ]
    assert any(k.startswith("passerelle/flow=catalogue/entity=article/date=") and k.endswith(".parquet") for k in keys)
