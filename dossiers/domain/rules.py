"""Rule sets (règles de gestion) and the subsidy computation.

A rule set is data (``config/rules/<id>.toml``) parsed here from a plain mapping; reading the
file is the adapter's job. ``calculer`` turns a demande and a rule set into the amounts per poste
per convention year, the QPV/ZRR bonus of the postes in such a zone, the total and the échéancier. Amounts are
``Decimal`` euros rounded to the cent; nothing here touches a float.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from dossiers.domain.dates import add_months
from dossiers.domain.model import Calcul, Demande, MontantAnnuel, Nature, Tranche
from dossiers.errors import ErrorCode, RulesError

__all__ = ["Bareme", "RuleSet", "calculer"]

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Bareme:
    """Amounts per poste for one nature: one figure per convention year."""

    duree_mois: int
    annees: tuple[Decimal, ...]
    bonification: tuple[Decimal, ...] | None
    source: str
    non_source: bool


@dataclass(frozen=True)
class RuleSet:
    id: str
    libelle: str
    vague: int
    baremes: Mapping[Nature, Bareme]
    sources: tuple[str, ...] = ()

    @property
    def non_source(self) -> bool:
        """True when at least one figure has no public source (it must be confirmed)."""
        return any(b.non_source for b in self.baremes.values())

    def bareme(self, nature: Nature) -> Bareme:
        try:
            return self.baremes[nature]
        except KeyError:
            raise RulesError(
                f"le jeu de règles « {self.id} » ne prévoit pas de montant pour une structure {nature}",
                code=ErrorCode.REGLES_INVALIDES,
            ) from None

    @classmethod
    def from_mapping(cls, rule_id: str, data: Mapping[str, object]) -> RuleSet:
        """Build a rule set from the parsed TOML; every problem names the key."""

        def fail(what: str) -> RulesError:
            return RulesError(f"jeu de règles « {rule_id} » : {what}", code=ErrorCode.REGLES_INVALIDES)

        def amounts(raw: object, where: str) -> tuple[Decimal, ...]:
            if not isinstance(raw, list) or not raw:
                raise fail(f"{where} doit être une liste non vide de montants")
            values = []
            for item in raw:
                if not isinstance(item, str):
                    raise fail(f"{where} : le montant {item!r} doit être écrit entre guillemets (ex. \"17500.00\")")
                try:
                    value = Decimal(item)
                except InvalidOperation:
                    raise fail(f"{where} : montant illisible {item!r}") from None
                if value < 0 or value != value.quantize(CENT):
                    raise fail(f"{where} : montant {item!r} négatif ou plus précis que le centime")
                values.append(value.quantize(CENT))
            return tuple(values)

        montants = data.get("montants")
        if not isinstance(montants, Mapping) or not montants:
            raise fail("la section [montants] manque")
        bonifications = data.get("bonification", {})
        if not isinstance(bonifications, Mapping):
            raise fail("[bonification] doit être une table")
        versement = data.get("versement", {})
        versement_non_source = bool(isinstance(versement, Mapping) and versement.get("non_source"))
        baremes: dict[Nature, Bareme] = {}
        for key, section in montants.items():
            try:
                nature = Nature(key)
            except ValueError:
                raise fail(f"nature inconnue [montants.{key}] (attendu : publique, privee)") from None
            if not isinstance(section, Mapping):
                raise fail(f"[montants.{key}] doit être une table")
            duree = section.get("duree_mois", data.get("duree_mois"))
            if not isinstance(duree, int) or duree <= 0:
                raise fail(f"duree_mois manquant ou invalide pour [montants.{key}]")
            annees = amounts(section.get("annees"), f"montants.{key}.annees")
            if len(annees) != -(-duree // 12):
                raise fail(f"montants.{key}.annees : {len(annees)} montant(s) pour {duree} mois")
            bonus = None
            if key in bonifications:
                bonus_section = bonifications[key]
                if not isinstance(bonus_section, Mapping):
                    raise fail(f"[bonification.{key}] doit être une table")
                bonus = amounts(bonus_section.get("annees"), f"bonification.{key}.annees")
                if len(bonus) != len(annees):
                    raise fail(f"bonification.{key}.annees doit avoir {len(annees)} montants")
            source = section.get("source")
            if not isinstance(source, str) or not source.strip():
                raise fail(f"montants.{key}.source manque : chaque chiffre doit avoir sa source")
            baremes[nature] = Bareme(
                duree_mois=duree,
                annees=annees,
                bonification=bonus,
                source=source,
                non_source=bool(section.get("non_source")) or versement_non_source,
            )
        vague = data.get("vague")
        if not isinstance(vague, int):
            raise fail("vague manquante")
        sources = data.get("sources", [])
        return cls(
            id=rule_id,
            libelle=str(data.get("libelle", rule_id)),
            vague=vague,
            baremes=baremes,
            sources=tuple(str(s) for s in sources) if isinstance(sources, list) else (),
        )


def calculer(demande: Demande, regles: RuleSet) -> Calcul:
    """Amounts per poste per convention year, bonus, total and échéancier for a demande."""
    structure = demande.structure
    bareme = regles.bareme(structure.nature)
    # the bonus belongs to each poste in a QPV or a ZRR (its lieu de permanence), when the rule set
    # has one for the structure's nature
    postes_bonifies = demande.postes_en_zone_prioritaire if bareme.bonification is not None else 0
    bonifie = postes_bonifies > 0
    debut = demande.date_debut
    fin = add_months(debut, bareme.duree_mois) - timedelta(days=1)
    annees = []
    for index, base in enumerate(bareme.annees):
        year_start = add_months(debut, 12 * index)
        year_end = min(add_months(debut, 12 * (index + 1)) - timedelta(days=1), fin)
        bonus = bareme.bonification[index] if bonifie and bareme.bonification else Decimal("0.00")
        annees.append(
            MontantAnnuel(
                annee=index + 1,
                debut=year_start,
                fin=year_end,
                base_par_poste=base,
                bonification_par_poste=bonus,
                nombre_postes=demande.nombre_postes,
                postes_bonifies=postes_bonifies,
            )
        )
    echeancier = tuple(
        Tranche(numero=n, annee=a.annee, date=a.debut, montant=a.total.quantize(CENT))
        for n, a in enumerate((a for a in annees if a.total > 0), start=1)
    )
    return Calcul(
        regles=regles.id,
        date_debut=debut,
        date_fin=fin,
        duree_mois=bareme.duree_mois,
        nombre_postes=demande.nombre_postes,
        annees=tuple(annees),
        echeancier=echeancier,
        bonification=bonifie,
        postes_bonifies=postes_bonifies,
    )
