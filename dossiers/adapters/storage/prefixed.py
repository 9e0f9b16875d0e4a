"""A store seen under a key prefix (the staging area of signed copies inside the documents bucket)."""

from __future__ import annotations

import dataclasses
from typing import Any

from dossiers.ports import Storage, StoredObject

__all__ = ["PrefixedStorage"]


class PrefixedStorage:
    def __init__(self, inner: Storage, prefix: str) -> None:
        if not prefix.endswith("/"):
            raise ValueError("le préfixe se termine par « / »")
        self.inner, self.prefix = inner, prefix

    def _out(self, stored: StoredObject) -> StoredObject:
        return dataclasses.replace(stored, key=stored.key.removeprefix(self.prefix))

    def put(self, key: str, data: bytes, *, content_type: str, **options: Any) -> StoredObject:
        return self._out(self.inner.put(self.prefix + key, data, content_type=content_type, **options))

    def get(self, key: str, *, sha256: str | None = None) -> bytes:
        return self.inner.get(self.prefix + key, sha256=sha256)

    def head(self, key: str) -> StoredObject:
        return self._out(self.inner.head(self.prefix + key))

    def exists(self, key: str) -> bool:
        return self.inner.exists(self.prefix + key)

    def delete(self, key: str) -> None:
        self.inner.delete(self.prefix + key)

    def presigned_url(self, key: str, *, ttl: int) -> str | None:
        return self.inner.presigned_url(self.prefix + key, ttl=ttl)
