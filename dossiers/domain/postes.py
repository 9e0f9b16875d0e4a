"""The life of each poste: the events a structure declares (recrutement, fin de contrat,
prolongation, absence, transfert) and the timeline they make.

Pure values, no I/O. A convention version fixes each poste's *funding* (``PosteFinance.debut``,
``fin``, ``rendu``) and the facts known when it was issued (who held the poste, under which
contract, or since when it was vacant: source ``demande``). Events recorded afterwards are facts
too; they do not make a new version unless they change the money (a transfer, a restitution).

``chronologie(poste, evenements, jusqu_au)`` folds a poste's facts, sorted by their date, into:

- occupations: a conseiller, a contract (type, start, planned end) and, once known, the actual end
  with its motif; a CDD or PEC whose planned end passes without a ``prolongation`` ends that day
  (motif ``fin_cdd``, source ``contrat``): conum never assumes a contract goes on;
- vacancies: every day of the poste's funding not covered by an occupation, from ``vacant_depuis``
  for a poste vacant in the demande (even before its funding began) or from its first funded day;
- absences: (du, au, motif, justifiée); a justified absence changes nothing to the money, an
  unjustified one is flagged (``Absence.signalee``).

The state at any day (``Chronologie.situation``) is a pure function of the facts. A fact that
contradicts the others (a recruitment on an occupied poste, an end of contract on a vacant poste,
anything after a transfer) raises ``ChangementRefuse`` (``evenement_invalide``) naming the event,
so recording an event is: fold the timeline with it, and keep it only if the fold succeeds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from dossiers.domain.etat import EtatConvention, PosteFinance
from dossiers.domain.formatting import date_longue
from dossiers.domain.model import ConventionVersion, EtatPoste, Structure, TypeContrat
from dossiers.errors import ChangementRefuse, ErrorCode

__all__ = [
    "TypeEvenement", "MotifFin", "MotifAbsence", "Source", "Recrutement", "FinContrat", "Prolongation",
    "AbsenceDeclaree", "Transfert", "Evenement", "EvenementPoste", "Occupation", "Vacance", "Absence",
    "Situation", "Chronologie", "chronologie", "chronologies", "verifier", "evenement_jour", "reporter",
    "NouvelEvenement", "VersionAEnregistrer",
]

ONE_DAY = timedelta(days=1)


class TypeEvenement(StrEnum):
    RECRUTEMENT = "recrutement"
    FIN_CONTRAT = "fin_contrat"
    PROLONGATION = "prolongation"
    ABSENCE = "absence"
    TRANSFERT = "transfert"


class MotifFin(StrEnum):
    RUPTURE_EMPLOYEUR = "rupture_employeur"
    DEMISSION = "demission"
    FIN_CDD = "fin_cdd"
    RUPTURE_CONVENTIONNELLE = "rupture_conventionnelle"
    LICENCIEMENT = "licenciement"
    DECES = "deces"
    AUTRE = "autre"
    TRANSFERT = "transfert"  # set by a transfer, never sent by a portal


class MotifAbsence(StrEnum):
    MALADIE = "maladie"
    MATERNITE = "maternite"
    PARENTAL = "parental"
    AUTRE = "autre"


class Source(StrEnum):
    DEMANDE = "demande"  # the demande (or the version that carried the poste over)
    CONTRAT = "contrat"  # the planned end of a contract, reached without prolongation
    PORTAIL = "portail"  # POST /v1/conventions/{id}/postes/{poste}/evenements
    CLI = "cli"  # conum poste
    PILOTAGE = "pilotage"  # conum pilotage import
    TRANSFERT = "transfert"  # the poste came from another structure
    RENOUVELLEMENT = "renouvellement"  # carried into a new period (its contract, or one given then)


# -- events (what a structure declares) ------------------------------------------------------------


@dataclass(frozen=True)
class Recrutement:
    request_id: str
    poste: str
    conseiller: str  # "Prénom Nom"
    type_contrat: TypeContrat
    date_debut: date
    date_fin: date | None = None  # None: CDI
    version: int | None = None
    type: TypeEvenement = TypeEvenement.RECRUTEMENT


@dataclass(frozen=True)
class FinContrat:
    request_id: str
    poste: str
    date: date  # the contract's last day
    motif: MotifFin
    version: int | None = None
    type: TypeEvenement = TypeEvenement.FIN_CONTRAT


@dataclass(frozen=True)
class Prolongation:
    """A contract's planned end moved later (``date_fin``), or the contract became a CDI (None).

    ``contrat_fin`` is the planned end it extends, resolved when the event is recorded: it dates
    the event in the timeline (the prolongation is in force before the contract would end)."""

    request_id: str
    poste: str
    date_fin: date | None
    contrat_fin: date | None = None
    version: int | None = None
    type: TypeEvenement = TypeEvenement.PROLONGATION


@dataclass(frozen=True)
class AbsenceDeclaree:
    request_id: str
    poste: str
    du: date
    au: date | None
    motif: MotifAbsence
    justifiee: bool
    version: int | None = None
    type: TypeEvenement = TypeEvenement.ABSENCE


@dataclass(frozen=True)
class Transfert:
    """The poste leaves the convention after ``date`` (its last funded day here) for structure
    ``vers_structure`` (or a new dossier, ``vers_demande``), which funds it from the next day."""

    request_id: str
    poste: str
    date: date
    vers_structure: str | None = None
    vers_demande: dict[str, object] | None = None
    derogation: str | None = None  # reference of the derogation (another département)
    version: int | None = None
    type: TypeEvenement = TypeEvenement.TRANSFERT


Evenement = Recrutement | FinContrat | Prolongation | AbsenceDeclaree | Transfert

# same day: a recruitment before an absence or the end of the same contract
_RANG = {TypeEvenement.RECRUTEMENT: 0, TypeEvenement.PROLONGATION: 1, TypeEvenement.ABSENCE: 2,
         TypeEvenement.FIN_CONTRAT: 3, TypeEvenement.TRANSFERT: 4}


def evenement_jour(evenement: Evenement) -> date:
    """The day an event takes effect, which orders a poste's timeline."""
    if isinstance(evenement, Recrutement):
        return evenement.date_debut
    if isinstance(evenement, FinContrat | Transfert):
        return evenement.date
    if isinstance(evenement, AbsenceDeclaree):
        return evenement.du
    return evenement.contrat_fin or date.min  # a prolongation is in force before the end it moves


@dataclass(frozen=True)
class EvenementPoste:
    """An event as the catalog holds it: its order of recording (``seq``) and where it came from."""

    seq: int
    evenement: Evenement
    source: Source
    sha256: str = ""  # of the request as sent (a re-sent request id is the same event if it matches)
    version: int = 0  # the convention's version when it was recorded
    recorded_at: datetime | None = None

    @property
    def poste(self) -> str:
        return self.evenement.poste

    @property
    def jour(self) -> date:
        return evenement_jour(self.evenement)


# -- the timeline -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Occupation:
    conseiller: str | None
    type_contrat: TypeContrat | None
    debut: date
    fin_prevue: date | None  # None: CDI (or unknown for an old demande)
    fin: date | None = None  # the actual last day, once known
    motif_fin: MotifFin | None = None
    source: Source = Source.DEMANDE
    source_fin: Source | None = None

    def couvre(self, jour: date) -> bool:
        return self.debut <= jour and (self.fin is None or jour <= self.fin)


@dataclass(frozen=True)
class Vacance:
    depuis: date
    jusqu_au: date | None  # None: still vacant on the timeline's last day
    motif: str  # a MotifFin value, or "jamais_pourvu"
    source: Source


@dataclass(frozen=True)
class Absence:
    du: date
    au: date | None
    motif: MotifAbsence
    justifiee: bool
    source: Source

    @property
    def signalee(self) -> bool:
        """An unjustified absence is flagged to the instructeur; it does not change the money."""
        return not self.justifiee

    def couvre(self, jour: date) -> bool:
        return self.du <= jour and (self.au is None or jour <= self.au)


@dataclass(frozen=True)
class Situation:
    etat: EtatPoste
    vacant_depuis: date | None = None
    occupation: Occupation | None = None
    absence: Absence | None = None


@dataclass(frozen=True)
class Chronologie:
    poste: PosteFinance
    jusqu_au: date
    occupations: tuple[Occupation, ...]
    vacances: tuple[Vacance, ...]
    absences: tuple[Absence, ...]
    transfere_le: date | None = None

    @property
    def fin_financement(self) -> date | None:
        """The poste's last funded day in this convention when it is known (given back, transferred)."""
        ends = [d for d in (self.poste.fin if self.poste.etat is EtatPoste.RENDU else None, self.transfere_le) if d]
        return min(ends) if ends else None

    def situation(self, jour: date) -> Situation:
        fin = self.fin_financement
        if fin is not None and jour > fin:
            return Situation(EtatPoste.RENDU)
        occupation = next((o for o in self.occupations if o.couvre(jour)), None)
        if occupation is not None:
            absence = next((a for a in self.absences if a.couvre(jour)), None)
            return Situation(EtatPoste.OCCUPE, occupation=occupation, absence=absence)
        vacance = next((v for v in self.vacances if v.depuis <= jour and (v.jusqu_au is None or jour <= v.jusqu_au)),
                       None)
        return Situation(EtatPoste.VACANT, vacant_depuis=vacance.depuis if vacance else None)


def reporter(poste: PosteFinance, situation: Situation, *, debut: date, fin: date | None, source: Source
             ) -> PosteFinance:
    """The poste carried into another version from ``debut`` (a renewal, a transfer): funded from
    ``debut`` to ``fin``, its facts those of ``situation`` (who holds it under which contract, or
    since when it is vacant)."""
    o = situation.occupation
    return replace(
        poste, debut=debut, fin=fin, etat=EtatPoste.OCCUPE if o is not None else EtatPoste.VACANT,
        vacant_depuis=None if o is not None else situation.vacant_depuis, conseiller=o.conseiller if o else None,
        type_contrat=o.type_contrat if o else None, contrat_debut=o.debut if o else None,
        contrat_fin=o.fin_prevue if o else None, source=str(source), piece_contrat_attendue=False)


def _refus(poste: str, message: str) -> ChangementRefuse:
    return ChangementRefuse(f"Poste {poste} : {message}", code=ErrorCode.EVENEMENT_INVALIDE)


def _ordre(e: EvenementPoste) -> tuple[date, int, int]:
    return e.jour, _RANG[e.evenement.type], e.seq


def chronologie(poste: PosteFinance, evenements: Iterable[EvenementPoste], jusqu_au: date) -> Chronologie:
    """Fold the poste's facts (its version's, then its events by date) up to ``jusqu_au`` included.

    Raises ``ChangementRefuse`` (``evenement_invalide``) when an event contradicts the others."""
    carried = poste.source in (Source.TRANSFERT, Source.RENOUVELLEMENT)
    # a poste carried over (renewal, transfer) states its facts on its first day: what came before is in them
    own = sorted((e for e in evenements if e.poste == poste.id and not (carried and e.jour < poste.debut)),
                 key=_ordre)
    occupations: list[Occupation] = []
    absences: list[Absence] = []
    current: Occupation | None = None
    if poste.occupe_au_debut:
        current = Occupation(poste.conseiller, poste.type_contrat, poste.contrat_debut or poste.debut,
                             poste.contrat_fin, source=Source(poste.source))
    transfere_le: date | None = None

    def expire(day: date) -> None:
        """End the current contract when its planned end is before ``day``."""
        nonlocal current
        if current is not None and current.fin_prevue is not None and current.fin_prevue < day:
            occupations.append(Occupation(
                current.conseiller, current.type_contrat, current.debut, current.fin_prevue, current.fin_prevue,
                MotifFin.FIN_CDD, current.source, Source.CONTRAT))
            current = None

    for recorded in own:
        e = recorded.evenement
        day = recorded.jour
        if transfere_le is not None:
            raise _refus(poste.id, f"transféré le {date_longue(transfere_le)}, il ne peut plus recevoir d'événement "
                         f"({e.type} du {date_longue(day)}).")
        if isinstance(e, Prolongation):
            ended = next((i for i, o in enumerate(occupations) if o.fin_prevue == e.contrat_fin
                          and o.source_fin not in (None, Source.CONTRAT)), None)
            if (current is None or current.fin_prevue != e.contrat_fin) and ended is not None:
                # prolonged, then ended early by a declared end: the planned end moves, the real end stays
                occupations[ended] = replace(occupations[ended], fin_prevue=e.date_fin)
                continue
            if current is None or current.fin_prevue is None or current.fin_prevue != e.contrat_fin:
                raise _refus(poste.id, "aucun contrat à durée déterminée en cours à prolonger.")
            if e.date_fin is not None and e.date_fin <= current.fin_prevue:
                raise _refus(poste.id, f"la prolongation (date_fin {date_longue(e.date_fin)}) doit finir après la fin "
                             f"prévue du contrat, le {date_longue(current.fin_prevue)}.")
            current = Occupation(current.conseiller, current.type_contrat if e.date_fin else TypeContrat.CDI,
                                 current.debut, e.date_fin, source=current.source)
            continue
        expire(day)
        if isinstance(e, Recrutement):
            if current is not None:
                raise _refus(poste.id, f"occupé par {current.conseiller or 'un conseiller'} le "
                             f"{date_longue(day)} : déclarez d'abord la fin de son contrat (fin_contrat).")
            current = Occupation(e.conseiller, e.type_contrat, e.date_debut, e.date_fin, source=recorded.source)
        elif isinstance(e, FinContrat):
            if current is None:
                raise _refus(poste.id, f"aucun contrat en cours le {date_longue(day)} : rien à terminer.")
            if day < current.debut:
                raise _refus(poste.id, f"la fin de contrat ({date_longue(day)}) précède le début du contrat de "
                             f"{current.conseiller or 'son conseiller'}, le {date_longue(current.debut)}.")
            occupations.append(Occupation(current.conseiller, current.type_contrat, current.debut, current.fin_prevue,
                                          day, e.motif, current.source, recorded.source))
            current = None
        elif isinstance(e, AbsenceDeclaree):
            if current is None or day < current.debut:
                raise _refus(poste.id, f"aucun conseiller en poste le {date_longue(day)} : une absence concerne un "
                             "conseiller sous contrat.")
            absences.append(Absence(e.du, e.au, e.motif, e.justifiee, recorded.source))
        elif isinstance(e, Transfert):
            if current is not None and current.debut <= day:  # a contract not begun yet leaves with the poste
                occupations.append(Occupation(current.conseiller, current.type_contrat, current.debut,
                                              current.fin_prevue, day, MotifFin.TRANSFERT, current.source,
                                              recorded.source))
            current = None
            transfere_le = day
    end = jusqu_au
    funding_end = poste.fin if poste.etat is EtatPoste.RENDU else None
    for limit in (funding_end, transfere_le):
        if limit is not None:
            end = min(end, limit)
    if current is not None and end < date.max:
        expire(end + ONE_DAY)
    if current is not None:
        occupations.append(current)
    occupations.sort(key=lambda o: o.debut)
    return Chronologie(poste=poste, jusqu_au=jusqu_au, occupations=tuple(occupations),
                       vacances=_vacances(poste, occupations, end), absences=tuple(absences),
                       transfere_le=transfere_le)


def _vacances(poste: PosteFinance, occupations: Sequence[Occupation], end: date) -> tuple[Vacance, ...]:
    """The days from the poste's first funded day (or, for a poste vacant in its version, from its
    ``vacant_depuis``, earlier or later) to ``end`` that no occupation covers."""
    start = poste.debut
    if not poste.occupe_au_debut and poste.vacant_depuis is not None:
        start = poste.vacant_depuis  # later than the first funded day: held by someone before, not vacant
    vacances: list[Vacance] = []
    cursor: date | None = start
    motif, source = "jamais_pourvu", Source(poste.source)
    for occupation in occupations:
        if cursor is None:
            break
        if occupation.debut > cursor and cursor <= end:
            vacances.append(Vacance(cursor, min(occupation.debut - ONE_DAY, end), motif, source))
        if occupation.fin is None:
            cursor = None
        else:
            cursor = max(cursor, occupation.fin + ONE_DAY)
            motif = str(occupation.motif_fin or MotifFin.AUTRE)
            source = occupation.source_fin or Source.CONTRAT
    if cursor is not None and cursor <= end:
        vacances.append(Vacance(cursor, None, motif, source))
    return tuple(vacances)


def chronologies(etat: EtatConvention, jusqu_au: date) -> dict[str, Chronologie]:
    """Every poste's timeline, by poste id."""
    return {p.id: chronologie(p, etat.evenements, jusqu_au) for p in etat.postes}


def _resoudre(etat: EtatConvention, poste: PosteFinance, evenement: Evenement) -> Evenement:
    """A prolongation names the contract it extends: the poste's last one with a planned end."""
    if not isinstance(evenement, Prolongation) or evenement.contrat_fin is not None:
        return evenement
    timeline = chronologie(poste, etat.evenements, etat.date_fin)
    last = timeline.occupations[-1] if timeline.occupations else None
    if last is None or last.fin_prevue is None or (last.fin is not None and last.source_fin is not Source.CONTRAT):
        raise _refus(poste.id, "aucun contrat à durée déterminée à prolonger (poste vacant, contrat en CDI ou "
                     "terminé par une fin de contrat déclarée).")
    return replace(evenement, contrat_fin=last.fin_prevue)


def verifier(etat: EtatConvention, evenement: Evenement, *, source: Source) -> tuple[Evenement, Chronologie]:
    """Check an event against the convention before it is recorded; return it as it will be recorded
    (a prolongation with the contract it extends) and the poste's new timeline.

    The poste must exist and be funded on the event's day; the day must be inside the period; and
    the timeline with the event must fold (``chronologie``)."""
    poste = next((p for p in etat.postes if p.id == evenement.poste), None)
    if poste is None:
        known = ", ".join(p.id for p in etat.postes)
        raise ChangementRefuse(f"poste : poste « {evenement.poste} » inconnu de la convention {etat.convention_id} "
                               f"(postes : {known}).", code=ErrorCode.POSTE_INCONNU)
    evenement = _resoudre(etat, poste, evenement)
    day = evenement_jour(evenement)
    champ = {TypeEvenement.RECRUTEMENT: "contrat.date_debut", TypeEvenement.ABSENCE: "du",
             TypeEvenement.PROLONGATION: "date_fin"}.get(evenement.type, "date")
    if day > etat.date_fin:
        raise _refus(poste.id, f"{champ} : le {date_longue(day)} est après la fin de la convention "
                     f"({date_longue(etat.date_fin)}).")
    if poste.etat is EtatPoste.RENDU and poste.fin is not None and day > poste.fin:
        raise _refus(poste.id, f"{champ} : rendu (financement arrêté le {date_longue(poste.fin)}), il ne peut plus "
                     f"recevoir d'événement daté du {date_longue(day)}.")
    if day < poste.debut - ONE_DAY or (day < poste.debut and not isinstance(evenement, FinContrat)):
        raise _refus(poste.id, f"{champ} : le {date_longue(day)} précède le premier jour financé du poste "
                     f"({date_longue(poste.debut)}) ; ce qui précède est dans les faits de la convention.")
    if isinstance(evenement, Transfert):
        last = min(etat.date_fin, poste.fin) if poste.fin is not None else etat.date_fin
        if evenement.date >= last:
            raise _refus(poste.id, f"date : le transfert doit être daté avant le dernier jour financé du poste "
                         f"({date_longue(last)}) : après, il ne reste rien à transférer.")
    recorded = EvenementPoste(seq=max((e.seq for e in etat.evenements), default=0) + 1, evenement=evenement,
                              source=source)
    others = tuple(e for e in etat.evenements if e.poste == poste.id)
    return evenement, chronologie(poste, (*others, recorded), max(day, etat.date_fin))


@dataclass(frozen=True)
class NouvelEvenement:
    """An event to record (the catalog's ``record_evenements``): checked against the poste's events as they
    are in the same transaction."""

    convention_id: str
    evenement: Evenement
    requete: dict[str, Any]  # the request as sent (canonical JSON)
    sha256: str
    source: Source
    version: int


@dataclass(frozen=True)
class VersionAEnregistrer:
    """A version recorded with an event, in its transaction (a transfer's two avenants)."""

    structure: Structure
    convention_id: str
    vague: int
    date_debut: date
    version: ConventionVersion
    demande_json: dict[str, Any]
