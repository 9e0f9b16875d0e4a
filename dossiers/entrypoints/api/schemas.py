"""What the API answers, as Pydantic models: they make the OpenAPI document (``/v1/openapi.json``)
and FastAPI checks every response against them, so the document stays accurate.

Amounts are decimal strings in euros with two decimals (``"17500.00"``): a JSON number would lose
cents in some clients. Dates are ISO 8601; instants carry their offset.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dossiers.services.a_traiter import Genre

Montant = str  # "17500.00"


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErreurChamp(_Out):
    champ: str = Field(description="Chemin du champ refusé (ex. structure.siret, postes[1].contrat.type).")
    code: str
    message: str


class Erreur(_Out):
    code: str = Field(description="Code stable (contrat avec les portails) ; le message peut changer.")
    message: str = Field(description="Message en français.")
    erreurs: list[ErreurChamp] | None = None


class Constat(_Out):
    code: str
    severity: Literal["erreur", "alerte"]
    message: str


class ErreurTache(_Out):
    code: str
    message: str


class TacheSoumise(_Out):
    job_id: str
    status: Literal["queued", "running", "succeeded", "failed"]
    url: str = Field(description="Où suivre la tâche (GET).")
    dossier_id: str | None = None
    convention_id: str | None = None
    sha256: str | None = Field(default=None, description="SHA-256 du fichier reçu, pour un dépôt.")
    avertissements: list[str] | None = Field(
        default=None, description="Ce que la demande, acceptée, devrait encore changer (ex. un champ obsolète).")


class Tache(_Out):
    job_id: str
    actor: str
    status: Literal["queued", "running", "succeeded", "failed"]
    attempts: int
    result: dict[str, Any] | None
    error: ErreurTache | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class DecisionHumaine(_Out):
    decision: Literal["accepte", "refuse"]
    motif: str | None = Field(description="Code du motif de refus (liste : MOTIFS_REFUS du README).")
    motif_libelle: str | None
    commentaire: str | None
    par: str = Field(description="Nom de l'agent qui a décidé.")
    le: datetime
    texte: str = Field(description="La décision en une phrase, telle que les pages et le rapport l'écrivent.")


class Piece(_Out):
    id: int
    kind: str
    poste_id: str | None
    filename: str | None
    sha256: str
    size: int
    mime: str
    status: Literal["valide", "invalide", "a_verifier"] = Field(description="Ce que les contrôles ont conclu.")
    final_status: Literal["valide", "invalide", "a_verifier"] = Field(
        description="Ce que le dossier retient : le statut des contrôles, ou la décision d'un instructeur sur une "
                    "pièce à vérifier (acceptée : valide ; refusée : invalide).")
    decision: DecisionHumaine | None
    findings: list[Constat]
    fields: dict[str, Any]
    validated_at: datetime


class PieceManquante(_Out):
    kind: str
    poste_id: str | None
    label: str


class Dossier(_Out):
    dossier_id: str
    structure_id: str
    siret: str
    denomination: str
    nature: Literal["publique", "privee"]
    departement: str
    status: Literal["incomplet", "a_verifier", "complet"]
    pieces: list[Piece]
    missing: list[PieceManquante]
    history: int = Field(description="Nombre de fichiers reçus, remplacés compris.")
    rapport_url: str


class StructureResume(_Out):
    id: str
    siret: str
    denomination: str
    nature: Literal["publique", "privee"]
    departement: str


StatutConvention = Literal["a_signer", "signee", "archivee"]


class ConventionLigne(_Out):
    id: str
    vague: int
    date_debut: date
    structure: StructureResume
    version: int = Field(description="Numéro de la version courante.")
    document_type: Literal["convention", "avenant", "resiliation"]
    motif: str
    montant_total: Montant
    version_creee_le: datetime
    statut: StatutConvention
    url: str


class ConventionsPage(_Out):
    total: int
    limit: int
    offset: int
    items: list[ConventionLigne]


class Tranche(_Out):
    numero: int
    annee: int
    date: date
    montant: Montant


class Document(_Out):
    kind: Literal["docx", "pdf"]
    sha256: str
    size: int
    content_type: str
    url: str


class CopieSignee(_Out):
    id: int
    sha256: str
    statut: Literal["archive", "a_verifier", "refuse"]
    decision: DecisionHumaine | None
    decision_url: str | None = Field(description="Où décider d'une copie à vérifier (POST), sinon null.")
    received_at: datetime
    archived_at: datetime | None
    retain_until: datetime | None
    findings: list[Constat]
    certificat_url: str | None


class Version(_Out):
    numero: int
    motif: str
    document_type: Literal["convention", "avenant", "resiliation"]
    regles: str
    modele_version: str
    montant_total: Montant
    created_at: datetime
    echeancier: list[Tranche]
    documents: list[Document]
    copies_signees: list[CopieSignee]
    signed_url: str = Field(description="Où déposer la copie signée de cette version (POST multipart).")


class Convention(_Out):
    id: str
    vague: int
    date_debut: date
    statut: StatutConvention
    structure: StructureResume
    versions: list[Version]


class NouvelleConvention(BaseModel):
    """Générer la convention d'un dossier (sa demande enregistrée)."""

    model_config = ConfigDict(extra="forbid")
    dossier_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class Sante(_Out):
    status: Literal["ok", "indisponible"]
    checks: dict[str, Literal["ok", "indisponible"]] = Field(default_factory=dict)


class Decider(BaseModel):
    """La décision d'un instructeur sur une pièce ou une copie signée à vérifier."""

    model_config = ConfigDict(extra="forbid")
    decision: Literal["accepte", "refuse"]
    motif: str | None = Field(default=None, max_length=32, description="Obligatoire pour un refus : illisible, "
                              "non_conforme, perime, incoherent, signataire, autre.")
    commentaire: str | None = Field(default=None, max_length=1000, description="Obligatoire avec le motif « autre ».")


class CopieDecidee(_Out):
    convention_id: str
    version: int
    sha256: str
    statut: Literal["archive", "a_verifier", "refuse"]
    decision: DecisionHumaine
    archived_at: datetime | None
    certificat_url: str | None


class ElementATraiter(_Out):
    genre: Genre
    genre_libelle: str
    depuis: datetime
    attente_jours: int
    departement: str
    reference: str
    libelle: str
    detail: str
    lien: str = Field(description="La page où le traiter.")
    dossier_id: str | None = None
    piece_id: int | None = None
    convention_id: str | None = None
    version: int | None = None
    sha256: str | None = None
    plan_id: str | None = None
    decision_url: str | None = Field(default=None, description="Où décider (POST), pour une pièce ou une copie.")


class ATraiterPage(_Out):
    jour: date
    total: int
    page: int
    par_page: int
    compte: dict[str, int] = Field(description="Nombre d'éléments de chaque genre, quel que soit le filtre.")
    items: list[ElementATraiter]


class AnneeSituation(_Out):
    annee: int
    debut: date
    fin: date
    du_eur: Montant
    verse_eur: Montant
    reste_a_verser_eur: Montant
    a_reverser_eur: Montant


class TotalSituation(_Out):
    du_eur: Montant
    verse_eur: Montant
    reste_a_verser_eur: Montant
    a_reverser_eur: Montant


class VersementEnregistre(_Out):
    annee: int
    date: date
    montant_eur: Montant
    motif: str | None = Field(description="Pourquoi un versement au-delà du dû a été enregistré quand même.")
    enregistre_le: datetime


class VersionSituation(_Out):
    version: int
    document: Literal["convention", "avenant", "resiliation"]
    motif: str
    date: datetime
    annees: list[AnneeSituation] = Field(description="Les montants que la version énonçait à son émission.")
    total_du_eur: Montant


class Situation(_Out):
    convention_id: str
    version: int = Field(description="Version courante : ses montants sont le dû.")
    annees: list[AnneeSituation]
    total: TotalSituation
    versements: list[VersementEnregistre]
    historique: list[VersionSituation]
    avertissements: list[str]
