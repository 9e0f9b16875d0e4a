"""Use case: bring the dossiers of a Démarches simplifiées démarche into conum (``conum ds sync``).

One run asks DS for the dossiers modified since the last complete run (``updatedSince``), page by
page (``after``: the cursor of the last page done is saved after each page, so a run stopped by DS
being unavailable resumes there and never skips a dossier). Dossiers that failed in an earlier run
(a champ missing, a file refused) are asked for again first, one by one.

For each dossier: its champs give a demande through the démarche's mapping (``domain.ds_mapping``),
refused with its French errors for that dossier alone; then what the HTTP API does for a portal:
the dossier is opened (``validation.open_dossier``), its validation job submitted, each file
downloaded (size and checksum checked), stored as an upload and its piece validation submitted. A
PDF the applicant attaches to a message once the convention is issued goes to the signed-copy
intake (``archive.stage`` and the archive job, as ``POST …/signed``).

Idempotent: a dossier whose DS modification date is the one already taken is skipped without a
download; a file already taken (same champ, poste and DS checksum) is not downloaded again; jobs
are submitted with keys derived from their arguments. ``submit(actor, kwargs)`` is the caller's
(the CLI's: ``workers.submit.submit`` with the project's actors).
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from dossiers.domain.ds_suivi import DsDossier, DsSynchro
from dossiers.domain.demande import validate_demande
from dossiers.domain.dossier import dossier_id_for
from dossiers.domain.ds_mapping import Correspondance, DossierDs, PieceDs, load_correspondance, map_dossier
from dossiers.domain.model import convention_id_for
from dossiers.domain.pieces import safe_filename
from dossiers.errors import (ConumError, DemandeInvalide, DossierError, DsError, DsFichierInvalide, DsIndisponible,
                             StructureFigee)
from dossiers.ports import AppPorts, Ds
from dossiers.services.generation import demande_digest

__all__ = ["load_mapping", "sync_demarche", "Rapport", "Submit", "fichier_cle"]

Submit = Callable[[str, dict[str, Any]], Any]  # (actor: dossier | validate | archive | ds_write_back, kwargs) -> Job
PDF = "application/pdf"


def load_mapping(config_dir: Path, demarche: int) -> Correspondance:
    path = config_dir / f"{demarche}.toml"
    try:
        with path.open("rb") as f:
            correspondance = load_correspondance(tomllib.load(f))
    except FileNotFoundError:
        raise DsError(f"Pas de fichier de correspondance pour la démarche {demarche} : {path} "
                      "(voir config/ds/exemple.toml).") from None
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise DsError(f"Correspondance de la démarche {demarche} ({path}) : {exc}") from exc
    if correspondance.demarche != demarche:
        raise DsError(f"{path} décrit la démarche {correspondance.demarche}, pas la {demarche}.")
    return correspondance


def fichier_cle(demarche: int, number: int, source: str, poste_id: str | None, checksum: str) -> str:
    return hashlib.sha256(f"{demarche}\0{number}\0{source}\0{poste_id or ''}\0{checksum}".encode()).hexdigest()


@dataclass
class Rapport:
    """What a run did (or, ``dry_run``, would do)."""

    demarche: int
    dry_run: bool
    lus: int = 0
    inchanges: int = 0
    importes: list[dict[str, Any]] = field(default_factory=list)
    erreurs: list[dict[str, Any]] = field(default_factory=list)
    telecharges: int = 0
    jobs: list[str] = field(default_factory=list)
    copies_signees: int = 0
    complet: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"demarche": self.demarche, "dry_run": self.dry_run, "dossiers_lus": self.lus,
                "inchanges": self.inchanges, "importes": self.importes, "erreurs": self.erreurs,
                "fichiers_telecharges": self.telecharges, "taches": len(self.jobs),
                "copies_signees": self.copies_signees, "complet": self.complet}


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _later(a: str | None, b: str | None) -> str | None:
    if a is None or b is None:
        return a or b
    return a if _instant(a) >= _instant(b) else b


@dataclass
class _Run:
    app: AppPorts
    client: Ds
    c: Correspondance
    submit: Submit | None
    now: datetime
    rapport: Rapport
    progress: Callable[[int, int | None], None] | None = None
    seen: set[int] = field(default_factory=set)  # dossiers taken in this run (a retried one may be on a page too)

    @property
    def dry(self) -> bool:
        return self.rapport.dry_run

    def error(self, number: int, exc: ConumError, ds_id: str = "", updated_at: str | None = None,
              known: DsDossier | None = None) -> None:
        detail = {**exc.to_dict(), "number": number}
        self.rapport.erreurs.append(detail)
        if not self.dry:
            self.app.catalog.ds_save_dossier(DsDossier(
                self.c.demarche, number, ds_id or (known.ds_id if known else ""), known.dossier_id if known else None,
                updated_at, known.demande_sha256 if known else None, "erreur", detail, self.now))

    def dossier(self, node: dict[str, Any], *, retry: bool = False) -> None:
        number = int(node["number"])
        if number in self.seen:
            return
        self.seen.add(number)
        self.rapport.lus += 1
        known = self.app.catalog.ds_dossier(self.c.demarche, number)
        if not retry and known is not None and known.statut == "importe" and known.updated_at == node["dateDerniereModification"]:
            self.rapport.inchanges += 1
            return
        try:
            mapped = map_dossier(node, self.c)
            demande = self._demande(mapped.demande)
        except (DsError, DemandeInvalide) as exc:
            return self.error(number, exc, str(node["id"]), node["dateDerniereModification"], known)
        dossier_id = dossier_id_for(demande["structure"]["id"], int(demande["convention"]["vague"]))
        sha = demande_digest(demande)
        pieces = [p for p in mapped.pieces if not self._known(number, p.champ, p.poste_id, p.file)]
        outcome: dict[str, Any] = {"number": number, "dossier_id": dossier_id, "nouveau": known is None,
                                   "demande_modifiee": known is None or known.demande_sha256 != sha,
                                   "pieces": [{"kind": str(p.kind), "poste_id": p.poste_id,
                                               "filename": p.file.get("filename")} for p in pieces]}
        failures: list[dict[str, Any]] = []
        first_job, copies = len(self.rapport.jobs), self.rapport.copies_signees
        if not self.dry:
            try:
                self._open(demande, dossier_id, outcome["demande_modifiee"])
            except (DossierError, DemandeInvalide, StructureFigee) as exc:  # refused for this dossier alone
                return self.error(number, exc, mapped.ds_id, mapped.updated_at, known)
            for piece in pieces:
                try:
                    self._piece(mapped, dossier_id, piece)
                except DsFichierInvalide as exc:
                    failures.append({**exc.to_dict(), "filename": piece.file.get("filename")})
            failures += self._signed_copies(node, mapped, demande)
        if outcome["demande_modifiee"] or pieces or self.rapport.copies_signees > copies:
            self.rapport.importes.append(outcome)
        else:  # touched on DS (a message, an annotation: ours too) without a change conum takes
            self.rapport.inchanges += 1
        if failures:  # the dossier is asked for again next run: its refused files are downloaded again
            self.error(number, DsFichierInvalide("; ".join(f["message"] for f in failures)), mapped.ds_id,
                       mapped.updated_at, DsDossier(self.c.demarche, number, mapped.ds_id, dossier_id, None, sha,
                                                    "erreur", None, self.now))
        elif not self.dry:
            self.app.catalog.ds_save_dossier(DsDossier(self.c.demarche, number, mapped.ds_id, dossier_id,
                                                       mapped.updated_at, sha, "importe", None, self.now))
        jobs = self.rapport.jobs[first_job:]
        e = self.c.ecriture
        if jobs and (e.annotation or e.message_pieces) and self.submit is not None:
            # written back once these jobs have ended (the actor waits for them)
            self.submit("ds_write_back", {"demarche": self.c.demarche, "number": number, "dossier_id": dossier_id,
                                          "jobs": sorted(jobs)})

    def _demande(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The demande validated, its structure under the catalog key the département knows it by."""
        demande = validate_demande(payload).model_dump(mode="json")
        s = demande["structure"]
        key = self.app.catalog.cle_structure(s["departement"], s["id"])
        if key is not None and key != s["id"]:
            demande = {**demande, "structure": {**s, "id": key}}
        return demande

    def _open(self, demande: dict[str, Any], dossier_id: str, changed: bool) -> None:
        from dossiers.services.validation import open_dossier
        from dossiers.services.requetes import store_json

        # recorded here, before its pieces are submitted: a worker may take a piece before the dossier job
        open_dossier(demande, self.app, dossier_id=dossier_id)
        if changed and self.submit is not None:
            job = self.submit("dossier", {"demande_key": store_json(self.app, demande), "dossier_id": dossier_id})
            self.rapport.jobs.append(job.id)

    def _known(self, number: int, source: str, poste_id: str | None, file: dict[str, Any]) -> bool:
        return bool(self.app.catalog.ds_fichier_connu(
            fichier_cle(self.c.demarche, number, source, poste_id, str(file.get("checksum")))))

    def _download(self, file: dict[str, Any], max_bytes: int) -> bytes:
        data = self.client.download(file, max_bytes=max_bytes)
        self.rapport.telecharges += 1
        return data

    def _piece(self, mapped: DossierDs, dossier_id: str, piece: PieceDs) -> None:
        from dossiers.services.requetes import store_upload

        data = self._download(piece.file, self.app.policies[piece.kind].max_bytes)
        key = store_upload(self.app, data)
        filename = safe_filename(piece.file.get("filename"))
        job = None
        if self.submit is not None:  # the API's arguments; DS's upload time orders the pieces of a kind
            job = self.submit("validate", {
                "dossier_id": dossier_id, "kind": str(piece.kind), "piece_key": key, "filename": filename,
                "poste_id": piece.poste_id, "mrz": None, "soumis_le": _instant(str(piece.file["createdAt"])).isoformat()})
            self.rapport.jobs.append(job.id)
        self._record(mapped.number, piece.champ, str(piece.kind), piece.poste_id, piece.file, key, job)

    def _record(self, number: int, source: str, kind: str, poste_id: str | None, file: dict[str, Any], key: str,
                job: Any) -> None:
        from dossiers.services.archive import key_sha256

        self.app.catalog.ds_record_fichier(
            cle=fichier_cle(self.c.demarche, number, source, poste_id, str(file.get("checksum"))),
            demarche=self.c.demarche, number=number, source=source, kind=kind, poste_id=poste_id,
            filename=str(file.get("filename") or ""), checksum=str(file.get("checksum")),
            sha256=key_sha256(key), job_id=job.id if job is not None else None, now=self.now)

    def _signed_copies(self, node: dict[str, Any], mapped: DossierDs, demande: dict[str, Any]) -> list[dict[str, Any]]:
        """PDFs the applicant attached to messages once the convention is issued: its signed copy."""
        from dossiers.domain.checks.signe import SIGNED_COPY_POLICY
        from dossiers.services.archive import release_if_done, stage

        if not self.c.ecriture.copie_signee:
            return []
        convention_id = convention_id_for(demande["structure"]["id"], int(demande["convention"]["vague"]))
        convention = self.app.catalog.get_convention(convention_id)
        if convention is None or convention.current is None:
            return []
        usager = (node.get("usager") or {}).get("email")
        failures = []
        for message in node.get("messages") or []:
            if message.get("email") != usager:
                continue
            for file in message.get("attachments") or []:
                source = f"message:{message['id']}"
                if file.get("contentType") != PDF or self._known(mapped.number, source, None, file):
                    continue
                try:
                    data = self._download(file, SIGNED_COPY_POLICY.max_bytes)
                except DsFichierInvalide as exc:
                    failures.append({**exc.to_dict(), "filename": file.get("filename")})
                    continue
                key = stage(data, self.app)
                job = None
                if self.submit is not None:
                    job = self.submit("archive", {"convention_id": convention_id, "staging_key": key,
                                                  "version": convention.current.numero,
                                                  "filename": safe_filename(file.get("filename"))})
                    self.rapport.jobs.append(job.id)
                    release_if_done(self.app, job, key)
                self.rapport.copies_signees += 1
                self._record(mapped.number, source, "signe", None, file, key, job)
        return failures


def sync_demarche(app: AppPorts, client: Ds, correspondance: Correspondance, *, now: datetime, submit: Submit | None,
                  dry_run: bool = False, progress: Callable[[int, int | None], None] | None = None,
                  page_size: int | None = None) -> Rapport:
    """One run for the démarche (see the module's docstring), ``page_size`` dossiers a page (None: DS's
    maximum). ``DsIndisponible`` when DS stayed unavailable: the pages done are kept, the next run
    resumes from the saved cursor."""
    run = _Run(app, client, correspondance, submit, now, Rapport(correspondance.demarche, dry_run), progress)
    demarche = correspondance.demarche
    for failed in app.catalog.ds_dossiers(demarche, statut="erreur"):
        try:
            node = client.dossier(failed.number)
        except DsIndisponible:
            raise
        except DsError as exc:  # e.g. deleted on DS since: noted, the others go on
            run.error(failed.number, exc, known=failed)
            continue
        run.dossier(node, retry=True)
        if progress:
            progress(1, None)
    state = app.catalog.ds_synchro(demarche)
    since, after, run_max = state.updated_since, state.cursor, state.run_max
    while True:
        page = client.dossiers_modifies(demarche, depuis=since, apres=after, nombre=page_size)
        for node in page.get("nodes") or []:
            if node is None:
                continue
            run.dossier(node)
            run_max = _later(run_max, node["dateDerniereModification"])
            if progress:
                progress(1, None)
        after = page["pageInfo"].get("endCursor") or after
        more = bool(page["pageInfo"]["hasNextPage"])
        if not dry_run:
            app.catalog.ds_save_synchro(DsSynchro(demarche, since, after if more else None, run_max if more else None,
                                                  state.last_run_at if more else now)
                                        if more else DsSynchro(demarche, _later(since, run_max), None, None, now))
        if not more:
            break
    run.rapport.complet = True
    return run.rapport

