"""The storage port: write-once objects under validated keys, checked on read-back.

Semantics every implementation keeps (local directory, memory, S3 with ``IfNoneMatch='*'`` and
``ChecksumAlgorithm='SHA256'``):

- a key is relative, made of ``[A-Za-z0-9._-]`` segments separated by ``/``, with no empty
  segment and no segment made only of dots, at most 512 characters; anything else is a
  ``StorageError`` before any I/O;
- ``put`` never replaces an object: the same bytes under the same key return the object already
  stored (a retried job is harmless), different bytes raise ``ObjectExists``;
- ``get`` checks the bytes against the SHA-256 recorded at write time, and against ``sha256``
  when the caller knows it (from the catalog): a difference raises ``ChecksumMismatch``;
- a missing key raises ``ObjectNotFound``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from dossiers.errors import ChecksumMismatch, StorageError

__all__ = [
    "KEY_MAX_LENGTH",
    "StoredObject",
    "Storage",
    "validate_key",
    "sha256_hex",
    "normalize_sha256",
    "check_bytes",
]

KEY_MAX_LENGTH = 512
_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class StoredObject:
    """What the store recorded about one object."""

    key: str
    sha256: str
    size: int
    content_type: str
    version_id: str | None = None


@runtime_checkable
class Storage(Protocol):
    def put(self, key: str, data: bytes, *, content_type: str) -> StoredObject: ...

    def get(self, key: str, *, sha256: str | None = None) -> bytes: ...

    def head(self, key: str) -> StoredObject: ...

    def exists(self, key: str) -> bool: ...


def validate_key(key: object) -> str:
    """Return ``key`` if it is a safe object key, else raise ``StorageError``."""
    if not isinstance(key, str) or not key:
        raise StorageError("Clé de stockage vide ou invalide.", key=str(key))
    if len(key) > KEY_MAX_LENGTH:
        raise StorageError(
            f"Clé de stockage trop longue ({len(key)} caractères, maximum {KEY_MAX_LENGTH}).", key=key
        )
    for segment in key.split("/"):
        if not segment:
            raise StorageError(f"Clé de stockage refusée (segment vide) : {key!r}.", key=key)
        if not _SEGMENT.fullmatch(segment):
            raise StorageError(
                f"Clé de stockage refusée (caractère interdit, seuls A-Z a-z 0-9 . _ - sont admis) : {key!r}.",
                key=key,
            )
        if set(segment) == {"."}:
            raise StorageError(f"Clé de stockage refusée (segment « {segment} ») : {key!r}.", key=key)
    return key


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def normalize_sha256(value: str, *, key: str) -> str:
    digest = value.strip().lower()
    if not _SHA256.fullmatch(digest):
        raise StorageError(f"Empreinte SHA-256 attendue invalide pour {key} : {value!r}.", key=key)
    return digest


def check_bytes(data: bytes, recorded: StoredObject, expected_sha256: str | None = None) -> bytes:
    """Return ``data`` if it matches what was recorded (and ``expected_sha256``), else raise."""
    key = recorded.key
    actual = sha256_hex(data)
    if len(data) != recorded.size or actual != recorded.sha256:
        raise ChecksumMismatch(
            f"L'objet {key} est altéré : {len(data)} octets relus, SHA-256 {actual}, "
            f"alors que {recorded.size} octets de SHA-256 {recorded.sha256} ont été écrits.",
            key=key,
        )
    if expected_sha256 is not None and normalize_sha256(expected_sha256, key=key) != actual:
        raise ChecksumMismatch(
            f"L'objet {key} ne correspond pas à l'empreinte attendue : SHA-256 {actual} "
            f"au lieu de {expected_sha256}.",
            key=key,
        )
    return data
