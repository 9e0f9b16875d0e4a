"""A dossier's page (its pieces, their findings and decisions, what is missing, the convention it
gave) and its rapport de contrôle, downloaded and audited as through the API."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from dossiers.domain.acces import Droit
from dossiers.entrypoints.web.common import agent_of, app_of, audite, dossier_visible, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/dossiers/{dossier_id}", response_class=HTMLResponse)
def dossier(request: Request, dossier_id: str) -> Response:
    from dossiers.services.validation import view_dossier

    from dossiers.domain.dossier import PIECE_LABELS
    from dossiers.domain.model import convention_id_for
    from dossiers.services.situation import avertissements_homonymes

    agent = agent_of(request)
    dossier_visible(request, agent, dossier_id)
    app = app_of(request)
    view = view_dossier(dossier_id, app)
    d = view.dossier
    vague = int(app.catalog.get_dossier_demande(dossier_id)["convention"]["vague"])
    convention_id = convention_id_for(d.structure_id, vague)
    avertissements = avertissements_homonymes(app, d.structure_id, d.siret)
    return render(request, "dossier.html", agent=agent, section="conventions", view=view.to_dict(),
                  libelles={str(k): v for k, v in PIECE_LABELS.items()}, instruire=agent.peut(Droit.INSTRUIRE),
                  convention_id=convention_id if app.catalog.get_convention(convention_id) is not None else None,
                  avertissements=avertissements)


@router.get("/dossiers/{dossier_id}/rapport.pdf")
def rapport(request: Request, dossier_id: str) -> Response:
    """The rapport de contrôle, sealed, as ``GET /v1/dossiers/{id}/rapport.pdf`` gives it (same audit row)."""
    from dossiers.services.documents import ascii_filename
    from dossiers.services.validation import rapport_dossier

    agent = agent_of(request)
    with audite(request, agent, "rapport.telecharger") as trail:
        trail.departement = dossier_visible(request, agent, dossier_id)
        made = rapport_dossier(dossier_id, app_of(request), now=app_of(request).clock.now())
        trail.detail = {"empreinte": made.empreinte, "size": len(made.pdf)}
    return Response(made.pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="rapport-{ascii_filename(dossier_id)}.pdf"',
        "Cache-Control": "private, no-store"})
