"""GesCom export files: encodings, decimal commas, French headers, XML, globs, parse issues.

The exports in ``tests/fixtures/exports`` are real bytes (cp1252, UTF-8 with BOM, windows-1252
XML); see the README there.
"""

from __future__ import annotations

import shutil
from decimal import Decimal as D
from pathlib import Path

import pytest

from connectors.erp.files import FilesCatalogue, FilesSettings
from connectors.erp.files.catalogue import ArticleColumns
from connectors.erp.files.reader import decode, read_csv, read_xml
from connectors.erp.files.values import parse_bool, parse_decimal
from connectors.errors import Fatal
from connectors.models import Article

EXPORTS = Path(__file__).parent.parent / "fixtures" / "exports"
CP1252_CSV = EXPORTS / "articles_sage_cp1252.csv"
BOM_CSV = EXPORTS / "articles_ebp_utf8bom.csv"
XML = EXPORTS / "articles_windows1252.xml"

FRENCH_COLUMNS = ArticleColumns(
    sku="Référence",
    name="Désignation",
    description="Description",
    price="Prix de vente HT",
    vat_rate="Taux TVA",
    ean="Code EAN",
    weight="Poids (kg)",
    group_key="Modèle",
    active="Actif",
)


def csv_settings(path: Path | str, **overrides: object) -> FilesSettings:
    options: dict[str, object] = {
        "path": str(path),
        "columns": FRENCH_COLUMNS,
        "attributes": {"colour": "Couleur", "size": "Taille"},
        "extra": {"famille": "Famille"},
    }
    options.update(overrides)
    return FilesSettings.model_validate(options)


def read(settings: FilesSettings) -> list[Article]:
    return list(FilesCatalogue(settings).iter_articles())


# -- the fixture bytes are what they claim to be ------------------------------------------------


def test_fixtures_are_really_cp1252_and_utf8_with_bom() -> None:
    raw = CP1252_CSV.read_bytes()
    assert b"\x80" in raw  # the euro sign, cp1252 only
    assert "é".encode("cp1252") in raw and b"\xa0" in raw  # single-byte é and the no-break space
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert BOM_CSV.read_bytes().startswith(b"\xef\xbb\xbf")
    assert "\u202f".encode() in BOM_CSV.read_bytes()


# -- decoding ----------------------------------------------------------------------------------


def test_decode_auto_detects_cp1252_and_utf8_bom() -> None:
    cp1252 = decode(CP1252_CSV.read_bytes())
    utf8 = decode(BOM_CSV.read_bytes())
    assert cp1252.startswith("Référence;Désignation") and utf8.startswith("Référence;Désignation")
    assert "\ufeff" not in utf8
    assert "édition €uro" in cp1252 and "édition €uro" in utf8
    assert decode("Crème".encode()) == "Crème"  # plain UTF-8 without BOM
    assert decode(CP1252_CSV.read_bytes(), "cp1252") == cp1252


# -- CSV exports ---------------------------------------------------------------------------------


@pytest.mark.parametrize("export", [CP1252_CSV, BOM_CSV], ids=["cp1252", "utf8-bom"])
def test_csv_export_with_french_headers(export: Path) -> None:
    articles = read(csv_settings(export))
    # The blank line (3) and the row of empty cells (5) are not articles.
    assert [a.sku for a in articles] == ["TSH-ROU-M", "TSH-ROU-L", "CAF-001", "BOL-002", None]

    tee = articles[0]
    assert tee.key == "TSH-ROU-M"
    assert tee.name == "Tee-shirt été Rouge M"
    assert tee.description == "Coton bio tissé à Lyon"
    assert tee.price == D("1234.50")  # "1 234,50" with a (narrow) no-break space
    assert tee.vat_rate == D("20")  # "20 %"
    assert tee.ean == "3760123456784"
    assert tee.weight == D("0.180")
    assert tee.group_key == "TSH"
    assert tee.attributes == {"colour": "Rouge", "size": "M"}
    assert tee.fields == {"famille": "Vêtements/Tee-shirts"}
    assert tee.currency == "EUR" and tee.active is True and tee.issues == []

    assert articles[1].description is None and articles[1].ean is None  # empty cells are None
    assert articles[1].price == D("19.90")

    cafe = articles[2]
    assert cafe.name == "Café crème « Prestige » 250 g"
    assert cafe.vat_rate == D("5.5") and cafe.fields["famille"] == "Épicerie fine|Promotions"

    bowl = articles[3]
    assert bowl.name == "Bol en grès 50 cl — édition €uro"
    assert bowl.price == D("1299.00")  # "1.299,00": dot as thousands separator
    assert bowl.vat_rate == D("20.00")
    assert bowl.active is False  # "Non"


@pytest.mark.parametrize("export", [CP1252_CSV, BOM_CSV], ids=["cp1252", "utf8-bom"])
def test_bad_numbers_become_issues_naming_record_field_and_line(export: Path) -> None:
    articles = read(csv_settings(export))
    cafe = articles[2]
    assert cafe.price is None
    (issue,) = cafe.issues
    assert (issue.key, issue.field, issue.check) == ("CAF-001", "price", "parse")
    assert "'Prix de vente HT'" in issue.reason
    assert f"{export.name} line 6" in issue.reason
    assert "'abc'" in issue.reason

    # No reference: the record is named by its file and line so the operator can find it.
    anonymous = articles[4]
    assert anonymous.key == f"{export.name} line 8"
    (issue,) = anonymous.issues
    assert (issue.key, issue.field) == (f"{export.name} line 8", "vat_rate")
    assert "'Taux TVA'" in issue.reason and "'vingt'" in issue.reason
    assert anonymous.price == D("5.00")

    assert all(a.issues == [] for a in (articles[0], articles[1], articles[3]))


def test_bad_yes_no_value_is_an_issue(tmp_path: Path) -> None:
    export = tmp_path / "a.csv"
    export.write_text("sku;name;price;actif\nA1;Bol;3,00;peut-être\n", encoding="utf-8")
    (article,) = read(FilesSettings(path=str(export), columns=ArticleColumns(active="actif")))
    (issue,) = article.issues
    assert (issue.key, issue.field) == ("A1", "active")
    assert "'actif'" in issue.reason and "a.csv line 2" in issue.reason and "peut-être" in issue.reason


def test_default_columns_key_column_and_currency(tmp_path: Path) -> None:
    export = tmp_path / "a.csv"
    export.write_text(
        "code;sku;name;price;vat_rate;devise\n17;A1;Bol;3,00;5,5;chf\n18;A2;Tasse;2,50;20;\n", encoding="utf-8"
    )
    settings = FilesSettings(path=str(export), columns=ArticleColumns(key="code", currency="devise"))
    first, second = read(settings)
    assert (first.key, first.sku, first.price, first.vat_rate, first.currency) == (
        "17",
        "A1",
        D("3.00"),
        D("5.5"),
        "CHF",
    )
    assert (second.key, second.currency) == ("18", "EUR")


def test_comma_separated_export_with_decimal_point(tmp_path: Path) -> None:
    export = tmp_path / "a.txt"
    export.write_text('sku,name,price\nA1,"Bol, grand","1,234.50"\n', encoding="utf-8")
    (article,) = read(FilesSettings(path=str(export), delimiter=",", decimal_separator="."))
    assert (article.name, article.price) == ("Bol, grand", D("1234.50"))


def test_read_csv_line_numbers_count_blank_lines(tmp_path: Path) -> None:
    export = tmp_path / "a.csv"
    export.write_bytes(b" sku ; name \n\nA1; Bol \n;\nA2;Tasse\n")
    assert list(read_csv(export)) == [(3, {"sku": "A1", "name": "Bol"}), (5, {"sku": "A2", "name": "Tasse"})]


# -- XML exports -------------------------------------------------------------------------------


def xml_settings(path: Path | str) -> FilesSettings:
    return FilesSettings(
        path=str(path),
        record_tag="Article",
        columns=ArticleColumns(
            sku="@reference",
            name="Designation",
            price="PrixHT",
            vat_rate="TVA",
            ean="EAN",
            weight="Poids",
            images="Image",
            active="@actif",
            description=None,
            group_key=None,
        ),
        extra={"famille": "Famille"},
    )


def test_xml_export_with_attributes_children_and_repeated_images() -> None:
    mug, black = read(xml_settings(XML))
    assert mug.sku == "MUG-01" and mug.key == "MUG-01"
    assert mug.name == "Mug « Été » 35 cl"  # windows-1252 declared in the XML prolog
    assert (mug.price, mug.vat_rate, mug.weight, mug.ean) == (D("8.50"), D("20"), D("0.350"), "4006381333931")
    assert mug.images == ("mug-face.jpg", "mug-dos.jpg")
    assert mug.fields == {"famille": "Cuisine/Mugs"}
    assert mug.active is True and mug.issues == []

    assert black.active is False and black.vat_rate == D("5.5") and black.images == ()
    (issue,) = black.issues
    assert (issue.key, issue.field) == ("MUG-02", "price")
    assert "'PrixHT'" in issue.reason and "<Article> #2" in issue.reason and "'huit'" in issue.reason


def test_read_xml_values_and_namespaces(tmp_path: Path) -> None:
    export = tmp_path / "ns.xml"
    export.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<g:Export xmlns:g="urn:gescom"><g:Article g:code="A1"><g:Nom> Thé </g:Nom>'
        "<g:Image>1.jpg</g:Image><g:Image>2.jpg</g:Image><g:Image>3.jpg</g:Image></g:Article>"
        '<g:Article g:code="A2"><g:Nom>Café</g:Nom></g:Article></g:Export>',
        encoding="utf-8",
    )
    assert list(read_xml(export, record_tag="Article")) == [
        (1, {"@code": "A1", "Nom": "Thé", "Image": "1.jpg|2.jpg|3.jpg"}),
        (2, {"@code": "A2", "Nom": "Café"}),
    ]


def test_xml_with_an_explicit_encoding() -> None:
    settings = xml_settings(XML)
    settings.encoding = "cp1252"
    assert [a.name for a in read(settings)] == ["Mug « Été » 35 cl", "Mug noir"]


# -- file selection ------------------------------------------------------------------------------


def test_glob_reads_every_match_in_name_order(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    shutil.copy(BOM_CSV, folder / "articles_2.csv")
    shutil.copy(CP1252_CSV, folder / "articles_1.csv")
    (folder / "clients_1.csv").write_text("sku;name\nNOT-AN-ARTICLE;x\n", encoding="utf-8")
    catalogue = FilesCatalogue(csv_settings(folder / "articles_*.csv"))
    assert [f.name for f in catalogue.files()] == ["articles_1.csv", "articles_2.csv"]
    articles = list(catalogue.iter_articles())
    assert len(articles) == 10 and "NOT-AN-ARTICLE" not in {a.sku for a in articles}
    assert articles[4].key == "articles_1.csv line 8" and articles[9].key == "articles_2.csv line 8"


def test_missing_export_is_fatal_with_resolution(tmp_path: Path) -> None:
    pattern = str(tmp_path / "articles_*.csv")
    with pytest.raises(Fatal) as info:
        read(FilesSettings(path=pattern))
    assert pattern in str(info.value) and "Resolution:" in str(info.value)


def test_unknown_format_is_fatal(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("[]", encoding="utf-8")
    with pytest.raises(Fatal, match="unknown export format 'json'.*Resolution:"):
        read(FilesSettings(path=str(tmp_path / "a.json")))


def test_settings_refuse_unknown_keys() -> None:
    with pytest.raises(ValueError, match="colums"):
        FilesSettings.model_validate({"path": "a.csv", "colums": {}})


# -- values ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "options", "expected"),
    [
        ("19,90", {}, D("19.90")),
        ("1\u00a0234,50", {}, D("1234.50")),
        ("1\u202f234,50", {}, D("1234.50")),
        ("1 234,50", {}, D("1234.50")),
        ("1.234,50", {}, D("1234.50")),
        ("-3,2", {}, D("-3.2")),
        ("  12  ", {}, D("12")),
        ("20 %", {"percent": True}, D("20")),
        ("5,5%", {"percent": True}, D("5.5")),
        ("1,234.50", {"decimal_separator": "."}, D("1234.50")),
    ],
)
def test_parse_decimal(text: str, options: dict[str, object], expected: D) -> None:
    value = parse_decimal(text, **options)  # type: ignore[arg-type]
    assert value == expected and str(value) == str(expected)


@pytest.mark.parametrize("text", ["abc", "", "1,2,3", "NaN", "Infinity", "20 %", "12 €"])
def test_parse_decimal_refuses_non_numbers_naming_the_text(text: str) -> None:
    with pytest.raises(ValueError, match="is not a number") as info:
        parse_decimal(text)
    assert repr(text) in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Oui", True), ("o", True), ("X", True), ("1", True), ("actif", True), ("Non", False), ("0", False), ("", False)],
)
def test_parse_bool(text: str, expected: bool) -> None:
    assert parse_bool(text) is expected


def test_parse_bool_refuses_other_words() -> None:
    with pytest.raises(ValueError, match="'peut-être'"):
        parse_bool("peut-être")
