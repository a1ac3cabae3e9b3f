"""The ``compact-snapshots`` flow (deployment ``snapshots-nightly``) on a real Prefect API: it
compacts, merges finished months and enforces ``retention_months``, and a second run has nothing
left to do. docs/snapshots.md."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

from flows.audit import compact_snapshots
from tasks.context import snapshot_store
from tasks.settings import load_config
from tasks.snapshots import SnapshotRow

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_harness")]

CONFIG = """
[snapshots]
root = "snapshots"
[snapshots.retention_months]
stock = 13
"import-orders" = 120
[connections.main.erp]
type = "files"
[connections.main.shop]
type = "vendure"
"""


def test_the_nightly_flow_compacts_merges_months_and_enforces_retention(tmp_path: Path) -> None:
    config = tmp_path / "passerelle.toml"
    config.write_text(CONFIG, encoding="utf-8")
    store = snapshot_store(load_config(str(config)))
    today = datetime.now(timezone.utc)
    old = datetime(today.year - 2, 1, 15, 8, tzinfo=timezone.utc)  # past 13 months: deleted
    last_month = datetime(today.year, today.month, 1, 8, tzinfo=timezone.utc).replace(day=1)
    last_month = last_month.replace(year=last_month.year - (last_month.month == 1),
                                    month=(last_month.month - 2) % 12 + 1)  # fmt: skip
    for at, run in ((old, "old"), (last_month, "m1"), (last_month.replace(day=2), "m2"), (today, "now")):
        store.write(run_id=run, flow="stock", entity="level", stage="read", at=at,
                    rows=[SnapshotRow("A@WH1", f"h-{run}", {"sku": "A", "quantity": len(run)})])  # fmt: skip
        store.write(run_id=run, flow="import-orders", entity="order", stage="read", at=at,
                    rows=[SnapshotRow(f"O-{run}", None, {"total": "1.00"})])  # fmt: skip

    done = compact_snapshots(config=str(config))
    assert done["compacted"]["days"] == 6 and done["compacted"]["months"] == 4  # 2 flows x (old, last month)
    retained = {(r["flow"], r["entity"]): r for r in done["retention"]}
    assert retained["stock", "level"]["months"] == 1 and retained["import-orders", "order"]["months"] == 0
    assert [r["run_id"] for r in store.history("level", "A@WH1")] == ["m1", "m2", "now"]
    assert store.history("order", "O-old")  # ten years for orders
    root = tmp_path / "snapshots" / "flow=stock" / "entity=level"
    assert sorted(p.name for p in root.iterdir()) == [
        f"date={last_month:%Y-%m}",
        f"date={today:%Y-%m-%d}",
    ]

    again = compact_snapshots(config=str(config), before=date.today())
    assert again["compacted"] == {"days": 0, "files": 0, "rows": 0, "months": 0}
    assert all(r["days"] == r["months"] == 0 for r in again["retention"])

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["snapshot-upkeep"])),
        )
    assert artifacts and any("stock | level" in str(a.data) for a in artifacts)  # the operator's report
