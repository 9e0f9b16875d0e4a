"""The batch re-issues (« réémissions »): the plans, and a plan's page with its progress refreshed by
htmx during a run; an agent sees the totals, progress and failures of its own départements only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from dossiers.domain.acces import Jeton
from dossiers.entrypoints.web.common import agent_of, app_of, partial, render
from dossiers.entrypoints.web.session import PageError

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/reemissions", response_class=HTMLResponse)
def plans(request: Request) -> Response:
    agent = agent_of(request)
    plans = app_of(request).catalog.list_plans(limit=50)
    totals = {p.id: visible_totals({k: v for k, v in p.totaux["par_departement"].items() if agent.voit(k)})
              for p in plans}
    return render(request, "reemissions.html", agent=agent, section="reemissions", plans=plans, totals=totals)


@router.get("/reemissions/{plan_id}", response_class=HTMLResponse)
def plan_page(request: Request, plan_id: str) -> Response:
    agent = agent_of(request)
    context = plan_context(request, agent, plan_id)
    template = "_avancement.html" if partial(request) else "reemission.html"
    return render(request, template, agent=agent, section="reemissions", **context)


def plan_context(request: Request, agent: Jeton, plan_id: str) -> dict[str, Any]:
    """The plan as the agent may see it: totals, progress and failures of its départements only
    (counted in SQL: the page refreshes every 2 s during a run)."""
    from dossiers.services.reemission import progress

    app = app_of(request)
    plan = app.catalog.get_plan(plan_id) if len(plan_id) <= 32 else None
    if plan is None:
        raise PageError(404, "Plan introuvable", f"Aucun plan de réémission {plan_id}.")
    p = progress(app, plan_id, departements=agent.departements)
    counts = {"total": p.total, "emise": p.emises, "obsolete": p.obsoletes, "echec": p.echecs, "a_faire": p.restantes}
    departements = {k: v for k, v in plan.totaux["par_departement"].items() if agent.voit(k)}
    biggest = max((abs(float(v["difference_eur"])) for v in departements.values()), default=0.0) or 1.0
    return {"plan": plan, "counts": counts, "failed": app.catalog.plan_failures(plan_id, departements=agent.departements),
            "departements": departements, "visible": visible_totals(departements), "biggest": biggest,
            "done": p.finished}


def visible_totals(par_departement: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The plan's totals over the départements an agent sees (never the national figure for a scoped agent)."""
    from decimal import Decimal

    total: dict[str, Any] = {"conventions": 0, "difference_eur": Decimal("0.00")}
    for row in par_departement.values():
        total["conventions"] += row["conventions"]
        total["difference_eur"] += Decimal(row["difference_eur"])
    return total
