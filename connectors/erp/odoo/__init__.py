"""Odoo 16-18 ERP connector (external JSON-RPC API): docs/odoo.md."""
