"""Use cases: archive the signed copy of a convention version, verify a file, delete old ID pieces.

A signed copy first goes to staging (write-once, content-addressed). It is then inspected in a
limited child process and matched against the issued version (``domain.checks.signe``). A copy that
is ours (``archive``) is written to the archive under retention; one that a human must confirm
(``a_verifier``) waits in staging, locked by nothing, until an instructeur accepts it
(``accepter_copie``), and is then archived the same way: under retention (object lock COMPLIANCE
on S3, read-only and undeletable locally), read back and checked against its SHA-256, given its
certificat d'archivage (also under retention), recorded in the catalog; only then is it removed from
staging. A storage outage at any step raises a transient error: the job is retried from the staged
copy, and every write is idempotent (same key, same bytes; the retention date and certificate derive
from the first reception; the certificate, sealed, differs at every making, so one already stored under
its key is kept), so nothing is lost or written twice. The signed file is never modified.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from dossiers.domain.archive import STATUTS_ARCHIVES, ArchiveRecord
from dossiers.domain.decisions import Cible, Decision, Verdict
from dossiers.domain.checks.signe import SIGNED_COPY_POLICY, Emis, check_signed_copy, statut_archivage
from dossiers.domain.jobs import Job, JobStatus
from dossiers.domain.pieces import PieceKind, VerificationSignatures
from dossiers.domain.registre import Inscription, Nature
from dossiers.errors import ChangementRefuse, ConumError, ErrorCode, ObjectExists, ObjectNotFound
from dossiers.ports import AppPorts, Storage
from dossiers.services.registre import inscrire_tous

__all__ = ["stage", "release_if_done", "archive_staged", "archive_signed_copy", "accepter_copie", "refuser_copie", "verify_file", "purge_identite",
           "Verification", "staging_key", "key_sha256", "document_link"]

PDF_TYPE = "application/pdf"


def staging_key(sha256: str) -> str:
    return f"signes/{sha256}.pdf"


def key_sha256(key: str) -> str:
    """The SHA-256 a content-addressed key ends with (``staging_key``, ``requetes.store_upload``)."""
    return key.rsplit("/", 1)[-1].removesuffix(".pdf")


def _put_once(store: Storage, key: str, data: bytes, **options: Any) -> Any:
    try:
        return store.put(key, data, content_type=PDF_TYPE, **options)
    except ObjectExists:
        raise  # different bytes under a key derived from these bytes' hash: never overwrite


def _issue_once(store: Storage, key: str, make: Callable[[], bytes], **options: Any) -> Any:
    """A document conum issues (sealed: a signing time and a timestamp make its bytes differ at every
    making), stored once: a retry finds it under its key and keeps it instead of sealing another."""
    if store.exists(key):
        return store.head(key)
    try:
        return store.put(key, make(), content_type=PDF_TYPE, **options)
    except ObjectExists:  # a concurrent delivery stored its own first: that one is the certificate
        return store.head(key)


def stage(data: bytes, app: AppPorts) -> str:
    """Keep the upload in staging until its archive write is confirmed; returns the staging key."""
    key = staging_key(hashlib.sha256(data).hexdigest())
    if not app.staging.exists(key):
        _put_once(app.staging, key, data)
    return key


def _representant(app: AppPorts, convention_id: str, numero: int) -> str | None:
    """« Prénom Nom » of the structure's legal representative, as the version's demande states it."""
    demande = app.catalog.find_demande(convention_id, numero) or {}
    rep = (demande.get("structure") or {}).get("representant") or {}
    name = " ".join(str(rep.get(k) or "").strip() for k in ("prenom", "nom")).strip()
    return name or None


def _emis(app: AppPorts, convention_id: str, version: int | None) -> Emis:
    convention = app.catalog.get_convention(convention_id)
    if convention is None or convention.current is None:
        raise ChangementRefuse(f"Convention {convention_id} inconnue.", code=ErrorCode.CONVENTION_INTROUVABLE)
    chosen = convention.current if version is None else next(
        (v for v in convention.versions if v.numero == version), None)
    if chosen is None:
        raise ChangementRefuse(f"La convention {convention_id} n'a pas de version {version}.",
                               code=ErrorCode.CONVENTION_INTROUVABLE)
    pdf_ref, docx_ref = chosen.document("pdf"), chosen.document("docx")
    if pdf_ref is None:  # every version is recorded with its PDF: a catalog without it is a defect
        raise ConumError(f"La version {chosen.numero} de la convention {convention_id} n'a pas de PDF au catalogue.",
                         code=ErrorCode.ERREUR_INTERNE)
    issued = app.storage.get(pdf_ref.key, sha256=pdf_ref.sha256)
    facts = app.inspector.inspect(issued, policy=SIGNED_COPY_POLICY)
    return Emis(convention_id=convention_id, version=chosen.numero, docx_sha256=docx_ref.sha256 if docx_ref else "",
                pdf_sha256=pdf_ref.sha256, pages=facts.pdf.pages if facts.pdf else 0,
                text=facts.pdf.text if facts.pdf else "", representant=_representant(app, convention_id, chosen.numero))


def archive_staged(key: str, convention_id: str, app: AppPorts, *, version: int | None = None,
                   filename: str | None = None, now: datetime) -> ArchiveRecord:
    """Check and archive a staged copy (a retried or redelivered job calls it again: it converges)."""
    try:
        data = app.staging.get(key)
    except ObjectNotFound:  # already done by an earlier delivery, which emptied staging after it
        sha256 = key_sha256(key)
        done = app.catalog.find_archives(sha256=sha256, convention_id=convention_id, version=version)
        if done and (done[-1].archived_at is not None or done[-1].statut not in STATUTS_ARCHIVES):
            return done[-1]
        raise
    sha256 = hashlib.sha256(data).hexdigest()
    emis = _emis(app, convention_id, version)
    facts = app.inspector.inspect(data, policy=SIGNED_COPY_POLICY, declared_name=filename,
                                  verification=VerificationSignatures(app.racines_confiance, now))
    findings, fields = check_signed_copy(facts, emis)
    record = app.catalog.record_received(ArchiveRecord(
        convention_id=convention_id, version=emis.version, sha256=sha256, sha256_emis=emis.pdf_sha256,
        statut=statut_archivage(findings), findings=tuple(findings), fields=fields, received_at=now,
    ))
    if record.statut == "a_verifier":  # nothing is locked before a human accepts it: it waits in staging
        return record
    if record.statut in STATUTS_ARCHIVES and record.archived_at is None:
        record = _archive(app, record, data, now=now)
    _release(app, key, sha256)
    return record


def _release(app: AppPorts, key: str, sha256: str) -> None:
    """Remove a staged copy once no received copy of these bytes waits on it (à vérifier)."""
    if any(r.statut == "a_verifier" for r in app.catalog.find_archives(sha256=sha256)):
        return
    try:
        app.staging.delete(key)
    except ObjectNotFound:
        pass


def release_if_done(app: AppPorts, job: Job, key: str) -> None:
    """After a signed copy was staged and its job submitted: when that job had already ended (the same copy
    sent again for the same version), nobody will take the staged bytes, so they go, unless a copy of these
    bytes waits for a human or another archive job, queued or running, was given them."""
    if job.status not in (JobStatus.SUCCEEDED, JobStatus.FAILED):
        return
    pending = [j for status in (JobStatus.QUEUED, JobStatus.RUNNING)
               for j in app.catalog.list_jobs(status=status, limit=1000) if j.args.get("staging_key") == key]
    if not pending:
        _release(app, key, key_sha256(key))


def accepter_copie(record_id: int, app: AppPorts, *, par: str, now: datetime, decision: Decision | None = None) -> ArchiveRecord:
    """An instructeur read a copy à vérifier (a scan signed by hand, a copy without a signature field…)
    and accepts it as the signed convention: only now is it written under retention, with its
    certificate (who accepted it, and when, are kept in its fields and as a decision)."""
    par = par.strip()
    if not par:
        raise ChangementRefuse("Indiquez qui accepte la copie (--par).", code=ErrorCode.COPIE_NON_A_VERIFIER)
    record = app.catalog.get_archive(record_id)
    if record is None:
        raise ChangementRefuse(f"Copie signée n° {record_id} inconnue.", code=ErrorCode.COPIE_INTROUVABLE)
    if record.archived_at is not None:
        return record  # archived already (a second call changes nothing)
    # "archive" not yet written: an acceptance (or an archiving) interrupted by a storage outage, resumed
    if record.statut not in ("a_verifier", "archive"):
        raise ChangementRefuse(f"La copie signée n° {record_id} est « {record.statut} » : seule une copie à vérifier "
                               "s'accepte.", code=ErrorCode.COPIE_NON_A_VERIFIER)
    key = staging_key(record.sha256)
    data = app.staging.get(key)
    if hashlib.sha256(data).hexdigest() != record.sha256:
        raise ChangementRefuse(f"La copie en attente n° {record_id} ne correspond plus à son empreinte.",
                               code=ErrorCode.COPIE_INTROUVABLE)
    if record.statut == "a_verifier":
        app.catalog.decide_archive(record_id, decision or Decision(Cible.COPIE, Verdict.ACCEPTE, par, now))
    accepted = _relire(app, record_id)
    if accepted.statut != "archive":  # refused meanwhile by another instructeur
        raise ChangementRefuse(f"La copie signée n° {record_id} a été refusée entre-temps.",
                               code=ErrorCode.DECISION_IMPOSSIBLE)
    if accepted.archived_at is None:
        accepted = _archive(app, accepted, data, now=now)
    _release(app, key, record.sha256)
    return accepted


def refuser_copie(record_id: int, app: AppPorts, *, decision: Decision) -> ArchiveRecord:
    """An instructeur refuses a copy à vérifier: its staged bytes go (nothing was archived), its row, findings
    and the decision stay as the trace."""
    record = app.catalog.get_archive(record_id)
    if record is None:
        raise ChangementRefuse(f"Copie signée n° {record_id} inconnue.", code=ErrorCode.COPIE_INTROUVABLE)
    if record.statut == "a_verifier":
        app.catalog.decide_archive(record_id, decision)  # None when decided meanwhile: what it became answers
    refused = _relire(app, record_id)
    if refused.statut != "refuse" or refused.decision is None:
        raise ChangementRefuse(f"La copie signée n° {record_id} est « {refused.statut} » : seule une copie à vérifier "
                               "se refuse.", code=ErrorCode.COPIE_NON_A_VERIFIER)
    _release(app, staging_key(refused.sha256), refused.sha256)
    return refused


def _relire(app: AppPorts, record_id: int) -> ArchiveRecord:
    """A received copy read again after a decision on it (the catalog never deletes one: gone is a defect)."""
    record = app.catalog.get_archive(record_id)
    if record is None:
        raise ConumError(f"Copie signée n° {record_id} disparue du catalogue.", code=ErrorCode.ERREUR_INTERNE)
    return record


def _archive(app: AppPorts, record: ArchiveRecord, data: bytes, *, now: datetime) -> ArchiveRecord:
    retain_until = record.received_at + timedelta(days=app.settings.archive_retention_days)
    base = f"conventions/{record.convention_id}/v{record.version}/signe-{record.sha256[:16]}"
    stored = _put_once(app.archive, f"{base}.pdf", data, retain_until=retain_until)
    app.archive.get(stored.key, sha256=record.sha256)  # read back: the archive holds these very bytes
    def certificat() -> bytes:
        return app.sceller(app.dessins.certificat_archivage(
            convention_id=record.convention_id, version=record.version, sha256_signe=record.sha256,
            sha256_emis=record.sha256_emis, archived_at=record.received_at, retain_until=retain_until,
            key=stored.key, version_id=stored.version_id, statut=record.statut,
            signatures=record.fields.get("signatures", []), generated_at=record.received_at,
        ))

    cert = _issue_once(app.archive, f"{base}.certificat.pdf", certificat, retain_until=retain_until)
    inscrire_tous(app, [Inscription(Nature.COPIE_SIGNEE, stored.key, record.sha256),
                        Inscription(Nature.CERTIFICAT, cert.key, cert.sha256)], now=now)  # before: a retry redoes it
    app.catalog.record_archived(record.id, storage_key=stored.key, version_id=stored.version_id,
                                retain_until=retain_until, certificat_key=cert.key, certificat_sha256=cert.sha256,
                                archived_at=now)
    return next(r for r in app.catalog.find_archives(convention_id=record.convention_id) if r.id == record.id)


def archive_signed_copy(data: bytes, convention_id: str, app: AppPorts, *, version: int | None = None,
                        filename: str | None = None, now: datetime) -> ArchiveRecord:
    return archive_staged(stage(data, app), convention_id, app, version=version, filename=filename, now=now)


@dataclass(frozen=True)
class Verification:
    sha256: str
    archives: list[ArchiveRecord]
    emis: list[tuple[str, int, str, str]]  # (convention id, version, kind, key) of issued documents
    certificats: list[ArchiveRecord] = field(default_factory=list)  # copies this file certifies


def verify_file(data: bytes, app: AppPorts) -> Verification:
    """Where a file is known: archived signed copy (with its lock), a document conum issued, or the
    certificat d'archivage conum wrote for an archived copy."""
    sha256 = hashlib.sha256(data).hexdigest()
    return Verification(sha256, app.catalog.find_archives(sha256=sha256), app.catalog.find_documents(sha256=sha256),
                        app.catalog.find_archives(certificat_sha256=sha256))


def purge_identite(app: AppPorts, *, now: datetime, dry_run: bool = False) -> list[tuple[int, str, str]]:
    """Delete the ID pieces of dossiers whose convention was archived more than
    ``IDENTITE_RETENTION_DAYS`` ago; the catalog keeps each piece's row (kind, SHA-256, result) with
    the date of deletion as the trace."""
    before = now - timedelta(days=app.settings.identite_retention_days)
    due = app.catalog.pieces_to_purge(kind=str(PieceKind.IDENTITE), archived_before=before)
    if not dry_run:
        for piece_id, _dossier, key in due:
            sha256 = key.rsplit("/", 1)[-1]
            # the piece, and the copy a submission left in the upload inbox (televersements/<sha256>)
            for store, stored_key in ((app.pieces_storage, key), (app.storage, f"televersements/{sha256}")):
                try:
                    store.delete(stored_key)
                except ObjectNotFound:
                    pass
            app.catalog.mark_piece_purged(piece_id, now=now)
    return due


def document_link(app: AppPorts, convention_id: str, *, version: int | None, kind: str) -> tuple[str, str | None]:
    """(key, URL) to download an issued document: a presigned SigV4 GET on S3, valid
    ``PRESIGNED_URL_TTL`` seconds; None on the local storage (the HTTP API streams it instead)."""
    convention = app.catalog.get_convention(convention_id)
    chosen = None if convention is None else (convention.current if version is None else next(
        (v for v in convention.versions if v.numero == version), None))
    ref = chosen.document(kind) if chosen is not None else None
    if ref is None:
        raise ChangementRefuse(f"Aucun document {kind.upper()} pour {convention_id}"
                               f"{f' version {version}' if version else ''}.", code=ErrorCode.CONVENTION_INTROUVABLE)
    return ref.key, app.storage.presigned_url(ref.key, ttl=app.settings.presigned_url_ttl)
