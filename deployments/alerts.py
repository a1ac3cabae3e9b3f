"""``passerelle alerts apply`` / ``list``: passerelle's Prefect automations, declared from ``[alerts]``
and prefect.yaml, created or updated by name (every name starts with ``passerelle:``).

- ``passerelle: run failed or crashed``: a run of a passerelle flow enters Failed or Crashed
  (Prefect's ``prefect.flow-run.Failed`` / ``Crashed`` events), one notification per run.
- ``passerelle: quarantine over threshold``: a flow emitted ``passerelle.quarantine.over-threshold``
  (tasks/alerts.py), once per connection and ``remind_hours``.
- ``passerelle: orders waiting``: a flow emitted ``passerelle.order.waiting``, likewise.
- ``passerelle: missed schedule <deployment>``: one per scheduled deployment of prefect.yaml, a
  proactive trigger expecting a ``prefect.flow-run.Completed`` of that deployment within
  ``missed_schedule_factor`` times its schedule's interval.

Every action sends a notification through the block ``[alerts] notify`` names. Prefect is
imported inside the functions: the CLI stays fast. What each alert means: docs/alerts.md.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.errors import Fatal
from tasks.alert_settings import AlertSettings

__all__ = [
    "FLOW_NAMES",
    "PREFIX",
    "AppliedAutomation",
    "ScheduledDeployment",
    "apply_alerts",
    "desired_automations",
    "list_alerts",
    "scheduled_deployments",
]

PREFIX = "passerelle:"
ROOT = Path(__file__).resolve().parents[1]
FLOW_NAMES = [
    "publish-catalogue",
    "sync-stock",
    "sync-prices",
    "import-orders",
    "feedback-status",
    "upload-invoices",
    "compact-snapshots",
]
"""The names of passerelle's flows (their ``@flow(name=...)``): the failed-run alert is theirs only."""

QUARANTINE_EVENT = "passerelle.quarantine.over-threshold"  # tasks.alerts.QUARANTINE_OVER_THRESHOLD
ORDER_WAITING_EVENT = "passerelle.order.waiting"  # tasks.alerts.ORDER_WAITING

_RUN_LINKS = (
    "Flow run: {{ flow_run|ui_url }} (id {{ flow_run.id }})"
    "{% if deployment %}, deployment {{ deployment.name }}{% endif %}."
)

FAILED_SUBJECT = "passerelle: {{ flow.name }} run {{ flow_run.name }} {{ flow_run.state.name }}"
FAILED_BODY = (
    "The run {{ flow_run.name }} of the passerelle flow {{ flow.name }}"
    "{% if flow_run.parameters.connection %} (connection {{ flow_run.parameters.connection }}){% endif %}"
    " ended {{ flow_run.state.name }}: {{ flow_run.state.message }}\n"
    + _RUN_LINKS
    + "\nWhat to do: the run's error is one line ending with a Resolution (its log in the Prefect UI); "
    "fix what it names. Nothing is lost: the next run writes what this one did not "
    '(docs/operations.md "When a run fails", docs/alerts.md).'
)
QUARANTINE_SUBJECT = "passerelle: quarantine over threshold on {{ event.payload.connection }}"
QUARANTINE_BODY = (
    "{{ event.payload.summary }}.\n"
    "Look: passerelle quarantine list --connection {{ event.payload.connection }} (each record's field and "
    "reason); fix the cause at its source, or passerelle quarantine discard ID for a record that will never pass.\n"
    "Seen by the run {{ flow_run.name }} of {{ flow.name }}. " + _RUN_LINKS
)
ORDERS_SUBJECT = "passerelle: {{ event.payload.count }} orders waiting on {{ event.payload.connection }}"
ORDERS_BODY = (
    "{{ event.payload.summary }}.\n"
    "Orders: {{ event.payload.orders|join(', ') }}.\n"
    "Look: passerelle audit history order <reference> for each (waiting for payment: the import rule of its "
    "payment method waits for a payment the shop does not show; claimed: a run that did not finish, reconciled by "
    "the next import-orders run).\n"
    "Seen by the run {{ flow_run.name }} of {{ flow.name }}. " + _RUN_LINKS
)
MISSED_SUBJECT = "passerelle: no completed run of {deployment} for {window}"
MISSED_BODY = (
    "The deployment {deployment} (flow {flow}, scheduled every {interval}) has not completed a run for {window}.\n"
    "Look: Prefect UI, Deployments, {deployment}: its last runs (late, failed, none at all) and whether its "
    "schedule is active; the worker of the work pool {pool} (prefect worker start --pool {pool}) must be running."
)


@dataclass(frozen=True)
class ScheduledDeployment:
    """A deployment of prefect.yaml with a schedule, and the longest gap between two of its runs."""

    name: str
    flow_entrypoint: str
    interval: timedelta
    work_pool: str


@dataclass(frozen=True)
class AppliedAutomation:
    name: str
    outcome: str
    """created, updated, unchanged or deleted."""


def scheduled_deployments(prefect_yaml: Path) -> list[ScheduledDeployment]:
    """The deployments of ``prefect_yaml`` with an active schedule: interval schedules as they
    are, cron schedules as the longest gap between two of their next runs."""
    import yaml

    try:
        data = yaml.safe_load(prefect_yaml.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise Fatal(
            f"{prefect_yaml} not found (the missed-schedule alerts read the deployments' schedules there).",
            resolution="pass --prefect-yaml PATH (the project's prefect.yaml).",
        ) from None
    found: list[ScheduledDeployment] = []
    for deployment in data.get("deployments") or []:
        gaps = [
            _interval(schedule, deployment["name"])
            for schedule in deployment.get("schedules") or []
            if schedule.get("active", True)
        ]
        if not gaps:
            continue
        pool = (deployment.get("work_pool") or {}).get("name") or "?"
        # Several schedules: the deployment runs at least as often as its most frequent one.
        found.append(ScheduledDeployment(deployment["name"], deployment.get("entrypoint", "?"), min(gaps), pool))
    return found


def _interval(schedule: dict[str, Any], deployment: str) -> timedelta:
    if "interval" in schedule:
        return timedelta(seconds=float(schedule["interval"]))
    if "cron" in schedule:
        from prefect._vendor.croniter import croniter

        cron = croniter(schedule["cron"], datetime(2026, 1, 1))
        runs = [cron.get_next(datetime) for _ in range(400)]
        return max(b - a for a, b in itertools.pairwise(runs))
    raise Fatal(
        f"the schedule of the deployment {deployment!r} in prefect.yaml is neither an interval nor a cron.",
        resolution="give it interval: SECONDS or cron: EXPRESSION, or set [alerts] missed_schedules = false.",
    )


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds % 86400 == 0:
        return f"{seconds // 86400} days" if seconds != 86400 else "1 day"
    if seconds % 3600 == 0:
        return f"{seconds // 3600} hours" if seconds != 3600 else "1 hour"
    if seconds % 60 == 0:
        return f"{seconds // 60} minutes"
    return f"{seconds} seconds"


def desired_automations(
    settings: AlertSettings, block_document_id: Any, deployments: list[ScheduledDeployment]
) -> list[Any]:
    """The ``AutomationCore`` of every passerelle alert (disabled ones included, ``enabled=False``)."""
    from prefect.automations import AutomationCore, EventTrigger, Posture, SendNotification

    def notify(subject: str, body: str) -> list[Any]:
        return [SendNotification(block_document_id=block_document_id, subject=subject, body=body)]

    remind = timedelta(hours=settings.remind_hours)
    automations = [
        AutomationCore(
            name=f"{PREFIX} run failed or crashed",
            description="A run of a passerelle flow ended Failed or Crashed (docs/alerts.md).",
            enabled=settings.failed_runs,
            trigger=EventTrigger(
                expect={"prefect.flow-run.Failed", "prefect.flow-run.Crashed"},
                match={"prefect.resource.id": "prefect.flow-run.*"},
                match_related={"prefect.resource.role": "flow", "prefect.resource.name": FLOW_NAMES},
                for_each={"prefect.resource.id"},
                posture=Posture.Reactive,
                threshold=1,
                within=timedelta(0),
            ),
            actions=notify(FAILED_SUBJECT, FAILED_BODY),
        ),
        AutomationCore(
            name=f"{PREFIX} quarantine over threshold",
            description=f"More than {settings.quarantine_threshold} open quarantine entries on a connection "
            f"(docs/alerts.md).",
            enabled=settings.quarantine,
            trigger=EventTrigger(
                expect={QUARANTINE_EVENT},
                match={"prefect.resource.id": "passerelle.connection.*"},
                for_each={"prefect.resource.id"},
                posture=Posture.Reactive,
                threshold=1,
                within=remind,
            ),
            actions=notify(QUARANTINE_SUBJECT, QUARANTINE_BODY),
        ),
        AutomationCore(
            name=f"{PREFIX} orders waiting",
            description=f"Orders not in the ERP after {settings.order_wait_hours:g} hours (docs/alerts.md).",
            enabled=settings.waiting_orders,
            trigger=EventTrigger(
                expect={ORDER_WAITING_EVENT},
                match={"prefect.resource.id": "passerelle.connection.*"},
                for_each={"prefect.resource.id"},
                posture=Posture.Reactive,
                threshold=1,
                within=remind,
            ),
            actions=notify(ORDERS_SUBJECT, ORDERS_BODY),
        ),
    ]
    for d in deployments:
        window = d.interval * settings.missed_schedule_factor
        words = {
            "deployment": d.name,
            "flow": d.flow_entrypoint,
            "interval": _duration(d.interval),
            "window": _duration(window),
            "pool": d.work_pool,
        }
        automations.append(
            AutomationCore(
                name=f"{PREFIX} missed schedule {d.name}",
                description=f"No completed run of {d.name} for {words['window']} "
                f"({settings.missed_schedule_factor:g} x its schedule; docs/alerts.md).",
                enabled=settings.missed_schedules,
                trigger=EventTrigger(
                    expect={"prefect.flow-run.Completed"},
                    match={"prefect.resource.id": "prefect.flow-run.*"},
                    match_related={"prefect.resource.role": "deployment", "prefect.resource.name": d.name},
                    posture=Posture.Proactive,
                    threshold=1,
                    within=max(window, timedelta(seconds=10)),
                ),
                actions=notify(MISSED_SUBJECT.format(**words), MISSED_BODY.format(**words)),
            )
        )
    return automations


def _api_url() -> str:
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        raise Fatal(
            "PREFECT_API_URL is not set: the automations would go to a temporary Prefect server that stops with "
            "this command.",
            resolution="export PREFECT_API_URL=http://HOST:4200/api (the server the workers use; Prefect Cloud: "
            "prefect cloud login).",
        )
    return str(url)


def _unreachable(exc: Exception) -> Fatal:
    return Fatal(
        f"the Prefect API at {_api_url()} could not be asked ({type(exc).__name__}).",
        resolution="start the Prefect server (prefect server start) or set PREFECT_API_URL (and PREFECT_API_KEY "
        "for Prefect Cloud) to the server the workers use.",
    )


def notification_block_id(client: Any, settings: AlertSettings) -> Any:
    """The id of the block document ``[alerts] notify`` names, refused with a Resolution when the
    Prefect server has no such block or the block cannot send notifications."""
    from prefect.exceptions import ObjectNotFound

    block = settings.block()
    if block is None:
        raise Fatal(
            "[alerts] notify is not set: the alerts have no notification block to send through.",
            resolution='set [alerts] notify = "<block type slug>/<block name>" (e.g. "slack-webhook/ops-alerts"), '
            "a notification block created in the Prefect UI (Blocks).",
        )
    slug, name = block
    try:
        document = client.read_block_document_by_name(name=name, block_type_slug=slug, include_secrets=False)
    except ObjectNotFound:
        raise Fatal(
            f"the notification block {settings.notify!r} ([alerts] notify) does not exist on the Prefect server at "
            f"{_api_url()}.",
            resolution=f"create it in the Prefect UI (Blocks, +, type {slug!r}, name {name!r}) or in Python "
            f"(e.g. SlackWebhook(url=...).save({name!r})); if its type is not listed, register it first: "
            "prefect block register -m prefect.blocks.notifications.",
        ) from None
    capabilities = set(getattr(document.block_schema, "capabilities", None) or [])
    if document.block_schema is not None and "notify" not in capabilities:
        raise Fatal(
            f"the block {settings.notify!r} ([alerts] notify) cannot send notifications (a {slug} block).",
            resolution="name a notification block: slack-webhook, ms-teams-webhook, sendgrid-email, custom-webhook, "
            "pager-duty-webhook, ...",
        )
    return document.id


def _comparable(automation: Any) -> dict[str, Any]:
    from prefect.automations import AutomationCore

    data = AutomationCore.model_validate(automation.model_dump(exclude={"id"})).model_dump(
        mode="json", exclude={"owner_resource"}
    )
    return _without_ids(data)


def _without_ids(value: Any) -> Any:
    """``value`` without ids, its lists of strings sorted: those are sets in Prefect's schema
    (``expect``, ``after``, ``for_each``, the values of ``match``), whose JSON order is the order the
    process that wrote them iterated them (it varies with the hash seed), not a difference."""
    if isinstance(value, dict):
        return {k: _without_ids(v) for k, v in value.items() if k != "id"}
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return sorted(value)
        return [_without_ids(v) for v in value]
    return value


def apply_alerts(settings: AlertSettings, *, prefect_yaml: Path | None = None) -> list[AppliedAutomation]:
    """Make the Prefect server's ``passerelle:`` automations what ``settings`` and prefect.yaml say:
    create the missing ones, update those that differ, delete those no longer declared."""
    import httpx
    from prefect.client.orchestration import get_client

    _api_url()
    deployments = scheduled_deployments(prefect_yaml or ROOT / "prefect.yaml")
    applied: list[AppliedAutomation] = []
    try:
        with get_client(sync_client=True) as client:
            block_id = notification_block_id(client, settings)
            desired = desired_automations(settings, block_id, deployments)
            existing: dict[str, list[Any]] = {}
            for automation in client.read_automations():
                if automation.name.startswith(PREFIX):
                    existing.setdefault(automation.name, []).append(automation)
            for automation in desired:
                found = existing.pop(automation.name, [])
                for duplicate in found[1:]:
                    client.delete_automation(duplicate.id)
                if not found:
                    client.create_automation(automation)
                    applied.append(AppliedAutomation(automation.name, "created"))
                elif _comparable(found[0]) != _comparable(automation):
                    client.update_automation(found[0].id, automation)
                    applied.append(AppliedAutomation(automation.name, "updated"))
                else:
                    applied.append(AppliedAutomation(automation.name, "unchanged"))
            for name, stale in sorted(existing.items()):
                for automation in stale:
                    client.delete_automation(automation.id)
                applied.append(AppliedAutomation(name, "deleted"))
    except (httpx.HTTPError, OSError) as exc:
        raise _unreachable(exc) from None
    return applied


def list_alerts() -> list[dict[str, Any]]:
    """The Prefect server's ``passerelle:`` automations: name, enabled, trigger and actions in words."""
    import httpx
    from prefect.client.orchestration import get_client

    _api_url()
    try:
        with get_client(sync_client=True) as client:
            automations = [a for a in client.read_automations() if a.name.startswith(PREFIX)]
    except (httpx.HTTPError, OSError) as exc:
        raise _unreachable(exc) from None
    rows = []
    for a in sorted(automations, key=lambda a: a.name):
        rows.append(
            {
                "name": a.name,
                "enabled": a.enabled,
                "trigger": " ".join(a.trigger.describe_for_cli().split()),
                "actions": ", ".join(action.type for action in a.actions),
                "description": a.description,
            }
        )
    return rows
