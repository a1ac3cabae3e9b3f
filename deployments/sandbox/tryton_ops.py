"""What an operator does in Tryton, over our JSON-RPC client: for the tests and the demo.

Each function is a handful of calls (no subprocess, no proteus), done the way a Tryton user's
action ends up in the database: stock by a confirmed **inventory** (:func:`set_stock`), a
reservation by a confirmed **sale** (:func:`reserve`), promotions and prices by plain creates and
writes that Tryton validates; then shipping, invoices and returns (:func:`ship_with_tracking`,
:func:`cancel_sale`, :func:`credit_invoice`, :func:`return_sale`).

Details: deployments/sandbox/tryton/README.md (section "Operator actions").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from connectors.erp.tryton.client import TrytonClient

__all__ = [
    "add_promotion",
    "cancel_sale",
    "credit_invoice",
    "final_invoice",
    "invoice_report_extension",
    "reserve",
    "return_sale",
    "seed_demo_stock",
    "set_group_price",
    "set_list_price",
    "set_stock",
    "ship",
    "ship_with_tracking",
]

CUSTOMER = "Passerelle test customer"
_LINE_ORDER = (("sequence", "ASC NULLS FIRST"), ("id", "ASC"))


def set_stock(client: TrytonClient, sku: str, warehouse_code: str, quantity: int | Decimal) -> int | None:
    """Make the on-hand quantity of ``sku`` in the warehouse exactly ``quantity``.

    Returns:
        The id of the (done) inventory that counted it, None when it already was ``quantity``.
    """
    product = _products(client, [sku])[sku]
    inventories = _adjustments(client, {sku: {warehouse_code: quantity}}, {sku: product})
    return inventories[0] if inventories else None


def seed_demo_stock(client: TrytonClient, levels: Mapping[str, Mapping[str, int]]) -> int:
    """Set the on-hand quantity of many articles (sku -> warehouse code -> quantity) at once.

    Calls: one search of the products, one of the warehouses, two reads of the quantities per
    warehouse (all of it, its storage zone), one create of the inventories (one per warehouse,
    with all their lines) and one ``confirm``, whatever the number of articles.

    Returns:
        The number of inventories made (warehouses already at their levels need none).
    """
    products = _products(client, list(levels))
    return len(_adjustments(client, levels, products))


def reserve(client: TrytonClient, sku: str, warehouse_code: str, quantity: int | Decimal) -> int:
    """Promise ``quantity`` of ``sku`` to a customer from the warehouse: a confirmed sale.

    Returns:
        The sale id (the sale is in state processing, its shipment waiting).
    """
    product = _products(client, [sku])[sku]
    warehouse = _warehouses(client, [warehouse_code])[warehouse_code]
    party, address = _customer(client)
    carriers = client.model("carrier").search([], 0, 1, None)
    sale = client.model("sale.sale")
    (sale_id,) = sale.create(
        [
            {
                "party": party,
                "invoice_address": address,
                "shipment_address": address,
                "warehouse": warehouse["id"],
                "company": _company(client),
                "currency": _company_currency(client),
                "carrier": carriers[0] if carriers else None,
                "description": f"reservation of {quantity} {sku}",
                "lines": [
                    [
                        "create",
                        [
                            {
                                "type": "line",
                                "product": product["id"],
                                "quantity": float(quantity),
                                "unit": product["default_uom"],
                                "unit_price": product["list_price_used"] or Decimal(0),
                                "description": product["rec_name"],
                            }
                        ],
                    ]
                ],
            }
        ]
    )
    sale.quote([sale_id])
    sale.confirm([sale_id])  # processed at once: shipment and outgoing moves are created
    return int(sale_id)


def add_promotion(
    client: TrytonClient,
    name: str,
    skus: Sequence[str],
    formula: str,
    start: date | None,
    end: date | None,
    *,
    categories: Sequence[str] = (),
    min_amount: Decimal | None = None,
) -> int:
    """A ``sale_promotion`` promotion on ``skus`` (and/or category paths such as "Clothing/T-shirts").

    ``min_amount`` makes it depend on the order's amount (then it is no public price).
    """
    values: dict[str, Any] = {
        "name": name,
        "formula": formula,
        "company": _company(client),
        "start_date": start,
        "end_date": end,
    }
    if skus:
        values["products"] = [["add", [p["id"] for p in _products(client, list(skus)).values()]]]
    if categories:
        values["categories"] = [["add", [_category(client, path) for path in categories]]]
    if min_amount is not None:
        values.update(amount=min_amount, currency=_company_currency(client))
    (promotion_id,) = client.model("sale.promotion").create([values])
    return int(promotion_id)


def set_group_price(
    client: TrytonClient,
    price_list_name: str,
    sku: str | None,
    formula: str,
    *,
    category: str | None = None,
    quantity: float | None = None,
) -> int:
    """A line of the price list for ``sku`` (or a category path), placed before the others.

    Tryton walks the lines by sequence with empty sequences first, so the other lines are
    renumbered after the new one (one write). Returns the new line's id.
    """
    (price_list,) = client.model("product.price_list").search_read([("name", "=", price_list_name)], ["id"])
    lines = client.model("product.price_list.line").search_read(
        [("price_list", "=", price_list["id"])], ["id"], order=_LINE_ORDER
    )
    values: dict[str, Any] = {"price_list": price_list["id"], "formula": formula, "sequence": 1, "quantity": quantity}
    if sku is not None:
        values["product"] = _products(client, [sku])[sku]["id"]
    if category is not None:
        values["category"] = _category(client, category)
    model = client.model("product.price_list.line")
    (line_id,) = model.create([values])
    if lines:
        args: list[Any] = []
        for position, line in enumerate(lines, start=2):
            args += [[line["id"]], {"sequence": position}]
        model.write(*args)
    return int(line_id)


def set_list_price(client: TrytonClient, sku: str, price: Decimal | str) -> None:
    """The variant's own list price (Tryton 8.2 keeps one per product.product)."""
    product = _products(client, [sku])[sku]
    client.model("product.product").write([product["id"]], {"list_price": Decimal(price)})


def ship(client: TrytonClient, sale_id: int) -> list[int]:
    """Ship every waiting shipment of a sale to the end (assign, pick, pack, done); their ids."""
    (sale,) = client.model("sale.sale").read([sale_id], ["shipments"])
    shipments = client.model("stock.shipment.out")
    ids = [
        int(s["id"]) for s in shipments.read(sale["shipments"], ["state"]) if s["state"] not in ("done", "cancelled")
    ]
    if ids:
        shipments.assign_force(ids)
        shipments.pick(ids)
        shipments.pack(ids)
        shipments.do(ids)
    return ids


# -- helpers -----------------------------------------------------------------------------------


def _products(client: TrytonClient, skus: Sequence[str]) -> dict[str, dict[str, Any]]:
    rows = client.model("product.product").search_read(
        [("code", "in", list(skus))], ["id", "code", "default_uom", "list_price_used", "rec_name"]
    )
    found = {r["code"]: r for r in rows}
    missing = [s for s in skus if s not in found]
    if missing:
        raise ValueError(f"no Tryton product with code {', '.join(map(repr, missing))}")
    return found


def _warehouses(client: TrytonClient, codes: Sequence[str]) -> dict[str, dict[str, Any]]:
    rows = client.model("stock.location").search_read(
        [("type", "=", "warehouse"), ("code", "in", list(codes))],
        ["id", "code", "storage_location", "lost_found_location"],
    )
    found = {r["code"]: r for r in rows}
    missing = [c for c in codes if c not in found]
    if missing:
        raise ValueError(f"no Tryton warehouse with code {', '.join(map(repr, missing))}")
    return found


def _adjustments(
    client: TrytonClient, levels: Mapping[str, Mapping[str, int | Decimal]], products: Mapping[str, dict[str, Any]]
) -> list[int]:
    """Count every (sku, warehouse) at its level with one inventory per warehouse; their ids.

    An inventory sets the quantity of its storage zone: the target there is the warehouse's
    level less what its other zones (input, output) hold. Confirming it makes the done moves
    between the zone and lost and found, dated the server's today.
    """
    codes = sorted({code for by_warehouse in levels.values() for code in by_warehouse})
    warehouses = _warehouses(client, codes)
    company = _company(client)
    read = client.model("product.product").read
    inventories: list[dict[str, Any]] = []
    for code in codes:
        warehouse = warehouses[code]
        storage = warehouse["storage_location"]
        ids = [products[sku]["id"] for sku, by_warehouse in levels.items() if code in by_warehouse]
        total = {r["id"]: r["quantity"] for r in read(ids, ["quantity"], context=_at(warehouse["id"]))}
        stored = {r["id"]: r["quantity"] for r in read(ids, ["quantity"], context=_at(storage))}
        lines = []
        for sku, by_warehouse in levels.items():
            if code not in by_warehouse:
                continue
            product = products[sku]["id"]
            delta = Decimal(str(by_warehouse[code])) - Decimal(str(total.get(product) or 0))
            if delta:
                target = Decimal(str(stored.get(product) or 0)) + delta
                lines.append({"product": product, "quantity": float(target)})
        if lines:
            inventories.append(
                {"location": storage, "company": company, "empty_quantity": "keep", "lines": [["create", lines]]}
            )
    if not inventories:
        return []
    model = client.model("stock.inventory")
    ids = [int(i) for i in model.create(inventories)]
    model.confirm(ids)
    return ids


def _at(location: int) -> dict[str, Any]:
    return {"locations": [location], "with_childs": True}


def _customer(client: TrytonClient) -> tuple[int, int]:
    """The test customer (created once) and its address."""
    party = client.model("party.party")
    rows = party.search_read([("name", "=", CUSTOMER)], ["id", "addresses"])
    if not rows:
        party.create(
            [
                {
                    "name": CUSTOMER,
                    "addresses": [
                        [
                            "create",
                            [{"street_unstructured": "2 place du Marché", "postal_code": "69001", "city": "Lyon"}],
                        ]
                    ],
                }
            ]
        )
        rows = party.search_read([("name", "=", CUSTOMER)], ["id", "addresses"])
    return rows[0]["id"], rows[0]["addresses"][0]


def _company(client: TrytonClient) -> int:
    """The user's current company (from the session context: log in first if needed)."""
    if not client.context:
        client.login()
    return int(client.context["company"])


def _company_currency(client: TrytonClient) -> int:
    (company,) = client.model("company.company").read([_company(client)], ["currency"])
    return int(company["currency"])


def _category(client: TrytonClient, path: str) -> int:
    """A product.category id from its "Parent/Child" path (Tryton's rec_name is "Parent / Child")."""
    name = path.rsplit("/", 1)[-1]
    for row in client.model("product.category").search_read([("name", "=", name)], ["id", "rec_name"]):
        if row["rec_name"].replace(" / ", "/") == path:
            return int(row["id"])
    raise ValueError(f"no Tryton product category {path!r}")


def final_invoice(client: TrytonClient, sale_id: int) -> dict[str, Any]:
    """Ship the sale (:func:`ship`), then its invoice that is no deposit: id, state, total and
    the amounts of its recall lines (the negative lines that deduct paid deposits).

    Returns ``{"id": None, ...}`` when Tryton has made no final invoice (a deposit still unpaid).
    """
    ship(client, sale_id)
    (sale,) = client.model("sale.sale").read([sale_id], ["invoices", "advance_payment_invoices"])
    finals = sorted(set(sale["invoices"]) - set(sale["advance_payment_invoices"]))
    if not finals:
        return {"id": None, "state": None, "total": None, "recall": []}
    (invoice,) = client.model("account.invoice").read(
        finals[-1:], ["id", "state", "total_amount", "lines.quantity", "lines.amount", "lines.origin"]
    )
    recall = [
        line["amount"]
        for line in invoice["lines."]
        if line["quantity"] < 0 and str(line.get("origin") or "").startswith("account.invoice.line,")
    ]
    return {"id": invoice["id"], "state": invoice["state"], "total": invoice["total_amount"], "recall": recall}


# -- status feedback and invoices (issue 5) ---------------------------------------------------------

PACKAGE_TYPE = "Parcel"


def ship_with_tracking(
    client: TrytonClient,
    sale_id: int,
    tracking_number: str | None,
    *,
    carrier: str | None = None,
    on: str = "package",
    quantities: Mapping[str, int | Decimal] | None = None,
    done: bool = True,
) -> list[int]:
    """Ship the sale's waiting shipments with a carrier's tracking number, as a warehouse user does.

    ``on="package"``: the outgoing moves go into one package (type "Parcel", created once) whose
    ``shipping_reference`` is the tracking number, as stock_package_shipping's carrier services
    write it; ``on="shipment"``: the shipment's own ``shipping_reference``. ``carrier``: the name
    of the carrier's party to put on the shipments (a carrier of the sale's shipping product is
    created when there is none by that name); default: the sale's. ``quantities``: SKU -> quantity
    to ship now, less than ordered (Tryton makes a backorder shipment for the rest). ``done=False``
    stops at Tryton's "shipped" state (handed over to the carrier), else the shipments are done.

    Returns:
        The ids of the shipments shipped.
    """
    if on not in ("package", "shipment"):
        raise ValueError(f"on must be 'package' or 'shipment', not {on!r}")
    (sale,) = client.model("sale.sale").read([sale_id], ["shipments", "carrier"])
    shipments = client.model("stock.shipment.out")
    rows = shipments.read(sale["shipments"], ["state", "company", "inventory_moves.product.code"])
    ids = [int(r["id"]) for r in rows if r["state"] not in ("shipped", "done", "cancelled")]
    if not ids:
        return []
    values: dict[str, Any] = {}
    if carrier is not None:
        values["carrier"] = _carrier_named(client, carrier, sale["carrier"])
    if tracking_number is not None and on == "shipment":
        values["shipping_reference"] = tracking_number
    if values:
        shipments.write(ids, values)
    if quantities:
        moves = client.model("stock.move")
        for row in rows:
            for move in row.get("inventory_moves.") or []:
                code = (move.get("product.") or {}).get("code")
                if code in quantities:
                    moves.write([move["id"]], {"quantity": float(quantities[code])})
    shipments.assign_force(ids)
    shipments.pick(ids)
    if tracking_number is not None and on == "package":
        package_type = _package_type(client)
        packages = []
        for row in shipments.read(ids, ["company", "outgoing_moves", "outgoing_moves.quantity"]):
            moves_ids = [m["id"] for m in row.get("outgoing_moves.") or [] if m.get("quantity")]
            packages.append(
                {
                    "company": row["company"],
                    "type": package_type,
                    "shipment": f"stock.shipment.out,{row['id']}",
                    "moves": [["add", moves_ids]],
                    "shipping_reference": tracking_number,
                }
            )
        client.model("stock.package").create(packages)
    shipments.pack(ids)
    if done:
        shipments.do(ids)
    else:
        shipments.ship(ids)
    return ids


def cancel_sale(client: TrytonClient, sale_id: int) -> None:
    """Cancel a processed sale as Tryton has it: cancel its shipments and unposted invoices not done,
    then handle the sale's exceptions by ignoring them (Sale > Handle Shipment / Invoice Exception).
    """
    sales = client.model("sale.sale")
    (sale,) = sales.read([sale_id], ["shipments", "invoices", "advance_payment_invoices"])
    shipments = client.model("stock.shipment.out")
    open_shipments = [
        int(r["id"]) for r in shipments.read(sale["shipments"], ["state"]) if r["state"] not in ("done", "cancelled")
    ]
    if open_shipments:
        shipments.cancel(open_shipments)
    invoices = client.model("account.invoice")
    invoice_ids = sorted(set(sale["invoices"]) | set(sale.get("advance_payment_invoices") or []))
    drafts = [int(r["id"]) for r in invoices.read(invoice_ids, ["state"]) if r["state"] in ("draft", "validated")]
    if drafts:
        invoices.cancel(drafts)
    for wizard, domain, ignore, recreate, state in (
        ("sale.handle.shipment.exception", "domain_moves", "ignore_moves", "recreate_moves", "shipment_state"),
        ("sale.handle.invoice.exception", "domain_invoices", "ignore_invoices", "recreate_invoices", "invoice_state"),
    ):
        (row,) = sales.read([sale_id], [state])
        if row[state] != "exception":
            continue
        context = {"active_model": "sale.sale", "active_id": sale_id, "active_ids": [sale_id]}
        session, _, _ = client.call(f"wizard.{wizard}.create", context=context)
        try:
            view = client.call(f"wizard.{wizard}.execute", session, {}, "ask", context=context).get("view") or {}
            found = (view.get("defaults") or {}).get(domain) or []
            answer = {"ask": {domain: found, ignore: found, recreate: []}}
            client.call(f"wizard.{wizard}.execute", session, answer, "handle", context=context)
        finally:
            client.call(f"wizard.{wizard}.delete", session, context=context)


def credit_invoice(client: TrytonClient, invoice_id: int) -> int:
    """Credit a posted customer invoice with Tryton's Credit wizard and post the credit note; its id.

    The wizard refunds (reconciles) only an invoice not paid yet; a paid one is credited without.
    """
    context = {"active_model": "account.invoice", "active_id": invoice_id, "active_ids": [invoice_id]}
    wizard = "wizard.account.invoice.credit"
    session, _, _ = client.call(f"{wizard}.create", context=context)
    try:
        view = client.call(f"{wizard}.execute", session, {}, "start", context=context).get("view") or {}
        defaults = view.get("defaults") or {}
        start = {"with_refund": bool(defaults.get("with_refund")), "invoice_date": None}
        result = client.call(f"{wizard}.execute", session, {"start": start}, "credit", context=context)
    finally:
        client.call(f"{wizard}.delete", session, context=context)
    (credit_id,) = result["actions"][0][1]["res_id"]
    invoices = client.model("account.invoice")
    (row,) = invoices.read([credit_id], ["state"])
    if row["state"] in ("draft", "validated"):
        invoices.post([credit_id])
    return int(credit_id)


def return_sale(client: TrytonClient, sale_id: int) -> dict[str, int]:
    """Sale > Return on the whole sale: the return sale (negative quantities, ``origin`` = the
    sale), quoted and confirmed, and its credit note posted.

    Returns:
        ``{"sale": return sale id, "credit_note": its posted credit note id}``.
    """
    context = {"active_model": "sale.sale", "active_id": sale_id, "active_ids": [sale_id]}
    wizard = "wizard.sale.return_sale"
    session, _, _ = client.call(f"{wizard}.create", context=context)
    try:
        client.call(f"{wizard}.execute", session, {}, "start", context=context)
        result = client.call(f"{wizard}.execute", session, {"start": {}}, "return_", context=context)
    finally:
        client.call(f"{wizard}.delete", session, context=context)
    (returned,) = result["actions"][0][1]["res_id"]
    sales = client.model("sale.sale")
    sales.quote([returned])
    sales.confirm([returned])  # processed at once: the credit note (draft) and the return shipment
    (row,) = sales.read([returned], ["invoices"])
    (credit_id,) = row["invoices"]
    client.model("account.invoice").post([credit_id])
    return {"sale": int(returned), "credit_note": int(credit_id)}


def invoice_report_extension(client: TrytonClient, extension: str) -> str:
    """Set the output format of Tryton's invoice report ("pdf", or "" for the template's ODT),
    as an administrator does once (Administration > User Interface > Actions > Reports > Invoice).

    Tryton converts with LibreOffice on its server when the invoice is posted and keeps that
    document: set it before posting. Returns the previous extension.
    """
    reports = client.model("ir.action.report")
    (report,) = reports.search_read([("report_name", "=", "account.invoice")], ["id", "extension"])
    if (report["extension"] or "") != extension:
        reports.write([report["id"]], {"extension": extension})
    return report["extension"] or ""


def _package_type(client: TrytonClient) -> int:
    types = client.model("stock.package.type")
    rows = types.search_read([("name", "=", PACKAGE_TYPE)], ["id"])
    if rows:
        return int(rows[0]["id"])
    (created,) = types.create([{"name": PACKAGE_TYPE}])
    return int(created)


def _carrier_named(client: TrytonClient, name: str, sale_carrier: int | None) -> int:
    """The carrier whose party is ``name``; created (party, same shipping product as the sale's
    carrier) when there is none."""
    carriers = client.model("carrier")
    rows = carriers.search_read([("party.name", "=", name)], ["id"])
    if rows:
        return int(rows[0]["id"])
    template = carriers.read([sale_carrier], ["carrier_product"])[0] if sale_carrier else None
    if template is None:
        template = carriers.search_read([], ["carrier_product"], limit=1)[0]
    (party,) = client.model("party.party").create([{"name": name}])
    (created,) = carriers.create(
        [{"party": party, "carrier_product": template["carrier_product"], "carrier_cost_method": "product"}]
    )
    return int(created)
