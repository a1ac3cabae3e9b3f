"""Shopify (Admin GraphQL API) shop connector: catalogue, stock and price sink, order source,
status and document link sink, webhook verification (see docs/shopify.md).

``factory.build`` is the registry entry (``connectors.shop.shopify.factory:build``).
"""
