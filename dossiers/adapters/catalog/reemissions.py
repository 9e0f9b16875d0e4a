"""The catalog's re-issue plans (a mixin of ``Catalog``): the states a plan reads in bulk, the plan
and its items written in one transaction, and each item's progress.

An item's status moves forward: ``a_faire`` -> ``emise`` | ``obsolete`` | ``echec``; ``conum reissue
run`` puts an ``echec`` back to ``a_faire`` and gives it a new job; ``emise`` is final (a late report
of a redelivered job cannot undo it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.orm import Session

from dossiers.adapters.catalog.evenements import EvenementCatalog
from dossiers.adapters.catalog.tables import (
    ConventionRow,
    JobRow,
    PaiementRow,
    PlanItemRow,
    PlanRow,
    StructureRow,
    VersionRow,
)
from dossiers.domain.etat import EtatConvention, Figures, Paiement
from dossiers.domain.etat_codec import etat_from_json, figures_from_json
from dossiers.domain.gestion import AJOUT_POSTES, AjoutHistorique, HistoriqueLimites
from dossiers.domain.reemission import ZERO, Impact, ItemStatut, Plan, PlanItem

__all__ = ["ReemissionCatalog"]

BATCH = 2000


class ReemissionCatalog(EvenementCatalog):

    def current_states(self) -> Iterator[tuple[str, str, str, int, str, EtatConvention | None]]:
        """Every convention's current version, read in bulk: (id, département, nature, numero,
        modèle, état with its period's payments and its postes' events). The état is None for a v1 recorded before états
        were stored (the caller recomputes it from the demande)."""
        latest = (select(VersionRow.convention_id, func.max(VersionRow.numero).label("numero"))
                  .group_by(VersionRow.convention_id).subquery())
        stmt = (select(ConventionRow.id, StructureRow.departement, StructureRow.nature, VersionRow.numero,
                       VersionRow.modele_version, VersionRow.etat)
                .join(StructureRow, StructureRow.id == ConventionRow.structure_id)
                .join(latest, latest.c.convention_id == ConventionRow.id)
                .join(VersionRow, and_(VersionRow.convention_id == ConventionRow.id,
                                       VersionRow.numero == latest.c.numero))
                .order_by(ConventionRow.id))
        with self._read("la lecture des conventions à réémettre") as session:
            paiements: dict[tuple[str, date], list[Paiement]] = defaultdict(list)
            for row in session.execute(select(PaiementRow.convention_id, PaiementRow.periode_debut, PaiementRow.annee,
                                              PaiementRow.date, PaiementRow.montant)
                                       .order_by(PaiementRow.date, PaiementRow.id)):
                paiements[(row.convention_id, row.periode_debut)].append(Paiement(row.annee, row.date, row.montant))
            rows = session.execute(stmt).all()
        evenements = self.evenements_by_convention()
        for cid, departement, nature, numero, modele, etat_json in rows:
            etat = None
            if etat_json is not None:
                etat = etat_from_json(etat_json)
                etat = replace(etat, version=numero, paiements=tuple(paiements.get((cid, etat.date_debut), ())),
                               evenements=evenements.get(cid, ()),
                               # a state stored before it kept its département: the structure's
                               departement=etat.departement or departement)
            yield cid, departement, nature, numero, modele, etat

    def figures_emises(self) -> dict[str, Figures | None]:
        """Every convention's current version's figures as recorded when it was issued (None: a
        version from before they were recorded), read in bulk."""
        latest = (select(VersionRow.convention_id, func.max(VersionRow.numero).label("numero"))
                  .group_by(VersionRow.convention_id).subquery())
        stmt = (select(VersionRow.convention_id, VersionRow.figures)
                .join(latest, and_(latest.c.convention_id == VersionRow.convention_id,
                                   latest.c.numero == VersionRow.numero)))
        with self._read("la lecture des montants émis") as session:
            return {cid: figures_from_json(f) if f is not None else None for cid, f in session.execute(stmt)}

    def historiques_limites(self) -> Iterator[HistoriqueLimites]:
        """Every convention's history as the May 2025 limits read it, by convention id, in two queries
        (conventions with their structure and version 1's derogation; the ajouts de postes), reading
        only the JSON keys needed.

        A convention is a new structure's first when it renews none and no other convention of its
        structure id or of its structure's SIRET began earlier (same day: the smaller id is earlier)."""
        derogation_v1 = VersionRow.demande[("derogation", "reference")].as_string()
        conventions = (select(ConventionRow.id, ConventionRow.structure_id, StructureRow.siret,
                              ConventionRow.date_debut, ConventionRow.renouvelle, derogation_v1)
                       .join(StructureRow, StructureRow.id == ConventionRow.structure_id)
                       .outerjoin(VersionRow, and_(VersionRow.convention_id == ConventionRow.id,
                                                   VersionRow.numero == 1))
                       .order_by(ConventionRow.id))
        ajouts_stmt = (select(VersionRow.convention_id, VersionRow.numero,
                              VersionRow.changement["date_effet"].as_string(),
                              VersionRow.changement[("derogation", "reference")].as_string())
                       .where(VersionRow.numero > 1, VersionRow.changement["type"].as_string() == AJOUT_POSTES)
                       .order_by(VersionRow.convention_id, VersionRow.numero))
        lecture = "la lecture des conventions et de leurs ajouts de postes"
        with self._read(lecture) as session:
            rows = session.execute(conventions).all()
            ajouts: dict[str, list[AjoutHistorique]] = defaultdict(list)
            for cid, numero, effet, reference in session.execute(ajouts_stmt):
                ajouts[cid].append(AjoutHistorique(version=numero, date_effet=_jour(effet),
                                                   derogation=bool(reference)))
        premiere: dict[tuple[str, str], tuple[date, str]] = {}  # (structure id | SIRET) -> earliest (début, id)
        for cid, structure_id, siret, debut, _renouvelle, _ref in rows:
            for key in (("id", structure_id), ("siret", siret)):
                premiere[key] = min(premiere.get(key, (debut, cid)), (debut, cid))
        for cid, structure_id, siret, debut, renouvelle, reference in rows:
            nouvelle = (renouvelle is None and premiere[("id", structure_id)] == (debut, cid)
                        and premiere[("siret", siret)] == (debut, cid))
            yield HistoriqueLimites(convention_id=cid, structure_nouvelle=nouvelle, date_debut=debut,
                                    derogation_initiale=bool(reference), ajouts=tuple(ajouts.get(cid, ())))

    def list_plans(self, *, limit: int = 50) -> list[Plan]:
        stmt = select(PlanRow).order_by(PlanRow.created_at.desc(), PlanRow.id).limit(limit)
        with self._read("la liste des plans de réémission") as session:
            return [Plan(id=r.id, created_at=r.created_at, as_of=r.as_of, examinees=r.examinees, totaux=dict(r.totaux),
                         regles=r.regles, modele=r.modele) for r in session.scalars(stmt)]

    def conventions_changing(self, ids: Iterable[str]) -> set[str]:
        """Of ``ids``, the conventions with an avenant on its way: a change job queued or running, or
        a re-issue item whose job is."""
        wanted = set(ids)
        if not wanted:
            return set()
        on_way = ("queued", "running")
        amends = select(JobRow.args).where(JobRow.status.in_(on_way), JobRow.actor == "amend_convention")
        reissues = (select(PlanItemRow.convention_id).join(JobRow, JobRow.id == PlanItemRow.job_id)
                    .where(PlanItemRow.convention_id.in_(wanted), PlanItemRow.statut == ItemStatut.A_FAIRE,
                           JobRow.status.in_(on_way)))
        with self._read("la lecture des avenants en cours") as session:
            changing = {str(a.get("convention_id")) for a in session.scalars(amends) if isinstance(a, dict)}
            changing |= set(session.scalars(reissues))
        return changing & wanted

    def record_plan(self, plan: Plan, impacts: Iterable[Impact], *, now: datetime) -> None:
        with self._translate(f"l'enregistrement du plan {plan.id}"):
            with Session(self._writer) as session, session.begin():
                session.add(PlanRow(id=plan.id, created_at=plan.created_at, regles=plan.regles, modele=plan.modele,
                                    as_of=plan.as_of, examinees=plan.examinees, totaux=plan.totaux))
                session.flush()
                batch = []
                for i in impacts:
                    batch.append({
                        "plan_id": plan.id, "convention_id": i.convention_id, "departement": i.departement,
                        "nature": i.nature, "kind": i.kind, "base_version": i.base_version, "change": i.change,
                        "du_avant": i.du_avant, "du_apres": i.du_apres, "a_reverser": i.a_reverser,
                        "postes_rendus": list(i.postes_rendus), "statut": ItemStatut.A_FAIRE, "updated_at": now})
                    if len(batch) == BATCH:
                        session.execute(self._insert(PlanItemRow), batch)
                        batch = []
                if batch:
                    session.execute(self._insert(PlanItemRow), batch)

    def get_plan(self, plan_id: str) -> Plan | None:
        with self._read(f"la lecture du plan {plan_id}") as session:
            row = session.get(PlanRow, plan_id)
            return None if row is None else Plan(id=row.id, created_at=row.created_at, as_of=row.as_of,
                                                 examinees=row.examinees, totaux=dict(row.totaux), regles=row.regles,
                                                 modele=row.modele)

    def plan_items(self, plan_id: str, *, statuts: Iterable[str] | None = None) -> list[PlanItem]:
        stmt = select(PlanItemRow).where(PlanItemRow.plan_id == plan_id).order_by(PlanItemRow.convention_id)
        if statuts is not None:
            stmt = stmt.where(PlanItemRow.statut.in_(list(statuts)))
        with self._read(f"la lecture du plan {plan_id}") as session:
            return [_item(row) for row in session.scalars(stmt)]

    def plan_item(self, plan_id: str, convention_id: str) -> PlanItem | None:
        with self._read(f"la lecture du plan {plan_id}") as session:
            row = session.get(PlanItemRow, (plan_id, convention_id))
            return _item(row) if row is not None else None

    def count_plan_items(self, plan_id: str) -> dict[str, int]:
        stmt = (select(PlanItemRow.statut, func.count()).where(PlanItemRow.plan_id == plan_id)
                .group_by(PlanItemRow.statut))
        with self._read(f"le décompte du plan {plan_id}") as session:
            return {statut: int(n) for statut, n in session.execute(stmt)}

    def plan_progress(self, plan_id: str, *, departements: tuple[str, ...] = ()) -> dict[str, int]:
        """Items per status (of these départements; empty: all), an item whose job failed after its
        retries counted as ``echec``."""
        failed = and_(PlanItemRow.statut == ItemStatut.A_FAIRE, JobRow.status == "failed")
        statut = case((failed, ItemStatut.ECHEC), else_=PlanItemRow.statut)
        stmt = (select(statut, func.count()).select_from(PlanItemRow)
                .outerjoin(JobRow, JobRow.id == PlanItemRow.job_id)
                .where(PlanItemRow.plan_id == plan_id).group_by(statut))
        if departements:
            stmt = stmt.where(PlanItemRow.departement.in_(departements))
        with self._read(f"l'avancement du plan {plan_id}") as session:
            return {str(s): int(n) for s, n in session.execute(stmt)}

    def plan_failures(self, plan_id: str, *, departements: tuple[str, ...] = (), limit: int = 500) -> list[PlanItem]:
        """Items refused for good, and those whose job failed after its retries (with the job's error)."""
        failed_job = and_(PlanItemRow.statut == ItemStatut.A_FAIRE, JobRow.status == "failed")
        stmt = (select(PlanItemRow, JobRow.error_code, JobRow.error_message)
                .outerjoin(JobRow, JobRow.id == PlanItemRow.job_id)
                .where(PlanItemRow.plan_id == plan_id, (PlanItemRow.statut == ItemStatut.ECHEC) | failed_job)
                .order_by(PlanItemRow.convention_id).limit(limit))
        if departements:
            stmt = stmt.where(PlanItemRow.departement.in_(departements))
        with self._read(f"les échecs du plan {plan_id}") as session:
            found = []
            for row, code, message in session.execute(stmt):
                item = _item(row)
                if item.statut == ItemStatut.A_FAIRE:
                    item = replace(item, statut=ItemStatut.ECHEC, message=f"{code} : {message}")
                found.append(item)
            return found

    def set_plan_item(self, plan_id: str, convention_id: str, *, statut: str, now: datetime,
                      version_emise: int | None = None, job_id: str | None = None, message: str | None = None) -> None:
        """Move an item on; an issued one stays issued."""
        values: dict[str, Any] = {"statut": statut, "updated_at": now, "message": message}
        if version_emise is not None:
            values["version_emise"] = version_emise
        if job_id is not None:
            values["job_id"] = job_id
        with self._translate(f"la mise à jour du plan {plan_id}"):
            with Session(self._writer) as session, session.begin():
                session.execute(update(PlanItemRow).where(
                    PlanItemRow.plan_id == plan_id, PlanItemRow.convention_id == convention_id,
                    PlanItemRow.statut != ItemStatut.EMISE).values(**values))

    def set_plan_jobs(self, plan_id: str, jobs: dict[str, str], *, now: datetime) -> None:
        """Record the job of each item (``convention id -> job id``) in one transaction."""
        with self._translate(f"la mise à jour du plan {plan_id}"):
            with Session(self._writer) as session, session.begin():
                for cid, job_id in jobs.items():
                    session.execute(update(PlanItemRow).where(
                        PlanItemRow.plan_id == plan_id, PlanItemRow.convention_id == cid).values(
                        job_id=job_id, updated_at=now))


def _jour(value: str | None) -> date | None:
    """An ajout's ``date_effet`` as recorded (AAAA-MM-JJ), None when absent or unreadable."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _item(row: PlanItemRow) -> PlanItem:
    impact = Impact(convention_id=row.convention_id, base_version=row.base_version, kind=row.kind,
                    change=dict(row.change), du_avant=row.du_avant, du_apres=row.du_apres, a_reverser_avant=ZERO,
                    a_reverser_apres=row.a_reverser, postes_rendus=tuple(row.postes_rendus),
                    departement=row.departement, nature=row.nature)
    return PlanItem(plan_id=row.plan_id, impact=impact, statut=row.statut, version_emise=row.version_emise,
                    job_id=row.job_id, message=row.message, updated_at=row.updated_at)
