"""The S3 client, bucket set-up and error translation of the S3 storage (``s3.py``).

``build_s3_client`` makes a boto3 client from settings (SigV4, short timeouts, botocore's standard
retries); ``ensure_bucket`` creates a missing bucket (the archive: object lock, versioning, default
COMPLIANCE retention); ``translate_error`` turns a botocore exception into the storage errors of
``dossiers.errors``: transient (connection, timeouts, 5xx, throttling) → ``StorageUnavailable``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    FlexibleChecksumError,
    HTTPClientError,
    SSLError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from dossiers.errors import ChecksumMismatch, ObjectExists, ObjectNotFound, StorageError, StorageUnavailable

if TYPE_CHECKING:
    from dossiers.settings import Settings

__all__ = ["build_s3_client", "ensure_bucket", "translate_error", "CONNECT_TIMEOUT", "READ_TIMEOUT", "MAX_ATTEMPTS"]

CONNECT_TIMEOUT = 3.0  # seconds
READ_TIMEOUT = 20.0  # seconds without a byte from the server
MAX_ATTEMPTS = 3  # botocore's own retries of transient errors, backoff included

_TRANSIENT_CODES = frozenset({
    "SlowDown", "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
    "RequestThrottledException", "TooManyRequestsException", "RequestLimitExceeded", "RequestTimeout",
    "RequestTimeoutException", "ServiceUnavailable", "InternalError", "OperationAborted",
    "ConditionalRequestConflict",
})  # fmt: skip
_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchVersion"})
_CHECKSUM_CODES = frozenset({
    "BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch", "XAmzContentChecksumMismatch", "InvalidChecksum",
})  # fmt: skip
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_ACTIONS = {"put": "Écriture", "get": "Lecture", "head": "Lecture", "delete": "Suppression", "sign": "Signature"}


def translate_error(exc: BotoCoreError | ClientError, *, bucket: str, key: str | None, action: str) -> StorageError:
    """The storage error for one boto3/botocore exception (``raise translate_error(...) from exc``)."""
    what = f"{_ACTIONS.get(action, action)} de l'objet {key} dans {bucket}" if key else f"Compartiment {bucket}"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        detail = f"{code or status} {error.get('Message', '')}".strip()
        if status >= 500 or status == 429 or code in _TRANSIENT_CODES:
            return StorageUnavailable(f"{what} : stockage S3 momentanément indisponible ({detail}).", key=key)
        if code == "NoSuchBucket":
            return StorageError(f"{what} : le compartiment {bucket} n'existe pas.", key=key)
        if code in _NOT_FOUND_CODES or status == 404:
            return ObjectNotFound(f"Aucun objet sous la clé {key} dans {bucket}.", key=key)
        if code in _CHECKSUM_CODES:
            return ChecksumMismatch(
                f"{what} : le serveur a refusé les octets, leur somme de contrôle ne correspond pas ({detail}).",
                key=key,
            )
        if status == 412 or code == "PreconditionFailed":
            return ObjectExists(
                f"Un objet existe déjà sous la clé {key} dans {bucket} : il ne sera pas remplacé.", key=key
            )
        return StorageError(f"{what} refusée par le stockage S3 ({detail}).", key=key)
    if isinstance(exc, FlexibleChecksumError):
        return ChecksumMismatch(
            f"{what} : les octets reçus ne correspondent pas à leur somme de contrôle ({exc}).", key=key
        )
    if isinstance(exc, SSLError):  # a certificate problem is configuration, retrying will not fix it
        return StorageError(f"{what} : échec TLS ({exc}).", key=key)
    if isinstance(exc, BotoConnectionError | HTTPClientError):  # refused, reset, timeouts, cut streams
        return StorageUnavailable(f"{what} : stockage S3 injoignable ({exc}).", key=key)
    return StorageError(f"{what} impossible ({exc}).", key=key)


def build_s3_client(
    settings: Settings, *, connect_timeout: float = CONNECT_TIMEOUT, read_timeout: float = READ_TIMEOUT
) -> Any:
    """A boto3 S3 client from settings: endpoint, region, credentials, SigV4, short timeouts, retries."""
    import boto3
    from botocore.config import Config

    config = Config(
        signature_version="s3v4",  # against a custom endpoint boto3 would presign with SigV2
        region_name=settings.s3_region,
        retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        s3={"addressing_style": "path"} if settings.s3_endpoint_url else None,
    )
    session = boto3.session.Session()  # one per client: sessions are not thread-safe, clients are
    return session.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id,
        aws_secret_access_key=settings.s3_secret_access_key,
        config=config,
    )


def ensure_bucket(client: Any, bucket: str, *, object_lock: bool, retention_days: int | None = None) -> None:
    """Create ``bucket`` if missing. With ``object_lock``: created with object lock, versioning on,
    and, given ``retention_days``, a default retention in COMPLIANCE mode; an existing bucket
    without object lock is refused (S3 cannot add it to a bucket that lacks it)."""
    if not _BUCKET_NAME.fullmatch(bucket) or ".." in bucket:
        raise StorageError(f"Nom de compartiment S3 invalide : {bucket!r} (3 à 63 caractères a-z 0-9 . -).")
    try:
        try:
            client.head_bucket(Bucket=bucket)
        except ClientError as exc:
            if _status(exc) != 404 and _code(exc) not in ("404", "NoSuchBucket", "NotFound"):
                raise
            _create_bucket(client, bucket, object_lock=object_lock)
        if not object_lock:
            return
        client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        try:
            current = client.get_object_lock_configuration(Bucket=bucket).get("ObjectLockConfiguration", {})
        except ClientError as exc:
            if _status(exc) not in (400, 404):
                raise
            current = {}
        if current.get("ObjectLockEnabled") != "Enabled":
            raise StorageError(
                f"Le compartiment {bucket} existe sans verrouillage d'objets (object lock) : les archives ne "
                "peuvent pas y être conservées. Créer un nouveau compartiment (S3_BUCKET_ARCHIVE)."
            )
        if retention_days is not None:
            wanted = {"Mode": "COMPLIANCE", "Days": retention_days}
            if current.get("Rule", {}).get("DefaultRetention") != wanted:
                client.put_object_lock_configuration(
                    Bucket=bucket,
                    ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": wanted}},
                )
    except (BotoCoreError, ClientError) as exc:
        raise translate_error(exc, bucket=bucket, key=None, action="bucket") from exc


def _create_bucket(client: Any, bucket: str, *, object_lock: bool) -> None:
    params: dict[str, Any] = {"Bucket": bucket}
    region = client.meta.region_name
    if region and region != "us-east-1":
        params["CreateBucketConfiguration"] = {"LocationConstraint": region}
    if object_lock:
        params["ObjectLockEnabledForBucket"] = True
    try:
        client.create_bucket(**params)
    except ClientError as exc:
        if _code(exc) != "BucketAlreadyOwnedByYou":  # created meanwhile by another process of ours
            raise


def _code(exc: BaseException | None) -> str:
    return str(exc.response.get("Error", {}).get("Code", "")) if isinstance(exc, ClientError) else ""


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
