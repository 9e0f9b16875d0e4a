"""The storage port on an S3-compatible bucket (boto3), with the same promises as the local directory.

- **Write-once**: every upload carries ``IfNoneMatch='*'``; the server refuses to replace an
  existing key (412), and ``put`` then compares checksums: the same bytes return the object
  already stored, different bytes raise ``ObjectExists``.
- **Checksums**: every upload sends its SHA-256 (``ChecksumAlgorithm='SHA256'`` with the
  precomputed ``ChecksumSHA256``; per part for multipart uploads), so the server refuses bytes
  damaged in transit. The hex SHA-256 is also stored as user metadata ``sha256`` (it survives a
  multipart upload, whose server checksum is a checksum of the parts' checksums, and stores that
  keep no checksums). ``get`` recomputes the SHA-256 of the bytes read and checks it against the
  metadata, the server's checksum (``ChecksumMode='ENABLED'``) and the caller's expected value.
- **Multipart** above ``multipart_threshold`` (16 MiB), in parts of ``part_size`` (8 MiB); an
  upload that fails is aborted.
- **Retention** (``lock_retention=True``, a bucket created with object lock, see ``ensure_bucket``):
  ``put(..., retain_until=...)`` sets ``ObjectLockMode='COMPLIANCE'`` and
  ``ObjectLockRetainUntilDate``; no one can delete that version before the date, not even the
  account's root. ``delete`` refuses with ``ObjectLocked`` before the date (rather than leaving a
  delete marker that would hide the object) and otherwise removes every version of the key.
- **Errors**: botocore's are translated (``translate_error``): connection errors, timeouts, 5xx,
  throttling and conflicting concurrent requests raise ``StorageUnavailable`` (retry later); 404
  raises ``ObjectNotFound``, a refused checksum ``ChecksumMismatch``, a refused conditional write
  ``ObjectExists``, anything else (credentials, permissions, missing bucket) ``StorageError``.
  botocore itself retries transient errors (``retries`` in ``build_s3_client``) before that.

Nothing connects before the first call; ``build_s3_client`` imports boto3 when called.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from dossiers.adapters.storage.base import (
    ObjectLocked,
    check_bytes,
    check_ttl,
    locked,
    normalize_sha256,
    retention_date,
    sha256_hex,
    validate_key,
)
from dossiers.adapters.storage.s3_client import _code, build_s3_client, ensure_bucket, translate_error
from dossiers.clock import Clock
from dossiers.errors import ChecksumMismatch, ObjectExists, ObjectNotFound, StorageError, StorageUnavailable
from dossiers.ports import StoredObject

__all__ = ["MULTIPART_THRESHOLD", "PART_SIZE", "S3Storage", "build_s3_client", "ensure_bucket", "translate_error"]

MiB = 1024 * 1024
MULTIPART_THRESHOLD = 16 * MiB  # larger objects go up in parts
PART_SIZE = 8 * MiB  # S3's minimum is 5 MiB (except the last part)
class S3Storage:
    """Write-once objects in one bucket; ``lock_retention`` for a bucket under object lock.

    ``clock`` gives the current UTC time against which retention dates are checked."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        *,
        lock_retention: bool = False,
        multipart_threshold: int = MULTIPART_THRESHOLD,
        part_size: int = PART_SIZE,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if part_size < 5 * MiB or multipart_threshold < part_size:
            raise ValueError("part_size >= 5 Mio et multipart_threshold >= part_size")
        self.client = client
        self.bucket = bucket
        self.lock_retention = lock_retention
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size
        self._clock = clock or Clock().now

    def __repr__(self) -> str:
        return f"S3Storage({self.bucket!r}, lock_retention={self.lock_retention})"

    # -- the port ---------------------------------------------------------------------------

    def put(self, key: str, data: bytes, *, content_type: str, retain_until: datetime | None = None) -> StoredObject:
        key = validate_key(key)
        retain = retention_date(retain_until, key=key, now=self._clock())
        if retain is not None and not self.lock_retention:
            raise StorageError(
                f"Le compartiment {self.bucket} n'est pas sous verrouillage d'objets : l'objet {key} ne peut pas "
                f"y être conservé jusqu'au {retain:%d/%m/%Y}.",
                key=key,
            )
        data = bytes(data)
        digest = sha256_hex(data)
        options: dict[str, Any] = {"ContentType": content_type, "Metadata": {"sha256": digest}}
        if retain is not None:
            options |= {"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": retain}
        multipart = len(data) > self.multipart_threshold
        if multipart:
            existing = self._head_or_none(key)  # spare the upload of a key already taken
            if existing is not None:
                return self._same_or_refuse(existing, digest)
        try:
            if multipart:
                response, expected = self._put_multipart(key, data, options)
            else:
                expected = _b64_sha256(data)
                with self._translated("put", key):
                    response = self.client.put_object(
                        Bucket=self.bucket, Key=key, Body=data, ChecksumAlgorithm="SHA256",
                        ChecksumSHA256=expected, IfNoneMatch="*", **options,
                    )  # fmt: skip
        except (ObjectExists, StorageUnavailable) as exc:
            if isinstance(exc, StorageUnavailable) and _code(exc.__cause__) != "ConditionalRequestConflict":
                raise
            # the key is taken (412), or a concurrent write conflicted (409): compare with what is there
            existing = self._head_or_none(key)
            if existing is None:  # deleted in between, or the other writer failed: retry later
                raise StorageUnavailable(
                    f"Écriture de l'objet {key} dans {self.bucket} en conflit avec une autre écriture : réessayer.",
                    key=key,
                ) from exc
            return self._same_or_refuse(existing, digest)
        returned = response.get("ChecksumSHA256")
        if returned is not None and returned != expected:
            raise ChecksumMismatch(
                f"L'objet {key} a été écrit dans {self.bucket} avec la somme de contrôle {returned} "
                f"au lieu de {expected}.",
                key=key,
            )
        if self.lock_retention and retain is None:
            return self.head(key)  # a default retention of the bucket may apply: report it
        return StoredObject(
            key=key, sha256=digest, size=len(data), content_type=content_type,
            version_id=_version(response.get("VersionId")), retain_until=retain,
        )  # fmt: skip

    def get(self, key: str, *, sha256: str | None = None) -> bytes:
        key = validate_key(key)
        if sha256 is not None:
            normalize_sha256(sha256, key=key)  # a malformed expectation fails before any I/O
        with self._translated("get", key):
            response = self.client.get_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
            body = response["Body"]
            try:
                data = body.read()
            finally:
                body.close()
        stored = self._stored(key, response)
        self._check_server_checksum(key, data, response.get("ChecksumSHA256"))
        return check_bytes(data, stored, sha256)

    def head(self, key: str) -> StoredObject:
        key = validate_key(key)
        return self._stored(key, self._head_response(key))

    def exists(self, key: str) -> bool:
        return self._head_or_none(validate_key(key)) is not None

    def delete(self, key: str) -> None:
        """Remove the object (every version of it in a versioned bucket) unless it is retained."""
        key = validate_key(key)
        current = self._head_response(key)  # not head(): an object without our checksum can go too
        retain = _utc(current.get("ObjectLockRetainUntilDate"))
        if retain is not None and retain > self._clock():
            raise locked(key, retain)
        with self._translated("delete", key, locked_until=retain):
            if not self.lock_retention:
                self.client.delete_object(Bucket=self.bucket, Key=key)
                return
            for version_id in self._versions(key, first=_version(current.get("VersionId"))):
                self.client.delete_object(Bucket=self.bucket, Key=key, VersionId=version_id)

    def presigned_url(self, key: str, *, ttl: int) -> str | None:
        """A SigV4 GET URL valid ``ttl`` seconds (signed locally: no request is made)."""
        key = validate_key(key)
        check_ttl(ttl, key=key)
        with self._translated("sign", key):
            return str(self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=ttl
            ))  # fmt: skip

    # -- helpers ----------------------------------------------------------------------------

    @contextmanager
    def _translated(self, action: str, key: str | None, *, locked_until: datetime | None = None) -> Iterator[None]:
        try:
            yield
        except (BotoCoreError, ClientError) as exc:
            if action == "delete" and self.lock_retention and _code(exc) == "AccessDenied":
                # the server's clock, or a version we did not check, says the object is still retained
                raise ObjectLocked(
                    f"L'objet {key} est sous conservation dans {self.bucket} : le serveur refuse sa suppression.",
                    key=key,
                    retain_until=locked_until,
                ) from exc
            raise translate_error(exc, bucket=self.bucket, key=key, action=action) from exc

    def _put_multipart(self, key: str, data: bytes, options: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """Upload in parts, each with its SHA-256; returns the response and the expected composite checksum."""
        with self._translated("put", key):
            upload = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=key, ChecksumAlgorithm="SHA256", **options
            )
        upload_id = upload["UploadId"]
        try:
            parts, digests = [], []
            with self._translated("put", key):
                for number, start in enumerate(range(0, len(data), self.part_size), start=1):
                    chunk = data[start : start + self.part_size]
                    digest = hashlib.sha256(chunk).digest()
                    checksum = base64.b64encode(digest).decode("ascii")
                    answer = self.client.upload_part(
                        Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=chunk,
                        ChecksumAlgorithm="SHA256", ChecksumSHA256=checksum,
                    )  # fmt: skip
                    parts.append({"PartNumber": number, "ETag": answer["ETag"], "ChecksumSHA256": checksum})
                    digests.append(digest)
                response = self.client.complete_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts},
                    IfNoneMatch="*",
                )  # fmt: skip
        except BaseException:
            try:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            except (BotoCoreError, ClientError):
                pass  # what remains is reclaimed by an AbortIncompleteMultipartUpload lifecycle rule
            raise
        return response, _composite(digests)

    def _head_response(self, key: str) -> dict[str, Any]:
        with self._translated("head", key):
            return dict(self.client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED"))

    def _head_or_none(self, key: str) -> StoredObject | None:
        try:
            return self.head(key)
        except ObjectNotFound:
            return None

    def _same_or_refuse(self, existing: StoredObject, digest: str) -> StoredObject:
        if existing.sha256 != digest:
            raise ObjectExists(
                f"Un objet différent existe déjà sous la clé {existing.key} dans {self.bucket} "
                f"(SHA-256 {existing.sha256}) : il ne sera pas remplacé.",
                key=existing.key,
            )
        return existing

    def _versions(self, key: str, *, first: str | None) -> list[str]:
        """Every version and delete marker of exactly ``key``, the current version first."""
        found: list[str] = [first] if first else []
        for page in self.client.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=key):
            for entry in (*page.get("Versions", ()), *page.get("DeleteMarkers", ())):
                if entry.get("Key") == key and entry.get("VersionId") and entry["VersionId"] not in found:
                    found.append(entry["VersionId"])
        return found

    def _stored(self, key: str, response: dict[str, Any]) -> StoredObject:
        """The StoredObject described by a HEAD or GET response."""
        recorded = (response.get("Metadata") or {}).get("sha256")
        checksum = response.get("ChecksumSHA256")
        full = _hex_of_checksum(checksum) if checksum and "-" not in checksum else None
        if recorded is not None:
            try:
                recorded = normalize_sha256(recorded, key=key)
            except StorageError as exc:
                raise ChecksumMismatch(f"Empreinte SHA-256 illisible dans les métadonnées de {key}.", key=key) from exc
            if full is not None and full != recorded:
                raise ChecksumMismatch(
                    f"L'objet {key} a deux empreintes différentes : {recorded} (métadonnées) et {full} (serveur).",
                    key=key,
                )
        sha256 = recorded or full
        if sha256 is None:
            raise StorageError(
                f"L'objet {key} de {self.bucket} n'a pas d'empreinte SHA-256 : il n'a pas été écrit par conum.",
                key=key,
            )
        return StoredObject(
            key=key, sha256=sha256, size=int(response.get("ContentLength", 0)),
            content_type=str(response.get("ContentType") or "application/octet-stream"),
            version_id=_version(response.get("VersionId")),
            retain_until=_utc(response.get("ObjectLockRetainUntilDate")),
        )  # fmt: skip

    def _check_server_checksum(self, key: str, data: bytes, checksum: str | None) -> None:
        """Compare the server's checksum with the bytes read (a composite one if the parts are ours)."""
        if not checksum:
            return
        _, _, count = checksum.partition("-")
        if not count:
            actual = _b64_sha256(data)
        elif count.isdigit() and int(count) == -(-len(data) // self.part_size):
            digests = [
                hashlib.sha256(data[i : i + self.part_size]).digest() for i in range(0, len(data), self.part_size)
            ]
            actual = _composite(digests)
        else:
            return  # uploaded with another part size: the metadata SHA-256 is checked instead
        if actual != checksum:
            raise ChecksumMismatch(
                f"L'objet {key} est altéré : somme de contrôle {actual} relue, {checksum} enregistrée par le serveur.",
                key=key,
            )


def _utc(value: object) -> datetime | None:
    return value.astimezone(UTC) if isinstance(value, datetime) else None


def _version(value: object) -> str | None:
    return None if value in (None, "", "null") else str(value)


def _b64_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def _composite(digests: list[bytes]) -> str:
    """S3's checksum of a multipart upload: the SHA-256 of the parts' SHA-256s, then ``-<parts>``."""
    return f"{base64.b64encode(hashlib.sha256(b''.join(digests)).digest()).decode('ascii')}-{len(digests)}"


def _hex_of_checksum(checksum: str) -> str | None:
    try:
        raw = base64.b64decode(checksum, validate=True)
    except ValueError:
        return None
    return raw.hex() if len(raw) == 32 else None
