"""The management rules in force since May 2025 (loi de finances 2025): a vacant poste may be filled
again within 6 months; a poste vacant for longer must be given back.

``ReglesGestion`` is data (``config/rules/regles-2025-05.toml``, ``type = "gestion"``) parsed from a
plain mapping; it holds no amounts, so it is not a ``RuleSet``. ``postes_a_rendre`` lists, for a
convention and a day, the postes the rule takes back; ``avenant_restitution`` turns them into the
``RetraitPostes`` change that ``dossiers.domain.avenants.appliquer`` applies like any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from dossiers.domain.dates import add_months
from dossiers.domain.etat import (
    EtatConvention,
    RetraitPoste,
    RetraitPostes,
    StatutConvention,
)
from dossiers.domain.model import EtatPoste
from dossiers.errors import ErrorCode, RulesError

__all__ = ["TYPE_GESTION", "ReglesGestion", "avenant_restitution", "postes_a_rendre"]

TYPE_GESTION = "gestion"
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class ReglesGestion:
    id: str
    libelle: str
    date_application: date  # the rules bind from this day on
    delai_remplacement_mois: int  # a poste vacant longer than this must be given back
    source: str

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
        return cls(
            id=rule_id, libelle=str(data.get("libelle", rule_id)), date_application=applied,
            delai_remplacement_mois=delai, source=source,
        )


def postes_a_rendre(etat: EtatConvention, jour: date, regles: ReglesGestion) -> tuple[RetraitPoste, ...]:
    """The postes of ``etat`` vacant for more than the replacement delay on ``jour``, each with the
    date its funding ends: the day before its vacancy began (the vacancy is not funded), never
    before the day before the poste's first funded day.

    Nothing before ``date_application`` (the rules did not bind yet) nor for a closed convention.
    A vacancy is counted from ``vacant_depuis`` even when it began before ``date_application``:
    the rule speaks of postes vacant for more than 6 months, not of vacancies begun since May 2025.
    """
    if jour < regles.date_application or etat.statut is not StatutConvention.ACTIVE:
        return ()
    rendus = []
    for poste in etat.postes_actifs:
        if poste.etat is not EtatPoste.VACANT:
            continue
        depuis = poste.vacant_depuis or poste.debut
        if depuis > etat.date_fin or jour <= add_months(depuis, regles.delai_remplacement_mois):
            continue
        fin = max(depuis - ONE_DAY, poste.debut - ONE_DAY)
        if poste.fin is not None:
            fin = min(fin, poste.fin)
        rendus.append(RetraitPoste(id=poste.id, date_fin_contrat=fin))
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
