"""Findings: what a check says about a piece, with a stable code, a severity and a French message.

A piece's status follows from its findings (DESIGN.md, "Piece validation result"):

- any ``erreur``  -> ``invalide`` (the structure must send another piece);
- else any ``alerte`` -> ``a_verifier`` (an instructeur looks at it);
- else ``valide``.

Codes are part of the contract with portals: add codes, never rename one. Their value is their name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["FindingCode", "Severity", "Statut", "Finding", "statut_of"]


class FindingCode(StrEnum):
    # the file itself (any kind)
    FORMAT_NON_AUTORISE = "FORMAT_NON_AUTORISE"
    FORMAT_INCOHERENT = "FORMAT_INCOHERENT"
    FICHIER_VIDE = "FICHIER_VIDE"
    FICHIER_TROP_GROS = "FICHIER_TROP_GROS"
    PDF_CORROMPU = "PDF_CORROMPU"
    PDF_CHIFFRE = "PDF_CHIFFRE"
    PDF_CONTENU_ACTIF = "PDF_CONTENU_ACTIF"
    PDF_TROP_DE_PAGES = "PDF_TROP_DE_PAGES"
    PDF_SIGNATURE_PRESENTE = "PDF_SIGNATURE_PRESENTE"
    IMAGE_CORROMPUE = "IMAGE_CORROMPUE"
    TEXTE_ABSENT = "TEXTE_ABSENT"
    ANALYSE_INTERROMPUE = "ANALYSE_INTERROMPUE"
    VIRUS_DETECTE = "VIRUS_DETECTE"
    PIECE_NON_CONTROLEE = "PIECE_NON_CONTROLEE"
    # avis de situation Sirene
    SIRENE_NON_RECONNU = "SIRENE_NON_RECONNU"
    SIRENE_TEXTE_TROP_LONG = "SIRENE_TEXTE_TROP_LONG"
    SIRENE_METADONNEES_ABSENTES = "SIRENE_METADONNEES_ABSENTES"
    SIRENE_CHAMP_MANQUANT = "SIRENE_CHAMP_MANQUANT"
    SIRET_INVALIDE = "SIRET_INVALIDE"
    SIRET_DIFFERENT = "SIRET_DIFFERENT"
    SIRENE_ETABLISSEMENT_FERME = "SIRENE_ETABLISSEMENT_FERME"
    SIRENE_ENTREPRISE_CESSEE = "SIRENE_ENTREPRISE_CESSEE"
    SIRENE_AVIS_PERIME = "SIRENE_AVIS_PERIME"
    SIRENE_AVIS_DATE_FUTURE = "SIRENE_AVIS_DATE_FUTURE"
    SIRENE_NATURE_INCOHERENTE = "SIRENE_NATURE_INCOHERENTE"
    # pièce d'identité du représentant légal
    IDENTITE_ILLISIBLE = "IDENTITE_ILLISIBLE"
    IDENTITE_MRZ_ABSENTE = "IDENTITE_MRZ_ABSENTE"
    IDENTITE_MRZ_INVALIDE = "IDENTITE_MRZ_INVALIDE"
    IDENTITE_EXPIREE = "IDENTITE_EXPIREE"
    IDENTITE_NOM_DIFFERENT = "IDENTITE_NOM_DIFFERENT"
    # contrat de travail
    CONTRAT_TYPE_INCONNU = "CONTRAT_TYPE_INCONNU"
    CONTRAT_DATE_DEBUT_MANQUANTE = "CONTRAT_DATE_DEBUT_MANQUANTE"
    CONTRAT_DATE_FIN_MANQUANTE = "CONTRAT_DATE_FIN_MANQUANTE"
    CONTRAT_EXPIRE = "CONTRAT_EXPIRE"
    CONTRAT_PAS_COMMENCE = "CONTRAT_PAS_COMMENCE"
    CONTRAT_SALARIE_MANQUANT = "CONTRAT_SALARIE_MANQUANT"
    CONTRAT_SALARIE_DIFFERENT = "CONTRAT_SALARIE_DIFFERENT"
    CONTRAT_NON_SIGNE = "CONTRAT_NON_SIGNE"
    # relevé d'identité bancaire
    RIB_IBAN_MANQUANT = "RIB_IBAN_MANQUANT"
    RIB_IBAN_INVALIDE = "RIB_IBAN_INVALIDE"
    RIB_TITULAIRE_MANQUANT = "RIB_TITULAIRE_MANQUANT"
    RIB_TITULAIRE_DIFFERENT = "RIB_TITULAIRE_DIFFERENT"
    # copie signée d'une convention (archivage)
    SIGNE_NON_RECONNU = "SIGNE_NON_RECONNU"
    SIGNE_AUTRE_CONVENTION = "SIGNE_AUTRE_CONVENTION"
    SIGNE_AUTRE_VERSION = "SIGNE_AUTRE_VERSION"
    SIGNE_CONTENU_MODIFIE = "SIGNE_CONTENU_MODIFIE"
    SIGNE_PAGES_DIFFERENTES = "SIGNE_PAGES_DIFFERENTES"
    SIGNE_METADONNEES_ABSENTES = "SIGNE_METADONNEES_ABSENTES"
    SIGNE_NUMERISE = "SIGNE_NUMERISE"
    SIGNE_SANS_SIGNATURE = "SIGNE_SANS_SIGNATURE"
    # ses signatures électroniques, validées cryptographiquement
    SIGNATURE_INVALIDE = "SIGNATURE_INVALIDE"
    SIGNATURE_MODIFIEE_APRES = "SIGNATURE_MODIFIEE_APRES"
    SIGNATURE_NON_APPROUVEE = "SIGNATURE_NON_APPROUVEE"
    SIGNATURE_CERTIFICAT_EXPIRE = "SIGNATURE_CERTIFICAT_EXPIRE"
    SIGNATURE_SIGNATAIRE_DIFFERENT = "SIGNATURE_SIGNATAIRE_DIFFERENT"


class Severity(StrEnum):
    ERREUR = "erreur"  # the piece is invalide
    ALERTE = "alerte"  # a human must look: a_verifier


class Statut(StrEnum):
    VALIDE = "valide"
    INVALIDE = "invalide"
    A_VERIFIER = "a_verifier"


@dataclass(frozen=True)
class Finding:
    """One problem found in a piece."""

    code: FindingCode
    severity: Severity
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": str(self.code), "severity": str(self.severity), "message": self.message}


def statut_of(findings: Iterable[Finding]) -> Statut:
    severities = {f.severity for f in findings}
    if Severity.ERREUR in severities:
        return Statut.INVALIDE
    return Statut.A_VERIFIER if Severity.ALERTE in severities else Statut.VALIDE
