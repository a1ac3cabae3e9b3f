"""Invoice PDFs in object storage (moto's S3 server on 127.0.0.1): content-addressed keys, one
upload per content, links a customer can open, clear errors without secrets."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest

from connectors.errors import Fatal
from connectors.storage import DocumentStore, document_key

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def bucket(s3_server: dict[str, str]) -> Iterator[str]:
    name = f"invoices-{uuid.uuid4().hex[:8]}"
    boto3.client(
        "s3",
        endpoint_url=s3_server["endpoint_url"],
        region_name=s3_server["region"],
        aws_access_key_id=s3_server["access_key"],
        aws_secret_access_key=s3_server["secret_key"],
    ).create_bucket(Bucket=name)
    yield name


def store(s3_server: dict[str, str], bucket: str, **options: Any) -> DocumentStore:
    return DocumentStore(
        bucket,
        prefix="invoices/",
        endpoint_url=s3_server["endpoint_url"],
        region=s3_server["region"],
        access_key=s3_server["access_key"],
        secret_key=s3_server["secret_key"],
        **options,
    )


def test_key_is_content_addressed_and_safe() -> None:
    key, digest = document_key("invoices/", "42", "FA 2026/0007", PDF)
    assert key == f"invoices/42/FA-2026-0007-{digest[:16]}.pdf"
    assert document_key("invoices/", "42", "FA 2026/0007", PDF + b" ")[0] != key


def test_same_pdf_uploaded_once_and_the_presigned_link_opens_it(s3_server: dict[str, str], bucket: str) -> None:
    docs = store(s3_server, bucket)
    first = docs.put("42", "FA-0007", PDF, metadata={"invoice": "FA-0007", "order": "42"})
    again = docs.put("42", "FA-0007", PDF)
    assert (first.uploaded, again.uploaded, docs.uploads) == (True, False, 1)
    assert first.key == again.key and docs.get(first.key) == PDF
    answer = httpx.get(first.url, timeout=10)
    assert answer.status_code == 200 and answer.content == PDF
    assert answer.headers["content-type"] == "application/pdf"
    assert "X-Amz-Expires=604800" in first.url  # 7 days, the most Signature V4 allows


def test_public_base_url_links_do_not_expire(s3_server: dict[str, str], bucket: str) -> None:
    docs = store(s3_server, bucket, public_base_url="https://docs.example.com/")
    stored = docs.put("7", "AV-0001", PDF)
    assert stored.url == f"https://docs.example.com/{stored.key}"


def test_missing_bucket_is_fatal_and_names_no_secret(s3_server: dict[str, str]) -> None:
    docs = DocumentStore(
        "no-such-bucket",
        endpoint_url=s3_server["endpoint_url"],
        region=s3_server["region"],
        access_key="AKIDSECRETLOOKING",
        secret_key="very-secret-value",
    )
    with pytest.raises(Fatal) as failed:
        docs.put("1", "FA-1", PDF)
    message = str(failed.value)
    assert "no-such-bucket" in message and "Resolution:" in message
    assert "very-secret-value" not in message and "AKIDSECRETLOOKING" not in message
