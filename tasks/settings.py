"""Configuration: one TOML file, validated by pydantic, secrets resolved here and only here.

A secret is never written in the file: a value ``env:NAME`` is read from the environment,
``block:NAME`` from a Prefect Secret block; anything else is taken literally (fine for a URL,
refused for a field declared secret unless ``allow_literal_secrets`` is set for a local demo).

Relative paths (snapshot folder, SQLite file, export folders) are relative to the file's folder,
so a deployment does not depend on the worker's working directory.
"""

from __future__ import annotations

import difflib
import os
import tomllib
import types
import typing
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from connectors.erp.references import namespace
from connectors.errors import Fatal
from tasks.alert_settings import AlertSettings
from tasks.webhook_settings import WebhookSettings

__all__ = [
    "CatalogueSettings",
    "ConfigResolver",
    "ConnectionSettings",
    "DocumentStorageSettings",
    "FeedbackSettings",
    "InvoiceSettings",
    "OrderSettings",
    "PasserelleConfig",
    "PriceSettings",
    "SnapshotSettings",
    "StateSettings",
    "StockFeed",
    "StockSettings",
    "WindowSettings",
    "config_path",
    "load_config",
    "resolve_secret",
]

SECRET_PREFIXES = ("env:", "block:", "file:")


def resolve_secret(
    reference: str | None, *, what: str, allow_literal: bool = False, base_dir: Path | None = None
) -> SecretStr | None:
    """Value of a secret reference: ``env:NAME``, ``block:NAME`` (a Prefect Secret block) or
    ``file:PATH`` (the file's content without its trailing newline; a relative path is from
    ``base_dir``, the configuration's folder)."""
    if reference is None or reference == "":
        return None
    if reference.startswith("file:"):
        path = Path(reference[5:]).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        try:
            return SecretStr(path.read_text(encoding="utf-8").rstrip("\r\n"))
        except FileNotFoundError:
            raise Fatal(
                f"the secret for {what} is read from the file {path}, which does not exist.",
                resolution="write the secret in that file (mode 0600), or use env:NAME.",
            ) from None
        except OSError as exc:
            raise Fatal(
                f"the secret for {what} is read from the file {path}, which cannot be read ({exc.strerror}).",
                resolution="let the worker's user read it (and nobody else: mode 0600).",
            ) from None
    if reference.startswith("env:"):
        name = reference[4:]
        value = os.environ.get(name)
        if value is None:
            raise Fatal(
                f"the secret for {what} is read from the environment variable {name}, which is not set.",
                resolution=f"export {name}=... in the worker's environment (or use block:NAME for a Prefect Secret block).",
            )
        return SecretStr(value)
    if reference.startswith("block:"):
        name = reference[6:]
        try:
            from prefect.blocks.system import Secret

            block: Any = Secret.load(name)
            return SecretStr(str(block.get()))
        except ValueError as exc:  # no such block
            raise Fatal(
                f"the secret for {what} is read from the Prefect Secret block {name!r}, which could not be loaded ({type(exc).__name__}).",
                resolution=f"create it: `prefect block create secret` or Secret(value=...).save({name!r}).",
            ) from None
        except Exception as exc:  # noqa: BLE001 - the Prefect API unreachable or refusing: name the block, not the URL
            raise Fatal(
                f"the secret for {what} is read from the Prefect Secret block {name!r}, but the Prefect API could "
                f"not be asked for it ({type(exc).__name__}).",
                resolution="check PREFECT_API_URL / PREFECT_API_KEY on this worker, or use env:NAME for this secret.",
            ) from None
    if not allow_literal:
        raise Fatal(
            f"{what} is written in clear in the configuration file.",
            resolution="use env:VARIABLE, block:PREFECT_SECRET_BLOCK or file:PATH instead of the value itself.",
        )
    return SecretStr(reference)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StateSettings(_Model):
    url: str = "sqlite:///state.db"
    """SQLAlchemy URL; may be a secret reference (a PostgreSQL URL carries a password)."""
    lease_seconds: float = Field(default=600, gt=0)
    """How long a run's lease outlives its last renewal (a run renews it every third of this while
    it works): how long a run killed outright, unknown to Prefect as finished, blocks the next runs."""


class S3Settings(_Model):
    endpoint_url: str | None = None
    """S3 endpoint of an S3-compatible service (MinIO, Scaleway, OVH); unset: AWS."""
    region: str | None = None
    """The bucket's region (e.g. ``eu-west-3``); unset: boto3's default."""
    access_key: str | None = None
    """Secret reference (``env:NAME``, ``file:PATH``, ``block:NAME``); unset: boto3's credential chain
    (instance role, ``~/.aws``)."""
    secret_key: str | None = None
    """Secret reference of the access key's secret; unset with ``access_key``."""


class SnapshotSettings(_Model):
    root: str = "snapshots"
    """Where the Parquet snapshots of every run go: a folder (relative to this file) or
    ``s3://bucket/prefix``."""
    mask_fields: list[str] = Field(default_factory=list)
    """Payload fields masked besides the personal ones, which always are (e-mail, phone, names,
    company, VAT and SIRET numbers, street, postal code, city: ``tasks.snapshots.PERSONAL_FIELDS``)."""
    mask_key: str | None = None
    """The masking key as a secret reference (``env:NAME``, ``block:NAME``; 32 characters or more),
    for workers on several machines; unset: the key file ``mask_key_file``."""
    mask_key_file: str = "mask.key"
    """Where the installation's masking key is kept when ``mask_key`` is unset: made on first use
    (random, mode 0600), relative to this file's folder, never inside ``root``. Back it up with the state."""
    s3: S3Settings | None = None
    """Credentials and endpoint for an ``s3://`` root (``[snapshots.s3]``)."""
    full_snapshot: Literal["always", "daily", "weekly", "monthly", "yearly", "never"] = "monthly"
    """A record read again with the content it had when last written is not written again, except
    at its first read of each such period, so that every month (by default) holds every record
    read in it; ``always``: write every record read (the volume grows with what is read)."""
    retention_months: dict[str, int] = Field(default_factory=dict)
    """Months of snapshots kept per ``flow`` or ``flow/entity`` (``"import-orders" = 120``,
    ``stock = 13``); a flow named in neither is kept forever. Enforced by ``passerelle audit compact``."""


class CatalogueSettings(_Model):
    currency: str = "EUR"
    """Currency of the ERP's prices (ISO 4217); a price in another one is refused."""
    country: str = "FR"
    """Country whose VAT the shop's tax categories map (``taxes``) by default."""
    group_field: str | None = "group_key"
    """Article field holding the key that groups variants into one product (``group_key``: the Tryton
    template, the export's model column; ``fields.<name>``); unset: no grouping by field."""
    reference_pattern: str | None = None
    """Regular expression on the SKU whose named group ``group`` is the group key and whose other named
    groups are attribute values (``TSH-(?P<group>\\w+)-(?P<size>\\w+)``); unset: not used."""
    attributes: list[str] = Field(default_factory=list)
    """Attributes that tell variants apart (the shop's options), in display order (``["colour",
    "size"]``)."""
    attribute_labels: dict[str, str] = Field(default_factory=dict)
    """Attribute code -> the name customers read on the product page (``colour = "Couleur"``);
    default: the ERP's label (the export's column name, Tryton's attribute string)."""
    fields: dict[str, str] = Field(default_factory=lambda: {"description": "description", "variant.name": "name"})
    """Shop field -> article field (``description = "fields.web_text"``; ``variant.<field>`` for
    variants)."""
    categories: list[list[str]] = Field(default_factory=list)
    """Category paths, each a list of article fields joined into one path (``[["fields.family",
    "fields.subfamily"]]``); one field may hold a whole path with ``category_separator`` and several
    paths separated by ``|``."""
    category_separator: str = "/"
    """Separator of levels inside one category field (``Vêtements/T-shirts``)."""
    vat_rates: list[str] = Field(default_factory=lambda: ["20", "10", "5.5", "2.1", "0"])
    """VAT rates (percent) an article may carry; another rate is quarantined (quality gate)."""
    taxes: dict[str, dict[str, str]] = Field(default_factory=dict)
    """Per country: VAT rate -> the shop's tax category."""
    create_only: list[str] = Field(default_factory=lambda: ["slug", "description", "images"])
    """Fields written when a product is created and never again, so the shop's own edits stay
    (``slug``, ``description``, ``images``, ``custom_fields.<name>``, ``variant.<field>``)."""
    archive_missing: bool = True
    """Archive (disable) products the ERP no longer returns; false: leave them as they are."""
    batch_size: int = 50

    @field_validator("currency", "country")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class StockFeed(_Model):
    """ERP warehouses whose stock is summed into one shop stock location."""

    warehouses: list[str]
    """ERP warehouse codes summed into ``location``."""
    location: str | None = None
    """The shop's stock location (None: the shop's default one)."""


class StockSettings(_Model):
    warehouses: list[str] = Field(default_factory=list)
    """ERP warehouse codes summed into the shop's default location (shorthand for one feed)."""
    feeds: list[StockFeed] = Field(default_factory=list)
    """Several shop locations (store stock vs web stock), each fed by its own warehouses."""
    subtract_reserved: bool = True
    """Subtract what the ERP promised to customers and did not ship yet."""
    safety_stock: int = Field(default=0, ge=0)
    """Units kept back from every SKU's available stock (the shop never sells the last ones)."""
    safety_stock_by_sku: dict[str, int] = Field(default_factory=dict)
    """SKU -> safety stock, over ``safety_stock``."""
    batch_size: int = Field(default=100, ge=1)

    def resolved_feeds(self) -> list[StockFeed]:
        feeds = list(self.feeds)
        if self.warehouses:
            feeds.insert(0, StockFeed(warehouses=self.warehouses))
        if not feeds:
            raise Fatal(
                "no ERP warehouse feeds this shop's stock.",
                resolution='set [connections.<name>.stock] warehouses = ["WH"] (ERP warehouse codes).',
            )
        locations = [f.location for f in feeds]
        if len(set(locations)) != len(locations):
            raise Fatal(
                "two stock feeds write the same shop location.",
                resolution="list every warehouse of one location in one feed: they are summed.",
            )
        return feeds


class PriceSettings(_Model):
    groups: list[str] = Field(default_factory=list)
    """ERP customer groups / price lists whose prices go to the shop where it supports them."""
    batch_size: int = Field(default=100, ge=1)


ImportRule = Literal["paid", "authorized", "always", "never"]


class WindowSettings(_Model):
    """Where the incremental runs of a flow read from (orders, statuses, invoices)."""

    start: datetime | None = None
    """Where the first run starts reading (aware time); default: ``first_run_hours`` back."""
    first_run_hours: int = Field(default=24, ge=0)
    overlap_minutes: int = Field(default=10, ge=0)
    """Each window starts this much before the previous one ended: a record written with a time in
    the past (long transaction, clock skew) is still read; re-reading is harmless."""

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("start needs a time zone (2026-11-01T00:00:00+01:00 or ...Z)")
        return value


class OrderSettings(WindowSettings):
    """Which web orders go to the ERP, and when (``[connections.<name>.orders]``)."""

    import_when: ImportRule = "paid"
    """``paid``: once settled payments cover the total; ``authorized``: once authorised (card
    held, not captured) or settled payments cover it; ``always``: as soon as it is placed (bank
    transfer, cash on delivery); ``never``: not imported."""
    rules: dict[str, ImportRule] = Field(default_factory=dict)
    """Shop payment method code -> rule, when it is not ``import_when``
    (``"bank-transfer" = "always"``)."""
    follow_days: int = Field(default=30, ge=1)
    """How long orders waiting for payment, quarantined or with a payment still to record are
    re-read by id, counted from their last change in the shop."""
    batch_size: int = Field(default=25, ge=1)


class FeedbackSettings(WindowSettings):
    """ERP order statuses and tracking back to the shop (``[connections.<name>.feedback]``)."""

    statuses: dict[str, bool] = Field(
        default_factory=lambda: {
            "processing": True,
            "shipped": True,
            "delivered": True,
            "cancelled": True,
            "refunded": True,
        }
    )
    """Which ERP statuses are sent to the shop (False: that status stays the shop's business)."""
    notify: dict[str, bool] = Field(
        default_factory=lambda: {
            "processing": False,
            "shipped": True,
            "delivered": True,
            "cancelled": True,
            "refunded": True,
        }
    )
    """Whether the shop tells the customer, per status."""
    overwrite_manual: bool = False
    """Overwrite a status someone set by hand in the shop (one passerelle did not send)."""
    tracking_urls: dict[str, str] = Field(default_factory=dict)
    """Carrier -> tracking page with ``{tracking}`` (used when the ERP gives no URL):
    ``"Colissimo" = "https://www.laposte.fr/outils/suivre-vos-envois?code={tracking}"``."""
    tracking_patterns: dict[str, str] = Field(
        default_factory=lambda: {
            "Colissimo": r"^[0-9A-Z]{11,15}$",
            "Chronopost": r"^[A-Z]{2}[0-9]{9}[A-Z]{2}$|^[0-9A-Z]{13}$",
            "UPS": r"^1Z[0-9A-Z]{16}$",
            "DHL": r"^[0-9]{10,11}$|^JJD[0-9]{18,20}$",
        }
    )
    """Carrier -> regular expression a tracking number must match (quality gate)."""
    batch_size: int = Field(default=25, ge=1)


class DocumentStorageSettings(_Model):
    """Where invoice PDFs go (an S3 bucket or an S3-compatible service)."""

    bucket: str
    """The S3 bucket."""
    prefix: str = "invoices/"
    """Key prefix of the PDFs in the bucket."""
    public_base_url: str | None = None
    """Links are ``<public_base_url>/<key>`` (a CDN, a public-read bucket); None: pre-signed URLs."""
    url_expiry_days: int = Field(default=7, ge=1, le=7)
    """Life of a pre-signed link in days (S3 allows 7 at most)."""
    endpoint_url: str | None = None
    """S3 endpoint of an S3-compatible service; unset: AWS."""
    region: str | None = None
    """The bucket's region; unset: boto3's default."""
    access_key: str | None = None
    """Secret reference (``env:NAME``, ``block:NAME``); None: boto3's credential chain."""
    secret_key: str | None = None
    """Secret reference of the access key's secret."""


class InvoiceSettings(WindowSettings):
    """Invoice and credit-note PDFs into the customer's space (``[connections.<name>.invoices]``)."""

    storage: DocumentStorageSettings | None = None
    """Where the PDFs go when the shop has no place for files (an S3 bucket:
    ``[connections.<name>.invoices.storage]``); unset: the shop's own documents where it has them."""
    title: str | None = None
    """Title of an invoice's link (``{number}``); default: "Invoice {number}" in the connection's language."""
    credit_note_title: str | None = None
    """Title of a credit note's link; default: "Credit note {number}" in the connection's language."""
    first_run_hours: int = Field(default=24 * 7, ge=0)
    overlap_minutes: int = Field(default=60, ge=0)
    batch_size: int = Field(default=20, ge=1)


class ConnectorSettings(BaseModel):
    """``type`` picks the connector; the other keys are that connector's own settings."""

    model_config = ConfigDict(extra="allow")
    type: str
    """The connector: the ERP's or the shop's platform (``passerelle init`` lists them)."""

    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class ConnectionSettings(_Model):
    erp: ConnectorSettings
    """The ERP of this connection (``[connections.<name>.erp]``): ``type`` and that connector's own
    keys."""
    shop: ConnectorSettings
    """The online shop of this connection (``[connections.<name>.shop]``): ``type`` and that
    connector's own keys."""
    language: str = "en"
    """The language of what customers read (tracking notes, cancellation reasons, invoice links): fr, en."""
    catalogue: CatalogueSettings = Field(default_factory=CatalogueSettings)
    """Catalogue publish settings."""
    stock: StockSettings = Field(default_factory=StockSettings)
    """Stock sync settings."""
    prices: PriceSettings = Field(default_factory=PriceSettings)
    """Price sync settings."""
    orders: OrderSettings = Field(default_factory=OrderSettings)
    """Order import settings."""
    feedback: FeedbackSettings = Field(default_factory=FeedbackSettings)
    """Status and tracking feedback settings."""
    invoices: InvoiceSettings = Field(default_factory=InvoiceSettings)
    """Invoice PDF settings."""
    webhooks: WebhookSettings | None = None
    """Order webhooks received by ``passerelle serve`` (docs/webhooks.md); unset: the schedule only."""

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        from connectors.shop.notes import LANGUAGES

        if value not in LANGUAGES:
            raise ValueError(f"no customer texts in language {value!r}: use one of {', '.join(LANGUAGES)}")
        return value

    def configures(self, section: str) -> bool:
        """Whether the file has this connection's ``[connections.<name>.<section>]`` table (``stock``,
        ``prices``...): the sign that the flow of that name runs for it, so that the other flows
        leave it what it owns (the catalogue writes a price at creation only when ``prices`` runs)."""
        return section in self.model_fields_set


class PasserelleConfig(_Model):
    state: StateSettings = Field(default_factory=StateSettings)
    """The state store: bindings, cursors, quarantine, what the shop accepted (``[state]``)."""
    snapshots: SnapshotSettings = Field(default_factory=SnapshotSettings)
    """Parquet snapshots of what each run read, refused and sent, for auditors (``[snapshots]``)."""
    connections: dict[str, ConnectionSettings]
    """One ``[connections.<name>]`` per ERP and shop pair: each runs its own flows, state and cursors.
    One ``[connections.<name>]`` per ERP and shop pair: each runs its own flows, state and cursors."""
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    """Notifications to the operators through Prefect automations (``[alerts]``, docs/alerts.md)."""
    allow_literal_secrets: bool = False
    """Accept secrets written in clear in this file (tests and sandboxes only)."""
    base_dir: Path = Path(".")
    """Folder relative paths are read from (set by ``load_config``: the file's folder)."""

    @model_validator(mode="after")
    def _one_prefix_per_shop_in_an_erp(self) -> PasserelleConfig:
        """Two connections writing web orders to one ERP need two reference prefixes: with one,
        a shop's order 42 is taken for the other's (never imported) and their customers merge."""
        seen: list[tuple[str, str, str, frozenset[str]]] = []
        for name, connection in self.connections.items():
            found = namespace(connection.erp.type, connection.erp.options(), name, self.path)
            if found is None:
                continue
            prefix, places = found
            for other, kind, other_prefix, other_places in seen:
                if (
                    kind == connection.erp.type
                    and other_prefix.casefold() == prefix.casefold()
                    and places & other_places
                ):
                    raise ValueError(
                        f"connections {other!r} and {name!r} write web orders to the same ERP with the reference "
                        f"prefix {prefix!r}: one shop's orders and customers would be taken for the other's. Set "
                        f"shop in [connections.<name>.erp.orders] (or .erp.shipments) to a prefix of its own for "
                        f"one of them (keep the one its ERP orders already carry: docs/orders.md)"
                    )
            seen.append((name, connection.erp.type, prefix, places))
        return self

    @model_validator(mode="after")
    def _no_password_in_the_state_url(self) -> PasserelleConfig:
        """A PostgreSQL URL carries its password: written in the file it is a secret in clear."""
        url = self.state.url
        if not url.startswith(SECRET_PREFIXES) and not self.allow_literal_secrets and urlsplit(url).password:
            raise ValueError(
                "state.url holds a database password in clear. Resolution: write state.url = "
                '"env:PASSERELLE_STATE_URL" (or "block:NAME", a Prefect Secret block) and put the URL there'
            )
        return self

    def connection(self, name: str | None) -> tuple[str, ConnectionSettings]:
        if name is None:
            if len(self.connections) == 1:
                name = next(iter(self.connections))
            else:
                raise Fatal(
                    f"the configuration has {len(self.connections)} connections and none was named.",
                    resolution=f"pass connection= one of {sorted(self.connections)}.",
                )
        try:
            return name, self.connections[name]
        except KeyError:
            raise Fatal(
                f"no connection named {name!r} in the configuration.",
                resolution=f"use one of {sorted(self.connections)}.",
            ) from None

    def path(self, value: str) -> str:
        """A path from the file, made absolute against the file's folder (URLs left alone)."""
        if "://" in value or Path(value).is_absolute():
            return value
        return str((self.base_dir / value).resolve())

    def secret(self, reference: str | None, *, what: str) -> SecretStr | None:
        return resolve_secret(reference, what=what, allow_literal=self.allow_literal_secrets, base_dir=self.base_dir)

    def state_url(self) -> str:
        url = self.state.url
        if url.startswith(SECRET_PREFIXES):
            resolved = self.secret(url, what="state.url")
            url = resolved.get_secret_value() if resolved else ""
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////") and ":memory:" not in url:
            url = "sqlite:///" + self.path(url.removeprefix("sqlite:///"))
        return url


class ConfigResolver:
    """Resolves one connector's secret references and relative paths (the ``Resolver`` its factory
    gets): for the flows' run context and for ``passerelle check``, which must not import the run
    context's stores."""

    def __init__(self, config: PasserelleConfig, options: dict[str, Any], where: str) -> None:
        self._config = config
        self._options = options
        self._where = where

    def secret(self, option: str) -> str | None:
        value = self._config.secret(self._options.get(option), what=f"{self._where}.{option}")
        return value.get_secret_value() if value is not None else None

    def path(self, value: str) -> str:
        return self._config.path(value)


def invoice_title(connection: ConnectionSettings, kind: str, number: str) -> str:
    """The title of a document link: the settings' own, else the text in the connection's language."""
    from connectors.shop.notes import customer_text

    name = "credit_note" if kind == "credit_note" else "invoice"
    own = connection.invoices.credit_note_title if name == "credit_note" else connection.invoices.title
    return (own or customer_text(name, connection.language)).format(number=number)


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The configuration file: the argument, ``$PASSERELLE_CONFIG``, or ``./passerelle.toml``."""
    return Path(explicit or os.environ.get("PASSERELLE_CONFIG") or "passerelle.toml")


def load_config(path: str | os.PathLike[str] | None = None) -> PasserelleConfig:
    """Read and validate the configuration file (secrets stay references until used)."""
    file = config_path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise Fatal(
            f"configuration file {file} not found.",
            resolution="pass --config PATH or set PASSERELLE_CONFIG; `passerelle demo` writes an example.",
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise Fatal(f"configuration file {file} is not valid TOML: {exc}.", resolution="fix the file.") from None
    data["base_dir"] = file.resolve().parent
    try:
        return PasserelleConfig.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(error) for error in exc.errors()]
        resolution = "fix the file (every key: the settings models of tasks/settings.py and of each connector)."
        if len(problems) == 1 and " Resolution: " in problems[0]:  # a rule that says how to fix it
            problem, resolution = problems[0].split(" Resolution: ", 1)
            problems = [problem.rstrip(".")]
        raise ConfigError(f"configuration file {file}: {'; '.join(problems)}.", resolution=resolution) from None


class ConfigError(Fatal, ValueError):
    """The configuration file is refused (a ValueError too, as pydantic's validation errors are)."""


def _describe(error: Mapping[str, Any], root: Any = None, prefix: tuple[str, ...] = ()) -> str:
    """One pydantic error of ``root`` (the whole file by default; a connector's options at
    ``prefix`` in the file) as ``where: what``, an unknown key with the closest known one."""
    loc = tuple(error.get("loc") or ())
    where = ".".join(str(part) for part in (*prefix, *loc))
    if error.get("type") == "extra_forbidden" and loc:
        known = _known_keys(loc[:-1], root)
        close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        return f"{where}: unknown key" + (f" (did you mean {close[0]!r}?)" if close else "")
    message = str(error.get("msg") or "invalid").removeprefix("Value error, ")
    if error.get("type") == "missing":
        return f"{where}: missing"
    if not where:  # a rule over the whole file: its message says where
        return message
    value = error.get("input")
    shown = f" (got {value!r})" if isinstance(value, str | int | float | bool) else ""
    return f"{where}: {message}{shown}"


def _known_keys(loc: tuple[Any, ...], root: Any = None) -> list[str]:
    """The keys the settings model at ``loc`` (a path in ``root``, the file by default) accepts."""
    model: Any = root or PasserelleConfig
    parts = list(loc)
    while parts and model is not None:
        field = model.model_fields.get(str(parts.pop(0)))
        if field is None:
            return []
        model, keyed = _model_of(field.annotation)
        if keyed and parts:
            parts.pop(0)  # a connection name (a dict key)
    if model is None:
        return []
    return [name for name in model.model_fields if name != "base_dir"]


def _model_of(annotation: Any) -> tuple[Any, bool]:
    """The settings model an annotation holds, and whether it is a dict of them."""
    origin = typing.get_origin(annotation)
    if origin in (dict, Mapping):
        return _model_of(typing.get_args(annotation)[1])[0], True
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found, keyed = _model_of(arg)
            if found is not None:
                return found, keyed
        return None, False
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


def preflight(config: PasserelleConfig, connection: str | None = None) -> None:
    """What a run would find only after its start-up: an unknown connector type, a secret read from
    an environment variable that is not set. Checks the named connection (every one when None);
    no connection is opened.

    Raises:
        Fatal: the first problem, with its Resolution.
    """
    from connectors.registry import connector_target, settings_model

    names = [config.connection(connection)[0]] if connection or len(config.connections) == 1 else config.connections
    for name in names:
        settings = config.connections[name]
        for side, connector in (("erp", settings.erp), ("shop", settings.shop)):
            connector_target(side, connector.type, where=f"connection {name!r}: ")
            try:  # the connector's own keys: found here rather than when the flow builds it
                settings_model(side, connector.type).model_validate(connector.options())
            except ValidationError as exc:
                model, where = settings_model(side, connector.type), ("connections", name, side)
                problems = [_describe(error, model, where) for error in exc.errors()]
                raise ConfigError(
                    f"{'; '.join(problems)}.",
                    resolution=f"fix the file (the keys of a {connector.type} {side}: docs, or `passerelle init"
                    f" --{side} {connector.type}`).",
                ) from None
            for path, reference in _references(connector.options()):
                if reference.startswith(("env:", "file:")):  # block: needs the Prefect API: left to the run
                    config.secret(reference, what=f"{side}.{path}")  # raises the usual Fatal
    if config.state.url.startswith(("env:", "file:")):
        config.secret(config.state.url, what="state.url")


def _references(options: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(dotted key, value) of every string value that is a secret reference."""
    for key, value in options.items():
        path = f"{prefix}{key}"
        if isinstance(value, str) and value.startswith(SECRET_PREFIXES):
            yield path, value
        elif isinstance(value, Mapping):
            yield from _references(value, f"{path}.")
