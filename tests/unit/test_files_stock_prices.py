"""Stock levels and prices from GesCom export files.

Fixtures in ``tests/fixtures/exports`` (real bytes, written once by a script; do not re-save):

- ``stock_sage_cp1252.csv``: long layout ``Référence;Désignation;Dépôt;Emplacement;Quantité;Réservé``,
  cp1252, CRLF, two locations of one article in one warehouse, ``1 250,500`` with a no-break
  space, a blank line (5), a bad quantity ``douze`` (line 7), a negative quantity, a row without
  reference (line 11);
- ``stock_ebp_utf8bom.csv``: UTF-8 with BOM, no warehouse column, ``1 204,00`` with a narrow
  no-break space, two rows of one article;
- ``stock_wide_cp1252.csv``: one column per warehouse, an empty cell, a bad cell ``n/c``;
- ``stock_windows1252.xml``: ``<Stock reference= depot=>`` records, a warehouse code with accents;
- ``prices_sage_cp1252.csv``: base price, VAT and promotion columns, dates ``01/07/2026``,
  ISO dates, date and times, the end of daylight saving time (2026-10-25), an impossible date,
  a bad price, a promotion ending before it starts, an open start;
- ``prices_tarifs_categories_cp1252.csv``: Sage "tarifs par catégorie tarifaire" in long layout
  (one row per article, group, minimum quantity), a cp1252 apostrophe (U+2019, byte 0x92), a bad price ``six``.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from decimal import Decimal as D
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from connectors.base import CatalogueSource, PriceSource, StockSource
from connectors.erp.files import FilesSettings
from connectors.erp.files.catalogue import ArticleColumns
from connectors.erp.files.connector import FilesConnector
from connectors.erp.files.prices import GroupPriceColumns, GroupPriceFileSettings, PriceColumns, PriceFileSettings
from connectors.erp.files.reader import ExportFormat, export_rows
from connectors.erp.files.stock import StockColumns, StockFileSettings
from connectors.erp.files.values import parse_datetime
from connectors.errors import Fatal
from connectors.models import GroupPrice, PriceRecord, Promotion, StockLevel
from connectors.registry import build

EXPORTS = Path(__file__).parent.parent / "fixtures" / "exports"
STOCK_CSV = EXPORTS / "stock_sage_cp1252.csv"
STOCK_BOM = EXPORTS / "stock_ebp_utf8bom.csv"
STOCK_WIDE = EXPORTS / "stock_wide_cp1252.csv"
STOCK_XML = EXPORTS / "stock_windows1252.xml"
PRICES_CSV = EXPORTS / "prices_sage_cp1252.csv"
TARIFS_CSV = EXPORTS / "prices_tarifs_categories_cp1252.csv"
ARTICLES_CSV = EXPORTS / "articles_sage_cp1252.csv"

UTC = timezone.utc
PARIS = ZoneInfo("Europe/Paris")
WORKS_COUNCILS = "Comités d\u2019entreprise"  # as Sage writes it: a typographic apostrophe
FRENCH_STOCK = StockColumns(sku="Référence", warehouse="Dépôt", quantity="Quantité", reserved="Réservé")
FRENCH_PRICES = PriceColumns(
    sku="Référence",
    price="Prix de vente HT",
    vat_rate="Taux TVA",
    promo_price="Prix promo HT",
    promo_start="Début promo",
    promo_end="Fin promo",
    promo_name="Libellé promo",
)
SAGE_TARIFS = GroupPriceFileSettings(
    path=str(TARIFS_CSV),
    columns=GroupPriceColumns(
        sku="Référence", group="Catégorie tarifaire", min_quantity="Qté mini", price="Prix de vente HT"
    ),
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def stock_connector(path: Path | str = STOCK_CSV, **options: object) -> FilesConnector:
    settings = StockFileSettings.model_validate({"path": str(path), "columns": FRENCH_STOCK, **options})
    return FilesConnector(FilesSettings(stock=settings))


def levels(connector: FilesConnector, warehouses: list[str]) -> dict[tuple[str, str], StockLevel]:
    return {(level.key, level.warehouse): level for level in connector.iter_stock(warehouses)}


def price_connector(**options: object) -> FilesConnector:
    prices = PriceFileSettings.model_validate({"path": str(PRICES_CSV), "columns": FRENCH_PRICES, **options})
    return FilesConnector(FilesSettings(prices=prices))


def prices(connector: FilesConnector, groups: list[str] | None = None) -> dict[str, PriceRecord]:
    return {record.key: record for record in connector.iter_prices(groups or [])}


# -- stock: long layout ------------------------------------------------------------------------


def test_fixture_bytes_are_what_they_claim() -> None:
    raw = STOCK_CSV.read_bytes()
    assert "Dépôt".encode("cp1252") in raw and b"\x80" in raw and b"1\xa0250" in raw  # euro sign, no-break space
    assert b"\r\n" in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert STOCK_BOM.read_bytes().startswith(b"\xef\xbb\xbf") and "\u202f".encode() in STOCK_BOM.read_bytes()
    assert b"\x92" in TARIFS_CSV.read_bytes()  # the cp1252 apostrophe (U+2019) of the works councils' group


def test_quantities_are_summed_per_article_and_warehouse() -> None:
    connector = stock_connector()
    assert connector.warehouses() == ["PRINCIPAL", "BOUTIQUE"]
    got = levels(connector, ["PRINCIPAL", "BOUTIQUE"])

    tee = got["TSH-ROU-M", "PRINCIPAL"]  # two locations of the same warehouse
    assert (tee.sku, tee.on_hand, tee.reserved, tee.issues) == ("TSH-ROU-M", D("15.000"), D("2.000"), [])
    store = got["TSH-ROU-M", "BOUTIQUE"]
    assert (store.on_hand, store.reserved) == (D("4.000"), D("1.000"))
    large = got["TSH-ROU-L", "PRINCIPAL"]
    assert (large.on_hand, large.reserved) == (D("1250.500"), D(0))  # no-break space; empty reserved cell
    assert got["BOL-002", "PRINCIPAL"].on_hand == D("-2.000")  # negative stock is the stock rules' business
    assert got["CAF-001", "BOUTIQUE"].on_hand == D("7.000")
    assert all(isinstance(level.on_hand, D) and isinstance(level.reserved, D) for level in got.values())


def test_bad_quantity_is_an_issue_naming_file_line_and_column_and_other_rows_go_on() -> None:
    got = levels(stock_connector(), ["PRINCIPAL"])
    coffee = got["CAF-001", "PRINCIPAL"]
    # Line 7 ("douze") counts 0; line 8 still counts; the level is yielded with its issue.
    assert (coffee.on_hand, coffee.reserved) == (D("5.000"), D("1.000"))
    (issue,) = coffee.issues
    assert (issue.key, issue.field, issue.check) == ("CAF-001", "quantity", "parse")
    assert "stock_sage_cp1252.csv line 7" in issue.reason
    assert "'Quantité'" in issue.reason and "'douze'" in issue.reason
    assert got["TSH-ROU-M", "PRINCIPAL"].issues == []

    # A row without reference is named by its file and line, like an article.
    anonymous = got["stock_sage_cp1252.csv line 11", "PRINCIPAL"]
    assert anonymous.sku is None and anonymous.on_hand == D("1.000")
    (issue,) = anonymous.issues
    assert issue.field == "sku" and "'Référence'" in issue.reason


def test_only_the_asked_warehouses_are_yielded() -> None:
    got = levels(stock_connector(), ["BOUTIQUE"])
    assert sorted(got) == [("CAF-001", "BOUTIQUE"), ("TSH-ROU-M", "BOUTIQUE")]


def test_unknown_warehouse_is_fatal_naming_it_and_the_known_codes() -> None:
    with pytest.raises(Fatal) as info:
        list(stock_connector().iter_stock(["PRINCIPAL", "ENTREPOT-NORD"]))
    message = str(info.value)
    assert "'ENTREPOT-NORD'" in message and "stock_sage_cp1252.csv" in message
    assert "PRINCIPAL, BOUTIQUE" in info.value.resolution


def test_known_warehouses_may_be_empty_in_the_export() -> None:
    connector = stock_connector(known_warehouses=["DEPOT-VIDE"])
    assert connector.warehouses() == ["PRINCIPAL", "BOUTIQUE", "DEPOT-VIDE"]
    assert list(connector.iter_stock(["DEPOT-VIDE"])) == []


def test_utf8_bom_export_without_warehouse_column_uses_the_default_warehouse() -> None:
    columns = StockColumns(sku="Code article", quantity="Stock réel", reserved="Stock réservé")
    connector = stock_connector(STOCK_BOM, columns=columns, default_warehouse="MAGASIN")
    assert connector.warehouses() == ["MAGASIN"]
    got = levels(connector, ["MAGASIN"])
    assert list(got) == [("MUG-01", "MAGASIN"), ("MUG-02", "MAGASIN"), ("THE-VERT", "MAGASIN")]
    assert (got["MUG-01", "MAGASIN"].on_hand, got["MUG-01", "MAGASIN"].reserved) == (D("1210.00"), D("4.00"))
    assert got["MUG-02", "MAGASIN"].on_hand == D("0.00")
    assert got["THE-VERT", "MAGASIN"].on_hand == D("12.5")


def test_key_column_differs_from_sku(tmp_path: Path) -> None:
    export = tmp_path / "stock.csv"
    export.write_text("code;sku;qte\n17;A1;2\n17;A1;3\n", encoding="utf-8")
    connector = stock_connector(export, columns=StockColumns(key="code", sku="sku", quantity="qte"))
    (level,) = connector.iter_stock(["default"])
    assert (level.key, level.sku, level.warehouse, level.on_hand) == ("17", "A1", "default", D(5))


def test_glob_sums_rows_across_files(tmp_path: Path) -> None:
    shutil.copy(STOCK_CSV, tmp_path / "stock_1.csv")
    shutil.copy(STOCK_CSV, tmp_path / "stock_2.csv")
    got = levels(stock_connector(tmp_path / "stock_*.csv"), ["PRINCIPAL"])
    assert got["TSH-ROU-M", "PRINCIPAL"].on_hand == D("30.000")
    assert len(got["CAF-001", "PRINCIPAL"].issues) == 2  # one per file, each naming its file
    assert {i.reason.split("(")[1].split(")")[0] for i in got["CAF-001", "PRINCIPAL"].issues} == {
        "stock_1.csv line 7",
        "stock_2.csv line 7",
    }


def test_misspelt_column_is_fatal_rather_than_zero_stock() -> None:
    connector = stock_connector(columns=StockColumns(sku="Référence", warehouse="Depot", quantity="Quantité"))
    with pytest.raises(Fatal) as info:
        connector.warehouses()
    assert "'Depot'" in str(info.value) and "'Dépôt'" in str(info.value)  # the header it has


def test_missing_stock_export_and_missing_stock_settings_are_fatal(tmp_path: Path) -> None:
    with pytest.raises(Fatal, match="no stock file matches"):
        stock_connector(tmp_path / "stock_*.csv").warehouses()
    with pytest.raises(Fatal, match=r"no stock export configured.*Resolution:"):
        list(FilesConnector(FilesSettings(path=str(ARTICLES_CSV))).iter_stock(["WH"]))


# -- stock: wide layout and XML ---------------------------------------------------------------


def test_wide_layout_one_column_per_warehouse() -> None:
    connector = stock_connector(
        STOCK_WIDE,
        columns=StockColumns(sku="Référence"),
        warehouse_columns={"PRINCIPAL": "Stock PRINCIPAL", "BOUTIQUE": "Stock BOUTIQUE"},
        reserved_columns={"PRINCIPAL": "Réservé PRINCIPAL"},
    )
    assert connector.warehouses() == ["PRINCIPAL", "BOUTIQUE"]
    got = levels(connector, ["PRINCIPAL", "BOUTIQUE"])
    assert (got["TSH-ROU-M", "PRINCIPAL"].on_hand, got["TSH-ROU-M", "PRINCIPAL"].reserved) == (D("15"), D("2"))
    assert (got["TSH-ROU-M", "BOUTIQUE"].on_hand, got["TSH-ROU-M", "BOUTIQUE"].reserved) == (D("4"), D(0))
    assert got["TSH-ROU-L", "PRINCIPAL"].on_hand == D("1250.500")
    assert got["TSH-ROU-L", "BOUTIQUE"].on_hand == D(0)  # empty cell: nothing there

    # The bad cell is an issue of that warehouse only.
    assert got["CAF-001", "PRINCIPAL"].issues == [] and got["CAF-001", "PRINCIPAL"].on_hand == D(5)
    (issue,) = got["CAF-001", "BOUTIQUE"].issues
    assert issue.field == "quantity" and "'Stock BOUTIQUE'" in issue.reason
    assert "stock_wide_cp1252.csv line 4" in issue.reason and "'n/c'" in issue.reason


def test_wide_and_long_layouts_cannot_be_mixed() -> None:
    with pytest.raises(ValidationError, match=r"columns\.quantity and warehouse_columns"):
        StockFileSettings(path="s.csv", columns=StockColumns(quantity="Qté"), warehouse_columns={"WH": "Stock WH"})
    with pytest.raises(ValidationError, match="reserved_columns names warehouses not in warehouse_columns: B"):
        StockFileSettings(path="s.csv", warehouse_columns={"A": "Stock A"}, reserved_columns={"B": "Rés B"})


def test_xml_stock_export() -> None:
    connector = stock_connector(
        STOCK_XML,
        columns=StockColumns(sku="@reference", warehouse="@depot", quantity="Quantite", reserved="Reserve"),
    )
    assert connector.warehouses() == ["PRINCIPAL", "DÉPÔT LYON"]
    got = levels(connector, ["PRINCIPAL", "DÉPÔT LYON"])
    assert (got["MUG-01", "PRINCIPAL"].on_hand, got["MUG-01", "PRINCIPAL"].reserved) == (D("8.000"), D("1.000"))
    assert got["MUG-01", "DÉPÔT LYON"].on_hand == D("3.000")
    (issue,) = got["MUG-02", "PRINCIPAL"].issues
    assert "stock_windows1252.xml <Stock> #3" in issue.reason and "'huit'" in issue.reason


# -- prices: separate price export ------------------------------------------------------------


def test_base_prices_and_vat_from_a_price_export() -> None:
    got = prices(price_connector())
    assert list(got) == ["TSH-ROU-M", "TSH-ROU-L", "CAF-001", "BOL-002", "MUG-01", "MUG-02", "THE-VERT", "BIS-003"]
    tee = got["TSH-ROU-M"]
    assert (tee.sku, tee.price, tee.currency, tee.vat_rate, tee.tax_included) == (
        "TSH-ROU-M",
        D("19.90"),
        "EUR",
        D("20"),
        False,
    )
    assert got["BOL-002"].price == D("1299.00") and got["CAF-001"].vat_rate == D("5.5")
    assert got["TSH-ROU-L"].promotions == [] and got["TSH-ROU-L"].issues == []
    assert price_connector(tax_included=True).iter_prices([]).__next__().tax_included is True


def test_promotion_dates_in_paris_become_utc_instants_end_date_inclusive() -> None:
    got = prices(price_connector())
    # Summer time (UTC+2): from 1 July 00:00 to the end of 31 July.
    assert got["TSH-ROU-M"].promotions == [
        Promotion(D("14.90"), utc(2026, 6, 30, 22), utc(2026, 7, 31, 22), "Soldes d\u2019été")
    ]
    # Across the end of daylight saving time (25 October 2026, 03:00 -> 02:00): the promotion
    # starts at 00:00 CEST on the 24th and ends at 00:00 CET on the 26th, 49 hours later.
    (week,) = got["CAF-001"].promotions
    assert (week.starts_at, week.ends_at) == (utc(2026, 10, 23, 22), utc(2026, 10, 25, 23))
    assert week.starts_at is not None and week.ends_at is not None
    assert week.ends_at - week.starts_at == timedelta(hours=49)
    assert week.starts_at.tzinfo is UTC
    # Date and time: 20:00 CEST the 24th, 04:00 CET the 25th.
    (night,) = got["BOL-002"].promotions
    assert (night.price, night.starts_at, night.ends_at) == (D("999.00"), utc(2026, 10, 24, 18), utc(2026, 10, 25, 3))
    # Open start; winter time end.
    assert got["BIS-003"].promotions == [Promotion(D("1.90"), None, utc(2026, 11, 15, 23), None)]


def test_promotion_ending_before_it_starts_is_kept_for_the_quality_gate() -> None:
    (promo,) = prices(price_connector())["THE-VERT"].promotions
    assert (promo.starts_at, promo.ends_at) == (utc(2026, 12, 30, 23), utc(2026, 12, 1, 23))
    assert prices(price_connector())["THE-VERT"].issues == []


def test_parse_errors_are_issues_on_their_record_only() -> None:
    got = prices(price_connector())
    mug = got["MUG-01"]
    (issue,) = mug.issues
    assert (issue.key, issue.field, issue.check) == ("MUG-01", "promo_start", "parse")
    assert "'Début promo'" in issue.reason and "prices_sage_cp1252.csv line 6" in issue.reason
    assert "'31/02/2026'" in issue.reason
    assert mug.price == D("8.50") and mug.promotions == []  # no half-read promotion

    black = got["MUG-02"]
    (issue,) = black.issues
    assert issue.field == "price" and "'Prix de vente HT'" in issue.reason and "'huit'" in issue.reason
    assert black.price is None and black.vat_rate == D("20")
    others = set(got) - {"MUG-01", "MUG-02"}
    assert all(got[key].issues == [] for key in others)


def test_price_export_with_currency_and_key_columns(tmp_path: Path) -> None:
    export = tmp_path / "prix.csv"
    export.write_text("code;sku;prix;devise;promo\n17;A1;3,00;chf;abc\n", encoding="utf-8")
    columns = PriceColumns(key="code", sku="sku", price="prix", currency="devise", promo_price="promo")
    (record,) = FilesConnector(FilesSettings(prices=PriceFileSettings(path=str(export), columns=columns))).iter_prices(
        []
    )
    assert (record.key, record.sku, record.price, record.currency, record.vat_rate) == ("17", "A1", D(3), "CHF", None)
    (issue,) = record.issues
    assert (issue.key, issue.field) == ("17", "promo_price") and "'abc'" in issue.reason


# -- prices: from the article export (one export) ------------------------------------------------


def test_prices_from_the_article_export_when_there_is_no_price_export() -> None:
    settings = FilesSettings(
        path=str(ARTICLES_CSV),
        columns=ArticleColumns(
            sku="Référence", name="Désignation", price="Prix de vente HT", vat_rate="Taux TVA", active="Actif"
        ),
        prices=PriceFileSettings(),
    )
    got = prices(FilesConnector(settings))
    # BOL-002 is inactive ("Non"): not sellable, no price.
    assert list(got) == ["TSH-ROU-M", "TSH-ROU-L", "CAF-001", "articles_sage_cp1252.csv line 8"]
    assert (got["TSH-ROU-M"].price, got["TSH-ROU-M"].vat_rate) == (D("1234.50"), D("20"))
    (issue,) = got["CAF-001"].issues
    assert issue.field == "price" and "articles_sage_cp1252.csv line 6" in issue.reason
    assert got["CAF-001"].price is None
    assert [i.field for i in got["articles_sage_cp1252.csv line 8"].issues] == ["vat_rate"]


def test_promotions_from_the_article_export(tmp_path: Path) -> None:
    export = tmp_path / "articles.csv"
    export.write_bytes(
        "Référence;Désignation;Prix TTC;Prix promo;Début;Fin\r\n"
        "TSH;Tee-shirt été;24,00;19,00;2026-03-29;2026-03-29T12:00:00+00:00\r\n".encode("cp1252")
    )
    settings = FilesSettings(
        path=str(export),
        columns=ArticleColumns(sku="Référence", name="Désignation", price="Prix TTC"),
        prices=PriceFileSettings(
            tax_included=True, columns=PriceColumns(promo_price="Prix promo", promo_start="Début", promo_end="Fin")
        ),
    )
    (record,) = FilesConnector(settings).iter_prices([])
    assert (record.price, record.tax_included, record.vat_rate) == (D("24.00"), True, None)
    # 29 March 2026 00:00 is still winter time (UTC+1); an explicit offset wins over the zone.
    assert record.promotions == [Promotion(D("19.00"), utc(2026, 3, 28, 23), utc(2026, 3, 29, 12))]


def test_misspelt_promotion_column_is_fatal_rather_than_no_promotion() -> None:
    with pytest.raises(Fatal) as info:
        list(price_connector(columns=FRENCH_PRICES.model_copy(update={"promo_end": "Fin de promo"})).iter_prices([]))
    assert "prices_sage_cp1252.csv" in str(info.value) and "'Fin de promo'" in str(info.value)
    assert "'Fin promo'" in str(info.value)  # the header the export has


def test_one_export_and_no_price_settings_gives_the_article_prices() -> None:
    settings = FilesSettings(path=str(ARTICLES_CSV), columns=ArticleColumns(sku="Référence", price="Prix de vente HT"))
    got = prices(FilesConnector(settings))
    assert got["TSH-ROU-L"].price == D("19.90") and got["TSH-ROU-L"].promotions == []


def test_no_export_to_read_prices_from_is_fatal() -> None:
    for prices_settings in (None, PriceFileSettings()):
        connector = FilesConnector(FilesSettings(stock=StockFileSettings(path="s.csv"), prices=prices_settings))
        with pytest.raises(Fatal, match=r"neither a price export nor an article export.*Resolution:"):
            list(connector.iter_prices([]))


def test_price_columns_of_a_missing_price_file_are_refused() -> None:
    with pytest.raises(ValidationError, match=r"prices\.columns\.price apply to a separate price file"):
        PriceFileSettings(columns=PriceColumns(price="Prix"))


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValidationError, match="unknown time zone 'Europe/Lyon'"):
        PriceFileSettings(timezone="Europe/Lyon")


# -- prices: customer groups -----------------------------------------------------------------


def test_group_prices_restricted_to_the_configured_groups_in_their_order() -> None:
    connector = price_connector(group_prices=SAGE_TARIFS)
    got = prices(connector, ["Revendeurs", WORKS_COUNCILS])
    assert got["TSH-ROU-M"].group_prices == [
        GroupPrice("Revendeurs", D("12.50"), D("1")),
        GroupPrice("Revendeurs", D("11.00"), D("10")),
        GroupPrice(WORKS_COUNCILS, D("15.90"), D(1)),  # empty minimum: from 1
    ]
    assert got["TSH-ROU-L"].group_prices == [GroupPrice("Revendeurs", D("12.50"), D("1"))]
    assert got["BOL-002"].group_prices == []  # only a "Grossistes" price, not asked
    assert "INCONNU-9" not in got  # a tariff of an article without base price is not an article


def test_bad_group_price_is_an_issue_of_that_article_only() -> None:
    got = prices(price_connector(group_prices=SAGE_TARIFS), ["Revendeurs"])
    coffee = got["CAF-001"]
    assert coffee.group_prices == []
    (issue,) = coffee.issues
    assert (issue.key, issue.field, issue.check) == ("CAF-001", "group_prices", "parse")
    assert "prices_tarifs_categories_cp1252.csv line 7" in issue.reason and "'six'" in issue.reason
    assert got["TSH-ROU-M"].issues == []
    # A bad cell of a group that is not asked is not read.
    assert prices(price_connector(group_prices=SAGE_TARIFS), ["Détaillants"])["CAF-001"].issues == []


def test_unknown_group_is_fatal_naming_it_and_listing_the_groups_found() -> None:
    with pytest.raises(Fatal) as info:
        list(price_connector(group_prices=SAGE_TARIFS).iter_prices(["Revendeurs", "VIP", "grossistes"]))
    assert "'VIP', 'grossistes'" in str(info.value)
    assert info.value.resolution.endswith(f"Revendeurs, Grossistes, {WORKS_COUNCILS}, Détaillants.")


def test_groups_without_a_group_price_export_is_fatal() -> None:
    with pytest.raises(Fatal, match=r"customer group prices are asked \('Revendeurs'\).*Resolution:"):
        list(price_connector().iter_prices(["Revendeurs"]))


def test_two_prices_for_the_same_group_and_quantity_is_an_issue(tmp_path: Path) -> None:
    export = tmp_path / "tarifs.csv"
    export.write_text("sku;group;price\nTSH-ROU-L;Revendeurs;12,50\nTSH-ROU-L;Revendeurs;12,00\n", encoding="utf-8")
    got = prices(price_connector(group_prices=GroupPriceFileSettings(path=str(export))), ["Revendeurs"])
    (issue,) = got["TSH-ROU-L"].issues
    assert issue.field == "group_prices" and "'Revendeurs'" in issue.reason


# -- the connector and its factory ------------------------------------------------------------


class PathResolver:
    def __init__(self, base: Path) -> None:
        self.base = base

    def secret(self, option: str) -> str | None:
        return None

    def path(self, value: str) -> str:
        return str(self.base / value)


def test_factory_builds_one_connector_with_every_capability_and_resolves_paths(tmp_path: Path) -> None:
    options = {
        "path": "articles.csv",
        "stock": {"path": "stock_*.csv"},
        "prices": {"path": "prix.csv", "group_prices": {"path": "tarifs.csv"}},
    }
    connector = build("erp", "files", options, PathResolver(tmp_path))
    assert isinstance(connector, FilesConnector) and connector.platform == "files"
    assert all(isinstance(connector, p) for p in (CatalogueSource, StockSource, PriceSource))
    s = connector.settings
    assert s.path == str(tmp_path / "articles.csv")
    assert s.stock is not None and s.stock.path == str(tmp_path / "stock_*.csv")
    assert s.prices is not None and s.prices.path == str(tmp_path / "prix.csv")
    assert s.prices.group_prices is not None and s.prices.group_prices.path == str(tmp_path / "tarifs.csv")


def test_stock_only_connection_has_no_article_export(tmp_path: Path) -> None:
    connector = build("erp", "files", {"stock": {"path": str(STOCK_CSV)}}, PathResolver(tmp_path))
    assert connector.settings.path is None
    with pytest.raises(Fatal, match=r"no article export configured.*Resolution: set path"):
        list(connector.iter_articles())


# -- helpers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "end_of_day", "expected"),
    [
        ("25/12/2026", False, utc(2026, 12, 24, 23)),
        ("25/12/2026", True, utc(2026, 12, 25, 23)),
        ("5/1/2026", False, utc(2026, 1, 4, 23)),
        ("25.12.2026", False, utc(2026, 12, 24, 23)),
        ("2026-12-25", False, utc(2026, 12, 24, 23)),
        ("2026-12-25", True, utc(2026, 12, 25, 23)),
        ("25/12/2026 08:30", True, utc(2026, 12, 25, 7, 30)),  # a time is an instant, never moved
        ("25/12/2026 08:30:15", False, utc(2026, 12, 25, 7, 30, 15)),
        ("2026-07-14T08:30:00", False, utc(2026, 7, 14, 6, 30)),
        ("2026-07-14 08:30", False, utc(2026, 7, 14, 6, 30)),
        ("2026-07-14T08:30:00Z", False, utc(2026, 7, 14, 8, 30)),
        ("2026-07-14T08:30:00+01:00", False, utc(2026, 7, 14, 7, 30)),
        # End of daylight saving time: 24 October is a 24-hour day in UTC+2, 25 October lasts 25 hours.
        ("24/10/2026", True, utc(2026, 10, 24, 22)),
        ("25/10/2026", False, utc(2026, 10, 24, 22)),
        ("25/10/2026", True, utc(2026, 10, 25, 23)),
        ("25/10/2026 01:59", False, utc(2026, 10, 24, 23, 59)),
        ("25/10/2026 02:30", False, utc(2026, 10, 25, 0, 30)),  # twice that night: the first (summer) one
        ("25/10/2026 03:00", False, utc(2026, 10, 25, 2)),
        # Start of daylight saving time (29 March 2026 02:00 -> 03:00).
        ("29/03/2026", True, utc(2026, 3, 29, 22)),
    ],
)
def test_parse_datetime(text: str, end_of_day: bool, expected: datetime) -> None:
    value = parse_datetime(text, tz=PARIS, end_of_day=end_of_day)
    assert value == expected and value.tzinfo is UTC


@pytest.mark.parametrize("text", ["31/02/2026", "2026-13-01", "demain", "25/12/26", "", "25/12/2026 25:00"])
def test_parse_datetime_refuses_non_dates_naming_the_text(text: str) -> None:
    with pytest.raises(ValueError, match="is not a") as info:
        parse_datetime(text, tz=PARIS)
    assert repr(text) in str(info.value)


def test_export_rows_names_records_like_the_catalogue() -> None:
    rows = list(export_rows(str(STOCK_CSV), ExportFormat(record_tag="Stock"), what="stock"))
    assert [origin for origin, _ in rows][:4] == [
        "stock_sage_cp1252.csv line 2",
        "stock_sage_cp1252.csv line 3",
        "stock_sage_cp1252.csv line 4",
        "stock_sage_cp1252.csv line 6",
    ]
    xml = list(export_rows(str(STOCK_XML), ExportFormat(record_tag="Stock"), what="stock", required=["absent"]))
    assert [origin for origin, _ in xml] == [f"stock_windows1252.xml <Stock> #{n}" for n in (1, 2, 3)]
