"""Build the sandbox's Tryton database: modules, company, accounting, taxes, attributes.

Run with the Tryton virtualenv's python:  python setup_db.py CONFIG_FILE DATABASE
(``TRYTONPASSFILE`` holds the admin password). The result is cached and copied by
``deployments.sandbox.tryton``; it is what a French small merchant's Tryton looks like.
"""

from __future__ import annotations

import datetime
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

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
    "sale_shipment_cost",
    "carrier",
    "stock",
    "stock_package_shipping",
]
VAT = [("TVA 20%", "20"), ("TVA 10%", "10"), ("TVA 5,5%", "5.5"), ("TVA 2,1%", "2.1"), ("TVA 0%", "0")]
COLOURS = ["red", "blue", "black", "white", "green", "grey"]
SIZES = ["XS", "S", "M", "L", "XL", "XXL", *[str(n) for n in range(36, 47)]]


def main(config_file: str, database: str) -> None:
    admin = [str(Path(sys.executable).with_name("trytond-admin"))]
    subprocess.run([*admin, "-c", config_file, "-d", database, "--all", "--email", "admin@example.invalid"], check=True)
    subprocess.run([*admin, "-c", config_file, "-d", database, "-u", *MODULES, "--activate-dependencies"], check=True)

    from proteus import Model, Wizard, config

    config.set_trytond(database, config_file=config_file)
    from trytond.modules.account.tests.tools import create_chart, create_fiscalyear, get_accounts
    from trytond.modules.account_invoice.tests.tools import create_payment_term, set_fiscalyear_invoice_sequences
    from trytond.modules.company.tests.tools import create_company, get_company

    Currency = Model.get("currency.currency")
    eur = Currency.find([("code", "=", "EUR")])
    if not eur:
        eur = [Currency(name="Euro", code="EUR", symbol="€", rounding=Decimal("0.01"), digits=2)]
        eur[0].save()
    Party = Model.get("party.party")
    Country = Model.get("country.country")
    france = Country(name="France", code="FR", code3="FRA", code_numeric="250")
    france.save()
    company_party = Party(name="Passerelle Demo SARL")
    address = company_party.addresses[0] if company_party.addresses else company_party.addresses.new()
    address.country = france
    company_party.save()
    create_company(party=company_party, currency=eur[0])
    company = get_company()
    create_chart(company)
    accounts = get_accounts(company)
    today = datetime.date.today()
    for year in (today.year, today.year + 1):
        fiscalyear = set_fiscalyear_invoice_sequences(
            create_fiscalyear(company, (datetime.date(year, 1, 1), datetime.date(year, 12, 31)))
        )
        fiscalyear.click("create_period")
    create_payment_term().save()

    Tax = Model.get("account.tax")
    Category = Model.get("product.category")
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

    Attribute = Model.get("product.attribute")
    AttributeSet = Model.get("product.attribute.set")
    colour = Attribute(
        name="colour", string="Colour", type_="selection", selection="\n".join(f"{c}:{c.capitalize()}" for c in COLOURS)
    )
    colour.save()
    size = Attribute(name="size", string="Size", type_="selection", selection="\n".join(f"{s}:{s}" for s in SIZES))
    size.save()
    material = Attribute(name="material", string="Material", type_="char")
    material.save()
    apparel = AttributeSet(name="Apparel")
    apparel.attributes.extend([Attribute(colour.id), Attribute(size.id)])
    apparel.save()
    generic = AttributeSet(name="Generic")
    generic.attributes.append(Attribute(material.id))
    generic.save()

    # Advance payment term for paid web orders (the deposit invoice the final invoice deducts).
    from trytond.modules.sale_advance_payment.tests.tools import (
        add_advance_payment_accounts,
        create_advance_payment_term,
    )

    accounts = add_advance_payment_accounts(accounts, company)
    create_advance_payment_term(
        "Web order paid", "1.0 * total_amount", accounts["advance_payment"], block_shipping=True, delay=0
    ).save()
    Journal = Model.get("account.journal")
    PaymentMethod = Model.get("account.invoice.payment.method")
    (cash_journal,) = Journal.find([("type", "=", "cash")])
    PaymentMethod(
        name="Card (web)", journal=cash_journal, credit_account=accounts["cash"], debit_account=accounts["cash"]
    ).save()
    _ = Wizard  # kept importable for later setup steps


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
