"""Use cases: validate a piece, keep a dossier's pieces, and report on the dossier.

A piece goes through, in this order: the antivirus (when clamd is configured; nothing parses a file
before it is scanned), the inspection in a limited child process (type from the bytes, PDF or image
facts), then the pure checks of its kind. A dossier's pieces are stored content-addressed
(``dossiers/<id>/pieces/<sha256>``), never overwritten; an infected file goes to
``quarantaine/<sha256>`` instead and its finding is kept with the dossier.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from dossiers.clock import paris_date
from dossiers.domain.checks import check_piece
from dossiers.domain.demande import parse_demande, validate_demande
from dossiers.domain.dossier import (
    Dossier,
    DossierStatut,
    DossierView,
    PieceRecord,
    dossier_id_for,
    dossier_view,
)
from dossiers.domain.findings import Finding, FindingCode, Severity, Statut
from dossiers.domain.model import Demande, EtatPoste
from dossiers.domain.pieces import Contexte, FileFacts, PieceKind, PieceResult, Probleme, safe_filename
from dossiers.domain.rapport import rapport_digest
from dossiers.domain.registre import Nature
from dossiers.domain.structures import verifier_espace
from dossiers.errors import DossierError, ErrorCode
from dossiers.ports import AppPorts
from dossiers.services.generation import demande_digest
from dossiers.services.requetes import store_once

__all__ = [
    "validate_piece", "read_piece", "validate_file", "open_dossier", "dossier_from_demande", "add_piece", "view_dossier",
    "dossier_generable", "demande_generable", "rapport_dossier", "piece_key", "QUARANTINE_PREFIX", "Rapport", "verifier_poste",
]

QUARANTINE_PREFIX = "quarantaine/"
_DOSSIER_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")
UNKNOWN_TYPE = "application/octet-stream"


def validate_piece(data: bytes, kind: PieceKind, ctx: Contexte, app: AppPorts, *, filename: str | None = None) -> PieceResult:
    """Scan, inspect and check one file; nothing is stored."""
    policy = app.policies[kind]
    scan = app.scanner.scan(data)
    if scan.infected:
        finding = Finding(FindingCode.VIRUS_DETECTE, Severity.ERREUR,
                          f"L'antivirus a détecté « {scan.signature} » dans ce fichier : il est mis en quarantaine "
                          "et n'est pas joint au dossier.")
        return PieceResult(kind, UNKNOWN_TYPE, hashlib.sha256(data).hexdigest(), len(data), (finding,),
                           {"signature_virale": scan.signature})
    facts = app.inspector.inspect(data, policy=policy, declared_name=filename)
    result = check_piece(kind, facts, ctx, policy)
    if scan.scanned:
        result.fields.setdefault("antivirus", "sain")
    return result


def read_piece(path: Path, kind: PieceKind, app: AppPorts) -> bytes | FileFacts:
    """The bytes of a file to validate, or, when it is over the kind's size limit, the facts that say
    so (hashed and sniffed by streaming: a huge file is never held in memory nor parsed)."""
    policy = app.policies[kind]
    with path.open("rb") as f:
        data = f.read(policy.max_bytes + 1)
        if len(data) <= policy.max_bytes:
            return data
        digest, size = hashlib.sha256(data), len(data)
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return FileFacts(size=size, sha256=digest.hexdigest(), mime=app.inspector.sniff(data[:8192]), declared_name=path.name,
                     probleme=Probleme.TROP_GROS)


def validate_file(path: Path, kind: PieceKind, ctx: Contexte, app: AppPorts) -> PieceResult:
    """``validate_piece`` for a file on disk, bounded in memory whatever its size."""
    data = read_piece(path, kind, app)
    if isinstance(data, FileFacts):
        return check_piece(kind, data, ctx, app.policies[kind])
    return validate_piece(data, kind, ctx, app, filename=path.name)


def dossier_from_demande(dossier_id: str, demande: Demande) -> Dossier:
    s = demande.structure
    return Dossier(
        id=dossier_id, structure_id=s.id, siret=s.siret, denomination=s.denomination, nature=str(s.nature),
        departement=s.departement, representant=f"{s.representant.prenom} {s.representant.nom}",
        postes_occupes=tuple(
            (p.id, f"{p.conseiller.prenom} {p.conseiller.nom}" if p.conseiller else "")
            for p in demande.postes if p.etat is EtatPoste.OCCUPE
        ),
    )


def open_dossier(payload: dict[str, Any], app: AppPorts, *, dossier_id: str | None = None) -> Dossier:
    """Record the dossier of a demande (created, or its demande updated); raises ``DemandeInvalide``."""
    canonical = validate_demande(payload).model_dump(mode="json")
    demande = parse_demande(payload)
    did = dossier_id or dossier_id_for(demande.structure.id, demande.vague)
    if not _DOSSIER_ID.fullmatch(did):
        raise DossierError(f"Identifiant de dossier invalide {did[:120]!r} : 1 à 100 caractères A-Z a-z 0-9 . _ -.",
                           code=ErrorCode.PIECE_INVALIDE)
    known = app.catalog.get_structure(demande.structure.id)
    if known is None:  # a new id: not in another département's namespace
        verifier_espace(demande.structure)
    if known is not None and known.departement != demande.structure.departement:
        raise DossierError(f"La structure {demande.structure.id} est enregistrée dans le département {known.departement} : "
                           "une demande ne peut pas la déplacer.", code=ErrorCode.PIECE_INVALIDE)
    existing = app.catalog.get_dossier_demande(did)
    if existing is not None:
        before = parse_demande(existing)
        if (before.structure.id, before.vague) != (demande.structure.id, demande.vague):
            raise DossierError(f"Le dossier {did} est celui de la structure {before.structure.id} (vague "
                               f"{before.vague}) : il ne peut pas changer de structure ni de vague.",
                               code=ErrorCode.PIECE_INVALIDE)
    app.catalog.save_dossier(did, structure=demande.structure, vague=demande.vague, demande_json=canonical,
                             demande_sha256=demande_digest(canonical))
    return dossier_from_demande(did, demande)


def _demande(dossier_id: str, app: AppPorts) -> dict[str, Any]:
    """The demande a dossier was opened with; ``DossierError`` (dossier_introuvable) for an unknown one."""
    payload = app.catalog.get_dossier_demande(dossier_id)
    if payload is None:
        raise DossierError(f"Dossier {dossier_id} inconnu.", code=ErrorCode.DOSSIER_INTROUVABLE)
    return payload


def _dossier(dossier_id: str, app: AppPorts) -> Dossier:
    return dossier_from_demande(dossier_id, parse_demande(_demande(dossier_id, app)))


def piece_key(dossier_id: str, sha256: str) -> str:
    return f"dossiers/{dossier_id}/pieces/{sha256}"


def add_piece(
    dossier_id: str,
    data: bytes | FileFacts,
    kind: PieceKind,
    app: AppPorts,
    *,
    now: datetime,
    today: date | None = None,
    filename: str | None = None,
    poste_id: str | None = None,
    mrz: str | None = None,
) -> PieceRecord:
    """Validate a file as a piece of the dossier, store it, and record the result in the catalog.

    ``data`` may be the facts ``read_piece`` returns for a file over the size limit: it is then
    recorded as refused and not stored."""
    dossier = _dossier(dossier_id, app)
    conseiller = _poste(dossier, kind, poste_id)
    ctx = Contexte(
        today=today or paris_date(now), siret=dossier.siret, nature=dossier.nature, denomination=dossier.denomination,
        representant=dossier.representant, conseiller=conseiller or None, mrz=mrz,
    )
    key: str | None = None
    if isinstance(data, FileFacts):
        result = check_piece(kind, data, ctx, app.policies[kind])
    else:
        result = validate_piece(data, kind, ctx, app, filename=filename)
        infected = any(f.code is FindingCode.VIRUS_DETECTE for f in result.findings)
        key = QUARANTINE_PREFIX + result.sha256 if infected else piece_key(dossier_id, result.sha256)
        store_once(app.pieces_storage, key, data, result.mime)
    record = PieceRecord(
        id=0, kind=kind, filename=safe_filename(filename), sha256=result.sha256, size=result.size, mime=result.mime,
        statut=result.statut, findings=result.findings, fields=result.fields, validated_at=now,
        poste_id=poste_id if kind is PieceKind.CONTRAT else None, storage_key=key,
    )
    return app.catalog.record_piece(dossier_id, record)


def verifier_poste(dossier_id: str, kind: PieceKind, poste_id: str | None, app: AppPorts) -> None:
    """At a piece's submission: a contrat names an occupied poste of the dossier (``poste_inconnu``),
    no other kind names one (``piece_invalide``); the HTTP API refuses at once what the CLI refuses."""
    _poste(_dossier(dossier_id, app), kind, poste_id)


def _poste(dossier: Dossier, kind: PieceKind, poste_id: str | None) -> str | None:
    """The conseiller of the poste a contrat belongs to; other kinds take no poste."""
    if kind is not PieceKind.CONTRAT:
        if poste_id is not None:
            raise DossierError(f"Une pièce « {kind} » ne se rattache pas à un poste.", code=ErrorCode.PIECE_INVALIDE)
        return None
    occupes = dict(dossier.postes_occupes)
    if poste_id is None or poste_id not in occupes:
        known = ", ".join(occupes) or "aucun"
        raise DossierError(f"Un contrat se rattache à un poste occupé du dossier {dossier.id} "
                           f"(reçu : {poste_id or 'aucun'} ; postes occupés : {known}).", code=ErrorCode.POSTE_INCONNU)
    return occupes[poste_id]




def view_dossier(dossier_id: str, app: AppPorts) -> DossierView:
    return dossier_view(_dossier(dossier_id, app), app.catalog.list_pieces(dossier_id), app.pieces_requises)


def demande_generable(dossier_id: str, app: AppPorts) -> dict[str, Any]:
    """The demande a convention is generated from, once its dossier is complete (``dossier_generable``)."""
    dossier_generable(view_dossier(dossier_id, app))
    return _demande(dossier_id, app)


def dossier_generable(view: DossierView) -> None:
    """A convention is generated from a complete dossier only: every required piece valide, or à vérifier
    and accepted by an instructeur. Raises ``DossierError`` (409) saying what is still awaited."""
    d = view.dossier.id
    if view.statut is DossierStatut.INCOMPLET:
        refused = [p.label
                   for p in view.courantes if p.retenu is Statut.INVALIDE]
        missing = [r.label for r in view.manquantes] + [f"{label} à remplacer" for label in refused]
        raise DossierError(f"Le dossier {d} est incomplet : {', '.join(missing)}.", code=ErrorCode.DOSSIER_INCOMPLET)
    if view.statut is DossierStatut.A_VERIFIER:
        waiting = [p.label
                   for p in view.courantes if p.en_attente]
        raise DossierError(f"Le dossier {d} attend la décision d'un instructeur sur : {', '.join(waiting)}.",
                           code=ErrorCode.DOSSIER_A_VERIFIER)


@dataclass(frozen=True)
class Rapport:
    view: DossierView
    pdf: bytes
    empreinte: str  # the hash the QR code carries


def rapport_dossier(dossier_id: str, app: AppPorts, *, now: datetime) -> Rapport:
    from dossiers.services.registre import inscrire

    view = view_dossier(dossier_id, app)
    rapport = Rapport(view, app.sceller(app.dessins.rapport_controle(view, generated_at=now)),
                      rapport_digest(view, now))
    # a rapport is handed out, not stored: its key names the dossier and the digest its QR code carries
    inscrire(app, Nature.RAPPORT, f"dossiers/{dossier_id}/rapports/{rapport.empreinte}.pdf",
             hashlib.sha256(rapport.pdf).hexdigest(), now=now)
    return rapport
