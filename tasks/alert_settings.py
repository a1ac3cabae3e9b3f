"""The ``[alerts]`` section: which Prefect automations ``passerelle alerts apply`` declares, the
thresholds the flows check at the end of a run, and the notification block they all go through.

Kept apart from :mod:`tasks.settings` (which holds one field of this type) so that it imports
nothing of the house: docs/alerts.md says what each alert means.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["AlertSettings"]

_BLOCK = re.compile(r"^[a-z0-9-]+/[A-Za-z0-9_.-][A-Za-z0-9_. -]*$")


class AlertSettings(BaseModel):
    """``[alerts]``: every alert is a Prefect automation named ``passerelle: ...``."""

    model_config = ConfigDict(extra="forbid")

    notify: str | None = None
    """The Prefect notification block every alert is sent through, as ``<block type slug>/<block
    name>``: ``"slack-webhook/ops-alerts"``, ``"sendgrid-email/ops"``, ``"custom-webhook/pager"``. Unset: the
    flows still emit their events, ``passerelle alerts apply`` refuses to run."""
    failed_runs: bool = True
    """A run of a passerelle flow ended Failed or Crashed: one notification per run."""
    missed_schedules: bool = True
    """A deployment of prefect.yaml has no completed run for ``missed_schedule_factor`` times its
    schedule's interval."""
    missed_schedule_factor: float = Field(default=2, ge=1)
    """How many times a deployment's schedule interval may pass without a completed run (cron
    schedules: the longest gap between two of their runs) before the missed-schedule alert fires."""
    quarantine: bool = True
    """A connection has more open quarantine entries than ``quarantine_threshold``."""
    quarantine_threshold: int = Field(default=50, ge=0)
    """Open quarantine entries per connection (every flow) above which the alert fires."""
    waiting_orders: bool = True
    """Orders read from the shop and not in the ERP (waiting for payment, or claimed by a run that
    did not finish) for more than ``order_wait_hours``."""
    order_wait_hours: float = Field(default=24, gt=0)
    """How long an order may stay read from the shop and not in the ERP before it is reported."""
    remind_hours: float = Field(default=12, gt=0)
    """A quarantine or waiting-orders alert is sent once per connection and then at most once per
    ``remind_hours`` while it lasts (failed runs and missed schedules: every time)."""

    @field_validator("notify")
    @classmethod
    def _block_reference(cls, value: str | None) -> str | None:
        if value is not None and not _BLOCK.match(value):
            raise ValueError(
                "write the notification block as <block type slug>/<block name>, e.g. "
                '"slack-webhook/ops-alerts" (the slug is in the Prefect UI, Blocks, under the block\'s type)'
            )
        return value

    def block(self) -> tuple[str, str] | None:
        """(block type slug, block name), None when ``notify`` is unset."""
        if self.notify is None:
            return None
        slug, name = self.notify.split("/", 1)
        return slug, name
