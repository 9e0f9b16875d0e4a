"""Re-issue conventions in batch after a rule change: plan the impact, then issue, resumably.

``plan`` reads every convention's current state in bulk, computes what the target (management
rules, a barème, a template version) changes for each (``dossiers.domain.reemission.impact``), and
records the plan and its items; nothing else is written. Beside its items a plan records what needs
a person: the conventions its barème can no longer price (``anomalies``) and, for management rules
with limits, the conventions and ajouts issued against them without a derogation (``hors_limites``).

``reissue_item`` is one job of the run: it re-checks the convention as it is now, and issues the
avenant planned only if the convention is still at the version the plan saw and still needs it (else
the item is ``obsolete``). The avenant's request id is the plan's, so a redelivered or re-run job
returns the version already issued: a convention is never re-issued twice by one plan.
"""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from dossiers.domain.etat import StatutConvention
from dossiers.domain.gestion import hors_limites
from dossiers.domain.reemission import (
    Cible,
    Impact,
    ItemStatut,
    Plan,
    PlanItem,
    impact,
    request_id_for,
    totaux,
)
from dossiers.errors import ChangementRefuse, ConumError, ErrorCode, RulesError
from dossiers.domain.model import ConventionVersion
from dossiers.ports import AppPorts

__all__ = ["plan", "reissue_item", "progress", "Progress", "report_csv", "cible", "Outcome"]

OBSOLETE_CODES = {ErrorCode.VERSION_PERIMEE, ErrorCode.CHANGEMENT_SANS_EFFET, ErrorCode.CONVENTION_CLOSE}


def cible(app: AppPorts, *, regles: str | None, modele: str | None) -> Cible:
    """The target of a plan; a template version must be the one installed (the one a job renders)."""
    if regles is None and modele is None:
        raise ConumError("Indiquez --rules, --template, ou les deux.", code=ErrorCode.REGLES_INTROUVABLES)
    if modele is not None:
        installed = app.template("avenant")[1].version
        if modele != installed:
            raise ConumError(f"Modèle version {modele} indisponible : les modèles installés sont en version "
                             f"{installed}.", code=ErrorCode.MODELE_INTROUVABLE)
    gestion = bareme = None
    if regles is not None:
        try:
            gestion = app.rules.gestion(regles)
        except RulesError:
            bareme = app.rules.get(regles)  # not management rules: a barème (raises if neither)
    try:
        return Cible(gestion=gestion, bareme=bareme, modele=modele)
    except ValueError as exc:
        raise ConumError(str(exc), code=ErrorCode.REGLES_INVALIDES) from exc


def plan(app: AppPorts, *, regles: str | None, modele: str | None, as_of: date, now: datetime) -> tuple[Plan, list[Impact]]:
    """Compute and record the impact of the target on every convention (active on ``as_of``)."""
    from dossiers.services.avenants import etat_courant

    target = cible(app, regles=regles, modele=modele)
    plan_id = f"RP-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
    request_id = request_id_for(plan_id)
    rulesets: dict[str, Any] = {}
    impacts: list[Impact] = []
    anomalies: list[dict[str, Any]] = []  # conventions a person must see to, with the error's code and message
    examinees = 0
    # a barème plan compares the amounts each version stated when issued with the barème's today
    emises = app.catalog.figures_emises() if target.bareme is not None else {}
    for cid, departement, nature, _numero, modele_courant, etat in app.catalog.current_states():
        examinees += 1
        if etat is None:  # a v1 from before états were stored: recomputed from its demande
            etat = etat_courant(cid, app).etat
        try:
            if etat.regles not in rulesets:
                rulesets[etat.regles] = app.rules.get(etat.regles)
            found = impact(etat, rulesets[etat.regles], target, jour=as_of, request_id=request_id,
                           modele_courant=modele_courant, emises=emises.get(cid))
        except RulesError as exc:  # its barème can no longer price it (an outre-mer vague-1 convention…)
            if etat.statut is StatutConvention.ACTIVE:
                anomalies.append({"convention_id": cid, **exc.to_dict()})
            continue
        if found is not None:
            impacts.append(replace(found, departement=departement, nature=nature))
    constats: dict[str, Any] = {"anomalies": anomalies}
    if target.gestion is not None and target.gestion.limites:  # issued against the limits before conum refused it
        constats["hors_limites"] = [a.to_dict() for a in hors_limites(app.catalog.historiques_limites(),
                                                                      [target.gestion])]
    recorded = Plan(id=plan_id, created_at=now, as_of=as_of, examinees=examinees,
                    totaux={**totaux(impacts), **constats}, regles=regles, modele=modele)
    app.catalog.record_plan(recorded, impacts, now=now)
    return recorded, impacts


@dataclass(frozen=True)
class Outcome:
    statut: str
    version: int | None = None
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"statut": self.statut, "version": self.version, "message": self.message}


def reissue_item(app: AppPorts, plan_id: str, convention_id: str, *, today: date, now: datetime,
                 job_id: str | None = None) -> Outcome:
    """Issue one planned change, after checking it still applies. Transient errors propagate (the
    job is retried); a refusal is recorded on the item."""
    item = app.catalog.plan_item(plan_id, convention_id)
    plan_ = app.catalog.get_plan(plan_id)
    if plan_ is None:
        raise ChangementRefuse(f"Plan {plan_id} inconnu.", code=ErrorCode.PLAN_INTROUVABLE)
    if item is None:
        raise ChangementRefuse(f"Pas de convention {convention_id} dans le plan {plan_id}.",
                               code=ErrorCode.CONVENTION_INTROUVABLE)
    if item.statut == ItemStatut.EMISE:
        return Outcome(ItemStatut.EMISE, item.version_emise)
    request_id = request_id_for(plan_id)
    done = app.catalog.find_version_by_request(convention_id, request_id)
    if done is None:
        issued = _emettre(app, convention_id, item, plan_, today=today, now=now)
        if isinstance(issued, Outcome):
            app.catalog.set_plan_item(plan_id, convention_id, statut=issued.statut, now=now, message=issued.message,
                                      job_id=job_id)
            _fin_de_lot(app, plan_id, now=now)
            return issued
        done = issued
    app.catalog.set_plan_item(plan_id, convention_id, statut=ItemStatut.EMISE, version_emise=done.numero, now=now,
                              job_id=job_id)
    _fin_de_lot(app, plan_id, now=now)
    return Outcome(ItemStatut.EMISE, done.numero)


def _fin_de_lot(app: AppPorts, plan_id: str, *, now: datetime) -> None:
    """The last item of a batch done: its documents are timestamped now rather than at the next anchoring."""
    from dossiers.services.registre import ancrer_fin_de_lot

    if progress(app, plan_id).finished:
        ancrer_fin_de_lot(app, now=now)


def _emettre(app: AppPorts, convention_id: str, item: PlanItem, plan_: Plan, *, today: date,
             now: datetime) -> ConventionVersion | Outcome:
    """The planned change issued, or why not (it no longer applies as planned, or it is refused)."""
    from dossiers.services.avenants import amend, etat_courant

    outcome = _check(app, item, plan_, etat_courant(convention_id, app), today=today)
    if outcome is not None:
        return outcome
    try:
        return amend(convention_id, item.impact.change, app, today=today, now=now).version
    except ChangementRefuse as exc:
        return Outcome(ItemStatut.OBSOLETE if exc.code in OBSOLETE_CODES else ItemStatut.ECHEC,
                       message=f"{exc.code} : {exc.message}")


def _check(app: AppPorts, item: PlanItem, plan_: Plan, courant: Any, *, today: date) -> Outcome | None:
    """None when the planned change still applies as planned; else why the item is obsolete."""
    if courant.version.numero != item.impact.base_version:
        return Outcome(ItemStatut.OBSOLETE, message=f"La convention est passée de la version "
                       f"{item.impact.base_version} (plan) à la version {courant.version.numero} : à replanifier.")
    target = cible(app, regles=plan_.regles, modele=plan_.modele)
    again = impact(courant.etat, app.rules.get(courant.etat.regles), target, jour=plan_.as_of,
                   request_id=request_id_for(plan_.id), modele_courant=courant.version.modele_version,
                   emises=courant.version.figures)
    if again is None:
        return Outcome(ItemStatut.OBSOLETE, message="La convention n'est plus concernée (paiements ou état changés).")
    if again.change != item.impact.change:
        return Outcome(ItemStatut.OBSOLETE, message="La modification à faire n'est plus celle du plan : à replanifier.")
    return None


@dataclass(frozen=True)
class Progress:
    total: int
    emises: int
    obsoletes: int
    echecs: int  # refused for good, or whose job failed after its retries
    restantes: int

    @property
    def finished(self) -> bool:
        return self.restantes == 0

    def to_dict(self) -> dict[str, int | bool]:
        return {"total": self.total, "emises": self.emises, "obsoletes": self.obsoletes, "echecs": self.echecs,
                "restantes": self.restantes, "termine": self.finished}


def progress(app: AppPorts, plan_id: str, *, departements: tuple[str, ...] = ()) -> Progress:
    counts = app.catalog.plan_progress(plan_id, departements=departements)
    total = sum(counts.values())
    return Progress(total=total, emises=counts.get(ItemStatut.EMISE, 0), obsoletes=counts.get(ItemStatut.OBSOLETE, 0),
                    echecs=counts.get(ItemStatut.ECHEC, 0),
                    restantes=counts.get(ItemStatut.A_FAIRE, 0))


def report_csv(items: list[PlanItem]) -> str:
    """One line per item (French headers, ``;`` separated, amounts with a decimal point)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(["convention", "departement", "nature", "type", "version_planifiee", "du_avant_eur",
                     "du_apres_eur", "difference_eur", "a_reverser_eur", "postes_rendus", "statut", "version_emise",
                     "message"])
    for item in items:
        d = item.to_dict()
        writer.writerow([d["convention_id"], d["departement"], d["nature"], d["type"], d["base_version"],
                         d["du_avant_eur"], d["du_apres_eur"], d["difference_eur"], d["a_reverser_eur"],
                         " ".join(d["postes_rendus"]), d["statut"], d["version_emise"] or "", d["message"] or ""])
    return out.getvalue()
