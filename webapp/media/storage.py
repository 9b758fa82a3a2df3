"""Where clean media is kept: a local folder outside `static/` (default) or an S3 bucket.

Keys are made by `new_key` on the server (namespace / vendor id / year / month / random hex);
nothing of the upload's name ever reaches a key. Readers (the web views, the OCR job) use:

    from webapp.media.storage import get_store
    data = get_store().read(photo.storage_key)
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app

KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*\.(jpg|png)$")
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png"}


class MediaNotFound(KeyError):
    """No object under this key."""


@dataclass
class StoredObject:
    """An object opened for streaming to a client; close `stream` when done."""

    stream: BinaryIO
    size: int
    content_type: str


class MediaStore(Protocol):
    """What every store offers."""

    def put(self, key: str, data: bytes, content_type: str) -> None: ...
    def read(self, key: str) -> bytes: ...
    def delete(self, key: str) -> None: ...
    def open_for_response(self, key: str) -> StoredObject: ...


def new_key(namespace: str, vendor_id: int, content_type: str, *, suffix: str = "") -> str:
    """A fresh, unguessable key such as `invoices/12/2026/11/<32 hex>.jpg`."""
    now = datetime.now(UTC)
    key = (f"{namespace}/{int(vendor_id)}/{now:%Y}/{now:%m}/{secrets.token_hex(16)}{suffix}"
           f".{EXTENSIONS[content_type]}")
    check_key(key)
    return key


def check_key(key: str) -> str:
    """Refuse any key that is not one `new_key` could have made (no `..`, no absolute path)."""
    if not isinstance(key, str) or len(key) > 128 or not KEY_PATTERN.match(key):
        raise ValueError(f"invalid media key {key!r}")
    return key


def content_type_of(key: str) -> str:
    """The content type implied by a key's extension."""
    return "image/png" if key.endswith(".png") else "image/jpeg"


class LocalStore:
    """Files under one root folder (MEDIA_DIR), written atomically, private to the app user."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def path_of(self, key: str) -> Path:
        """The file of `key`; refuses any key whose path escapes the root."""
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"media key escapes the media folder: {key!r}")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Write `data` under `key` (a temporary file renamed into place: never half-written)."""
        path = self.path_of(key)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read(self, key: str) -> bytes:
        """Return the bytes under `key`."""
        try:
            return self.path_of(key).read_bytes()
        except FileNotFoundError as exc:
            raise MediaNotFound(key) from exc

    def delete(self, key: str) -> None:
        """Remove `key` (no error when it is already gone)."""
        self.path_of(key).unlink(missing_ok=True)

    def open_for_response(self, key: str) -> StoredObject:
        """Open `key` for streaming."""
        path = self.path_of(key)
        try:
            f = path.open("rb")
        except FileNotFoundError as exc:
            raise MediaNotFound(key) from exc
        return StoredObject(f, os.fstat(f.fileno()).st_size, content_type_of(key))


class S3Store:
    """Objects in an S3-compatible bucket; credentials come from boto3's usual sources (env)."""

    def __init__(self, bucket: str, *, endpoint_url: str | None = None,
                 region: str | None = None) -> None:
        import boto3  # only deployments that use a bucket need it loaded
        from botocore.config import Config as BotoConfig

        self.bucket = bucket
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region,
            config=BotoConfig(retries={"max_attempts": 3, "mode": "standard"},
                              connect_timeout=5, read_timeout=30))

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Upload `data` under `key` with its content type (the bucket must not be public)."""
        self.client.put_object(Bucket=self.bucket, Key=check_key(key), Body=data,
                               ContentType=content_type)

    def read(self, key: str) -> bytes:
        """Return the bytes under `key`."""
        obj = self._get(key)
        with obj["Body"] as body:
            return body.read()

    def delete(self, key: str) -> None:
        """Remove `key` (S3 answers success for a missing key too)."""
        self.client.delete_object(Bucket=self.bucket, Key=check_key(key))

    def open_for_response(self, key: str) -> StoredObject:
        """Open `key` for streaming."""
        obj = self._get(key)
        return StoredObject(obj["Body"], obj["ContentLength"],
                            obj.get("ContentType") or content_type_of(key))

    def _get(self, key: str) -> dict:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise MediaNotFound(key) from exc
            raise


def make_store(config) -> MediaStore:
    """Build the store a config asks for: S3 when MEDIA_S3_BUCKET is set, else MEDIA_DIR."""
    bucket = config.get("MEDIA_S3_BUCKET")
    if bucket:
        return S3Store(bucket, endpoint_url=config.get("MEDIA_S3_ENDPOINT_URL"),
                       region=config.get("MEDIA_S3_REGION"))
    root = Path(config["MEDIA_DIR"])
    static = Path(current_app.static_folder or "static").resolve()
    if root.resolve().is_relative_to(static):
        raise RuntimeError("MEDIA_DIR must not be inside static/: uploads would be public")
    return LocalStore(root)


def get_store() -> MediaStore:
    """The current app's media store (built once per app)."""
    store = current_app.extensions.get("acorn.media_store")
    if store is None:
        store = make_store(current_app.config)
        current_app.extensions["acorn.media_store"] = store
    return store
