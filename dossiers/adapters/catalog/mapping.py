"""Rows <-> domain values. The domain types (dossiers.domain.model) are what the catalog returns."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any

from dossiers.adapters.catalog.coltypes import format_amount, parse_amount
from dossiers.adapters.catalog.tables import ConventionRow, DocumentRow, StructureRow, VersionRow
from dossiers.domain.etat_codec import etat_from_json, etat_to_json, figures_from_json, figures_to_json
from dossiers.domain.acces import search_key
from dossiers.domain.model import (
    Convention,
    ConventionVersion,
    DocumentRef,
    Nature,
    Representant,
    Structure,
    Tranche,
)

__all__ = [
    "structure_values",
    "structure_from_row",
    "normalize_version",
    "version_row",
    "document_rows",
    "version_from_row",
    "convention_from_row",
    "echeancier_to_json",
    "echeancier_from_json",
]


def structure_values(structure: Structure, *, now: datetime) -> dict[str, Any]:
    r = structure.representant
    return {
        "id": structure.id,
        "siret": structure.siret,
        "denomination": structure.denomination,
        "nature": str(Nature(structure.nature)),
        "categorie_juridique": structure.categorie_juridique,
        "departement": structure.departement,
        "adresse": structure.adresse,
        "zone_prioritaire": bool(structure.zone_prioritaire),
        "representant": {"civilite": r.civilite, "prenom": r.prenom, "nom": r.nom, "qualite": r.qualite},
        "updated_at": now,
        "recherche": search_key(structure.denomination),
    }


def structure_from_row(row: StructureRow) -> Structure:
    r = row.representant
    return Structure(
        id=row.id,
        siret=row.siret,
        denomination=row.denomination,
        nature=Nature(row.nature),
        categorie_juridique=row.categorie_juridique,
        departement=row.departement,
        adresse=row.adresse,
        zone_prioritaire=row.zone_prioritaire,
        representant=Representant(
            civilite=r["civilite"], prenom=r["prenom"], nom=r["nom"], qualite=r["qualite"]
        ),
    )


def echeancier_to_json(echeancier: tuple[Tranche, ...]) -> list[dict[str, Any]]:
    return [
        {"numero": t.numero, "annee": t.annee, "date": t.date.isoformat(), "montant": format_amount(t.montant)}
        for t in echeancier
    ]


def echeancier_from_json(items: list[dict[str, Any]]) -> tuple[Tranche, ...]:
    return tuple(
        Tranche(
            numero=int(item["numero"]),
            annee=int(item["annee"]),
            date=date.fromisoformat(item["date"]),
            montant=parse_amount(item["montant"]),
        )
        for item in items
    )


def normalize_version(version: ConventionVersion) -> ConventionVersion:
    """The version as the catalog will give it back: amounts to the cent, instants in UTC.

    Raises ``ValueError`` on what the catalog cannot store exactly (naive instant, amount not
    exact to the cent, numero below 1).
    """
    created = version.created_at
    if created.tzinfo is None or created.utcoffset() is None:
        raise ValueError(f"created_at sans fuseau horaire : {created.isoformat()}")
    if version.numero < 1:
        raise ValueError(f"numéro de version invalide : {version.numero}")
    return dataclasses.replace(
        version,
        montant_total=parse_amount(format_amount(version.montant_total)),
        echeancier=echeancier_from_json(echeancier_to_json(version.echeancier)),
        created_at=created.astimezone(UTC),
        documents=tuple(version.documents),
        etat=etat_from_json(etat_to_json(version.etat)) if version.etat is not None else None,
        figures=figures_from_json(figures_to_json(version.figures)) if version.figures is not None else None,
    )


def version_row(version: ConventionVersion, demande_json: dict[str, Any]) -> VersionRow:
    return VersionRow(
        convention_id=version.convention_id,
        numero=version.numero,
        motif=version.motif,
        regles=version.regles,
        modele_version=version.modele_version,
        modele_sha256=version.modele_sha256,
        demande_sha256=version.demande_sha256,
        demande=demande_json,
        montant_total=version.montant_total,
        echeancier=echeancier_to_json(version.echeancier),
        created_at=version.created_at,
        request_id=version.request_id,
        document_type=version.document_type,
        changement=version.changement,
        etat=etat_to_json(version.etat) if version.etat is not None else None,
        figures=figures_to_json(version.figures) if version.figures is not None else None,
    )


def document_rows(version: ConventionVersion, *, now: datetime) -> list[DocumentRow]:
    return [
        DocumentRow(
            convention_id=version.convention_id,
            version=version.numero,
            kind=doc.kind,
            storage_key=doc.key,
            sha256=doc.sha256,
            size=doc.size,
            content_type=doc.content_type,
            created_at=now,
        )
        for doc in version.documents
    ]


def version_from_row(row: VersionRow) -> ConventionVersion:
    return ConventionVersion(
        convention_id=row.convention_id,
        numero=row.numero,
        motif=row.motif,
        regles=row.regles,
        modele_version=row.modele_version,
        modele_sha256=row.modele_sha256,
        demande_sha256=row.demande_sha256,
        montant_total=row.montant_total,
        echeancier=echeancier_from_json(row.echeancier),
        created_at=row.created_at,
        documents=tuple(
            DocumentRef(
                kind=d.kind, key=d.storage_key, sha256=d.sha256, size=d.size, content_type=d.content_type
            )
            for d in row.documents
        ),
        request_id=row.request_id,
        document_type=row.document_type,
        changement=row.changement,
        etat=etat_from_json(row.etat) if row.etat is not None else None,
        figures=figures_from_json(row.figures) if row.figures is not None else None,
    )


def convention_from_row(row: ConventionRow, *, renouvelee_par: str | None = None) -> Convention:
    return Convention(
        id=row.id,
        structure_id=row.structure_id,
        vague=row.vague,
        date_debut=row.date_debut,
        versions=tuple(version_from_row(v) for v in row.versions),
        renouvelle=row.renouvelle,
        renouvelee_par=renouvelee_par,
    )
