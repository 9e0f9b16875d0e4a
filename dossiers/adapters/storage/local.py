"""A local directory with the guarantees of an S3 bucket with conditional writes and checksums.

Layout under ``root``::

    objects/<key>        the bytes, as written (read-only, 0o444)
    meta/<key>.json      sha256, size, content_type, created, retain_until (read-only, 0o444)
    tmp/                 files being written (same filesystem, so they can be hard-linked)

A ``put`` writes each file to ``tmp/`` (fsync, mode 0o444) and publishes it with ``os.link``,
which fails if the name exists: no writer can ever replace a published file, unlike ``rename``.
The metadata is published first and is the claim on the key: of two writers racing on one key,
exactly one links it; the other reads it back and either finds its own checksum (then it
completes or reuses the object) or raises ``ObjectExists``. The bytes are published second, so an
object is visible (``exists``, ``get``) only once both files are durable. A writer that dies
between the two links leaves a claim without bytes: the key stays invisible, a retry with the same
bytes completes it, different bytes are refused as for any existing key.

Retention keeps the promise of an S3 bucket under object lock (COMPLIANCE): ``retain_until`` is
recorded in the metadata, and ``delete`` refuses (``ObjectLocked``) before that date. ``delete``
unlinks the bytes first and the metadata second, so an interrupted delete leaves a claim without
bytes (see above), never bytes without their checksum. The files are read-only; nothing in this
module opens them for writing again, but the operating system's root can: the guarantee is the
adapter's, not the disk's.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from dossiers.adapters.storage.base import (
    check_bytes,
    locked,
    retention_date,
    sha256_hex,
    validate_key,
)
from dossiers.clock import Clock
from dossiers.errors import ChecksumMismatch, ObjectExists, ObjectNotFound, StorageError, StorageUnavailable
from dossiers.ports import StoredObject

__all__ = ["LocalStorage"]

_SEGMENT_MAX = 250  # NAME_MAX (255) minus the ".json" of the metadata file
_READ_ONLY = 0o444


STALE_CLAIM_SECONDS = 30.0  # a put takes milliseconds: a claim this old without bytes is an abandoned one


class LocalStorage:
    """Write-once objects in a directory; nothing is touched before the first call.

    ``clock`` gives the current UTC time against which retention dates are checked (tests pass
    their own)."""

    def __init__(self, root: Path | str, *, clock: Callable[[], datetime] | None = None) -> None:
        self.root = Path(root)
        self._clock = clock or Clock().now
        self._objects = self.root / "objects"
        self._meta = self.root / "meta"
        self._tmp = self.root / "tmp"

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    # -- the port ---------------------------------------------------------------------------

    def put(
        self, key: str, data: bytes, *, content_type: str, retain_until: datetime | None = None
    ) -> StoredObject:
        key = self._check_key(key)
        retain = retention_date(retain_until, key=key, now=self._clock())
        data = bytes(data)
        digest = sha256_hex(data)
        data_path, meta_path = self._paths(key)
        try:
            claimed = self._read_meta(key, meta_path)
            if claimed is not None and claimed.sha256 != digest and self._stale_claim(data_path, meta_path):
                # a writer died between its claim and its bytes: nobody ever read that object, and a
                # retry that produces other bytes (a PDF is not byte-for-byte reproducible) may take it
                meta_path.unlink(missing_ok=True)
                claimed = None
            if claimed is not None:
                self._refuse_if_different(claimed, digest)
                if data_path.is_file():
                    return claimed
            self._make_dirs(key, data_path, meta_path)
            tmp_data = self._write_temp(data)
            tmp_meta: Path | None = None
            try:
                if claimed is None:
                    record = {
                        "key": key,
                        "sha256": digest,
                        "size": len(data),
                        "content_type": content_type,
                        "created": self._clock().isoformat(),
                    }
                    if retain is not None:
                        record["retain_until"] = retain.isoformat()
                    tmp_meta = self._write_temp(json.dumps(record, sort_keys=True).encode("utf-8"))
                    claimed = self._publish_meta(key, tmp_meta, meta_path)
                self._refuse_if_different(claimed, digest)
                try:
                    os.link(tmp_data, data_path)
                except FileExistsError:
                    if not data_path.is_file():
                        raise self._incompatible(key) from None
                    # another writer published bytes first: they must be the claim's, never trusted blindly
                    # (a stale claim taken over while its writer was still linking would pair them wrongly)
                    if sha256_hex(data_path.read_bytes()) != claimed.sha256:
                        raise StorageUnavailable(
                            f"Écritures concurrentes de l'objet {key} : réessayer.", key=key) from None
                _fsync_dir(data_path.parent)
            finally:
                for path in (tmp_data, tmp_meta):
                    if path is not None:
                        path.unlink(missing_ok=True)
            return claimed
        except OSError as exc:
            raise StorageError(f"Écriture impossible de l'objet {key} : {exc}", key=key) from exc

    @staticmethod
    def _stale_claim(data_path: Path, meta_path: Path) -> bool:
        """A claim without bytes, older than any write in progress can be."""
        if data_path.exists():
            return False
        try:
            # the file's mtime is the kernel's wall clock: compared with it, not with conum's clock
            return time.time() - meta_path.stat().st_mtime > STALE_CLAIM_SECONDS
        except FileNotFoundError:
            return False

    def get(self, key: str, *, sha256: str | None = None) -> bytes:
        key = self._check_key(key)
        data_path, meta_path = self._paths(key)
        try:
            stored = self._require_meta(key, meta_path)
            try:
                data = data_path.read_bytes()
            except FileNotFoundError as exc:
                raise ObjectNotFound(f"Aucun objet sous la clé {key}.", key=key) from exc
        except OSError as exc:
            raise StorageError(f"Lecture impossible de l'objet {key} : {exc}", key=key) from exc
        return check_bytes(data, stored, sha256)

    def head(self, key: str) -> StoredObject:
        key = self._check_key(key)
        data_path, meta_path = self._paths(key)
        try:
            stored = self._require_meta(key, meta_path)
            try:
                size = data_path.stat().st_size
            except FileNotFoundError as exc:
                raise ObjectNotFound(f"Aucun objet sous la clé {key}.", key=key) from exc
        except OSError as exc:
            raise StorageError(f"Lecture impossible de l'objet {key} : {exc}", key=key) from exc
        if size != stored.size:
            raise ChecksumMismatch(
                f"L'objet {key} est altéré : {size} octets sur disque au lieu des {stored.size} écrits.", key=key
            )
        return stored

    def exists(self, key: str) -> bool:
        key = self._check_key(key)
        data_path, meta_path = self._paths(key)
        return data_path.is_file() and meta_path.is_file()

    def delete(self, key: str) -> None:
        """Remove an object whose retention has passed (or that had none); refuse before."""
        key = self._check_key(key)
        data_path, meta_path = self._paths(key)
        try:
            stored = self._require_meta(key, meta_path)
            if stored.retain_until is not None and stored.retain_until > self._clock():
                raise locked(key, stored.retain_until)
            for path in (data_path, meta_path):  # bytes first: never bytes without their checksum
                try:
                    path.unlink()
                except FileNotFoundError:
                    continue  # a claim without bytes, or a concurrent delete
                _fsync_dir(path.parent)
        except OSError as exc:
            raise StorageError(f"Suppression impossible de l'objet {key} : {exc}", key=key) from exc

    def presigned_url(self, key: str, *, ttl: int) -> str | None:
        """A directory cannot sign a download link: the caller serves the bytes itself."""
        self._check_key(key)
        return None

    # -- helpers ----------------------------------------------------------------------------

    def path_of(self, key: str) -> Path:
        """Where the bytes of ``key`` live (for operators and corruption tests)."""
        return self._paths(self._check_key(key))[0]

    @staticmethod
    def _check_key(key: str) -> str:
        key = validate_key(key)
        if any(len(segment) > _SEGMENT_MAX for segment in key.split("/")):
            raise StorageError(
                f"Clé de stockage refusée (segment de plus de {_SEGMENT_MAX} caractères) : {key!r}.", key=key
            )
        return key

    def _paths(self, key: str) -> tuple[Path, Path]:
        return self._objects / key, self._meta / f"{key}.json"

    def _make_dirs(self, key: str, data_path: Path, meta_path: Path) -> None:
        try:
            for directory in (data_path.parent, meta_path.parent, self._tmp):
                directory.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise self._incompatible(key) from exc
        if data_path.is_dir():
            raise self._incompatible(key)

    @staticmethod
    def _incompatible(key: str) -> StorageError:
        return StorageError(
            f"Clé de stockage {key} incompatible avec les objets existants : sur disque, une clé ne peut "
            "pas être à la fois un objet et le préfixe d'autres objets.",
            key=key,
        )

    def _write_temp(self, payload: bytes) -> Path:
        fd, name = tempfile.mkstemp(dir=self._tmp, prefix="put-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fchmod(handle.fileno(), _READ_ONLY)
                os.fsync(handle.fileno())
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise
        return Path(name)

    def _publish_meta(self, key: str, tmp_meta: Path, meta_path: Path) -> StoredObject:
        try:
            os.link(tmp_meta, meta_path)
        except FileExistsError:
            pass  # another writer claimed the key first: its record decides
        else:
            _fsync_dir(meta_path.parent)
        return self._require_meta(key, meta_path)

    @staticmethod
    def _refuse_if_different(stored: StoredObject, digest: str) -> None:
        if stored.sha256 != digest:
            raise ObjectExists(
                f"Un objet différent existe déjà sous la clé {stored.key} (SHA-256 {stored.sha256}) : "
                "il ne sera pas remplacé.",
                key=stored.key,
            )

    def _require_meta(self, key: str, meta_path: Path) -> StoredObject:
        stored = self._read_meta(key, meta_path)
        if stored is None:
            raise ObjectNotFound(f"Aucun objet sous la clé {key}.", key=key)
        return stored

    @staticmethod
    def _read_meta(key: str, meta_path: Path) -> StoredObject | None:
        try:
            raw = meta_path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            record = json.loads(raw)
            retain = record.get("retain_until")
            stored = StoredObject(
                key=str(record["key"]),
                sha256=str(record["sha256"]),
                size=int(record["size"]),
                content_type=str(record["content_type"]),
                retain_until=datetime.fromisoformat(retain).astimezone(UTC) if retain else None,
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise StorageError(f"Métadonnées illisibles pour l'objet {key} ({meta_path}).", key=key) from exc
        if stored.key != key:
            raise StorageError(f"Métadonnées de {stored.key} trouvées à la place de celles de {key}.", key=key)
        return stored


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
