"""One error vocabulary for every connector and flow.

::

    PasserelleError
     ├── Retryable   transient (429, 5xx, timeouts): the only errors Prefect retries.
     ├── Fatal       will not get better by itself; the message ends with "Resolution:".
     │    └── RequestTooLarge  refused for its size: the client sends it in smaller pieces.
     ├── Skip        a deliberate business decision to leave a record alone (not an error).
     └── Refused     a platform will not take this one record: the flow quarantines it.

``RecordError`` is no exception of the run: why one record was refused, for the quarantine.

Details: docs/architecture.md (section "Failures: the record's or the run's").
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Fatal",
    "PasserelleError",
    "RecordError",
    "Refused",
    "RequestTooLarge",
    "Retryable",
    "Skip",
    "is_retryable",
]


class PasserelleError(Exception):
    """Base class of every error raised on purpose by passerelle."""


class Retryable(PasserelleError):
    """A transient failure: trying again later may succeed.

    Args:
        message: what failed, without secrets.
        retry_after: seconds the platform asked us to wait (``Retry-After``), if any.
        resolution: what to check if it does not get better (a server that does not answer),
            appended to the message as ``Resolution:``, as a :class:`Fatal`'s is.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, resolution: str | None = None) -> None:
        super().__init__(f"{message} Resolution: {resolution}" if resolution else message)
        self.retry_after = retry_after
        self.resolution = resolution


class Fatal(PasserelleError):
    """A failure that needs a person. The message always carries a ``Resolution:`` hint."""

    def __init__(self, message: str, *, resolution: str) -> None:
        super().__init__(f"{message} Resolution: {resolution}")
        self.resolution = resolution


class RequestTooLarge(Fatal):
    """A request body over the platform's limit (HTTP 413, or the platform's own sign of it): it was
    not applied. Clients that can split what they send catch it and send smaller requests; one that
    cannot be split any more reaches the operator with this Resolution."""

    def __init__(self, message: str, *, size: int) -> None:
        super().__init__(
            message,
            resolution="raise the server's request body limit, or send fewer records per request "
            "(the connector's max_request_bytes setting).",
        )
        self.size = size


class Skip(PasserelleError):
    """A record is deliberately not processed (business reason, not a failure)."""


def is_retryable(exc: BaseException) -> bool:
    """True for the errors Prefect should retry (used as ``retry_condition_fn``)."""
    return isinstance(exc, Retryable)


@dataclass(frozen=True, slots=True)
class RecordError:
    """Why one record was refused: which record, which field, what is wrong."""

    key: str
    field: str
    reason: str
    check: str = "platform"

    def __str__(self) -> str:
        return f"{self.key}: {self.field}: {self.reason}"


class Refused(PasserelleError):
    """A platform refuses one record for a reason a person must fix (``error`` says which
    field and why); the flow quarantines it and goes on with the others."""

    def __init__(self, error: RecordError) -> None:
        super().__init__(str(error))
        self.error = error
