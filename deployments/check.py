"""``passerelle check``: the configuration, then every platform of each connection, read-only.

One line per check (``ok   main erp tryton: login as admin ...`` / ``FAIL main shop vendure: ...``)
and an exit code: 0 when every check passed, 1 otherwise. No Prefect here (nothing imports it:
``tests/contract/test_check_fakes.py`` asserts it), no state store, no snapshot folder: the check
answers in well under 5 seconds plus the platforms' answer times.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connectors.checks import FLOWS, Check, Checkable, CheckNeeds, failed, from_error, passed
from connectors.errors import PasserelleError
from connectors.registry import build
from tasks.settings import ConfigResolver

__all__ = ["connection_needs", "run_check"]

Echo = Callable[[str], None]


def connection_needs(settings: Any) -> tuple[CheckNeeds, CheckNeeds, list[Check]]:
    """What the ERP and the shop of one connection must offer: the flows its file configures
    (every flow when it configures none) and the names it maps; and the problems found in them."""
    flows = frozenset(f for f in FLOWS if settings.configures(f)) or frozenset(FLOWS)
    problems: list[Check] = []
    warehouses: list[str] = []
    locations: list[str] = []
    if "stock" in flows:
        try:
            feeds = settings.stock.resolved_feeds()
        except PasserelleError as exc:
            if settings.configures("stock"):  # else: the file runs no flow in particular, nor stock
                problems.append(from_error("stock feeds", exc))
            feeds = []
        warehouses = [w for feed in feeds for w in feed.warehouses]
        locations = [feed.location for feed in feeds if feed.location is not None]
    taxes = [name for rates in settings.catalogue.taxes.values() for name in rates.values()]
    groups = tuple(settings.prices.groups) if "prices" in flows else ()
    erp = CheckNeeds(flows=flows, warehouses=tuple(dict.fromkeys(warehouses)), groups=groups)
    shop = CheckNeeds(
        flows=flows,
        locations=tuple(dict.fromkeys(locations)),
        tax_categories=tuple(dict.fromkeys(taxes)) if "catalogue" in flows else (),
        groups=groups,
    )
    return erp, shop, problems


def run_check(config: str | None = None, connection: str | None = None, *, echo: Echo = print) -> int:
    """Check the configuration file and the platforms of ``connection`` (every one when None);
    print one line per check; answer the exit code (0: all passed, 1: something failed)."""
    from tasks.settings import config_path, load_config, preflight

    failures = 0

    def show(where: str, check: Check) -> None:
        nonlocal failures
        failures += 0 if check.ok else 1
        echo(f"{'ok  ' if check.ok else 'FAIL'} {where}: {check.line()}")

    file = config_path(config)
    try:
        cfg = load_config(config)
        names = [cfg.connection(connection)[0]] if connection else list(cfg.connections)
        for name in names:
            preflight(cfg, name)
    except PasserelleError as exc:
        show(f"config {file}", from_error("configuration", exc))
        return 1
    left = _placeholders(cfg.model_dump(mode="json", exclude={"base_dir"}))
    if left:
        show(
            f"config {file}",
            failed(
                "configuration",
                f"still CHANGE-ME (as `passerelle init` wrote them): {', '.join(left)}",
                "fill them in with your platforms' values.",
            ),
        )
        return 1
    show(
        f"config {file}",
        passed(
            "configuration",
            f"valid: keys, types, connector types, secret references, reference prefixes "
            f"({len(names)} connection{'s' if len(names) != 1 else ''} checked)",
        ),
    )
    for name in names:
        settings = cfg.connections[name]
        erp_needs, shop_needs, problems = connection_needs(settings)
        for problem in problems:
            show(f"{name} config", problem)
        for side, connector, needs in (("erp", settings.erp, erp_needs), ("shop", settings.shop, shop_needs)):
            where = f"{name} {side} {connector.type}"
            for check in _check_one(cfg, name, side, connector, needs):
                show(where, check)
    return 1 if failures else 0


def _placeholders(value: Any, where: str = "") -> list[str]:
    """Dotted keys whose value is still ``passerelle init``'s placeholder."""
    from deployments.init import PLACEHOLDER

    if isinstance(value, dict):
        return [k for key, inner in value.items() for k in _placeholders(inner, f"{where}.{key}" if where else key)]
    if isinstance(value, list):
        return [where] if PLACEHOLDER in value else []
    return [where] if value == PLACEHOLDER else []


def _check_one(cfg: Any, name: str, side: str, connector: Any, needs: CheckNeeds) -> list[Check]:
    """The checks of one connector: built as the flows build it, asked to check itself, closed."""
    options = connector.options()
    resolver = ConfigResolver(cfg, options, f"connections.{name}.{side}")
    try:
        built = build(side, connector.type, options, resolver, connection=name)
    except PasserelleError as exc:
        return [from_error("settings", exc)]
    except ValueError as exc:  # pydantic's ValidationError: the connector's own settings refused
        first = str(exc).splitlines()
        return [
            failed(
                "settings",
                " ".join(line.strip() for line in first[:3]),
                f"fix [connections.{name}.{side}] (docs/{connector.type}.md lists its keys).",
            )
        ]
    try:
        if not isinstance(built, Checkable):
            return [passed("checks", f"none for {connector.type} yet: only its settings were validated")]
        try:
            return built.check(needs)
        except PasserelleError as exc:
            return [from_error("check", exc)]
        except Exception as exc:  # noqa: BLE001 - one line for the operator, never a traceback
            return [
                failed(
                    "check",
                    f"unexpected {type(exc).__name__}: {exc}",
                    "report it with the configuration file (its secrets are references, not values).",
                )
            ]
    finally:
        close = getattr(built, "close", None)
        if callable(close):
            try:
                close()
            except Exception:  # noqa: BLE001, S110 - closing a client cannot fail a check
                pass
