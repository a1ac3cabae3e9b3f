"""A signed WooCommerce order webhook brings the order into the ERP without waiting for the schedule:
``passerelle serve``'s app on 127.0.0.1 (uvicorn), inline trigger, the WooCommerce contract fake and a
files ERP (its outbox). A forged signature is refused and logged without its body; the same event
twice, and an update of an imported order, import it once; an event a stopped server left is
imported when it starts again."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from connectors import registry
from connectors.shop.woocommerce import WooCommerceShop
from connectors.shop.woocommerce.client import WooCommerceClient
from deployments.sandbox.fakes.woocommerce_fake import KEY, SECRET, SITE, FakeWooCommerce
from deployments.webhooks import build_app, launchers
from flows.catalogue import publish_catalogue
from tasks.settings import load_config
from tasks.state import StateStore
from tasks.webhooks import DispatchWorker, endpoints
from tests.contract.test_woocommerce_orders import taxed_order
from tests.flows.test_woocommerce_flows import setup

pytestmark = pytest.mark.usefixtures("prefect_harness")

WEBHOOK_SECRET = "wc-hook-Secret-4f1"
WEBHOOKS = """
[connections.main.webhooks]
secret = "env:WC_WEBHOOK_SECRET"
trigger = "inline"
"""
FAKE: dict[str, FakeWooCommerce] = {}


def build_fake(options: dict[str, Any], resolver: Any) -> WooCommerceShop:
    client = WooCommerceClient(
        SITE, consumer_key=KEY, consumer_secret=SECRET, transport=FAKE["shop"].transport, backoff=0.0
    )
    return WooCommerceShop(client, brand_field=options.get("brand_field", "brand"), features=options.get("features"))


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeWooCommerce:
    FAKE["shop"] = FakeWooCommerce([])
    FAKE["shop"].add_attribute("Size", ("S", "M", "L"))
    monkeypatch.setitem(registry.SHOP_CONNECTORS, "woocommerce-fake", f"{__name__}:build_fake")
    monkeypatch.setenv("WC_WEBHOOK_SECRET", WEBHOOK_SECRET)
    return FAKE["shop"]


class Server:
    """``passerelle serve``'s app and dispatch worker, as ``run_server`` starts them, on 127.0.0.1."""

    def __init__(self, config: str, *, dispatch: bool = True) -> None:
        cfg = load_config(config)
        self.hooks = endpoints(cfg)
        self.store = StateStore(cfg.state_url())
        self.worker = DispatchWorker(self.store, self.hooks, launchers(self.hooks, config)) if dispatch else None
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        app = build_app(self.store, self.hooks, self.worker)
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Server:
        if self.worker is not None:
            self.worker.start()
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        if self.worker is not None:
            self.worker.stop()
        self.store.dispose()

    def post(self, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return httpx.post(f"http://127.0.0.1:{self.port}/webhooks/main", content=body, headers=headers, timeout=30)

    def settled(self) -> None:
        assert self.worker is not None and self.worker.wait_idle(180), "the webhook import did not finish"


def delivery(
    order: dict[str, Any], topic: str, delivery_id: str, secret: str = WEBHOOK_SECRET
) -> tuple[bytes, dict[str, str]]:
    """What WooCommerce posts: the order's JSON, signed with the webhook's secret."""
    body = json.dumps(order, separators=(",", ":")).encode()
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return body, {
        "Content-Type": "application/json",
        "User-Agent": "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)",
        "X-WC-Webhook-Source": "https://shop.example/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": "order",
        "X-WC-Webhook-Event": topic.split(".")[1],
        "X-WC-Webhook-ID": "3",
        "X-WC-Webhook-Delivery-ID": delivery_id,
        "X-WC-Webhook-Signature": signature,
    }


def new_order(fake: FakeWooCommerce, ident: int) -> dict[str, Any]:
    tea = fake.product_by_sku("THE-VRT")
    hour_ago = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(tzinfo=None, microsecond=0)
    order = taxed_order(ident, hour_ago.isoformat())
    order["status"] = "processing"
    order["line_items"][0].update(product_id=tea["id"], variation_id=0, sku="THE-VRT", name="Thé vert 100 g")
    fake.orders.append(order)
    return order


@pytest.fixture
def config(fake: FakeWooCommerce, tmp_path: Path) -> Iterator[str]:
    path = setup(tmp_path, WEBHOOKS)
    publish_catalogue(config=path)
    yield path


def outbox(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "outbox").iterdir())


def test_a_signed_order_webhook_brings_the_order_into_the_erp_once_and_a_forged_one_is_refused(
    fake: FakeWooCommerce, config: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    order = new_order(fake, 201)
    body, headers = delivery(order, "order.created", "5f0c3a")
    with Server(config) as server, caplog.at_level(logging.INFO, logger="passerelle.webhooks"):
        ping = server.post(b"webhook_id=3", {"Content-Type": "application/x-www-form-urlencoded"})
        assert ping.status_code == 200  # WooCommerce saves the webhook only on a 200 to its ping

        forged_body, forged = delivery(order, "order.created", "6a1d2b", secret="guessed")
        assert server.post(forged_body, forged).status_code == 401

        answer = server.post(body, headers)
        assert (answer.status_code, answer.json()) == (200, {"status": "recorded"})
        server.settled()  # no scheduled run: the webhook's own import
        assert outbox(tmp_path) == ["woo-201.csv"]

        again = server.post(body, headers)  # WooCommerce delivering the same event again
        assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
        fake.update_order(order, {"customer_note": "Leave it at the door"})
        update_body, update = delivery(order, "order.updated", "7b2e3c")
        assert server.post(update_body, update).json() == {"status": "recorded"}
        server.settled()

    assert outbox(tmp_path) == ["woo-201.csv"]  # imported once
    events = server.store.webhook_events("main", shop_order_id="201")
    assert [(e.topic, e.status, e.deliveries) for e in events] == [
        ("order.created", "dispatched", 2),
        ("order.updated", "dispatched", 1),
    ]
    refused = [r.getMessage() for r in caplog.records if "webhook refused" in r.getMessage()]
    assert len(refused) == 1 and "'main'" in refused[0]
    assert order["billing"]["email"] not in caplog.text and forged_body.decode()[:40] not in caplog.text


def test_an_event_recorded_by_a_server_that_stopped_before_dispatching_it_is_imported_at_the_next_start(
    fake: FakeWooCommerce, config: str, tmp_path: Path
) -> None:
    order = new_order(fake, 202)
    body, headers = delivery(order, "order.created", "8c3f4d")
    with Server(config, dispatch=False) as stopped:  # answered 200, then the process died
        assert stopped.post(body, headers).status_code == 200
    assert outbox(tmp_path) == []

    with Server(config) as server:
        server.settled()
    assert outbox(tmp_path) == ["woo-202.csv"]
    [event] = server.store.webhook_events("main", shop_order_id="202")
    assert event.status == "dispatched" and event.run_id
