"""``passerelle serve``: the ASGI app that receives the shops' order webhooks, and its runner.

``POST /webhooks/<connection>``: the body is read raw (refused past ``max_body_bytes`` with 413),
verified and recorded by ``tasks.webhooks.receive`` before the answer is sent, then the dispatch
worker starts the import of its order: a run of the orders deployment (``trigger = "deployment"``)
or an import in this process (``trigger = "inline"``). ``GET /health`` answers 200. Details:
docs/webhooks.md.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tasks.settings import PasserelleConfig
from tasks.state import StateStore
from tasks.webhooks import DispatchWorker, Endpoint, ImportBusy, Launch, deployment_launcher, endpoints, receive

__all__ = ["build_app", "inline_launcher", "launchers", "run_server"]

log = logging.getLogger("passerelle.webhooks")


class _TooLarge(Exception):
    pass


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def build_app(store: StateStore, hooks: Mapping[str, Endpoint], worker: DispatchWorker | None = None) -> Starlette:
    """The ASGI app of these endpoints; ``worker`` (when given) is told of each new event."""

    async def webhook(request: Request) -> JSONResponse:
        name = request.path_params["connection"]
        endpoint = hooks.get(name)
        if endpoint is None:
            return JSONResponse({"status": "unknown connection"}, status_code=404)
        client = request.client.host if request.client else ""
        limit = endpoint.settings.max_body_bytes
        try:
            body = await _read_body(request, limit)
        except _TooLarge:
            log.warning(
                "webhook refused: connection %r, body over %d bytes from %s (nothing recorded)", name, limit, client
            )
            return JSONResponse({"status": "too large"}, status_code=413)
        try:
            outcome = await run_in_threadpool(receive, store, endpoint, request.headers, body, client=client)
        except Exception as exc:  # noqa: BLE001 - the store cannot record it: no 200, the shop delivers again
            log.error("webhook of connection %r not recorded: %s (answered 503)", name, type(exc).__name__)
            return JSONResponse({"status": "not recorded"}, status_code=503)
        if outcome.new and worker is not None:
            worker.notify()
        return JSONResponse({"status": outcome.status}, status_code=outcome.status_code)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "connections": sorted(hooks)})

    return Starlette(
        routes=[
            Route("/webhooks/{connection}", webhook, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ]
    )


def inline_launcher(config_path: str | None) -> Launch:
    """Run ``flows.orders.import_orders`` for the orders in this process (``trigger = "inline"``)."""

    def launch(connection: str, order_ids: list[str], key: str) -> str | None:
        from flows.orders import import_orders

        summary: dict[str, Any] = import_orders(config=config_path, connection=connection, order_ids=order_ids)
        if summary.get("busy"):
            raise ImportBusy(str(summary["busy"]))
        return str(summary["run_id"]) if summary.get("run_id") else None

    return launch


def launchers(hooks: Mapping[str, Endpoint], config_path: str | None) -> dict[str, Launch]:
    """Each connection's way of starting its imports, by its ``trigger``."""
    return {
        name: inline_launcher(config_path)
        if endpoint.settings.trigger == "inline"
        else deployment_launcher(endpoint.settings.deployment)
        for name, endpoint in hooks.items()
    }


def run_server(
    config: PasserelleConfig, *, config_path: str | Path | None, host: str, port: int, connection: str | None = None
) -> None:
    """Serve until interrupted: endpoints and store opened first (a bad secret stops here, in one
    line), the dispatch worker started (it dispatches what a stopped server left), then uvicorn."""
    import uvicorn

    hooks = endpoints(config, connection)
    store = StateStore(config.state_url())
    worker = DispatchWorker(store, hooks, launchers(hooks, str(config_path) if config_path else None))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name, endpoint in hooks.items():
        log.info(
            "receiving %s webhooks of connection %r on http://%s:%d/webhooks/%s (trigger %s)",
            endpoint.platform,
            name,
            host,
            port,
            name,
            endpoint.settings.trigger,
        )
    worker.start()
    try:
        uvicorn.run(build_app(store, hooks, worker), host=host, port=port, log_level="info", access_log=True)
    finally:
        worker.stop()
        store.dispose()
