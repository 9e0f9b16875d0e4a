"""The catalog's structures, conventions, their versions and documents (a mixin of ``Catalog``).

Recording a version is idempotent and safe under concurrency: a version is identified by
(convention, numero); recording it again with the same demande (same ``demande_sha256``) returns
what is stored, with another demande raises ``ConventionConflict``. Two processes recording the
same version at once end with one row: on SQLite the second waits for the write lock and then
finds the row; on PostgreSQL it hits the primary key, rolls back and reads the winner's row.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dossiers.adapters.catalog.base import CatalogBase, champs_figes, describe
from dossiers.adapters.catalog.mapping import (
    convention_from_row,
    document_rows,
    normalize_version,
    structure_from_row,
    version_from_row,
    version_row,
)
from dossiers.adapters.catalog.tables import ConventionRow, StructureRow, VersionRow
from dossiers.domain.model import Convention, ConventionVersion, Structure
from dossiers.domain.structures import cle_qualifiee, reference
from dossiers.errors import CatalogError, ConventionConflict, ErrorCode

__all__ = ["ConventionCatalog", "MAX_PAGE"]

MAX_PAGE = 1000


class ConventionCatalog(CatalogBase):
    """Methods ``Catalog`` gets for structures, conventions and versions."""

    # -- structures -------------------------------------------------------------------------

    def upsert_structure(self, structure: Structure) -> None:
        """Create or update a structure; raises ``StructureFigee`` when it has a convention and its facts
        would change (that is an avenant, or ``corriger_structure``)."""
        with self._translate(f"l'enregistrement de la structure {structure.id}"):
            with Session(self._writer) as session, session.begin():
                self._upsert_structure(session, structure, self._clock.now())

    def get_structure(self, structure_id: str) -> Structure | None:
        with self._read(f"la lecture de la structure {structure_id}") as session:
            row = session.get(StructureRow, structure_id)
            return structure_from_row(row) if row is not None else None

    def cle_structure(self, departement: str, ref: str) -> str | None:
        """The key of the structure a département knows as ``ref`` (its own key, or its namespaced one:
        ``dossiers.domain.structures``), or None. Never a structure of another département."""
        plain, qualified = reference(departement, ref), cle_qualifiee(departement, ref)
        stmt = select(StructureRow.id).where(
            StructureRow.departement == departement,
            or_(StructureRow.ref == plain, StructureRow.id.in_({ref, plain, qualified})))
        with self._read(f"la recherche de la structure {ref}") as session:
            found = list(session.scalars(stmt))
        return min(found, key=lambda key: (key != plain, key)) if found else None

    def structure_figee(self, structure: Structure) -> list[str]:
        """The facts of ``structure`` that differ from the stored ones when it has a convention (frozen)."""
        with self._read(f"la lecture de la structure {structure.id}") as session:
            return champs_figes(session, structure)

    def corriger_structure(self, structure: Structure) -> Structure:
        """An admin's correction of a structure's facts (the caller audits it); returns the facts before."""
        with self._translate(f"la correction de la structure {structure.id}"):
            with Session(self._writer) as session, session.begin():
                row = session.get(StructureRow, structure.id, with_for_update=True)
                if row is None:
                    raise CatalogError(f"Structure {structure.id} introuvable.", code=ErrorCode.STRUCTURE_INTROUVABLE)
                avant = structure_from_row(row)
                if structure.departement != avant.departement:
                    raise CatalogError("Une correction ne change pas le département d'une structure.",
                                       code=ErrorCode.CHANGEMENT_INVALIDE)
                self._upsert_structure(session, structure, self._clock.now(), figee=False)
                return avant

    # -- conventions and versions -----------------------------------------------------------

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
    ) -> ConventionVersion:
        """Record a version and its documents in one transaction; return what the catalog holds.

        ``renouvelle``: for the first version of a renewal, the convention it renews (linked both ways
        from then on; a convention is renewed once). ``structure_modifiee``: the version is a change
        request (avenant, renewal) that may change the structure's facts; otherwise a structure that has
        a convention keeps them (``StructureFigee``)."""
        label = f"la version {version.numero} de la convention {convention_id}"
        if version.convention_id != convention_id:
            raise CatalogError(  # the caller's defect: nothing a retry or the request can change
                f"Incohérence : {label} porte l'identifiant de convention {version.convention_id}.",
                code=ErrorCode.ERREUR_INTERNE,
            )
        try:
            version = normalize_version(version)
        except (ValueError, TypeError) as exc:
            raise CatalogError(f"Impossible d'enregistrer {label} : {exc}.", code=ErrorCode.ERREUR_INTERNE) from exc
        with self._translate(f"l'enregistrement de {label}"):
            try:
                with Session(self._writer) as session, session.begin():
                    return self._insert_version_in(session, structure, convention_id, vague, date_debut, version,
                                                   demande_json, renouvelle, structure_modifiee)
            except IntegrityError as exc:
                # Lost a race, or a constraint refused the write: decide from what is stored now.
                stored = self.find_version(convention_id, version.numero)
                if stored is not None:
                    return _same_or_conflict(stored, version)
                with self._read(f"la vérification de la convention {convention_id}") as session:
                    _check_convention(session, structure.id, convention_id, vague, renouvelle)
                # not a race nor a conflict: a constraint the write breaks (a storage key of another version…)
                raise CatalogError(f"Le catalogue a refusé {label} : {describe(exc)}.",
                                   code=ErrorCode.CATALOGUE_INCOHERENT) from exc

    def get_convention(self, convention_id: str) -> Convention | None:
        with self._read(f"la lecture de la convention {convention_id}") as session:
            row = session.get(ConventionRow, convention_id)
            return _with_links(session, [row])[0] if row is not None else None

    def structure_connue(self, structure_id: str, siret: str) -> bool:
        """Whether the programme already funds the structure: a convention of this structure id, or of a
        structure with this SIRET."""
        stmt = (select(ConventionRow.id).join(StructureRow, StructureRow.id == ConventionRow.structure_id)
                .where(or_(StructureRow.id == structure_id, StructureRow.siret == siret)).limit(1))
        with self._read(f"la recherche des conventions de la structure {structure_id}") as session:
            return session.scalar(stmt) is not None

    def conventions_of_structure(self, structure_id: str) -> list[Convention]:
        """A structure's conventions (its first ones and their renewals), the oldest period first."""
        with self._read(f"la lecture des conventions de la structure {structure_id}") as session:
            rows = session.scalars(select(ConventionRow).where(ConventionRow.structure_id == structure_id)
                                   .order_by(ConventionRow.date_debut, ConventionRow.id)).all()
            return _with_links(session, list(rows))

    def find_version(self, convention_id: str, numero: int) -> ConventionVersion | None:
        with self._read(f"la lecture de la version {numero} de la convention {convention_id}") as session:
            row = session.get(VersionRow, (convention_id, numero))
            return version_from_row(row) if row is not None else None

    def find_demande(self, convention_id: str, numero: int) -> dict[str, Any] | None:
        """The demande JSON a version was generated from (for re-issues and audits)."""
        with self._read(f"la lecture de la demande de la convention {convention_id}") as session:
            return session.scalar(
                select(VersionRow.demande).where(
                    VersionRow.convention_id == convention_id, VersionRow.numero == numero
                )
            )

    def list_conventions(
        self, *, departement: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[Convention]:
        """Conventions ordered by id, with their versions and documents."""
        if not 0 <= limit <= MAX_PAGE or offset < 0:
            raise ValueError(f"pagination invalide : limit={limit} (0 à {MAX_PAGE}), offset={offset}")
        stmt = select(ConventionRow).order_by(ConventionRow.id).limit(limit).offset(offset)
        if departement is not None:
            stmt = stmt.join(StructureRow, StructureRow.id == ConventionRow.structure_id).where(
                StructureRow.departement == departement
            )
        with self._read("la liste des conventions") as session:
            return _with_links(session, list(session.scalars(stmt)))

    # -- internals --------------------------------------------------------------------------

    def _insert_version_in(self, session: Session, structure: Structure, convention_id: str, vague: int,
                           date_debut: date, version: ConventionVersion, demande_json: dict[str, Any],
                           renouvelle: str | None = None, structure_modifiee: bool = False) -> ConventionVersion:
        now = self._clock.now()
        existing = session.get(VersionRow, (convention_id, version.numero))
        if existing is not None:
            return _same_or_conflict(version_from_row(existing), version)
        self._upsert_structure(session, structure, now, figee=not structure_modifiee)
        _check_convention(session, structure.id, convention_id, vague, renouvelle)
        session.execute(
            self._insert(ConventionRow)
            .values(id=convention_id, structure_id=structure.id, vague=vague, date_debut=date_debut, created_at=now,
                    renouvelle=renouvelle)
            .on_conflict_do_nothing(index_elements=["id"])
        )
        session.add(version_row(version, demande_json))
        session.flush()  # the version before its documents (composite foreign key)
        session.add_all(document_rows(version, now=now))
        session.flush()
        return version


def _with_links(session: Session, rows: list[ConventionRow]) -> list[Convention]:
    """Conventions with the renewal that took over from each (one query for all of them)."""
    ids = [row.id for row in rows]
    par: dict[str | None, str] = {}
    for start in range(0, len(ids), 500):
        par.update((renewed, renewing) for renewing, renewed in session.execute(
            select(ConventionRow.id, ConventionRow.renouvelle).where(ConventionRow.renouvelle.in_(ids[start:start + 500]))))
    return [convention_from_row(row, renouvelee_par=par.get(row.id)) for row in rows]


def _check_convention(session: Session, structure_id: str, convention_id: str, vague: int,
                      renouvelle: str | None = None) -> None:
    """Raise ``ConventionConflict`` if the convention, or another of the same structure and vague made
    from a demande (not a renewal), says otherwise; or if the convention renewed is renewed already."""
    same = (ConventionRow.renouvelle == renouvelle if renouvelle is not None else
            (ConventionRow.structure_id == structure_id) & (ConventionRow.vague == vague)
            & ConventionRow.renouvelle.is_(None))
    rows = session.execute(
        select(ConventionRow.id, ConventionRow.structure_id, ConventionRow.vague, ConventionRow.renouvelle).where(
            or_(ConventionRow.id == convention_id, same))).all()
    if any(row[0] == convention_id for row in rows):  # a version of an existing convention (a renewal's own
        rows = [row for row in rows if row[0] == convention_id]  # avenant too): only it is checked
    for row_id, row_structure, row_vague, row_renouvelle in rows:
        if row_id != convention_id:  # the other convention ``same`` found
            taken = (f"La convention {renouvelle} est déjà renouvelée par la convention {row_id}" if renouvelle
                     else f"La structure {structure_id} a déjà la convention {row_id} pour la vague {vague}")
            raise ConventionConflict(f"{taken} : la convention {convention_id} ne peut pas être créée.")
        if renouvelle is not None and row_renouvelle != renouvelle:
            raise ConventionConflict(
                f"La convention {convention_id} existe déjà"
                + (f" (renouvellement de {row_renouvelle})" if row_renouvelle else " (issue d'une demande)")
                + " : elle ne peut pas être créée de nouveau."
            )
        if (row_structure, row_vague) != (structure_id, vague):
            raise ConventionConflict(
                f"La convention {convention_id} appartient à la structure {row_structure} (vague {row_vague}), "
                f"pas à la structure {structure_id} (vague {vague})."
            )


def _same_or_conflict(stored: ConventionVersion, version: ConventionVersion) -> ConventionVersion:
    if stored.demande_sha256 == version.demande_sha256:
        return stored
    raise ConventionConflict(
        f"La convention {stored.convention_id} a déjà une version {stored.numero} issue d'une autre "
        f"demande (empreinte {stored.demande_sha256}, reçue {version.demande_sha256}) : "
        "une modification doit faire l'objet d'une nouvelle version."
    )
