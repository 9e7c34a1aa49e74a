"""Where a snapshot is written: a local directory, or an S3 prefix (``s3://bucket/prefix``).

The collector writes through a :class:`Store`: ``graph.collect.LocalStore`` for a
directory (temp file then rename, files 0600 and directories 0700) or :class:`S3Store`
for a prefix that every worker of a cluster can reach. ``PutObject`` replaces an object
whole or not at all, so a reader sees the old file or the new one, never half of it, as
with a rename; there are no temporary files to clean up.

fsspec's S3 support (s3fs) needs aiobotocore, whose releases pin botocore below the
version this project pins, so this store is a few boto3 calls made with the caller's
own credentials (``core.aws.Aws``, the same endpoint override as every other client).
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from core.errors import InputError

if TYPE_CHECKING:
    from core.aws import Aws

# boto3 is imported only when an S3 store is made: `ivs exposure` reads local snapshots
# without it (its peak memory is the analysis').

S3 = "s3://"
#: Keys per DeleteObjects call (S3's limit).
DELETE_BATCH = 1000
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")


class Store(Protocol):
    """The snapshot's files, by path relative to its root (``111111111111/eu-west-1/Vpcs.json``)."""

    location: str

    def prepare(self) -> None: ...
    def write_text(self, name: str, text: str) -> None: ...
    def write_json(self, name: str, document: Any, *, compact: bool = False) -> None: ...
    def read_text(self, name: str) -> str | None: ...
    def is_file(self, name: str) -> bool: ...
    def delete(self, names: Iterable[str]) -> None: ...
    def names(self) -> list[str]: ...
    def remove_temporary_files(self) -> list[str]: ...


def is_s3(location: str) -> bool:
    return str(location).startswith(S3)


def split_s3(location: str) -> tuple[str, str]:
    """(bucket, prefix) of ``s3://bucket/prefix``; the prefix without slashes around it.

    >>> split_s3("s3://ivs-snapshots/org/2026-11-27/")
    ('ivs-snapshots', 'org/2026-11-27')
    >>> split_s3("s3://Bad_Bucket")
    Traceback (most recent call last):
    core.errors.InputError: --out: 's3://Bad_Bucket' does not name an S3 bucket (s3://BUCKET/PREFIX)
    """
    bucket, _, prefix = location[len(S3) :].partition("/")
    if not _BUCKET.match(bucket):
        raise InputError("--out", f"{location!r} does not name an S3 bucket (s3://BUCKET/PREFIX)")
    return bucket, prefix.strip("/")


def _minify(document: Any, compact: bool) -> str:
    from core.jsonio import minify, pretty

    return minify(document) if compact else pretty(document)


class S3Store:
    """A snapshot under ``s3://bucket/prefix``, read and written with ``aws``'s credentials.

    A failed call raises ``OSError`` naming the object, as a failed local write does: the
    output location is not an account, and a run cannot go on without it.
    """

    def __init__(self, location: str, aws: Aws) -> None:
        self.location = location.rstrip("/")
        self.bucket, self.prefix = split_s3(location)
        self.client = aws.client("s3")
        self._listed: set[str] | None = None

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def _failed(self, err: Exception, name: str = "") -> OSError:
        from core.aws import error_code, error_message

        where = f"{S3}{self.bucket}/{self.key(name)}" if name else self.location
        return OSError(errno.EIO, f"{error_code(err)}: {error_message(err)}", where)

    def prepare(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except Exception as err:
            raise self._failed(err) from None

    def write_text(self, name: str, text: str) -> None:
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.key(name),
                Body=text.encode("utf-8"),
                ContentType="application/json",
            )
        except Exception as err:
            raise self._failed(err, name) from None
        if self._listed is not None:
            self._listed.add(name)

    def write_json(self, name: str, document: Any, *, compact: bool = False) -> None:
        self.write_text(name, _minify(document, compact))

    def read_text(self, name: str) -> str | None:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.key(name))["Body"]
            return str(body.read().decode("utf-8"))
        except Exception as err:
            from core.aws import error_code

            if error_code(err) in ("NoSuchKey", "404"):
                return None
            raise self._failed(err, name) from None

    def names(self) -> list[str]:
        """Every object under the prefix, relative to it (one paginated listing)."""
        start = f"{self.prefix}/" if self.prefix else ""
        found: list[str] = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=start
            )
            for page in pages:
                found.extend(item["Key"][len(start) :] for item in page.get("Contents", []))
        except Exception as err:
            raise self._failed(err) from None
        return found

    def is_file(self, name: str) -> bool:
        # --resume asks this of every file of every place: list the prefix once instead
        if self._listed is None:
            self._listed = set(self.names())
        return name in self._listed

    def delete(self, names: Iterable[str]) -> None:
        names = list(names)
        keys = [self.key(name) for name in names]
        for start in range(0, len(keys), DELETE_BATCH):
            batch = [{"Key": key} for key in keys[start : start + DELETE_BATCH]]
            try:
                self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
            except Exception as err:
                raise self._failed(err) from None
        if self._listed is not None:
            self._listed.difference_update(names)

    def remove_temporary_files(self) -> list[str]:
        return []  # PutObject leaves none
