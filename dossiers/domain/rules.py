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
from dossiers.domain.formatting import en_lettres
from dossiers.domain.model import Calcul, Demande, MontantAnnuel, Nature, Tranche, TypeContrat
from dossiers.errors import ErrorCode, RulesError

__all__ = ["Bareme", "DelaiReversement", "MajorationOutreMer", "RuleSet", "calculer", "OUTRE_MER"]

CENT = Decimal("0.01")
# Départements d'outre-mer (codes INSEE 971 à 976) : la subvention y est « majorée selon les dispositions
# réglementaires en vigueur » (aide.conseiller-numerique.gouv.fr), d'un montant qu'aucune source ne donne.
OUTRE_MER = ("971", "972", "973", "974", "975", "976")


@dataclass(frozen=True)
class Bareme:
    """Amounts per poste for one nature: one figure per convention year."""

    duree_mois: int
    annees: tuple[Decimal, ...]
    bonification: tuple[Decimal, ...] | None
    source: str
    non_source: bool
    total: Decimal | None = None  # the sourced total per poste, when the source gives a total (not a split)
    # the contract types the figure is sourced for (None: all); a poste on another type is warned about
    types_contrat: tuple[TypeContrat, ...] | None = None


@dataclass(frozen=True)
class MajorationOutreMer:
    """The outre-mer increase per poste and per convention year, for one nature and a group of départements."""

    departements: tuple[str, ...]
    nature: Nature
    annees: tuple[Decimal, ...]
    source: str
    non_source: bool


@dataclass(frozen=True)
class DelaiReversement:
    """The delay to repay a trop-perçu, the same in the convention, the avenants and the résiliations."""

    valeur: int
    unite: str  # "jours" | "mois"
    source: str
    non_source: bool

    @property
    def libelle(self) -> str:
        """As the documents write it: "trente (30) jours", "deux (2) mois"."""
        unite = "jour" if self.unite == "jours" and self.valeur == 1 else self.unite
        return f"{en_lettres(self.valeur)} ({self.valeur}) {unite}"


@dataclass(frozen=True)
class RuleSet:
    id: str
    libelle: str
    vague: int
    baremes: Mapping[Nature, Bareme]
    sources: tuple[str, ...] = ()
    delai_reversement: DelaiReversement | None = None  # always set by from_mapping ([reversement] required)
    # None: the rule set says nothing of outre-mer, and refuses to price a structure there
    majorations_outre_mer: tuple[MajorationOutreMer, ...] | None = None

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

    def delai_reversement_libelle(self) -> str:
        """The repayment delay as every document writes it ("trente (30) jours")."""
        if self.delai_reversement is None:
            raise RulesError(f"le jeu de règles « {self.id} » ne fixe pas le délai de reversement ([reversement])",
                             code=ErrorCode.REGLES_INVALIDES)
        return self.delai_reversement.libelle

    def majoration_outre_mer(self, nature: Nature, departement: str | None) -> MajorationOutreMer | None:
        """The outre-mer increase for a structure of ``nature`` in ``departement``; None in métropole.

        Raises ``RulesError`` (``majoration_outre_mer_manquante``) for a département 971–976 the rule set
        gives no amount for: conum never prices an outre-mer poste at the métropole figure by default."""
        if departement not in OUTRE_MER:
            return None
        for majoration in self.majorations_outre_mer or ():
            if majoration.nature is nature and departement in majoration.departements:
                return majoration
        raise RulesError(
            f"le jeu de règles « {self.id} » ne fixe pas la majoration outre-mer de la subvention pour une "
            f"structure {'publique' if nature is Nature.PUBLIQUE else 'privée'} du département {departement} : la subvention y est « majorée selon les "
            "dispositions réglementaires en vigueur » et aucun montant sourcé n'est connu. Ajoutez au jeu de "
            "règles une entrée [[majoration_outre_mer]] (departements, nature, annees, source) avant d'émettre "
            "cette convention.",
            code=ErrorCode.MAJORATION_OUTRE_MER_MANQUANTE,
        )

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
            total = None
            if "total" in section:
                total = amounts([section["total"]], f"montants.{key}.total")[0]
                if sum(annees, Decimal("0.00")) != total:
                    raise fail(f"montants.{key}.annees : la somme {sum(annees)} n'est pas le total {total}")
            types = section.get("types_contrat")
            if types is not None:
                try:
                    if not isinstance(types, list) or not types:
                        raise ValueError
                    types = tuple(TypeContrat(t) for t in types)
                except ValueError:
                    raise fail(f"montants.{key}.types_contrat : liste de types parmi "
                               f"{', '.join(t.value for t in TypeContrat)}") from None
            baremes[nature] = Bareme(
                duree_mois=duree,
                annees=annees,
                bonification=bonus,
                source=source,
                non_source=bool(section.get("non_source")) or versement_non_source,
                total=total,
                types_contrat=types,
            )
        vague = data.get("vague")
        if not isinstance(vague, int):
            raise fail("vague manquante")
        sources = data.get("sources", [])

        def source_of(section: Mapping[str, object], where: str) -> tuple[str, bool]:
            source = section.get("source")
            if not isinstance(source, str) or not source.strip():
                raise fail(f"{where}.source manque : chaque chiffre doit avoir sa source")
            non_source = section.get("non_source", False)
            if not isinstance(non_source, bool):
                raise fail(f"{where}.non_source doit valoir true ou false")
            return source, non_source

        reversement = data.get("reversement")
        if not isinstance(reversement, Mapping):
            raise fail("la section [reversement] manque (delai, unite, source) : le délai de reversement du "
                       "trop-perçu que citent la convention, les avenants et les résiliations")
        valeur, unite = reversement.get("delai"), reversement.get("unite")
        if not isinstance(valeur, int) or isinstance(valeur, bool) or valeur <= 0:
            raise fail("reversement.delai doit être un nombre entier positif (ex. 30)")
        if unite not in ("jours", "mois"):
            raise fail(f"reversement.unite : {unite!r} (attendu : \"jours\" ou \"mois\")")
        delai = DelaiReversement(valeur, str(unite), *source_of(reversement, "reversement"))

        majorations = None
        raw_majorations = data.get("majoration_outre_mer")
        if raw_majorations is not None:
            if not isinstance(raw_majorations, list):
                raise fail("majoration_outre_mer doit être une liste de tables [[majoration_outre_mer]]")
            seen: set[tuple[str, Nature]] = set()
            parsed = []
            for n, entry in enumerate(raw_majorations, start=1):
                where = f"majoration_outre_mer[{n}]"
                if not isinstance(entry, Mapping):
                    raise fail(f"{where} doit être une table")
                try:
                    nature = Nature(str(entry.get("nature")))
                except ValueError:
                    raise fail(f"{where}.nature : {entry.get('nature')!r} (attendu : publique, privee)") from None
                if nature not in baremes:
                    raise fail(f"{where}.nature : aucun montant [montants.{nature}] à majorer")
                departements = entry.get("departements")
                if (not isinstance(departements, list) or not departements
                        or any(d not in OUTRE_MER for d in departements)):
                    raise fail(f"{where}.departements doit lister des codes parmi {', '.join(OUTRE_MER)}")
                for departement in departements:
                    if (departement, nature) in seen:
                        raise fail(f"{where} : le département {departement} ({nature}) a déjà une majoration")
                    seen.add((departement, nature))
                values = amounts(entry.get("annees"), f"{where}.annees")
                if len(values) != len(baremes[nature].annees):
                    raise fail(f"{where}.annees doit avoir {len(baremes[nature].annees)} montants")
                parsed.append(MajorationOutreMer(tuple(departements), nature, values, *source_of(entry, where)))
            majorations = tuple(parsed)
        return cls(
            id=rule_id,
            libelle=str(data.get("libelle", rule_id)),
            vague=vague,
            baremes=baremes,
            sources=tuple(str(s) for s in sources) if isinstance(sources, list) else (),
            delai_reversement=delai,
            majorations_outre_mer=majorations,
        )


def calculer(demande: Demande, regles: RuleSet) -> Calcul:
    """Amounts per poste per convention year, bonus, total and échéancier for a demande."""
    structure = demande.structure
    bareme = regles.bareme(structure.nature)
    majoration = regles.majoration_outre_mer(structure.nature, structure.departement)
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
                base_par_poste=base + (majoration.annees[index] if majoration else Decimal("0.00")),
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
