"""LocalStorage on a real directory: write-once, checked on read, safe under concurrent writers."""

from __future__ import annotations

import multiprocessing
import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from dossiers.adapters.storage import LocalStorage, local, sha256_hex
from dossiers.errors import ChecksumMismatch, ErrorCode, ObjectExists, ObjectNotFound, StorageError
from dossiers.ports import Storage, StoredObject

KEY = "conventions/CN-V2-STR-000123/v1.pdf"
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "storage")


def test_round_trip(storage: LocalStorage) -> None:
    """What is put is what get returns, and head/exists describe it."""
    assert isinstance(storage, Storage)
    assert not storage.exists(KEY)
    stored = storage.put(KEY, PDF, content_type="application/pdf")
    assert stored == StoredObject(KEY, sha256_hex(PDF), len(PDF), "application/pdf", None)
    assert storage.get(KEY) == PDF
    assert storage.get(KEY, sha256=stored.sha256.upper()) == PDF
    assert storage.head(KEY) == stored
    assert storage.exists(KEY)
    assert storage.path_of(KEY).read_bytes() == PDF


def test_nothing_is_touched_before_the_first_write(tmp_path: Path) -> None:
    """Building the adapter does no I/O; reading an empty store is a clean ObjectNotFound."""
    storage = LocalStorage(tmp_path / "absent")
    assert not (tmp_path / "absent").exists()
    with pytest.raises(ObjectNotFound) as caught:
        storage.get(KEY)
    assert caught.value.code == ErrorCode.OBJET_INTROUVABLE and caught.value.key == KEY
    with pytest.raises(ObjectNotFound):
        storage.head(KEY)


def test_stored_files_are_read_only(storage: LocalStorage) -> None:
    """The bytes and their metadata are published with mode 0o444."""
    storage.put(KEY, PDF, content_type="application/pdf")
    meta = storage.root / "meta" / f"{KEY}.json"
    for path in (storage.path_of(KEY), meta):
        assert stat.S_IMODE(path.stat().st_mode) == 0o444


def test_putting_the_same_bytes_again_returns_the_existing_object(storage: LocalStorage) -> None:
    """A retried put is harmless: same result, one object, no leftover temp file."""
    first = storage.put(KEY, PDF, content_type="application/pdf")
    assert storage.put(KEY, PDF, content_type="application/octet-stream") == first
    assert _objects(storage) == [KEY]
    assert list((storage.root / "tmp").iterdir()) == []


def test_different_bytes_under_an_existing_key_are_refused(storage: LocalStorage) -> None:
    """put never overwrites: ObjectExists, and the first object stays intact."""
    storage.put(KEY, PDF, content_type="application/pdf")
    with pytest.raises(ObjectExists) as caught:
        storage.put(KEY, PDF + b"x", content_type="application/pdf")
    assert caught.value.key == KEY and KEY in caught.value.message
    assert storage.get(KEY) == PDF


def test_a_file_modified_on_disk_is_detected_on_read(storage: LocalStorage) -> None:
    """Bytes changed behind the store's back raise ChecksumMismatch (same size or not)."""
    storage.put(KEY, PDF, content_type="application/pdf")
    path = storage.path_of(KEY)
    path.chmod(0o644)
    path.write_bytes(PDF[:-1] + b"!")
    with pytest.raises(ChecksumMismatch) as caught:
        storage.get(KEY)
    assert caught.value.code == ErrorCode.SOMME_CONTROLE
    path.write_bytes(PDF + b"tail")
    with pytest.raises(ChecksumMismatch):
        storage.head(KEY)


def test_get_checks_the_checksum_the_caller_expects(storage: LocalStorage) -> None:
    """The catalog's SHA-256 is checked too: intact bytes of another object are not accepted."""
    storage.put(KEY, PDF, content_type="application/pdf")
    with pytest.raises(ChecksumMismatch):
        storage.get(KEY, sha256=sha256_hex(b"autre"))
    with pytest.raises(StorageError):
        storage.get(KEY, sha256="pas-une-empreinte")


@pytest.mark.parametrize(
    "key",
    ["", "/etc/passwd", "../evil", "a/../../b", "a//b", "a/", "./a", "a/./b", "...", "a b", "é.pdf",
     "a\\b", "a\x00b", "x" * 513, "s/" + "y" * 251],
)  # fmt: skip
def test_unsafe_keys_are_refused_before_any_io(storage: LocalStorage, key: str) -> None:
    """Traversal, absolute, empty-segment, non-ASCII and over-long keys raise StorageError."""
    with pytest.raises(StorageError):
        storage.put(key, b"x", content_type="text/plain")
    with pytest.raises(StorageError):
        storage.get(key)
    with pytest.raises(StorageError):
        storage.exists(key)
    assert not storage.root.exists()


def test_a_key_cannot_nest_under_an_existing_object(storage: LocalStorage) -> None:
    """'a' and 'a/b' cannot both exist on a filesystem: a clear StorageError, nothing half-written."""
    storage.put("a", b"1", content_type="text/plain")
    with pytest.raises(StorageError, match="incompatible"):
        storage.put("a/b", b"2", content_type="text/plain")
    assert storage.get("a") == b"1"
    storage.put("c/d", b"3", content_type="text/plain")
    with pytest.raises(StorageError, match="incompatible"):
        storage.put("c", b"4", content_type="text/plain")
    assert not storage.exists("c") and storage.get("c/d") == b"3"


def test_a_writer_interrupted_before_publishing_the_bytes_can_be_completed(storage: LocalStorage) -> None:
    """A claim without bytes (crash between the two links) is invisible, completed by a retry."""
    storage.put(KEY, PDF, content_type="application/pdf")
    os.unlink(storage.path_of(KEY))  # as if the writer died before linking the bytes
    assert not storage.exists(KEY)
    with pytest.raises(ObjectNotFound):
        storage.get(KEY)
    with pytest.raises(ObjectExists):
        storage.put(KEY, b"autre chose", content_type="application/pdf")
    storage.put(KEY, PDF, content_type="application/pdf")
    assert storage.get(KEY) == PDF


def _put_in_child(root: str, data: bytes, barrier: Any, results: Any) -> None:
    try:
        barrier.wait(timeout=30)
        stored = LocalStorage(Path(root)).put(KEY, data, content_type="application/pdf")
        results.put(("ok", stored.sha256))
    except Exception as exc:  # reported to the parent, which asserts on it
        results.put((type(exc).__name__, sha256_hex(data)))


def _race(storage: LocalStorage, payloads: list[bytes]) -> list[tuple[str, str]]:
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(len(payloads)), ctx.Queue()
    procs = [
        ctx.Process(target=_put_in_child, args=(str(storage.root), data, barrier, results)) for data in payloads
    ]
    for proc in procs:
        proc.start()
    outcomes = [results.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
    return outcomes


def test_concurrent_writers_of_different_bytes_leave_exactly_one_object(storage: LocalStorage) -> None:
    """Eight processes put different bytes under one key at once: one wins, seven get ObjectExists."""
    payloads = [PDF + bytes([i]) * 1000 for i in range(8)]
    outcomes = _race(storage, payloads)
    winners = [sha for status, sha in outcomes if status == "ok"]
    assert len(winners) == 1
    assert sorted(status for status, _ in outcomes) == ["ObjectExists"] * 7 + ["ok"]
    assert sha256_hex(storage.get(KEY)) == winners[0] == storage.head(KEY).sha256
    assert _objects(storage) == [KEY]
    assert list((storage.root / "tmp").iterdir()) == []


def test_concurrent_writers_of_the_same_bytes_all_succeed(storage: LocalStorage) -> None:
    """Eight processes retrying the same put at once all get the one stored object."""
    outcomes = _race(storage, [PDF] * 8)
    assert outcomes == [("ok", sha256_hex(PDF))] * 8
    assert storage.get(KEY) == PDF
    assert _objects(storage) == [KEY]


def _objects(storage: LocalStorage) -> list[str]:
    base = storage.root / "objects"
    return sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file())


def test_a_claim_abandoned_by_a_dead_writer_is_taken_over_once_stale(storage: LocalStorage) -> None:
    """A worker killed between its claim and its bytes must not block the key forever: a PDF
    regenerated by the retry has other bytes (LibreOffice output is not reproducible)."""
    storage.put("conventions/x.pdf", b"first attempt", content_type="application/pdf")
    data_path, meta_path = storage._paths("conventions/x.pdf")
    data_path.unlink()  # the bytes never made it
    with pytest.raises(ObjectExists):  # a fresh claim may still be a write in progress
        storage.put("conventions/x.pdf", b"second attempt", content_type="application/pdf")
    old = time.time() - local.STALE_CLAIM_SECONDS - 1
    os.utime(meta_path, (old, old), follow_symlinks=False)
    stored = storage.put("conventions/x.pdf", b"second attempt", content_type="application/pdf")
    assert storage.get("conventions/x.pdf", sha256=stored.sha256) == b"second attempt"
