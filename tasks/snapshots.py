"""Parquet snapshots of what every run read, refused, sent and got back, for auditors.

One hive-partitioned dataset ``flow=<flow>/entity=<entity>/date=<YYYY-MM-DD>/<run>-<stage>-<n>.parquet``
under a local folder or ``s3://bucket/prefix``. Every row: run id, flow, entity, stage
(``read``, ``rejected``, ``sent``, ``answered``, ...), record key, content hash, JSON payload
and the UTC time it was recorded.

What changed is written, not what was read: a ``read`` row whose content hash is the one last
written for its (flow, entity, key) is not written again (``_index/last``, :class:`LastIndex`),
except for the first read of each period of ``full_snapshot`` (monthly by default), so that every
month holds every record read in it. Other stages are always written. :meth:`SnapshotStore.compact`
rewrites each past day as one file sorted by key, indexed by key and SKU
(``tasks/snapshot_index.py``); :meth:`SnapshotStore.apply_retention` deletes what is older than
each flow's retention. Layout, measurements and a DuckDB query: docs/snapshots.md.

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
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import urlparse

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from connectors.models import to_jsonable
from tasks.snapshot_index import (
    COMPACTED,
    DayFiles,
    LastIndex,
    compact_day,
    compact_month,
    ends_before,
    entity_days,
    from_micros,
    index_dates,
    index_keys_for_sku,
    micros,
    partitions,
    prune_index,
)

__all__ = [
    "FULL_SNAPSHOTS",
    "upkeep",
    "MIN_KEY_BYTES",
    "PERSONAL_FIELDS",
    "READ",
    "SnapshotRow",
    "SnapshotStore",
    "mask_payload",
    "s3_filesystem",
]

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
LISTING_SECONDS = 10.0
"""How long a reader trusts a listing of the dataset it made (see :meth:`SnapshotStore._cached`)."""
FILES_AT_ONCE = 32
"""Files a look-up reads at once (pyarrow's default, 4, leaves S3 round trips waiting)."""
READ = "read"
"""The stage whose unchanged rows are not written again."""
FULL_SNAPSHOTS = ("always", "daily", "weekly", "monthly", "yearly", "never")
"""How often every record read is written even when unchanged (``always``: no change detection)."""


def _period(at: datetime, full_snapshot: str) -> str:
    if full_snapshot == "daily":
        return at.strftime("%Y-%m-%d")
    if full_snapshot == "weekly":
        year, week, _ = at.isocalendar()
        return f"{year}-W{week:02d}"
    if full_snapshot == "monthly":
        return at.strftime("%Y-%m")
    if full_snapshot == "yearly":
        return at.strftime("%Y")
    return ""


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
        full_snapshot: one of :data:`FULL_SNAPSHOTS`: a record read unchanged is written again
            at its first read of each such period (``always``: every read is written).
    """

    def __init__(
        self,
        root: str,
        *,
        filesystem: pafs.FileSystem | None = None,
        mask_fields: Iterable[str] = (),
        mask_key: str | bytes | Callable[[], str | bytes] | None = None,
        full_snapshot: str = "monthly",
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
        if full_snapshot not in FULL_SNAPSHOTS:
            raise ValueError(f"full_snapshot must be one of {', '.join(FULL_SNAPSHOTS)}, not {full_snapshot!r}")
        self.full_snapshot = full_snapshot
        self.last = LastIndex(self.fs, self.path)
        self._listings: dict[tuple[str, ...], tuple[float, Any]] = {}

    def _cached(self, key: tuple[str, ...], make: Callable[[], Any]) -> Any:
        """Listings, kept :data:`LISTING_SECONDS` (one ``audit history`` asks for them several
        times: by key, by SKU, then by the keys found); dropped by any write of this store."""
        now = time.monotonic()
        hit = self._listings.get(key)
        if hit is not None and now - hit[0] < LISTING_SECONDS:
            return hit[1]
        value = make()
        self._listings[key] = (now, value)
        return value

    def _partitions(self, flow: str | None, entity: str | None) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = self._cached(
            ("partitions", flow or "", entity or ""),
            lambda: partitions(self.fs, self.path, flow=flow, entity=entity),
        )
        return found

    def _days(self, flow: str, entity: str) -> dict[str, DayFiles]:
        days: dict[str, DayFiles] = self._cached(
            ("days", flow, entity), lambda: entity_days(self.fs, self.path, flow, entity)
        )
        return days

    def _each(self, pairs: list[tuple[str, str]], work: Callable[[str, str], list[Any]]) -> list[Any]:
        """``work`` on every (flow, entity), concurrently (on S3 each is a few requests), in order."""
        if len(pairs) <= 1:
            return [x for f, e in pairs for x in work(f, e)]
        with ThreadPoolExecutor(max_workers=min(8, len(pairs))) as pool:
            return [x for part in pool.map(lambda p: work(*p), pairs) for x in part]

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
        """Append one file of ``rows`` for (run, flow, entity, stage); returns the rows written.

        ``read`` rows with a hash already written for their key in this ``full_snapshot`` period
        are left out (and noted as seen in the last-hash index); every other row is written.
        """
        if not rows:
            return 0
        at = (at or datetime.now(timezone.utc)).astimezone(timezone.utc)
        if stage == READ and self.full_snapshot != "always" and any(r.hash is not None for r in rows):
            rows = self._changed(run_id=run_id, flow=flow, entity=entity, rows=rows, at=at)
        else:
            self._append(run_id=run_id, flow=flow, entity=entity, stage=stage, rows=rows, at=at)
        return len(rows)

    def _changed(
        self, *, run_id: str, flow: str, entity: str, rows: Sequence[SnapshotRow], at: datetime
    ) -> list[SnapshotRow]:
        """Write the rows that changed, then record every hashed row as seen; returns those written."""
        last = self.last.load(flow, entity)
        period = _period(at, self.full_snapshot)
        now = micros(at)
        periods: dict[int, str] = {}  # the written times of one index are a few run times
        written: list[SnapshotRow] = []
        seen: list[str] = []
        for r in rows:
            if r.hash is None:
                written.append(r)
                continue
            before = last.get(r.key)
            if before is not None and before[0] == r.hash:
                then = periods.get(before[1])
                if then is None:
                    then = periods[before[1]] = _period(from_micros(before[1]), self.full_snapshot)
                if then == period:
                    last[r.key] = (before[0], before[1], now, run_id)
                    seen.append(r.key)
                    continue
            written.append(r)
            last[r.key] = (r.hash, now, now, run_id)
            seen.append(r.key)
        if written:
            self._append(run_id=run_id, flow=flow, entity=entity, stage=READ, rows=written, at=at)
        # After the rows: a crash in between writes a row again next time, never skips a change.
        self.last.save(flow, entity, last, changed=seen)
        return written

    def _append(
        self, *, run_id: str, flow: str, entity: str, stage: str, rows: Sequence[SnapshotRow], at: datetime
    ) -> None:
        self._listings.clear()
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

    def _files(self, flow: str, entity: str, key: str) -> list[str]:
        """The files that may hold rows of ``key``: every file of a day not compacted yet, and the
        compacted days the key index names."""
        files: list[str] = []
        compacted: dict[str, str] = {}
        for day in self._days(flow, entity).values():
            if day.compacted:
                compacted[day.date] = day.files[0]
            else:
                files.extend(day.files)
        if compacted:
            files.extend(
                compacted[d] for d in sorted(index_dates(self.fs, self.path, flow, entity, key)) if d in compacted
            )
        return files

    def _read(self, files: list[str], expr: pc.Expression | None, columns: list[str] | None = None) -> pa.Table:
        dataset = ds.dataset(
            files,
            format="parquet",
            filesystem=self.fs,
            schema=SCHEMA,
            partitioning=PARTITIONING,
            partition_base_dir=self.path,
        )
        # Many small reads (a footer and a row group per day): on S3, more of them at once.
        return dataset.to_table(filter=expr, columns=columns, fragment_readahead=FILES_AT_ONCE)

    def history(
        self, entity: str, key: str, *, flow: str | None = None, run_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Every snapshot row of one record, oldest first: what was read, refused, sent, answered.

        Reads only the files that may hold the key (:meth:`_files`): a year of compacted days
        costs a listing, the key index and the row groups holding the key.
        """
        files: list[str] = self._each(self._partitions(flow, entity), lambda f, e: self._files(f, e, key))
        if not files:
            return []
        expr = pc.field("key") == key
        if run_id is not None:
            expr = expr & (pc.field("run_id") == run_id)
        return _rows(self._read(files, expr))

    def unchanged_since(self, entity: str, key: str, *, flow: str | None = None) -> list[dict[str, Any]]:
        """Per flow that reads the record: the hash last written, when, and the last time (and run)
        it was read again unchanged; for "unchanged since" under a history."""
        found: list[dict[str, Any]] = []
        for f, e in self._partitions(flow, entity):
            entry = self.last.load(f, e).get(key)
            if entry is not None:
                found.append(
                    {
                        "flow": f,
                        "hash": entry[0],
                        "written_at": from_micros(entry[1]),
                        "seen_at": from_micros(entry[2]),
                        "seen_run": entry[3],
                    }
                )
        return found

    def keys_for_sku(self, sku: str, *, entity: str | None = None) -> list[str]:
        """Record keys whose payload carries this SKU (auditors know SKUs, not ERP ids): the SKU
        index of compacted days, and the payloads of the days not compacted yet."""
        needle = json.dumps({"sku": sku}, ensure_ascii=False)[1:-1]  # '"sku": "X"' as written by json.dumps

        def found(f: str, e: str) -> list[str]:
            keys = index_keys_for_sku(self.fs, self.path, f, e, sku)
            recent = [p for d in self._days(f, e).values() if not d.compacted for p in d.files]
            if recent:
                table = self._read(recent, pc.match_substring(pc.field("payload"), needle), columns=["key", "payload"])
                keys += [
                    key
                    for key, payload in zip(
                        table.column("key").to_pylist(), table.column("payload").to_pylist(), strict=True
                    )
                    if json.loads(payload).get("sku") == sku
                ]
            return keys

        return list(dict.fromkeys(self._each(self._partitions(None, entity), found)))

    def query(
        self,
        *,
        entity: str | None = None,
        key: str | None = None,
        flow: str | None = None,
        run_id: str | None = None,
        stage: str | None = None,
    ) -> list[dict[str, Any]]:
        """Rows matching every given field (a scan of the whole dataset: prefer :meth:`history`)."""
        dataset = self._dataset()
        if dataset is None:
            return []
        expr = None
        for name, value in (("entity", entity), ("key", key), ("flow", flow), ("run_id", run_id), ("stage", stage)):
            if value is not None:
                cond = pc.field(name) == value
                expr = cond if expr is None else expr & cond
        return _rows(dataset.to_table(filter=expr))

    # -- upkeep -------------------------------------------------------------------------------

    def compact(self, *, before: date | None = None, flow: str | None = None) -> dict[str, int]:
        """Compact every day before ``before`` (default: today, UTC) that is not compacted yet (one
        file per (flow, entity, day) sorted by key, indexed), then merge the days of every month
        over before ``before``'s month into one file per (flow, entity, month). Returns the days
        compacted, the small files they held, their rows, and the months merged."""
        self._listings.clear()
        before_day = (before or datetime.now(timezone.utc).date()).isoformat()
        done = {"days": 0, "files": 0, "rows": 0, "months": 0}
        for f, e in partitions(self.fs, self.path, flow=flow, entity=None):
            days = entity_days(self.fs, self.path, f, e)
            for day in days.values():
                if len(day.date) == 10 and day.date < before_day and not day.compacted:
                    done["rows"] += compact_day(self.fs, self.path, f, e, day)
                    done["days"] += 1
                    done["files"] += len(day.files)
                    day.files = [f"{self.path}/flow={f}/entity={e}/date={day.date}/{COMPACTED}"]
            months: dict[str, list[DayFiles]] = {}
            for day in days.values():
                if day.date[:7] < before_day[:7] and day.compacted:
                    months.setdefault(day.date[:7], []).append(day)
            for month, parts in months.items():
                if any(part.date != month for part in parts):
                    compact_month(self.fs, self.path, f, e, month, parts)
                    done["months"] += 1
        return done

    def apply_retention(
        self, retention_months: Mapping[str, int], *, now: datetime | None = None, dry_run: bool = False
    ) -> list[tuple[str, str, str, int, int]]:
        """Delete the days (and compacted months) older than the retention of their ``flow/entity``
        (or ``flow``) in ``retention_months``; a flow named in neither is kept forever. Returns
        (flow, entity, first day kept, days deleted, months deleted) for every (flow, entity) with
        a retention."""
        self._listings.clear()
        now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
        report: list[tuple[str, str, str, int, int]] = []
        for f, e in partitions(self.fs, self.path, flow=None, entity=None):
            months = retention_months.get(f"{f}/{e}", retention_months.get(f))
            if months is None:
                continue
            cutoff = _months_before(now, months)
            first_kept = cutoff.date().isoformat()
            old = [d for d in entity_days(self.fs, self.path, f, e).values() if ends_before(d.date, first_kept)]
            if not dry_run:
                for day in old:
                    self.fs.delete_dir(f"{self.path}/flow={f}/entity={e}/date={day.date}")
                prune_index(self.fs, self.path, f, e, first_kept)
                self.last.forget_before(f, e, cutoff)
            months = sum(len(d.date) == 7 for d in old)
            report.append((f, e, first_kept, len(old) - months, months))
        return report


def upkeep(
    store: SnapshotStore,
    retention_months: Mapping[str, int],
    *,
    before: date | None = None,
    retention: bool = True,
    dry_run: bool = False,
) -> dict[str, Any]:
    """The nightly upkeep of ``passerelle audit compact`` and of the ``compact-snapshots`` flow:
    :meth:`SnapshotStore.compact` (not on a dry run), then :meth:`SnapshotStore.apply_retention`
    when ``retention`` and a retention is configured. Returns what was done, for a report."""
    done: dict[str, Any] = {"compacted": None, "retention": [], "retention_configured": bool(retention_months)}
    if not dry_run:
        done["compacted"] = store.compact(before=before)
    if retention and retention_months:
        done["retention"] = [
            {"flow": f, "entity": e, "first_kept": first, "days": days, "months": months}
            for f, e, first, days, months in store.apply_retention(retention_months, dry_run=dry_run)
        ]
    return done


def _months_before(now: datetime, months: int) -> datetime:
    year, month = divmod(now.year * 12 + now.month - 1 - months, 12)
    return datetime(year, month + 1, 1, tzinfo=timezone.utc)


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    """Rows oldest first, payloads parsed; a row held twice (a day whose compaction was
    interrupted before its small files were deleted) once."""
    rows: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()
    for row in table.sort_by([("recorded_at", "ascending")]).to_pylist():
        identity = tuple(row[n] for n in ("flow", "entity", "run_id", "stage", "key", "hash", "recorded_at", "payload"))
        if identity in seen:
            continue
        seen.add(identity)
        row["date"] = row["recorded_at"].strftime("%Y-%m-%d")  # a merged month's partition is the month
        row["payload"] = json.loads(row["payload"]) if row["payload"] else None
        rows.append(row)
    return rows
