"""In-memory storage with the same semantics as the real ones, for unit tests and dry runs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from dossiers.adapters.storage.base import check_bytes, locked, retention_date, sha256_hex, validate_key
from dossiers.clock import Clock
from dossiers.errors import ObjectExists, ObjectNotFound
from dossiers.ports import StoredObject

__all__ = ["MemoryStorage"]


class MemoryStorage:
    """A dict of write-once objects, safe to share between threads.

    ``clock`` gives the current UTC time against which retention dates are checked."""

    def __init__(self, *, clock: Callable[[], datetime] | None = None) -> None:
        self._lock = threading.Lock()
        self._objects: dict[str, tuple[StoredObject, bytes]] = {}
        self._clock = clock or Clock().now

    def put(
        self, key: str, data: bytes, *, content_type: str, retain_until: datetime | None = None
    ) -> StoredObject:
        key = validate_key(key)
        retain = retention_date(retain_until, key=key, now=self._clock())
        data = bytes(data)
        digest = sha256_hex(data)
        with self._lock:
            existing = self._objects.get(key)
            if existing is not None:
                stored, _ = existing
                if stored.sha256 != digest:
                    raise ObjectExists(
                        f"Un objet différent existe déjà sous la clé {key} (SHA-256 {stored.sha256}) : "
                        "il ne sera pas remplacé.",
                        key=key,
                    )
                return stored
            stored = StoredObject(
                key=key, sha256=digest, size=len(data), content_type=content_type, retain_until=retain
            )
            self._objects[key] = (stored, data)
            return stored

    def get(self, key: str, *, sha256: str | None = None) -> bytes:
        stored, data = self._entry(key)
        return check_bytes(data, stored, sha256)

    def head(self, key: str) -> StoredObject:
        return self._entry(key)[0]

    def exists(self, key: str) -> bool:
        key = validate_key(key)
        with self._lock:
            return key in self._objects

    def delete(self, key: str) -> None:
        """Remove an object whose retention has passed (or that had none); refuse before."""
        key = validate_key(key)
        with self._lock:
            entry = self._objects.get(key)
            if entry is None:
                raise ObjectNotFound(f"Aucun objet sous la clé {key}.", key=key)
            retain = entry[0].retain_until
            if retain is not None and retain > self._clock():
                raise locked(key, retain)
            del self._objects[key]

    def presigned_url(self, key: str, *, ttl: int) -> str | None:
        validate_key(key)
        return None

    def keys(self) -> list[str]:
        with self._lock:
            return sorted(self._objects)

    def tamper(self, key: str, data: bytes) -> None:
        """Replace the bytes of ``key`` without updating its checksum (tests of corruption)."""
        stored, _ = self._entry(key)
        with self._lock:
            self._objects[stored.key] = (stored, bytes(data))

    def _entry(self, key: str) -> tuple[StoredObject, bytes]:
        key = validate_key(key)
        with self._lock:
            entry = self._objects.get(key)
        if entry is None:
            raise ObjectNotFound(f"Aucun objet sous la clé {key}.", key=key)
        return entry
