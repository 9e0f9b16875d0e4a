"""Document storage: the port and its S3, local-directory and in-memory implementations."""

from __future__ import annotations

from dossiers.adapters.storage.base import (
    KEY_MAX_LENGTH,
    ObjectLocked,
    sha256_hex,
    validate_key,
)
from dossiers.adapters.storage.local import LocalStorage
from dossiers.adapters.storage.memory import MemoryStorage
from dossiers.adapters.storage.prefixed import PrefixedStorage
from dossiers.adapters.storage.s3 import S3Storage, build_s3_client, ensure_bucket

__all__ = [
    "KEY_MAX_LENGTH",
    "LocalStorage",
    "MemoryStorage",
    "ObjectLocked",
    "PrefixedStorage",
    "S3Storage",
    "build_s3_client",
    "ensure_bucket",
    "sha256_hex",
    "validate_key",
]
