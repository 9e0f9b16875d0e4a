"""Use cases: write back to Démarches simplifiées what conum decided, each write exactly once.

- ``ecrire_controle``: when a dossier's check has ended (every job the sync submitted for it is done;
  otherwise ``DsIndisponible``, and the actor retries later), the private annotation (status and
  findings) and, when pieces are missing or refused, a message to the applicant listing them;
- ``ecrire_convention``: when a convention (or an avenant) is issued, its PDF uploaded to DS
  (``createDirectUpload``, then PUT with DS's headers) and attached to a message, or given as the
  ``justificatif`` of ``dossierAccepter``, as the démarche's mapping says.

Every write is recorded (``ds_ecritures``) under a key derived from its content before it is sent and
marked sent after DS accepted it. A write found recorded but not marked (the process died, or DS's
answer was lost) is looked for on DS first — the message by its « réf. conum », the acceptance by the
dossier's state, the annotation by its value — and sent only if it is not there. A retried actor,
a redelivered message or a second sync never writes twice.
"""

from __future__ import annotations

from datetime import datetime
from collections.abc import Callable
from typing import Any

from dossiers.domain.ds_ecriture import annotation_controle, ecriture_cle, message_convention, message_pieces, reference
from dossiers.domain.ds_mapping import Correspondance, find_champ
from dossiers.domain.dossier import dossier_id_for
from dossiers.domain.jobs import Job, JobStatus
from dossiers.errors import DsError, DsIndisponible
from dossiers.ports import AppPorts, Ds

__all__ = ["convention_a_ecrire", "ecrire_controle", "ecrire_convention"]

_DONE = (JobStatus.SUCCEEDED, JobStatus.FAILED)


class _Ecrivain:
    def __init__(self, app: AppPorts, client: Ds, c: Correspondance, number: int, now: datetime) -> None:
        self.app, self.client, self.c, self.number, self.now = app, client, c, number, now
        self.etat = client.etat(number)
        self.out: dict[str, str] = {}

    def write(self, action: str, cle: str, detail: dict[str, Any], present: Callable[[], bool],
              send: Callable[[], None]) -> None:
        record = self.app.catalog.ds_claim_ecriture(cle=cle, demarche=self.c.demarche, number=self.number,
                                                    action=action, detail=detail, now=self.now)
        if record.statut == "envoye":
            self.out[action] = "deja_envoye"
            return
        if present():  # sent by an attempt whose answer never came back
            self.out[action] = "retrouve"
        else:
            send()
            self.out[action] = "envoye"
        self.app.catalog.ds_ecriture_envoyee(cle, detail=detail, now=self.now)

    def mutation(self, name: str, data: dict[str, Any]) -> dict[str, Any]:
        payload = self.client.muter(name, {"dossierId": self.etat["id"],
                                           "instructeurId": self.c.ecriture.instructeur_id, **data})
        if payload is None or payload.get("errors"):
            messages = "; ".join(e["message"] for e in (payload or {}).get("errors") or []) or "réponse vide"
            raise DsError(f"DS a refusé {name} sur le dossier n° {self.number} : {messages}")
        return payload

    def has_message(self, cle: str) -> bool:
        return any(reference(cle) in (m.get("body") or "") for m in self.etat.get("messages") or [])

    def message(self, action: str, cle: str, body: str, attachment: tuple[str, bytes] | None = None) -> None:
        text = f"{body}\n\n{reference(cle)}"

        def send() -> None:
            blob = None
            if attachment is not None:
                blob = self.client.upload(self.etat["id"], attachment[0], attachment[1], "application/pdf")
            self.mutation("dossierEnvoyerMessage", {"body": text, "attachment": blob})

        self.write(action, cle, {"body": text}, lambda: self.has_message(cle), send)


def ecrire_controle(app: AppPorts, client: Ds, c: Correspondance, *, number: int, dossier_id: str, jobs: list[str],
                    now: datetime) -> dict[str, str]:
    """The annotation and the applicant's message for the dossier's check (see the module docstring)."""
    from dossiers.services.validation import view_dossier

    pending = [j for j in jobs if (job := app.catalog.get_job(j)) is None or job.status not in _DONE]
    if pending:
        raise DsIndisponible(f"Contrôle du dossier {dossier_id} en cours ({len(pending)} tâche(s)) : écriture vers DS "
                             "différée.")
    e = c.ecriture
    if not (e.annotation or e.message_pieces):
        return {}
    view = view_dossier(dossier_id, app).to_dict()
    w = _Ecrivain(app, client, c, number, now)
    if e.annotation:
        champ = find_champ(w.etat.get("annotations") or [], e.annotation)
        if champ is None:
            raise DsError(f"Annotation privée « {e.annotation} » introuvable sur le dossier DS n° {number} "
                          "(section [ecriture] de la correspondance).")
        text = annotation_controle(view)

        def annotate() -> None:
            w.mutation("dossierModifierAnnotationText", {"annotationId": champ["id"], "value": text})

        w.write("annotation", ecriture_cle("annotation", c.demarche, number, text), {"value": text},
                lambda: champ.get("stringValue") == text, annotate)
    if e.message_pieces and (body := message_pieces(view)) is not None:
        w.message("message_pieces", ecriture_cle("message_pieces", c.demarche, number, body), body)
    return w.out


def ecrire_convention(app: AppPorts, client: Ds, c: Correspondance, *, number: int, convention_id: str, version: int,
                      now: datetime) -> dict[str, str]:
    """The issued version's PDF sent to the DS dossier (message or acceptance), once."""
    action = c.ecriture.convention
    if action == "aucune":
        return {}
    found = app.catalog.find_version(convention_id, version)
    ref = found.document("pdf") if found is not None else None
    if ref is None:
        raise DsError(f"Pas de PDF pour la convention {convention_id} version {version}.")
    pdf = app.storage.get(ref.key, sha256=ref.sha256)
    filename = f"{convention_id}-v{version}.pdf"
    w = _Ecrivain(app, client, c, number, now)
    cle = ecriture_cle("convention", action, c.demarche, number, convention_id, version)
    if action == "message":
        w.message("convention", cle, message_convention(convention_id, version), (filename, pdf))
    else:
        def accept() -> None:
            blob = client.upload(w.etat["id"], filename, pdf, "application/pdf")
            w.mutation("dossierAccepter", {"justificatif": blob,
                                           "motivation": message_convention(convention_id, version)})

        w.write("convention", cle, {"convention_id": convention_id, "version": version},
                lambda: w.etat.get("state") == "accepte", accept)
    return w.out


def convention_a_ecrire(app: AppPorts, job: Job) -> tuple[int, int, str, int] | None:
    """What an ended job sends back to DS: ``(demarche, number, convention_id, version)`` when it issued a
    new convention (or avenant) for a dossier that came from DS, else None (``ecrire_convention`` then writes it)."""
    r = job.result or {}
    if job.actor not in ("generate_convention", "amend_convention") or job.status != JobStatus.SUCCEEDED \
            or not r.get("nouvelle") or not r.get("convention_id"):
        return None
    convention = app.catalog.get_convention(r["convention_id"])
    if convention is None:
        return None
    ds = app.catalog.ds_dossier_of(dossier_id_for(convention.structure_id, convention.vague))
    if ds is None:
        return None
    return ds.demarche, ds.number, r["convention_id"], int(r["version"])
