"""Order webhooks: verified on the raw body, recorded in the state store before the shop gets its
answer, then the import of their order started: no HTTP server here (``deployments/webhooks.py``).

- :func:`endpoints` reads ``[connections.<name>.webhooks]`` and resolves each secret once.
- :func:`receive` decides the answer to one request (200, 400, 401) and records the event
  (``webhook_event``) before that answer is given; a duplicate delivery is counted, not recorded again.
- :class:`DispatchWorker` (a background thread) starts the import of the recorded orders: the events
  that arrive while one dispatch runs are coalesced into the next, and the events left undispatched by
  a stopped server are dispatched when it starts again. How a dispatch starts the import is the
  ``launch`` callable of the connection: :func:`deployment_launcher` (a run of the orders deployment)
  or the ``serve`` process's own inline import.

The import is by order id and exactly once (``order_import`` claims): a duplicate, an ``order.updated``
before its ``order.created``, two events of one order are harmless. The scheduled run stays the
backstop. Details: docs/webhooks.md.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pydantic import SecretStr

from connectors.errors import Fatal, PasserelleError
from connectors.shop.shopify import webhooks as shopify
from connectors.shop.woocommerce import webhooks as woocommerce
from tasks.settings import PasserelleConfig
from tasks.state import StateStore, WebhookEvent, WebhookStatus, utcnow
from tasks.webhook_settings import WebhookSettings

__all__ = [
    "DispatchWorker",
    "Endpoint",
    "ImportBusy",
    "Launch",
    "Outcome",
    "deployment_launcher",
    "endpoints",
    "receive",
]

log = logging.getLogger("passerelle.webhooks")

PLATFORMS = ("woocommerce", "shopify")
_NO_WEBHOOKS = {
    "prestashop": "PrestaShop has no order webhooks in its core",
    "vendure": "Vendure sends no webhooks in its core",
}


class ImportBusy(PasserelleError):
    """The import could not start now (another run of the connection holds its lease): try later."""


Launch = Callable[[str, list[str], str], str | None]
"""``launch(connection, order_ids, key)``: start the import of these shop orders of a connection;
the Prefect flow run id when known. ``key`` names the events dispatched (the same events, the same
key: an idempotency key). Raises :class:`ImportBusy` when it could not run now."""


@dataclass(frozen=True)
class Endpoint:
    """One connection's webhook endpoint: its platform and its resolved secret."""

    connection: str
    platform: str
    secret: SecretStr = field(repr=False)
    settings: WebhookSettings


@dataclass(frozen=True)
class Outcome:
    """The answer to one webhook request."""

    status_code: int
    status: str
    """``recorded``, ``duplicate``, ``ping``, ``ignored``, ``refused``, ``invalid``."""
    event: WebhookEvent | None = None

    @property
    def new(self) -> bool:
        return self.status == "recorded"


def platform_of(name: str, config: PasserelleConfig) -> str:
    """The platform whose webhooks the connection receives (``webhooks.platform`` or its shop type)."""
    connection = config.connections[name]
    settings = connection.webhooks
    if settings is not None and settings.platform:
        return settings.platform
    shop_type = connection.shop.type.lower()
    for platform in PLATFORMS:
        if shop_type.startswith(platform):
            return platform
    reason = next((text for key, text in _NO_WEBHOOKS.items() if shop_type.startswith(key)), None)
    raise Fatal(
        f"connection {name!r}: {reason or f'no webhooks are known for the shop type {connection.shop.type!r}'}, "
        "so passerelle serve cannot receive its orders.",
        resolution=f"remove [connections.{name}.webhooks]: the scheduled orders run imports them (docs/webhooks.md).",
    )


def endpoints(config: PasserelleConfig, connection: str | None = None) -> dict[str, Endpoint]:
    """The webhook endpoints of the configuration (of one connection), secrets resolved.

    Raises:
        Fatal: no connection has webhooks, a platform without webhooks, a secret that cannot be read.
    """
    names = [connection] if connection else list(config.connections)
    found: dict[str, Endpoint] = {}
    for name in names:
        if name not in config.connections:
            raise Fatal(
                f"no connection {name!r} in the configuration.",
                resolution=f"use one of {', '.join(config.connections)}.",
            )
        settings = config.connections[name].webhooks
        if settings is None:
            continue
        platform = platform_of(name, config)
        secret = config.secret(settings.secret, what=f"connections.{name}.webhooks.secret")
        if secret is None or not secret.get_secret_value():
            raise Fatal(
                f"connection {name!r}: the webhook secret is empty.",
                resolution="set it to the secret the shop signs its webhooks with (docs/webhooks.md).",
            )
        found[name] = Endpoint(name, platform, secret, settings)
    if not found:
        raise Fatal(
            "no connection has webhooks configured, so passerelle serve has nothing to receive.",
            resolution='add [connections.<name>.webhooks] with secret = "env:NAME" (docs/webhooks.md).',
        )
    return found


def receive(
    store: StateStore, endpoint: Endpoint, headers: Mapping[str, str], body: bytes, *, client: str = ""
) -> Outcome:
    """Verify one webhook request and record its order's event; the answer to give.

    ``headers`` are read case-insensitively (give lower-case keys or a case-insensitive mapping).
    The body is never logged: a refused request is one line with its connection, reason and size.
    """
    get = {k.lower(): v for k, v in headers.items()}.get
    where = f"connection {endpoint.connection!r} ({endpoint.platform})"
    secret = endpoint.secret.get_secret_value()
    if endpoint.platform == "woocommerce":
        topic = get("x-wc-webhook-topic", "")
        signature = get("x-wc-webhook-signature")
        delivery = get("x-wc-webhook-delivery-id", "")
        if woocommerce.is_ping(body, topic, signature):
            log.info("webhook ping of %s answered (webhook %s)", where, body.strip().decode()[11:])
            return Outcome(200, "ping")
        verified = woocommerce.verify_webhook(body, signature, secret)
        parse: Callable[[str, bytes], str | None] = woocommerce.parse_order_webhook
    else:
        topic = get("x-shopify-topic", "")
        signature = get("x-shopify-hmac-sha256")
        delivery = get("x-shopify-webhook-id", "")
        verified = shopify.verify_webhook(body, signature or "", secret)
        parse = shopify.parse_order_webhook
    if not verified:
        reason = "no signature" if not signature else "a signature that does not match"
        log.warning(
            "webhook refused: %s, topic %r, %d bytes from %s: %s (nothing recorded)",
            where,
            topic[:100],
            len(body),
            client or "?",
            reason,
        )
        return Outcome(401, "refused")
    try:
        order_id = parse(topic, body)
    except ValueError as exc:
        log.warning("webhook not understood: %s, topic %r, %d bytes: %s", where, topic[:100], len(body), exc)
        return Outcome(400, "invalid")
    if order_id is None:
        log.info("webhook of %s with topic %r ignored (not an order import)", where, topic[:100])
        return Outcome(200, "ignored")
    digest = hashlib.sha256(body).hexdigest()
    event, new = store.record_webhook_event(
        endpoint.connection,
        platform=endpoint.platform,
        topic=topic[:100],
        delivery_id=(delivery or f"sha256:{digest}")[:255],
        shop_order_id=order_id,
        body_sha256=digest,
    )
    if not new:
        log.info("webhook of %s for order %s delivered again (event %s): ignored", where, order_id, event.id)
        return Outcome(200, "duplicate", event)
    log.info("webhook of %s for order %s recorded (event %s, %s)", where, order_id, event.id, topic)
    return Outcome(200, "recorded", event)


def deployment_launcher(deployment: str) -> Launch:
    """Start a run of the orders ``deployment`` for the orders, without waiting for it (its
    concurrency limit queues it behind a running one; the flow's lease keeps them apart)."""

    def launch(connection: str, order_ids: list[str], key: str) -> str | None:
        from prefect.deployments import run_deployment

        try:
            run: Any = run_deployment(
                name=deployment,
                parameters={"connection": connection, "order_ids": order_ids},
                timeout=0,
                as_subflow=False,
                tags=["webhook"],
                idempotency_key=f"webhook-{key}",
            )
        except Exception as exc:  # noqa: BLE001 - the API unreachable, the deployment unknown: one line
            raise Fatal(
                f"the orders deployment {deployment!r} could not be started for connection {connection!r} "
                f"({type(exc).__name__}).",
                resolution="check PREFECT_API_URL on the serve host and that `prefect deploy` registered it "
                '(or set webhooks.deployment / trigger = "inline").',
            ) from None
        return str(run.id)

    return launch


class DispatchWorker:
    """A background thread that starts the import of the recorded events' orders.

    Each round reads the store's events to dispatch (``received``, and ``failed`` ones due again), one
    launch per connection with every order id they name: events that arrive during a launch wait for
    the next round, which takes them all at once. The store is the queue, so events left by a stopped
    server are dispatched by the first round of the next one.
    """

    def __init__(
        self,
        store: StateStore,
        endpoints: Mapping[str, Endpoint],
        launchers: Mapping[str, Launch],
        *,
        batch: int = 100,
    ) -> None:
        self.store = store
        self.endpoints = dict(endpoints)
        self.launchers = dict(launchers)
        self.batch = batch
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._busy_until: dict[str, float] = {}
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        # The thread runs in a copy of the caller's context: Prefect's settings (its API URL) are context variables.
        context = contextvars.copy_context()
        self._thread = threading.Thread(
            target=context.run, args=(self._loop,), name="passerelle-webhook-dispatch", daemon=True
        )
        self._wake.set()  # the first round dispatches what a stopped server left
        self._thread.start()

    def notify(self) -> None:
        """A new event is recorded: dispatch it (now, or after the launch that is running)."""
        self._idle.clear()
        self._wake.set()

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until a round found nothing to dispatch (tests, shutdown)."""
        return self._idle.wait(timeout)

    def _loop(self) -> None:
        pause = min((e.settings.retry_seconds for e in self.endpoints.values()), default=30.0)
        while not self._stop.is_set():
            self._wake.wait(pause)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                left = self.run_once()
            except Exception as exc:  # noqa: BLE001 - the store unreachable: said, tried again next round
                log.error(
                    "webhook dispatch round failed (%s: %s); tried again in %.0f s", type(exc).__name__, exc, pause
                )
                left = 1
            if left == 0 and not self._wake.is_set():
                self._idle.set()

    def run_once(self) -> int:
        """One round; the number of events still waiting (busy imports, failures to try again)."""
        left = 0
        for name, endpoint in self.endpoints.items():
            if self._stop.is_set():
                break
            if self._busy_until.get(name, 0.0) > time.monotonic():
                left += 1
                continue
            settings = endpoint.settings
            events = self.store.webhook_events_to_dispatch(
                connection=name,
                max_attempts=settings.max_attempts,
                failed_before=utcnow() - timedelta(seconds=settings.retry_seconds),
                limit=self.batch,
            )
            if not events:
                continue
            ids = [e.id for e in events if e.id is not None]
            orders = list(dict.fromkeys(e.shop_order_id for e in events))
            try:
                key = hashlib.sha256(f"{name}:{','.join(map(str, ids))}".encode()).hexdigest()[:32]
                run_id = self.launchers[name](name, orders, key)
            except ImportBusy as exc:
                self.store.mark_webhook_events(ids, WebhookStatus.RECEIVED, error=str(exc)[:500])
                self._busy_until[name] = time.monotonic() + settings.retry_seconds
                log.info("webhook import of %s busy (%s): tried again in %.0f s", name, exc, settings.retry_seconds)
                left += len(ids)
                continue
            except Exception as exc:  # noqa: BLE001 - recorded as the events' failure; the schedule is the backstop
                error = f"{type(exc).__name__}: {exc}".splitlines()[0][:500] if str(exc) else type(exc).__name__
                self.store.mark_webhook_events(ids, WebhookStatus.FAILED, error=error)
                log.error("webhook import of %s for orders %s failed: %s", name, ", ".join(orders), error)
                left += len(ids)
                continue
            self._busy_until.pop(name, None)
            self.store.mark_webhook_events(ids, WebhookStatus.DISPATCHED, run_id=run_id)
            log.info(
                "webhook import of %s started for orders %s (%d events%s)",
                name,
                ", ".join(orders),
                len(ids),
                f", flow run {run_id}" if run_id else "",
            )
            if len(events) >= self.batch:
                self._wake.set()  # more to take: another round at once
        return left
