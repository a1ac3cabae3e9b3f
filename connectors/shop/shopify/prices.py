"""Shopify as a price sink: ``productVariantsBulkUpdate`` per product, and customer-group prices on
Shopify Plus B2B price lists.

Shopify has no dated price (``ProductVariant`` has ``price`` and ``compareAtPrice`` only): like
Vendure, :attr:`price_capabilities` declares ``promotion_dates=False``, so the flow sends the price
in force at run time and sends the change again when a promotion starts or ends. While a
promotion is in force (the price sent is below the regular one) ``compareAtPrice`` is the regular
price (the storefront shows it struck through); otherwise it is cleared (``null``).

Amounts arrive tax-excluded (``PriceWrite``) and are sent in the shop's basis
(``shop.taxesIncluded``, read once): with their VAT on a shop whose prices include taxes. The sink
first reads the variants (``nodes``: current prices and product id, one query per 250 ids), sends
only what differs, grouped by product with ``allowPartialUpdates: true``, and takes a variant's
``userErrors`` (``field: ["variants", "<index>", ...]``) as that variant's RecordError.

Customer-group prices (``group_prices=True`` only with ``price_lists`` set): each mapped group is
one B2B price list (read once with ``priceLists``; a mapped list the shop does not have is a
Fatal). A group's price from quantity 1 is the variant's fixed price on that list
(``priceListFixedPricesAdd``, 250 a call); its prices from a larger quantity are quantity price
breaks (``quantityPricingByVariantUpdate``, one call per variant). Shopify hangs breaks on a fixed
price (schema: ``QUANTITY_PRICE_BREAK_ADD_PRICE_LIST_PRICE_NOT_FOUND``), so a group with breaks and
no price from 1 gets the variant's price in force as its fixed price: below the first break the
group pays what everyone pays, as the ERP computes it. A mapped list belongs to passerelle: for the
variants written, a fixed price or break the write no longer carries is deleted (breaks first,
then the fixed price). Group prices go in the same tax basis as the base price (the shop's
``taxesIncluded``: Shopify documents no other basis for price lists, docs/shopify.md).

The lists' fixed prices of the batch's variants are read before writing (``originType: FIXED``,
``variant_id`` search terms): the flow only sends writes that changed since the last accepted ones,
but deleting a break needs its id, and a run cut off after a mutation (mutations are never
retried) is reconciled by reading, so only differences are sent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connectors.base import BatchResult, PriceCapabilities, PriceWrite
from connectors.errors import Fatal, RecordError
from connectors.models import ShopPrice, currency_quantum, shop_price
from connectors.shop.shopify.base import ShopifyBase
from connectors.shop.shopify.client import GraphQLRefused
from connectors.shop.shopify.mapper import MappingError, money

__all__ = [
    "BULK_UPDATE",
    "FIXED_PRICES_ADD",
    "FIXED_PRICES_DELETE",
    "QUANTITY_PRICING",
    "READ_LIST_PRICES",
    "READ_PRICES",
    "READ_PRICE_LISTS",
    "SHOP_PRICES",
    "ShopifyPrices",
]

SHOP_PRICES = "query PriceBasis { shop { currencyCode taxesIncluded } }"

READ_PRICES = """
query Prices($ids: [ID!]!) {
  nodes(ids: $ids) {
    __typename
    ... on ProductVariant { id price compareAtPrice product { id } }
  }
}
"""

BULK_UPDATE = """
mutation Prices($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants, allowPartialUpdates: true) {
    productVariants { id price compareAtPrice }
    userErrors { field message code }
  }
}
"""

READ_PRICE_LISTS = """
query PriceLists($first: Int!, $after: String) {
  priceLists(first: $first, after: $after) {
    nodes { id name currency catalog { title status } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

READ_LIST_PRICES = """
query PriceListPrices($id: ID!, $query: String!, $first: Int!, $after: String) {
  priceList(id: $id) {
    prices(first: $first, after: $after, originType: FIXED, query: $query) {
      nodes {
        variant { id }
        price { amount currencyCode }
        quantityPriceBreaks(first: 10) {
          nodes { id minimumQuantity price { amount currencyCode } }
          pageInfo { hasNextPage }
        }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

FIXED_PRICES_ADD = """
mutation FixedPricesAdd($priceListId: ID!, $prices: [PriceListPriceInput!]!) {
  priceListFixedPricesAdd(priceListId: $priceListId, prices: $prices) {
    prices { variant { id } price { amount currencyCode } }
    userErrors { field message code }
  }
}
"""

FIXED_PRICES_DELETE = """
mutation FixedPricesDelete($priceListId: ID!, $variantIds: [ID!]!) {
  priceListFixedPricesDelete(priceListId: $priceListId, variantIds: $variantIds) {
    deletedFixedPriceVariantIds
    userErrors { field message code }
  }
}
"""

QUANTITY_PRICING = """
mutation QuantityPricing($priceListId: ID!, $input: QuantityPricingByVariantUpdateInput!) {
  quantityPricingByVariantUpdate(priceListId: $priceListId, input: $input) {
    productVariants { id }
    userErrors { field message code }
  }
}
"""

MAX_IDS = 250
"""shopify.dev "API limits": input arrays hold at most 250 items (``ids``, ``variants``, ``prices``)."""
MAX_BREAKS = 10
"""Quantity price breaks read per variant and list (``READ_LIST_PRICES``); passerelle writes no more."""
LIST_PAGE = 35
"""Variants per read of a price list: 35 prices with 10 breaks each cost about 900 points, under
Shopify's 1 000 per query (rate-limits page)."""


def _amount(amount: Decimal, w: PriceWrite, gross: bool) -> tuple[str, RecordError | None]:
    """A tax-excluded amount as the shop stores it, and a notice when a converted price cannot show
    the ERP's tax-included price to the cent."""
    if gross:
        if w.vat_rate is None:
            raise MappingError("vat_rate", "no VAT rate to make the tax-included price Shopify stores")
        value = shop_price(amount, w.vat_rate, tax_included=False, shop_includes_tax=True, currency=w.currency).amount
        return money(value, w.currency), None
    quantum = currency_quantum(w.currency)
    text = money(amount.quantize(quantum, rounding=ROUND_HALF_UP), w.currency)
    if not w.converted or w.vat_rate is None:
        return text, None
    factor = 1 + w.vat_rate / Decimal(100)
    wanted = (amount * factor).quantize(quantum, rounding=ROUND_HALF_UP)
    shown = (Decimal(text) * factor).quantize(quantum, rounding=ROUND_HALF_UP)
    price = ShopPrice(amount=Decimal(text), shown=shown, exact=shown == wanted, wanted=wanted)
    return text, None if price.exact else price.notice(w.key, w.currency, w.vat_rate)


def _same(a: Any, b: str | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return Decimal(str(a)) == Decimal(b)


def _numeric(gid: str) -> str:
    return str(gid).rsplit("/", 1)[-1]


def _reasons(
    payload: dict[str, Any], argument: str, *, with_path: bool = True
) -> tuple[dict[int, list[str]], list[str]]:
    """A payload's ``userErrors`` by index of ``argument`` (``["prices", "3", ...]``) as "path: message"
    (the message alone without ``with_path``), and those naming no index."""
    by_index: dict[int, list[str]] = {}
    general: list[str] = []
    for error in payload.get("userErrors") or []:
        path = [str(p) for p in error.get("field") or []]
        text = f"{'.'.join(path) or 'input'}: {error.get('message')}" if with_path else str(error.get("message"))
        if len(path) >= 2 and path[0] == argument and path[1].isdigit():
            by_index.setdefault(int(path[1]), []).append(text)
        else:
            general.append(text)
    return by_index, general


@dataclass(slots=True)
class _Held:
    """The fixed price a price list holds for one variant, and its breaks (minimum -> (id, amount))."""

    price: Decimal | None = None
    breaks: dict[int, tuple[str, Decimal]] = field(default_factory=dict)
    more: bool = False


@dataclass(slots=True)
class _ListWork:
    """What one batch changes on one price list."""

    price_list: dict[str, Any]
    group: str
    add: list[tuple[PriceWrite, dict[str, Any]]] = field(default_factory=list)
    breaks: list[tuple[PriceWrite, dict[str, Any]]] = field(default_factory=list)
    delete: list[PriceWrite] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)


class ShopifyPrices(ShopifyBase):
    """PriceSink for the Shopify Admin GraphQL API (scope ``write_products``)."""

    @property
    def price_capabilities(self) -> PriceCapabilities:
        return PriceCapabilities(
            promotion_dates=False,
            group_prices=bool(self.settings.price_lists),
            prices_include_tax=False,
            owned_groups=frozenset(self.settings.price_lists),  # a mapped list's prices are replaced whole
        )

    def _price_basis(self) -> dict[str, Any]:
        basis: dict[str, Any] | None = getattr(self, "_shopify_price_basis", None)
        if basis is None:
            basis = dict(self.client.execute(SHOP_PRICES).get("shop") or {})
            self._shopify_price_basis = basis
        return basis

    def write_prices(self, writes: Sequence[PriceWrite]) -> BatchResult:
        result = BatchResult()
        if not writes:
            return result
        basis = self._price_basis()
        gross = bool(basis.get("taxesIncluded"))
        currency = str(basis.get("currencyCode") or "")
        lists = self._price_lists(writes) if self.settings.price_lists else {}
        held = self._price_rows([w.variant_id for w in writes])
        groups: dict[str, list[tuple[PriceWrite, dict[str, Any]]]] = {}
        ready: list[PriceWrite] = []
        for w in writes:
            if currency and w.currency.upper() != currency.upper():
                result.errors.append(
                    RecordError(w.key, "currency", f"price in {w.currency} but Shopify sells in {currency}", "shop")
                )
                continue
            row = held.get(w.variant_id)
            if row is None:
                result.errors.append(
                    RecordError(
                        w.key,
                        "variant",
                        f"variant {w.variant_id} is no longer in Shopify: publish the catalogue",
                        "shop",
                    )
                )
                continue
            try:
                price, notice = _amount(w.price, w, gross)
                regular = w.regular_price if w.regular_price is not None else w.price
                compare: str | None = None
                if regular > w.price:  # a promotion in force: the regular price is struck through
                    compare, _ = _amount(regular, w, gross)
            except MappingError as exc:
                result.errors.append(RecordError(w.key, exc.field, str(exc), "shop"))
                continue
            ready.append(w)
            body = {"id": w.variant_id, "price": price, "compareAtPrice": compare}
            answer: dict[str, Any] = {"price": price, "compareAtPrice": compare}
            result.answers[w.key] = answer
            if notice is not None:
                result.notices.append(notice)
            if _same(row.get("price"), price) and _same(row.get("compareAtPrice"), compare):
                answer["unchanged"] = True
                continue
            groups.setdefault(str(row["product"]["id"]), []).append((w, body))
        for product_id, group in groups.items():
            for start in range(0, len(group), MAX_IDS):
                self._price_update(product_id, group[start : start + MAX_IDS], result)
        if lists and ready:
            self._write_group_prices(ready, lists, gross, result)
        refused = {e.key for e in result.errors}
        result.notices = [n for n in result.notices if n.key not in refused]
        return result

    def _price_rows(self, variant_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        unique = list(dict.fromkeys(variant_ids))
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(unique), MAX_IDS):
            page = unique[start : start + MAX_IDS]
            data = self.client.execute(READ_PRICES, {"ids": page})
            for asked, node in zip(page, data.get("nodes") or [], strict=False):
                if node and node.get("__typename") == "ProductVariant" and node.get("product"):
                    found[asked] = node
        return found

    def _price_update(
        self, product_id: str, group: list[tuple[PriceWrite, dict[str, Any]]], result: BatchResult
    ) -> None:
        variables = {"productId": product_id, "variants": [body for _, body in group]}
        payload = self.client.execute(BULK_UPDATE, variables, mutation=True).get("productVariantsBulkUpdate") or {}
        by_index, general = _reasons(payload, "variants", with_path=False)
        answered = {str(v["id"]): v for v in payload.get("productVariants") or [] if v}
        for i, (w, body) in enumerate(group):
            reasons = by_index.get(i) or general
            if reasons:
                result.errors.append(
                    RecordError(w.key, "price", f"Shopify refused the price: {'; '.join(reasons)}", "shop")
                )
                result.answers.pop(w.key, None)
                continue
            row = answered.get(w.variant_id)
            if (
                row is None
                or not _same(row.get("price"), body["price"])
                or not _same(row.get("compareAtPrice"), body["compareAtPrice"])
            ):
                result.errors.append(
                    RecordError(w.key, "price", "Shopify's answer does not hold the price sent", "shop")
                )
                result.answers.pop(w.key, None)

    # -- customer-group prices on B2B price lists ----------------------------------------------------

    def _shop_price_lists(self) -> list[dict[str, Any]]:
        """Every price list of the shop (read once per connection)."""
        found: list[dict[str, Any]] | None = getattr(self, "_shopify_price_lists", None)
        if found is None:
            page = min(self.settings.page_size, MAX_IDS)
            try:
                found = list(self.client.paginate(READ_PRICE_LISTS, {}, ("priceLists",), page_size=page))
            except GraphQLRefused as exc:
                if "refused access" not in str(exc):
                    raise
                raise Fatal(
                    f"Shopify refused to read its price lists ({str(exc).split(' Resolution:')[0]}).",
                    resolution="customer-group prices need a Shopify Plus shop with B2B (catalogs with price lists) "
                    "and the custom app's read_products and write_products scopes (reinstall the app after adding "
                    "them); or empty price_lists in connections.<name>.shop to leave group prices out.",
                ) from None
            self._shopify_price_lists = found
        return found

    def _price_lists(self, writes: Sequence[PriceWrite]) -> dict[str, dict[str, Any]]:
        """Mapped group -> its price list; a mapped list the shop lacks, or a group price of an
        unmapped group, stops the run (a configuration error)."""
        shop_lists = self._shop_price_lists()
        known = "; ".join(_describe(pl) for pl in shop_lists) or "none"
        resolved: dict[str, dict[str, Any]] = {}
        for group, wanted in self.settings.price_lists.items():
            match = next((pl for pl in shop_lists if wanted in (pl.get("id"), pl.get("name"))), None) or next(
                (pl for pl in shop_lists if str(pl.get("name")).casefold() == wanted.casefold()), None
            )
            if match is None:
                raise Fatal(
                    f"Shopify has no price list {wanted!r} (customer group {group!r}).",
                    resolution=f"map the group in connections.<name>.shop.price_lists to the name or id of one of "
                    f"the shop's price lists ({known}), or create the price list with its B2B catalog in Shopify "
                    "(Products > Catalogs).",
                )
            resolved[group] = match
        unmapped = sorted({g.group for w in writes for g in w.group_prices} - set(resolved))
        if unmapped:
            raise Fatal(
                f"customer group {', '.join(map(repr, unmapped))} has no Shopify price list.",
                resolution=f"map it in connections.<name>.shop.price_lists (the shop's price lists: {known}), "
                "or remove it from connections.<name>.prices.groups.",
            )
        return resolved

    def _write_group_prices(
        self, writes: list[PriceWrite], lists: dict[str, dict[str, Any]], gross: bool, result: BatchResult
    ) -> None:
        """Per mapped list: read what it holds for the batch, then fixed prices to add (batched),
        breaks per variant, fixed prices to delete (after their breaks)."""
        for group, price_list in lists.items():
            work = _ListWork(price_list, group)
            wanted: dict[str, tuple[str, dict[int, str]] | None] = {}
            for w in writes:
                try:
                    wanted[w.key] = self._wanted(w, group, price_list, gross, result)
                except MappingError as exc:
                    self._refuse(work, w, [f"{exc.field}: {exc}"], result)
            todo = [w for w in writes if w.key in wanted]
            held = self._list_rows(str(price_list["id"]), [w.variant_id for w in todo])
            for w in todo:
                self._plan(work, w, wanted[w.key], held.get(w.variant_id) or _Held(), result)
            for start in range(0, len(work.add), MAX_IDS):
                adds = work.add[start : start + MAX_IDS]
                self._batch(work, FIXED_PRICES_ADD, "priceListFixedPricesAdd", "prices", adds, _added, result)
            for w, body in work.breaks:
                if w.key not in work.failed:
                    self._quantity_pricing(work, w, body, result)
            deletes = [(w, w.variant_id) for w in work.delete if w.key not in work.failed]
            for start in range(0, len(deletes), MAX_IDS):
                ids = deletes[start : start + MAX_IDS]
                self._batch(
                    work, FIXED_PRICES_DELETE, "priceListFixedPricesDelete", "variantIds", ids, _deleted, result
                )

    def _wanted(
        self, w: PriceWrite, group: str, price_list: dict[str, Any], gross: bool, result: BatchResult
    ) -> tuple[str, dict[int, str]] | None:
        """The fixed price and breaks (minimum -> amount) ``w`` wants on the group's list; None: none."""
        prices = sorted((g for g in w.group_prices if g.group == group), key=lambda g: g.min_quantity)
        if not prices:
            return None
        if w.currency.upper() != str(price_list.get("currency")).upper():
            raise MappingError(
                "currency",
                f"price list {price_list.get('name')!r} holds {price_list.get('currency')} prices, not {w.currency}",
            )
        notices: list[RecordError | None] = []
        from_one = [g for g in prices if g.min_quantity <= 1]
        if from_one:
            fixed, notice = _amount(from_one[-1].price, w, gross)
            notices.append(notice)
        else:  # breaks need a fixed price: below the first break the group pays the price in force
            fixed, _ = _amount(w.price, w, gross)
        breaks: dict[int, str] = {}
        for g in prices[len(from_one) :]:
            if g.min_quantity != g.min_quantity.to_integral_value():
                raise MappingError(
                    "min_quantity", f"Shopify's price breaks take whole quantities, not {g.min_quantity}"
                )
            breaks[int(g.min_quantity)], notice = _amount(g.price, w, gross)
            notices.append(notice)
        if len(breaks) > MAX_BREAKS:
            raise MappingError(
                "min_quantity", f"{len(breaks)} quantity prices, more than the {MAX_BREAKS} passerelle writes"
            )
        result.notices += [replace(n, field=f"group_prices.{group}") for n in notices if n is not None]
        return fixed, breaks

    def _list_rows(self, list_id: str, variant_ids: Sequence[str]) -> dict[str, _Held]:
        """The fixed prices (and their breaks) the list holds for these variants."""
        unique = list(dict.fromkeys(variant_ids))
        found: dict[str, _Held] = {}
        for start in range(0, len(unique), LIST_PAGE):
            chunk = unique[start : start + LIST_PAGE]
            terms = " OR ".join(f"variant_id:{_numeric(v)}" for v in chunk)
            nodes = self.client.paginate(
                READ_LIST_PRICES, {"id": list_id, "query": terms}, ("priceList", "prices"), page_size=LIST_PAGE
            )
            for node in nodes:
                vid = str((node.get("variant") or {}).get("id"))
                if vid not in chunk:
                    continue
                breaks = node.get("quantityPriceBreaks") or {}
                found[vid] = _Held(
                    price=Decimal(str(node["price"]["amount"])),
                    breaks={
                        int(b["minimumQuantity"]): (str(b["id"]), Decimal(str(b["price"]["amount"])))
                        for b in breaks.get("nodes") or []
                    },
                    more=bool((breaks.get("pageInfo") or {}).get("hasNextPage")),
                )
        return found

    def _plan(
        self,
        work: _ListWork,
        w: PriceWrite,
        wanted: tuple[str, dict[int, str]] | None,
        held: _Held,
        result: BatchResult,
    ) -> None:
        """What differs between what ``w`` wants on the list and what the list holds."""
        if held.more:
            reason = f"more than the {MAX_BREAKS} quantity price breaks passerelle reads: delete the others in Shopify"
            self._refuse(work, w, [reason], result)
            return
        fixed, breaks = wanted if wanted is not None else (None, {})
        currency = w.currency.upper()
        if fixed is not None and (held.price is None or held.price != Decimal(fixed)):
            work.add.append((w, {"variantId": w.variant_id, "price": {"amount": fixed, "currencyCode": currency}}))
        stale = [bid for minimum, (bid, amount) in held.breaks.items() if not _same(amount, breaks.get(minimum))]
        new = [
            {"variantId": w.variant_id, "price": {"amount": text, "currencyCode": currency}, "minimumQuantity": minimum}
            for minimum, text in sorted(breaks.items())
            if minimum not in held.breaks or not _same(held.breaks[minimum][1], text)
        ]
        if stale or new:
            untouched = (
                "pricesToAdd",
                "pricesToDeleteByVariantId",
                "quantityRulesToAdd",
                "quantityRulesToDeleteByVariantId",
            )
            body = {
                "quantityPriceBreaksToAdd": new,
                "quantityPriceBreaksToDelete": stale,
                **{key: [] for key in untouched},
            }
            work.breaks.append((w, body))
        if fixed is None and held.price is not None:
            work.delete.append(w)
        answer = result.answers.get(w.key)
        if isinstance(answer, dict):
            sent = {"price": fixed, "breaks": {str(m): t for m, t in breaks.items()}}
            answer.setdefault("price_lists", {})[work.group] = sent

    def _batch(
        self,
        work: _ListWork,
        document: str,
        root: str,
        argument: str,
        rows: list[tuple[PriceWrite, Any]],
        done: Callable[[dict[str, Any], Any], bool],
        result: BatchResult,
    ) -> None:
        """Send ``rows`` (write, input) as the ``argument`` list of one mutation; a variant's
        userErrors are its RecordError. Whether Shopify applies the others when one is refused is not
        documented: those its answer does not confirm are sent once more without the refused ones."""
        pending, again = rows, rows
        for attempt in (1, 2):
            variables = {"priceListId": work.price_list["id"], argument: [body for _, body in pending]}
            payload = self.client.execute(document, variables, mutation=True).get(root) or {}
            by_index, general = _reasons(payload, argument)
            again = []
            for i, (w, body) in enumerate(pending):
                reasons = by_index.get(i) or general
                if reasons:
                    self._refuse(work, w, reasons, result)
                elif not done(payload, body):
                    again.append((w, body))
            if not again or attempt == 2 or not by_index:
                break
            pending = again
        for w, _ in again:
            self._refuse(work, w, ["Shopify's answer does not confirm the change"], result)

    def _quantity_pricing(self, work: _ListWork, w: PriceWrite, body: dict[str, Any], result: BatchResult) -> None:
        # One call per variant: quantityPricingByVariantUpdate "does not allow partial successes"
        # (schema), so a call for several variants would let one refused break keep every other
        # variant's breaks out. Few variants have breaks, and a call costs a mutation's 10 points.
        variables = {"priceListId": work.price_list["id"], "input": body}
        payload = self.client.execute(QUANTITY_PRICING, variables, mutation=True).get("quantityPricingByVariantUpdate")
        _, reasons = _reasons(payload or {}, "")
        if reasons:
            self._refuse(work, w, reasons, result)
        elif body["quantityPriceBreaksToAdd"] and w.variant_id not in {
            str(v.get("id")) for v in (payload or {}).get("productVariants") or [] if v
        }:
            self._refuse(work, w, ["Shopify's answer does not confirm the quantity price breaks"], result)

    def _refuse(self, work: _ListWork, w: PriceWrite, reasons: list[str], result: BatchResult) -> None:
        work.failed.add(w.key)
        name = work.price_list.get("name")
        result.errors.append(
            RecordError(
                w.key, f"group_prices.{work.group}", f"Shopify price list {name!r}: {'; '.join(reasons)}", "shop"
            )
        )


def _describe(price_list: dict[str, Any]) -> str:
    catalog = price_list.get("catalog") or {}
    where = f"catalog {catalog.get('title')!r} {catalog.get('status')}" if catalog else "no catalog"
    return f"{price_list.get('name')} ({price_list.get('currency')}, {where}, {price_list.get('id')})"


def _added(payload: dict[str, Any], body: dict[str, Any]) -> bool:
    return any(
        str((p.get("variant") or {}).get("id")) == body["variantId"]
        and _same((p.get("price") or {}).get("amount"), body["price"]["amount"])
        for p in payload.get("prices") or []
        if p
    )


def _deleted(payload: dict[str, Any], body: str) -> bool:
    return body in (payload.get("deletedFixedPriceVariantIds") or [])
