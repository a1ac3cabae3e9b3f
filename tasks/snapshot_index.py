"""The indexes and the upkeep of the snapshot dataset (``tasks/snapshots.py``): docs/snapshots.md.

Everything lives beside the data, under ``<root>/_index/`` (a name that pyarrow, DuckDB, Spark and
Trino skip when they read ``flow=*/entity=*/date=*``), so that it works the same on a folder and
on S3 and travels with the snapshots:

- ``_index/last/flow=F/entity=E/last.parquet``: per record key, the content hash of the last
  ``read`` row written, when it was written, and when (and by which run) it was last read. Lets
  :meth:`SnapshotStore.write` skip a record read again unchanged.
- ``_index/keys/flow=F/entity=E/month=YYYY-MM/keys.parquet``: (key, date, rows) of every compacted
  day of the month, sorted by key (row-group statistics: a look-up reads one row group).
- ``_index/skus/flow=F/entity=E/month=YYYY-MM/skus.parquet``: (sku, key), sorted by SKU.

Compaction (:func:`compact_day`) turns one day's small files into one ``compacted.parquet``
sorted by key and recorded time, in row groups of :data:`ROW_GROUP_ROWS`; a day whose folder holds
that file alone is "compacted" and is found through the key index; any other day is scanned whole.
Once a month is over, :func:`compact_month` merges its compacted days into one file,
``date=YYYY-MM/compacted.parquet`` (the partition value is then the month): a year is twelve
files, and a record spread over the whole year costs twelve footers and row groups, not 365.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

__all__ = [
    "COMPACTED",
    "INDEX_DIR",
    "ROW_GROUP_ROWS",
    "DayFiles",
    "Entry",
    "LastIndex",
    "compact_day",
    "compact_month",
    "ends_before",
    "entity_days",
    "from_micros",
    "index_dates",
    "index_keys_for_sku",
    "micros",
    "partitions",
    "rebuild_index",
]

INDEX_DIR = "_index"
COMPACTED = "compacted.parquet"
ROW_GROUP_ROWS = 2_000
"""Rows per row group of a compacted day and of the key index (measured: docs/snapshots.md)."""

FILE_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("stage", pa.string()),
        ("key", pa.string()),
        ("hash", pa.string()),
        ("payload", pa.string()),
        ("recorded_at", pa.timestamp("us", tz="UTC")),
    ]
)
"""The columns in a file (flow, entity and date are in its path)."""
LAST_SCHEMA = pa.schema(
    [
        ("key", pa.string()),
        ("hash", pa.string()),
        ("written_at", pa.timestamp("us", tz="UTC")),
        ("seen_at", pa.timestamp("us", tz="UTC")),
        ("seen_run", pa.string()),
    ]
)
KEYS_SCHEMA = pa.schema([("key", pa.string()), ("date", pa.string()), ("rows", pa.int32())])
SKUS_SCHEMA = pa.schema([("sku", pa.string()), ("key", pa.string())])


def _info(fs: pafs.FileSystem, path: str) -> pafs.FileInfo:
    return fs.get_file_info(path)


def _exists(fs: pafs.FileSystem, path: str) -> bool:
    try:
        return _info(fs, path).type != pafs.FileType.NotFound
    except OSError:
        return False


def _listing(fs: pafs.FileSystem, path: str, *, recursive: bool) -> list[pafs.FileInfo]:
    try:
        return fs.get_file_info(pafs.FileSelector(path, recursive=recursive, allow_not_found=True))
    except (OSError, FileNotFoundError):
        return []


def _write_atomic(fs: pafs.FileSystem, table: pa.Table, path: str, *, row_group_size: int = ROW_GROUP_ROWS) -> None:
    """Write ``path`` whole or not at all (a temporary file moved over it: a rename on a folder,
    a single PUT on S3)."""
    folder, _, name = path.rpartition("/")
    fs.create_dir(folder, recursive=True)
    tmp = f"{folder}/.{name}.{uuid.uuid4().hex[:8]}.tmp"
    pq.write_table(table, tmp, filesystem=fs, row_group_size=row_group_size, compression="zstd")
    fs.move(tmp, path)


def partitions(fs: pafs.FileSystem, root: str, *, flow: str | None, entity: str | None) -> list[tuple[str, str]]:
    """(flow, entity) pairs present under ``root`` (one listing per level)."""
    flows = [flow] if flow is not None else _names(fs, root, "flow=")
    found: list[tuple[str, str]] = []
    for f in flows:
        if entity is not None:
            found.append((f, entity))
        else:
            found.extend((f, e) for e in _names(fs, f"{root}/flow={f}", "entity="))
    return found


def _names(fs: pafs.FileSystem, path: str, prefix: str) -> list[str]:
    return sorted(
        i.base_name.removeprefix(prefix)
        for i in _listing(fs, path, recursive=False)
        if i.type == pafs.FileType.Directory and i.base_name.startswith(prefix)
    )


@dataclass
class DayFiles:
    """The data files of one (flow, entity, date)."""

    date: str
    files: list[str] = field(default_factory=list)

    @property
    def compacted(self) -> bool:
        return len(self.files) == 1 and self.files[0].endswith("/" + COMPACTED)


def entity_days(fs: pafs.FileSystem, root: str, flow: str, entity: str) -> dict[str, DayFiles]:
    """Every day of (flow, entity) with its files: one recursive listing (one S3 LIST per 1 000)."""
    days: dict[str, DayFiles] = {}
    for info in _listing(fs, f"{root}/flow={flow}/entity={entity}", recursive=True):
        if info.type != pafs.FileType.File or not info.base_name.endswith(".parquet"):
            continue
        if info.base_name.startswith((".", "_")):
            continue
        folder = info.path.rsplit("/", 2)[-2]
        if not folder.startswith("date="):
            continue
        date = folder.removeprefix("date=")
        days.setdefault(date, DayFiles(date)).files.append(info.path)
    return dict(sorted(days.items()))


def _index_folder(root: str, kind: str, flow: str, entity: str) -> str:
    return f"{root}/{INDEX_DIR}/{kind}/flow={flow}/entity={entity}"


def _index_files(fs: pafs.FileSystem, root: str, kind: str, flow: str, entity: str) -> list[str]:
    name = f"{kind}.parquet"
    return sorted(
        i.path
        for i in _listing(fs, _index_folder(root, kind, flow, entity), recursive=True)
        if i.type == pafs.FileType.File and i.base_name == name
    )


def index_dates(fs: pafs.FileSystem, root: str, flow: str, entity: str, key: str) -> set[str]:
    """The compacted days of (flow, entity) holding rows of ``key``, from the key index."""
    files = _index_files(fs, root, "keys", flow, entity)
    if not files:
        return set()
    table = ds.dataset(files, format="parquet", filesystem=fs, schema=KEYS_SCHEMA).to_table(
        columns=["date"], filter=pc.field("key") == key, fragment_readahead=16
    )
    return set(table.column("date").to_pylist())


def index_keys_for_sku(fs: pafs.FileSystem, root: str, flow: str, entity: str, sku: str) -> list[str]:
    files = _index_files(fs, root, "skus", flow, entity)
    if not files:
        return []
    table = ds.dataset(files, format="parquet", filesystem=fs, schema=SKUS_SCHEMA).to_table(
        columns=["key"], filter=pc.field("sku") == sku, fragment_readahead=16
    )
    return list(dict.fromkeys(table.column("key").to_pylist()))


def _sku(payload: str | None) -> str | None:
    if not payload or '"sku"' not in payload:
        return None
    try:
        value = json.loads(payload)
    except ValueError:
        return None
    sku = value.get("sku") if isinstance(value, dict) else None
    return sku if isinstance(sku, str) else None


def compact_day(fs: pafs.FileSystem, root: str, flow: str, entity: str, day: DayFiles) -> int:
    """Rewrite one day's files as ``compacted.parquet`` (sorted by key, then time; duplicates from an
    interrupted compaction dropped), index it, then delete the small files. Returns the rows kept.

    Safe to interrupt anywhere: until the small files are deleted the day is not "compacted" and is
    read whole, and compacting it again drops the rows it would hold twice.
    """
    table = pa.concat_tables([pq.read_table(path, filesystem=fs, schema=FILE_SCHEMA) for path in day.files]).select(
        FILE_SCHEMA.names
    )
    table = _drop_duplicates(table).sort_by([("key", "ascending"), ("recorded_at", "ascending")])
    folder = f"{root}/flow={flow}/entity={entity}/date={day.date}"
    _write_atomic(fs, table, f"{folder}/{COMPACTED}")
    _index_day(fs, root, flow, entity, day.date, table)
    for path in day.files:
        if not path.endswith("/" + COMPACTED):
            fs.delete_file(path)
    return table.num_rows


def compact_month(fs: pafs.FileSystem, root: str, flow: str, entity: str, month: str, parts: list[DayFiles]) -> int:
    """Merge the compacted days of ``month`` (``YYYY-MM``; with the month's own file when a day came
    in after it was made) into ``date=YYYY-MM/compacted.parquet``, sorted by key then time, index the
    month by it, then delete the days. Returns the rows kept.

    Safe to interrupt anywhere: until the index is written the days are what it names and what is
    read; after, the month file holds every row of the days still there (read, they would only be
    rows held twice, which the history and the next compaction keep once).
    """
    tables = [pq.read_table(path, filesystem=fs, schema=FILE_SCHEMA) for part in parts for path in part.files]
    table = pa.concat_tables([t.select(FILE_SCHEMA.names) for t in tables])
    if any(part.date == month for part in parts):  # distinct days hold distinct rows; the month may hold theirs
        table = _drop_duplicates(table)
    table = table.sort_by([("key", "ascending"), ("recorded_at", "ascending")])
    _write_atomic(fs, table, f"{root}/flow={flow}/entity={entity}/date={month}/{COMPACTED}")
    keys, pairs = _day_index(table, month)
    _write_month(fs, root, flow, entity, month, keys, pairs)
    for part in parts:
        if part.date != month:
            fs.delete_dir(f"{root}/flow={flow}/entity={entity}/date={part.date}")
    return table.num_rows


def ends_before(partition: str, first_kept: str) -> bool:
    """Whether every row of a ``date=`` partition (a day ``YYYY-MM-DD`` or a compacted month
    ``YYYY-MM``) is older than the day ``first_kept``: a month is only when it ends before it."""
    return partition < first_kept[: len(partition)]


def _drop_duplicates(table: pa.Table) -> pa.Table:
    seen: set[tuple[Any, ...]] = set()
    keep: list[int] = []
    columns = [table.column(n).to_pylist() for n in ("run_id", "stage", "key", "hash", "recorded_at", "payload")]
    for i, row in enumerate(zip(*columns, strict=True)):
        if row not in seen:
            seen.add(row)
            keep.append(i)
    return table if len(keep) == table.num_rows else table.take(pa.array(keep, pa.int64()))


def _day_index(table: pa.Table, date: str) -> tuple[pa.Table, set[tuple[str, str]]]:
    """The key index rows and the (sku, key) pairs of one day's rows."""
    counts = table.group_by("key").aggregate([("key", "count")])
    day_keys = pa.table(
        {
            "key": counts.column("key"),
            "date": pa.array([date] * counts.num_rows, pa.string()),
            "rows": pc.cast(counts.column("key_count"), pa.int32()),
        },
        schema=KEYS_SCHEMA,
    )
    pairs = {
        (sku, key)
        for key, payload in zip(table.column("key").to_pylist(), table.column("payload").to_pylist(), strict=True)
        if (sku := _sku(payload)) is not None
    }
    return day_keys, pairs


def _write_month(
    fs: pafs.FileSystem, root: str, flow: str, entity: str, month: str, keys: pa.Table, pairs: set[tuple[str, str]]
) -> None:
    keys_path = f"{_index_folder(root, 'keys', flow, entity)}/month={month}/keys.parquet"
    _write_atomic(fs, keys.sort_by([("key", "ascending"), ("date", "ascending")]), keys_path)
    if pairs:
        ordered = sorted(pairs)
        skus = pa.table({"sku": [s for s, _ in ordered], "key": [k for _, k in ordered]}, schema=SKUS_SCHEMA)
        _write_atomic(fs, skus, f"{_index_folder(root, 'skus', flow, entity)}/month={month}/skus.parquet")


def _index_day(fs: pafs.FileSystem, root: str, flow: str, entity: str, date: str, table: pa.Table) -> None:
    month = date[:7]
    day_keys, pairs = _day_index(table, date)
    old = _read_if_exists(fs, f"{_index_folder(root, 'keys', flow, entity)}/month={month}/keys.parquet", KEYS_SCHEMA)
    if old is not None:
        day_keys = pa.concat_tables([old.filter(pc.field("date") != date), day_keys])
    old = _read_if_exists(fs, f"{_index_folder(root, 'skus', flow, entity)}/month={month}/skus.parquet", SKUS_SCHEMA)
    if old is not None:
        pairs |= set(zip(old.column("sku").to_pylist(), old.column("key").to_pylist(), strict=True))
    _write_month(fs, root, flow, entity, month, day_keys, pairs)


def rebuild_index(fs: pafs.FileSystem, root: str, flow: str, entity: str) -> int:
    """Write the key and SKU index of (flow, entity) again from its compacted days (a repair, or
    after copying days in); returns the months indexed."""
    months: dict[str, list[DayFiles]] = {}
    for day in entity_days(fs, root, flow, entity).values():
        if day.compacted:
            months.setdefault(day.date[:7], []).append(day)
    for month, days in months.items():
        tables: list[pa.Table] = []
        pairs: set[tuple[str, str]] = set()
        for day in days:
            day_keys, day_pairs = _day_index(
                pq.read_table(day.files[0], filesystem=fs, columns=["key", "payload"]), day.date
            )
            tables.append(day_keys)
            pairs |= day_pairs
        _write_month(fs, root, flow, entity, month, pa.concat_tables(tables), pairs)
    return len(months)


def _read_if_exists(fs: pafs.FileSystem, path: str, schema: pa.Schema) -> pa.Table | None:
    if not _exists(fs, path):
        return None
    return pq.read_table(path, filesystem=fs, schema=schema)


def prune_index(fs: pafs.FileSystem, root: str, flow: str, entity: str, before: str) -> None:
    """Drop the index entries of days before ``before`` (``YYYY-MM-DD``), for retention."""
    for kind, schema in (("keys", KEYS_SCHEMA), ("skus", SKUS_SCHEMA)):
        for path in _index_files(fs, root, kind, flow, entity):
            month = path.rsplit("/", 2)[-2].removeprefix("month=")
            if month < before[:7]:
                fs.delete_dir(path.rsplit("/", 1)[0])
            elif kind == "keys" and month == before[:7]:
                table = pq.read_table(path, filesystem=fs, schema=schema)
                kept = [not ends_before(d, before) for d in table.column("date").to_pylist()]
                _write_atomic(fs, table.filter(pa.array(kept, pa.bool_())), path)


Entry = tuple[str, int, int, str]
"""A key's last-hash index entry: (hash, written at, last read at, run that last read it); times
in microseconds since the epoch (UTC), cheaper than datetimes for 100 000 keys a run."""


def micros(value: datetime) -> int:
    return int(value.timestamp() * 1_000_000)


def from_micros(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1_000_000, tz=timezone.utc)


class LastIndex:
    """Per (flow, entity): the last ``read`` hash written for each key (see the module docstring).

    Read when a write needs it, written back after the rows. Two processes writing one (flow,
    entity) at once (two connections reading one ERP) merge on save, the later write of a key
    winning; a lost update can only make a later run write a row again, never skip a change.
    """

    def __init__(self, fs: pafs.FileSystem, root: str) -> None:
        self.fs = fs
        self.root = root

    def path(self, flow: str, entity: str) -> str:
        return f"{_index_folder(self.root, 'last', flow, entity)}/last.parquet"

    def load(self, flow: str, entity: str) -> dict[str, Entry]:
        table = _read_if_exists(self.fs, self.path(flow, entity), LAST_SCHEMA)
        if table is None:
            return {}
        columns = [
            table.column(n).cast(pa.int64()).to_pylist()
            if n in ("written_at", "seen_at")
            else table.column(n).to_pylist()
            for n in LAST_SCHEMA.names
        ]
        return {k: (h, w, s, r) for k, h, w, s, r in zip(*columns, strict=True)}

    def save(self, flow: str, entity: str, mine: dict[str, Entry], *, changed: Iterable[str]) -> None:
        merged = self.load(flow, entity)
        for key in changed:
            entry = mine[key]
            other = merged.get(key)
            if other is None:
                merged[key] = entry
                continue
            written = entry if entry[1] >= other[1] else other
            seen = entry if entry[2] >= other[2] else other
            merged[key] = (written[0], written[1], seen[2], seen[3])
        self._write(flow, entity, merged)

    def _write(self, flow: str, entity: str, entries: dict[str, Entry]) -> None:
        keys = sorted(entries)
        values = [entries[k] for k in keys]
        stamp = pa.timestamp("us", tz="UTC")
        table = pa.table(
            {
                "key": keys,
                "hash": [v[0] for v in values],
                "written_at": pa.array([v[1] for v in values], pa.int64()).cast(stamp),
                "seen_at": pa.array([v[2] for v in values], pa.int64()).cast(stamp),
                "seen_run": [v[3] for v in values],
            },
            schema=LAST_SCHEMA,
        )
        _write_atomic(self.fs, table, self.path(flow, entity), row_group_size=64_000)

    def forget_before(self, flow: str, entity: str, before: datetime) -> None:
        """Retention: a key whose last row is deleted must be written again when next read."""
        entries = self.load(flow, entity)
        cutoff = micros(before)
        kept = {k: v for k, v in entries.items() if v[1] >= cutoff}
        if len(kept) != len(entries):
            self._write(flow, entity, kept)


def utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)
