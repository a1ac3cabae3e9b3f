"""A fake Odoo 16-18 JSON-RPC server for contract tests (``server.OdooFake``) and its set-up helpers."""

from deployments.sandbox.fakes.odoo.catalog import seed_catalogue
from deployments.sandbox.fakes.odoo.server import FakeOdooError, OdooFake

__all__ = ["FakeOdooError", "OdooFake", "seed_catalogue"]
