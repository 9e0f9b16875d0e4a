"""Pieces of a dossier: their kinds, the facts inspection extracts from a file, and check results.

The inspection adapter (``dossiers.adapters.inspection``) turns bytes into ``FileFacts``; the pure
checks (``dossiers.domain.checks``) turn ``FileFacts`` and a ``Contexte`` into a ``PieceResult``.
Nothing here reads a file or the clock.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from dossiers.domain.findings import Finding, Statut, statut_of

__all__ = [
    "PieceKind", "MIME_PDF", "MIME_JPEG", "MIME_PNG", "KindPolicy", "DEFAULT_POLICIES",
    "Signature", "SignatureVerifiee", "PdfFacts", "ImageFacts", "Probleme", "FileFacts", "Contexte", "PieceResult", "safe_filename",
    "VerificationSignatures",
]

MIME_PDF = "application/pdf"
MIME_JPEG = "image/jpeg"
MIME_PNG = "image/png"
MB = 1_000_000


class PieceKind(StrEnum):
    IDENTITE = "identite"  # pièce d'identité du représentant légal (CNI recto-verso ou passeport)
    SIRENE = "sirene"  # avis de situation au répertoire Sirene de moins de 3 mois
    CONTRAT = "contrat"  # contrat de travail d'un conseiller, en cours de validité
    RIB = "rib"  # relevé d'identité bancaire de la structure
    DESIGNATION = "designation"  # acte désignant le représentant légal (délibération, PV…)
    BUREAU = "bureau"  # composition du bureau (structures privées)
    STATUTS = "statuts"
    PV_AG = "pv_ag"  # procès-verbal de la dernière assemblée générale
    COMPTES = "comptes"  # comptes certifiés du dernier exercice

    @property
    def checked(self) -> bool:
        """Whether a check reads the content (the others are checked as files, then read by a human)."""
        return self in _CHECKED


_CHECKED = frozenset({PieceKind.IDENTITE, PieceKind.SIRENE, PieceKind.CONTRAT, PieceKind.RIB})


@dataclass(frozen=True)
class KindPolicy:
    """What a kind accepts: content types (sniffed), size and page limits."""

    mimes: frozenset[str]
    max_bytes: int
    max_pages: int


_DOCS = frozenset({MIME_PDF})
_DOCS_OR_IMAGES = frozenset({MIME_PDF, MIME_JPEG, MIME_PNG})

DEFAULT_POLICIES: dict[PieceKind, KindPolicy] = {
    PieceKind.IDENTITE: KindPolicy(_DOCS_OR_IMAGES, 20 * MB, 2),
    PieceKind.SIRENE: KindPolicy(_DOCS, 5 * MB, 3),
    PieceKind.CONTRAT: KindPolicy(_DOCS, 20 * MB, 40),
    PieceKind.RIB: KindPolicy(_DOCS_OR_IMAGES, 10 * MB, 2),
    PieceKind.DESIGNATION: KindPolicy(_DOCS, 20 * MB, 40),
    PieceKind.BUREAU: KindPolicy(_DOCS, 20 * MB, 20),
    PieceKind.STATUTS: KindPolicy(_DOCS, 20 * MB, 80),
    PieceKind.PV_AG: KindPolicy(_DOCS, 20 * MB, 80),
    PieceKind.COMPTES: KindPolicy(_DOCS, 30 * MB, 200),
}


@dataclass(frozen=True)
class Signature:
    """A signature field of a PDF. ``signed``: it holds a signature value (/V with /ByteRange)."""

    field_name: str
    signed: bool
    signer: str | None = None  # /Name of the signature dictionary, if any
    signing_time: str | None = None  # /M as written in the PDF (D:YYYYMMDDHHmmSS...)


@dataclass(frozen=True)
class SignatureVerifiee:
    """What the cryptographic validation of one embedded signature found (``adapters.inspection.signatures``).

    ``modifications``: what later revisions changed, by pyHanko's difference analysis (``aucune``,
    ``horodatage``, ``remplissage`` (form filling, later signatures), ``annotations``, ``autres``);
    ``chaine_hors_validite``: for a signature not approved only because of its certificate's dates,
    whether its chain reaches a trusted root within them (None when not asked)."""

    champ: str
    integre: bool
    approuvee: bool
    certification: bool = False
    signataire: str | None = None
    organisation: str | None = None
    emetteur: str | None = None
    numero_serie: str | None = None
    valide_du: str | None = None
    valide_au: str | None = None
    date: str | None = None
    horodatage: str | None = None
    couverture: str | None = None
    modifications: str | None = None
    docmdp_ok: bool | None = None
    chaine_hors_validite: bool | None = None
    erreur: str | None = None


@dataclass(frozen=True)
class PdfFacts:
    pages: int
    text: str  # text layer of the first pages, at most ``text_limit`` characters
    text_truncated: bool = False
    title: str | None = None
    author: str | None = None
    producer: str | None = None
    # the identification conum stamps on the PDFs it issues (Info /ConumConventionId, /ConumVersion…)
    conum_convention_id: str | None = None
    conum_version: str | None = None
    conum_docx_sha256: str | None = None
    active_content: tuple[str, ...] = ()  # "javascript", "launch", "fichier_joint", "formulaire_xfa"...
    signatures: tuple[Signature, ...] = ()
    # the cryptographic validation of the signed fields; None when it was not asked for (or none is signed)
    verifications: tuple[SignatureVerifiee, ...] | None = None
    pages_images: int | None = None  # of the pages read, those that draw an image (a scan); None: not read

    @property
    def has_text(self) -> bool:
        return len("".join(self.text.split())) >= 20


@dataclass(frozen=True)
class ImageFacts:
    format: str  # "JPEG" | "PNG"
    width: int
    height: int


class Probleme(StrEnum):
    """Why inspection stopped before the facts were complete."""

    CORROMPU = "corrompu"  # the parser refused the file
    CHIFFRE = "chiffre"  # encrypted PDF (a password, or any /Encrypt)
    INTERROMPU = "interrompu"  # time or memory limit hit
    TROP_GROS = "trop_gros"  # not parsed: over the kind's size limit


@dataclass(frozen=True)
class FileFacts:
    """What the bytes of an uploaded file say. ``mime`` is sniffed from content, never from a name."""

    size: int
    sha256: str
    mime: str
    declared_name: str | None = None
    pdf: PdfFacts | None = None
    image: ImageFacts | None = None
    probleme: Probleme | None = None
    detail: str | None = None  # a French explanation of ``probleme`` (no stack trace)
    also_looks_like: tuple[str, ...] = ()  # other formats (MIME) found inside the bytes: a polyglot


@dataclass(frozen=True)
class Contexte:
    """What the dossier says, to compare the piece with. ``today`` is the validation date."""

    today: date
    siret: str | None = None
    nature: str | None = None  # "publique" | "privee"
    denomination: str | None = None
    representant: str | None = None  # "Prénom Nom"
    conseiller: str | None = None  # "Prénom Nom" of the conseiller (contrat)
    mrz: str | None = None  # zone given with the piece (read by a person or an upstream OCR)


@dataclass(frozen=True)
class PieceResult:
    kind: PieceKind
    mime: str
    sha256: str
    size: int
    findings: tuple[Finding, ...] = ()
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def statut(self) -> Statut:
        return statut_of(self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": str(self.statut), "kind": str(self.kind), "mime": self.mime, "sha256": self.sha256,
            "size": self.size, "findings": [f.to_dict() for f in self.findings], "fields": self.fields,
        }


def safe_filename(filename: str | None) -> str | None:
    """The name as sent, for display only (never used as a path), trimmed to what the catalog holds."""
    if not filename:
        return None
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())
    return name[:255] or None


@dataclass(frozen=True)
class VerificationSignatures:
    """Ask for the signatures' validation: the trust anchors (asn1crypto certificates, sent to the child
    as DER) and the instant used for a signature that states no time."""

    racines: tuple[Any, ...]
    maintenant: datetime

    def params(self) -> dict[str, Any]:
        return {"racines": [base64.b64encode(c.dump()).decode("ascii") for c in self.racines],
                "maintenant": self.maintenant.isoformat()}
