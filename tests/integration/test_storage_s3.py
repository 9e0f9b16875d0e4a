"""The storage port on a real SeaweedFS (S3 API) and on the local and in-memory stores: the same promises.

Write-once, SHA-256 checked on the way in (by the server) and on the way out (by us), retention that
nobody can shorten, presigned downloads, multipart uploads, and botocore's errors translated.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import stat
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

from dossiers.adapters.storage import (
    LocalStorage,
    MemoryStorage,
    ObjectLocked,
    S3Storage,
    build_s3_client,
    ensure_bucket,
    sha256_hex,
)
from dossiers.adapters.storage.s3 import translate_error
from dossiers.ports import Storage, StoredObject
from dossiers.errors import (
    ChecksumMismatch,
    ObjectExists,
    ObjectNotFound,
    StorageError,
    StorageUnavailable,
)
from dossiers.settings import Settings
from tests.conftest import _free_port
from tests.integration.conftest import SeaweedFS

pytestmark = pytest.mark.seaweedfs

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40
DOCUMENTS, ARCHIVE = "conum-test-documents", "conum-test-archive"


def _key(name: str = "v1.pdf") -> str:
    """A fresh key per test: objects are write-once and the server lives for the whole session."""
    return f"tests/{uuid.uuid4().hex}/{name}"


def server_now() -> datetime:
    """The S3 server's time (the wall clock): these tests check the server's own retention against it,
    so the stores under test compare with it too, whatever conum's clock says (CONUM_CLOCK_OFFSET_DAYS)."""
    return datetime.now(UTC)


class Clock:
    """The time the local stores compare retention dates with; tests move it forward."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Store:
    """A store under test, and how to let time pass for it (a real wait for the S3 server)."""

    kind: str
    storage: Any
    now: Callable[[], datetime]
    wait: Callable[[float], None]


@pytest.fixture(scope="session")
def s3_client(seaweedfs: SeaweedFS) -> Any:
    client = build_s3_client(seaweedfs.settings())
    ensure_bucket(client, DOCUMENTS, object_lock=False)
    ensure_bucket(client, ARCHIVE, object_lock=True)
    return client


def _store(kind: str, request: pytest.FixtureRequest, tmp_path: Path, *, archive: bool) -> Store:
    if kind == "s3":
        client = request.getfixturevalue("s3_client")
        storage = S3Storage(client, ARCHIVE if archive else DOCUMENTS, lock_retention=archive, clock=server_now)
        return Store(kind, storage, server_now, time.sleep)
    clock = Clock()

    def advance(seconds: float) -> None:
        clock.now += timedelta(seconds=seconds)

    storage = LocalStorage(tmp_path / "storage", clock=clock) if kind == "local" else MemoryStorage(clock=clock)
    return Store(kind, storage, clock, advance)


@pytest.fixture(params=["memory", "local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """A plain store: the documents bucket on S3."""
    return _store(request.param, request, tmp_path, archive=False)


@pytest.fixture(params=["memory", "local", "s3"])
def archive(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """A store that can retain objects: the archive bucket (object lock COMPLIANCE) on S3."""
    return _store(request.param, request, tmp_path, archive=True)


def _b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


# -- the port, on every store -------------------------------------------------------------------


def test_round_trip_with_checksum(store: Store) -> None:
    """What is put comes back byte for byte, checked against its SHA-256 and the caller's."""
    storage, key = store.storage, _key()
    assert isinstance(storage, Storage)
    assert not storage.exists(key)
    stored = storage.put(key, PDF, content_type="application/pdf")
    assert stored == StoredObject(key, sha256_hex(PDF), len(PDF), "application/pdf", None, None)
    assert storage.head(key) == stored and storage.exists(key)
    assert storage.get(key) == PDF
    assert storage.get(key, sha256=stored.sha256.upper()) == PDF
    with pytest.raises(ChecksumMismatch):
        storage.get(key, sha256=sha256_hex(b"autre"))


def test_write_once(store: Store) -> None:
    """The same bytes again return the stored object; different bytes raise ObjectExists, nothing replaced."""
    storage, key = store.storage, _key()
    first = storage.put(key, PDF, content_type="application/pdf")
    assert storage.put(key, PDF, content_type="text/plain") == first
    with pytest.raises(ObjectExists) as caught:
        storage.put(key, PDF + b"!", content_type="application/pdf")
    assert caught.value.key == key
    assert storage.get(key) == PDF and storage.head(key) == first


def test_missing_keys(store: Store) -> None:
    """get, head and delete of an unknown key raise ObjectNotFound; exists says False."""
    storage, key = store.storage, _key()
    assert not storage.exists(key)
    for call in (storage.get, storage.head, storage.delete):
        with pytest.raises(ObjectNotFound) as caught:
            call(key)
        assert caught.value.key == key


def test_an_object_without_retention_can_be_deleted(archive: Store) -> None:
    """delete removes an unretained object for good (every version on S3): the key is free again."""
    storage, key = archive.storage, _key()
    storage.put(key, PDF, content_type="application/pdf")
    storage.delete(key)
    assert not storage.exists(key)
    with pytest.raises(ObjectNotFound):
        storage.get(key)
    with pytest.raises(ObjectNotFound):
        storage.delete(key)
    assert storage.put(key, b"autre", content_type="text/plain").sha256 == sha256_hex(b"autre")
    if archive.kind == "s3":
        storage.delete(key)
        versions = storage.client.list_object_versions(Bucket=ARCHIVE, Prefix=key)
        assert not versions.get("Versions") and not versions.get("DeleteMarkers")


def test_a_retained_object_can_be_neither_deleted_nor_replaced(archive: Store) -> None:
    """Before retain_until: delete raises ObjectLocked, other bytes raise ObjectExists, the bytes stay."""
    storage, key = archive.storage, _key()
    until = archive.now() + timedelta(days=1)
    stored = storage.put(key, PDF, content_type="application/pdf", retain_until=until)
    assert stored.retain_until is not None and abs(stored.retain_until - until) < timedelta(seconds=1)
    assert storage.head(key) == stored
    with pytest.raises(ObjectLocked) as caught:
        storage.delete(key)
    assert caught.value.key == key and caught.value.retain_until == stored.retain_until
    with pytest.raises(ObjectExists):
        storage.put(key, PDF + b"!", content_type="application/pdf", retain_until=until)
    assert storage.put(key, PDF, content_type="application/pdf", retain_until=until) == stored  # a retry
    assert storage.get(key, sha256=sha256_hex(PDF)) == PDF
    if archive.kind == "local":
        assert stat.S_IMODE(storage.path_of(key).stat().st_mode) == 0o444
    if archive.kind == "s3":
        assert stored.version_id
        head = storage.client.head_object(Bucket=ARCHIVE, Key=key)
        assert head["ObjectLockMode"] == "COMPLIANCE"


def test_a_retained_object_can_be_deleted_once_its_retention_has_passed(archive: Store) -> None:
    """After retain_until the object is an ordinary one again: delete removes it."""
    storage, key = archive.storage, _key()
    storage.put(key, PDF, content_type="application/pdf", retain_until=archive.now() + timedelta(seconds=1))
    with pytest.raises(ObjectLocked):
        storage.delete(key)
    archive.wait(2.1)  # retention dates are rounded up to the second
    storage.delete(key)
    assert not storage.exists(key)


def test_retention_dates_are_checked(archive: Store) -> None:
    """A naive date is refused before any I/O; a date already past retains nothing."""
    storage = archive.storage
    with pytest.raises(StorageError, match="fuseau"):
        storage.put(_key(), PDF, content_type="application/pdf", retain_until=datetime(2099, 1, 1))
    key = _key()
    stored = storage.put(key, PDF, content_type="application/pdf", retain_until=archive.now() - timedelta(days=1))
    assert stored.retain_until is None
    storage.delete(key)


@pytest.mark.parametrize("kind", ["memory", "local"])
def test_the_local_stores_cannot_presign(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """presigned_url returns None where no server can check a signature (the caller serves the bytes)."""
    storage, key = _store(kind, request, tmp_path, archive=False).storage, _key()
    storage.put(key, PDF, content_type="application/pdf")
    assert storage.presigned_url(key, ttl=60) is None


# -- S3 only -----------------------------------------------------------------------------------


@pytest.fixture
def documents(s3_client: Any) -> S3Storage:
    return S3Storage(s3_client, DOCUMENTS, clock=server_now)


@pytest.fixture
def archives(s3_client: Any) -> S3Storage:
    return S3Storage(s3_client, ARCHIVE, lock_retention=True, clock=server_now)


def test_the_server_refuses_bytes_that_do_not_match_their_checksum(s3_client: Any) -> None:
    """A put whose ChecksumSHA256 is not the bytes' is refused (BadDigest), nothing is stored;
    the adapter maps that refusal to ChecksumMismatch."""
    key = _key()
    with pytest.raises(ClientError) as caught:
        s3_client.put_object(
            Bucket=DOCUMENTS, Key=key, Body=PDF, ChecksumAlgorithm="SHA256", ChecksumSHA256=_b64(b"autre"),
            IfNoneMatch="*",
        )  # fmt: skip
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert isinstance(translate_error(caught.value, bucket=DOCUMENTS, key=key, action="put"), ChecksumMismatch)
    assert not S3Storage(s3_client, DOCUMENTS, clock=server_now).exists(key)


def test_an_object_whose_bytes_differ_from_its_recorded_sha256_is_refused_on_read(
    s3_client: Any, documents: S3Storage
) -> None:
    """Bytes written behind the adapter's back with another SHA-256 in their metadata: get raises."""
    key = _key()
    s3_client.put_object(Bucket=DOCUMENTS, Key=key, Body=PDF, Metadata={"sha256": sha256_hex(b"autre")})
    with pytest.raises(ChecksumMismatch):
        documents.get(key)
    with pytest.raises(ChecksumMismatch):  # and the server's checksum disagrees with the metadata
        key2 = _key()
        s3_client.put_object(
            Bucket=DOCUMENTS, Key=key2, Body=PDF, ChecksumAlgorithm="SHA256", ChecksumSHA256=_b64(PDF),
            Metadata={"sha256": sha256_hex(b"autre")},
        )  # fmt: skip
        documents.head(key2)


def test_an_object_written_by_another_tool_is_read_with_the_servers_checksum(
    s3_client: Any, documents: S3Storage
) -> None:
    """Without our metadata, the server's full-object SHA-256 is the record; without either, it is refused."""
    key = _key()
    s3_client.put_object(Bucket=DOCUMENTS, Key=key, Body=PDF, ChecksumAlgorithm="SHA256", ChecksumSHA256=_b64(PDF))
    assert documents.head(key).sha256 == sha256_hex(PDF)
    assert documents.get(key) == PDF
    bare = _key()
    s3_client.put_object(Bucket=DOCUMENTS, Key=bare, Body=PDF, ChecksumAlgorithm="CRC32")
    with pytest.raises(StorageError, match="empreinte"):
        documents.get(bare)


def test_uploads_carry_their_checksum_and_metadata(s3_client: Any, documents: S3Storage) -> None:
    """The server holds our SHA-256 (as its checksum and as metadata) and the content type."""
    key = _key()
    documents.put(key, PDF, content_type="application/pdf")
    head = s3_client.head_object(Bucket=DOCUMENTS, Key=key, ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == _b64(PDF)
    assert head["Metadata"]["sha256"] == sha256_hex(PDF)
    assert head["ContentType"] == "application/pdf"


def test_a_locked_version_cannot_be_deleted_even_by_a_direct_call(s3_client: Any, archives: S3Storage) -> None:
    """Object lock COMPLIANCE: the server itself refuses to delete the version, whoever asks."""
    key = _key()
    stored = archives.put(key, PDF, content_type="application/pdf", retain_until=datetime.now(UTC) + timedelta(days=1))
    with pytest.raises(ClientError) as caught:
        s3_client.delete_object(Bucket=ARCHIVE, Key=key, VersionId=stored.version_id)
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError):  # nor shorten its retention
        s3_client.put_object_retention(
            Bucket=ARCHIVE, Key=key, VersionId=stored.version_id,
            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": datetime.now(UTC) + timedelta(seconds=5)},
        )  # fmt: skip
    assert archives.get(key) == PDF and archives.head(key).version_id == stored.version_id


@pytest.mark.parametrize("same_bytes", [False, True], ids=["different", "same"])
def test_concurrent_writers_leave_exactly_one_object(documents: S3Storage, same_bytes: bool) -> None:
    """Four threads put under one key at once: with different bytes one wins and three get
    ObjectExists; with the same bytes all get the one stored object. (SeaweedFS queues conditional
    writes to one key about a second apart: four keep the test short.)"""
    key, barrier = _key(), threading.Barrier(4)
    payloads = [PDF if same_bytes else PDF + bytes([i]) for i in range(4)]
    outcomes: list[str] = []

    def put(data: bytes) -> None:
        barrier.wait()
        try:
            outcomes.append(documents.put(key, data, content_type="application/pdf").sha256)
        except ObjectExists:
            outcomes.append("exists")

    threads = [threading.Thread(target=put, args=(data,)) for data in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    winner = documents.head(key).sha256
    expected = [winner] * 4 if same_bytes else sorted(["exists"] * 3 + [winner])
    assert sorted(outcomes) == expected
    assert sha256_hex(documents.get(key)) == winner


def test_a_plain_bucket_refuses_a_retention_it_cannot_keep(documents: S3Storage) -> None:
    """retain_until on a bucket without object lock is an error, not a silent unprotected write."""
    key = _key()
    with pytest.raises(StorageError, match="verrouillage"):
        documents.put(key, PDF, content_type="application/pdf", retain_until=datetime.now(UTC) + timedelta(days=1))
    assert not documents.exists(key)


def test_presigned_url_downloads_and_a_tampered_one_is_refused(documents: S3Storage) -> None:
    """A SigV4 presigned GET fetches the bytes; another signature, key or expiry gets 403."""
    key = _key()
    documents.put(key, PDF, content_type="application/pdf")
    url = documents.presigned_url(key, ttl=60)
    assert url is not None and "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url and "X-Amz-Expires=60" in url
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200 and response.read() == PDF
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    signature = query["X-Amz-Signature"]
    tampered = [
        url.replace(signature, signature[:-1] + ("0" if signature[-1] != "0" else "1")),
        url.replace("X-Amz-Expires=60", "X-Amz-Expires=6000"),
        url.replace(key, _key()),
    ]
    for bad in tampered:
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(bad, timeout=10)
        assert caught.value.code == 403
    short = documents.presigned_url(key, ttl=1)
    assert short is not None
    time.sleep(2.1)
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(short, timeout=10)
    assert caught.value.code == 403
    with pytest.raises(StorageError):
        documents.presigned_url(key, ttl=0)


@pytest.mark.parametrize("bucket", [DOCUMENTS, ARCHIVE])
def test_a_large_object_goes_up_in_parts_and_round_trips(s3_client: Any, bucket: str) -> None:
    """20 MB: a multipart upload with a SHA-256 per part, read back and checked; still write-once."""
    storage = S3Storage(s3_client, bucket, lock_retention=bucket == ARCHIVE, clock=server_now)
    data, key = os.urandom(20 * 1024 * 1024), _key("gros.pdf")
    until = datetime.now(UTC) + timedelta(days=1) if bucket == ARCHIVE else None
    stored = storage.put(key, data, content_type="application/pdf", retain_until=until)
    assert stored.sha256 == sha256_hex(data) and stored.size == len(data)
    head = s3_client.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"].endswith("-3")  # 8 + 8 + 4 MiB, the checksum of the parts' checksums
    assert head["Metadata"]["sha256"] == sha256_hex(data)
    assert storage.get(key, sha256=sha256_hex(data)) == data
    with pytest.raises(ObjectExists):
        storage.put(key, data[:-1] + b"!", content_type="application/pdf", retain_until=until)
    assert storage.put(key, data, content_type="application/pdf", retain_until=until).sha256 == stored.sha256
    if bucket == ARCHIVE:
        with pytest.raises(ObjectLocked):
            storage.delete(key)
    uploads = s3_client.list_multipart_uploads(Bucket=bucket, Prefix=key).get("Uploads", [])
    assert uploads == []


def test_a_part_with_a_wrong_checksum_is_refused(s3_client: Any) -> None:
    """The server checks each part's SHA-256 too."""
    key = _key()
    upload = s3_client.create_multipart_upload(Bucket=DOCUMENTS, Key=key, ChecksumAlgorithm="SHA256")
    try:
        with pytest.raises(ClientError) as caught:
            s3_client.upload_part(
                Bucket=DOCUMENTS, Key=key, UploadId=upload["UploadId"], PartNumber=1, Body=PDF,
                ChecksumAlgorithm="SHA256", ChecksumSHA256=_b64(b"autre"),
            )  # fmt: skip
        assert isinstance(translate_error(caught.value, bucket=DOCUMENTS, key=key, action="put"), ChecksumMismatch)
    finally:
        s3_client.abort_multipart_upload(Bucket=DOCUMENTS, Key=key, UploadId=upload["UploadId"])


def test_ensure_bucket(seaweedfs: SeaweedFS, s3_client: Any) -> None:
    """Idempotent; an archive bucket gets versioning, object lock and a default COMPLIANCE retention;
    a bucket created without object lock is refused as an archive."""
    name = f"conum-t-{uuid.uuid4().hex[:12]}"
    ensure_bucket(s3_client, name, object_lock=True, retention_days=2)
    ensure_bucket(s3_client, name, object_lock=True, retention_days=2)
    assert s3_client.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    storage = S3Storage(s3_client, name, lock_retention=True, clock=server_now)
    stored = storage.put(_key(), PDF, content_type="application/pdf")  # no date: the bucket's default
    assert stored.retain_until is not None
    assert timedelta(days=2) - timedelta(minutes=1) < stored.retain_until - datetime.now(UTC) <= timedelta(days=2)
    with pytest.raises(ObjectLocked):
        storage.delete(stored.key)
    plain = f"conum-t-{uuid.uuid4().hex[:12]}"
    ensure_bucket(s3_client, plain, object_lock=False)
    with pytest.raises(StorageError, match="verrouillage"):
        ensure_bucket(s3_client, plain, object_lock=True)
    with pytest.raises(StorageError, match="invalide"):
        ensure_bucket(s3_client, "ab", object_lock=False)


# -- failures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def unreachable_client() -> Any:
    """A client whose endpoint is a closed port: a stopped server."""
    port = _free_port()  # nothing listens there
    return build_s3_client(
        Settings(s3_endpoint_url=f"http://127.0.0.1:{port}", s3_access_key_id="k", s3_secret_access_key="s")
    )


def test_a_stopped_server_raises_storage_unavailable_quickly(unreachable_client: Any) -> None:
    """Connection refused: botocore retries, then StorageUnavailable (transient) within seconds."""
    storage = S3Storage(unreachable_client, DOCUMENTS, clock=server_now)
    key = _key()
    calls: list[Callable[[], object]] = [
        lambda: storage.put(key, PDF, content_type="application/pdf"),
        lambda: storage.get(key),
        lambda: storage.head(key),
        lambda: storage.exists(key),
        lambda: storage.delete(key),
        lambda: ensure_bucket(storage.client, DOCUMENTS, object_lock=False),
    ]
    for call in calls:
        started = time.monotonic()
        with pytest.raises(StorageUnavailable) as caught:
            call()
        assert time.monotonic() - started < 10
        assert isinstance(caught.value.__cause__, EndpointConnectionError)
    assert storage.presigned_url(key, ttl=60) is not None  # signing needs no server


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never answers."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in accepted:
            conn.close()
        server.close()


def test_a_server_that_does_not_answer_raises_storage_unavailable(silent_server: int) -> None:
    """A read timeout is transient too."""
    client = build_s3_client(
        Settings(s3_endpoint_url=f"http://127.0.0.1:{silent_server}", s3_access_key_id="k", s3_secret_access_key="s"),
        read_timeout=0.3,
    )
    started = time.monotonic()
    with pytest.raises(StorageUnavailable) as caught:
        S3Storage(client, DOCUMENTS, clock=server_now).get(_key())
    assert time.monotonic() - started < 10
    assert isinstance(caught.value.__cause__, ReadTimeoutError)


def _client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "message"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutObject"
    )


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (_client_error("SlowDown", 503), StorageUnavailable),
        (_client_error("InternalError", 500), StorageUnavailable),
        (_client_error("ServiceUnavailable", 503), StorageUnavailable),
        (_client_error("ThrottlingException", 400), StorageUnavailable),
        (_client_error("RequestTimeout", 400), StorageUnavailable),
        (_client_error("ConditionalRequestConflict", 409), StorageUnavailable),
        (_client_error("TooManyRequests", 429), StorageUnavailable),
        (_client_error("NoSuchKey", 404), ObjectNotFound),
        (_client_error("404", 404), ObjectNotFound),
        (_client_error("NoSuchVersion", 404), ObjectNotFound),
        (_client_error("BadDigest", 400), ChecksumMismatch),
        (_client_error("XAmzContentChecksumMismatch", 400), ChecksumMismatch),
        (_client_error("PreconditionFailed", 412), ObjectExists),
        (_client_error("NoSuchBucket", 404), StorageError),
        (_client_error("AccessDenied", 403), StorageError),
        (_client_error("InvalidAccessKeyId", 403), StorageError),
        (_client_error("SignatureDoesNotMatch", 403), StorageError),
        (EndpointConnectionError(endpoint_url="http://x"), StorageUnavailable),
        (ConnectTimeoutError(endpoint_url="http://x"), StorageUnavailable),
        (ReadTimeoutError(endpoint_url="http://x"), StorageUnavailable),
    ],
)
def test_botocore_errors_are_translated(error: Exception, expected: type[StorageError]) -> None:
    """Transient failures become StorageUnavailable (retried); the rest are permanent, and typed."""
    translated = translate_error(error, bucket=DOCUMENTS, key="a/b.pdf", action="put")  # type: ignore[arg-type]
    assert type(translated) is expected
    assert translated.key == "a/b.pdf" and translated.message


@pytest.mark.parametrize("key", ["", "/abs", "../x", "a//b", "a b", "é.pdf", "x" * 513])
def test_unsafe_keys_are_refused_before_any_request(unreachable_client: Any, key: str) -> None:
    """Key rules are the port's: a StorageError, not a network error, even with no server."""
    storage = S3Storage(unreachable_client, DOCUMENTS, clock=server_now)
    for call in (
        lambda: storage.put(key, PDF, content_type="application/pdf"),
        lambda: storage.get(key),
        lambda: storage.delete(key),
        lambda: storage.presigned_url(key, ttl=60),
    ):
        with pytest.raises(StorageError) as caught:
            call()
        assert not isinstance(caught.value, StorageUnavailable)
