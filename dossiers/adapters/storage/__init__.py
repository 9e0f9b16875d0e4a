"""Document storage: the port and its local and in-memory implementations (S3 comes later)."""

from __future__ import annotations

from dossiers.adapters.storage.base import KEY_MAX_LENGTH, Storage, StoredObject, sha256_hex, validate_key
from dossiers.adapters.storage.local import LocalStorage
from dossiers.adapters.storage.memory import MemoryStorage

__all__ = [
    "KEY_MAX_LENGTH",
    "Storage",
    "StoredObject",
    "LocalStorage",
    "MemoryStorage",
    "sha256_hex",
    "validate_key",
]
