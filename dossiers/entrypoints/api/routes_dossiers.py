"""``/v1/dossiers`` and ``/v1/jobs``: portals submit dossiers and pieces and follow their jobs;
instructeurs read dossiers and their rapport de contrôle."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Header, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from dossiers.domain.acces import Droit, Jeton, resultat_visible
from dossiers.domain.demande import avertissements_demande, validate_demande
from dossiers.domain.dossier import dossier_id_for
from dossiers.domain.pieces import PieceKind, safe_filename
from dossiers.domain.structures import MAX_ID, prefixe_etranger
from dossiers.entrypoints.api import schemas
from dossiers.entrypoints.api.context import IDEMPOTENCY_KEY, ApiContext, audited, empreinte_requete
from dossiers.errors import StructureFigee
from dossiers.entrypoints.api.errors import ApiError, responses
from dossiers.entrypoints.api.limits import human_size
from dossiers.entrypoints.api.security import require
from dossiers.services.documents import ascii_filename

__all__ = ["router", "ctx_of", "read_json", "job_out", "submitted", "check_upload", "PDF", "Idempotency",
           "structure_demande", "structure_figee"]

router = APIRouter(prefix="/v1")
PDF = {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}
Idempotency = Annotated[str | None, Header(alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY,
                                           description="Même clé, même jeton : la même tâche.")]


def ctx_of(request: Request) -> ApiContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


async def read_json(request: Request) -> Any:
    """The JSON body (the size limit is enforced as it streams in)."""
    raw = await request.body()
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(422, "requete_invalide", f"Corps JSON illisible : {exc}.",
                       erreurs=[{"champ": "", "code": "json_invalide", "message": "JSON illisible"}]) from None


def job_out(job: Any, jeton: Jeton) -> dict[str, Any]:
    """The job as ``jeton`` may read it: its result filtered by the token's rights (``resultat_visible``)."""
    data = job.to_dict()
    data["result"] = resultat_visible(job.actor, data["result"], jeton)
    return {k: data[k] for k in ("job_id", "actor", "status", "attempts", "result", "error", "created_at",
                                 "started_at", "finished_at")}


def structure_demande(ctx: ApiContext, jeton: Jeton, payload: dict[str, Any], prefix: str = "structure") -> dict[str, Any]:
    """The demande with ``structure.id`` replaced by the structure's catalog key for the token
    (``ApiContext.cle_structure``); refused (422) when the id is written in another département's
    namespace or too long to be namespaced. Validated already (``validate_demande``)."""
    structure = payload["structure"]
    departement, ref = structure["departement"], structure["id"]
    if (autre := prefixe_etranger(departement, ref)) is not None:
        raise ApiError(422, "demande_invalide", f"L'identifiant de structure {ref} est dans l'espace du département "
                       f"{autre}, pas du {departement}.", erreurs=[{
                           "champ": f"{prefix}.id", "code": "structure_id_autre_departement",
                           "message": f"le préfixe « {autre}. » est réservé aux structures du département {autre}"}])
    cle = ctx.cle_structure(jeton, departement, ref)
    if len(cle) > MAX_ID:
        raise ApiError(422, "demande_invalide", f"L'identifiant de structure {ref} est trop long.", erreurs=[{
            "champ": f"{prefix}.id", "code": "string_too_long",
            "message": f"{MAX_ID - len(cle) + len(ref)} caractères au plus (l'identifiant est préfixé par le département)"}])
    return payload if cle == ref else {**payload, "structure": {**structure, "id": cle}}


def structure_figee(ctx: ApiContext, structure: Any) -> None:
    """409 structure_figee, with the differing fields, when the demande would change the facts of a
    structure that has an issued convention."""
    if champs := ctx.app.catalog.structure_figee(structure):
        exc = StructureFigee(structure.id, champs)
        raise ApiError(409, str(exc.code), exc.message, erreurs=exc.to_dict()["erreurs"])  # type: ignore[arg-type]


def submitted(job: Any, **extra: Any) -> dict[str, Any]:
    return {"job_id": job.id, "status": str(job.status), "url": f"/v1/jobs/{job.id}", **extra}


def check_upload(data: bytes, *, mimes: frozenset[str], max_bytes: int, what: str,
                 sniff: Callable[[bytes], str]) -> str:
    """Refuse an upload over its limit (413) or whose content is of a type not accepted (415); ``sniff``
    reads the type from the bytes (``Inspector.sniff``)."""
    if len(data) > max_bytes:
        raise ApiError(413, "trop_volumineux", f"{what} dépasse la taille maximale ({human_size(max_bytes)}).")
    if not data:
        raise ApiError(422, "requete_invalide", f"{what} est vide.",
                       erreurs=[{"champ": "fichier", "code": "fichier_vide", "message": "fichier vide"}])
    mime = sniff(data)
    if mime not in mimes:
        from dossiers.domain.checks.fichier import type_refuse

        raise ApiError(415, "type_non_accepte", f"{what} {type_refuse(mime, mimes)} (type lu dans son contenu).")
    return mime


@router.post("/dossiers", status_code=202, response_model=schemas.TacheSoumise, response_model_exclude_none=True, responses=responses(403, 404, 409, 413),
             summary="Ouvrir ou mettre à jour un dossier (demande JSON)",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": {"$ref": "#/components/schemas/DemandeIn"}}}}})
async def post_dossier(request: Request, jeton: Jeton = Depends(require(Droit.SOUMETTRE)),
                       idempotency: Idempotency = None) -> dict[str, Any]:
    payload = await read_json(request)
    ctx = ctx_of(request)
    requete = empreinte_requete(request, payload)

    def run() -> dict[str, Any]:
        from workers.submit import store_json

        demande = validate_demande(payload)
        if not jeton.voit(demande.structure.departement):
            raise ApiError(403, "hors_perimetre",
                           f"Le jeton ne couvre pas le département {demande.structure.departement}.")
        ctx.check_idempotency(jeton, "dossier", idempotency, requete)
        # the structure as the catalog knows it in this département: ids are namespaced by département
        demande = validate_demande(structure_demande(ctx, jeton, demande.model_dump(mode="json")))
        known = ctx.app.catalog.get_structure(demande.structure.id)
        if known is not None and known.departement != demande.structure.departement:
            # a demande never moves a structure to another département (nor into the token's scope)
            if not jeton.voit(known.departement):
                raise ApiError(404, "structure_introuvable", f"Structure {demande.structure.id} introuvable.")
            raise ApiError(409, "structure_departement", f"La structure {demande.structure.id} est enregistrée dans le "
                           f"département {known.departement} : une demande ne peut pas la déplacer.")
        structure_figee(ctx, demande.to_domain().structure)
        key = store_json(ctx.app, demande.model_dump(mode="json"))
        dossier_id = dossier_id_for(demande.structure.id, demande.convention.vague)
        # opening a dossier is also a read of its state: each submission runs, unless an Idempotency-Key says
        job = ctx.submit(jeton, "dossier", {"demande_key": key, "dossier_id": dossier_id},
                         idempotency=idempotency, key=None if idempotency else str(uuid.uuid4()), requete=requete)
        avertissements = avertissements_demande(demande.to_domain())
        return submitted(job, dossier_id=dossier_id, avertissements=avertissements or None)

    return await run_in_threadpool(run)


@router.get("/dossiers/{dossier_id}", response_model=schemas.Dossier, responses=responses(403, 404),
            summary="Pièces, constats, pièces manquantes et état d'un dossier")
def get_dossier(dossier_id: str, request: Request, jeton: Jeton = Depends(require(Droit.LIRE))) -> dict[str, Any]:
    from dossiers.services.validation import view_dossier

    ctx = ctx_of(request)
    ctx.dossier_visible(jeton, dossier_id)
    view = view_dossier(dossier_id, ctx.app).to_dict()
    view["rapport_url"] = f"/v1/dossiers/{dossier_id}/rapport.pdf"
    return view


@router.get("/dossiers/{dossier_id}/rapport.pdf", response_class=Response, responses=responses(403, 404, _200=PDF),
            summary="Rapport de contrôle du dossier (PDF)")
def get_rapport(dossier_id: str, request: Request, jeton: Jeton = Depends(require(Droit.LIRE))) -> Response:
    from dossiers.services.validation import rapport_dossier

    ctx = ctx_of(request)
    with audited(ctx, request, jeton, "rapport.telecharger") as trail:
        trail.departement = ctx.dossier_visible(jeton, dossier_id)
        rapport = rapport_dossier(dossier_id, ctx.app, now=ctx.app.clock.now())
        trail.detail = {"empreinte": rapport.empreinte, "size": len(rapport.pdf)}
    return Response(rapport.pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="rapport-{ascii_filename(dossier_id)}.pdf"', "Cache-Control": "no-store"})


@router.post("/dossiers/{dossier_id}/pieces", status_code=202, response_model=schemas.TacheSoumise, response_model_exclude_none=True,
             responses=responses(403, 404, 413, 415), summary="Déposer une pièce (contrôlée par un worker)",
             description="Refusée tout de suite (422) : un contrat sans `poste_id` d'un poste occupé du dossier "
                         "(`poste_inconnu`), une autre pièce avec un `poste_id` (`piece_invalide`), comme `conum "
                         "dossier add` ; un type lu dans le contenu qui n'est pas accepté (415 `type_non_accepte`).")
def post_piece(
    dossier_id: str,
    request: Request,
    fichier: Annotated[UploadFile, File(description="La pièce (PDF, JPEG ou PNG selon sa nature).")],
    kind: Annotated[PieceKind, Form(description="Nature de la pièce.")],
    poste_id: Annotated[str | None, Form(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
                                         description="Poste d'un contrat de travail.")] = None,
    mrz: Annotated[str | None, Form(max_length=200, description="Zone MRZ lue sur la pièce d'identité.")] = None,
    jeton: Jeton = Depends(require(Droit.SOUMETTRE)),
    idempotency: Idempotency = None,
) -> dict[str, Any]:
    from dossiers.services.validation import verifier_poste
    from workers.submit import store_upload

    ctx = ctx_of(request)
    with audited(ctx, request, jeton, "piece.deposer") as trail:
        trail.departement = ctx.dossier_visible(jeton, dossier_id)
        verifier_poste(dossier_id, kind, poste_id, ctx.app)
        policy = ctx.app.policies[kind]
        data = fichier.file.read(policy.max_bytes + 1)
        filename = safe_filename(fichier.filename)
        trail.detail = {"kind": str(kind), "filename": filename, "size": len(data)}
        mime = check_upload(data, mimes=policy.mimes, max_bytes=policy.max_bytes, what=f"La pièce « {kind} »",
                            sniff=ctx.app.inspector.sniff)
        requete = empreinte_requete(request, {"fichier": hashlib.sha256(data).hexdigest(), "filename": fichier.filename,
                                              "kind": str(kind), "poste_id": poste_id, "mrz": mrz})
        ctx.check_idempotency(jeton, "validate", idempotency, requete)
        key = store_upload(ctx.app, data)
        sha256 = key.rsplit("/", 1)[-1]
        trail.detail.update(sha256=sha256, mime=mime)
        # the upload's time is an argument: each upload is a job of its own (unless an Idempotency-Key says)
        job = ctx.submit(jeton, "validate", {
            "dossier_id": dossier_id, "kind": str(kind), "piece_key": key, "filename": filename,
            "poste_id": poste_id, "mrz": mrz, "soumis_le": ctx.app.clock.now().isoformat(),
        }, idempotency=idempotency, requete=requete)
        trail.status = 202
        trail.detail["job_id"] = job.id
        return submitted(job, dossier_id=dossier_id, sha256=sha256)


@router.get("/jobs/{job_id}", response_model=schemas.Tache, responses=responses(403, 404),
            summary="État d'une tâche soumise par ce jeton")
def get_job(job_id: str, request: Request, jeton: Jeton = Depends(require(Droit.SUIVRE))) -> dict[str, Any]:
    ctx = ctx_of(request)
    job = ctx.job_visible(jeton, ctx.app.catalog.get_job(job_id) if len(job_id) <= 64 else None, job_id)
    return job_out(job, jeton)
