"""The webhook endpoint: only a request signed with the connection's secret is recorded (before its
200), a forged or unsigned one is refused and logged without its body, a duplicate is recorded
once, WooCommerce's ping is answered; the dispatch worker coalesces events and survives a restart."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError
from starlette.testclient import TestClient

from connectors.errors import Fatal
from connectors.shop.woocommerce import webhooks as wc
from deployments.webhooks import build_app
from tasks.settings import PasserelleConfig
from tasks.state import StateStore, WebhookStatus
from tasks.webhook_settings import WebhookSettings
from tasks.webhooks import DispatchWorker, Endpoint, ImportBusy, deployment_launcher, endpoints

SECRET = "wc-webhook-secret-Zq9"
EMAIL = "camille.durand@example.fr"


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def order_body(ident: int = 101, status: str = "processing") -> bytes:
    return json.dumps({"id": ident, "status": status, "billing": {"email": EMAIL}}).encode()


def wc_headers(
    body: bytes, topic: str = "order.created", delivery: str = "d-1", signature: str | None = None
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": topic.split(".")[0],
        "X-WC-Webhook-Event": topic.split(".")[-1],
        "X-WC-Webhook-ID": "7",
        "X-WC-Webhook-Delivery-ID": delivery,
        "X-WC-Webhook-Signature": sign(body) if signature is None else signature,
    }


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    return StateStore(f"sqlite:///{tmp_path / 'state.db'}")


def endpoint(platform: str = "woocommerce", **settings: Any) -> Endpoint:
    return Endpoint("main", platform, SecretStr(SECRET), WebhookSettings(secret="env:X", **settings))


@pytest.fixture
def client(store: StateStore) -> TestClient:
    return TestClient(build_app(store, {"main": endpoint(), "shopify": endpoint("shopify")}))


def test_the_woocommerce_signature_is_the_base64_hmac_of_the_raw_body() -> None:
    body = order_body()
    assert wc.verify_webhook(body, sign(body), SECRET)
    assert not wc.verify_webhook(body + b" ", sign(body), SECRET)  # one byte more: another body
    assert not wc.verify_webhook(body, sign(body, "another secret"), SECRET)
    assert not wc.verify_webhook(body, "not base64!", SECRET)
    assert not wc.verify_webhook(body, None, SECRET)
    assert not wc.verify_webhook(body, sign(body, ""), "")  # no secret configured: nothing verifies
    assert wc.parse_order_webhook("order.updated", body) == "101"
    assert wc.parse_order_webhook("product.updated", body) is None
    with pytest.raises(ValueError, match="no order id"):
        wc.parse_order_webhook("order.created", b'{"id": 0}')


def test_a_signed_order_webhook_is_recorded_before_its_200(client: TestClient, store: StateStore) -> None:
    body = order_body()
    answer = client.post("/webhooks/main", content=body, headers=wc_headers(body))
    assert (answer.status_code, answer.json()) == (200, {"status": "recorded"})
    [event] = store.webhook_events("main")
    assert (event.platform, event.topic, event.delivery_id, event.shop_order_id) == (
        "woocommerce",
        "order.created",
        "d-1",
        "101",
    )
    assert event.status == WebhookStatus.RECEIVED and event.received_at.tzinfo is not None
    assert event.body_sha256 == hashlib.sha256(body).hexdigest()


def test_the_same_delivery_twice_is_recorded_once_and_answered_200(client: TestClient, store: StateStore) -> None:
    body = order_body()
    assert client.post("/webhooks/main", content=body, headers=wc_headers(body)).json() == {"status": "recorded"}
    again = client.post("/webhooks/main", content=body, headers=wc_headers(body))
    assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
    [event] = store.webhook_events("main")
    assert event.deliveries == 2
    # WooCommerce's delivery id is one per webhook and second: another order's body is another event
    other = order_body(102)
    assert client.post("/webhooks/main", content=other, headers=wc_headers(other)).json() == {"status": "recorded"}
    # an update delivered before the creation (out of order): recorded, the import is by order id
    update = order_body(103, "on-hold")
    assert (
        client.post("/webhooks/main", content=update, headers=wc_headers(update, "order.updated", "d-2")).status_code
        == 200
    )
    assert [e.shop_order_id for e in store.webhook_events("main")] == ["101", "102", "103"]


@pytest.mark.parametrize(
    "signature",
    ["", sign(b"another body"), sign(order_body(), "guessed secret")],
    ids=["missing", "of-another-body", "with-another-secret"],
)
def test_a_forged_or_missing_signature_is_refused_logged_without_its_body_and_not_recorded(
    client: TestClient, store: StateStore, caplog: pytest.LogCaptureFixture, signature: str
) -> None:
    body = order_body()
    with caplog.at_level(logging.INFO, logger="passerelle.webhooks"):
        answer = client.post("/webhooks/main", content=body, headers=wc_headers(body, signature=signature))
    assert answer.status_code == 401
    assert store.webhook_events("main") == []
    [line] = [r.getMessage() for r in caplog.records if r.name == "passerelle.webhooks"]
    assert "webhook refused" in line and "'main'" in line and f"{len(body)} bytes" in line
    assert "\n" not in line
    assert EMAIL not in caplog.text and '"id"' not in caplog.text and SECRET not in caplog.text


def test_the_ping_woocommerce_sends_when_a_webhook_is_saved_is_answered_200(
    client: TestClient, store: StateStore
) -> None:
    answer = client.post(
        "/webhooks/main", content=b"webhook_id=7", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert answer.status_code == 200 and answer.json() == {"status": "ping"}
    assert store.webhook_events("main") == []
    # a form body with an order topic is no ping: it must be signed
    forged = client.post("/webhooks/main", content=b"webhook_id=7", headers={"X-WC-Webhook-Topic": "order.created"})
    assert forged.status_code == 401


def test_a_body_over_the_limit_is_refused_with_413_and_not_recorded(store: StateStore) -> None:
    client = TestClient(build_app(store, {"main": endpoint(max_body_bytes=2048)}))
    body = json.dumps({"id": 5, "note": "x" * 4096}).encode()
    assert client.post("/webhooks/main", content=body, headers=wc_headers(body)).status_code == 413

    def chunks() -> Any:  # no Content-Length: counted while read
        yield body[:1500]
        yield body[1500:]

    assert client.post("/webhooks/main", content=chunks(), headers=wc_headers(body)).status_code == 413
    assert store.webhook_events("main") == []


def test_other_topics_and_unknown_connections(client: TestClient, store: StateStore) -> None:
    body = json.dumps({"id": 9}).encode()
    deleted = client.post("/webhooks/main", content=body, headers=wc_headers(body, "order.deleted"))
    assert (deleted.status_code, deleted.json()) == (200, {"status": "ignored"})  # a non-2xx disables a webhook
    assert client.post("/webhooks/nobody", content=body, headers=wc_headers(body)).status_code == 404
    bad = b"not json"
    assert client.post("/webhooks/main", content=bad, headers=wc_headers(bad)).status_code == 400
    assert store.webhook_events("main") == []
    assert client.get("/health").json() == {"status": "ok", "connections": ["main", "shopify"]}


def test_a_signed_shopify_order_webhook_is_recorded_once_by_its_webhook_id(
    client: TestClient, store: StateStore
) -> None:
    body = json.dumps({"id": 450789469, "admin_graphql_api_id": "gid://shopify/Order/450789469"}).encode()
    headers = {
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Hmac-Sha256": sign(body),
        "X-Shopify-Webhook-Id": "b54557e4",
    }
    assert client.post("/webhooks/shopify", content=body, headers=headers).json() == {"status": "recorded"}
    assert client.post("/webhooks/shopify", content=body, headers=headers).json() == {"status": "duplicate"}
    forged = {**headers, "X-Shopify-Hmac-Sha256": sign(body, "nope")}
    assert client.post("/webhooks/shopify", content=body, headers=forged).status_code == 401
    [event] = store.webhook_events("main")
    assert (event.platform, event.shop_order_id, event.delivery_id) == (
        "shopify",
        "gid://shopify/Order/450789469",
        "b54557e4",
    )


def record(store: StateStore, order: str, delivery: str) -> None:
    store.record_webhook_event(
        "main", platform="woocommerce", topic="order.updated", delivery_id=delivery, shop_order_id=order,
        body_sha256=hashlib.sha256(delivery.encode()).hexdigest(),
    )  # fmt: skip


def test_events_are_coalesced_into_one_import_and_marked_dispatched(store: StateStore) -> None:
    launched: list[tuple[str, list[str]]] = []

    def launch(connection: str, order_ids: list[str], key: str) -> str:
        launched.append((connection, order_ids))
        return "run-1"

    for order, delivery in (("101", "a"), ("102", "b"), ("101", "c")):
        record(store, order, delivery)
    worker = DispatchWorker(store, {"main": endpoint()}, {"main": launch})
    assert worker.run_once() == 0
    assert launched == [("main", ["101", "102"])]
    assert {(e.status, e.run_id, e.attempts) for e in store.webhook_events("main")} == {("dispatched", "run-1", 1)}
    assert worker.run_once() == 0 and len(launched) == 1  # nothing left: no second import


def test_a_failed_dispatch_is_tried_again_later_and_a_busy_import_waits(store: StateStore) -> None:
    answers: list[Any] = [RuntimeError("Prefect API unreachable"), ImportBusy("import-orders:main is held"), "run-2"]

    def launch(connection: str, order_ids: list[str], key: str) -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return str(answer)

    record(store, "101", "a")
    worker = DispatchWorker(store, {"main": endpoint(retry_seconds=0.05)}, {"main": launch})
    assert worker.run_once() == 1
    [event] = store.webhook_events("main")
    assert (event.status, event.attempts, event.error) == ("failed", 1, "RuntimeError: Prefect API unreachable")
    assert worker.run_once() == 0  # not due again yet
    time.sleep(0.06)
    assert worker.run_once() == 1  # busy: back to received, no attempt counted
    [event] = store.webhook_events("main")
    assert (event.status, event.attempts) == ("received", 1)
    time.sleep(0.06)
    assert worker.run_once() == 0
    assert store.webhook_events("main")[0].status == "dispatched"


def test_events_a_stopped_server_left_are_dispatched_when_it_starts_again(store: StateStore) -> None:
    record(store, "101", "a")  # recorded and answered; the server stopped before dispatching it
    launched: list[list[str]] = []
    worker = DispatchWorker(store, {"main": endpoint()}, {"main": lambda c, ids, k: launched.append(ids) or None})
    worker.start()
    try:
        assert worker.wait_idle(10)
    finally:
        worker.stop()
    assert launched == [["101"]]
    assert store.webhook_events("main")[0].status == "dispatched"


def config(webhooks: str, shop: str = "woocommerce") -> PasserelleConfig:
    return PasserelleConfig.model_validate(
        {"connections": {"main": {"erp": {"type": "files"}, "shop": {"type": shop}, "webhooks": json.loads(webhooks)}}}
    )


def test_the_webhook_secret_is_a_secret_reference_resolved_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WC_WEBHOOK_SECRET", SECRET)
    [hook] = endpoints(config('{"secret": "env:WC_WEBHOOK_SECRET"}')).values()
    assert (hook.platform, hook.settings.trigger, hook.secret.get_secret_value()) == (
        "woocommerce",
        "deployment",
        SECRET,
    )
    assert SECRET not in repr(hook)
    monkeypatch.delenv("WC_WEBHOOK_SECRET")
    with pytest.raises(Fatal, match="WC_WEBHOOK_SECRET, which is not set.*Resolution"):
        endpoints(config('{"secret": "env:WC_WEBHOOK_SECRET"}'))
    with pytest.raises(Fatal, match="written in clear"):
        endpoints(config(f'{{"secret": "{SECRET}"}}'))
    with pytest.raises(Fatal, match="PrestaShop has no order webhooks in its core.*Resolution"):
        endpoints(config('{"secret": "env:X"}', shop="prestashop"))
    with pytest.raises(ValidationError, match="trigger"):
        config('{"secret": "env:X", "trigger": "sometimes"}')


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    url = f"sqlite:///{tmp_path / 'any.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    opened = StateStore(url)
    yield opened
    opened.dispose()


def test_webhook_events_are_recorded_once_and_dispatched_once_on_sqlite_and_postgresql(any_store: StateStore) -> None:
    conn = f"t-{uuid.uuid4().hex[:12]}"  # PostgreSQL's database is shared by the session's tests
    fields = {"platform": "woocommerce", "topic": "order.created", "delivery_id": "d", "shop_order_id": "7"}
    first, new = any_store.record_webhook_event(conn, body_sha256="a" * 64, **fields)
    again, repeated = any_store.record_webhook_event(conn, body_sha256="a" * 64, **fields)
    other, other_new = any_store.record_webhook_event(conn, body_sha256="b" * 64, **fields)  # same id, another body
    assert (new, repeated, other_new) == (True, False, True)
    assert again.id == first.id and again.deliveries == 2 and other.id != first.id
    due = any_store.webhook_events_to_dispatch(connection=conn, max_attempts=2, failed_before=datetime.now(UTC))
    assert [e.id for e in due] == [first.id, other.id]
    any_store.mark_webhook_events([first.id or 0], WebhookStatus.DISPATCHED, run_id="r")
    any_store.mark_webhook_events([other.id or 0], WebhookStatus.FAILED, error="boom")
    later = datetime.now(UTC) + timedelta(seconds=1)
    assert [
        e.id for e in any_store.webhook_events_to_dispatch(connection=conn, max_attempts=2, failed_before=later)
    ] == [other.id]
    any_store.mark_webhook_events([other.id or 0], WebhookStatus.FAILED, error="boom")  # second attempt: the last
    assert any_store.webhook_events_to_dispatch(connection=conn, max_attempts=2, failed_before=later) == []
    dispatched = any_store.webhook_events(conn)[0]
    assert dispatched.dispatched_at is not None and dispatched.dispatched_at.tzinfo is not None


def test_the_deployment_trigger_starts_a_run_of_the_orders_deployment_without_waiting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import prefect.deployments

    calls: list[dict[str, Any]] = []

    def run_deployment(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return type("FlowRun", (), {"id": uuid.UUID(int=7)})()

    monkeypatch.setattr(prefect.deployments, "run_deployment", run_deployment)
    launch = deployment_launcher("import-orders/orders-every-5-minutes")
    assert launch("main", ["101", "102"], "k1") == str(uuid.UUID(int=7))
    [call] = calls
    assert call["name"] == "import-orders/orders-every-5-minutes"
    assert call["parameters"] == {"connection": "main", "order_ids": ["101", "102"]}
    assert call["timeout"] == 0 and call["idempotency_key"] == "webhook-k1"

    def unreachable(**kwargs: Any) -> Any:
        raise ConnectionError("http://user:pw@prefect:4200 refused")

    monkeypatch.setattr(prefect.deployments, "run_deployment", unreachable)
    with pytest.raises(Fatal, match="could not be started for connection 'main'.*Resolution") as error:
        launch("main", ["101"], "k2")
    assert "pw" not in str(error.value)
