"""Object storage for documents shown to customers (invoice PDFs), over boto3.

Keys are content-addressed: ``<prefix><shop order id>/<number>-<sha256[:16]>.pdf``. The same
bytes always land on the same key, so a re-run never uploads a PDF twice (a ``HEAD`` tells it is
there), and a corrected invoice re-rendered with other bytes gets a new key instead of silently
replacing what a customer may have downloaded.

URLs: ``public_base_url`` (a CDN or a public-read bucket: links never expire) or pre-signed GET
URLs (``url_expiry_days``, at most 7 with AWS Signature V4: a link in a shop note expires, so use a
public base URL in production). Credentials never appear in errors: botocore's messages name the
bucket and key only.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.errors import Fatal, Retryable

__all__ = ["DocumentStore", "StoredDocument", "document_key"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_RETRYABLE_CODES = {"SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "503", "500"}


def document_key(prefix: str, folder: str, name: str, content: bytes, suffix: str = ".pdf") -> tuple[str, str]:
    """The content-addressed key of a document and its full SHA-256."""
    digest = hashlib.sha256(content).hexdigest()
    clean_folder = _UNSAFE.sub("-", folder).strip("-") or "_"
    clean_name = _UNSAFE.sub("-", name).strip("-") or "document"
    return f"{prefix}{clean_folder}/{clean_name}-{digest[:16]}{suffix}", digest


@dataclass(frozen=True, slots=True)
class StoredDocument:
    key: str
    sha256: str
    url: str
    uploaded: bool
    """False when the same bytes were there already."""


class DocumentStore:
    """Put documents in a bucket and give the URL a customer opens.

    Args:
        bucket: the bucket (created by the operator; passerelle never creates buckets).
        prefix: key prefix (``invoices/``).
        public_base_url: links are ``<public_base_url>/<key>``; None: pre-signed URLs.
        url_expiry_days: lifetime of pre-signed URLs (1-7).
        endpoint_url, region, access_key, secret_key: an S3-compatible service (None: AWS and
            boto3's usual credential chain).
    """

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        public_base_url: str | None = None,
        url_expiry_days: int = 7,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        client: Any | None = None,
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self.url_expiry = max(1, min(url_expiry_days, 7)) * 86400
        self.uploads = 0
        self.calls = 0
        self._client = client or boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=Config(signature_version="s3v4", retries={"max_attempts": 3, "mode": "standard"}),
        )

    def put(
        self, folder: str, name: str, content: bytes, *, metadata: Mapping[str, str] | None = None
    ) -> StoredDocument:
        """Upload ``content`` under its content-addressed key unless those bytes are there already."""
        key, digest = document_key(self.prefix, folder, name, content)
        uploaded = False
        if not self._exists(key):
            self._call(
                "put_object",
                Bucket=self.bucket,
                Key=key,
                Body=content,
                ContentType="application/pdf",
                ContentDisposition=f'inline; filename="{_UNSAFE.sub("-", name)}.pdf"',
                Metadata={k: _UNSAFE.sub("-", v)[:200] for k, v in (metadata or {}).items()},
                ChecksumSHA256=_b64(digest),
            )
            self.uploads += 1
            uploaded = True
        return StoredDocument(key=key, sha256=digest, url=self.url(key), uploaded=uploaded)

    def url(self, key: str) -> str:
        if self.public_base_url:
            return f"{self.public_base_url}/{key}"
        return str(
            self._client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=self.url_expiry
            )
        )

    def get(self, key: str) -> bytes:
        return bytes(self._call("get_object", Bucket=self.bucket, Key=key)["Body"].read())

    def _exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._call("head_object", Bucket=self.bucket, Key=key)
            return True
        except Fatal as exc:
            if isinstance(exc.__cause__, ClientError) and _code(exc.__cause__) in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise

    def _call(self, operation: str, **params: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

        self.calls += 1
        try:
            return getattr(self._client, operation)(**params)
        except ClientError as exc:
            code = _code(exc)
            where = f"s3://{self.bucket}/{params.get('Key', '')}"
            if code in _RETRYABLE_CODES:
                raise Retryable(f"object storage answered {code} to {operation} {where}") from exc
            if code in {"404", "NoSuchKey", "NotFound"}:
                raise Fatal(f"{where} not found ({operation}).", resolution="check the bucket and prefix.") from exc
            raise Fatal(
                f"object storage refused {operation} {where}: {code}.",
                resolution="check the bucket name, its region and that the credentials may write to it "
                "([connections.<name>.invoices.storage]).",
            ) from exc
        except (EndpointConnectionError, BotoCoreError) as exc:
            raise Retryable(
                f"object storage unreachable for {operation} s3://{self.bucket}: {type(exc).__name__}"
            ) from exc


def _code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _b64(hex_digest: str) -> str:
    import base64

    return base64.b64encode(bytes.fromhex(hex_digest)).decode()
