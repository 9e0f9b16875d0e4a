"""What conum writes back to a Démarches simplifiées dossier, in French (no I/O).

Texts depend only on the dossier's state (never on the time they are written), so that the same state
gives the same text and the same key: a write is identified by ``ecriture_cle`` and recorded before
it is sent. A message carries its key's start (« réf. conum : … »): after a send whose answer was
lost, the dossier's messages on DS tell whether it arrived.
"""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = ["annotation_controle", "message_pieces", "message_convention", "ecriture_cle", "reference", "STATUTS"]

STATUTS = {"complet": "complet", "incomplet": "incomplet", "a_verifier": "à vérifier par un instructeur"}
_PIECES = {"valide": "valide", "invalide": "refusée", "a_verifier": "à vérifier"}


def ecriture_cle(*parts: Any) -> str:
    return hashlib.sha256("\0".join(str(p) for p in parts).encode("utf-8")).hexdigest()


def reference(cle: str) -> str:
    return f"(réf. conum : {cle[:16]})"


def _piece(p: dict[str, Any]) -> str:
    poste = f" (poste {p['poste_id']})" if p.get("poste_id") else ""
    return f"{p['kind']}{poste}"


def annotation_controle(view: dict[str, Any]) -> str:
    """The private annotation: the dossier's status, each current piece with its findings, what is missing."""
    lines = [f"Contrôle conum du dossier {view['dossier_id']} : {STATUTS.get(view['status'], view['status'])}."]
    for p in view["pieces"]:
        lines.append(f"- {_piece(p)} « {p.get('filename') or ''} » : {_PIECES.get(p['status'], p['status'])}")
        lines += [f"    · [{f['code']}] {f['message']}" for f in p.get("findings") or []]
    if view["missing"]:
        lines.append("Pièces manquantes : " + ", ".join(m["label"] for m in view["missing"]) + ".")
    return "\n".join(lines)


def message_pieces(view: dict[str, Any]) -> str | None:
    """The message to the applicant when pieces are missing or refused (None otherwise)."""
    refused = [p for p in view["pieces"] if p["status"] == "invalide"]
    if not view["missing"] and not refused:
        return None
    lines = ["Bonjour,", "", "Le contrôle de votre dossier Conseiller numérique a relevé les points suivants :"]
    if view["missing"]:
        lines.append("Pièces manquantes :")
        lines += [f"- {m['label']}" for m in view["missing"]]
    if refused:
        lines.append("Pièces refusées, à déposer à nouveau :")
        for p in refused:
            reasons = "; ".join(f["message"] for f in p.get("findings") or [] if f.get("severity") == "erreur")
            lines.append(f"- {_piece(p)} « {p.get('filename') or ''} » : {reasons or 'refusée'}")
    lines += ["", "Merci de compléter votre dossier sur Démarches simplifiées."]
    return "\n".join(lines)


def message_convention(convention_id: str, version: int) -> str:
    kind = "votre convention de subvention" if version == 1 else f"l'avenant n° {version - 1} à votre convention"
    return (f"Bonjour,\n\nVous trouverez ci-joint {kind} ({convention_id}, version {version}). Merci de la faire "
            "signer par le représentant légal de la structure et de nous la renvoyer signée, en pièce jointe "
            "d'un message dans cette messagerie.")
