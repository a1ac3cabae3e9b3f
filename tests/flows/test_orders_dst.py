"""Orders placed around a daylight-saving change in Europe/Paris are all imported, each once.

The shop here keeps wall-clock times without an offset, as PrestaShop does (``date_upd`` in the
shop's time zone): the case where a change of time loses orders. It is an in-process shop (the
order source reads its naive local times with ``connectors/timezones.py``, as a PrestaShop
connector does); the ERP is the real files connector (order files in an outbox); the flow runs
under Prefect every 30 minutes of a simulated clock through the night of the change, with no
overlap, so the windows alone must be right.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal as D
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import flows.orders as order_flow
from connectors import registry
from connectors.base import OrderSource
from connectors.models import Address, Customer, Order, OrderLine, Payment
from connectors.timezones import local_bounds, possible_instants, to_utc, within
from flows.orders import import_orders
from tasks.state import StateStore

pytestmark = pytest.mark.usefixtures("prefect_harness")

UTC = timezone.utc
PARIS = ZoneInfo("Europe/Paris")
CLOCK: dict[str, datetime] = {}
SHOPS: dict[str, LocalClockShop] = {}


class LocalClockShop:
    """Orders with naive Europe/Paris ``date_upd``; an order exists once the clock passed it."""

    platform = "local-clock shop"

    def __init__(self, placed: Sequence[datetime]) -> None:
        # The shop records the wall clock only: the instant is lost, as in PrestaShop's database.
        self.rows = [
            (str(i + 1), instant, instant.astimezone(PARIS).replace(tzinfo=None)) for i, instant in enumerate(placed)
        ]
        self.reads = 0

    def _visible(self) -> Iterator[tuple[str, datetime]]:
        for shop_id, instant, wall in self.rows:
            if instant <= CLOCK["now"]:
                yield shop_id, wall

    def iter_orders(self, since: datetime | None, until: datetime | None) -> Iterator[Order]:
        low, high = local_bounds(since, until, PARIS)  # the shop's filter[date_upd]=[low,high]
        for shop_id, wall in sorted(self._visible(), key=lambda row: row[1]):
            if (low is None or wall >= low) and (high is None or wall < high) and within(wall, PARIS, since, until):
                self.reads += 1
                yield self._order(shop_id, wall)

    def get_orders(self, shop_ids: Sequence[str]) -> list[Order]:
        visible = dict(self._visible())
        return [self._order(i, visible[i]) for i in shop_ids if i in visible]

    @staticmethod
    def _order(shop_id: str, wall: datetime) -> Order:
        at = to_utc(wall, PARIS)
        address = Address("Lou", "Night", "1 rue de l'Horloge", "75004", "Paris", "FR")
        line = OrderLine("l1", "MUG", "Mug", D(1), D("10.00"), D("20"), D("10.00"), D("12.00"), variant_id="v-mug")
        return Order(
            shop_id=shop_id,
            reference=f"NIGHT{shop_id}",
            state="paid",
            created_at=at,
            updated_at=at,
            currency="EUR",
            customer=Customer(email=f"night{shop_id}@example.com"),
            billing=address,
            shipping=address,
            lines=[line],
            total=D("10.00"),
            total_tax_included=D("12.00"),
            payments=[Payment("card", D("12.00"), "settled", f"tx-{shop_id}", at)],
        )


def build_shop(options: dict[str, Any], resolver: Any) -> LocalClockShop:
    return SHOPS[options["name"]]


@pytest.mark.parametrize(
    ("night", "start"),
    [
        # 2026-10-25: 03:00 CEST -> 02:00 CET, the hour 02:00-03:00 happens twice.
        ("autumn", datetime(2026, 10, 24, 23, 0, tzinfo=UTC)),
        # 2026-03-29: 02:00 CET -> 03:00 CEST, the hour 02:00-03:00 never happens.
        ("spring", datetime(2026, 3, 28, 23, 0, tzinfo=UTC)),
    ],
)
def test_every_order_of_the_night_of_the_change_is_imported_once(
    night: str, start: datetime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An order every 7 minutes from 00:00 to 02:48 UTC: during and after the change.
    placed = [start + timedelta(hours=1, minutes=7 * i) for i in range(25)]
    shop = SHOPS[night] = LocalClockShop(placed)
    assert isinstance(shop, OrderSource)
    monkeypatch.setitem(registry.SHOP_CONNECTORS, "localclock", f"{__name__}:build_shop")
    monkeypatch.setattr(order_flow, "utcnow", lambda: CLOCK["now"])
    (tmp_path / "outbox").mkdir()
    config = tmp_path / "passerelle.toml"
    config.write_text(
        f"""
[state]
url = "sqlite:///state.db"
[snapshots]
root = "snapshots"
[connections.main.erp]
type = "files"
[connections.main.erp.orders]
outbox = "outbox"
shop = "vendure"
[connections.main.shop]
type = "localclock"
name = "{night}"
[connections.main.orders]
start = {start.isoformat()}
overlap_minutes = 0
""",
        encoding="utf-8",
    )
    store = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    store.upsert_bindings("main", "variant", [{"erp_key": "MUG", "shop_id": "v-mug", "state": "synced"}])
    store.dispose()

    imported = 0
    seen_at: dict[str, datetime] = {}
    CLOCK["now"] = start
    while CLOCK["now"] <= start + timedelta(hours=4):
        run = import_orders(config=str(config))
        assert run["failed"] == 0 and run["quarantined"] == 0
        imported += run["imported"]
        seen_at.update({o["shop_id"]: CLOCK["now"] for o in run["orders"] if o["status"] == "imported"})
        CLOCK["now"] += timedelta(minutes=30)
    # Each order by the first run after it was placed: not an hour late because of the change.
    late = {
        shop_id: str(seen_at.get(shop_id))
        for shop_id, instant, _ in shop.rows
        if not seen_at.get(shop_id, instant) - instant <= timedelta(minutes=30)
    }
    assert late == {}

    files = sorted(p.name for p in (tmp_path / "outbox").iterdir())
    assert imported == len(placed) == len(files)
    assert files == sorted(f"vendure-{i + 1}.csv" for i in range(len(placed)))
    # Nothing read twice, except (autumn) the orders of the repeated hour, which two windows can claim.
    repeated = sum(1 for _, _, wall in shop.rows if len(possible_instants(wall, PARIS)) > 1)
    assert repeated == (18 if night == "autumn" else 0)  # autumn: placed 00:00-01:59 UTC, every 7 minutes
    assert shop.reads <= len(placed) + 2 * repeated
