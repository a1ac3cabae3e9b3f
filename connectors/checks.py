"""``passerelle check``: what a connector can verify about its platform without writing anything.

A platform package implements :class:`Checkable` in its own ``check.py`` (a mixin of its connector
class): it logs in, reads the platform's version, the permissions each configured flow needs and
whether the names the configuration maps (warehouses, stock locations, tax categories, customer
groups) exist there, and answers one :class:`Check` per thing verified. Every check is a read;
no record is created or changed. Nothing here imports Prefect.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar, runtime_checkable

from connectors.errors import Fatal, PasserelleError, Retryable

__all__ = [
    "FLOWS",
    "Check",
    "CheckNeeds",
    "Checkable",
    "attempt",
    "base_url",
    "failed",
    "from_error",
    "missing_names",
    "passed",
    "permissions_needed",
    "quick",
]

FLOWS = ("catalogue", "stock", "prices", "orders", "feedback", "invoices")
"""The flows a connection may configure (its ``[connections.<name>.<flow>]`` tables)."""

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Check:
    """One thing verified: ``name`` what (``login``, ``permission UpdateCatalog``), ``detail`` what
    was found, and for a failure the ``resolution`` (what to do about it). Never a secret."""

    name: str
    ok: bool
    detail: str = ""
    resolution: str = ""

    def line(self) -> str:
        text = f"{self.name} {self.detail}".strip() if self.detail else self.name
        if not self.ok and self.resolution:
            text = f"{text.rstrip('.')}. Resolution: {self.resolution}"
        return text


@dataclass(frozen=True, slots=True)
class CheckNeeds:
    """What the configuration asks of one connector: the flows it configures and the names it maps.

    ERP side: ``warehouses`` (codes the stock flow reads, and the one shipping web orders),
    ``groups`` (customer groups / price lists the prices flow reads). Shop side: ``locations``
    (stock locations the stock feeds write; None, the default one, is left out), ``tax_categories``
    (what ``[catalogue.taxes]`` maps VAT rates to), ``groups`` (customer groups the prices flow
    writes, for shops that have group prices).
    """

    flows: frozenset[str] = frozenset()
    warehouses: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    tax_categories: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()

    def runs(self, *flows: str) -> bool:
        """Whether any of ``flows`` is configured."""
        return any(f in self.flows for f in flows)


@runtime_checkable
class Checkable(Protocol):
    """A connector that can check its platform read-only."""

    def check(self, needs: CheckNeeds) -> list[Check]:
        """Every check, in order; a failure is a ``Check(ok=False)``, never an exception (a first
        failure that makes the others meaningless, such as a refused login, ends the list)."""
        ...


def passed(name: str, detail: str = "") -> Check:
    return Check(name, True, detail)


def failed(name: str, detail: str, resolution: str) -> Check:
    return Check(name, False, detail, resolution)


def attempt(name: str, action: Callable[[], T], *, url: str = "") -> tuple[T | None, Check | None]:
    """Run ``action``: its value and None, or None and the failed check its error makes
    (:func:`from_error`)."""
    try:
        return action(), None
    except PasserelleError as exc:
        return None, from_error(name, exc, url=url)


def from_error(name: str, exc: PasserelleError, *, url: str = "") -> Check:
    """The failed check of an error: an unreachable server (``Retryable``: refused connection,
    timeout, 5xx) names ``url`` and what to check; a ``Fatal`` keeps its message and Resolution."""
    if isinstance(exc, Retryable):
        where = f" at {url}" if url else ""
        return failed(
            name,
            f"could not reach the platform{where}: {exc}",
            "check the URL in the configuration, that the server runs and that this machine can reach it "
            "(firewall, proxy, VPN).",
        )
    message = str(exc)
    detail, _, resolution = message.partition(" Resolution: ")
    fallback = exc.resolution if isinstance(exc, Fatal) else ""
    return failed(name, detail, resolution or fallback or "read the platform's message.")


def missing_names(
    kind: str, wanted: Iterable[str], known: Iterable[str], *, where: str, resolution: str
) -> list[Check]:
    """One check per wanted name: ok when ``known`` has it, else a failure listing what is known."""
    have = list(dict.fromkeys(known))
    shown = ", ".join(have[:20]) + (", ..." if len(have) > 20 else "") or "none"
    checks = []
    for name in dict.fromkeys(wanted):
        if name in have:
            checks.append(passed(f"{kind} {name!r}", "exists"))
        else:
            checks.append(failed(f"{kind} {name!r}", f"not found in {where} (known: {shown})", resolution))
    return checks


def permissions_needed(by_flow: Mapping[str, Sequence[K]], needs: CheckNeeds) -> dict[K, list[str]]:
    """Permission -> the configured flows that need it (in the order of ``FLOWS``)."""
    out: dict[K, list[str]] = {}
    for flow in FLOWS:
        if flow in needs.flows:
            for permission in by_flow.get(flow, ()):
                out.setdefault(permission, []).append(flow)
    return out


def quick(http: object, *, timeout: float = 10.0) -> None:
    """Make a connector's :class:`~connectors.http.HttpClient` fail fast for a check: no in-place
    retries (a server that does not answer is reported at once) and at most ``timeout`` seconds
    per request."""
    if hasattr(http, "max_retries"):
        http.max_retries = 0
    client = getattr(http, "_client", None)
    current = getattr(client, "timeout", None)
    if client is not None and current is not None:
        longest = max((t for t in (current.connect, current.read, current.write, current.pool) if t), default=None)
        if longest is None or longest > timeout:
            client.timeout = timeout


def base_url(http: object) -> str:
    """The URL a connector's :class:`~connectors.http.HttpClient` talks to (for the failure of a
    platform that does not answer)."""
    client = getattr(http, "_client", None)
    return str(getattr(client, "base_url", "") or "")
