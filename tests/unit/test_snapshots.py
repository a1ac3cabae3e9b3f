"""Parquet snapshots: hive partitions, history in time order, keyed masking, local and S3."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
import stat
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
KEY_ONE = "key-one-" + "1" * 24
KEY_TWO = "key-two-" + "2" * 24


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
    files = [f for f in files if not f.startswith("_index/")]  # the last-hash index beside the data
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
    store = SnapshotStore(str(tmp_path / "snap"), mask_fields=["notes"], mask_key=KEY_ONE)
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
    assert c1["address"]["city"].startswith("masked:")  # a personal field, though not in mask_fields
    assert c1["number"] == "C1" and c1["notes"] is None
    for parquet in (tmp_path / "snap").rglob("*.parquet"):
        data = parquet.read_bytes()
        assert EMAIL.encode() not in data and b"john@example.com" not in data and b"12 34 56" not in data

    other = SnapshotStore(str(tmp_path / "other"), mask_key=KEY_TWO)
    write(other, run_id="r1", stage="read", rows=[SnapshotRow("C1", None, customer(EMAIL))], at=DAY1, entity="customer")
    assert other.history("customer", "C1")[0]["payload"]["email"] != c1["email"]


def test_mask_payload() -> None:
    payload = {"email": EMAIL, "lines": [{"email": EMAIL, "sku": "A"}], "phone": ""}
    masked = mask_payload(payload, frozenset({"email", "phone"}), KEY_ONE.encode())
    assert masked["email"] == masked["lines"][0]["email"] != EMAIL
    assert masked["lines"][0]["sku"] == "A" and masked["phone"] == ""
    one, two = KEY_ONE.encode(), KEY_TWO.encode()
    assert mask_payload(payload, frozenset({"email"}), one) != mask_payload(payload, frozenset({"email"}), two)
    assert mask_payload(payload, frozenset(), one) is payload
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
    store = SnapshotStore(f"s3://{name}/passerelle", filesystem=filesystem, mask_key=KEY_ONE)
    assert store.history("customer", "C1") == []  # nothing written yet
    write(store, run_id="r1", stage="read", rows=[SnapshotRow("C1", "h1", customer(EMAIL))], at=DAY1, entity="customer")
    write(store, run_id="r2", stage="sent", rows=[SnapshotRow("C1", "h2", {"sku": "A"})], at=DAY2, entity="customer")

    history = store.history("customer", "C1")
    assert [(r["run_id"], r["stage"], r["hash"]) for r in history] == [("r1", "read", "h1"), ("r2", "sent", "h2")]
    assert history[0]["payload"]["email"].startswith("masked:")
    assert store.keys_for_sku("A") == ["C1"]

    listed = [o["Key"] for o in client.list_objects_v2(Bucket=name)["Contents"]]
    # pyarrow also writes "folder/" markers; _index/ holds the last-hash index
    keys = [k for k in listed if k.endswith(".parquet") and "/_index/" not in k]
    assert len(keys) == 2
    assert any(k.startswith("passerelle/flow=catalogue/entity=customer/date=2026-03-01/") for k in keys)
    assert any(k.startswith("passerelle/flow=catalogue/entity=customer/date=2026-03-02/") for k in keys)
    for key in keys:
        assert EMAIL.encode() not in client.get_object(Bucket=name, Key=key)["Body"].read()


# -- masking keys per installation (issue 12, defect 15) -------------------------------------------

NOT_PERSONAL = {
    "shop_id": "the shop's own id of the customer: no value outside the shop, which holds the data anyway",
    "country": "an ISO country code alone identifies no one, and VAT audits need it",
}
PERSON = {
    "email": "camille.martin@example.fr",
    "first_name": "Camille",
    "last_name": "Martin-Lefebvre",
    "company": "Boulangerie Martin SARL",
    "vat_number": "FR12345678901",
    "siret": "12345678900017",
    "phone": "+33 6 98 76 54 32",
    "street": "12 rue des Tanneurs",
    "street2": "Bâtiment B",
    "postal_code": "69004",
    "city": "Villeurbanne-Cusset",
}


def installation(folder: Path, snapshots: str = "") -> Any:
    """The configuration of one installation (a folder with its passerelle.toml)."""
    from tasks.settings import load_config

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "passerelle.toml").write_text(
        f'[snapshots]\nroot = "snapshots"\n{snapshots}\n'
        '[connections.main.erp]\ntype = "files"\n[connections.main.shop]\ntype = "vendure"\n',
        encoding="utf-8",
    )
    return load_config(folder / "passerelle.toml")


def installed_store(folder: Path, snapshots: str = "") -> SnapshotStore:
    from tasks.context import snapshot_store

    return snapshot_store(installation(folder, snapshots))


def order(email: str = PERSON["email"]) -> Any:
    from connectors.models import Address, Customer, Order, OrderLine

    customer_fields = {f.name for f in dataclasses.fields(Customer)}
    address_fields = {f.name for f in dataclasses.fields(Address)}
    person = {**PERSON, "email": email}
    address = Address(**{k: v for k, v in person.items() if k in address_fields}, country="FR")
    return Order(
        shop_id="1042",
        reference="WEB-1042",
        state="PaymentSettled",
        created_at=DAY1,
        updated_at=DAY1,
        currency="EUR",
        customer=Customer(**{k: v for k, v in person.items() if k in customer_fields}, shop_id="77"),
        billing=address,
        shipping=dataclasses.replace(address, street2=None),
        lines=[OrderLine("L1", "TSH-M", "Tee-shirt", D(1), D("10.00"), D(20), D("10.00"), D("12.00"))],
        total=D("10.00"),
        total_tax_included=D("12.00"),
    )


def masked_email(store: SnapshotStore, email: str = PERSON["email"], run_id: str = "r1") -> str:
    from connectors.models import to_jsonable

    write(store, run_id=run_id, stage="read", rows=[SnapshotRow("1042", None, to_jsonable(order(email)))], at=DAY1)
    (row,) = store.history("article", "1042", run_id=run_id)
    value: str = row["payload"]["customer"]["email"]
    return value


def every_file(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_every_personal_field_of_the_canonical_order_is_masked() -> None:
    """Each field of Customer and Address is masked or said here not to be personal: a field added
    to them later fails this test until someone decides."""
    from connectors.models import Address, Customer
    from tasks.snapshots import PERSONAL_FIELDS

    for model in (Customer, Address):
        for f in dataclasses.fields(model):
            assert f.name in PERSONAL_FIELDS or f.name in NOT_PERSONAL, f"{model.__name__}.{f.name}"
    assert set(PERSON) <= PERSONAL_FIELDS and not PERSONAL_FIELDS & set(NOT_PERSONAL)


def test_a_snapshot_of_an_order_holds_no_personal_value_in_clear(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    store = installed_store(tmp_path / "shop")
    masked_email(store)
    files = [p for p in every_file(tmp_path / "shop" / "snapshots") if p.suffix == ".parquet"]
    assert files
    for file in files:
        payloads = " ".join(pq.read_table(file).column("payload").to_pylist())
        raw = file.read_bytes()
        for field_name, value in PERSON.items():
            assert value not in payloads and value.encode() not in raw, field_name
    payload = store.history("article", "1042")[0]["payload"]
    for holder in (payload["customer"], payload["billing"], payload["shipping"]):
        assert all(str(v).startswith("masked:") for k, v in holder.items() if k in PERSON and v is not None)
    assert payload["billing"]["city"] == payload["shipping"]["city"]  # equal values still compare equal
    assert payload["billing"]["country"] == "FR" and payload["total_tax_included"] == "12.00"


def test_two_installations_mask_the_same_email_differently(tmp_path: Path) -> None:
    first = masked_email(installed_store(tmp_path / "one"))
    assert first != masked_email(installed_store(tmp_path / "two"))
    # The same installation, next run (a new store, the key read again): the same value.
    assert masked_email(installed_store(tmp_path / "one"), run_id="r2") == first


def test_no_unkeyed_masking_remains(tmp_path: Path) -> None:
    """Masked values cannot be recovered by hashing a dictionary of guesses without the key, and
    nothing masks without a key."""
    guesses = [PERSON["email"], "jane.doe@example.com", "john@example.com"]
    masked = masked_email(installed_store(tmp_path / "shop"))
    for guess in guesses:
        text = json.dumps(guess, sort_keys=True).encode()
        for digest in (hmac.new(b"", text, hashlib.sha256).hexdigest(), hashlib.sha256(text).hexdigest()):
            assert digest[:16] not in masked
    assert len(masked.removeprefix("masked:")) >= 32  # not a 64-bit prefix
    with pytest.raises(ValueError, match="key"):
        mask_payload({"email": EMAIL}, frozenset({"email"}), b"")
    unkeyed = SnapshotStore(str(tmp_path / "unkeyed"))
    with pytest.raises(ValueError, match="key"):
        write(unkeyed, run_id="r1", stage="read", rows=[SnapshotRow("C1", None, customer(EMAIL))], at=DAY1)
    assert not [p for p in every_file(tmp_path / "unkeyed") if EMAIL.encode() in p.read_bytes()]


def test_the_generated_key_is_private_and_never_in_a_snapshot(tmp_path: Path) -> None:
    store = installed_store(tmp_path / "shop")
    assert not (tmp_path / "shop" / "mask.key").exists()  # reading the snapshots makes no key
    masked_email(store)
    key_file = tmp_path / "shop" / "mask.key"
    key = key_file.read_text().strip()
    assert len(bytes.fromhex(key)) == 32
    if os.name == "posix":
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    for file in every_file(tmp_path / "shop" / "snapshots"):
        data = file.read_bytes()
        assert key.encode() not in data and bytes.fromhex(key) not in data, file


def test_a_configured_key_reference_is_used_and_no_key_file_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_MASK_KEY", "k" * 40)
    setting = 'mask_key = "env:TEST_MASK_KEY"'
    one, two = installed_store(tmp_path / "one", setting), installed_store(tmp_path / "two", setting)
    assert masked_email(one) == masked_email(two)  # two workers of one installation share it
    assert not (tmp_path / "one" / "mask.key").exists()
    for file in every_file(tmp_path / "one" / "snapshots"):
        assert b"k" * 40 not in file.read_bytes()


def test_a_weak_or_exposed_key_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from connectors.errors import Fatal

    monkeypatch.setenv("TEST_MASK_KEY", "secret")
    with pytest.raises(Fatal, match="snapshots.mask_key is too short") as info:
        masked_email(installed_store(tmp_path / "short", 'mask_key = "env:TEST_MASK_KEY"'))
    assert "'secret'" not in str(info.value) and "Resolution:" in str(info.value)
    with pytest.raises(Fatal, match="inside the snapshot folder"):
        masked_email(installed_store(tmp_path / "inside", 'mask_key_file = "snapshots/mask.key"'))
    if os.name == "posix":
        store = installed_store(tmp_path / "open")
        (tmp_path / "open" / "mask.key").write_text("ab" * 32)
        (tmp_path / "open" / "mask.key").chmod(0o644)
        with pytest.raises(Fatal, match="readable by other users") as info:
            masked_email(store)
        assert "ab" * 32 not in str(info.value)
