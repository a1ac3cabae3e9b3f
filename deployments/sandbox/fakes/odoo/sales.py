"""Sales, down payments, invoices and payments in the Odoo fake, as Odoo's source does them.

- sale.order.line defaults (``sale/models/sale_order_line.py``: ``_compute_name`` from the
  product, ``_compute_price_unit`` its price, ``_compute_tax_id`` its ``taxes_id``); amounts per
  line rounded per line (``account/models/account_tax.py``, the default ``round_per_line``);
  a tax-included tax takes its share out of the price;
- ``action_confirm`` only from draft / sent (``sale_order.py``: "Some orders are not in a state
  requiring confirmation."); ``unlink`` only draft or cancelled (``_unlink_except_draft_or_cancel``);
- ``sale.advance.payment.inv.create_invoices`` (``sale/wizard/sale_make_invoice_advance.py``):
  ``fixed``: the tax-included amount split over the order's tax groups
  (``AccountTax._prepare_down_payment_lines``), a down payment line on the order and a draft
  invoice; ``delivered``: the final invoice with the down payments deducted (negative lines);
  a non-positive amount is a UserError (``_check_amount_is_positive``);
- ``account.move.action_post``; ``account.payment.register.action_create_payments`` on posted
  invoices only (``account/wizard/account_payment_register.py``), ``payment_state`` ``in_payment``
  once the residual is 0 (outstanding accounts: paid once the bank statement is reconciled).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from deployments.sandbox.fakes.odoo.errors import FakeOdooError

OdooFake = Any  # the fake (server.OdooFake), not imported: server imports this module

__all__ = ["install"]

CENT = Decimal("0.01")


def _user_error(message: str) -> FakeOdooError:
    return FakeOdooError("odoo.exceptions.UserError", message)


def amounts(
    fake: OdooFake, price_unit: float, quantity: float, discount: float, tax_ids: list[int]
) -> tuple[Decimal, Decimal]:
    """(tax-excluded subtotal, tax) of one line, rounded per line."""
    gross = Decimal(str(price_unit)) * Decimal(str(quantity)) * (1 - Decimal(str(discount or 0)) / 100)
    taxes = [fake.tables["account.tax"][t] for t in tax_ids if t in fake.tables["account.tax"]]
    rate = lambda t: Decimal(str(t.get("amount") or 0)) / 100  # noqa: E731
    included = [t for t in taxes if fake.value("account.tax", t, "price_include")]
    if included:
        total = gross.quantize(CENT, ROUND_HALF_UP)
        base = (total / (1 + sum(rate(t) for t in included))).quantize(CENT, ROUND_HALF_UP)
        tax = total - base
    else:
        base = gross.quantize(CENT, ROUND_HALF_UP)
        tax = Decimal(0)
    tax += sum(((base * rate(t)).quantize(CENT, ROUND_HALF_UP) for t in taxes if t not in included), Decimal(0))
    return base, tax


def install(fake: OdooFake) -> None:
    tax_field = "tax_ids" if "tax_ids" in fake.schema["sale.order.line"].fields else "tax_id"
    uom_field = "product_uom_id" if "product_uom_id" in fake.schema["sale.order.line"].fields else "product_uom"

    def line_amounts(rec: dict[str, Any]) -> tuple[Decimal, Decimal]:
        return amounts(
            fake,
            rec.get("price_unit") or 0.0,
            rec.get("product_uom_qty") or 0.0,
            rec.get("discount") or 0.0,
            rec.get(tax_field) or [],
        )

    def order_lines(order: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            fake.tables["sale.order.line"][i]
            for i in fake.value("sale.order", order, "order_line")
            if i in fake.tables["sale.order.line"]
        ]

    def order_amount(order: dict[str, Any], part: int) -> float:
        values = [line_amounts(line) for line in order_lines(order)]
        if part == 2:
            return float(sum((a + b for a, b in values), Decimal(0)))
        return float(sum((v[part] for v in values), Decimal(0)))

    def line_defaults(values: dict[str, Any]) -> dict[str, Any]:
        product = fake.tables["product.product"].get(values.get("product_id") or 0)
        if product is not None:
            values.setdefault("name", fake.display_name("product.product", product))
            values.setdefault("price_unit", fake.value("product.product", product, "lst_price"))
            values.setdefault(tax_field, list(fake.value("product.product", product, "taxes_id") or []))
            values.setdefault(uom_field, 1)
        return values

    def order_defaults(values: dict[str, Any]) -> dict[str, Any]:
        if values.get("partner_id"):
            values.setdefault("partner_invoice_id", values["partner_id"])
            values.setdefault("partner_shipping_id", values["partner_id"])
        if values.get("name", "New") == "New":
            values["name"] = f"S{len(fake.tables['sale.order']) + 1:05d}"
        return values

    def move_amount(move: dict[str, Any], part: int) -> float:
        lines = [fake.tables["account.move.line"][i] for i in fake.value("account.move", move, "invoice_line_ids")]
        values = [
            amounts(fake, ml.get("price_unit") or 0.0, ml.get("quantity") or 0.0, 0.0, ml.get("tax_ids") or [])
            for ml in lines
        ]
        if part == 2:
            return float(sum((a + b for a, b in values), Decimal(0)))
        return float(sum((v[part] for v in values), Decimal(0)))

    def residual(move: dict[str, Any]) -> float:
        return round(move_amount(move, 2) - (move.get("_paid") or 0.0), 2)

    def payment_state(move: dict[str, Any]) -> str:
        if move.get("state") != "posted" or not move.get("_paid"):
            return "not_paid"
        return "in_payment" if residual(move) <= 0 else "partial"

    fake.on_create["sale.order.line"] = line_defaults
    fake.on_create["sale.order"] = order_defaults
    computes = {
        ("sale.order.line", "price_subtotal"): lambda r: float(line_amounts(r)[0]),
        ("sale.order.line", "price_tax"): lambda r: float(line_amounts(r)[1]),
        ("sale.order.line", "price_total"): lambda r: float(sum(line_amounts(r))),
        ("sale.order.line", "state"): lambda r: (
            fake.tables["sale.order"].get(r.get("order_id") or 0, {}).get("state", False)
        ),
        ("sale.order", "amount_untaxed"): lambda r: order_amount(r, 0),
        ("sale.order", "amount_tax"): lambda r: order_amount(r, 1),
        ("sale.order", "amount_total"): lambda r: order_amount(r, 2),
        ("sale.order", "invoice_ids"): lambda r: sorted(
            i for i, m in fake.tables["account.move"].items() if m.get("_order") == r["id"]
        ),
        ("account.move", "amount_untaxed"): lambda r: move_amount(r, 0),
        ("account.move", "amount_total"): lambda r: move_amount(r, 2),
        ("account.move", "amount_residual"): residual,
        ("account.move", "payment_state"): payment_state,
        ("account.move.line", "price_subtotal"): lambda r: float(
            amounts(fake, r.get("price_unit") or 0.0, r.get("quantity") or 0.0, 0.0, r.get("tax_ids") or [])[0]
        ),
    }
    # sale_stock: sale.order.picking_ids are the pickings whose sale_id is the order (the captured
    # list has no stock module: the fake adds the field as sale_stock declares it)
    computes[("sale.order", "picking_ids")] = lambda r: sorted(
        i for i, p in fake.tables["stock.picking"].items() if p.get("sale_id") == r["id"]
    )
    fake.computes.update(computes)

    def action_confirm(fake: OdooFake, args: list[Any], kwargs: dict[str, Any]) -> bool:
        ids = list(args[0])
        orders = [fake.tables["sale.order"][i] for i in ids]
        if any(o["state"] not in ("draft", "sent") for o in orders):
            raise _user_error("Some orders are not in a state requiring confirmation.")
        fake.write("sale.order", ids, {"state": "sale"}, admin=True)
        return True

    def create_invoices(fake: OdooFake, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
        (wizard,) = [fake.tables["sale.advance.payment.inv"][i] for i in args[0]]
        order_ids = wizard.get("sale_order_ids") or wizard.get("_active_ids") or []
        created = []
        for order_id in order_ids:
            order = fake.tables["sale.order"][order_id]
            if order["state"] != "sale":
                raise _user_error("You cannot invoice a quotation: confirm the order first.")
            if wizard["advance_payment_method"] == "fixed":
                created.append(_down_payment(fake, order, Decimal(str(wizard.get("fixed_amount") or 0)), tax_field))
            else:
                created.append(_final(fake, order, tax_field, bool(wizard.get("deduct_down_payments", True))))
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": created[0] if created else False,
        }

    def action_post(fake: OdooFake, args: list[Any], kwargs: dict[str, Any]) -> bool:
        for move_id in args[0]:
            move = fake.tables["account.move"][move_id]
            if move["state"] != "draft":
                raise _user_error("The entry is already posted.")
            posted = sum(1 for m in fake.tables["account.move"].values() if m.get("state") == "posted") + 1
            fake.write(
                "account.move",
                [move_id],
                {"state": "posted", "name": f"INV/2026/{posted:05d}", "invoice_date": "2026-06-01"},
                admin=True,
            )
        return True

    def action_create_payments(fake: OdooFake, args: list[Any], kwargs: dict[str, Any]) -> bool:
        (wizard,) = [fake.tables["account.payment.register"][i] for i in args[0]]
        memo = "memo" if "memo" in fake.schema["account.payment"].fields else "ref"
        for move_id in wizard.get("_active_ids") or []:
            move = fake.tables["account.move"][move_id]
            if move["state"] != "posted":
                raise _user_error("You can only register payment for posted journal entries.")
            amount = float(wizard.get("amount") or residual(move))
            fake.create(
                "account.payment",
                {
                    "amount": amount,
                    "partner_id": move.get("partner_id"),
                    "journal_id": wizard.get("journal_id"),
                    memo: wizard.get("communication") or "",
                    "state": "paid" if fake.version >= 18 else "posted",
                    "reconciled_invoice_ids": [move_id],
                },
                admin=True,
            )
            move["_paid"] = round((move.get("_paid") or 0.0) + amount, 2)
        return True

    fake.methods[("sale.order", "action_confirm")] = action_confirm
    fake.methods[("sale.advance.payment.inv", "create_invoices")] = create_invoices
    fake.methods[("account.move", "action_post")] = action_post
    fake.methods[("account.payment.register", "action_create_payments")] = action_create_payments


def _groups(fake: OdooFake, order: dict[str, Any], tax_field: str) -> dict[tuple[int, ...], Decimal]:
    """Tax-included totals of the order's lines by taxes (down payment lines left out)."""
    totals: dict[tuple[int, ...], Decimal] = {}
    for line_id in fake.value("sale.order", order, "order_line"):
        line = fake.tables["sale.order.line"][line_id]
        if line.get("is_downpayment"):
            continue
        taxes = tuple(sorted(line.get(tax_field) or []))
        base, tax = amounts(
            fake,
            line.get("price_unit") or 0.0,
            line.get("product_uom_qty") or 0.0,
            line.get("discount") or 0.0,
            list(taxes),
        )
        totals[taxes] = totals.get(taxes, Decimal(0)) + base + tax
    return totals


def _down_payment(fake: OdooFake, order: dict[str, Any], amount: Decimal, tax_field: str) -> int:
    if amount <= 0:
        raise _user_error("The value of the down payment amount must be positive.")
    groups = _groups(fake, order, tax_field)
    total = sum(groups.values(), Decimal(0))
    invoice_lines = []
    left = amount
    keys = [k for k, v in groups.items() if v]
    for index, taxes in enumerate(keys):
        share = left if index == len(keys) - 1 else (amount * groups[taxes] / total).quantize(CENT, ROUND_HALF_UP)
        left -= share
        records = [fake.tables["account.tax"][t] for t in taxes]
        if all(fake.value("account.tax", t, "price_include") for t in records) and records:
            price = share
        else:
            rate = sum((Decimal(str(t.get("amount") or 0)) / 100 for t in records), Decimal(0))
            price = (share / (1 + rate)).quantize(CENT, ROUND_HALF_UP)
        so_line = fake.create(
            "sale.order.line",
            {
                "order_id": order["id"],
                "name": "Down Payment",
                "product_uom_qty": 0.0,
                "price_unit": float(price),
                tax_field: list(taxes),
                "is_downpayment": True,
            },
            admin=True,
        )
        invoice_lines.append(
            [
                0,
                0,
                {
                    "name": "Down Payment",
                    "quantity": 1.0,
                    "price_unit": float(price),
                    "tax_ids": list(taxes),
                    "sale_line_ids": [so_line],
                    "is_downpayment": True,
                },
            ]
        )
    return _invoice(fake, order, invoice_lines)


def _final(fake: OdooFake, order: dict[str, Any], tax_field: str, deduct: bool) -> int:
    lines = []
    for line_id in fake.value("sale.order", order, "order_line"):
        line = fake.tables["sale.order.line"][line_id]
        taxes = list(line.get(tax_field) or [])
        if line.get("is_downpayment"):
            if deduct:
                lines.append(
                    [
                        0,
                        0,
                        {
                            "name": line["name"],
                            "quantity": -1.0,
                            "price_unit": line["price_unit"],
                            "tax_ids": taxes,
                            "sale_line_ids": [line_id],
                            "is_downpayment": True,
                        },
                    ]
                )
            continue
        if line.get("_invoiced"):
            continue
        line["_invoiced"] = True
        lines.append(
            [
                0,
                0,
                {
                    "product_id": line.get("product_id"),
                    "name": line["name"],
                    "quantity": line["product_uom_qty"],
                    "price_unit": line["price_unit"] * (1 - (line.get("discount") or 0) / 100),
                    "tax_ids": taxes,
                    "sale_line_ids": [line_id],
                },
            ]
        )
    if not lines:
        raise _user_error("There is no invoiceable line.")
    return _invoice(fake, order, lines)


def _invoice(fake: OdooFake, order: dict[str, Any], lines: list[Any]) -> int:
    move = fake.create(
        "account.move",
        {
            "move_type": "out_invoice",
            "partner_id": order.get("partner_invoice_id") or order["partner_id"],
            "invoice_origin": order["name"],
            "invoice_line_ids": lines,
        },
        admin=True,
    )
    fake.tables["account.move"][move]["_order"] = order["id"]
    return move
