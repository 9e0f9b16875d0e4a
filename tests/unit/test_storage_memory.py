"""MemoryStorage keeps the storage port's semantics, so unit tests can trust it."""

from __future__ import annotations

import threading

import pytest

from dossiers.adapters.storage import MemoryStorage, sha256_hex
from dossiers.errors import ChecksumMismatch, ObjectExists, ObjectNotFound, StorageError
from dossiers.ports import Storage, StoredObject

KEY = "conventions/CN-V2-STR-000123/v1.pdf"
DATA = b"%PDF-1.7 contenu"


def test_round_trip() -> None:
    """What is put is what get returns, and head/exists describe it."""
    storage = MemoryStorage()
    assert isinstance(storage, Storage)
    stored = storage.put(KEY, DATA, content_type="application/pdf")
    assert stored == StoredObject(KEY, sha256_hex(DATA), len(DATA), "application/pdf")
    assert storage.get(KEY, sha256=stored.sha256) == DATA
    assert storage.head(KEY) == stored
    assert storage.exists(KEY) and storage.keys() == [KEY]


def test_same_bytes_are_idempotent_and_different_bytes_refused() -> None:
    """put never overwrites: the same bytes return the stored object, others raise ObjectExists."""
    storage = MemoryStorage()
    first = storage.put(KEY, DATA, content_type="application/pdf")
    assert storage.put(KEY, DATA, content_type="text/plain") == first
    with pytest.raises(ObjectExists):
        storage.put(KEY, DATA + b"!", content_type="application/pdf")
    assert storage.get(KEY) == DATA


def test_tampered_bytes_and_unexpected_checksums_are_detected() -> None:
    """get checks the recorded SHA-256 and the one the caller expects."""
    storage = MemoryStorage()
    storage.put(KEY, DATA, content_type="application/pdf")
    with pytest.raises(ChecksumMismatch):
        storage.get(KEY, sha256=sha256_hex(b"autre"))
    storage.tamper(KEY, b"%PDF-1.7 modifie")
    with pytest.raises(ChecksumMismatch):
        storage.get(KEY)


def test_missing_keys_raise_object_not_found() -> None:
    """get and head of an unknown key raise ObjectNotFound; exists says False."""
    storage = MemoryStorage()
    assert not storage.exists(KEY)
    with pytest.raises(ObjectNotFound):
        storage.get(KEY)
    with pytest.raises(ObjectNotFound):
        storage.head(KEY)


@pytest.mark.parametrize("key", ["", "/abs", "../x", "a/../b", "a//b", "a/", "a b", "é", "x" * 513])
def test_unsafe_keys_are_refused(key: str) -> None:
    """The same key rules as the real stores apply."""
    with pytest.raises(StorageError):
        MemoryStorage().put(key, DATA, content_type="text/plain")


def test_concurrent_threads_leave_one_object() -> None:
    """Threads racing on one key with different bytes: one wins, the others get ObjectExists."""
    storage, barrier = MemoryStorage(), threading.Barrier(8)
    outcomes: list[str] = []

    def put(i: int) -> None:
        barrier.wait()
        try:
            storage.put(KEY, DATA + bytes([i]), content_type="application/pdf")
            outcomes.append("ok")
        except ObjectExists:
            outcomes.append("exists")

    threads = [threading.Thread(target=put, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["exists"] * 7 + ["ok"]
    assert storage.keys() == [KEY]
