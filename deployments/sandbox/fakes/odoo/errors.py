"""The error the fake answers with an Odoo JSON-RPC error envelope (``server.OdooFake._envelope``)."""

from __future__ import annotations

__all__ = ["FakeOdooError", "validation"]


class FakeOdooError(Exception):
    """``name`` is the exception class Odoo would send (``odoo.exceptions.ValidationError``)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def validation(message: str) -> FakeOdooError:
    return FakeOdooError("odoo.exceptions.ValidationError", message)
