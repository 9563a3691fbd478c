"""Where files (attachments, avatars) are kept: one small interface, two places.

``FORUM_STORAGE_URL`` picks the place: empty (the default) is local disk under the instance
folder (``instance/uploads``), ``file:///srv/forum/uploads`` another folder, and
``s3://bucket/prefix`` an S3-compatible object store reached with boto3 (endpoint from
``FORUM_S3_ENDPOINT_URL`` for MinIO, Ceph, R2..., credentials from the usual ``AWS_*``
variables or the machine's role). Keys are paths made by the forum itself
(``attachments/<random id>/original``), never a name a user typed.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from flask import current_app

CHUNK_BYTES = 64 * 1024
_KEY = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_.-]+)*$")


class StoredFileMissing(LookupError):
    """No file is kept under that key."""


class Storage(Protocol):
    def put(self, key: str, data: bytes, *, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...

    def stream(self, key: str) -> Iterator[bytes]: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...


def _checked(key: str) -> str:
    if not _KEY.match(key) or ".." in key:
        raise ValueError(f"not a storage key: {key!r}")
    return key


class LocalStorage:
    """Files in a folder on this machine (one machine, or a shared volume)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / _checked(key)

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole under a temporary name, then renamed: a reader never sees half a file.
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise StoredFileMissing(key) from None

    def stream(self, key: str) -> Iterator[bytes]:
        try:
            handle = self._path(key).open("rb")
        except FileNotFoundError:
            raise StoredFileMissing(key) from None

        def chunks() -> Iterator[bytes]:
            with handle:
                while chunk := handle.read(CHUNK_BYTES):
                    yield chunk

        return chunks()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3Storage:
    """Objects in a bucket of an S3-compatible store, under an optional prefix."""

    def __init__(self, bucket: str, *, prefix: str = "", endpoint_url: str | None = None) -> None:
        import boto3  # only production needs it loaded

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = boto3.client("s3", endpoint_url=endpoint_url or None)

    def _name(self, key: str) -> str:
        key = _checked(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _missing(self, error: Exception) -> bool:
        code = getattr(error, "response", {}).get("Error", {}).get("Code")
        return code in {"NoSuchKey", "404", "NotFound"}

    def put(self, key: str, data: bytes, *, content_type: str) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=self._name(key), Body=data, ContentType=content_type
        )

    def _body(self, key: str):
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"]
        except ClientError as error:
            if self._missing(error):
                raise StoredFileMissing(key) from None
            raise

    def get(self, key: str) -> bytes:
        return self._body(key).read()

    def stream(self, key: str) -> Iterator[bytes]:
        body = self._body(key)

        def chunks() -> Iterator[bytes]:
            try:
                yield from body.iter_chunks(CHUNK_BYTES)
            finally:
                body.close()

        return chunks()

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as error:
            if self._missing(error):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))


def open_storage(url: str, *, instance_path: str, endpoint_url: str | None = None) -> Storage:
    """The storage a FORUM_STORAGE_URL names (see the module's note)."""
    if not url:
        return LocalStorage(Path(instance_path) / "uploads")
    parts = urlsplit(url)
    if parts.scheme == "file":
        return LocalStorage(parts.path)
    if parts.scheme == "s3" and parts.netloc:
        return S3Storage(parts.netloc, prefix=parts.path, endpoint_url=endpoint_url)
    raise ValueError(f"FORUM_STORAGE_URL: use file:///folder or s3://bucket/prefix, not {url!r}")


def storage() -> Storage:
    """The application's storage (made once, on first use)."""
    app = current_app
    found = app.extensions.get("forum_storage")
    if found is None:
        found = open_storage(
            app.config.get("FORUM_STORAGE_URL", ""),
            instance_path=app.instance_path,
            endpoint_url=app.config.get("FORUM_S3_ENDPOINT_URL"),
        )
        app.extensions["forum_storage"] = found
    return found
