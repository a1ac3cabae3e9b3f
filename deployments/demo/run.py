"""``passerelle demo``: the whole chain on this machine, with real servers on 127.0.0.1.

1. a Tryton 8.2 server (PyPI, SQLite) seeded with the demo catalogue (217 articles, a few bad);
2. a Vendure 3.7 shop (npm, in-memory sql.js);
3. the catalogue flow under Prefect: publish, a re-run that sends nothing, then a renamed product
   and a discontinued article (the new price is left to the price flow, which owns prices);
4. the stock flow: web warehouse only, minus reservations and a safety stock of 2; after three
   stock moves in Tryton, exactly three variants are written;
5. the price flow: the new price, and a promotion in force in Tryton (sale_promotion);
6. the order import: three web orders checked out through Vendure's Shop API (a guest paying by
   card, the same customer again, a card only authorised) become Tryton sales with their paid
   deposit invoices; the authorised one is imported once the payment is captured;
7. the status feedback (a Colissimo tracking number) and, with LibreOffice, the invoice PDFs in
   an S3 bucket (moto on 127.0.0.1) linked on the customer's order. Runs and summaries: README.md.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer

from deployments.demo.catalogue import BAD_ROWS, demo_catalogue

__all__ = ["demo_config", "run_demo"]

CONNECTION = "demo"
DISCONTINUED = "UMB-FLD"  # made inactive in Tryton between runs 2 and 3


def demo_config(*, tryton_url: str, database: str, vendure_url: str) -> str:
    """The demo's passerelle.toml: every setting a real deployment would write, secrets by reference."""
    return f"""\
# Written by `passerelle demo`. Secrets are references (env:NAME), never values.
[state]
url = "sqlite:///state.db"

[snapshots]
root = "snapshots"

[connections.{CONNECTION}.erp]
type = "tryton"
url = "{tryton_url}"
database = "{database}"
login = "admin"
password = "file:secrets/tryton-password"
barcode_types = ["ean", ""]        # also legacy barcodes stored without a type

[connections.{CONNECTION}.shop]
type = "vendure"
url = "{vendure_url}"
username = "superadmin"
password = "file:secrets/vendure-password"

[connections.{CONNECTION}.catalogue]
currency = "EUR"
country = "FR"
group_field = "group_key"          # the Tryton template
attributes = ["colour", "size"]    # option groups, in this order
categories = [["fields.categories"]]
vat_rates = ["20", "10", "5.5", "2.1", "0"]
create_only = ["slug", "description", "images"]
batch_size = 50

[connections.{CONNECTION}.catalogue.fields]
description = "description"
"variant.name" = "name"

[connections.{CONNECTION}.catalogue.taxes.FR]
"20" = "Standard Tax"
"10" = "Intermediate Tax"
"5.5" = "Reduced Tax"
"2.1" = "Super Reduced Tax"
"0" = "Zero Tax"

[connections.{CONNECTION}.stock]
warehouses = ["WH"]                # the web warehouse; "STORE" (the shop floor) does not feed the web
subtract_reserved = true
safety_stock = 2

[connections.{CONNECTION}.prices]
groups = ["Wholesale"]             # a Tryton price list; Vendure has no group prices: reported, not sent

[connections.{CONNECTION}.orders]
import_when = "paid"               # paid | authorized | always | never
first_run_hours = 24
overlap_minutes = 10
[connections.{CONNECTION}.orders.rules]
"bank-transfer" = "always"         # payment method code -> rule (none in the demo shop)

[connections.{CONNECTION}.erp.orders]
shop = "vendure"                   # sale reference "vendure:<order id>", customer "vendure:<customer id>"
warehouse = "WH"
shipping_product = "SHIP-COLISSIMO"
total_tolerance = "0.05"           # larger differences quarantine the order
"""


def _say(text: str, **style: Any) -> None:
    typer.secho(text, **style)


def _write_secret(demo_dir: Path, name: str, value: str) -> None:
    """A secret the demo's configuration references (``file:secrets/<name>``), readable by this user
    only: the configuration then works from another shell while the servers run."""
    folder = demo_dir / "secrets"
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / name
    path.touch(mode=0o600)
    path.write_text(value, encoding="utf-8")


def run_demo(workdir: Path, *, keep_running: bool = False) -> None:
    from deployments.sandbox.tryton import TrytonSandbox
    from deployments.sandbox.vendure import VendureSandbox

    demo_dir = workdir / "demo"
    if demo_dir.exists():
        shutil.rmtree(demo_dir)  # a fresh shop each time, so a fresh state store too
    demo_dir.mkdir(parents=True)
    tryton_password = secrets.token_urlsafe(12)
    vendure_password = secrets.token_urlsafe(12)
    _write_secret(demo_dir, "tryton-password", tryton_password)
    _write_secret(demo_dir, "vendure-password", vendure_password)

    started = time.monotonic()
    s3: dict[str, Any] | None = None
    _say("Starting Tryton 8.2 (first run installs it from PyPI, ~1 min) ...", bold=True)
    tryton = TrytonSandbox(workdir=demo_dir / "tryton", admin_password=tryton_password, log_dir=demo_dir / "logs")
    vendure = VendureSandbox(password=vendure_password, log_dir=demo_dir / "logs")
    try:
        tryton.install()
        tryton.template_db()
        tryton.start()
        tryton.seed(demo_catalogue())
        pdf = _pdf_invoices(tryton)
        _say(f"  Tryton ready at {tryton.url} (database {tryton.database})")
        _say("Starting Vendure 3.7 (first run installs it from npm, ~30 s) ...", bold=True)
        vendure.start()
        _say(f"  Vendure ready at {vendure.admin_api_url}")
        config_file = demo_dir / "passerelle.toml"
        s3 = _start_s3(demo_dir) if pdf else None
        config_file.write_text(
            demo_config(tryton_url=tryton.url, database=tryton.database, vendure_url=vendure.admin_api_url)
            + (_storage_config(s3) if s3 else ""),
            encoding="utf-8",
        )
        _say(f"  servers up in {time.monotonic() - started:.0f} s; configuration: {config_file}")
        _runs(config_file, tryton)
        first = _order_runs(config_file, vendure)
        _feedback_runs(config_file, tryton, vendure, first, pdf=pdf)
        _epilogue(workdir, config_file, keep_running=keep_running)
        if keep_running:
            _say("\nServers keep running; Ctrl-C stops them.", bold=True)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    finally:
        # a second Ctrl-C while the servers stop would leave them running: let the stops finish
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            vendure.stop()
            tryton.stop()
            if s3 is not None:
                s3["server"].stop()
        finally:
            signal.signal(signal.SIGINT, previous)


def _runs(config_file: Path, tryton: Any) -> None:
    from deployments.summaries import print_summary
    from flows.catalogue import publish_catalogue

    _say("\nRun 1: publish the catalogue (Prefect starts a local API the first time, ~10 s)", bold=True)
    summary = publish_catalogue(connection=CONNECTION, config=str(config_file))
    print_summary(summary)
    _say("  expected in quarantine: " + "; ".join(f"{k} ({why})" for k, why in BAD_ROWS.items()), dim=True)

    _say("\nRun 2: nothing changed in the ERP, so nothing is sent", bold=True)
    print_summary(publish_catalogue(connection=CONNECTION, config=str(config_file)))

    _say("\nIn Tryton: the V-neck T-shirt renamed and +1.00 EUR, the folding umbrella discontinued", bold=True)
    _change_erp(tryton)
    _say(
        "Run 3: one product updated (its name: the price flow owns prices, run 6 sends the new one), "
        "one archived (disabled in the shop, never deleted)",
        bold=True,
    )
    print_summary(publish_catalogue(connection=CONNECTION, config=str(config_file)))
    _stock_and_price_runs(config_file, tryton)


def _stock_and_price_runs(config_file: Path, tryton: Any) -> None:
    from connectors.erp.tryton.client import TrytonClient
    from deployments.demo.stock import demo_stock_levels
    from deployments.sandbox import tryton_ops as ops
    from deployments.summaries import print_summary
    from flows.prices import sync_prices
    from flows.stock import sync_stock

    client = TrytonClient(tryton.url, tryton.database, login=tryton.login, password=tryton.password)
    try:
        levels = {sku: by_wh for sku, by_wh in demo_stock_levels(demo_catalogue()).items() if sku != DISCONTINUED}
        ops.seed_demo_stock(client, levels)
        _say("\nRun 4: stock of the web warehouse WH, minus reservations, minus a safety stock of 2", bold=True)
        print_summary(sync_stock(connection=CONNECTION, config=str(config_file)))
        _say("\nIn Tryton: 3 stock moves (2 in WH, 1 in the shop floor STORE) and a customer reservation", bold=True)
        ops.set_stock(client, "TSH-ORG-BLACK-M", "WH", 40)
        ops.set_stock(client, "MUG-ENA", "WH", 0)
        ops.set_stock(client, "BK-SEW", "STORE", 99)
        ops.reserve(client, "BK-DYE", "WH", 3)
        _say("Run 5: exactly the 2 web variants moved and the reserved one are sent", bold=True)
        print_summary(sync_stock(connection=CONNECTION, config=str(config_file)))

        today = date.today()
        ops.add_promotion(
            client,
            "Mug week",
            ["MUG-CER", "MUG-ENA"],
            "unit_price * 0.8",
            today - timedelta(days=1),
            today + timedelta(days=6),
        )
        _say("\nIn Tryton: a sale_promotion 'Mug week' (-20 %) running this week", bold=True)
        _say("Run 6: prices (the first run records every price; the mugs get their promotional price)", bold=True)
        print_summary(sync_prices(connection=CONNECTION, config=str(config_file)))
        _say("Run 7: nothing changed, nothing sent", bold=True)
        print_summary(sync_prices(connection=CONNECTION, config=str(config_file)))
    finally:
        client.close()


def _order_runs(config_file: Path, vendure: Any) -> dict[str, Any]:
    from connectors.shop.vendure.client import VendureClient
    from deployments.sandbox import vendure_ops as shop
    from deployments.summaries import print_summary
    from flows.orders import import_orders

    url = vendure.shop_api_url
    _say("\nIn Vendure: 3 web orders checked out through the Shop API", bold=True)
    first = shop.place_order(url, skus_quantities={"TSH-ORG-BLACK-M": 2, "BK-SEW": 1}, email="jeanne@example.com")
    again = shop.place_order(url, skus_quantities={"MUG-CER": 1}, email="Jeanne@Example.com", first_name="Jeanne")
    held = shop.place_order(url, skus_quantities={"BK-SEW": 1}, email="paul@example.com", paid=False)
    for order, what in ((first, "card, paid"), (again, "card, paid, same customer"), (held, "card authorised only")):
        _say(f"  {order['code']} {int(order['totalWithTax']) / 100:.2f} EUR ({what})", dim=True)
    _say("Run 8: the 2 paid orders become Tryton sales with paid deposit invoices; the authorised one waits", bold=True)
    print_summary(import_orders(connection=CONNECTION, config=str(config_file)))

    client = VendureClient(vendure.admin_api_url, username=vendure.username, password=vendure.password)
    try:
        shop.settle_payments(client, held["id"])
    finally:
        client.close()
    _say("\nIn Vendure: the authorised payment is captured", bold=True)
    _say("Run 9: that order is imported with its deposit; the others are not imported twice", bold=True)
    print_summary(import_orders(connection=CONNECTION, config=str(config_file)))
    return first


def _pdf_invoices(tryton: Any) -> bool:
    """Tryton renders invoice PDFs with LibreOffice: on when ``soffice`` is installed."""
    import shutil

    from connectors.erp.tryton.client import TrytonClient
    from deployments.sandbox import tryton_ops as ops

    if shutil.which("soffice") is None:
        return False
    client = TrytonClient(tryton.url, tryton.database, login=tryton.login, password=tryton.password)
    try:
        ops.invoice_report_extension(client, "pdf")
    finally:
        client.close()
    return True


def _start_s3(demo_dir: Path) -> dict[str, Any]:
    """moto's S3 server on 127.0.0.1 with a bucket for the invoice PDFs."""
    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log lines in the demo's output
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    s3_secret = secrets.token_urlsafe(12)
    _write_secret(demo_dir, "s3-key", "demo")
    _write_secret(demo_dir, "s3-secret", s3_secret)
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="eu-west-3",
        aws_access_key_id="demo",
        aws_secret_access_key=s3_secret,
    ).create_bucket(Bucket="demo-invoices", CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
    return {"server": server, "endpoint": endpoint}


def _storage_config(s3: dict[str, Any]) -> str:
    return f"""
[connections.{CONNECTION}.invoices]
title = "Facture {{number}}"
credit_note_title = "Avoir {{number}}"

[connections.{CONNECTION}.invoices.storage]
bucket = "demo-invoices"
prefix = "invoices/"
endpoint_url = "{s3["endpoint"]}"         # moto's S3 server, started by the demo
region = "eu-west-3"
access_key = "file:secrets/s3-key"
secret_key = "file:secrets/s3-secret"
"""


def _feedback_runs(config_file: Path, tryton: Any, vendure: Any, first: dict[str, Any], *, pdf: bool) -> None:
    from connectors.erp.tryton.client import TrytonClient
    from deployments.sandbox import tryton_ops as ops
    from deployments.sandbox import vendure_ops as shop
    from deployments.summaries import print_summary
    from flows.feedback import feedback_status
    from flows.invoices import upload_invoices

    client = TrytonClient(tryton.url, tryton.database, login=tryton.login, password=tryton.password)
    try:
        (sale,) = client.model("sale.sale").search_read([("reference", "=", f"vendure:{first['id']}")], ["id"])
        ops.ship_with_tracking(client, sale["id"], "6A12345678901", carrier="Colissimo")
        _say(f"\nIn Tryton: order {first['code']} shipped by Colissimo, tracking number 6A12345678901", bold=True)
        _say("Run 10: the shop order turns Shipped with the carrier and the tracking number", bold=True)
        print_summary(feedback_status(connection=CONNECTION, config=str(config_file)))
        seen = shop.customer_order(vendure.shop_api_url, first["code"], token=first["token"])
        _say(
            f"  the customer's page: {seen['state']}, "
            + ", ".join(f"{f['method']} {f['trackingCode']}" for f in seen.get("fulfillments") or []),
            dim=True,
        )
        if not pdf:
            _say("\nInvoice PDFs skipped: Tryton renders them with LibreOffice, not installed here", bold=True)
            _say("  (apt-get install libreoffice-writer-nogui fonts-liberation, then run the demo again)", dim=True)
            return
        final = ops.final_invoice(client, sale["id"])
        client.model("account.invoice").post([final["id"]])
        _say("\nIn Tryton: the final invoice of that order is posted (its deposit deducted)", bold=True)
        _say("Run 11: every posted invoice as PDF to S3 (moto on 127.0.0.1), linked on the customer's order", bold=True)
        print_summary(upload_invoices(connection=CONNECTION, config=str(config_file)))
        _say("Run 12: nothing new: nothing rendered, uploaded or linked", bold=True)
        print_summary(upload_invoices(connection=CONNECTION, config=str(config_file)))
    finally:
        client.close()


def _change_erp(tryton: Any) -> None:
    from connectors.erp.tryton.client import TrytonClient

    client = TrytonClient(tryton.url, tryton.database, login=tryton.login, password=tryton.password)
    try:
        templates = client.model("product.template")
        (vneck,) = templates.search_read([("code", "=", "TSH-VNK")], ["id", "list_price", "name"])
        templates.write(
            [vneck["id"]], {"list_price": vneck["list_price"] + Decimal("1.00"), "name": f"{vneck['name']} (organic)"}
        )
        products = client.model("product.product")
        umbrella = products.search([("code", "=", DISCONTINUED)], 0, None, None)
        products.write(umbrella, {"active": False})
    finally:
        client.close()


def _epilogue(workdir: Path, config_file: Path, *, keep_running: bool = False) -> None:
    prefect_home = os.environ.get("PREFECT_HOME", str(workdir / "prefect"))
    _say("\nWhere to look", bold=True)
    _say(f"  snapshots (Parquet, for auditors): {config_file.parent / 'snapshots'}")
    _say(f"  what happened to one SKU:  uv run passerelle audit history variant <key> -c {config_file}")
    _say(f"  refused records:           uv run passerelle quarantine list -c {config_file}")
    _say(f"  what happened to an order: uv run passerelle audit history order <order code or id> -c {config_file}")
    if keep_running:
        _say(
            f"  import orders now (another shell, while the servers run): uv run passerelle run orders -c {config_file}"
        )
    else:
        _say("  run the flows yourself:    uv run passerelle demo --keep-running, then in another shell")
        _say(f"                              uv run passerelle run orders -c {config_file}")
    _say(f"  the runs in the Prefect UI: PREFECT_HOME={prefect_home} uv run prefect server start")
    _say("                              then open http://127.0.0.1:4200 (flow runs, logs, summary artifacts)")
