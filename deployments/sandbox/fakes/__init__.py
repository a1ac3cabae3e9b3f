"""Fakes of real shop platforms that cannot run on this machine (PrestaShop, WooCommerce): each
serves payloads captured from the real server (``tests/fixtures/contracts``, provenance in its
README) and enforces the platform's rules, every rule naming its source. Used by the contract tests,
the flow tests and the benchmarks; how to write one: docs/connectors.md."""
