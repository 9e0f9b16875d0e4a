"""The avis de situation Sirene check: read the PDF's text layer, compare it with the dossier."""

from __future__ import annotations

from typing import Any

from dossiers.domain.findings import Finding, FindingCode, Severity
from dossiers.domain.pieces import Contexte, FileFacts
from dossiers.domain.sirene import AvisSirene, check_avis, parse_avis

__all__ = ["check_sirene"]


def check_sirene(facts: FileFacts, ctx: Contexte) -> tuple[list[Finding], dict[str, Any]]:
    pdf = facts.pdf
    if pdf is None or not pdf.has_text:
        return [Finding(FindingCode.TEXTE_ABSENT, Severity.ALERTE,
                        "L'avis de situation n'a pas de couche texte (copie numérisée ?) : il n'a pas pu "
                        "être lu automatiquement, à vérifier.")], {}
    avis = parse_avis(pdf.text, title=pdf.title, author=pdf.author)
    nature = ctx.nature if ctx.nature in ("publique", "privee") else None
    findings = check_avis(avis, siret_dossier=ctx.siret, nature=nature, today=ctx.today)  # type: ignore[arg-type]
    return findings, _fields(avis) if avis.recognised and not avis.too_long else {}


def _fields(avis: AvisSirene) -> dict[str, Any]:
    return {
        "siren": avis.siren, "siret": avis.siret, "siret_siege": avis.siret_siege,
        "denomination": avis.denomination, "categorie_juridique": avis.categorie_code,
        "categorie_juridique_libelle": avis.categorie_libelle, "ape": avis.ape_code,
        "ape_libelle": avis.ape_libelle,
        "etat_entreprise": str(avis.etat_entreprise) if avis.etat_entreprise else None,
        "etat_etablissement": str(avis.etat_etablissement) if avis.etat_etablissement else None,
        "date_avis": avis.date_avis.isoformat() if avis.date_avis else None,
        "adresse": list(avis.adresse), "code_postal": avis.code_postal,
        "metadonnees_insee": avis.metadata_ok,
    }
