"""Wire the adapters once from settings; connect late.

``App`` builds each adapter the first time a use case needs it (so ``conum generate`` on an
already generated demande never starts LibreOffice) and closes what it opened. Tests pass their
own adapters (a MemoryStorage, a catalog on a temp database, a converter pool they share).
"""

from __future__ import annotations

import threading
import tomllib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from dossiers.adapters.docx import PreparedTemplate, TemplateCache, TemplateInfo, load_manifest
from dossiers.adapters.rules import RulesRepository
from dossiers.clock import Clock
from dossiers.domain.dossier import PiecesRequises
from dossiers.errors import ConumError, ErrorCode, TemplateError
from dossiers.ports import Catalog, Converter, Dessins, Ds, Horodatage, Inspector, Scanner, Storage
from dossiers.settings import Settings

if TYPE_CHECKING:
    from dossiers.adapters.signature.sceau import Sceau

_T = TypeVar("_T")

__all__ = ["App"]


class App:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        catalog: Catalog | None = None,
        storage: Storage | None = None,
        converter: Converter | None = None,
        inspector: Inspector | None = None,
        scanner: Scanner | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings or Settings.from_env()
        # The one clock: services get ``now``/``today`` from their caller, who reads it here.
        self.clock = clock or Clock()
        self.rules = RulesRepository(self.settings.rules_dir)
        self._templates = TemplateCache()
        self._manifest: dict[str, TemplateInfo] | None = None
        self._catalog, self._owns_catalog = catalog, catalog is None
        self._storage = storage
        self._pieces_storage: Storage | None = None
        self._archive: Storage | None = None
        self._staging: Storage | None = None
        self._s3: Any = None  # boto3's S3 client (untyped)
        self._converter, self._owns_converter = converter, converter is None
        self._inspector, self._owns_inspector = inspector, inspector is None
        self._scanner = scanner
        self.policies = self.settings.policies()
        self._requises: PiecesRequises | None = None
        self._racines: tuple[Any, ...] | None = None
        self._dessins: Dessins | None = None
        self._horodatage: Horodatage | None = None
        self._sceau: Sceau | Literal[False] | None = None  # the seal (adapters.signature.sceau.Sceau), or False when no key is configured
        if self.settings.seal_pkcs12 is not None or self.settings.seal_pkcs11_module is not None:
            from dossiers.adapters.signature.sceau import verifier_configuration

            verifier_configuration(self.settings)  # two keys named: refused now, not at the first document
        self._lock = threading.RLock()  # reentrant: an adapter may be built from another

    # -- adapters, built on first use --------------------------------------------------------
    def _once(self, attr: str, build: Callable[[], _T]) -> _T:
        """The adapter in ``attr``, built by the first thread that asks (a worker's threads share one
        App: two catalogs migrating at once, or two converter pools, must never happen)."""
        value = getattr(self, attr)
        if value is None:
            with self._lock:
                value = getattr(self, attr)
                if value is None:
                    value = build()
                    setattr(self, attr, value)
        return cast(_T, value)

    @property
    def catalog(self) -> Catalog:
        from dossiers.adapters.catalog import Catalog

        return self._once("_catalog", lambda: Catalog.open(self.settings.effective_database_url,
                                                               clock=self.clock))

    @property
    def storage(self) -> Storage:
        """Generated documents and request bodies (S3_BUCKET_DOCUMENTS on S3, else STORAGE_DIR)."""
        from dossiers.adapters.storage import LocalStorage

        s = self.settings
        return self._once("_storage", lambda: self._s3_store(s.s3_bucket_documents) if s.s3_endpoint_url
                          else LocalStorage(s.effective_storage_dir, clock=self.clock.now))

    def _s3_store(self, bucket: str, *, lock: bool = False) -> Storage:
        from dossiers.adapters.storage import S3Storage, build_s3_client, ensure_bucket

        client = self._once("_s3", lambda: build_s3_client(self.settings))
        ensure_bucket(client, bucket, object_lock=lock,
                      retention_days=self.settings.archive_retention_days if lock else None)
        return S3Storage(client, bucket, lock_retention=lock, clock=self.clock.now)

    @property
    def pieces_storage(self) -> Storage:
        """Where dossier pieces go (S3_BUCKET_PIECES on S3; the documents store otherwise)."""
        s = self.settings
        return self._once("_pieces_storage", lambda: self._s3_store(s.s3_bucket_pieces) if s.s3_endpoint_url
                          else self.storage)

    @property
    def archive(self) -> Storage:
        """Signed copies and their certificates: object lock (COMPLIANCE) on S3, retention enforced locally."""
        from dossiers.adapters.storage import LocalStorage

        s = self.settings
        return self._once("_archive", lambda: self._s3_store(s.s3_bucket_archive, lock=True) if s.s3_endpoint_url
                          else LocalStorage(s.effective_archive_dir, clock=self.clock.now))

    @property
    def staging(self) -> Storage:
        """Signed copies between their upload and their confirmed archive write (deleted after)."""
        from dossiers.adapters.storage import LocalStorage, PrefixedStorage

        s = self.settings
        return self._once("_staging", lambda: PrefixedStorage(self._s3_store(s.s3_bucket_documents), "staging/")
                          if s.s3_endpoint_url else LocalStorage(s.effective_staging_dir, clock=self.clock.now))

    @property
    def converter(self) -> Converter:
        from dossiers.adapters.libreoffice import build_converter

        return self._once("_converter", lambda: build_converter(self.settings))

    @property
    def racines_confiance(self) -> tuple[Any, ...]:
        """The anchors a signature must chain to: every certificate of ``SIGNATURE_TRUST_ROOTS``, and conum's
        own seal certificate with its issuers (``SEAL_CHAIN``): a copy keeps the seal, which must validate too."""
        from dossiers.adapters.signature.confiance import charger_certificats, racines

        s = self.settings
        return self._once("_racines", lambda: tuple(
            racines(s.signature_trust_roots) + (charger_certificats(s.seal_chain) if s.seal_chain else [])
            + ([self.sceau.signer.signing_cert] if self.sceau is not None else [])))

    @property
    def inspector(self) -> Inspector:
        """Child processes that parse untrusted files under time and memory limits (text of up to 60
        pages: a signed convention is compared with the issued one page by page)."""
        from dossiers.adapters.inspection import Inspector

        s = self.settings
        return self._once("_inspector", lambda: Inspector(
            workers=s.inspection_workers, timeout=s.inspection_timeout, memory_mb=s.inspection_memory_mb,
            max_pages_text=60))

    @property
    def scanner(self) -> Scanner:
        """clamd when ``CLAMD_ADDRESS`` is set, else a scanner that reports files as not scanned."""
        from dossiers.adapters.antivirus import build_scanner

        s = self.settings
        return self._once("_scanner", lambda: build_scanner(s.clamd_address, timeout=s.clamd_timeout))

    @property
    def dessins(self) -> Dessins:
        """The rapport de contrôle and the certificat d'archivage (reportlab)."""
        from dossiers.adapters.pdf.dessins import Dessins

        return self._once("_dessins", Dessins)

    @property
    def horodatage(self) -> Horodatage:
        """The TSA (``TSA_URL``) and the check of its tokens against ``SIGNATURE_TRUST_ROOTS``."""
        from dossiers.adapters.signature.confiance import racines
        from dossiers.adapters.signature.horodatage import Tsa

        s = self.settings
        return self._once("_horodatage", lambda: Tsa(s.tsa_url, s.tsa_timeout,
                                                     lambda: racines(s.signature_trust_roots)))

    def ds(self) -> Ds:
        """A new client to Démarches simplifiées (``DS_API_URL``, ``DS_API_TOKEN``), closed by the caller;
        ``DsError`` without a token."""
        from dossiers.adapters.ds import DsClient

        return DsClient(self.settings.ds_api_url, self.settings.ds_api_token or "")

    @property
    def pieces_requises(self) -> PiecesRequises:
        return self._once("_requises", self._load_requises)

    def _load_requises(self) -> PiecesRequises:
        try:
            with open(self.settings.pieces_file, "rb") as f:
                return PiecesRequises.from_mapping(tomllib.load(f))
        except (OSError, tomllib.TOMLDecodeError, KeyError, ValueError) as exc:
            raise ConumError(f"liste des pièces exigées illisible ({self.settings.pieces_file}) : {exc}",
                             code=ErrorCode.CONFIGURATION_INVALIDE) from exc

    def template(self, name: str) -> tuple[PreparedTemplate, TemplateInfo]:
        manifest = self._once("_manifest", lambda: load_manifest(self.settings.templates_dir))
        try:
            info = manifest[name]
        except KeyError:
            raise TemplateError(f"modèle « {name} » absent du manifeste", code=ErrorCode.MODELE_ABSENT) from None
        return self._templates.get(self.settings.templates_dir / info.fichier), info

    def pdf(self, docx: bytes, *, convention_id: str, version: int, docx_sha256: str, title: str) -> bytes:
        """PDF/A-2b of a DOCX, stamped with the convention id, version and the DOCX's SHA-256."""
        from dossiers.adapters.pdf import stamp_pdf

        pdf = self.converter.convert(docx)
        stamped = stamp_pdf(pdf, convention_id=convention_id, version=version, docx_sha256=docx_sha256, title=title)
        return self.sceller(stamped, signataires=True)

    @property
    def sceau(self) -> Sceau | None:
        """The service's seal (SEAL_PKCS12 or SEAL_PKCS11_*), loaded on first use; None when no key is set."""
        sceau = self._once("_sceau", self._build_sceau)
        return sceau or None

    def _build_sceau(self) -> Sceau | Literal[False]:
        from dossiers.adapters.signature.sceau import build_sceau

        return build_sceau(self.settings, now=self.clock.now()) or False

    def sceller(self, pdf: bytes, *, signataires: bool = False) -> bytes:
        """``pdf`` sealed and timestamped (PAdES certification signature; with ``signataires``, the empty
        fields where the structure and the CDC sign); unchanged when no seal key is configured."""
        sceau = self.sceau
        return pdf if sceau is None else sceau.sceller(pdf, signataires=signataires)

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._sceau:
            self._sceau.close()
            self._sceau = None
        if self._inspector is not None and self._owns_inspector:
            self._inspector.close()
            self._inspector = None
        if self._converter is not None and self._owns_converter:
            self._converter.close()
            self._converter = None
        if self._catalog is not None and self._owns_catalog:
            self._catalog.close()
            self._catalog = None

    def __enter__(self) -> App:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if TYPE_CHECKING:  # mypy proves here that the composition root and the catalog fit the ports
    from dossiers.adapters.catalog import Catalog as SqlCatalog
    from dossiers.ports import AppPorts

    def _fits(app: App, catalog: SqlCatalog) -> tuple[AppPorts, Catalog]:
        return app, catalog
