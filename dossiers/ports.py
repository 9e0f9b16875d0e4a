"""The ports: what the services need from the outside world, as Protocols (no adapter imported here).

Each port has a real implementation and an in-memory one, both in ``dossiers.adapters`` and both run
through the same contract tests (``tests/integration/test_storage.py``,
``tests/integration/test_converter_contract.py``):

=============  ===========================================  =====================================================
port           real                                         in memory (tests, demos)
=============  ===========================================  =====================================================
``Storage``    ``LocalStorage``, ``S3Storage``              ``MemoryStorage``
``Converter``  LibreOffice (``SofficeConverter``, pool)     ``MemoryConverter`` (``adapters.memory_converter``)
``Catalog``    ``adapters.catalog.Catalog`` (PostgreSQL)    the same class on SQLite ``:memory:`` (``sqlite://``)
``Scanner``    ``ClamdScanner`` (``NoScanner`` unset)       ``MemoryScanner``
``Inspector``  ``adapters.inspection.Inspector`` (children) ``MemoryInspector`` (``adapters.inspection.memory``)
``Rules``      ``adapters.rules.RulesRepository`` (TOML)    the same on a directory of the test's own files
``Dessins``    ``adapters.pdf.Dessins`` (reportlab)         the same (in process, no service)
``Horodatage`` ``adapters.signature.horodatage.Tsa``        a TSA of the tests' own (``tests/pki.py``)
``Ds``         ``adapters.ds.DsClient`` (GraphQL over HTTP) the same on a fake DS (``tests/fixtures/ds_server.py``)
=============  ===========================================  =====================================================

``Catalog`` is one repository per concern (``ConventionRepository``, ``DossierRepository``, …), one per
mixin of ``adapters.catalog``; a service that needs two concerns can say so with its own Protocol
inheriting both. ``AppPorts`` is what a use case may ask of the composition root
(``dossiers.bootstrap.App`` satisfies it; a test may pass any object that does).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol, runtime_checkable

from dossiers.clock import Clock
from dossiers.domain.acces import AuditEntry, ConventionResume, ConventionStatut, Jeton
from dossiers.domain.archive import ArchiveRecord
from dossiers.domain.decisions import Cible, Decision
from dossiers.domain.dossier import DossierView, PieceRecord, PiecesRequises
from dossiers.domain.ds_suivi import DsDossier, DsEcriture, DsSynchro
from dossiers.domain.etat import EtatConvention, Figures, Paiement
from dossiers.domain.gestion import HistoriqueLimites, ReglesGestion
from dossiers.domain.jobs import Job, JobStatus
from dossiers.domain.model import Convention, ConventionVersion, Structure
from dossiers.domain.pieces import FileFacts, KindPolicy, PieceKind, VerificationSignatures
from dossiers.domain.postes import EvenementPoste, NouvelEvenement, VersionAEnregistrer
from dossiers.domain.reemission import Impact, Plan, PlanItem
from dossiers.domain.registre import Ancrage, Entree, Inscription
from dossiers.domain.rules import RuleSet
from dossiers.domain.webhooks import Livraison, Webhook
from dossiers.settings import Settings

__all__ = [
    "AccesRepository", "AppPorts", "ArchiveRepository", "ATraiterRepository", "Catalog", "ConventionRepository",
    "Converter", "DecisionRepository", "Dessins", "DossierRepository", "Ds", "DsRepository", "EvenementRepository",
    "Horodatage", "Inspector",
    "JobRepository", "PaiementRepository", "ReemissionRepository", "RegistreRepository", "Rules", "ScanResult",
    "Scanner", "Storage", "StoredObject", "Template", "TemplateDescription", "WebhookRepository",
]


# -- documents ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class StoredObject:
    """What the store recorded about one object."""

    key: str
    sha256: str
    size: int
    content_type: str
    version_id: str | None = None
    retain_until: datetime | None = None  # UTC; None: not retained, deletable


@runtime_checkable
class Storage(Protocol):
    """Write-once objects under validated keys, checked on read-back (the contract:
    ``dossiers.adapters.storage.base``)."""

    def put(
        self, key: str, data: bytes, *, content_type: str, retain_until: datetime | None = None
    ) -> StoredObject: ...

    def get(self, key: str, *, sha256: str | None = None) -> bytes: ...

    def head(self, key: str) -> StoredObject: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def presigned_url(self, key: str, *, ttl: int) -> str | None: ...


class Converter(Protocol):
    """DOCX bytes in, PDF/A-2b bytes out; raises ``ConversionError`` (codes ``conversion_delai``,
    ``conversion_echec``, ``convertisseur_indisponible``) and nothing else. Thread-safe."""

    def convert(self, docx: bytes) -> bytes: ...

    def close(self) -> None: ...


class Template(Protocol):
    """A prepared DOCX template: a context in, the DOCX bytes out."""

    @property
    def sha256(self) -> str: ...

    def render(self, context: dict[str, Any]) -> bytes: ...


class TemplateDescription(Protocol):
    """A template's entry in the manifest (``templates/manifest.toml``)."""

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def variables(self) -> tuple[str, ...]: ...


class Rules(Protocol):
    """The rule sets (``config/rules/*.toml``): subsidy rules and rules of management."""

    def get(self, rule_id: str) -> RuleSet: ...

    def gestion(self, rule_id: str) -> ReglesGestion: ...

    def gestions(self) -> list[ReglesGestion]: ...

    def for_vague(self, vague: int) -> RuleSet: ...


# -- untrusted files ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ScanResult:
    """The verdict on one file. ``scanned=False``: no antivirus looked at it (none configured)."""

    infected: bool
    signature: str | None = None
    scanned: bool = True


class Scanner(Protocol):
    """An antivirus: ``AntivirusUnavailable`` when it cannot answer (transient), ``AntivirusError`` else."""

    def scan(self, data: bytes) -> ScanResult: ...

    def ping(self) -> bool: ...


class Inspector(Protocol):
    """Facts of an uploaded file (type, size, pages, text, signatures), parsed under limits; never raises
    for a bad file (``FileFacts.probleme`` says what went wrong)."""

    def inspect(self, data: bytes, *, policy: KindPolicy, declared_name: str | None = None,
                verification: VerificationSignatures | None = None) -> FileFacts: ...

    def sniff(self, head: bytes) -> str:
        """The MIME type read from the bytes (never the name): their first 8 KB or more, or all of them;
        in the caller's process, nothing parsed (a file refused at the door, or too big to be inspected)."""
        ...

    def warm(self) -> None:
        """Start the inspection children now (a worker at boot), not at the first file."""
        ...

    def close(self) -> None: ...


# -- what conum draws, stamps and sends --------------------------------------------------------

class Dessins(Protocol):
    """The PDFs conum draws itself, deterministic for the same inputs (``adapters.pdf``, reportlab);
    ``RapportError`` when no usable font is installed. Every datetime is timezone-aware."""

    def rapport_controle(self, view: DossierView, *, generated_at: datetime) -> bytes:
        """The rapport de contrôle of a dossier; its empreinte is ``domain.rapport.rapport_digest``."""
        ...

    def certificat_archivage(
        self, *, convention_id: str, version: int, sha256_signe: str, sha256_emis: str, archived_at: datetime,
        retain_until: datetime, key: str, version_id: str | None, statut: str, signatures: Sequence[dict[str, Any]],
        generated_at: datetime,
    ) -> bytes:
        """The one-page certificat d'archivage of a signed copy."""
        ...


class Horodatage(Protocol):
    """RFC 3161 time-stamping (``TSA_URL``) and the check of stored tokens (``adapters.signature.horodatage``)."""

    def horodater(self, digest: bytes) -> bytes:
        """The TSA's token (DER) for a SHA-256 ``digest``; ``HorodatageUnavailable`` (transient) when the
        TSA does not answer; ``ConumError`` (horodatage_non_configure) without ``TSA_URL``."""
        ...

    def verifier_jeton(self, token: bytes, digest: bytes, *, racines: bool = False) -> datetime:
        """The time ``token`` states for ``digest``; ``JetonInvalide`` when it does not prove it. With
        ``racines``, its TSA must also chain to ``SIGNATURE_TRUST_ROOTS`` when that is set."""
        ...


class Ds(Protocol):
    """Démarches simplifiées' GraphQL API (``adapters.ds.DsClient``); nodes come back in the shape of
    ``adapters.ds.queries``. ``DsIndisponible`` (transient) when DS does not answer, ``DsError`` when it
    refuses. A client is closed by whoever asked for it (``with app.ds() as client``)."""

    def dossiers_modifies(self, demarche: int, *, depuis: str | None, apres: str | None,
                          nombre: int | None = None) -> dict[str, Any]:
        """One page (``nombre`` dossiers; None: DS's maximum) of the démarche's dossiers modified since
        ``depuis``, after the cursor ``apres``: ``{"pageInfo": {"hasNextPage", "endCursor"}, "nodes": [...]}``."""
        ...

    def dossier(self, number: int) -> dict[str, Any]:
        """One dossier, whole (champs, annotations, messages and their files)."""
        ...

    def etat(self, number: int) -> dict[str, Any]:
        """A dossier's id, state, private annotations (with their values) and messages' bodies."""
        ...

    def muter(self, mutation: str, data: dict[str, Any]) -> dict[str, Any] | None:
        """The payload of ``mutation`` (``dossierEnvoyerMessage``, ``dossierModifierAnnotationText``,
        ``dossierAccepter``) sent with ``{"input": data}``; its ``errors`` are the caller's to read."""
        ...

    def download(self, file: dict[str, Any], *, max_bytes: int) -> bytes: ...

    def upload(self, dossier_id: str, filename: str, data: bytes, content_type: str) -> str: ...

    def close(self) -> None: ...

    def __enter__(self) -> Ds: ...

    def __exit__(self, *exc: object) -> None: ...


# -- the catalog, one repository per concern ---------------------------------------------------

class ConventionRepository(Protocol):
    """The catalog's structures, conventions, their versions and documents (``adapters.catalog.conventions``)."""

    def upsert_structure(self, structure: Structure) -> None: ...

    def get_structure(self, structure_id: str) -> Structure | None: ...

    def cle_structure(self, departement: str, ref: str) -> str | None: ...

    def structure_figee(self, structure: Structure) -> list[str]: ...

    def corriger_structure(self, structure: Structure) -> Structure: ...

    def record_version(
        self,
        *,
        structure: Structure,
        convention_id: str,
        vague: int,
        date_debut: date,
        version: ConventionVersion,
        demande_json: dict[str, Any],
        renouvelle: str | None = None,
        structure_modifiee: bool = False,
    ) -> ConventionVersion: ...

    def get_convention(self, convention_id: str) -> Convention | None: ...

    def structure_connue(self, structure_id: str, siret: str) -> bool: ...

    def conventions_of_structure(self, structure_id: str) -> list[Convention]: ...

    def find_version(self, convention_id: str, numero: int) -> ConventionVersion | None: ...

    def find_demande(self, convention_id: str, numero: int) -> dict[str, Any] | None: ...

    def list_conventions(
        self, *, departement: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[Convention]: ...


class DossierRepository(Protocol):
    """The catalog's dossiers and their pieces (``adapters.catalog.dossiers``)."""

    def save_dossier(
        self, dossier_id: str, *, structure: Structure, vague: int, demande_json: dict[str, Any], demande_sha256: str
    ) -> None: ...

    def get_dossier_demande(self, dossier_id: str) -> dict[str, Any] | None: ...

    def list_dossier_ids(self, *, structure_id: str | None = None, limit: int = 100) -> list[str]: ...

    def record_piece(self, dossier_id: str, piece: PieceRecord) -> PieceRecord: ...

    def list_pieces(self, dossier_id: str) -> list[PieceRecord]: ...


class DecisionRepository(Protocol):
    """The catalog's instructeurs' decisions on pieces and signed copies (``adapters.catalog.decisions``)."""

    def record_piece_decision(self, piece_id: int, decision: Decision) -> Decision: ...

    def decide_archive(self, record_id: int, decision: Decision) -> Decision | None: ...

    def decisions_of(self, *, pieces: Iterable[int] = (), archives: Iterable[int] = ()) -> dict[tuple[Cible, int], Decision]: ...


class ATraiterRepository(Protocol):
    """What waits for an instructeur (``adapters.catalog.a_traiter``)."""

    def pieces_en_attente(self, departements: tuple[str, ...] = ()) -> list[tuple[str, str, PieceRecord]]: ...

    def copies_en_attente(self, departements: tuple[str, ...] = ()) -> list[tuple[str, ArchiveRecord]]: ...

    def dossiers_sans_convention(self, departements: tuple[str, ...] = ()) -> list[tuple[str, str, datetime, dict[str, Any]]]: ...

    def pieces_des_dossiers(self, dossier_ids: list[str]) -> dict[str, list[PieceRecord]]: ...

    def structures_meme_siret(self, siret: str, *, sauf: str) -> list[tuple[str, str, str]]: ...


class PaiementRepository(Protocol):
    """The catalog's payments and change requests (``adapters.catalog.paiements``)."""

    def record_paiement(self, convention_id: str, periode_debut: date, paiement: Paiement, *,
                        motif: str | None = None) -> bool: ...

    def list_paiements(self, convention_id: str, periode_debut: date) -> tuple[Paiement, ...]: ...

    def paiements_enregistres(self, convention_id: str, periode_debut: date) -> list[tuple[Paiement, str | None, datetime]]: ...

    def find_version_by_request(self, convention_id: str, request_id: str) -> ConventionVersion | None: ...


class EvenementRepository(Protocol):
    """The catalog's poste events (``adapters.catalog.evenements``)."""

    def list_evenements(self, convention_id: str) -> tuple[EvenementPoste, ...]: ...

    def evenements_by_convention(self) -> dict[str, tuple[EvenementPoste, ...]]: ...

    def structures_siret(self) -> dict[str, tuple[str, str]]: ...

    def conventions_par_structure(self) -> dict[str, list[tuple[str, date]]]: ...

    def find_evenement(self, convention_id: str, request_id: str) -> EvenementPoste | None: ...

    def record_evenements(
        self, convention_id: str, nouveaux: Sequence[NouvelEvenement],
        check: Callable[[tuple[EvenementPoste, ...]], None],
        versions: Sequence[VersionAEnregistrer] = (),
    ) -> list[EvenementPoste]: ...


class JobRepository(Protocol):
    """The catalog's jobs (``adapters.catalog.jobs``)."""

    def create_job(self, job: Job) -> tuple[Job, bool]: ...

    def job_started(self, job_id: str, *, actor: str, queue: str, args: dict[str, Any], now: datetime) -> None: ...

    def job_finished(self, job_id: str, *, status: JobStatus, now: datetime, result: dict[str, Any] | None = None,
                     error: dict[str, str] | None = None) -> None: ...

    def requeue_failed_job(self, job_id: str) -> bool: ...

    def find_job_by_key(self, idempotency_key: str) -> Job | None: ...

    def get_job(self, job_id: str) -> Job | None: ...

    def list_jobs(self, *, status: JobStatus | None = None, limit: int = 100) -> list[Job]: ...

    def count_jobs(self) -> dict[str, int]: ...


class ArchiveRepository(Protocol):
    """The catalog's signed copies and their archive (``adapters.catalog.archives``)."""

    def record_received(self, record: ArchiveRecord) -> ArchiveRecord: ...

    def record_archived(self, record_id: int, *, storage_key: str, version_id: str | None, retain_until: datetime,
                        certificat_key: str, certificat_sha256: str, archived_at: datetime) -> None: ...

    def get_archive(self, record_id: int) -> ArchiveRecord | None: ...

    def find_archives(self, *, sha256: str | None = None, convention_id: str | None = None,
                      version: int | None = None, certificat_sha256: str | None = None) -> list[ArchiveRecord]: ...

    def find_documents(self, *, sha256: str) -> list[tuple[str, int, str, str]]: ...

    def pieces_to_purge(self, *, kind: str, archived_before: datetime) -> list[tuple[int, str, str]]: ...

    def mark_piece_purged(self, piece_id: int, *, now: datetime) -> None: ...


class AccesRepository(Protocol):
    """The catalog's tokens, agents, audit and the départements' visibility (``adapters.catalog.acces``)."""

    def create_token(self, jeton: Jeton, *, digest: str) -> None: ...

    def token_by_digest(self, digest: str) -> Jeton | None: ...

    def get_token(self, token_id: str) -> Jeton | None: ...

    def revoke_token(self, token_id: str, *, now: datetime) -> bool: ...

    def list_tokens(self) -> list[Jeton]: ...

    def save_agent(self, email: str, jeton: Jeton) -> Jeton: ...

    def get_agent(self, email: str) -> Jeton | None: ...

    def agent_session(self, email: str) -> tuple[Jeton, str] | None: ...

    def rotate_agent_epoch(self, email: str, *, expected: str) -> bool: ...

    def remove_agent(self, email: str) -> bool: ...

    def list_agents(self) -> list[tuple[str, Jeton]]: ...

    def record_audit(self, entry: AuditEntry) -> None: ...

    def list_audit(self, *, limit: int = 100, token_id: str | None = None,
                   since: datetime | None = None) -> list[AuditEntry]: ...

    def convention_departement(self, convention_id: str) -> str | None: ...

    def dossier_departement(self, dossier_id: str) -> str | None: ...

    def departements(self) -> tuple[str, ...]: ...

    def search_conventions(
        self, *, departements: tuple[str, ...] = (), departement: str | None = None,
        statut: ConventionStatut | None = None, nature: str | None = None, vague: int | None = None,
        q: str | None = None, limit: int = 50, offset: int = 0,
    ) -> tuple[int, list[ConventionResume]]: ...

    def conventions_a_relancer(self, *, departements: tuple[str, ...] = (), avant: datetime,
                               limit: int = 10_000) -> list[ConventionResume]: ...


class ReemissionRepository(Protocol):
    """The catalog's re-issue plans (``adapters.catalog.reemissions``)."""

    def current_states(self) -> Iterator[tuple[str, str, str, int, str, EtatConvention | None]]: ...

    def figures_emises(self) -> dict[str, Figures | None]: ...

    def historiques_limites(self) -> Iterator[HistoriqueLimites]: ...

    def list_plans(self, *, limit: int = 50) -> list[Plan]: ...

    def conventions_changing(self, ids: Iterable[str]) -> set[str]: ...

    def record_plan(self, plan: Plan, impacts: Iterable[Impact], *, now: datetime) -> None: ...

    def get_plan(self, plan_id: str) -> Plan | None: ...

    def plan_items(self, plan_id: str, *, statuts: Iterable[str] | None = None) -> list[PlanItem]: ...

    def plan_item(self, plan_id: str, convention_id: str) -> PlanItem | None: ...

    def count_plan_items(self, plan_id: str) -> dict[str, int]: ...

    def plan_progress(self, plan_id: str, *, departements: tuple[str, ...] = ()) -> dict[str, int]: ...

    def plan_failures(self, plan_id: str, *, departements: tuple[str, ...] = (), limit: int = 500) -> list[PlanItem]: ...

    def set_plan_item(self, plan_id: str, convention_id: str, *, statut: str, now: datetime,
                      version_emise: int | None = None, job_id: str | None = None, message: str | None = None) -> None: ...

    def set_plan_jobs(self, plan_id: str, jobs: dict[str, str], *, now: datetime) -> None: ...


class RegistreRepository(Protocol):
    """The catalog's ledger and its anchors (``adapters.catalog.registre``)."""

    def registre_append(self, inscriptions: Sequence[Inscription], *, now: datetime) -> list[Entree]: ...

    def registre_head(self) -> Entree | None: ...

    def registre_entries(self, *, start: int = 1, stop: int | None = None, page: int = ...) -> Iterator[Entree]: ...

    def registre_find(self, sha256: str) -> list[Entree]: ...

    def registre_record_anchor(self, ancrage: Ancrage) -> Ancrage: ...

    def registre_anchors(self, *, page: int = 500) -> Iterator[Ancrage]: ...

    def registre_last_anchor(self) -> Ancrage | None: ...

    def registre_anchor_covering(self, sequence: int) -> Ancrage | None: ...


class DsRepository(Protocol):
    """The catalog's Démarches simplifiées connector's state (``adapters.catalog.ds``)."""

    def ds_synchro(self, demarche: int) -> DsSynchro: ...

    def ds_save_synchro(self, state: DsSynchro) -> None: ...

    def ds_dossier(self, demarche: int, number: int) -> DsDossier | None: ...

    def ds_dossiers(self, demarche: int, *, statut: str | None = None) -> list[DsDossier]: ...

    def ds_dossier_of(self, dossier_id: str) -> DsDossier | None: ...

    def ds_save_dossier(self, record: DsDossier) -> None: ...

    def ds_fichier_connu(self, cle: str) -> bool: ...

    def ds_record_fichier(self, *, cle: str, demarche: int, number: int, source: str, kind: str,
                          poste_id: str | None, filename: str, checksum: str, sha256: str, job_id: str | None,
                          now: datetime) -> None: ...

    def ds_claim_ecriture(self, *, cle: str, demarche: int, number: int, action: str, detail: dict[str, Any],
                          now: datetime) -> DsEcriture: ...

    def ds_ecriture_envoyee(self, cle: str, *, detail: dict[str, Any], now: datetime) -> None: ...

    def ds_ecritures(self, number: int | None = None) -> list[DsEcriture]: ...


class WebhookRepository(Protocol):
    """The catalog's webhooks and their deliveries (``adapters.catalog.webhooks``)."""

    def create_webhook(self, webhook: Webhook) -> None: ...

    def webhooks(self, *, token_id: str | None = None) -> list[Webhook]: ...

    def get_webhook(self, webhook_id: str) -> Webhook | None: ...

    def delete_webhook(self, webhook_id: str, *, now: datetime) -> bool: ...

    def record_livraison(self, *, webhook_id: str, event_id: str, type: str, payload: dict[str, Any],
                         now: datetime) -> bool: ...

    def livraisons(self, *, webhook_id: str | None = None, statut: str | None = None,
                   limit: int = 100) -> list[Livraison]: ...

    def livraison_tentee(self, livraison_id: int, *, statut: str, http: int | None, erreur: str | None,
                         now: datetime) -> None: ...


class Catalog(ConventionRepository, DossierRepository, DecisionRepository, ATraiterRepository, PaiementRepository,
              EvenementRepository, JobRepository, ArchiveRepository, AccesRepository, ReemissionRepository,
              RegistreRepository, DsRepository, WebhookRepository, Protocol):
    """Every repository: what ``dossiers.adapters.catalog.Catalog`` is."""

    def ping(self) -> None: ...

    def close(self) -> None: ...


# -- the composition root, as the services see it ----------------------------------------------

class AppPorts(Protocol):
    """What a use case may ask of the composition root (``dossiers.bootstrap.App``)."""

    @property
    def settings(self) -> Settings: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def rules(self) -> Rules: ...

    @property
    def policies(self) -> dict[PieceKind, KindPolicy]: ...

    @property
    def catalog(self) -> Catalog: ...

    @property
    def storage(self) -> Storage: ...

    @property
    def pieces_storage(self) -> Storage: ...

    @property
    def archive(self) -> Storage: ...

    @property
    def staging(self) -> Storage: ...

    @property
    def converter(self) -> Converter: ...

    @property
    def inspector(self) -> Inspector: ...

    @property
    def scanner(self) -> Scanner: ...

    @property
    def racines_confiance(self) -> tuple[Any, ...]: ...

    @property
    def pieces_requises(self) -> PiecesRequises: ...

    @property
    def dessins(self) -> Dessins: ...

    @property
    def horodatage(self) -> Horodatage: ...

    def ds(self) -> Ds:
        """A new client to Démarches simplifiées (``DS_API_URL``, ``DS_API_TOKEN``), closed by the caller."""
        ...

    def template(self, name: str) -> tuple[Template, TemplateDescription]: ...

    def pdf(self, docx: bytes, *, convention_id: str, version: int, docx_sha256: str, title: str) -> bytes: ...

    def sceller(self, pdf: bytes, *, signataires: bool = False) -> bytes: ...
