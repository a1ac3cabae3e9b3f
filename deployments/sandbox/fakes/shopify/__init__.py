"""A fake Shopify Admin GraphQL API: every document validated against Shopify's 2025-01 schema and
executed against in-memory state (``core``), with the catalogue, inventory, orders and B2B price
lists of a shop (one module each, every rule naming its source). docs/shopify.md, "How it is tested"."""

from deployments.sandbox.fakes.shopify import catalogue, core, inventory, orders, price_lists  # noqa: F401  (registers the fields)
