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
- a missing key raises ``ObjectNotFound``;
- ``put(..., retain_until=...)`` (a timezone-aware date) keeps the object until then: ``delete``
  raises ``ObjectLocked`` before that date, even for us (object lock COMPLIANCE on S3, a read-only
  file and a date in its metadata locally). A date already past retains nothing. An object without
  retention can be deleted; deleting a missing key raises ``ObjectNotFound``;
- ``presigned_url(key, ttl=...)`` gives a time-limited download URL, or ``None`` for a store that
  cannot sign one (local directory, memory).
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

from dossiers.errors import ChecksumMismatch, ObjectLocked, StorageError
from dossiers.ports import StoredObject

__all__ = [
    "KEY_MAX_LENGTH",
    "PRESIGNED_TTL_MAX",
    "ObjectLocked",
    "check_bytes",
    "check_ttl",
    "locked",
    "normalize_sha256",
    "retention_date",
    "sha256_hex",
    "validate_key",
]

KEY_MAX_LENGTH = 512
_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")
_SHA256 = re.compile(r"[0-9a-f]{64}")
PRESIGNED_TTL_MAX = 7 * 24 * 3600  # SigV4 presigned URLs live at most 7 days


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


def retention_date(retain_until: datetime | None, *, key: str, now: datetime) -> datetime | None:
    """``retain_until`` in UTC, rounded up to the second (S3 keeps whole seconds), if it is still
    ahead of ``now``, else ``None`` (nothing to retain).

    A naive date is refused: a retention period must not depend on the server's time zone."""
    if retain_until is None:
        return None
    if not isinstance(retain_until, datetime) or retain_until.utcoffset() is None:
        raise StorageError(
            f"Date de conservation de l'objet {key} sans fuseau horaire : {retain_until!r}.", key=key
        )
    retain_until = retain_until.astimezone(UTC)
    if retain_until.microsecond:
        retain_until = retain_until.replace(microsecond=0) + timedelta(seconds=1)
    return retain_until if retain_until > now else None


def check_ttl(ttl: int, *, key: str) -> int:
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 1 <= ttl <= PRESIGNED_TTL_MAX:
        raise StorageError(
            f"Durée de validité du lien de {key} invalide : {ttl!r} (entre 1 et {PRESIGNED_TTL_MAX} secondes).",
            key=key,
        )
    return ttl


def locked(key: str, retain_until: datetime) -> ObjectLocked:
    return ObjectLocked(
        f"L'objet {key} est conservé jusqu'au {retain_until:%d/%m/%Y %H:%M:%S} UTC : "
        "il ne peut être ni supprimé ni remplacé avant cette date.",
        key=key,
        retain_until=retain_until,
    )
