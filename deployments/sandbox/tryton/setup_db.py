"""Build the Tryton sandbox database from scratch: modules, company, accounting, VAT, attributes, stock.

Run with the Tryton virtualenv's python (never the project's)::

    python setup_db.py /path/to/passerelle.sqlite [--admin-password-env VAR]

The file name gives the database name (``passerelle.sqlite`` -> ``passerelle``); it is created if
missing. The admin password comes from the environment variable named by ``--admin-password-env``
(default ``TRYTON_ADMIN_PASSWORD``), else "admin": never from the command line, which ``ps`` shows.
The result is what a small French merchant's Tryton looks like; ``deployments.sandbox.tryton``
builds it once, caches it and starts every sandbox from a copy. The setup follows the modules'
own scenario tests (``tests/scenario_*.rst``) and their ``tests/tools.py`` helpers.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

# Asked for by the connector; --activate-dependencies adds what they need (stock_package,
# product_price_list, stock_shipment_cost, account_invoice_stock ...).
MODULES = [
    "company",
    "party",
    "country",
    "currency",
    "product",
    "product_attribute",
    "product_measurements",
    "account",
    "account_product",
    "account_invoice",
    "sale",
    "sale_price_list",
    "sale_advance_payment",
    "sale_promotion",
    "sale_shipment_cost",
    "carrier",
    "stock",
    "stock_package_shipping",
]
COMPANY = "Passerelle Demo SARL"
# French VAT rates: (tax name, rate in percent as the seed's "vat" key writes it).
VAT = [("TVA 20%", "20"), ("TVA 10%", "10"), ("TVA 5,5%", "5.5"), ("TVA 2,1%", "2.1"), ("TVA 0%", "0")]
COLOURS = ["red", "blue", "black", "white", "green", "grey"]
SIZES = ["XS", "S", "M", "L", "XL", "XXL", *[str(n) for n in range(36, 47)]]


def log(message: str, started: float) -> None:
    print(f"[{time.monotonic() - started:6.1f} s] {message}", file=sys.stderr, flush=True)


def activate_modules(db_file: Path, password: str) -> None:
    """``trytond-admin --all -u MODULES --activate-dependencies`` in this process (one pass)."""
    from trytond import commandline

    with tempfile.TemporaryDirectory() as tmp:
        passfile = Path(tmp) / "pass"
        passfile.write_text(password + "\n", encoding="utf-8")
        os.environ["TRYTONPASSFILE"] = str(passfile)
        options = commandline.get_parser_admin().parse_args(
            ["-d", db_file.stem, "--all", "-u", *MODULES, "--activate-dependencies", "--email", "admin@example.invalid"]
        )
        options.indexes = True
        from trytond import admin

        admin.run(options)
        del os.environ["TRYTONPASSFILE"]


def setup_company(database: str) -> dict[str, Any]:
    """Company, chart of accounts, two fiscal years, payment term, VAT taxes and their categories."""
    from proteus import Model, config
    from trytond.modules.account.tests.tools import create_chart, create_fiscalyear, get_accounts
    from trytond.modules.account_invoice.tests.tools import create_payment_term, set_fiscalyear_invoice_sequences
    from trytond.modules.company.tests.tools import create_company, get_company
    from trytond.modules.currency.tests.tools import get_currency

    config.set_trytond(database)
    Country = Model.get("country.country")
    Party = Model.get("party.party")
    france = Country(name="France", code="FR", code3="FRA", code_numeric="250")
    france.save()
    eur = get_currency("EUR")
    party = Party(name=COMPANY)
    address = party.addresses[0] if party.addresses else party.addresses.new()
    address.street_unstructured = "1 rue de la Paix"
    address.postal_code = "75002"
    address.city = "Paris"
    address.country = france
    party.save()
    create_company(party=party, currency=eur)
    company = get_company()
    company.timezone = "Europe/Paris"
    company.save()
    create_chart(company)
    accounts = get_accounts(company)

    today = datetime.date.today()
    for year in (today.year, today.year + 1):
        fiscalyear = create_fiscalyear(company, (datetime.date(year, 1, 1), datetime.date(year, 12, 31)))
        fiscalyear.name = str(year)
        set_fiscalyear_invoice_sequences(fiscalyear)
        fiscalyear.save()
        fiscalyear.click("create_period")
    # Tryton 8.2 ships "Upon Receipt", "Net 30 days"...; the helper's "Direct" (one remainder
    # line) becomes the customers' default, so sales created over RPC get a payment term.
    payment_term = create_payment_term()
    payment_term.save()
    AccountConfiguration = Model.get("account.configuration")
    account_configuration = AccountConfiguration(1)
    account_configuration.default_customer_payment_term = payment_term
    account_configuration.save()

    Tax = Model.get("account.tax")
    Category = Model.get("product.category")
    categories = {}
    for name, rate in VAT:
        tax = Tax(
            name=name,
            description=name,
            type="percentage",
            rate=Decimal(rate) / 100,
            invoice_account=accounts["tax"],
            credit_note_account=accounts["tax"],
        )
        tax.save()
        category = Category(name=f"Accounting VAT {rate}%", accounting=True)
        category.account_revenue = accounts["revenue"]
        category.account_expense = accounts["expense"]
        category.customer_taxes.append(Tax(tax.id))
        category.save()
        categories[rate] = category
    return {"company": company, "accounts": accounts, "categories": categories, "france": france}


def setup_attributes() -> None:
    """Attribute sets: "Apparel" (colour, size: selections) and "Generic" (material: free text)."""
    from proteus import Model

    Attribute = Model.get("product.attribute")
    AttributeSet = Model.get("product.attribute.set")
    colour = Attribute(
        name="colour", string="Colour", type_="selection", selection="\n".join(f"{c}:{c.capitalize()}" for c in COLOURS)
    )
    colour.save()
    size = Attribute(
        name="size",
        string="Size",
        type_="selection",
        selection="\n".join(f"{s}:{s}" for s in SIZES),
        selection_sorted=False,
    )
    size.save()
    material = Attribute(name="material", string="Material", type_="char")
    material.save()
    apparel = AttributeSet(name="Apparel")
    apparel.attributes.extend([Attribute(colour.id), Attribute(size.id)])
    apparel.save()
    generic = AttributeSet(name="Generic")
    generic.attributes.append(Attribute(material.id))
    generic.save()


def setup_stock(setup: dict[str, Any]) -> None:
    """Warehouse "WH" (module data, the admin's default) and a second one, "STORE", with its own zones."""
    from proteus import Model

    Location = Model.get("stock.location")
    User = Model.get("res.user")
    (wh,) = Location.find([("code", "=", "WH"), ("type", "=", "warehouse")])
    zones = {}
    for code, name in [("IN", "Input Zone"), ("OUT", "Output Zone"), ("STO", "Storage Zone")]:
        zone = Location(name=f"Store {name}", code=f"STORE-{code}", type="storage")
        zone.save()
        zones[code] = zone
    lost = Location(name="Store Lost and Found", type="lost_found")
    lost.save()
    store = Location(
        name="Store",
        code="STORE",
        type="warehouse",
        input_location=zones["IN"],
        output_location=zones["OUT"],
        storage_location=zones["STO"],
        lost_found_location=lost,
    )
    store.save()
    # With two warehouses Tryton has no default any more: the user's "current warehouse" goes
    # into the context (get_preferences) and sales default to it.
    (admin,) = User.find([("login", "=", "admin")])
    admin.warehouse = wh
    admin.save()


def setup_sales(setup: dict[str, Any]) -> None:
    """Advance payment term, payment method, wholesale price list and the Colissimo carrier."""
    from proteus import Model
    from trytond.modules.sale_advance_payment.tests.tools import (
        add_advance_payment_accounts,
        create_advance_payment_term,
    )

    company, accounts = setup["company"], setup["accounts"]
    accounts = add_advance_payment_accounts(accounts, company)
    # 100 % of the order (taxes included) is invoiced as a deposit when the sale is processed
    # ("1.0 *": the term checks its formula with total_amount=0 and wants a Decimal back);
    # the shipment cannot be packed before that deposit invoice is paid.
    create_advance_payment_term(
        "Web order paid", "1.0 * total_amount", accounts["advance_payment"], block_shipping=True, delay=0
    ).save()

    Journal = Model.get("account.journal")
    PaymentMethod = Model.get("account.invoice.payment.method")
    (cash_journal,) = Journal.find([("type", "=", "cash")])
    PaymentMethod(
        name="Card (web)", journal=cash_journal, credit_account=accounts["cash"], debit_account=accounts["cash"]
    ).save()

    PriceList = Model.get("product.price_list")
    wholesale = PriceList(name="Wholesale", price="list_price", unit="product_default")
    wholesale.lines.new(formula="unit_price * 0.9")
    wholesale.save()

    Party = Model.get("party.party")
    Uom = Model.get("product.uom")
    Template = Model.get("product.template")
    Carrier = Model.get("carrier")
    (unit,) = Uom.find([("name", "=", "Unit")])
    service = Template(
        name="Colissimo shipping",
        code="SHIP-COLISSIMO",
        type="service",
        default_uom=unit,
        salable=True,
        list_price=Decimal("4.90"),
        account_category=setup["categories"]["20"],
    )
    service.save()
    (service_product,) = service.products
    service_product.cost_price = Decimal("3.50")
    service_product.save()
    la_poste = Party(name="La Poste Colissimo")
    la_poste.save()
    Carrier(party=la_poste, carrier_product=service_product, carrier_cost_method="product").save()

    # Service lines of imported web orders (connectors/erp/tryton/orders.py): the order-level
    # discounts (the connector sets their taxes per VAT rate of the discounted lines) and the
    # rounding adjustment between the shop's total and Tryton's (VAT 0 %: the line's amount is
    # the difference itself).
    for code, name, vat in [("WEB-DISCOUNT", "Web discount", "20"), ("WEB-ADJUST", "Rounding adjustment", "0")]:
        Template(
            name=name,
            code=code,
            type="service",
            default_uom=unit,
            salable=True,
            list_price=Decimal(0),
            account_category=setup["categories"][vat],
        ).save()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db_file", type=Path, help="SQLite file to create, e.g. /tmp/x/passerelle.sqlite")
    parser.add_argument("--admin-password-env", default="TRYTON_ADMIN_PASSWORD")
    args = parser.parse_args(argv)
    db_file: Path = args.db_file.resolve()
    if db_file.suffix != ".sqlite":
        parser.error("the database file must end in .sqlite (Tryton's SQLite backend names it so)")
    db_file.parent.mkdir(parents=True, exist_ok=True)
    if db_file.exists() and db_file.stat().st_size:
        parser.error(f"{db_file} exists: this script builds from scratch")
    db_file.touch()  # Tryton's SQLite backend only opens existing files.
    # Configure trytond through its environment before it is imported.
    os.environ["TRYTOND_DATABASE__URI"] = "sqlite://"
    os.environ["TRYTOND_DATABASE__PATH"] = str(db_file.parent)
    os.environ.pop("TRYTOND_CONFIG", None)
    started = time.monotonic()
    activate_modules(db_file, os.environ.get(args.admin_password_env) or "admin")
    log("modules activated", started)
    setup = setup_company(db_file.stem)
    log("company, accounting and VAT ready", started)
    setup_attributes()
    setup_stock(setup)
    setup_sales(setup)
    log("attributes, warehouses, advance payment term, price list and carrier ready", started)


if __name__ == "__main__":
    main()
