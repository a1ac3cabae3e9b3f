"""Parquet snapshots of what every run read, refused, sent and got back, for auditors.

One hive-partitioned dataset ``flow=<flow>/entity=<entity>/date=<YYYY-MM-DD>/<run>-<stage>-<n>.parquet``
under a local folder or ``s3://bucket/prefix``. Every row: run id, flow, entity, stage
(``read``, ``rejected``, ``sent``, ``answered``, ...), record key, content hash, JSON payload
and the UTC time it was recorded. Files are only ever added, never rewritten.

Personal data is masked: the values of :data:`PERSONAL_FIELDS` (every personal field of the
canonical ``Customer`` and ``Address``), and of any other field named in ``mask_fields``, at any
depth of a payload, are replaced by ``masked:`` and their full HMAC-SHA-256 keyed with the
installation's secret key. Equal values still compare equal within one installation; without
the key a dictionary of e-mail addresses or names cannot be matched against them, and values
masked by one installation mean nothing in another. There is no unkeyed masking: a store
without a key refuses to write a value it should mask.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from connectors.models import to_jsonable

__all__ = ["MIN_KEY_BYTES", "PERSONAL_FIELDS", "SnapshotRow", "SnapshotStore", "mask_payload", "s3_filesystem"]

PERSONAL_FIELDS = frozenset(
    {
        # connectors.models.Customer and Address: who ordered, where it goes
        "email",
        "phone",
        "first_name",
        "last_name",
        "company",
        "vat_number",
        "siret",
        "street",
        "street2",
        "postal_code",
        "city",
    }
)
"""Payload fields always masked (tests/unit/test_snapshots.py checks the list against the models)."""
MIN_KEY_BYTES = 16
"""A shorter key could be guessed along with the values."""

SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("stage", pa.string()),
        ("key", pa.string()),
        ("hash", pa.string()),
        ("payload", pa.string()),
        ("recorded_at", pa.timestamp("us", tz="UTC")),
        ("flow", pa.string()),
        ("entity", pa.string()),
        ("date", pa.string()),
    ]
)
PARTITIONING = ds.partitioning(
    pa.schema([("flow", pa.string()), ("entity", pa.string()), ("date", pa.string())]), flavor="hive"
)


@dataclass(frozen=True, slots=True)
class SnapshotRow:
    key: str
    hash: str | None
    payload: Any


def mask_payload(payload: Any, fields: frozenset[str], key: bytes) -> Any:
    """Copy of ``payload`` with the values of ``fields`` (at any depth) replaced by a keyed hash.

    Raises:
        ValueError: ``key`` is shorter than :data:`MIN_KEY_BYTES` (nothing is masked without a key).
    """
    return _Masker(fields, lambda: key).mask(payload)


class _Masker:
    """Masks payloads, asking for the key only when there is a value to mask (reading snapshots,
    or writing ones without personal data, needs no key)."""

    def __init__(self, fields: frozenset[str], key: Callable[[], bytes]) -> None:
        self.fields = fields
        self._source = key
        self._key: bytes | None = None

    def mask(self, payload: Any) -> Any:
        if not self.fields:
            return payload
        if isinstance(payload, dict):
            return {
                k: (self._value(v) if k in self.fields and v not in (None, "") else self.mask(v))
                for k, v in payload.items()
            }
        if isinstance(payload, list):
            return [self.mask(v) for v in payload]
        return payload

    def _value(self, value: Any) -> str:
        if self._key is None:
            key = self._source()
            if len(key) < MIN_KEY_BYTES:
                raise ValueError(
                    f"a snapshot mask key of at least {MIN_KEY_BYTES} bytes is needed to mask personal data "
                    "(none, or a shorter one, was given)"
                )
            self._key = key
        text = json.dumps(value, sort_keys=True, default=str)
        return "masked:" + hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()


def s3_filesystem(
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    access_key: str | None = None,
    secret_key: str | None = None,
    session_token: str | None = None,
) -> pafs.S3FileSystem:
    """pyarrow S3 filesystem with credentials from the arguments or boto3's usual chain."""
    if access_key is None:
        import boto3

        creds = boto3.Session(region_name=region).get_credentials()
        if creds is not None:
            frozen = creds.get_frozen_credentials()
            access_key, secret_key, session_token = frozen.access_key, frozen.secret_key, frozen.token
    options: dict[str, Any] = {"region": region or "us-east-1"}
    if access_key:
        options.update(access_key=access_key, secret_key=secret_key, session_token=session_token)
    if endpoint_url:
        parsed = urlparse(endpoint_url)
        options.update(endpoint_override=parsed.netloc or parsed.path, scheme=parsed.scheme or "https")
    return pafs.S3FileSystem(**options)


def _key_bytes(key: str | bytes | Callable[[], str | bytes] | None) -> bytes:
    value = key() if callable(key) else key
    return value.encode() if isinstance(value, str) else (value or b"")


class SnapshotStore:
    """Writes and reads the snapshot dataset.

    Args:
        root: a local folder or ``s3://bucket/prefix``.
        filesystem: an explicit pyarrow filesystem (S3 settings come from configuration).
        mask_fields: payload field names to mask besides :data:`PERSONAL_FIELDS`.
        mask_key: the installation's secret key of the masking HMAC, or a function giving it,
            called on the first value to mask (:func:`tasks.context.snapshot_store` makes
            one on first use); None: a payload with a value to mask is refused.
    """

    def __init__(
        self,
        root: str,
        *,
        filesystem: pafs.FileSystem | None = None,
        mask_fields: Iterable[str] = (),
        mask_key: str | bytes | Callable[[], str | bytes] | None = None,
    ) -> None:
        self.uri = root
        if root.startswith("s3://"):
            self.fs = filesystem or s3_filesystem()
            self.path = root.removeprefix("s3://").rstrip("/")
        else:
            self.fs = filesystem or pafs.LocalFileSystem()
            self.path = root.rstrip("/") or "."
        self.mask_fields = PERSONAL_FIELDS | frozenset(mask_fields)
        self._masker = _Masker(self.mask_fields, lambda: _key_bytes(mask_key))

    def write(
        self,
        *,
        run_id: str,
        flow: str,
        entity: str,
        stage: str,
        rows: Sequence[SnapshotRow],
        at: datetime | None = None,
    ) -> int:
        """Append one file of ``rows`` for (run, flow, entity, stage); returns the rows written."""
        if not rows:
            return 0
        at = (at or datetime.now(timezone.utc)).astimezone(timezone.utc)
        n = len(rows)
        payloads = [
            json.dumps(
                self._masker.mask(to_jsonable(r.payload)),
                sort_keys=True,
                ensure_ascii=False,
            )
            for r in rows
        ]
        table = pa.table(
            {
                "run_id": pa.array([run_id] * n, pa.string()),
                "stage": pa.array([stage] * n, pa.string()),
                "key": pa.array([r.key for r in rows], pa.string()),
                "hash": pa.array([r.hash for r in rows], pa.string()),
                "payload": pa.array(payloads, pa.string()),
                "recorded_at": pa.array([at] * n, pa.timestamp("us", tz="UTC")),
                "flow": pa.array([flow] * n, pa.string()),
                "entity": pa.array([entity] * n, pa.string()),
                "date": pa.array([at.strftime("%Y-%m-%d")] * n, pa.string()),
            },
            schema=SCHEMA,
        )
        ds.write_dataset(
            table,
            self.path,
            format="parquet",
            partitioning=PARTITIONING,
            filesystem=self.fs,
            # A unique part per call: two batches of one run and stage must never overwrite each other.
            basename_template=f"{at.strftime('%H%M%S')}-{run_id}-{stage}-{uuid.uuid4().hex[:8]}-{{i}}.parquet",
            existing_data_behavior="overwrite_or_ignore",
        )
        return n

    def location(self, flow: str, entity: str, at: datetime | None = None) -> str:
        day = (at or datetime.now(timezone.utc)).strftime("%Y-%m-%d")
        return f"{self.uri.rstrip('/')}/flow={flow}/entity={entity}/date={day}/"

    def _dataset(self) -> ds.Dataset | None:
        try:
            info = self.fs.get_file_info(self.path)
        except OSError:
            return None
        if info.type == pafs.FileType.NotFound:
            return None
        return ds.dataset(self.path, format="parquet", partitioning=PARTITIONING, filesystem=self.fs, schema=SCHEMA)

    def history(
        self, entity: str, key: str, *, flow: str | None = None, run_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Every snapshot row of one record, oldest first: what was read, refused, sent, answered."""
        return self.query(entity=entity, key=key, flow=flow, run_id=run_id)

    def keys_for_sku(self, sku: str, *, entity: str | None = None) -> list[str]:
        """Record keys whose payload carries this SKU (auditors know SKUs, not ERP ids)."""
        dataset = self._dataset()
        if dataset is None:
            return []
        needle = json.dumps({"sku": sku}, ensure_ascii=False)[1:-1]  # '"sku": "X"' as written by json.dumps
        expr = pc.match_substring(pc.field("payload"), needle)
        if entity is not None:
            expr = expr & (pc.field("entity") == entity)
        table = dataset.to_table(columns=["key", "payload"], filter=expr)
        keys: list[str] = []
        for key, payload in zip(table.column("key").to_pylist(), table.column("payload").to_pylist(), strict=True):
            if json.loads(payload).get("sku") == sku and key not in keys:
                keys.append(key)
        return keys

    def query(
        self,
        *,
        entity: str | None = None,
        key: str | None = None,
        flow: str | None = None,
        run_id: str | None = None,
        stage: str | None = None,
    ) -> list[dict[str, Any]]:
        dataset = self._dataset()
        if dataset is None:
            return []
        expr = None
        for name, value in (("entity", entity), ("key", key), ("flow", flow), ("run_id", run_id), ("stage", stage)):
            if value is not None:
                cond = pc.field(name) == value
                expr = cond if expr is None else expr & cond
        table = dataset.to_table(filter=expr)
        rows = table.sort_by([("recorded_at", "ascending")]).to_pylist()
        for row in rows:
            row["payload"] = json.loads(row["payload"]) if row["payload"] else None
        return rows
