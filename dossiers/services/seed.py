"""A synthetic but realistic population of conventions in the catalog, for demos and benchmarks.

``seed(app, structures=N, seed=S)`` writes N structures, each with its convention (v1) computed by
the same code as a generated one (demande validated, barème of its vague, état and figures), and for
some an avenant (v2: a poste added, or a change of nature), and the payments the CDC made for the
years already begun. Deterministic for a given seed (the same ids, dates and amounts); a structure
already there is skipped, so seeding twice adds nothing.

No document is rendered: a seeded version has no DOCX nor PDF (its figures are what a re-issue
plan reads); the first version a re-issue makes for it is a real avenant with its documents.
Mix: 60 % publique (communes, départements, EPCI), 40 % privée (associations); vague 1 (2021–2022)
and vague 2 (2023–2025); 1 to 10 postes, three in four occupied (CDI, CDD, PEC, contrat de projet
for the public ones), the others vacant since a day spread over the period, so that some are over
the 6-month rule; 10 % amended once.

Then each convention's postes live (``_evenements``, events recorded with source ``pilotage`` in
one call per convention, every one checked by ``dossiers.domain.postes.verifier`` first and dropped
if it would not fold): a fixed-term contract (CDD, PEC, contrat de projet) is prolonged for about
one in five, ends early for one in five (démission, rupture conventionnelle, licenciement…), else
at its planned end (declared as ``fin_cdd`` half the time, else left to the timeline); a CDI ends
early for about one in seven. A vacant poste (vacant in the demande, added by an avenant, or left
by a conseiller) is filled 1 to 5 months later for most, around the 6-month limit (one day short,
on it, one day over) for a few, 7 to 14 months later for some, and never for the rest; a
recruitment starts a new contract which lives the same way. About one occupation in five has an
absence (maladie, maternité, parental: justified; a few unjustified ones). Every event is dated on
or before ``as_of`` and the period's last day. The events are drawn from their own random stream
per structure, so the conventions, versions and payments are the same as without them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from stdnum import luhn

from dossiers.domain.postes import NouvelEvenement
from dossiers.domain.avenants import appliquer
from dossiers.domain.changements import etat_initial
from dossiers.domain.dates import add_months
from dossiers.domain.demande import validate_demande
from dossiers.domain.echeancier import annees_convention, figures
from dossiers.domain.etat import AjoutPostes, ChangementNature, EtatConvention, Paiement, PosteFinance
from dossiers.domain.evenements import parse_evenement
from dossiers.domain.model import ConventionVersion, Nature, Tranche, TypeContrat, convention_id_for
from dossiers.domain.postes import EvenementPoste, Source, verifier
from dossiers.domain.rules import calculer
from dossiers.services.generation import demande_digest
from dossiers.errors import ChangementRefuse
from dossiers.ports import AppPorts

__all__ = ["seed", "Seeded", "seed_demande"]

DEPARTEMENTS = ("33", "75", "69", "13", "59", "31", "44", "67", "34", "35", "06", "76", "974", "2A", "62", "93")
_WEIGHTS = (9, 8, 7, 7, 7, 5, 5, 4, 4, 4, 4, 4, 3, 1, 5, 6)
_PRENOMS = ("Camille", "Inès", "Karim", "Sophie", "Éric", "Léa", "Mathis", "Yasmine", "Hugo", "Chloé", "Nadia",
            "Lucas", "Manon", "Théo", "Aïcha", "Jules", "Emma", "Noah", "Zoé", "Rayan")
_NOMS = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
         "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier")
_VILLES = ("Exempleville", "Saint-Martin", "Villeneuve", "Beaumont", "Montfort", "Clairefontaine", "Rochefort",
           "Bellevue", "Val-d'Argent", "Pont-l'Évêque", "Sainte-Hélène", "Ormesson")
_PUBLIQUES = (("7210", "Commune de {v}", "Maire"), ("7220", "Département n° {d}", "Président du conseil départemental"),
              ("7346", "Communauté de communes de {v}", "Président"))
_PRIVEES = (("9220", "Association Numérique pour tous {v}", "Présidente"),
            ("9220", "Association Emmaüs Connect {v}", "Président"),
            ("9220", "Centre social de {v}", "Présidente"))


@dataclass(frozen=True)
class Seeded:
    structures: int  # written by this call
    skipped: int  # already in the catalog
    versions: int
    paiements: int
    evenements: int = 0


def _siret(rng: random.Random, prefix: str) -> str:
    siren = prefix + "".join(rng.choice("0123456789") for _ in range(7))
    siren += luhn.calc_check_digit(siren)
    body = siren + f"{rng.randrange(1, 9999):04d}"
    return body + luhn.calc_check_digit(body)


def _day(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange((last - first).days + 1))


def seed_demande(rng: random.Random, index: int, seed_value: int) -> dict[str, Any]:
    """One structure's demande (valid JSON, as a portal would send it)."""
    publique = rng.random() < 0.6
    departement = rng.choices(DEPARTEMENTS, weights=_WEIGHTS)[0]
    ville = rng.choice(_VILLES)
    categorie, denomination, qualite = rng.choice(_PUBLIQUES if publique else _PRIVEES)
    vague = 1 if rng.random() < 0.4 else 2
    if departement.startswith("97"):  # vague 1 has no outre-mer majoration: conum refuses such a convention
        vague = 2
    first, last = (date(2021, 3, 1), date(2022, 6, 1)) if vague == 1 else (date(2023, 1, 1), date(2025, 6, 1))
    debut = _day(rng, first, last).replace(day=1)
    count = min(10, max(1, int(rng.expovariate(1 / 2.5)) + 1))
    postes = []
    for n in range(1, count + 1):
        if rng.random() < 0.75:
            kinds = ("CDI", "CDD", "PEC", "contrat_de_projet") if publique else ("CDI", "CDD", "PEC")
            kind = rng.choice(kinds)
            start = debut + timedelta(days=rng.randrange(0, 90))
            contrat: dict[str, Any] = {"type": kind, "date_debut": start.isoformat()}
            if kind != "CDI":
                contrat["date_fin"] = (start + timedelta(days=rng.randrange(540, 1100))).isoformat()
            postes.append({"id": f"P-{n}", "etat": "occupe",
                           "conseiller": {"prenom": rng.choice(_PRENOMS), "nom": rng.choice(_NOMS)},
                           "contrat": contrat})
        else:
            postes.append({"id": f"P-{n}", "etat": "vacant",
                           "vacant_depuis": (debut + timedelta(days=rng.randrange(0, 900))).isoformat()})
    return {
        "structure": {
            "id": f"STR-S{seed_value}-{index:06d}", "siret": _siret(rng, "2" if publique else "8"),
            "denomination": denomination.format(v=ville, d=departement), "nature": "publique" if publique else "privee",
            "categorie_juridique": categorie, "departement": departement,
            "adresse": f"{rng.randrange(1, 120)} rue de la République, {ville}", "zone_prioritaire": rng.random() < 0.15,
            "representant": {"civilite": rng.choice(("Mme", "M.")), "prenom": rng.choice(_PRENOMS),
                             "nom": rng.choice(_NOMS), "qualite": qualite},
        },
        "convention": {"vague": vague, "date_debut": debut.isoformat(), "nombre_postes": count},
        "postes": postes,
    }


def seed(app: AppPorts, *, structures: int, seed: int = 1, as_of: date | None = None,
         progress: Callable[[int], None] | None = None, evenements: bool = True) -> Seeded:
    """Write ``structures`` seeded conventions (their payments and, unless ``evenements`` is False,
    their postes' events, up to ``as_of``: the seed's "today") to the catalog."""
    rng = random.Random(seed)
    as_of = as_of or date(2026, 11, 1)
    modele = app.template("convention")[1].version  # the installed templates' (as a generation records it)
    now = datetime(as_of.year, as_of.month, as_of.day, 9, tzinfo=UTC)
    written = skipped = versions = paiements = recorded = 0
    for index in range(structures):
        payload = seed_demande(rng, index, seed)
        amend_roll, pay_rolls = rng.random(), [rng.random() for _ in range(4)]  # drawn even when skipped
        validated = validate_demande(payload)
        demande, canonical = validated.to_domain(), validated.model_dump(mode="json")
        cid = convention_id_for(demande.structure.id, demande.vague)
        if progress:
            progress(index + 1)
        if app.catalog.find_version(cid, 1) is not None:
            skipped += 1
            continue
        regles = app.rules.for_vague(demande.vague)
        calcul = calculer(demande, regles)
        etat = etat_initial(cid, demande, regles)
        dus = figures(etat, regles)
        v1 = ConventionVersion(
            convention_id=cid, numero=1, motif="convention initiale", regles=regles.id, modele_version=modele,
            modele_sha256="0" * 64, demande_sha256=demande_digest(canonical), montant_total=calcul.total,
            echeancier=calcul.echeancier, created_at=datetime.combine(demande.date_debut, datetime.min.time(), UTC),
            etat=etat, figures=dus,
        )
        app.catalog.record_version(structure=demande.structure, convention_id=cid, vague=demande.vague,
                                   date_debut=demande.date_debut, version=v1, demande_json=canonical)
        written, versions = written + 1, versions + 1
        # payments: each year begun by as_of, paid 30 days after it starts (one in ten is late: not yet)
        for (annee, debut, _fin), roll in zip(annees_convention(etat), pay_rolls, strict=False):
            paid_on = debut + timedelta(days=30)
            if paid_on <= as_of and roll > 0.1:
                montant = dus.annees[annee - 1].du
                if montant > 0:
                    app.catalog.record_paiement(cid, etat.date_debut, Paiement(annee, paid_on, montant))
                    paiements += 1
        final = etat
        if amend_roll < 0.1:
            amended = _amend(app, cid, demande.vague, etat, v1, demande.structure, canonical, regles, amend_roll, now)
            if amended is not None:
                versions, final = versions + 1, amended
        if evenements:
            nouveaux = _evenements(random.Random(f"{seed}:{index}:evenements"), final, as_of)
            if nouveaux:
                app.catalog.record_evenements(cid, nouveaux, _nothing_before)
                recorded += len(nouveaux)
    return Seeded(written, skipped, versions, paiements, recorded)


def _nothing_before(existing: tuple[EvenementPoste, ...]) -> None:
    """The seeded events were checked against a convention that had none: it must still have none."""
    if existing:
        raise ChangementRefuse(f"{len(existing)} événement(s) déjà enregistré(s) : la graine ne les rejoue pas.")


_FINS_ANTICIPEES = ("demission", "demission", "rupture_conventionnelle", "rupture_conventionnelle", "licenciement",
                    "rupture_employeur", "autre")


class _Poste:
    """One poste's life as the seed writes it: each event is checked (``verifier``) against the
    convention with the events kept so far, and kept only if the timeline still folds."""

    def __init__(self, rng: random.Random, etat: EtatConvention, poste: PosteFinance, last: date,
                 kept: list[EvenementPoste], nouveaux: list[NouvelEvenement]) -> None:
        self.rng, self.etat, self.poste, self.last, self.kept, self.nouveaux = rng, etat, poste, last, kept, nouveaux
        self.count = 0

    def emit(self, payload: dict[str, Any]) -> bool:
        self.count += 1
        payload = {"request_id": f"seed-{self.poste.id}-{self.count}", "poste": self.poste.id,
                   **{k: v for k, v in payload.items() if v is not None}}
        etat = replace(self.etat, evenements=tuple(self.kept))
        try:
            evenement, _ = verifier(etat, parse_evenement(payload), source=Source.PILOTAGE)
        except ChangementRefuse:
            return False
        self.kept.append(EvenementPoste(len(self.kept) + 1, evenement, Source.PILOTAGE))
        canonical = dict(sorted(payload.items()))
        self.nouveaux.append(NouvelEvenement(self.etat.convention_id, evenement, canonical, demande_digest(canonical),
                                             Source.PILOTAGE, self.etat.version))
        return True

    def absence(self, start: date, end: date) -> None:
        """Perhaps one absence of the conseiller in post from ``start`` to ``end``."""
        rng = self.rng
        if rng.random() >= 0.2 or end < start:
            return
        du = _day(rng, start, end)
        roll = rng.random()
        if roll < 0.6:
            motif, justifiee, days = "maladie", rng.random() < 0.9, rng.randrange(3, 60)
        elif roll < 0.8:
            motif, justifiee, days = "maternite", True, 112
        elif roll < 0.9:
            motif, justifiee, days = "parental", True, rng.randrange(60, 240)
        else:
            motif, justifiee, days = "autre", rng.random() < 0.3, rng.randrange(2, 20)
        au = min(du + timedelta(days=days), end) if rng.random() < 0.9 else None
        self.emit({"type": "absence", "du": du.isoformat(), "au": au.isoformat() if au else None, "motif": motif,
                   "justifiee": justifiee})

    def recruit(self, vacant_from: date) -> tuple[date, TypeContrat, date | None] | None:
        """The recruitment ending a vacancy begun on ``vacant_from``, if any (and kept)."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.62:
            day = vacant_from + timedelta(days=rng.randrange(30, 152))  # 1 to 5 months
        elif roll < 0.70:  # last vacant day one day short of the limit, on it, one day over
            day = add_months(vacant_from, 6) + timedelta(days=rng.randrange(3))
        elif roll < 0.84:
            day = vacant_from + timedelta(days=rng.randrange(213, 426))  # 7 to 14 months
        else:
            return None  # never
        if day > self.last:
            return None
        kind = rng.choices((TypeContrat.CDI, TypeContrat.CDD, TypeContrat.PEC), weights=(3, 5, 2))[0]
        fin = None if kind is TypeContrat.CDI else day + timedelta(days=rng.randrange(365, 1096))
        contrat: dict[str, Any] = {"type": str(kind), "date_debut": day.isoformat()}
        if fin is not None:
            contrat["date_fin"] = fin.isoformat()
        conseiller = {"prenom": rng.choice(_PRENOMS), "nom": rng.choice(_NOMS)}
        if not self.emit({"type": "recrutement", "conseiller": conseiller, "contrat": contrat}):
            return None
        return day, kind, fin

    def live(self) -> None:
        rng, poste, last = self.rng, self.poste, self.last
        contrat: tuple[date, TypeContrat | None, date | None] | None = None
        vacant_from = poste.vacant_depuis or poste.debut
        if poste.occupe_au_debut:
            contrat = (poste.contrat_debut or poste.debut, poste.type_contrat, poste.contrat_fin)
        for _cycle in range(6):
            if contrat is None:
                contrat = self.recruit(vacant_from)
                if contrat is None:
                    return
            start, kind, fin_prevue = contrat
            # a prolonged contract ends (early or not) after the planned end it moved: the seed's choice
            # (a declared end before it is accepted too; the prolongation then only moves the planned end)
            earliest = start + timedelta(days=60)
            while True:
                roll = rng.random()
                if fin_prevue is None or not (roll < 0.2 and fin_prevue <= last):
                    break
                new_fin: date | None = fin_prevue + timedelta(days=rng.randrange(180, 541))
                if rng.random() < 0.15:
                    new_fin = None  # made a CDI
                if not self.emit({"type": "prolongation", "date_fin": new_fin.isoformat() if new_fin else None,
                                  "cdi": True if new_fin is None else None}):
                    roll = 1.0  # not prolonged: it ends as planned
                    break
                earliest, fin_prevue = max(earliest, fin_prevue + timedelta(days=1)), new_fin
                kind = kind if new_fin else TypeContrat.CDI
            end: date | None = None
            explicit: str | None = None
            if fin_prevue is None:  # a CDI (or a contract without stated end)
                if roll < 0.15:
                    end = _day(rng, earliest + timedelta(days=30), earliest + timedelta(days=1400))
                    explicit = rng.choice(_FINS_ANTICIPEES)
            elif 0.2 <= roll < 0.4 and fin_prevue - earliest > timedelta(days=60):
                end, explicit = _day(rng, earliest, fin_prevue - timedelta(days=1)), rng.choice(_FINS_ANTICIPEES)
            else:
                end = fin_prevue
                explicit = "fin_cdd" if rng.random() < 0.5 else None
            self.absence(start, min(end or last, last))
            if end is None or end > last or end >= self.etat.date_fin:
                return  # still in post on the seed's day (or to the period's end)
            if explicit is not None and not self.emit({"type": "fin_contrat", "date": end.isoformat(), "motif": explicit}):
                return
            contrat, vacant_from = None, end + timedelta(days=1)


def _evenements(rng: random.Random, etat: EtatConvention, as_of: date) -> list[NouvelEvenement]:
    """The events of ``etat``'s postes up to ``as_of`` (and the period's last day), checked."""
    last = min(as_of, etat.date_fin)
    kept: list[EvenementPoste] = []
    nouveaux: list[NouvelEvenement] = []
    for poste in etat.postes_actifs:
        _Poste(rng, etat, poste, last, kept, nouveaux).live()
    return nouveaux


def _changement_json(change: AjoutPostes | ChangementNature) -> dict[str, Any]:
    """The change as a portal would have sent it (the catalog's ``changement``: its effect date is read
    back, e.g. by the May 2025 limits)."""
    data: dict[str, Any] = {"type": str(change.type), "request_id": change.request_id,
                            "date_effet": change.date_effet.isoformat(), "version": change.version}
    if isinstance(change, AjoutPostes):
        return data | {"nombre": change.nombre}
    return data | {"nature": str(change.nature)}


def _amend(app: AppPorts, cid: str, vague: int, etat: Any, v1: ConventionVersion, structure: Any, canonical: dict[str, Any],
           regles: Any, roll: float, now: datetime) -> EtatConvention | None:
    """An avenant for one in ten: a poste added six months in, or (a public one) a change of nature."""
    paiements = app.catalog.list_paiements(cid, etat.date_debut)
    etat = replace(etat, paiements=paiements)
    effet = etat.date_debut + timedelta(days=183)
    if roll < 0.07 or structure.nature is not Nature.PUBLIQUE:
        change: Any = AjoutPostes(request_id="seed-ajout", date_effet=effet, nombre=1, version=1)
    else:
        change = ChangementNature(request_id="seed-nature", nature=Nature.PRIVEE, date_effet=effet, version=1)
    try:
        resultat = appliquer(etat, change, regles)
    except ChangementRefuse:
        return None
    v2 = ConventionVersion(
        convention_id=cid, numero=2, motif=resultat.motif, regles=resultat.regles.id,
        modele_version=app.template("avenant")[1].version,
        modele_sha256="0" * 64, demande_sha256=demande_digest({"seed": change.request_id, "convention": cid}),
        montant_total=resultat.apres.total_du,
        echeancier=tuple(Tranche(numero=a.annee, annee=a.annee, date=a.debut, montant=a.du)
                         for a in resultat.apres.annees),
        created_at=now, request_id=change.request_id, document_type=resultat.document,
        changement=_changement_json(change), etat=resultat.etat,
        figures=resultat.apres,
    )
    if resultat.etat.natures[-1][1] is not structure.nature:
        structure = replace(structure, nature=resultat.etat.natures[-1][1])
    app.catalog.record_version(structure=structure, convention_id=cid, vague=vague, date_debut=etat.date_debut,
                               version=v2, demande_json=canonical, structure_modifiee=True)  # an avenant
    return replace(resultat.etat, paiements=())
