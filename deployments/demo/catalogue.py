"""The demo catalogue: a small fashion and home shop, deterministic, with a few bad rows.

Shaped as the Tryton sandbox seed format (templates with their products). Variant families
(colour x size) become products with variants; single articles become simple products; the
rows listed in ``BAD_ROWS`` are wrong on purpose so the quality gate has something to refuse.
"""

from __future__ import annotations

from typing import Any

from tasks.quality import ean13_check_digit

__all__ = ["BAD_ROWS", "demo_catalogue", "ean13"]

COLOURS = ["black", "white", "blue", "red", "green", "grey"]
SIZES = ["XS", "S", "M", "L", "XL", "XXL"]

FAMILIES = [
    # code, name, category, price, colours, sizes, material
    ("TSH-ORG", "Organic cotton T-shirt", "Clothing/T-shirts", "19.90", 3, 5, "cotton"),
    ("TSH-VNK", "V-neck T-shirt", "Clothing/T-shirts", "17.50", 3, 5, "cotton"),
    ("TSH-LSL", "Long-sleeve T-shirt", "Clothing/T-shirts", "24.90", 2, 5, "cotton"),
    ("POL-PIQ", "Piqué polo shirt", "Clothing/Polo shirts", "39.00", 3, 5, "cotton"),
    ("SWT-HOO", "Hooded sweatshirt", "Clothing/Sweatshirts", "54.90", 3, 5, "fleece"),
    ("SWT-CRW", "Crew-neck sweatshirt", "Clothing/Sweatshirts", "49.90", 2, 5, "fleece"),
    ("JKT-RAI", "Rain jacket", "Clothing/Jackets", "89.00", 2, 5, "polyester"),
    ("PNT-CHI", "Chino trousers", "Clothing/Trousers", "59.00", 3, 4, "cotton"),
    ("SHR-LIN", "Linen shirt", "Clothing/Shirts", "64.00", 2, 5, "linen"),
    ("DRS-SUM", "Summer dress", "Clothing/Dresses", "69.00", 2, 4, "viscose"),
    ("SCK-MER", "Merino socks", "Clothing/Socks", "14.90", 3, 3, "merino"),
    ("CRD-KNT", "Knitted cardigan", "Clothing/Knitwear", "74.00", 3, 5, "wool"),
    ("SKR-PLE", "Pleated skirt", "Clothing/Skirts", "49.00", 2, 4, "viscose"),
]
SHOES = [
    ("SNK-CLS", "Classic sneakers", "Shoes/Sneakers", "79.00", 3),
    ("BOT-LEA", "Leather boots", "Shoes/Boots", "129.00", 2),
]
SIMPLE = [
    # code, name, category, price, vat
    ("MUG-ENA", "Enamel mug", "Home/Kitchen", "12.00", "20"),
    ("MUG-CER", "Ceramic mug", "Home/Kitchen", "9.50", "20"),
    ("TEA-TWL", "Linen tea towel", "Home/Kitchen", "11.00", "20"),
    ("CND-FIG", "Fig scented candle", "Home/Decoration", "24.00", "20"),
    ("CUS-VEL", "Velvet cushion", "Home/Decoration", "35.00", "20"),
    ("BAG-TOT", "Canvas tote bag", "Accessories/Bags", "19.00", "20"),
    ("BAG-BKP", "City backpack", "Accessories/Bags", "79.00", "20"),
    ("CAP-BSB", "Baseball cap", "Accessories/Hats", "25.00", "20"),
    ("BNE-WOL", "Wool beanie", "Accessories/Hats", "22.00", "20"),
    ("UMB-FLD", "Folding umbrella", "Accessories/Umbrellas", "29.00", "20"),
    ("BK-SEW", "Sewing for beginners (book)", "Books/Crafts", "24.90", "5.5"),
    ("BK-DYE", "Natural dyes (book)", "Books/Crafts", "29.90", "5.5"),
    ("BK-KNT", "Knitting patterns (book)", "Books/Crafts", "19.90", "5.5"),
    ("CHO-DRK", "Dark chocolate bar", "Grocery/Chocolate", "4.50", "5.5"),
    ("CHO-MLK", "Milk chocolate bar", "Grocery/Chocolate", "4.20", "5.5"),
    ("TEA-GRN", "Green tea 100 g", "Grocery/Tea", "8.90", "5.5"),
    ("TEA-BLK", "Black tea 100 g", "Grocery/Tea", "7.90", "5.5"),
    ("MAG-STY", "Style magazine", "Press/Magazines", "6.90", "2.1"),
    ("MAG-HOM", "Home magazine", "Press/Magazines", "5.90", "2.1"),
    ("GFT-CRD", "Gift card holder", "Accessories/Gifts", "3.00", "20"),
]

# Deliberately bad rows: (SKU, what is wrong). The quality gate must refuse each, the rest goes on.
BAD_ROWS = {
    "TSH-ORG-RED-XL": "EAN with a wrong check digit",
    "GFT-BOX": "no VAT (its template has no accounting category)",
    "CND-NEG": "negative price",
    "SWT-HOO-GRN": "variant without a size",
    "PNT-CHI-BLUE-M2": "same colour and size as another variant of its family",
}


def ean13(n: int) -> str:
    """A valid EAN-13 in the 379 (France) range, from a counter."""
    first12 = f"379{n:09d}"
    return first12 + str(ean13_check_digit(first12))


def demo_catalogue() -> dict[str, Any]:
    """The seed: 217 articles in 37 templates, a handful of them bad on purpose."""
    templates: list[dict[str, Any]] = []
    counter = 1000
    for code, name, category, price, n_colours, n_sizes, material in FAMILIES:
        products = []
        for colour in COLOURS[:n_colours]:
            for size in SIZES[1 : 1 + n_sizes]:
                counter += 1
                products.append(
                    {
                        "suffix_code": f"-{colour.upper()}-{size}",
                        "attributes": {"colour": colour, "size": size},
                        "ean": ean13(counter),
                        "cost_price": str(round(float(price) * 0.4, 2)),  # demo data only, not money handling
                        "active": True,
                    }
                )
        templates.append(
            {
                "code": code,
                "name": name,
                "description": f"{name} in {material}.",
                "list_price": price,
                "vat": "20",
                "categories": [category],
                "attribute_set": "Apparel",
                "weight": "0.300",
                "weight_uom": "kg",
                "active": True,
                "products": products,
            }
        )
    for code, name, category, price, n_colours in SHOES:
        products = []
        for colour in COLOURS[:n_colours]:
            for size in range(38, 46):
                counter += 1
                products.append(
                    {
                        "suffix_code": f"-{colour.upper()}-{size}",
                        "attributes": {"colour": colour, "size": str(size)},
                        "ean": ean13(counter),
                        "cost_price": str(round(float(price) * 0.4, 2)),
                        "active": True,
                    }
                )
        templates.append(
            {
                "code": code,
                "name": name,
                "description": f"{name}.",
                "list_price": price,
                "vat": "20",
                "categories": [category],
                "attribute_set": "Apparel",
                "weight": "1.100",
                "weight_uom": "kg",
                "active": True,
                "products": products,
            }
        )
    for code, name, category, price, vat in SIMPLE:
        counter += 1
        templates.append(
            {
                "code": code,
                "name": name,
                "description": f"{name}.",
                "list_price": price,
                "vat": vat,
                "categories": [category],
                "attribute_set": None,
                "weight": "0.400",
                "weight_uom": "kg",
                "active": True,
                "products": [{"suffix_code": "", "attributes": {}, "ean": ean13(counter), "active": True}],
            }
        )
    _add_bad_rows(templates)
    return {"templates": templates}


def _add_bad_rows(templates: list[dict[str, Any]]) -> None:
    by_code = {t["code"]: t for t in templates}
    # A wrong check digit on one T-shirt. Tryton validates identifiers typed "ean", so the bad
    # barcode sits in an untyped identifier, as legacy imports leave them.
    tsh = by_code["TSH-ORG"]
    tsh["products"].append(
        {
            "suffix_code": "-RED-XL",
            "attributes": {"colour": "red", "size": "XL"},
            "ean": "3790000099990",
            "identifier_type": None,
            "active": True,
        }
    )
    # An article whose template has no accounting category, hence no VAT rate. (Tryton itself
    # refuses a duplicate product code, so duplicate SKUs are shown with an export file instead.)
    templates.append(
        {
            "code": "GFT-BOX",
            "name": "Gift box",
            "description": None,
            "list_price": "5.00",
            "vat": None,
            "categories": ["Accessories/Gifts"],
            "attribute_set": None,
            "weight": "0.200",
            "weight_uom": "kg",
            "active": True,
            "products": [{"suffix_code": "", "attributes": {}, "active": True}],
        }
    )
    # A negative price.
    templates.append(
        {
            "code": "CND-NEG",
            "name": "Candle refill",
            "description": None,
            "list_price": "-4.00",
            "vat": "20",
            "categories": ["Home/Decoration"],
            "attribute_set": None,
            "weight": "0.100",
            "weight_uom": "kg",
            "active": True,
            "products": [{"suffix_code": "", "attributes": {}, "active": True}],
        }
    )
    # A variant without a size.
    by_code["SWT-HOO"]["products"].append({"suffix_code": "-GRN", "attributes": {"colour": "green"}, "active": True})
    # Two variants with the same options.
    by_code["PNT-CHI"]["products"].append(
        {"suffix_code": "-BLUE-M2", "attributes": {"colour": "blue", "size": "M"}, "active": True}
    )
