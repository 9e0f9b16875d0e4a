"""Issued documents and archive certificates, for download (the HTTP API and the web pages).

A document is read back against the SHA-256 the catalog holds; on S3 the caller gets a presigned
URL instead (``PRESIGNED_URL_TTL``) so the bytes do not go through the service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dossiers.errors import ConumError, ErrorCode
from dossiers.ports import AppPorts

__all__ = ["Telechargement", "issued_document", "archive_certificate", "ascii_filename"]


@dataclass(frozen=True)
class Telechargement:
    sha256: str
    size: int
    content_type: str
    filename: str
    url: str | None  # presigned (S3); None: ``data`` holds the checked bytes
    data: bytes | None
    detail: dict[str, Any]


def ascii_filename(text: str) -> str:
    """A name safe in a Content-Disposition header: ASCII letters, digits, « - _ . », at most 100."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in text)[:100]


def issued_document(app: AppPorts, convention_id: str, numero: int, kind: str) -> Telechargement:
    version = app.catalog.find_version(convention_id, numero)
    ref = version.document(kind) if version is not None else None
    if ref is None:
        raise ConumError(f"Pas de document {kind.upper()} pour la version {numero} de la convention {convention_id}.",
                         code=ErrorCode.OBJET_INTROUVABLE)
    url = app.storage.presigned_url(ref.key, ttl=app.settings.presigned_url_ttl)
    data = None if url is not None else app.storage.get(ref.key, sha256=ref.sha256)
    return Telechargement(ref.sha256, ref.size, ref.content_type, f"{ascii_filename(convention_id)}-v{numero}.{kind}", url, data,
                          {"kind": kind, "version": numero, "sha256": ref.sha256, "size": ref.size})


def archive_certificate(app: AppPorts, convention_id: str, numero: int, sha256: str | None = None) -> Telechargement:
    """The certificate of the signed copy ``sha256`` of a version (default: the last one archived)."""
    copies = [(a, a.certificat_key) for a in app.catalog.find_archives(convention_id=convention_id)
              if a.version == numero and a.certificat_key and (sha256 is None or a.sha256 == sha256)]
    if not copies:
        raise ConumError(f"Aucune copie signée archivée pour la version {numero} de la convention {convention_id}.",
                         code=ErrorCode.OBJET_INTROUVABLE)
    record, key = max(copies, key=lambda c: (c[0].archived_at, c[0].id))
    url = app.archive.presigned_url(key, ttl=app.settings.presigned_url_ttl)
    data = None if url is not None else app.archive.get(key, sha256=record.certificat_sha256)
    return Telechargement(record.certificat_sha256 or "", len(data or b""), "application/pdf",
                          f"certificat-{ascii_filename(convention_id)}-v{numero}.pdf", url, data,
                          {"version": numero, "sha256": record.sha256, "certificat_sha256": record.certificat_sha256})
