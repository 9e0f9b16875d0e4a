"""The management rules in force since May 2025 (loi de finances 2025): a vacant poste may be filled
again within 6 months; a poste vacant for longer must be given back.

``ReglesGestion`` is data (``config/rules/regles-2025-05.toml``, ``type = "gestion"``) parsed from a
plain mapping; it holds no amounts, so it is not a ``RuleSet``. ``postes_a_rendre`` lists, for a
convention and a day, the postes the rule takes back; ``avenant_restitution`` turns them into the
``RetraitPostes`` change that ``dossiers.domain.avenants.appliquer`` applies like any other.

The rules also limit what is issued from ``date_application`` on without a derogation (``LIMITES``):
``limiter`` refuses it at issue time; ``hors_limites`` lists what a catalog recorded against them
before conum refused it, from each convention's ``HistoriqueLimites``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from dossiers.domain.dates import add_months
from dossiers.domain.etat import (
    EtatConvention,
    PosteFinance,
    RetraitPoste,
    RetraitPostes,
    StatutConvention,
)
from dossiers.domain.postes import Chronologie, Vacance, chronologie
from dossiers.domain.formatting import date_longue
from dossiers.domain.model import Derogation
from dossiers.errors import ChangementRefuse, ErrorCode, RulesError

__all__ = ["TYPE_GESTION", "ARRET_VEILLE_VACANCE", "ARRET_FIN_DELAI", "AJOUT_POSTES", "NOUVELLE_STRUCTURE", "LIMITES",
           "AjoutHistorique", "AvertissementLimite", "HistoriqueLimites", "ReglesGestion", "avenant_restitution",
           "hors_limites", "limiter", "postes_a_rendre", "regles_limitant", "vacance_depassee"]

TYPE_GESTION = "gestion"
ONE_DAY = timedelta(days=1)
ARRET_VEILLE_VACANCE = "veille_vacance"  # funding stops the day before the vacancy (the contract's last day)
ARRET_FIN_DELAI = "fin_delai"  # funding stops on the last day of the replacement delay
ARRETS = (ARRET_VEILLE_VACANCE, ARRET_FIN_DELAI)
PERIODE_MAX_MOIS = 36  # the longest convention period of the programme (vague 2)
NOUVELLE_STRUCTURE = "nouvelle_structure"  # a first convention for a structure new to the programme
AJOUT_POSTES = "ajout_postes"  # postes added to a convention
LIMITES = {NOUVELLE_STRUCTURE: "aucune nouvelle convention n'est conclue avec une structure nouvelle dans le dispositif",
           AJOUT_POSTES: "aucun poste n'est ajouté à une convention"}


@dataclass(frozen=True)
class ReglesGestion:
    id: str
    libelle: str
    date_application: date  # the rules bind from this day on
    delai_remplacement_mois: int  # a poste vacant longer than this must be given back
    source: str
    arret_financement: str = ARRET_VEILLE_VACANCE  # the last funded day of a poste given back
    non_source: tuple[str, ...] = ()  # settings no public source states (warned about)
    limites: tuple[str, ...] = ()  # what is no longer issued from date_application without a derogation

    @property
    def avertissements(self) -> tuple[str, ...]:
        """What a user must be told before trusting the figures: the unsourced settings."""
        notes = []
        if "arret_financement" in self.non_source:
            jour = ("la veille du premier jour de vacance (dernier jour du contrat)"
                    if self.arret_financement == ARRET_VEILLE_VACANCE
                    else "le dernier jour du délai de remplacement")
            notes.append(f"Règles « {self.id} » : le financement d'un poste rendu s'arrête {jour} ; ce choix "
                         "(arret_financement) n'a pas de source publique, il est à confirmer par l'ANCT.")
        return tuple(notes)

    @classmethod
    def from_mapping(cls, rule_id: str, data: Mapping[str, object]) -> ReglesGestion:
        """Build the rules from the parsed TOML; every problem names the key."""

        def fail(what: str) -> RulesError:
            return RulesError(f"règles de gestion « {rule_id} » : {what}", code=ErrorCode.REGLES_INVALIDES)

        if data.get("type") != TYPE_GESTION:
            raise fail(f'type = "{TYPE_GESTION}" manque : ce fichier n\'est pas un jeu de règles de gestion')
        raw_date = data.get("date_application")
        if isinstance(raw_date, date):  # TOML local date (date_application = 2025-05-14)
            applied = raw_date
        elif isinstance(raw_date, str):
            try:
                applied = date.fromisoformat(raw_date)
            except ValueError:
                raise fail(f"date_application illisible {raw_date!r} (attendu AAAA-MM-JJ)") from None
        else:
            raise fail("date_application manque (AAAA-MM-JJ)")
        delai = data.get("delai_remplacement_mois")
        if not isinstance(delai, int) or isinstance(delai, bool) or delai <= 0:
            raise fail("delai_remplacement_mois doit être un nombre entier de mois strictement positif")
        source = data.get("source")
        if not isinstance(source, str) or not source.strip():
            raise fail("source manque : chaque règle doit avoir sa source")
        arret = data.get("arret_financement", ARRET_VEILLE_VACANCE)
        if arret not in ARRETS:
            raise fail(f"arret_financement inconnu {arret!r} (valeurs admises : {', '.join(ARRETS)})")
        limites = data.get("limites", [])
        if not isinstance(limites, list) or not all(k in LIMITES for k in limites):
            raise fail(f"limites doit lister parmi : {', '.join(LIMITES)}")
        non_source = data.get("non_source", [])
        if not isinstance(non_source, list) or not all(isinstance(k, str) and k in data for k in non_source):
            raise fail("non_source doit lister des clés de ce fichier (les réglages sans source publique)")
        return cls(
            id=rule_id, libelle=str(data.get("libelle", rule_id)), date_application=applied,
            delai_remplacement_mois=delai, source=source, arret_financement=str(arret), non_source=tuple(non_source),
            limites=tuple(limites),
        )


def regles_limitant(gestions: Iterable[ReglesGestion], limite: str, jour: date) -> ReglesGestion | None:
    """The first of the management rule sets that has ``limite`` and binds on ``jour`` (from its
    ``date_application`` on), or None."""
    return next((r for r in gestions if limite in r.limites and jour >= r.date_application), None)


def limiter(gestions: Iterable[ReglesGestion], limite: str, jour: date, derogation: Derogation | None) -> None:
    """Refuse (``regle_gestion_2025``) what one of the management rule sets no longer allows from its
    ``date_application`` (a ``limite``: a new structure's first convention, an ajout de postes) when it
    takes effect on ``jour`` on or after that date without a derogation. The effect date decides, not
    the day conum is asked: a convention concluded before the rules is recorded as it was signed."""
    if derogation is not None:
        return
    regles = regles_limitant(gestions, limite, jour)
    if regles is None:
        return
    raise ChangementRefuse(
        f"Règles de gestion « {regles.libelle} » (en vigueur depuis le {date_longue(regles.date_application)}) : "
        f"{LIMITES[limite]} sans dérogation ; la demande (effet au {date_longue(jour)}) doit porter la dérogation "
        "accordée par l'ANCT : derogation.reference et derogation.date.", code=ErrorCode.REGLE_GESTION_2025)


@dataclass(frozen=True)
class AjoutHistorique:
    """An ajout de postes avenant as the catalog recorded it: its version, its effect date (None: the
    catalog does not hold it, e.g. an avenant seeded before the seed kept it) and whether it carried a
    derogation."""

    version: int
    date_effet: date | None
    derogation: bool


@dataclass(frozen=True)
class HistoriqueLimites:
    """What one convention's recorded history says about the May 2025 limits: whether its version 1 was
    the first convention of a structure new to the programme (no earlier convention of the structure
    id or SIRET, and not a renewal), its start, whether that version 1 carried a derogation, and its
    ajouts de postes."""

    convention_id: str
    structure_nouvelle: bool
    date_debut: date
    derogation_initiale: bool
    ajouts: tuple[AjoutHistorique, ...] = ()


@dataclass(frozen=True)
class AvertissementLimite:
    """A version issued against a limit of management rules (issued before conum refused it)."""

    convention_id: str
    version: int  # 1 for the convention itself, the avenant's numero for an ajout
    limite: str  # a key of LIMITES
    regles: str  # the id of the ReglesGestion whose limit it is
    date_effet: date | None
    message: str
    code: str = ErrorCode.REGLE_GESTION_2025.value

    def to_dict(self) -> dict[str, Any]:
        return {"convention_id": self.convention_id, "version": self.version, "limite": self.limite,
                "regles": self.regles, "date_effet": self.date_effet.isoformat() if self.date_effet else None,
                "code": self.code, "message": self.message}


def _avertissement(historique: HistoriqueLimites, version: int, limite: str, regles: ReglesGestion,
                   quoi: str, date_effet: date | None, constat: str) -> AvertissementLimite:
    message = (f"Convention {historique.convention_id}, version {version} ({quoi}) : règles de gestion "
               f"« {regles.libelle} » en vigueur depuis le {date_longue(regles.date_application)} — "
               f"{LIMITES[limite]} sans dérogation ; {constat}.")
    return AvertissementLimite(convention_id=historique.convention_id, version=version, limite=limite,
                               regles=regles.id, date_effet=date_effet, message=message)


def hors_limites(historiques: Iterable[HistoriqueLimites],
                 gestions: Iterable[ReglesGestion]) -> list[AvertissementLimite]:
    """The versions recorded against a limit of one of ``gestions`` (what ``limiter`` refuses today but
    a catalog may hold from before): a new structure's first convention starting on or after the
    rules' ``date_application``, an ajout de postes taking effect on or after it, either without a
    derogation. A renewal is not a new structure. An ajout whose effect date the catalog does not hold
    is listed too, to be checked by hand. In the order of ``historiques``, each convention's version 1
    first, then its ajouts by version."""
    gestions = list(gestions)
    found: list[AvertissementLimite] = []
    for h in historiques:
        if h.structure_nouvelle and not h.derogation_initiale:
            regles = regles_limitant(gestions, NOUVELLE_STRUCTURE, h.date_debut)
            if regles is not None:
                found.append(_avertissement(
                    h, 1, NOUVELLE_STRUCTURE, regles,
                    f"première convention d'une structure nouvelle, début au {date_longue(h.date_debut)}",
                    h.date_debut, "émise sans dérogation"))
        for ajout in sorted(h.ajouts, key=lambda a: a.version):
            if ajout.derogation:
                continue
            if ajout.date_effet is None:
                regles = next((r for r in gestions if AJOUT_POSTES in r.limites), None)
                # an ajout takes effect within the period, and no period is longer than 36 months
                if regles is not None and add_months(h.date_debut, PERIODE_MAX_MOIS) > regles.date_application:
                    found.append(_avertissement(
                        h, ajout.version, AJOUT_POSTES, regles, "ajout de postes, date d'effet absente du catalogue",
                        None, "émise sans dérogation, date d'effet à vérifier"))
                continue
            regles = regles_limitant(gestions, AJOUT_POSTES, ajout.date_effet)
            if regles is not None:
                found.append(_avertissement(
                    h, ajout.version, AJOUT_POSTES, regles, f"ajout de postes au {date_longue(ajout.date_effet)}",
                    ajout.date_effet, "émise sans dérogation"))
    return found


def _arret(regles: ReglesGestion, poste: PosteFinance, vacance: Vacance) -> date:
    """The last funded day of a poste the rule takes back for ``vacance``."""
    if regles.arret_financement == ARRET_FIN_DELAI:
        fin = add_months(vacance.depuis, regles.delai_remplacement_mois)
    else:  # veille_vacance: the vacancy is not funded
        fin = vacance.depuis - ONE_DAY
    fin = max(fin, poste.debut - ONE_DAY)
    return min(fin, poste.fin) if poste.fin is not None else fin


def vacance_depassee(chrono: Chronologie, etat: EtatConvention, jour: date, regles: ReglesGestion) -> Vacance | None:
    """The poste's first vacancy that lasted more than the replacement delay on a day the rules bound
    (from ``date_application`` to ``jour``, inside the period), or None.

    A vacancy counts from its real first day (the day after the contract's last day, or the first
    funded day of a poste never filled, or the demande's ``vacant_depuis``), even when it began before
    the rules: they speak of postes vacant for more than 6 months. A recruitment after the delay does
    not undo it: the poste should have been given back on the first day past the delay."""
    last_day = min(jour, etat.date_fin)
    for vacance in chrono.vacances:
        end = vacance.jusqu_au if vacance.jusqu_au is not None else last_day
        end = min(end, last_day)
        if end < regles.date_application or vacance.depuis > etat.date_fin:
            continue
        if end > add_months(vacance.depuis, regles.delai_remplacement_mois):
            return vacance
    return None


def postes_a_rendre(etat: EtatConvention, jour: date, regles: ReglesGestion) -> tuple[RetraitPoste, ...]:
    """The postes of ``etat`` the rules take back on ``jour``, each with its last funded day
    (``arret_financement``: by default the day before the vacancy, which is not funded; never before
    the day before the poste's first funded day), from each poste's timeline (its version's facts
    and the events recorded since, ``dossiers.domain.postes``).

    Nothing before ``date_application`` (the rules did not bind yet) nor for a closed convention."""
    if jour < regles.date_application or etat.statut is not StatutConvention.ACTIVE:
        return ()
    rendus = []
    for poste in etat.postes_actifs:
        chrono = chronologie(poste, etat.evenements, min(jour, etat.date_fin))
        if chrono.transfere_le is not None:
            continue
        vacance = vacance_depassee(chrono, etat, jour, regles)
        if vacance is not None:
            rendus.append(RetraitPoste(id=poste.id, date_fin_contrat=_arret(regles, poste, vacance)))
    return tuple(rendus)


def avenant_restitution(
    etat: EtatConvention, jour: date, regles: ReglesGestion, request_id: str
) -> RetraitPostes | None:
    """The change giving back the postes ``postes_a_rendre`` lists, based on ``etat``'s version;
    None when there is none."""
    postes = postes_a_rendre(etat, jour, regles)
    if not postes:
        return None
    return RetraitPostes(request_id=request_id, postes=postes, version=etat.version)
