"""Use cases: an instructeur decides a piece or a signed copy à vérifier.

A piece: the decision is recorded beside the machine's findings and the dossier's status follows
(every required piece valide or accepted: ``complet``). Only the current piece of its kind (and
poste) is decided: an older one was superseded by a new upload, which is decided anew.

A signed copy: accepted, it is only now written under retention with its certificate
(``archive.accepter_copie``); refused, its staged bytes are deleted and the catalog keeps the row,
its findings and the decision as the trace.

The same decision sent twice is answered with the one recorded (a double click, a retried request);
a different one on something already decided is refused (``decision_impossible``).
"""

from __future__ import annotations

from datetime import datetime

from dossiers.domain.archive import ArchiveRecord
from dossiers.domain.decisions import Cible, Decision, DecisionInvalide, Verdict, nouvelle_decision
from dossiers.domain.dossier import DossierView
from dossiers.domain.findings import Statut
from dossiers.errors import ChangementRefuse, ErrorCode, FieldError
from dossiers.ports import AppPorts

__all__ = ["decider_piece", "decider_copie", "copie_a_decider"]


def _decision(cible: Cible, verdict: str, *, par: str, now: datetime, motif: str | None, commentaire: str | None,
              token_id: str | None) -> Decision:
    try:
        return nouvelle_decision(cible, verdict, par=par, le=now, motif=motif, commentaire=commentaire,
                                 token_id=token_id)
    except DecisionInvalide as exc:
        raise ChangementRefuse(f"Décision refusée : {exc.champ} : {exc.message}", code=ErrorCode.DECISION_INVALIDE,
                               errors=[FieldError(exc.champ, "decision_invalide", exc.message)]) from None


def _same(a: Decision, b: Decision) -> bool:
    return (a.verdict, a.motif, a.commentaire) == (b.verdict, b.motif, b.commentaire)


def _deja(quoi: str, existing: Decision) -> ChangementRefuse:
    return ChangementRefuse(f"{quoi} a déjà été {existing.verdict.libelle} le {existing.le:%d/%m/%Y} par {existing.par} : "
                            "une décision ne se modifie pas (une nouvelle pièce, déposée, se décide à nouveau).",
                            code=ErrorCode.DECISION_IMPOSSIBLE)


def decider_piece(dossier_id: str, piece_id: int, verdict: str, app: AppPorts, *, par: str, now: datetime,
                  motif: str | None = None, commentaire: str | None = None,
                  token_id: str | None = None) -> DossierView:
    """Record an instructeur's decision on the piece ``piece_id`` of the dossier; returns the dossier as it now is."""
    from dossiers.services.validation import view_dossier

    view = view_dossier(dossier_id, app)
    piece = next((p for p in view.pieces if p.id == piece_id), None)
    if piece is None:
        raise ChangementRefuse(f"Le dossier {dossier_id} n'a pas de pièce n° {piece_id}.", code=ErrorCode.PIECE_INTROUVABLE)
    decision = _decision(Cible.PIECE, verdict, par=par, now=now, motif=motif, commentaire=commentaire,
                         token_id=token_id)
    label = piece.label
    quoi = f"La pièce n° {piece_id} ({label})"
    if piece.decision is not None:
        if _same(piece.decision, decision):
            return view
        raise _deja(quoi, piece.decision)
    if not any(p.id == piece_id for p in view.courantes + view.extra):
        raise ChangementRefuse(f"{quoi} a été remplacée par un dépôt plus récent : c'est lui qui se décide.",
                               code=ErrorCode.DECISION_IMPOSSIBLE)
    if piece.statut is not Statut.A_VERIFIER:
        raise ChangementRefuse(f"{quoi} est « {piece.statut} » d'après ses contrôles : seule une pièce à vérifier "
                               "se décide.", code=ErrorCode.DECISION_IMPOSSIBLE)
    recorded = app.catalog.record_piece_decision(piece_id, decision)
    if not _same(recorded, decision):  # another instructeur decided first
        raise _deja(quoi, recorded)
    return view_dossier(dossier_id, app)


def copie_a_decider(convention_id: str, numero: int, sha256: str, app: AppPorts) -> ArchiveRecord:
    """The signed copy with this SHA-256 received for version ``numero`` of the convention."""
    found = app.catalog.find_archives(convention_id=convention_id, version=numero, sha256=sha256)
    if not found:
        raise ChangementRefuse(f"Aucune copie signée {sha256[:12]}… reçue pour la version {numero} de {convention_id}.",
                               code=ErrorCode.COPIE_INTROUVABLE)
    return found[-1]


def decider_copie(convention_id: str, numero: int, sha256: str, verdict: str, app: AppPorts, *, par: str, now: datetime,
                  motif: str | None = None, commentaire: str | None = None,
                  token_id: str | None = None) -> ArchiveRecord:
    """Accept (archive under retention, with its certificate) or refuse (staged bytes deleted, trace kept)
    a signed copy à vérifier."""
    from dossiers.services.archive import accepter_copie, refuser_copie

    record = copie_a_decider(convention_id, numero, sha256, app)
    decision = _decision(Cible.COPIE, verdict, par=par, now=now, motif=motif, commentaire=commentaire,
                         token_id=token_id)
    quoi = f"La copie signée {sha256[:12]}… de la version {numero}"
    if record.decision is not None and not _same(record.decision, decision):
        raise _deja(quoi, record.decision)
    if record.decision is None and record.statut != "a_verifier":
        raise ChangementRefuse(f"{quoi} est « {record.statut} » d'après ses contrôles : seule une copie à vérifier "
                               "se décide.", code=ErrorCode.COPIE_NON_A_VERIFIER)
    if decision.verdict is Verdict.ACCEPTE:
        return accepter_copie(record.id, app, par=par, now=now, decision=decision)
    return refuser_copie(record.id, app, decision=decision)
