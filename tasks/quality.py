"""Quality gate: Great Expectations suites that split records into pass / quarantine.

The gate never stops a run: it validates every record of the batch at once (one GX
validation, ``COMPLETE`` result format for the failing row indexes), turns each failing row
into a :class:`~connectors.errors.RecordError` naming the record, the field and the reason,
and lets the good records go on.

Checks that GX has no built-in expectation for (the EAN-13 check digit, the number of decimals
of a price, completeness of variant attributes) are computed as derived columns by the pure
functions below, then asserted by standard expectations, so every rule shows up in GX's
validation results.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from connectors.errors import RecordError
from connectors.models import Product, Variant, to_jsonable
from tasks.mapping import normalise_rate
from tasks.state import QuarantineEntry

__all__ = ["CatalogueChecks", "GateResult", "Check", "ean13_check_digit", "gate_products", "run_checks"]

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def ean13_check_digit(first12: str) -> int:
    """GS1 check digit of the first 12 digits of an EAN-13."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return (10 - total % 10) % 10


def price_decimals(value: Decimal | None) -> int | None:
    """Significant decimals of a price (``19.900`` has 1)."""
    if value is None or not value.is_finite():
        return None
    exponent = value.normalize().as_tuple().exponent
    return max(0, -int(exponent))


@dataclass(frozen=True, slots=True)
class Check:
    """One rule: a GX expectation on a column, the field it is about and how to explain a failure."""

    name: str
    field: str
    expectation: Callable[[], Any]
    reason: Callable[[Mapping[str, Any]], str]


@dataclass(frozen=True, slots=True)
class CatalogueChecks:
    """Settings of the catalogue suite (from configuration)."""

    vat_rates: frozenset[str] = frozenset({"20", "10", "5.5", "2.1", "0"})
    currency: str = "EUR"
    max_price_decimals: int = 2
    country: str = "FR"


@dataclass(slots=True)
class GateResult:
    passed: list[Product] = field(default_factory=list)
    rejected: list[QuarantineEntry] = field(default_factory=list)
    rejected_keys: set[str] = field(default_factory=set)
    checked: int = 0


_lock = threading.Lock()
_validations: dict[tuple[str, tuple[str, ...]], Any] = {}


def _context() -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _validation(suite_name: str, checks: Sequence[Check]) -> Any:
    """The GX validation definition of a suite, built once per process (GX objects are reusable)."""
    # The expectations carry the settings (currency, VAT rates): they belong to the key, not only the names.
    cache_key = (suite_name, tuple(repr(c.expectation()) for c in checks))
    with _lock:
        found = _validations.get(cache_key)
        if found is not None:
            return found
        import great_expectations as gx

        context = _context()
        source = context.data_sources.add_pandas(f"passerelle-{suite_name}")
        asset = source.add_dataframe_asset(suite_name)
        batch = asset.add_batch_definition_whole_dataframe("whole")
        suite = context.suites.add(gx.ExpectationSuite(name=suite_name))
        for check in checks:
            expectation = check.expectation()
            expectation.meta = {"check": check.name}
            suite.add_expectation(expectation)
        validation = context.validation_definitions.add(
            gx.ValidationDefinition(name=suite_name, data=batch, suite=suite)
        )
        _validations[cache_key] = validation
        return validation


def _expectation_columns(checks: Sequence[Check]) -> list[str] | None:
    """The columns the suite's expectations read (None: one of them names none GX-style)."""
    names: list[str] = []
    for check in checks:
        expectation = check.expectation()
        found = [
            c
            for c in (
                getattr(expectation, "column", None),
                *(getattr(expectation, "column_list", None) or ()),
                getattr(expectation, "column_A", None),
                getattr(expectation, "column_B", None),
            )
            if isinstance(c, str)
        ]
        if not found:
            return None
        names += [c for c in found if c not in names]
    return names


def _columns(rows: list[dict[str, Any]], checks: Sequence[Check]) -> dict[str, list[Any]]:
    """The validated frame, column-wise: only the columns the expectations read.

    The other columns of a row (the record itself, texts for the reasons) stay in ``rows``: GX
    never sees them, so it neither copies them nor pickles them to fingerprint the batch (an
    object column it cannot hash makes it pickle the whole frame)."""
    present: dict[str, None] = {}
    for row in rows:
        present.update(dict.fromkeys(row))
    wanted = _expectation_columns(checks)
    names = list(present) if wanted is None else [c for c in wanted if c in present]
    return {name: [row.get(name) for row in rows] for name in names}


def run_checks(
    suite_name: str, rows: list[dict[str, Any]], checks: Sequence[Check], *, key_column: str = "key"
) -> dict[int, list[RecordError]]:
    """Validate ``rows`` with the suite; failing row index -> its errors (one per failed check)."""
    if not rows:
        return {}
    import pandas as pd

    frame = pd.DataFrame(_columns(rows, checks))
    result = _validation(suite_name, checks).run(
        batch_parameters={"dataframe": frame}, result_format={"result_format": "COMPLETE"}
    )
    by_name = {c.name: c for c in checks}
    failures: dict[int, list[RecordError]] = {}
    for outcome in result.results:
        check = by_name[outcome.expectation_config.meta["check"]]
        if outcome.exception_info and outcome.exception_info.get("raised_exception"):
            raise RuntimeError(f"quality check {check.name} could not run: {outcome.exception_info}")
        if outcome.success:
            continue
        for index in outcome.result.get("unexpected_index_list") or []:
            row = rows[int(index)]
            reason = check.reason(row)
            # Operators know SKUs, not ERP ids: name the SKU when the key is something else.
            if row.get("sku") and row["sku"] != row[key_column] and row["sku"] not in reason:
                reason = f"{row['sku']}: {reason}"
            failures.setdefault(int(index), []).append(
                RecordError(key=str(row[key_column]), field=check.field, reason=reason, check=check.name)
            )
    return failures


def catalogue_checks(settings: CatalogueChecks) -> list[Check]:
    import great_expectations.expectations as gxe

    rates = sorted(settings.vat_rates, key=lambda r: Decimal(r))
    return [
        Check(
            "sku_present", "sku", lambda: gxe.ExpectColumnValuesToNotBeNull(column="sku"), lambda r: "SKU is missing"
        ),
        Check(
            "sku_unique",
            "sku",
            lambda: gxe.ExpectColumnValuesToBeUnique(column="sku"),
            lambda r: f"SKU {r['sku']!r} is used by several articles; none of them is published until it is unique",
        ),
        Check(
            "name_present", "name", lambda: gxe.ExpectColumnValuesToNotBeNull(column="name"), lambda r: "name is empty"
        ),
        Check(
            "ean_format",
            "ean",
            lambda: gxe.ExpectColumnValuesToMatchRegex(column="ean", regex=r"^\d{13}$"),
            lambda r: f"EAN {r['ean']!r} is not 13 digits",
        ),
        Check(
            "ean_check_digit",
            "ean",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="ean_check_digit_ok", value_set=[True]),
            lambda r: f"EAN {r['ean']} has check digit {r['ean'][-1]}, expected {ean13_check_digit(r['ean'][:12])}",
        ),
        Check(
            "price_present",
            "price",
            lambda: gxe.ExpectColumnValuesToNotBeNull(column="price"),
            lambda r: "price is missing",
        ),
        Check(
            "price_non_negative",
            "price",
            lambda: gxe.ExpectColumnValuesToBeBetween(column="price", min_value=0),
            lambda r: f"price {r['price']} is negative",
        ),
        Check(
            "price_decimals",
            "price",
            lambda: gxe.ExpectColumnValuesToBeBetween(column="price_decimals", max_value=settings.max_price_decimals),
            lambda r: f"price {r['price']} has more than {settings.max_price_decimals} decimals",
        ),
        Check(
            "currency",
            "currency",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="currency", value_set=[settings.currency]),
            lambda r: f"currency {r['currency']!r} is not the shop's currency {settings.currency}",
        ),
        Check(
            "vat_rate_present",
            "vat_rate",
            lambda: gxe.ExpectColumnValuesToNotBeNull(column="vat_rate"),
            lambda r: "VAT rate is missing",
        ),
        Check(
            "vat_rate_allowed",
            "vat_rate",
            lambda: gxe.ExpectColumnValuesToBeInSet(column="vat_rate", value_set=rates),
            lambda r: f"VAT rate {r['vat_rate']}% is not one of the configured rates ({', '.join(rates)})",
        ),
        Check(
            "tax_category_mapped",
            "vat_rate",
            lambda: gxe.ExpectColumnValuesToNotBeNull(column="tax_category"),
            lambda r: f"no shop tax category is mapped for VAT {r['vat_rate']}% in {settings.country}",
        ),
        Check(
            "weight_non_negative",
            "weight",
            lambda: gxe.ExpectColumnValuesToBeBetween(column="weight", min_value=0),
            lambda r: f"weight {r['weight']} is negative",
        ),
        Check(
            "attributes_complete",
            "attributes",
            lambda: gxe.ExpectColumnValuesToBeNull(column="missing_attributes"),
            lambda r: f"this variant of {r['product_name']!r} has no {r['missing_attributes']}",
        ),
        Check(
            "attributes_unique",
            "attributes",
            lambda: gxe.ExpectCompoundColumnsToBeUnique(column_list=["product_key", "signature"]),
            lambda r: f"another variant of {r['product_name']!r} has the same options ({r['signature'] or 'none'})",
        ),
    ]


def variant_row(product: Product, variant: Variant, allowed_rates: frozenset[str]) -> dict[str, Any]:
    """The flat row the catalogue suite validates, with its derived columns."""
    ean = variant.ean or None
    rate = normalise_rate(variant.vat_rate)
    missing = [name for name in product.option_groups if not variant.options.get(name)]
    name = (variant.name or "").strip() or None
    return {
        "key": variant.key,
        "sku": variant.sku or None,
        "name": name,
        "ean": ean,
        "ean_check_digit_ok": (
            int(ean[-1]) == ean13_check_digit(ean[:12])
            if ean is not None and len(ean) == 13 and ean.isdigit()
            else None
        ),
        "price": variant.price,
        "price_decimals": price_decimals(variant.price),
        "currency": variant.currency,
        "vat_rate": rate,
        # A missing or wrong rate is reported once, by its own check, not again as an unmapped one.
        "tax_category": variant.tax_category if rate in allowed_rates else "-",
        "weight": variant.weight,
        "product_key": product.key,
        "product_name": product.name,
        "missing_attributes": ", ".join(missing) or None,
        "signature": "; ".join(f"{n}={variant.options.get(n, '')}" for n in product.option_groups),
    }


def gate_products(
    products: Iterable[Product],
    settings: CatalogueChecks,
    *,
    issues: Mapping[str, list[RecordError]] | None = None,
) -> GateResult:
    """Validate every variant; drop refused variants (and products left with none).

    ``issues`` are problems the connector met while reading (unparseable values): those
    records are refused with the connector's reason, whatever the suite says.
    """
    products = list(products)
    pairs = [(p, v) for p in products for v in p.variants]
    rows = [variant_row(p, v, settings.vat_rates) for p, v in pairs]
    failures = run_checks("catalogue", rows, catalogue_checks(settings))
    result = GateResult(checked=len(rows))
    refused: dict[str, list[RecordError]] = {}
    for key, errors in (issues or {}).items():
        if errors:
            refused.setdefault(key, []).extend(errors)
    for index, errors in failures.items():
        key = pairs[index][1].key
        # A value the connector could not read is reported once, with the connector's reason.
        unreadable = {e.field for e in refused.get(key, ()) if e.check == "parse"}
        refused.setdefault(key, []).extend(e for e in errors if e.field not in unreadable)
    # The payload of a refused variant only (serialising every variant cost more than the checks).
    variants = {v.key: v for _, v in pairs if v.key in refused}
    for key, errors in refused.items():
        payload = to_jsonable(variants[key]) if key in variants else None
        for error in errors:
            result.rejected.append(QuarantineEntry(error=error, payload=payload))
    result.rejected_keys = set(refused)
    for product in products:
        kept = [v for v in product.variants if v.key not in refused]
        if kept:
            if len(kept) != len(product.variants):
                product.variants = kept
            result.passed.append(product)
    return result
