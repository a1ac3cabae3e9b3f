"""What every Prefect task of passerelle shares: retry policy, logging, artifacts."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from connectors.errors import Retryable

__all__ = ["TASK_OPTIONS", "artifact_key", "logger", "markdown_table", "publish_markdown", "retry_only_retryable"]


def retry_only_retryable(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect ``retry_condition_fn``: retry Retryable errors only (429, 5xx, timeouts)."""
    error = state.data if isinstance(state.data, BaseException) else state.result(raise_on_failure=False)
    return isinstance(error, Retryable)


# Tasks take live connectors and large record lists: never hash them for a cache key.
TASK_OPTIONS: dict[str, Any] = {
    "retries": 3,
    "retry_delay_seconds": exponential_backoff(backoff_factor=5),
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": retry_only_retryable,
    "cache_policy": NO_CACHE,
}


def logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """The Prefect run logger inside a run, a plain logger outside (unit tests, CLI)."""
    try:
        from prefect.logging import get_run_logger

        return get_run_logger()
    except Exception:  # noqa: BLE001 - MissingContextError outside a run
        return logging.getLogger("passerelle")


def artifact_key(*parts: str) -> str:
    """Prefect artifact keys allow lowercase letters, digits and dashes only."""
    return re.sub(r"[^a-z0-9-]+", "-", "-".join(parts).lower()).strip("-")


def publish_markdown(key: str, markdown: str, description: str) -> None:
    """Summary artifact with a stable key (one history per flow and connection in the UI)."""
    try:
        from prefect.artifacts import create_markdown_artifact

        create_markdown_artifact(key=artifact_key(key), markdown=markdown, description=description)
    except Exception as exc:  # noqa: BLE001 - outside a run there is nowhere to publish
        logging.getLogger("passerelle").debug("artifact %s not published: %s", key, exc)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
