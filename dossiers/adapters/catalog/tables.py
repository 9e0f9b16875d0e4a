"""The catalog's tables, as SQLAlchemy 2 declarative models.

The schema itself is created and changed only by the Alembic migrations in
``dossiers/migrations/versions``; a test checks that these models and the migrations agree.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from dossiers.adapters.catalog.coltypes import JSONDocument, Money, UTCDateTime

__all__ = ["Base", "StructureRow", "ConventionRow", "VersionRow", "DocumentRow", "DossierRow", "PieceRow", "PaiementRow", "EvenementRow", "JobRow", "ArchiveRow",
           "TokenRow", "AuditRow", "PlanRow", "PlanItemRow", "AgentRow",
           "RegistreRow", "AncrageRow", "DecisionRow",
           "DsSynchroRow", "DsDossierRow", "DsFichierRow", "DsEcritureRow", "WebhookRow", "LivraisonRow"]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = String(100)
SHA256 = String(64)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class StructureRow(Base):
    """A structure: ``id`` is the catalog key its dossier and convention ids derive from; ``ref`` the id its
    portail knows it by, unique within its département (``dossiers.domain.structures``)."""

    __tablename__ = "structures"
    __table_args__ = (UniqueConstraint("departement", "ref"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    ref: Mapped[str] = mapped_column(ID)
    siret: Mapped[str] = mapped_column(String(14))
    denomination: Mapped[str] = mapped_column(Text)
    nature: Mapped[str] = mapped_column(String(16))
    categorie_juridique: Mapped[str] = mapped_column(String(8))
    departement: Mapped[str] = mapped_column(String(3), index=True)
    adresse: Mapped[str] = mapped_column(Text)
    zone_prioritaire: Mapped[bool] = mapped_column(Boolean)
    representant: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recherche: Mapped[str | None] = mapped_column(Text, nullable=True)  # dénomination folded (search_key)


class ConventionRow(Base):
    __tablename__ = "conventions"
    # One convention per structure and vague from a demande; a renewal (``renouvelle``) is another
    # convention of the same structure, possibly of the same vague, and renews one convention only.
    __table_args__ = (
        Index("uq_conventions_structure_id_vague_initiale", "structure_id", "vague", unique=True,
              sqlite_where=text("renouvelle IS NULL"), postgresql_where=text("renouvelle IS NULL")),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    structure_id: Mapped[str] = mapped_column(ID, ForeignKey("structures.id"))
    vague: Mapped[int] = mapped_column(Integer)
    date_debut: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    renouvelle: Mapped[str | None] = mapped_column(ID, ForeignKey("conventions.id"), nullable=True, unique=True)

    versions: Mapped[list[VersionRow]] = relationship(
        order_by="VersionRow.numero", lazy="selectin", viewonly=True
    )


class VersionRow(Base):
    __tablename__ = "convention_versions"
    __table_args__ = (Index("uq_convention_versions_convention_id_request_id", "convention_id", "request_id",
                            unique=True),)

    convention_id: Mapped[str] = mapped_column(ID, ForeignKey("conventions.id"), primary_key=True)
    numero: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    motif: Mapped[str] = mapped_column(Text)
    regles: Mapped[str] = mapped_column(String(100))
    modele_version: Mapped[str] = mapped_column(String(100))
    modele_sha256: Mapped[str] = mapped_column(SHA256)
    demande_sha256: Mapped[str] = mapped_column(SHA256)
    demande: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    montant_total: Mapped[Decimal] = mapped_column(Money)
    echeancier: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    request_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    document_type: Mapped[str] = mapped_column(String(16), server_default="convention")
    changement: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument, nullable=True)
    etat: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument, nullable=True)
    figures: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONDocument, nullable=True)

    documents: Mapped[list[DocumentRow]] = relationship(
        order_by="DocumentRow.id", lazy="selectin", viewonly=True
    )


class DocumentRow(Base):
    __tablename__ = "documents"
    __table_args__ = (
        ForeignKeyConstraint(
            ["convention_id", "version"],
            ["convention_versions.convention_id", "convention_versions.numero"],
        ),
        UniqueConstraint("convention_id", "version", "kind"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    convention_id: Mapped[str] = mapped_column(ID)
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    storage_key: Mapped[str] = mapped_column(String(512), unique=True)
    sha256: Mapped[str] = mapped_column(SHA256)
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DossierRow(Base):
    """A structure's dossier for a vague: the demande it was opened with, and its pieces."""

    __tablename__ = "dossiers"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    structure_id: Mapped[str] = mapped_column(ID, ForeignKey("structures.id"), index=True)
    vague: Mapped[int] = mapped_column(Integer)
    demande: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    demande_sha256: Mapped[str] = mapped_column(SHA256)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PieceRow(Base):
    """One validated file of a dossier. The same bytes sent again for the same kind and poste update
    the result (validated again at a later date) instead of adding a row."""

    __tablename__ = "pieces"
    __table_args__ = (UniqueConstraint("dossier_id", "kind", "poste_id", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dossier_id: Mapped[str] = mapped_column(ID, ForeignKey("dossiers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    poste_id: Mapped[str] = mapped_column(ID)  # "" for the structure's own pieces
    filename: Mapped[str | None] = mapped_column(String(255), nullable=True)
    sha256: Mapped[str] = mapped_column(SHA256)
    size: Mapped[int] = mapped_column(BigInteger)
    mime: Mapped[str] = mapped_column(String(255))
    statut: Mapped[str] = mapped_column(String(16))
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    fields: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    storage_key: Mapped[str | None] = mapped_column(String(512), nullable=True)
    validated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # personal data deleted


class PaiementRow(Base):
    """A payment the CDC made for a convention year of a period (``periode_debut``). Recording the
    same payment again (same year, date and amount) is a no-op."""

    __tablename__ = "paiements"
    __table_args__ = (UniqueConstraint("convention_id", "periode_debut", "annee", "date", "montant"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    convention_id: Mapped[str] = mapped_column(ID, ForeignKey("conventions.id"), index=True)
    periode_debut: Mapped[date] = mapped_column(Date)
    annee: Mapped[int] = mapped_column(Integer)
    date: Mapped[date] = mapped_column(Date)
    montant: Mapped[Decimal] = mapped_column(Money)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    motif: Mapped[str | None] = mapped_column(Text, nullable=True)  # why it was recorded above what is due


class EvenementRow(Base):
    """A poste event (recrutement, fin_contrat, prolongation, absence, transfert): a fact declared by
    the structure, recorded once per request id. ``id`` orders events recorded on the same day;
    ``evenement`` is the event as the timeline reads it (a prolongation with the contract it extends),
    ``requete`` the request as sent (its ``sha256`` decides whether a re-sent id is the same)."""

    __tablename__ = "evenements_postes"
    __table_args__ = (UniqueConstraint("convention_id", "request_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    convention_id: Mapped[str] = mapped_column(ID, ForeignKey("conventions.id"), index=True)
    poste_id: Mapped[str] = mapped_column(ID)
    request_id: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(32))
    jour: Mapped[date] = mapped_column(Date)
    evenement: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    requete: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    sha256: Mapped[str] = mapped_column(SHA256)
    source: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)  # the convention's version when it was recorded
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class JobRow(Base):
    """A job portals follow; its id is the Dramatiq message id. ``idempotency_key`` (unique): the same
    submission twice is one job."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    actor: Mapped[str] = mapped_column(String(100))
    queue: Mapped[str] = mapped_column(String(100))
    args: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    idempotency_key: Mapped[str | None] = mapped_column(String(128), unique=True, nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument, nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    owner: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)  # API token that submitted it
    # the SHA-256 of the HTTP request an Idempotency-Key was sent with: the key is bound to it
    requete_sha256: Mapped[str | None] = mapped_column(SHA256, nullable=True)


class ArchiveRow(Base):
    """A signed copy received for a convention version: archived under lock, or refused (kept as a
    trace without a storage key). The same file sent for the same convention version is one row."""

    __tablename__ = "archives"
    __table_args__ = (UniqueConstraint("convention_id", "version", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    convention_id: Mapped[str] = mapped_column(ID, ForeignKey("conventions.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(SHA256, index=True)
    sha256_emis: Mapped[str] = mapped_column(SHA256)
    statut: Mapped[str] = mapped_column(String(16))
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    fields: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    storage_key: Mapped[str | None] = mapped_column(String(512), nullable=True)
    version_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    retain_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    certificat_key: Mapped[str | None] = mapped_column(String(512), nullable=True)
    certificat_sha256: Mapped[str | None] = mapped_column(SHA256, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class TokenRow(Base):
    """An API bearer token: only its SHA-256 is kept (the secret is shown once, at creation)."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_sha256: Mapped[str] = mapped_column(SHA256, unique=True)
    role: Mapped[str] = mapped_column(String(16))
    departements: Mapped[list[str]] = mapped_column(JSONDocument)
    nom: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AuditRow(Base):
    """One download or upload through the API (or a refused attempt): who, what, when, from where."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    token_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    action: Mapped[str] = mapped_column(String(64))
    ressource: Mapped[str] = mapped_column(String(512))
    departement: Mapped[str | None] = mapped_column(String(3), nullable=True)
    adresse: Mapped[str | None] = mapped_column(String(64), nullable=True)
    statut_http: Mapped[int] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONDocument)


class PlanRow(Base):
    """A re-issue plan: what it applies, on which day, how many conventions it examined, its totals."""

    __tablename__ = "reissue_plans"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    regles: Mapped[str | None] = mapped_column(String(100), nullable=True)
    modele: Mapped[str | None] = mapped_column(String(100), nullable=True)
    as_of: Mapped[date] = mapped_column(Date)
    examinees: Mapped[int] = mapped_column(Integer)
    totaux: Mapped[dict[str, Any]] = mapped_column(JSONDocument)


class PlanItemRow(Base):
    """One affected convention of a plan: the change planned on its version, and what became of it
    (``a_faire``, ``emise`` with the version issued, ``obsolete`` or ``echec`` with the reason)."""

    __tablename__ = "reissue_items"
    __table_args__ = (Index("ix_reissue_items_plan_id_statut", "plan_id", "statut"),)

    plan_id: Mapped[str] = mapped_column(String(32), ForeignKey("reissue_plans.id"), primary_key=True)
    convention_id: Mapped[str] = mapped_column(ID, primary_key=True)
    departement: Mapped[str] = mapped_column(String(3))
    nature: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    base_version: Mapped[int] = mapped_column(Integer)
    change: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    du_avant: Mapped[Decimal] = mapped_column(Money)
    du_apres: Mapped[Decimal] = mapped_column(Money)
    a_reverser: Mapped[Decimal] = mapped_column(Money)
    postes_rendus: Mapped[list[str]] = mapped_column(JSONDocument)
    statut: Mapped[str] = mapped_column(String(16))
    version_emise: Mapped[int | None] = mapped_column(Integer, nullable=True)
    job_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AgentRow(Base):
    """A State agent allowed on the web pages: the départements come from here, never from the
    identity provider alone."""

    __tablename__ = "agents"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)  # lowercase
    id: Mapped[str] = mapped_column(String(32), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # instructeur | admin
    departements: Mapped[list[str]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    session_epoch: Mapped[str | None] = mapped_column(String(32), nullable=True)  # sessions must carry it


# a 64-bit sequence; on SQLite an INTEGER PRIMARY KEY (the rowid itself: no second index, faster appends)
SEQUENCE = BigInteger().with_variant(Integer(), "sqlite")


class RegistreRow(Base):
    """One entry of the archive ledger (``dossiers.domain.registre``): rows are only ever appended. The
    same (nature, key, SHA-256) is one entry: a retried store appends nothing."""

    __tablename__ = "registre"
    __table_args__ = (UniqueConstraint("nature", "key", "sha256"),)

    sequence: Mapped[int] = mapped_column(SEQUENCE, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    nature: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(512))
    sha256: Mapped[str] = mapped_column(SHA256, index=True)
    prev_hash: Mapped[str] = mapped_column(SHA256)
    hash: Mapped[str] = mapped_column(SHA256)


class AncrageRow(Base):
    """A head of the ledger timestamped by the TSA: the token (DER), also in the WORM bucket under
    ``storage_key``."""

    __tablename__ = "registre_ancrages"

    sequence: Mapped[int] = mapped_column(SEQUENCE, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(SHA256)
    token: Mapped[bytes] = mapped_column(LargeBinary)
    storage_key: Mapped[str] = mapped_column(String(512))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class DecisionRow(Base):
    """An instructeur's decision on a piece (``piece_id``) or a signed copy (``archive_id``) à vérifier:
    one per target, kept with who decided, when and why."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cible: Mapped[str] = mapped_column(String(8))
    piece_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("pieces.id"), unique=True, nullable=True)
    archive_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("archives.id"), unique=True, nullable=True)
    verdict: Mapped[str] = mapped_column(String(8))
    motif: Mapped[str | None] = mapped_column(String(32), nullable=True)
    commentaire: Mapped[str | None] = mapped_column(Text, nullable=True)
    par: Mapped[str] = mapped_column(String(200))
    token_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)


# -- Démarches simplifiées connector and webhooks (issue 21) ------------------------------------------
DS_INSTANT = String(40)  # an instant as DS writes it (ISO 8601): compared and sent back as DS gave it


class DsSynchroRow(Base):
    """Where the sync of a démarche stands: ``updated_since`` (the last complete run's high-water mark),
    ``cursor`` (the last page done of a run in progress, resumed after a failure), ``run_max``."""

    __tablename__ = "ds_synchros"

    demarche: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    updated_since: Mapped[str | None] = mapped_column(DS_INSTANT, nullable=True)
    cursor: Mapped[str | None] = mapped_column(String(500), nullable=True)
    run_max: Mapped[str | None] = mapped_column(DS_INSTANT, nullable=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class DsDossierRow(Base):
    """A DS dossier as conum last took it: the DS modification it reflects, its conum dossier, or the
    error that kept it out (retried at every run until it maps)."""

    __tablename__ = "ds_dossiers"

    demarche: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    ds_id: Mapped[str] = mapped_column(ID)
    dossier_id: Mapped[str | None] = mapped_column(ID, nullable=True, index=True)
    updated_at: Mapped[str | None] = mapped_column(DS_INSTANT, nullable=True)
    demande_sha256: Mapped[str | None] = mapped_column(SHA256, nullable=True)
    statut: Mapped[str] = mapped_column(String(16), index=True)  # importe | erreur
    erreur: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument, nullable=True)
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DsFichierRow(Base):
    """A DS file conum took (``cle``: démarche, dossier, champ or message, poste, DS checksum): taken
    once; a file replaced on DS has another checksum and is a new piece."""

    __tablename__ = "ds_fichiers"

    cle: Mapped[str] = mapped_column(SHA256, primary_key=True)
    demarche: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(BigInteger, index=True)
    source: Mapped[str] = mapped_column(String(200))  # champDescriptorId, or message:<id>
    kind: Mapped[str] = mapped_column(String(32))  # a piece kind, or signe
    poste_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    filename: Mapped[str] = mapped_column(String(255))
    checksum: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(SHA256)
    job_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DsEcritureRow(Base):
    """A write to DS for one event (``cle``), recorded before it is sent (``en_cours``) and marked
    ``envoye`` once DS accepted it: an event is never written twice."""

    __tablename__ = "ds_ecritures"

    cle: Mapped[str] = mapped_column(SHA256, primary_key=True)
    demarche: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(BigInteger, index=True)
    action: Mapped[str] = mapped_column(String(32))  # annotation | message_pieces | convention
    statut: Mapped[str] = mapped_column(String(16))  # en_cours | envoye
    detail: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class WebhookRow(Base):
    """A portal's callback URL, owned by the API token that registered it (its scope is the token's)."""

    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_id: Mapped[str] = mapped_column(String(32), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(100))
    evenements: Mapped[list[str]] = mapped_column(JSONDocument)  # empty: every event
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LivraisonRow(Base):
    """One event for one webhook (the same event recorded twice is one row), sent in ``id`` order."""

    __tablename__ = "webhook_livraisons"
    __table_args__ = (UniqueConstraint("webhook_id", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    webhook_id: Mapped[str] = mapped_column(String(32), ForeignKey("webhooks.id"), index=True)
    event_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    statut: Mapped[str] = mapped_column(String(16), index=True)  # en_attente | livree | abandonnee
    tentatives: Mapped[int] = mapped_column(Integer)
    dernier_statut_http: Mapped[int | None] = mapped_column(Integer, nullable=True)
    derniere_erreur: Mapped[str | None] = mapped_column(String(500), nullable=True)
    livree_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
