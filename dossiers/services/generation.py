"""Use case: generate the convention de subvention of a demande (version 1).

Validate the demande, compute the figures with the vague's rule set, render the DOCX, convert it
to PDF/A, store both (never overwriting), and record the version in the catalog. Generating the
same demande again returns the version already issued; a different demande for a structure that
already has its convention for that vague is refused (that is an avenant, not a new convention).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from dossiers.domain.changements import etat_initial
from dossiers.domain.context import convention_context
from dossiers.domain.demande import avertissements_demande, validate_demande
from dossiers.domain.echeancier import figures
from dossiers.domain.gestion import NOUVELLE_STRUCTURE, limiter
from dossiers.domain.model import Calcul, ConventionVersion, Demande, DocumentRef, convention_id_for
from dossiers.domain.registre import Inscription, Nature
from dossiers.domain.rules import RuleSet, calculer
from dossiers.domain.structures import verifier_espace
from dossiers.errors import ConventionConflict, ObjectExists
from dossiers.ports import AppPorts, Storage
from dossiers.services.registre import inscrire_tous

__all__ = ["Generated", "generate_convention", "demande_digest", "document_key", "export_documents", "store_documents",
           "store_once"]

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_TYPE = "application/pdf"


@dataclass(frozen=True)
class Generated:
    demande: Demande
    calcul: Calcul
    regles: RuleSet
    version: ConventionVersion
    created: bool  # False when the same demande had already been generated
    homonymes: tuple[str, ...] = ()  # a warning per other structure recorded with the same SIRET

    @property
    def warnings(self) -> list[str]:
        warnings = avertissements_demande(self.demande) + list(self.homonymes)
        if self.regles.non_source:
            warnings.append(
                f"le jeu de règles « {self.regles.id} » contient des montants sans source publique "
                "(marqués NON SOURCÉ dans config/rules) : à confirmer avant signature"
            )
        structure = self.demande.structure
        majoration = self.regles.majoration_outre_mer(structure.nature, structure.departement)
        if majoration is not None and majoration.non_source:
            warnings.append(f"majoration outre-mer du département {structure.departement} : {majoration.source}")
        types = self.regles.bareme(structure.nature).types_contrat
        hors = [p.id for p in self.demande.postes if p.contrat is not None and types and p.contrat.type not in types]
        if hors:
            warnings.append(
                f"le montant du jeu de règles « {self.regles.id} » est sourcé pour les contrats "
                f"{', '.join(t.value for t in types or ())} ; poste(s) {', '.join(hors)} sous un autre contrat "
                "(montant à confirmer)"
            )
        return warnings


def demande_digest(payload: dict[str, Any]) -> str:
    """SHA-256 of the demande's canonical JSON: key order and whitespace do not matter."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def canonical_json(payload: Any) -> dict[str, Any]:
    """A request as the catalog keeps it: a plain JSON copy with its keys sorted."""
    return json.loads(json.dumps(payload, sort_keys=True, ensure_ascii=False))  # type: ignore[no-any-return]


def document_key(convention_id: str, numero: int, demande_sha256: str, kind: str) -> str:
    """Where a version's document lives. The demande's digest is part of the key, so an attempt
    that crashed before reaching the catalog can only ever be reused for the very same demande."""
    return f"conventions/{convention_id}/v{numero}/{demande_sha256[:16]}/{convention_id}-v{numero}.{kind}"


def export_documents(storage: Storage, version: ConventionVersion, out: Path) -> dict[str, Path]:
    """Copy a version's documents to ``out`` (checksums verified on read); kind -> path."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for ref in version.documents:
        target = out / ref.key.rsplit("/", 1)[-1]
        partial = target.with_name(target.name + ".partiel")
        partial.write_bytes(storage.get(ref.key, sha256=ref.sha256))
        partial.replace(target)
        paths[ref.kind] = target.resolve()
    return paths


def generate_convention(payload: dict[str, Any], app: AppPorts, *, today: date, now: datetime) -> Generated:
    """``app`` is the bootstrap container (rules, templates, converter, storage, catalog)."""
    validated = validate_demande(payload)
    demande = validated.to_domain()
    canonical = validated.model_dump(mode="json")
    regles = app.rules.for_vague(demande.vague)
    calcul = calculer(demande, regles)
    convention_id = convention_id_for(demande.structure.id, demande.vague)
    digest = demande_digest(canonical)

    existing = app.catalog.find_version(convention_id, 1)
    if existing is not None:
        if existing.demande_sha256 != digest:
            raise ConventionConflict(
                f"la convention {convention_id} existe déjà avec une autre demande : "
                "une modification passe par un avenant"
            )
        return Generated(demande, calcul, regles, existing, created=False, homonymes=_homonymes(app, demande))
    if app.catalog.get_structure(demande.structure.id) is None:  # a new id: not in another département's namespace
        verifier_espace(demande.structure)
    if not app.catalog.structure_connue(demande.structure.id, demande.structure.siret):  # May 2025 limits
        limiter(app.rules.gestions(), NOUVELLE_STRUCTURE, demande.date_debut, demande.derogation)

    template, info = app.template("convention")

    def render() -> bytes:
        context = convention_context(
            demande, calcul, regles,
            convention_id=convention_id, version=1, modele_version=info.version, date_edition=today,
        )
        return template.render(context)

    documents = store_documents(app, render, convention_id, 1, digest,
                                f"Convention de subvention {convention_id} — version 1", now=now)
    etat = etat_initial(convention_id, demande, regles)

    version = ConventionVersion(
        convention_id=convention_id,
        numero=1,
        motif="convention initiale",
        regles=regles.id,
        modele_version=info.version,
        modele_sha256=template.sha256,
        demande_sha256=digest,
        montant_total=calcul.total,
        echeancier=calcul.echeancier,
        created_at=now,
        documents=documents,
        etat=etat,
        figures=figures(etat, regles),
    )
    recorded = app.catalog.record_version(
        structure=demande.structure,
        convention_id=convention_id,
        vague=demande.vague,
        date_debut=demande.date_debut,
        version=version,
        demande_json=canonical,
    )
    return Generated(demande, calcul, regles, recorded, created=True, homonymes=_homonymes(app, demande))


def _homonymes(app: AppPorts, demande: Demande) -> tuple[str, ...]:
    from dossiers.services.situation import avertissements_homonymes

    return tuple(avertissements_homonymes(app, demande.structure.id, demande.structure.siret))


def store_documents(app: AppPorts, render: Callable[[], bytes], convention_id: str, numero: int, digest: str,
                    title: str, *, now: datetime) -> tuple[DocumentRef, DocumentRef]:
    """Render a version's DOCX and convert it to PDF/A, each stored once under its key (``store_once``), and
    inscribe both in the archive ledger (before the catalog records the version: a retry after a crash
    in between inscribes nothing twice)."""
    docx_ref, docx = store_once(app.storage, document_key(convention_id, numero, digest, "docx"), render, DOCX_TYPE)
    pdf_ref, _ = store_once(
        app.storage, document_key(convention_id, numero, digest, "pdf"),
        lambda: app.pdf(docx, convention_id=convention_id, version=numero, docx_sha256=docx_ref.sha256, title=title),
        PDF_TYPE,
    )
    inscrire_tous(app, [Inscription(Nature.DOCUMENT, r.key, r.sha256) for r in (docx_ref, pdf_ref)], now=now)
    return docx_ref, pdf_ref


def store_once(storage: Storage, key: str, make: Callable[[], bytes], content_type: str) -> tuple[DocumentRef, bytes]:
    """Store what ``make`` produces under ``key`` unless an earlier attempt already did.

    An object already under the key belongs to an attempt that stored it and then crashed (or to a
    concurrent worker): it is reused as is, so a retry converges on the first attempt's documents
    and never overwrites or duplicates one.
    """
    if storage.exists(key):
        data = storage.get(key)
        stored = storage.head(key)
    else:
        data = make()
        try:
            stored = storage.put(key, data, content_type=content_type)
        except ObjectExists:
            data = storage.get(key)
            stored = storage.head(key)
    kind = key.rsplit(".", 1)[-1]
    return DocumentRef(kind, stored.key, stored.sha256, stored.size, stored.content_type), data
