"""Wire the adapters once from settings; connect late.

``App`` builds each adapter the first time a use case needs it (so ``conum generate`` on an
already generated demande never starts LibreOffice) and closes what it opened. Tests pass their
own adapters (a MemoryStorage, a catalog on a temp database, a converter pool they share).
"""

from __future__ import annotations

import tomllib
from typing import Any

from dossiers.adapters.docx import PreparedTemplate, TemplateCache, TemplateInfo, load_manifest
from dossiers.adapters.rules import RulesRepository
from dossiers.domain.dossier import PiecesRequises
from dossiers.errors import ConumError, ErrorCode, TemplateError
from dossiers.settings import Settings

__all__ = ["App"]


class App:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        catalog: Any = None,
        storage: Any = None,
        converter: Any = None,
        inspector: Any = None,
        scanner: Any = None,
    ) -> None:
        self.settings = settings or Settings.from_env()
        self.rules = RulesRepository(self.settings.rules_dir)
        self._templates = TemplateCache()
        self._manifest: dict[str, TemplateInfo] | None = None
        self._catalog, self._owns_catalog = catalog, catalog is None
        self._storage = storage
        self._pieces_storage: Any = None
        self._archive: Any = None
        self._staging: Any = None
        self._s3: Any = None
        self._converter, self._owns_converter = converter, converter is None
        self._inspector, self._owns_inspector = inspector, inspector is None
        self._scanner = scanner
        self.policies = self.settings.policies()
        self._requises: PiecesRequises | None = None

    # -- adapters, built on first use --------------------------------------------------------
    @property
    def catalog(self) -> Any:
        if self._catalog is None:
            from dossiers.adapters.catalog import Catalog

            self._catalog = Catalog.open(self.settings.effective_database_url)
        return self._catalog

    @property
    def storage(self) -> Any:
        """Generated documents and request bodies (S3_BUCKET_DOCUMENTS on S3, else STORAGE_DIR)."""
        if self._storage is None:
            from dossiers.adapters.storage import LocalStorage

            s = self.settings
            self._storage = self._s3_store(s.s3_bucket_documents) if s.s3_endpoint_url else LocalStorage(
                s.effective_storage_dir)
        return self._storage

    def _s3_store(self, bucket: str, *, lock: bool = False) -> Any:
        from dossiers.adapters.storage import S3Storage, build_s3_client, ensure_bucket

        if self._s3 is None:
            self._s3 = build_s3_client(self.settings)
        ensure_bucket(self._s3, bucket, object_lock=lock,
                      retention_days=self.settings.archive_retention_days if lock else None)
        return S3Storage(self._s3, bucket, lock_retention=lock)

    @property
    def pieces_storage(self) -> Any:
        """Where dossier pieces go (S3_BUCKET_PIECES on S3; the documents store otherwise)."""
        if self._pieces_storage is None:
            s = self.settings
            self._pieces_storage = self._s3_store(s.s3_bucket_pieces) if s.s3_endpoint_url else self.storage
        return self._pieces_storage

    @property
    def archive(self) -> Any:
        """Signed copies and their certificates: object lock (COMPLIANCE) on S3, retention enforced locally."""
        if self._archive is None:
            from dossiers.adapters.storage import LocalStorage

            s = self.settings
            self._archive = (self._s3_store(s.s3_bucket_archive, lock=True) if s.s3_endpoint_url
                             else LocalStorage(s.effective_archive_dir))
        return self._archive

    @property
    def staging(self) -> Any:
        """Signed copies between their upload and their confirmed archive write (deleted after)."""
        if self._staging is None:
            from dossiers.adapters.storage import LocalStorage

            s = self.settings
            if s.s3_endpoint_url:
                from dossiers.adapters.storage import PrefixedStorage

                self._staging = PrefixedStorage(self._s3_store(s.s3_bucket_documents), "staging/")
            else:
                self._staging = LocalStorage(s.effective_staging_dir)
        return self._staging

    @property
    def converter(self) -> Any:
        if self._converter is None:
            from dossiers.adapters.pdf import build_converter

            self._converter = build_converter(self.settings)
        return self._converter

    @property
    def inspector(self) -> Any:
        """Child processes that parse untrusted files under time and memory limits."""
        if self._inspector is None:
            from dossiers.adapters.inspection import Inspector

            s = self.settings
            # text of up to 60 pages: a signed convention is compared with the issued one page by page
            self._inspector = Inspector(
                workers=s.inspection_workers, timeout=s.inspection_timeout, memory_mb=s.inspection_memory_mb,
                max_pages_text=60,
            )
        return self._inspector

    @property
    def scanner(self) -> Any:
        """clamd when ``CLAMD_ADDRESS`` is set, else a scanner that reports files as not scanned."""
        if self._scanner is None:
            from dossiers.adapters.antivirus import build_scanner

            self._scanner = build_scanner(self.settings.clamd_address, timeout=self.settings.clamd_timeout)
        return self._scanner

    @property
    def pieces_requises(self) -> PiecesRequises:
        if self._requises is None:
            try:
                with open(self.settings.pieces_file, "rb") as f:
                    self._requises = PiecesRequises.from_mapping(tomllib.load(f))
            except (OSError, tomllib.TOMLDecodeError, KeyError, ValueError) as exc:
                raise ConumError(f"liste des pièces exigées illisible ({self.settings.pieces_file}) : {exc}") from exc
        return self._requises

    def template(self, name: str) -> tuple[PreparedTemplate, TemplateInfo]:
        if self._manifest is None:
            self._manifest = load_manifest(self.settings.templates_dir)
        try:
            info = self._manifest[name]
        except KeyError:
            raise TemplateError(f"modèle « {name} » absent du manifeste", code=ErrorCode.MODELE_INTROUVABLE) from None
        return self._templates.get(self.settings.templates_dir / info.fichier), info

    def pdf(self, docx: bytes, *, convention_id: str, version: int, docx_sha256: str, title: str) -> bytes:
        """PDF/A-2b of a DOCX, stamped with the convention id, version and the DOCX's SHA-256."""
        from dossiers.adapters.pdf import stamp_pdf

        pdf = self.converter.convert(docx)
        return stamp_pdf(pdf, convention_id=convention_id, version=version, docx_sha256=docx_sha256, title=title)

    def close(self) -> None:
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
