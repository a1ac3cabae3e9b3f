"""A fake Dolibarr 19 REST API (``httpx.MockTransport``) for the contract and flow tests."""

from deployments.sandbox.fakes.dolibarr.fake import CAPTURE, KEY, URL, FakeDolibarr, load

__all__ = ["CAPTURE", "KEY", "URL", "FakeDolibarr", "load"]
