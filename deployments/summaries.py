"""How a flow's summary is printed on a terminal, by the CLI and by the demo."""

from __future__ import annotations

from typing import Any

import typer


def print_summary(summary: dict[str, Any]) -> None:
    if "products" in summary:
        _print_catalogue(summary)
    elif "already_imported" in summary:
        _print_orders(summary)
    elif "left_alone" in summary:
        _print_feedback(summary)
    elif "linked_only" in summary:
        _print_invoices(summary)
    else:
        _print_values(summary)
    _print_changes(summary)
    for entry in summary.get("quarantine", [])[:15]:
        typer.echo(f"  quarantined {entry['key']}: {entry['field']}: {entry['reason']}")
    more = len(summary.get("quarantine", [])) - 15
    if more > 0:
        typer.echo(f"  ... and {more} more (passerelle quarantine list)")


def _print_changes(summary: dict[str, Any]) -> None:
    """A dry run's per-record, per-field diff (capped: "... N more")."""
    if not summary.get("dry_run"):
        return
    from tasks.dry_run import change_lines  # here: the audit and quarantine commands load no Prefect

    for note in summary.get("dry_run_notes", []):
        typer.echo(f"  note: {note}")
    for line in change_lines(summary.get("changes", [])):
        typer.echo(f"  {line}")


def _print_catalogue(summary: dict[str, Any]) -> None:
    labels = ["created", "updated", "unchanged", "archived", "quarantined", "failed"]
    if summary.get("dry_run"):
        typer.echo("DRY RUN: nothing was written to the shop or the state store.")
        typer.echo(
            f"  would create {len(summary['would_create'])}, would update {len(summary['would_update'])}, "
            f"unchanged {summary['unchanged']}, would archive {len(summary['would_archive'])}, "
            f"quarantined {summary['quarantined']}"
        )
    else:
        typer.echo("  " + ", ".join(f"{label} {summary.get(label, 0)}" for label in labels))
    typer.echo(
        f"  {summary['read']} articles read -> {summary['products']} products; {summary['api_calls']} shop API calls"
    )


def _print_orders(summary: dict[str, Any]) -> None:
    if summary.get("dry_run"):
        typer.echo("DRY RUN: nothing was written to the ERP or the state store.")
    if summary.get("busy"):
        typer.echo(f"  {summary['busy']}")
    labels = ["imported", "reconciled", "already_imported", "waiting", "skipped", "quarantined", "failed"]
    typer.echo("  " + ", ".join(f"{label.replace('_', ' ')} {summary[label]}" for label in labels))
    typer.echo(
        f"  {summary['read']} orders read, {summary['payments_recorded']} payments recorded; "
        f"{summary['api_calls_shop']} shop and {summary['api_calls_erp']} ERP API calls"
    )
    for order in summary.get("orders", [])[:30]:
        erp = f" -> {order['erp']}" if order["erp"] else ""
        detail = f" ({order['detail']})" if order["detail"] else ""
        typer.echo(f"  {order['order']}: {order['status']}{erp}, {order['total']}{detail}")
    for note in dict.fromkeys(summary.get("notes", [])):
        typer.echo(f"  note: {note}")


def _print_feedback(summary: dict[str, Any]) -> None:
    if summary.get("dry_run"):
        typer.echo("DRY RUN: nothing was written to the shop or the state store.")
    labels = ["updated", "unchanged", "left_alone", "quarantined", "failed"]
    typer.echo("  " + ", ".join(f"{label.replace('_', ' ')} {summary[label]}" for label in labels))
    typer.echo(f"  {summary['read']} ERP statuses read; {summary['api_calls']} shop API calls")
    for write in summary.get("writes", [])[:30]:
        tracking = f" ({write['tracking']})" if write["tracking"] else ""
        typer.echo(f"  order {write['order']} (ERP {write['erp']}): {write['status']}{tracking}")
    for note in summary.get("by_hand", []):
        typer.echo(f"  to do by hand: {note}")


def _print_invoices(summary: dict[str, Any]) -> None:
    if summary.get("dry_run"):
        typer.echo("DRY RUN: nothing was rendered, uploaded or linked.")
    labels = ["uploaded", "linked_only", "already_done", "quarantined", "failed"]
    typer.echo("  " + ", ".join(f"{label.replace('_', ' ')} {summary[label]}" for label in labels))
    typer.echo(
        f"  {summary['read']} invoices and credit notes read; {summary['storage_calls']} storage and "
        f"{summary['api_calls']} shop API calls"
    )
    for doc in summary.get("documents", [])[:30]:
        typer.echo(
            f"  {doc['kind']} {doc['number']} (order {doc['order']}, {doc['total']}): {doc['status']} {doc['detail']}"
        )


def _print_values(summary: dict[str, Any]) -> None:
    """Stock and price summaries: counts, then what a person must know."""
    labels = ["updated", "unchanged", "quarantined", "failed", "unknown_to_shop", "drift", "promotions_in_force"]
    if summary.get("dry_run"):
        typer.echo("DRY RUN: nothing was written to the shop or the state store.")
        typer.echo(f"  would update {len(summary['would_update'])}, unchanged {summary['unchanged']}")
    else:
        typer.echo(
            "  " + ", ".join(f"{label.replace('_', ' ')} {summary[label]}" for label in labels if label in summary)
        )
    if not summary.get("updated") and not summary.get("would_update") and not summary.get("failed"):
        typer.echo("  nothing to send: the shop is up to date")
    typer.echo(f"  {summary['api_calls']} shop API calls")
    for notice in summary.get("notices", []):
        typer.echo(f"  note: {notice}")
    if summary.get("unknown"):
        typer.echo(f"  not in the shop (publish the catalogue first): {', '.join(summary['unknown'][:10])}")
