"""Fixtures of the flow tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest


@pytest.fixture
def bucket(s3_server: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A fresh bucket on moto's S3 server; its keys in TEST_S3_KEY / TEST_S3_SECRET for the
    configuration's secret references (``tests.flows.helpers.storage_toml``)."""
    s3 = boto3.resource(
        "s3",
        endpoint_url=s3_server["endpoint_url"],
        region_name=s3_server["region"],
        aws_access_key_id=s3_server["access_key"],
        aws_secret_access_key=s3_server["secret_key"],
    )
    monkeypatch.setenv("TEST_S3_KEY", s3_server["access_key"])
    monkeypatch.setenv("TEST_S3_SECRET", s3_server["secret_key"])
    yield s3.create_bucket(Bucket=f"invoices-{uuid.uuid4().hex[:8]}")
