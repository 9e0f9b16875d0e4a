"""``/v1/conventions``: generate from a dossier, request a change, list and read, download the
documents (streamed from the local store, or a 302 to a presigned URL on S3), upload the signed
copy, fetch its certificat d'archivage. Every download and upload is audited."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from dossiers.domain.acces import DEPARTEMENT, ConventionStatut, Droit, Jeton, statut_convention
from dossiers.domain.model import convention_id_for
from dossiers.errors import DemandeInvalide
from dossiers.entrypoints.api import schemas
from dossiers.entrypoints.api.errors import ApiError, responses
from dossiers.entrypoints.api.routes_dossiers import (
    PDF,
    Idempotency,
    ctx_of,
    read_json,
    structure_demande,
    submitted,
)
from dossiers.entrypoints.api.context import audited, empreinte_requete, refus_depot
from dossiers.entrypoints.api.security import require

__all__ = ["router"]

router = APIRouter(prefix="/v1")
Numero = Annotated[int, Path(ge=1, le=100_000, description="Numéro de version (1 : la convention initiale).")]
DOCX = {"content": {"application/vnd.openxmlformats-officedocument.wordprocessingml.document": {
    "schema": {"type": "string", "format": "binary"}}}}
REDIRECT = {"description": "Stockage S3 : redirection vers une URL présignée (durée PRESIGNED_URL_TTL)."}


def _money(value: Any) -> str:
    return f"{value:.2f}"


def _structure(s: Any) -> dict[str, Any]:
    return {"id": s.id if hasattr(s, "id") else s.structure_id, "siret": s.siret, "denomination": s.denomination,
            "nature": str(s.nature), "departement": s.departement}


@router.post("/conventions", status_code=202, response_model=schemas.TacheSoumise, response_model_exclude_none=True,
             responses=responses(403, 404, 409, 413), summary="Générer la convention d'un dossier complet",
             description="Le dossier doit être complet : toutes les pièces requises valides, ou acceptées par un "
                         "instructeur (409 dossier_incomplet, 409 dossier_a_verifier sinon).")
def post_convention(body: schemas.NouvelleConvention, request: Request,
                    jeton: Jeton = Depends(require(Droit.SOUMETTRE)), idempotency: Idempotency = None) -> dict[str, Any]:
    from dossiers.services.validation import demande_generable
    from workers.submit import store_json

    ctx = ctx_of(request)
    ctx.dossier_visible(jeton, body.dossier_id)
    requete = empreinte_requete(request, body.model_dump(mode="json"))
    ctx.check_idempotency(jeton, "generate", idempotency, requete)
    demande = demande_generable(body.dossier_id, ctx.app)
    key = store_json(ctx.app, demande)
    job = ctx.submit(jeton, "generate", {"demande_key": key}, idempotency=idempotency, requete=requete)
    structure = demande["structure"]["id"]
    return submitted(job, dossier_id=body.dossier_id,
                     convention_id=convention_id_for(structure, int(demande["convention"]["vague"])))


@router.post("/conventions/{convention_id}/changes", status_code=202, response_model=schemas.TacheSoumise, response_model_exclude_none=True,
             responses=responses(403, 404, 409, 413), summary="Demander un avenant, un renouvellement ou une résiliation",
             description="Refusée tout de suite, avec les codes de `conum amend` : champs invalides (422 "
                         "`changement_invalide`), `request_id` déjà employé pour un autre contenu (409 "
                         "`requete_conflit`), convention close ou déjà renouvelée (409 `convention_close`), "
                         "`version` périmée (409 `version_perimee`). Le reste (montants, documents) est fait "
                         "par la tâche.",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {"$ref": "#/components/schemas/Changement"}}}}})
async def post_change(convention_id: str, request: Request, jeton: Jeton = Depends(require(Droit.SOUMETTRE)),
                      idempotency: Idempotency = None) -> dict[str, Any]:
    payload = await read_json(request)
    ctx = ctx_of(request)

    def run() -> dict[str, Any]:
        from workers.submit import store_json

        from dossiers.services.avenants import verifier_soumission

        ctx.convention_visible(jeton, convention_id)
        verifier_soumission(convention_id, payload, ctx.app)  # 422 / 409 here, not later in a job
        if payload.get("type") == "reemission" and not jeton.peut(Droit.ADMINISTRER):
            raise ApiError(403, "droit_insuffisant", "Une réémission (autres règles ou autre modèle) passe par un plan "
                           "de réémission (`conum reissue`) ou un jeton admin.")
        requete = empreinte_requete(request, payload)
        ctx.check_idempotency(jeton, "amend", idempotency, requete)
        job = ctx.submit(jeton, "amend", {"convention_id": convention_id, "change_key": store_json(ctx.app, payload)},
                         idempotency=idempotency, requete=requete)
        return submitted(job, convention_id=convention_id)

    return await run_in_threadpool(run)


PosteParam = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="Identifiant du poste (P-1…).")]


@router.post("/conventions/{convention_id}/postes/{poste}/evenements", status_code=201,
             responses=responses(403, 404, 409, 413, _200={"description": "Événement déjà enregistré (même contenu)."}),
             summary="Déclarer un événement de la vie d'un poste (recrutement, fin de contrat, prolongation, "
                     "absence, transfert)",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {"$ref": "#/components/schemas/EvenementPoste"}}}}})
async def post_evenement(convention_id: str, poste: PosteParam, request: Request,
                         jeton: Jeton = Depends(require(Droit.SOUMETTRE))) -> Any:
    """Recorded at once (201), or already recorded under this request_id with the same content (200).
    A transfer also issues the avenants of both conventions (their versions are in ``avenants``)."""
    from fastapi.responses import JSONResponse

    from dossiers.domain.postes import Source
    from dossiers.services.postes import record_evenement

    payload = await read_json(request)
    ctx = ctx_of(request)

    def run() -> Any:
        body = payload
        ctx.convention_visible(jeton, convention_id)
        vers = payload.get("vers") if isinstance(payload, dict) and payload.get("type") == "transfert" else None
        if isinstance(vers, dict):
            vers = _transfer_target(ctx, jeton, vers)
            _transfer_target_visible(ctx, jeton, vers)
            body = {**payload, "vers": vers}
        now, today = ctx.app.clock.read()
        done = record_evenement(convention_id, poste, body, ctx.app, source=Source.PORTAIL, today=today, now=now)
        return JSONResponse(done.to_json(), status_code=201 if done.enregistre else 200)

    return await run_in_threadpool(run)


def _transfer_target(ctx: Any, jeton: Jeton, vers: dict[str, Any]) -> dict[str, Any]:
    """The transfer's target as the catalog knows it: a structure id of the token's départements read
    in their namespaces, a new structure's demande namespaced as ``POST /v1/dossiers`` does."""
    from dossiers.domain.demande import validate_demande

    structure_id = vers.get("structure_id")
    if isinstance(structure_id, str) and jeton.departements:
        found = [k for d in jeton.departements if (k := ctx.app.catalog.cle_structure(d, structure_id)) is not None]
        return {**vers, "structure_id": found[0]} if found else vers
    demande = vers.get("demande")
    if isinstance(demande, dict):
        try:
            valid = validate_demande(demande).model_dump(mode="json")
        except DemandeInvalide:
            return vers  # refused with its fields by the service
        if jeton.voit(valid["structure"]["departement"]):
            namespaced = structure_demande(ctx, jeton, valid, prefix="vers.demande.structure")
            if namespaced is not valid:  # sent as is otherwise: a re-sent event is compared with what was sent
                return {**vers, "demande": namespaced}
    return vers


def _transfer_target_visible(ctx: Any, jeton: Jeton, vers: dict[str, Any]) -> None:
    """A token transfers a poste only to a structure of a département it covers (404 otherwise, as
    for a convention it cannot see)."""
    structure_id = vers.get("structure_id")
    if isinstance(structure_id, str):
        known = ctx.app.catalog.get_structure(structure_id)
        if known is None or not jeton.voit(known.departement):
            raise ApiError(404, "convention_introuvable", f"Structure {structure_id} introuvable.")
        return
    demande = vers.get("demande")
    structure = demande.get("structure") if isinstance(demande, dict) else None
    departement = structure.get("departement") if isinstance(structure, dict) else None
    if isinstance(departement, str) and not jeton.voit(departement):
        raise ApiError(404, "convention_introuvable", f"Département {departement} hors du périmètre du jeton.")


@router.get("/conventions/{convention_id}/postes", responses=responses(403, 404),
            summary="Chronologie de chaque poste : conseillers, contrats, vacances, absences")
def get_postes(convention_id: str, request: Request, jeton: Jeton = Depends(require(Droit.LIRE)),
               date_situation: Annotated[date | None, Query(
                   alias="date", ge=date(1900, 1, 1), le=date(2999, 12, 31),
                   description="Jour de la situation (défaut : aujourd'hui).")] = None) -> dict[str, Any]:
    from dossiers.services.postes import chronologie_json, chronologies_courantes, postes_json

    ctx = ctx_of(request)
    ctx.convention_visible(jeton, convention_id)
    jour = date_situation or ctx.app.clock.today()
    etat, timelines = chronologies_courantes(convention_id, ctx.app, jour=jour)
    return {"convention_id": convention_id, "version": etat.version, "date": jour.isoformat(),
            "postes": postes_json(timelines, jour), "chronologies": [chronologie_json(c) for c in timelines.values()]}


@dataclass(frozen=True)
class FiltresConventions:
    """The filters of the conventions list, as ``GET /v1/conventions`` and its export take them."""

    departement: str | None = None
    statut: str | None = None
    nature: str | None = None
    vague: int | None = None
    q: str | None = None

    def recherche(self) -> dict[str, Any]:
        """The keyword arguments of ``catalog.search_conventions`` (and ``exports.conventions_table``)."""
        return {"departement": self.departement, "statut": ConventionStatut(self.statut) if self.statut else None,
                "nature": self.nature, "vague": self.vague, "q": self.q}

    def donnes(self) -> dict[str, Any]:
        """The filters given, for the audit log."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


def filtres_conventions(
    departement: Annotated[str | None, Query(pattern=DEPARTEMENT.pattern, description="Code département.")] = None,
    statut: Annotated[Literal["a_signer", "signee", "archivee"] | None, Query()] = None,
    nature: Annotated[Literal["publique", "privee"] | None, Query()] = None,
    vague: Annotated[int | None, Query(ge=1, le=9)] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100,
                                   description="Dénomination (partie), SIRET/SIREN, identifiant.")] = None,
) -> FiltresConventions:
    return FiltresConventions(departement, statut, nature, vague, q)


@router.get("/conventions", response_model=schemas.ConventionsPage, responses=responses(403),
            summary="Conventions des départements du jeton (filtres, pagination)")
def list_conventions(
    request: Request,
    filtres: Annotated[FiltresConventions, Depends(filtres_conventions)],
    jeton: Jeton = Depends(require(Droit.LIRE)),
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    ctx = ctx_of(request)
    total, page = ctx.app.catalog.search_conventions(departements=jeton.departements, **filtres.recherche(),
                                                     limit=limit, offset=offset)
    items = [{
        "id": c.id, "vague": c.vague, "date_debut": c.date_debut, "structure": {
            "id": c.structure_id, "siret": c.siret, "denomination": c.denomination, "nature": c.nature,
            "departement": c.departement},
        "version": c.version, "document_type": c.document_type, "motif": c.motif,
        "montant_total": _money(c.montant_total), "version_creee_le": c.version_created_at, "statut": str(c.statut),
        "url": f"/v1/conventions/{c.id}",
    } for c in page]
    return {"total": total, "limit": limit, "offset": offset, "items": items}


@router.get("/conventions/{convention_id}", response_model=schemas.Convention, responses=responses(403, 404),
            summary="Versions, montants, documents et copies signées d'une convention")
def get_convention(convention_id: str, request: Request, jeton: Jeton = Depends(require(Droit.LIRE))) -> dict[str, Any]:
    ctx = ctx_of(request)
    ctx.convention_visible(jeton, convention_id)
    convention = ctx.app.catalog.get_convention(convention_id)
    structure = ctx.app.catalog.get_structure(convention.structure_id)
    archives = ctx.app.catalog.find_archives(convention_id=convention_id)
    base = f"/v1/conventions/{convention_id}"
    versions = []
    for v in sorted(convention.versions, key=lambda v: v.numero):
        copies = [a for a in archives if a.version == v.numero]
        versions.append({
            "numero": v.numero, "motif": v.motif, "document_type": v.document_type, "regles": v.regles,
            "modele_version": v.modele_version, "montant_total": _money(v.montant_total), "created_at": v.created_at,
            "echeancier": [{"numero": t.numero, "annee": t.annee, "date": t.date, "montant": _money(t.montant)}
                           for t in v.echeancier],
            "documents": [{"kind": d.kind, "sha256": d.sha256, "size": d.size, "content_type": d.content_type,
                           "url": f"{base}/versions/{v.numero}/document.{d.kind}"} for d in v.documents],
            "copies_signees": [{
                "id": a.id, "sha256": a.sha256, "statut": a.statut,
                "decision": a.decision.to_dict() if a.decision else None,
                "decision_url": (f"{base}/versions/{v.numero}/signed/{a.sha256}/decision"
                                 if a.statut == "a_verifier" and a.decision is None else None),
                "received_at": a.received_at, "archived_at": a.archived_at,
                "retain_until": a.retain_until, "findings": [f.to_dict() for f in a.findings],
                "certificat_url": (f"{base}/versions/{v.numero}/certificat.pdf?sha256={a.sha256}"
                                   if a.certificat_key else None),
            } for a in copies],
            "signed_url": f"{base}/versions/{v.numero}/signed",
        })
    current = convention.current
    return {"id": convention.id, "vague": convention.vague, "date_debut": convention.date_debut,
            "statut": str(statut_convention(archives, current.numero if current else 0)), "structure": _structure(structure),
            "versions": versions}


def _download(request: Request, jeton: Jeton, convention_id: str, numero: int, kind: str) -> Response:
    from dossiers.services.documents import issued_document

    ctx = ctx_of(request)
    with audited(ctx, request, jeton, "document.telecharger") as trail:
        trail.departement = ctx.convention_visible(jeton, convention_id)
        return _deliver(issued_document(ctx.app, convention_id, numero, kind), trail)


def _deliver(t: Any, trail: Any) -> Response:
    """A 302 to the presigned URL (S3), or the checked bytes."""
    trail.detail = t.detail
    if t.url is not None:
        trail.status = 302
        return RedirectResponse(t.url, status_code=302, headers={"Cache-Control": "no-store"})
    return Response(t.data, media_type=t.content_type, headers={
        "Content-Disposition": f'attachment; filename="{t.filename}"', "ETag": f'"{t.sha256}"',
        "Cache-Control": "private, no-store"})


@router.get("/conventions/{convention_id}/versions/{numero}/document.pdf", response_class=Response,
            responses=responses(403, 404, _200=PDF, _302=REDIRECT), summary="PDF/A de la version")
def get_pdf(convention_id: str, numero: Numero, request: Request,
            jeton: Jeton = Depends(require(Droit.LIRE))) -> Response:
    return _download(request, jeton, convention_id, numero, "pdf")


@router.get("/conventions/{convention_id}/versions/{numero}/document.docx", response_class=Response,
            responses=responses(403, 404, _200=DOCX, _302=REDIRECT), summary="DOCX de la version")
def get_docx(convention_id: str, numero: Numero, request: Request,
             jeton: Jeton = Depends(require(Droit.LIRE))) -> Response:
    return _download(request, jeton, convention_id, numero, "docx")


@router.post("/conventions/{convention_id}/versions/{numero}/signed", status_code=202,
             response_model=schemas.TacheSoumise, response_model_exclude_none=True, responses=responses(403, 404, 413, 415),
             summary="Déposer la copie signée (PDF) : contrôlée puis archivée sous verrou")
def post_signed(
    convention_id: str, numero: Numero, request: Request,
    fichier: Annotated[UploadFile, File(description="La copie signée renvoyée par la structure (PDF).")],
    jeton: Jeton = Depends(require(Droit.DEPOSER_SIGNE)), idempotency: Idempotency = None,
) -> dict[str, Any]:
    from dossiers.errors import DepotRefuse
    from dossiers.services.depots import deposer_copie_signee

    ctx = ctx_of(request)
    requete = ""

    def avant_depot(sha256: str) -> None:  # before anything is staged
        nonlocal requete
        requete = empreinte_requete(request, {"fichier": sha256, "filename": fichier.filename})
        ctx.check_idempotency(jeton, "archive", idempotency, requete)

    with audited(ctx, request, jeton, "copie_signee.deposer") as trail:
        trail.departement = ctx.convention_visible(jeton, convention_id)
        try:
            depot = deposer_copie_signee(
                ctx.app, convention_id, numero, fichier.file, fichier.filename, detail=trail.detail,
                avant_depot=avant_depot, submit=lambda kwargs: ctx.submit(
                    jeton, "archive", kwargs, idempotency=idempotency, requete=requete))
        except DepotRefuse as exc:
            raise refus_depot(exc) from None
        trail.status = 202
        return submitted(depot.job, convention_id=convention_id, sha256=depot.sha256)


@router.get("/conventions/{convention_id}/versions/{numero}/certificat.pdf", response_class=Response,
            responses=responses(403, 404, _200=PDF, _302=REDIRECT), summary="Certificat d'archivage de la copie signée")
def get_certificat(
    convention_id: str, numero: Numero, request: Request, jeton: Jeton = Depends(require(Droit.LIRE)),
    sha256: Annotated[str | None, Query(pattern=r"^[0-9a-f]{64}$", description="Copie signée (défaut : la dernière archivée).")] = None,
) -> Response:
    from dossiers.services.documents import archive_certificate

    ctx = ctx_of(request)
    with audited(ctx, request, jeton, "certificat.telecharger") as trail:
        trail.departement = ctx.convention_visible(jeton, convention_id)
        return _deliver(archive_certificate(ctx.app, convention_id, numero, sha256), trail)
