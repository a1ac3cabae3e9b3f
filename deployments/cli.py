"""``passerelle``: run flows, the demo, and answer auditors' and operators' questions.

Prefect is imported only by the commands that run flows, so ``audit`` and ``quarantine``
answer in a blink.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any

import typer

from connectors.errors import Fatal, PasserelleError
from deployments.summaries import print_summary

# Without PREFECT_API_URL a flow starts a temporary Prefect server; its migrations take ~10 s on
# an idle 2-core machine and Prefect gives up after 20 s: a busy machine needs more room.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
# The server's usage telemetry writes to its SQLite while the flows do ("database is locked").
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

app = typer.Typer(
    help="ERP <-> online shop synchronisation, as Prefect flows. Errors are one line; add --debug to any"
    " command for the traceback.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
audit_app = typer.Typer(help="What was read, refused and sent, from the Parquet snapshots.", no_args_is_help=True)
quarantine_app = typer.Typer(help="Records refused by the quality gate or by a platform.", no_args_is_help=True)
db_app = typer.Typer(help="The state store.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(db_app, name="db")

ConfigOption = Annotated[
    str | None,
    typer.Option("--config", "-c", help="Configuration file (default $PASSERELLE_CONFIG or ./passerelle.toml)."),
]
ConnectionOption = Annotated[str | None, typer.Option("--connection", help="Connection name in the configuration.")]

TIME_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S%z"]

FLOWS = {
    "catalogue": ("flows.catalogue", "publish_catalogue"),
    "stock": ("flows.stock", "sync_stock"),
    "prices": ("flows.prices", "sync_prices"),
    "orders": ("flows.orders", "import_orders"),
    "feedback": ("flows.feedback", "feedback_status"),
    "invoices": ("flows.invoices", "upload_invoices"),
}


DEBUG = False
"""``--debug`` was given (``main``): tracebacks are shown, in Prefect's log lines too."""


class _NoTraceback(logging.Formatter):
    """The console handler's formatter without the traceback Prefect adds to a failed run's log
    line: the operator reads the one-line error (and its Resolution) at the end; the Prefect UI
    and ``--debug`` still have the traceback."""

    def __init__(self, inner: logging.Formatter | None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info = record.exc_text = record.stack_info = None
        try:
            return self.inner.format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved


def _quiet_console() -> None:
    """Keep Prefect's console lines to one line each unless ``--debug``."""
    if DEBUG:
        return
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler.formatter, _NoTraceback):
            handler.setFormatter(_NoTraceback(handler.formatter))


def _fail(exc: Exception) -> None:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


@app.command()
def demo(
    keep_running: Annotated[bool, typer.Option(help="Leave Tryton and Vendure running after the runs.")] = False,
    workdir: Annotated[Path, typer.Option(help="Where the demo keeps its state, snapshots and logs.")] = Path(
        ".passerelle"
    ),
) -> None:
    """Start a real Tryton and a real Vendure on 127.0.0.1 and publish the demo catalogue."""
    os.environ.setdefault("PREFECT_HOME", str((workdir / "prefect").resolve()))
    from deployments.demo.run import run_demo

    try:
        run_demo(workdir.resolve(), keep_running=keep_running)
    except Fatal as exc:
        _fail(exc)


@app.command()
def run(
    flow_name: Annotated[str, typer.Argument(help=f"One of: {', '.join(FLOWS)}.")],
    config: ConfigOption = None,
    connection: ConnectionOption = None,
    full: Annotated[bool, typer.Option(help="Send everything, even what did not change.")] = False,
    key: Annotated[
        list[str] | None,
        typer.Option(
            "--key", "-k", help="Only these records (repeatable); for orders, feedback, invoices: shop order ids."
        ),
    ] = None,
    since: Annotated[
        datetime | None,
        typer.Option(
            formats=TIME_FORMATS, help="Orders, feedback, invoices: backfill from this time (ISO 8601; no offset: UTC)."
        ),
    ] = None,
    until: Annotated[
        datetime | None, typer.Option(formats=TIME_FORMATS, help="Orders: backfill up to this time, excluded.")
    ] = None,
    dry_run: Annotated[bool, typer.Option(help="Show what would be sent; write nothing.")] = False,
) -> None:
    """Run one flow now, in this process (deployments run the same flows on workers)."""
    if flow_name not in FLOWS:
        _fail(ValueError(f"unknown flow {flow_name!r}; choose one of {', '.join(FLOWS)}"))
    from tasks.settings import load_config, preflight

    try:  # before Prefect starts: what the run would find only after its start-up
        preflight(load_config(config), connection)
    except PasserelleError as exc:
        _fail(exc)
    import importlib

    module, attr = FLOWS[flow_name]
    flow_fn = getattr(importlib.import_module(module), attr)
    _quiet_console()
    options: dict[str, Any] = {"connection": connection, "config": config, "dry_run": dry_run}
    if flow_name == "orders":
        options.update(since=_aware(since), until=_aware(until), order_ids=key or None)
    elif flow_name in ("feedback", "invoices"):
        options.update(since=_aware(since), order_ids=key or None)
    else:
        options.update(full=full, keys=key or None)
    try:
        summary = flow_fn(**options)
    except PasserelleError as exc:
        _fail(exc)
    print_summary(summary)


def _aware(value: datetime | None) -> datetime | None:
    """A time typed without an offset is UTC (the shop's clock is read in UTC)."""
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


@audit_app.command("history")
def audit_history(
    entity: Annotated[str, typer.Argument(help="article, product, variant, order, ...")],
    key: Annotated[
        str,
        typer.Argument(
            help="The record key (ERP key or SKU; product key such as g:12; an order's shop id, shop code or ERP number)."
        ),
    ],
    config: ConfigOption = None,
    flow: Annotated[str | None, typer.Option(help="Only this flow.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Full rows as JSON lines.")] = False,
) -> None:
    """Every snapshot row of one record: when it was read, refused, sent, answered, by which run."""
    from tasks.settings import load_config
    from tasks.snapshot_config import snapshot_store

    try:
        cfg = load_config(config)
        store = snapshot_store(cfg)
    except Fatal as exc:
        _fail(exc)
    rows = store.history(entity, key, flow=flow)
    if not rows and entity == "order":
        # Not the shop's id: the code the shop and its e-mails show, or the ERP's order number.
        for shop_order_id in _orders_by_reference(cfg, key):
            rows += store.history(entity, shop_order_id, flow=flow)
        rows.sort(key=lambda r: r["recorded_at"])
    if not rows:
        # Not an ERP key: perhaps a SKU, which is what people know.
        for erp_key in store.keys_for_sku(key, entity=entity):
            rows += store.history(entity, erp_key, flow=flow)
        rows.sort(key=lambda r: r["recorded_at"])
    if not rows:
        typer.echo(f"no snapshot of {entity} {key!r} under {store.uri}")
        raise typer.Exit(code=1)
    for row in rows:
        if as_json:
            typer.echo(json.dumps({**row, "recorded_at": row["recorded_at"].isoformat()}, default=str))
        else:
            payload = json.dumps(row["payload"], ensure_ascii=False, default=str)
            typer.echo(
                f"{row['recorded_at']:%Y-%m-%d %H:%M:%S}Z  {row['flow']:<10} {row['stage']:<9} run {row['run_id'][:12]}"
                f"  hash {str(row['hash'] or '-')[:10]}  {payload[:160]}"
            )
    # A record read again unchanged is not written again: say until when it was read as it is.
    for key_seen in dict.fromkeys(r["key"] for r in rows):
        for seen in store.unchanged_since(entity, key_seen, flow=flow):
            if seen["seen_at"] > seen["written_at"]:
                line = {"key": key_seen, **seen, "written_at": seen["written_at"].isoformat()}
                line["seen_at"] = seen["seen_at"].isoformat()
                typer.echo(
                    json.dumps({"unchanged_since": line})
                    if as_json
                    else f"{seen['seen_at']:%Y-%m-%d %H:%M:%S}Z  {seen['flow']:<10} {'unchanged':<9} run "
                    f"{seen['seen_run'][:12]}  hash {str(seen['hash'])[:10]}  unchanged since "
                    f"{seen['written_at']:%Y-%m-%d %H:%M:%S}Z (read again with the same content)"
                )


def _orders_by_reference(cfg: Any, reference: str) -> list[str]:
    """Shop order ids whose shop reference or ERP order number is ``reference`` (state store)."""
    from tasks.state import StateStore

    store = StateStore(cfg.state_url())
    try:
        return list(dict.fromkeys(r.shop_order_id for r in store.orders_by_reference(reference)))
    finally:
        store.dispose()


@quarantine_app.command("list")
def quarantine_list(
    config: ConfigOption = None,
    connection: ConnectionOption = None,
    flow: Annotated[str | None, typer.Option(help="Only this flow.")] = None,
    entity: Annotated[str | None, typer.Option(help="Only this entity.")] = None,
    status: Annotated[str, typer.Option(help="open, resolved, discarded or all.")] = "open",
) -> None:
    """Refused records with the field and the reason."""
    from tasks.settings import load_config
    from tasks.state import StateStore

    try:
        cfg = load_config(config)
        store = StateStore(cfg.state_url())
    except Fatal as exc:
        _fail(exc)
    rows = store.quarantined(
        connection=connection, flow=flow, entity=entity, status=None if status == "all" else status
    )
    if not rows:
        typer.echo("quarantine is empty" if status == "open" else f"no {status} quarantine entries")
        return
    typer.echo(f"{'id':>5}  {'status':<9} {'flow':<10} {'entity':<8} {'record':<24} {'field':<12} reason")
    for r in rows:
        typer.echo(
            f"{r.id:>5}  {r.status:<9} {r.flow:<10} {r.entity:<8} {r.record_key:<24} {r.field:<12} {r.reason}"
            + (f"  (x{r.occurrences})" if r.occurrences > 1 else "")
        )


@quarantine_app.command("discard")
def quarantine_discard(
    ids: Annotated[list[int], typer.Argument(help="Entry ids from `quarantine list`.")], config: ConfigOption = None
) -> None:
    """Close entries an operator decided to ignore (they stay discarded if they fail again)."""
    from tasks.settings import load_config
    from tasks.state import StateStore

    store = StateStore(load_config(config).state_url())
    typer.echo(f"discarded {store.discard_quarantine(ids)} entries")


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Create or migrate the state store schema to the latest revision."""
    from tasks.settings import load_config
    from tasks.state import StateStore

    try:
        store = StateStore(load_config(config).state_url())
    except Fatal as exc:
        _fail(exc)
    typer.echo(f"state store at {store.engine.url.render_as_string(hide_password=True)} is up to date")


@app.command()
def init(
    erp: Annotated[str, typer.Option(help="The ERP: tryton, files, odoo, dolibarr.")] = "tryton",
    shop: Annotated[str, typer.Option(help="The shop: vendure, prestashop, woocommerce, shopify.")] = "vendure",
    output: Annotated[Path, typer.Option("--output", "-o", help="The file to write.")] = Path("passerelle.toml"),
    connection: Annotated[str, typer.Option(help="Name of the connection.")] = "main",
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented configuration for an ERP and a shop: every key with its meaning and default."""
    from deployments.init import render

    if output.exists() and not force:
        _fail(FileExistsError(f"{output} exists; pass --force to overwrite it, or -o another file"))
    try:
        text, filled = render(erp, shop, connection)
    except Fatal as exc:
        _fail(exc)
    output.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {output}: ERP {erp}, shop {shop}, connection {connection!r}")
    if filled.values:
        typer.echo("fill in (CHANGE-ME): " + ", ".join(filled.values))
    if filled.secrets:
        typer.echo("set these environment variables (or change the env: references to file: / block:): ")
        for name in filled.secrets:
            typer.echo(f"  export {name}=...")
    typer.echo(f"then: passerelle check -c {output}   and   passerelle run catalogue -c {output} --dry-run")


@app.command()
def serve(
    config: ConfigOption = None,
    connection: ConnectionOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on (behind a TLS reverse proxy).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8787,
) -> None:
    """Receive the shops' order webhooks and import each order at once (docs/webhooks.md)."""
    from tasks.settings import config_path, load_config, preflight

    try:
        cfg = load_config(config)
        preflight(cfg, connection)
        from deployments.webhooks import run_server

        run_server(cfg, config_path=config_path(config), host=host, port=port, connection=connection)
    except PasserelleError as exc:
        _fail(exc)


alerts_app = typer.Typer(help="Prefect automations that notify the operators (docs/alerts.md).", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")


@alerts_app.command("apply")
def alerts_apply(
    config: ConfigOption = None,
    prefect_yaml: Annotated[
        Path | None, typer.Option(help="The deployments whose schedules are watched (default: the project's).")
    ] = None,
) -> None:
    """Create or update the passerelle: automations on the Prefect server (PREFECT_API_URL) from the alerts section."""
    from deployments.alerts import apply_alerts
    from tasks.settings import load_config

    try:
        applied = apply_alerts(load_config(config).alerts, prefect_yaml=prefect_yaml)
    except Fatal as exc:
        _fail(exc)
    for item in applied:
        typer.echo(f"{item.outcome:<9} {item.name}")


@alerts_app.command("list")
def alerts_list() -> None:
    """The passerelle: automations on the Prefect server, with their triggers."""
    from deployments.alerts import list_alerts

    try:
        rows = list_alerts()
    except Fatal as exc:
        _fail(exc)
    if not rows:
        typer.echo("no passerelle: automation on this Prefect server (passerelle alerts apply -c FILE)")
        return
    for row in rows:
        typer.echo(f"{'on ' if row['enabled'] else 'off'} {row['name']}: {row['trigger']} -> {row['actions']}")


@app.command()
def check(config: ConfigOption = None, connection: ConnectionOption = None) -> None:
    """Check the configuration, then every platform of each connection, read-only: login, version,
    the permissions each configured flow needs, the mapped warehouses, locations, tax categories
    and groups. One line per check; exit code 1 when one fails. Starts no Prefect server."""
    from deployments.check import run_check

    code = run_check(config, connection, echo=typer.echo)
    if code:
        raise typer.Exit(code=code)


@audit_app.command("compact")
def audit_compact(
    config: ConfigOption = None,
    before: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Compact the days before this one (default: today, UTC)."),
    ] = None,
    retention: Annotated[
        bool, typer.Option(help="Also delete what is older than [snapshots] retention_months.")
    ] = True,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what retention would delete; change nothing.")
    ] = False,
) -> None:
    """Upkeep of the snapshots (run it nightly): each past day into one file sorted by key and
    indexed, then the retention of each flow."""
    from tasks.settings import load_config
    from tasks.snapshot_config import snapshot_store
    from tasks.snapshots import upkeep

    try:
        cfg = load_config(config)
        store = snapshot_store(cfg)
    except Fatal as exc:
        _fail(exc)
    months = cfg.snapshots.retention_months
    done = upkeep(store, months, before=before.date() if before else None, retention=retention, dry_run=dry_run)
    if done["compacted"] is not None:
        c = done["compacted"]
        typer.echo(
            f"compacted {c['days']} days ({c['files']} files, {c['rows']} rows), merged {c['months']} months"
            f" under {store.uri}"
        )
    if retention and not months:
        typer.echo("no retention configured ([snapshots] retention_months): everything is kept")
    for r in done["retention"]:
        verb = "would delete" if dry_run else "deleted"
        typer.echo(
            f"{r['flow']}/{r['entity']}: {verb} {r['days']} days and {r['months']} months before {r['first_kept']}"
        )


def main(argv: list[str] | None = None) -> None:
    """The console entry point: every error is one line (and an exit code), never a traceback,
    unless ``--debug`` is given (anywhere on the command line)."""
    global DEBUG
    args = list(sys.argv[1:] if argv is None else argv)
    debug = DEBUG = "--debug" in args
    args = [a for a in args if a != "--debug"]
    try:
        app(args)
    except PasserelleError as exc:
        if debug:
            raise
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise SystemExit(2) from None
    except Exception as exc:  # the operator gets one line; --debug shows the traceback
        if debug:
            raise
        typer.secho(
            f"error: unexpected {type(exc).__name__}: {exc} (run again with --debug for the traceback)",
            fg=typer.colors.RED,
            err=True,
        )
        raise SystemExit(1) from None


if __name__ == "__main__":  # pragma: no cover
    main()
