"""Parquet snapshots: hive partitions, history in time order, keyed masking, local and S3."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import boto3
import pytest

from connectors.models import Article
from tasks.snapshots import SnapshotRow, SnapshotStore, mask_payload, s3_filesystem

DAY1 = datetime(2026, 3, 1, 8, 0, tzinfo=timezone.utc)
DAY2 = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
EMAIL = "jane.doe@example.com"


def write(store: SnapshotStore, *, run_id: str, stage: str, rows: list[SnapshotRow], at: datetime, **kw: str) -> int:
    return store.write(
        run_id=run_id,
        flow=kw.get("flow", "catalogue"),
        entity=kw.get("entity", "article"),
        stage=stage,
        rows=rows,
        at=at,
    )


def test_local_write_partitions_and_history_order(tmp_path: Path) -> None:
    store = SnapshotStore(str(tmp_path / "snap"))
    # Written out of order on purpose: history sorts by the time recorded.
    assert (
        write(store, run_id="r2", stage="sent", rows=[SnapshotRow("1", "h2", {"sku": "A", "price": "12.00"})], at=DAY2)
        == 1
    )
    assert (
        write(
            store,
            run_id="r1",
            stage="read",
            rows=[SnapshotRow("1", "h1", {"sku": "A"}), SnapshotRow("2", "h", {"sku": "B"})],
            at=DAY1,
        )
        == 2
    )
    write(
        store,
        run_id="r1",
        stage="rejected",
        rows=[SnapshotRow("1", "h1", {"sku": "A"})],
        at=DAY1 + timedelta(minutes=1),
    )
    write(
        store,
        run_id="r1",
        stage="read",
        rows=[SnapshotRow("1", "x", {"sku": "A"})],
        at=DAY1,
        flow="orders",
        entity="order",
    )

    history = store.history("article", "1")
    assert [(r["run_id"], r["stage"]) for r in history] == [("r1", "read"), ("r1", "rejected"), ("r2", "sent")]
    assert history[-1]["payload"] == {"sku": "A", "price": "12.00"} and history[-1]["hash"] == "h2"
    assert history[0]["recorded_at"] == DAY1 and history[0]["date"] == "2026-03-01"
    assert {r["flow"] for r in history} == {"catalogue"}
    assert [r["stage"] for r in store.history("article", "1", run_id="r1")] == ["read", "rejected"]
    assert [r["key"] for r in store.query(stage="read", entity="article")] == ["1", "2"]
    assert [r["entity"] for r in store.history("order", "1", flow="orders")] == ["order"]

    files = sorted(p.relative_to(tmp_path / "snap").as_posix() for p in (tmp_path / "snap").rglob("*.parquet"))
    assert len(files) == 4
    assert all(f.split("/")[0].startswith("flow=") and f.split("/")[1].startswith("entity=") for f in files)
    assert any(f.startswith("flow=catalogue/entity=article/date=2026-03-01/") and "r1-read" in f for f in files)
    assert any(f.startswith("flow=catalogue/entity=article/date=2026-03-02/") and "r2-sent" in f for f in files)
    assert any(f.startswith("flow=orders/entity=order/date=2026-03-01/") for f in files)
    assert (
        store.location("catalogue", "article", DAY2)
        == f"{tmp_path / 'snap'}/flow=catalogue/entity=article/date=2026-03-02/"
    )


def test_records_are_stored_as_json_and_found_by_sku(tmp_path: Path) -> None:
    store = SnapshotStore(str(tmp_path / "snap"))
    article = Article(key="42", sku="TSH-M", name="Tee été", price=D("19.90"))
    write(store, run_id="r1", stage="read", rows=[SnapshotRow("42", None, article)], at=DAY1)
    (row,) = store.history("article", "42")
    assert row["payload"]["price"] == "19.90" and row["payload"]["name"] == "Tee été"
    assert row["hash"] is None
    assert store.keys_for_sku("TSH-M") == ["42"]
    assert store.keys_for_sku("TSH-M", entity="order") == []
    assert store.keys_for_sku("TSH") == []


def test_empty_writes_and_empty_store(tmp_path: Path) -> None:
    store = SnapshotStore(str(tmp_path / "snap"))
    assert write(store, run_id="r", stage="read", rows=[], at=DAY1) == 0
    assert not (tmp_path / "snap").exists()
    assert store.history("article", "1") == [] and store.keys_for_sku("A") == []


def test_two_batches_of_one_stage_are_both_kept(tmp_path: Path) -> None:
    store = SnapshotStore(str(tmp_path / "snap"))
    write(store, run_id="r1", stage="sent", rows=[SnapshotRow("1", None, {"sku": "A"})], at=DAY1)
    write(store, run_id="r1", stage="sent", rows=[SnapshotRow("2", None, {"sku": "B"})], at=DAY1)
    assert sorted(r["key"] for r in store.query(run_id="r1")) == ["1", "2"]


# -- masking -----------------------------------------------------------------------------------


def customer(email: str) -> dict[str, Any]:
    return {"number": "C1", "email": email, "address": {"city": "Lyon", "phone": "+33 6 12 34 56 78"}, "notes": None}


def test_masking_with_an_hmac_key(tmp_path: Path) -> None:
    store = SnapshotStore(str(tmp_path / "snap"), mask_fields=["email", "phone", "notes"], mask_key="key-one")
    write(
        store,
        run_id="r1",
        stage="read",
        rows=[
            SnapshotRow("C1", None, customer(EMAIL)),
            SnapshotRow("C2", None, customer(EMAIL)),
            SnapshotRow("C3", None, customer("john@example.com")),
        ],
        at=DAY1,
        entity="customer",
    )
    rows = {r["key"]: r["payload"] for r in store.query(entity="customer")}
    c1, c2, c3 = rows["C1"], rows["C2"], rows["C3"]
    assert c1["email"].startswith("masked:") and c1["email"] != EMAIL
    assert c1["email"] == c2["email"]  # equal values still compare equal
    assert c1["email"] != c3["email"]
    assert c1["address"]["phone"].startswith("masked:")  # at any depth
    assert c1["address"]["city"] == "Lyon" and c1["number"] == "C1" and c1["notes"] is None
    for parquet in (tmp_path / "snap").rglob("*.parquet"):
        data = parquet.read_bytes()
        assert EMAIL.encode() not in data and b"john@example.com" not in data and b"12 34 56" not in data

    other = SnapshotStore(str(tmp_path / "other"), mask_fields=["email"], mask_key="key-two")
    write(other, run_id="r1", stage="read", rows=[SnapshotRow("C1", None, customer(EMAIL))], at=DAY1, entity="customer")
    assert other.history("customer", "C1")[0]["payload"]["email"] != c1["email"]


def test_mask_payload() -> None:
    payload = {"email": EMAIL, "lines": [{"email": EMAIL, "sku": "A"}], "phone": ""}
    masked = mask_payload(payload, frozenset({"email", "phone"}), b"k")
    assert masked["email"] == masked["lines"][0]["email"] != EMAIL
    assert masked["lines"][0]["sku"] == "A" and masked["phone"] == ""
    assert mask_payload(payload, frozenset({"email"}), b"k") != mask_payload(payload, frozenset({"email"}), b"k2")
    assert mask_payload(payload, frozenset(), b"k") is payload
    assert payload["email"] == EMAIL  # the original is not modified


# -- S3 ----------------------------------------------------------------------------------------


@pytest.fixture
def bucket(s3_server: dict[str, str]) -> Iterator[tuple[str, Any]]:
    client = boto3.client(
        "s3",
        endpoint_url=s3_server["endpoint_url"],
        region_name=s3_server["region"],
        aws_access_key_id=s3_server["access_key"],
        aws_secret_access_key=s3_server["secret_key"],
    )
    name = f"audit-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    yield name, client


def test_s3_round_trip(s3_server: dict[str, str], bucket: tuple[str, Any]) -> None:
    name, client = bucket
    filesystem = s3_filesystem(
        endpoint_url=s3_server["endpoint_url"],
        access_key=s3_server["access_key"],
        secret_key=s3_server["secret_key"],
        region=s3_server["region"],
    )
    store = SnapshotStore(f"s3://{name}/passerelle", filesystem=filesystem, mask_fields=["email"], mask_key="k")
    assert store.history("customer", "C1") == []  # nothing written yet
    write(store, run_id="r1", stage="read", rows=[SnapshotRow("C1", "h1", customer(EMAIL))], at=DAY1, entity="customer")
    write(store, run_id="r2", stage="sent", rows=[SnapshotRow("C1", "h2", {"sku": "A"})], at=DAY2, entity="customer")

    history = store.history("customer", "C1")
    assert [(r["run_id"], r["stage"], r["hash"]) for r in history] == [("r1", "read", "h1"), ("r2", "sent", "h2")]
    assert history[0]["payload"]["email"].startswith("masked:")
    assert store.keys_for_sku("A") == ["C1"]

    listed = [o["Key"] for o in client.list_objects_v2(Bucket=name)["Contents"]]
    keys = [k for k in listed if k.endswith(".parquet")]  # pyarrow also writes "folder/" markers
    assert len(keys) == 2
    assert any(k.startswith("passerelle/flow=catalogue/entity=customer/date=2026-03-01/") for k in keys)
    assert any(k.startswith("passerelle/flow=catalogue/entity=customer/date=2026-03-02/") for k in keys)
    for key in keys:
        assert EMAIL.encode() not in client.get_object(Bucket=name, Key=key)["Body"].read()
