"""Typed settings, built once from an environment mapping (``os.environ`` by default).

Every variable is optional: the defaults give the embedded setup (SQLite and a local directory
under ``var/``, PDF through LibreOffice found on the PATH). A bad value fails loudly at startup
with the variable's name. Tests build settings from a plain dict.

A ``.env`` file in the working directory (``config/.env.example`` shows every variable) is read by
:func:`environment`, python-dotenv's syntax; a variable set in the process environment wins over
the file, so a deployment can always override it. ``CONUM_ENV_FILE`` names another file, or none
when empty (the test suite sets it empty: a developer's ``.env`` must not leak into its processes).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dossiers.domain.demande import french_message
from dossiers.domain.pieces import DEFAULT_POLICIES, MB, KindPolicy, PieceKind

__all__ = ["Settings", "SettingsError", "ENV_VARS", "ENV_FILE", "env_file", "SECRET_VARS", "environment", "sources", "masked"]

ROOT = Path(__file__).resolve().parent.parent

# Environment variable -> settings field. The README's configuration table lists the same.
ENV_VARS: dict[str, str] = {
    "CONUM_VAR_DIR": "var_dir",
    "DATABASE_URL": "database_url",
    "STORAGE_DIR": "storage_dir",
    "CONUM_RULES_DIR": "rules_dir",
    "CONUM_TEMPLATES_DIR": "templates_dir",
    "PDF_CONVERTER": "pdf_converter",
    "CONVERTER_URLS": "converter_urls",
    "CONVERTER_POOL_SIZE": "converter_pool_size",
    "CONVERTER_PORT": "converter_port",
    "CONVERSION_TIMEOUT": "conversion_timeout",
    "UNOSERVER_BIN": "unoserver_bin",
    "SOFFICE_BIN": "soffice_bin",
    "PIECES_FILE": "pieces_file",
    "PIECE_MAX_MB": "piece_max_mb",
    "INSPECTION_WORKERS": "inspection_workers",
    "INSPECTION_TIMEOUT": "inspection_timeout",
    "INSPECTION_MEMORY_MB": "inspection_memory_mb",
    "CLAMD_ADDRESS": "clamd_address",
    "CLAMD_TIMEOUT": "clamd_timeout",
    "BROKER_URL": "broker_url",
    "BROKER_HEARTBEAT_TIMEOUT": "broker_heartbeat_timeout",
    "BROKER_MAINTENANCE_CHANCE": "broker_maintenance_chance",
    "WORKER_PROCESSES": "worker_processes",
    "WORKER_THREADS": "worker_threads",
    "JOB_MAX_RETRIES": "job_max_retries",
    "PROMETHEUS_PORT": "prometheus_port",
    "S3_ENDPOINT_URL": "s3_endpoint_url",
    "S3_REGION": "s3_region",
    "S3_ACCESS_KEY_ID": "s3_access_key_id",
    "S3_SECRET_ACCESS_KEY": "s3_secret_access_key",
    "S3_BUCKET_DOCUMENTS": "s3_bucket_documents",
    "S3_BUCKET_PIECES": "s3_bucket_pieces",
    "S3_BUCKET_ARCHIVE": "s3_bucket_archive",
    "ARCHIVE_DIR": "archive_dir",
    "STAGING_DIR": "staging_dir",
    "ARCHIVE_RETENTION_DAYS": "archive_retention_days",
    "IDENTITE_RETENTION_DAYS": "identite_retention_days",
    "PRESIGNED_URL_TTL": "presigned_url_ttl",
    "REISSUE_PROCESSES": "reissue_processes",
    "REISSUE_THREADS": "reissue_threads",
    "OIDC_ISSUER": "oidc_issuer",
    "OIDC_CLIENT_ID": "oidc_client_id",
    "OIDC_CLIENT_SECRET": "oidc_client_secret",
    "OIDC_SCOPES": "oidc_scopes",
    "WEB_BASE_URL": "web_base_url",
    "SESSION_SECRET": "session_secret",
    "SESSION_MAX_AGE": "session_max_age",
    "API_HOST": "api_host",
    "API_PORT": "api_port",
    "API_WORKERS": "api_workers",
    "API_RATE_LIMIT": "api_rate_limit",
    "API_RATE_BURST": "api_rate_burst",
    "API_TRUSTED_PROXIES": "api_trusted_proxies",
    "OIDC_REQUIRE_EMAIL_VERIFIED": "oidc_require_email_verified",
    "SIGNATURE_TRUST_ROOTS": "signature_trust_roots",
    "TSA_URL": "tsa_url",
    "TSA_TIMEOUT": "tsa_timeout",
    "SEAL_PKCS12": "seal_pkcs12",
    "SEAL_PKCS12_PASSWORD": "seal_pkcs12_password",
    "SEAL_PKCS11_MODULE": "seal_pkcs11_module",
    "SEAL_PKCS11_TOKEN": "seal_pkcs11_token",
    "SEAL_PKCS11_PIN": "seal_pkcs11_pin",
    "SEAL_PKCS11_KEY_LABEL": "seal_pkcs11_key_label",
    "SEAL_PKCS11_CERT_LABEL": "seal_pkcs11_cert_label",
    "SEAL_CHAIN": "seal_chain",
    "LEDGER_ANCHOR_HOURS": "ledger_anchor_hours",
    "A_SIGNER_RELANCE_JOURS": "a_signer_relance_jours",
    "DS_API_URL": "ds_api_url",
    "DS_API_TOKEN": "ds_api_token",
    "DS_CONFIG_DIR": "ds_config_dir",
    "DS_SYNC_INTERVAL": "ds_sync_interval",
    "WEBHOOK_ALLOWED_HOSTS": "webhook_allowed_hosts",
    "WEBHOOK_TIMEOUT": "webhook_timeout",
    "WEBHOOK_RETRY_HOURS": "webhook_retry_hours",
}


ENV_FILE = ".env"
ENV_FILE_VARIABLE = "CONUM_ENV_FILE"
# Never printed (``conum config``): passwords, PINs, keys; and a URL's password (see ``masked``).
SECRET_VARS = frozenset({"S3_SECRET_ACCESS_KEY", "OIDC_CLIENT_SECRET", "SESSION_SECRET", "SEAL_PKCS12_PASSWORD",
                         "SEAL_PKCS11_PIN", "DS_API_TOKEN"})


def env_file(cwd: Path | None = None, process: Mapping[str, str] | None = None) -> Path | None:
    """The settings file read: ``CONUM_ENV_FILE`` of the process environment (relative to ``cwd``;
    empty: none), else ``.env``."""
    chosen = (os.environ if process is None else process).get(ENV_FILE_VARIABLE, ENV_FILE)
    return (cwd or Path.cwd()) / chosen if chosen.strip() else None


def _dotenv(cwd: Path | None = None, process: Mapping[str, str] | None = None) -> dict[str, str]:
    path = env_file(cwd, process)
    if path is None or not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def environment(env: Mapping[str, str] | None = None, *, cwd: Path | None = None) -> dict[str, str]:
    """The variables conum reads: the working directory's ``.env``, then ``env`` (``os.environ``) over it."""
    process = os.environ if env is None else env
    return {**_dotenv(cwd, process), **process}


def sources(env: Mapping[str, str] | None = None, *, cwd: Path | None = None) -> dict[str, str]:
    """Where each set variable of ``ENV_VARS`` comes from: ``environnement`` or ``.env``."""
    process = os.environ if env is None else env
    from_file = _dotenv(cwd, process)
    out = {}
    for var in ENV_VARS:
        if process.get(var, "") != "":
            out[var] = "environnement"
        elif from_file.get(var, "") != "":
            out[var] = ENV_FILE
    return out


def masked(var: str, value: object) -> str:
    """``value`` as ``conum config`` prints it: secrets as ``****``, a URL's password too."""
    if value is None or value == "" or value == ():
        return ""
    if var in SECRET_VARS:
        return "****"
    text = ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1****@", text)


def _cores() -> int:
    """Cores this process may use (not the host's count), capped: one converter per core."""
    return max(1, min(len(os.sched_getaffinity(0)), 16))


class SettingsError(ValueError):
    """A configuration value is wrong; the message names the environment variable."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    var_dir: Path = Field(default=ROOT / "var")
    database_url: str | None = None  # default: sqlite:///<var_dir>/conum.db
    storage_dir: Path | None = None  # default: <var_dir>/storage
    rules_dir: Path = Field(default=ROOT / "config" / "rules")
    templates_dir: Path = Field(default=ROOT / "templates")
    # auto: CONVERTER_URLS if set, else a local unoserver pool if unoserver is installed, else soffice
    pdf_converter: Literal["auto", "unoserver", "soffice"] = "auto"
    converter_urls: tuple[str, ...] = ()  # host:port of running unoservers, comma separated
    converter_pool_size: int = Field(default_factory=lambda: _cores(), ge=1, le=64)
    converter_port: int = Field(default=2003, ge=1024, le=65000)  # first port of `conum converter`
    conversion_timeout: float = Field(default=120.0, gt=0, le=3600)
    unoserver_bin: str | None = None  # default: .venv-uno/bin/unoserver next to the project, if present
    soffice_bin: str = "soffice"
    pieces_file: Path = Field(default=ROOT / "config" / "pieces.toml")
    # size limit per piece kind in MB, e.g. "identite=20,contrat=15"; unnamed kinds keep their default
    piece_max_mb: dict[str, float] = Field(default_factory=dict)
    inspection_workers: int = Field(default_factory=lambda: _cores(), ge=1, le=64)  # child processes
    inspection_timeout: float = Field(default=5.0, gt=0, le=300)  # seconds of wall clock per file
    inspection_memory_mb: int = Field(default=512, ge=64, le=65536)  # address space of a child
    clamd_address: str | None = None  # host:port of clamd; unset: no antivirus scan
    clamd_timeout: float = Field(default=30.0, gt=0, le=600)
    # jobs: redis://… or amqp://…; unset: an in-process broker and worker (one-shot CLI runs)
    broker_url: str | None = None
    broker_heartbeat_timeout: float = Field(default=60.0, ge=1, le=3600)  # s before a dead worker's jobs requeue
    # Redis: commands out of a million that also requeue a dead worker's jobs (Dramatiq's default, 1 000,
    # leaves them for minutes to hours on a quiet queue)
    broker_maintenance_chance: int = Field(default=100_000, ge=1, le=1_000_000)
    worker_processes: int = Field(default_factory=lambda: _cores(), ge=1, le=64)
    worker_threads: int = Field(default=2, ge=1, le=64)
    job_max_retries: int = Field(default=5, ge=0, le=50)  # transient failures; rejections never retry
    prometheus_port: int | None = Field(default=None, ge=1024, le=65535)  # metrics exported when set
    # documents: S3-compatible storage when S3_ENDPOINT_URL is set, else local directories under STORAGE_DIR
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None  # default: boto3's own chain (AWS_ACCESS_KEY_ID, profiles…)
    s3_secret_access_key: str | None = None
    s3_bucket_documents: str = "conum-documents"
    s3_bucket_pieces: str = "conum-pieces"
    s3_bucket_archive: str = "conum-archive"  # versioned, object lock COMPLIANCE
    archive_dir: Path | None = None  # local archive (write-once, retention enforced): <var>/archive
    staging_dir: Path | None = None  # signed copies waiting for a confirmed archive write: <var>/staging
    archive_retention_days: int = Field(default=3650, ge=1, le=36500)
    identite_retention_days: int = Field(default=90, ge=0, le=3650)  # ID pieces kept after archiving
    presigned_url_ttl: int = Field(default=300, ge=10, le=7 * 24 * 3600)  # seconds
    # « à traiter »: a convention issued and not signed after this many days is listed for a reminder
    a_signer_relance_jours: int = Field(default=30, ge=1, le=3650)
    # batch re-issue workers (`conum worker --reemissions`): their count bounds the batch's share of converters
    reissue_processes: int = Field(default=1, ge=1, le=64)
    reissue_threads: int = Field(default=1, ge=1, le=64)
    # instructeur web pages: OpenID Connect (ProConnect) and the session cookie
    oidc_issuer: str | None = None  # e.g. https://auth.agentconnect.gouv.fr/api/v2 ; unset: no login, no pages
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_scopes: str = "openid email given_name usual_name"
    # the provider must say the email is verified (claim email_verified): the email is what grants rights
    oidc_require_email_verified: bool = True
    web_base_url: str | None = None  # public URL of the service (redirect URI, Secure cookie when https)
    session_secret: str | None = None  # default: a random key kept in <var>/session.key
    session_max_age: int = Field(default=8 * 3600, ge=300, le=7 * 24 * 3600)  # seconds
    # HTTP API (`conum serve`)
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    api_workers: int = Field(default=1, ge=1, le=64)  # uvicorn processes
    api_rate_limit: int = Field(default=600, ge=1, le=1_000_000)  # requests per minute and token (per process)
    api_rate_burst: int = Field(default=120, ge=1, le=1_000_000)  # requests a token may send at once
    # proxies whose X-Forwarded-For/-Proto are believed (the audit log's address): comma separated, or *
    api_trusted_proxies: str = "127.0.0.1"
    # signatures: the roots a returned copy's signer must chain to (a folder of PEM/DER certificates)
    signature_trust_roots: Path | None = None
    tsa_url: str | None = None  # RFC 3161 time-stamping authority (seal timestamps, ledger anchors)
    tsa_timeout: float = Field(default=10.0, gt=0, le=300)
    # the service's seal on every issued PDF: a PKCS#12 file, or a PKCS#11 token; neither: issued unsealed
    seal_pkcs12: Path | None = None
    seal_pkcs12_password: str | None = None
    seal_pkcs11_module: Path | None = None  # e.g. /usr/lib/softhsm/libsofthsm2.so
    seal_pkcs11_token: str | None = None  # token label
    seal_pkcs11_pin: str | None = None
    seal_pkcs11_key_label: str | None = None
    seal_pkcs11_cert_label: str | None = None  # default: the key's label
    seal_chain: Path | None = None  # PEM file of the seal certificate's issuers, embedded in every seal
    ledger_anchor_hours: float = Field(default=24.0, gt=0, le=24 * 31)  # cadence of the ledger's timestamped heads
    # Démarches simplifiées connector (`conum ds sync`): its GraphQL API, a token of an administrateur of
    # the démarche, and the folder of the mapping files (<numero>.toml)
    ds_api_url: str = "https://www.demarches-simplifiees.fr/api/v2/graphql"
    ds_api_token: str | None = None
    ds_config_dir: Path = Field(default=ROOT / "config" / "ds")
    ds_sync_interval: float = Field(default=300.0, ge=5, le=24 * 3600)  # seconds between runs of `--watch`
    # webhooks: hosts or networks (CIDR) a callback may reach although they are loopback, private or
    # link-local (comma separated; tests use 127.0.0.1); everything else must be a public address
    webhook_allowed_hosts: tuple[str, ...] = ()
    webhook_timeout: float = Field(default=10.0, gt=0, le=120)  # seconds per delivery attempt
    webhook_retry_hours: float = Field(default=24.0, gt=0, le=24 * 7)  # how long a delivery is retried

    @field_validator("converter_urls", mode="before")
    @classmethod
    def _split_urls(cls, value: object) -> object:
        if isinstance(value, str):
            value = tuple(part.strip() for part in value.split(",") if part.strip())
        for address in value if isinstance(value, tuple | list) else ():
            host, _, port = str(address).rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"adresse {address!r} : attendu hôte:port (ex. 127.0.0.1:2003)")
        return value

    @field_validator("webhook_allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("piece_max_mb", mode="before")
    @classmethod
    def _split_limits(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        limits: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in value.split(","))):
            kind, _, size = part.partition("=")
            if kind.strip() not in PieceKind.__members__.values():
                raise ValueError(f"nature de pièce inconnue {kind.strip()!r} (attendu : {', '.join(PieceKind)})")
            try:
                limits[kind.strip()] = float(size)
            except ValueError:
                raise ValueError(f"{part!r} : attendu nature=taille_en_Mo (ex. identite=20)") from None
            if not 0 < limits[kind.strip()] <= 1000:
                raise ValueError(f"{part!r} : taille entre 0 et 1000 Mo")
        return limits

    @field_validator("broker_url")
    @classmethod
    def _broker(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://", "amqp://", "amqps://")):
            raise ValueError("attendu redis://hôte:port/0 ou amqp://utilisateur:mot-de-passe@hôte:5672/")
        return value

    @field_validator("clamd_address")
    @classmethod
    def _clamd(cls, value: str | None) -> str | None:
        if value is not None:
            cls._split_urls(value)
        return value

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = environment() if env is None else env
        values = {field: env[var] for var, field in ENV_VARS.items() if env.get(var, "") != ""}
        try:
            return cls(**values)
        except ValidationError as exc:
            by_field = {field: var for var, field in ENV_VARS.items()}
            problems = []
            for err in exc.errors():
                field = str(err["loc"][0]) if err["loc"] else ""
                shown = masked(by_field.get(field, field), values.get(field))
                message = french_message(err).removeprefix("Value error, ")
                problems.append(f"{by_field.get(field, field)}={shown!r} : {message}")
            raise SettingsError("configuration invalide : " + " ; ".join(problems)) from exc

    def policies(self) -> dict[PieceKind, KindPolicy]:
        """Each piece kind's accepted types and limits, with ``PIECE_MAX_MB`` applied."""
        return {
            kind: replace(policy, max_bytes=int(self.piece_max_mb[kind] * MB)) if kind in self.piece_max_mb else policy
            for kind, policy in DEFAULT_POLICIES.items()
        }

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'conum.db'}"

    @property
    def effective_storage_dir(self) -> Path:
        return self.storage_dir or self.var_dir / "storage"

    @property
    def effective_archive_dir(self) -> Path:
        return self.archive_dir or self.var_dir / "archive"

    @property
    def effective_staging_dir(self) -> Path:
        return self.staging_dir or self.var_dir / "staging"

    @property
    def effective_unoserver_bin(self) -> str | None:
        if self.unoserver_bin:
            return self.unoserver_bin
        candidate = ROOT / ".venv-uno" / "bin" / "unoserver"
        return str(candidate) if candidate.exists() else None
