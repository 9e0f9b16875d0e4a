"""The catalog's API tokens, audit log and conventions search (a mixin of ``Catalog``)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from dossiers.adapters.catalog.base import CatalogBase
from dossiers.adapters.catalog.tables import (
    AgentRow,
    ArchiveRow,
    AuditRow,
    ConventionRow,
    DossierRow,
    StructureRow,
    TokenRow,
    VersionRow,
)
from dossiers.domain.acces import AuditEntry, ConventionResume, ConventionStatut, Jeton, Role, search_key
from dossiers.domain.archive import STATUTS_ARCHIVES

__all__ = ["AccesCatalog", "MAX_SEARCH"]

MAX_SEARCH = 100
MAX_AUDIT = 10_000


class AccesCatalog(CatalogBase):

    # -- tokens ----------------------------------------------------------------------------------
    def create_token(self, jeton: Jeton, *, digest: str) -> None:
        with self._translate(f"l'enregistrement du jeton {jeton.id}"):
            with Session(self._writer) as session, session.begin():
                session.add(TokenRow(id=jeton.id, token_sha256=digest, role=str(jeton.role),
                                     departements=list(jeton.departements), nom=jeton.nom,
                                     created_at=jeton.created_at, revoked_at=jeton.revoked_at))

    def token_by_digest(self, digest: str) -> Jeton | None:
        with self._read("la vérification d'un jeton") as session:
            row = session.scalars(select(TokenRow).where(TokenRow.token_sha256 == digest)).one_or_none()
            return _jeton(row) if row is not None else None

    def get_token(self, token_id: str) -> Jeton | None:
        with self._read(f"la lecture du jeton {token_id}") as session:
            row = session.get(TokenRow, token_id)
            return _jeton(row) if row is not None else None

    def revoke_token(self, token_id: str, *, now: datetime) -> bool:
        """Revoke a token (True); False when it does not exist. Revoking twice keeps the first date."""
        with self._translate(f"la révocation du jeton {token_id}"):
            with Session(self._writer) as session, session.begin():
                if session.get(TokenRow, token_id) is None:
                    return False
                session.execute(update(TokenRow).where(TokenRow.id == token_id, TokenRow.revoked_at.is_(None))
                                .values(revoked_at=now))
                return True

    def list_tokens(self) -> list[Jeton]:
        with self._read("la liste des jetons") as session:
            return [_jeton(row) for row in session.scalars(select(TokenRow).order_by(TokenRow.created_at, TokenRow.id))]

    # -- agents (web pages) ----------------------------------------------------------------------
    def save_agent(self, email: str, jeton: Jeton) -> Jeton:
        """Create or update the agent ``email`` (its id is kept); returns what the catalog holds."""
        email = email.strip().lower()
        with self._translate(f"l'enregistrement de l'agent {email}"):
            with Session(self._writer) as session, session.begin():
                row = session.get(AgentRow, email)
                if row is None:  # a new (or removed then re-added) agent: no older session counts
                    row = AgentRow(email=email, id=jeton.id, created_at=jeton.created_at,
                                   session_epoch=secrets.token_hex(16))
                    session.add(row)
                row.role, row.departements = str(jeton.role), list(jeton.departements)
                session.flush()
                return _agent(row)

    def get_agent(self, email: str) -> Jeton | None:
        with self._read("la lecture d'un agent") as session:
            row = session.get(AgentRow, email.strip().lower())
            return _agent(row) if row is not None else None

    def agent_session(self, email: str) -> tuple[Jeton, str] | None:
        """The agent and the epoch its sessions must carry (None: not an agent)."""
        with self._read("la lecture d'un agent") as session:
            row = session.get(AgentRow, email.strip().lower())
            return (_agent(row), row.session_epoch or "") if row is not None else None

    def rotate_agent_epoch(self, email: str, *, expected: str) -> bool:
        """End every session of the agent (a new epoch), if ``expected`` is still the current one."""
        with self._translate("la fin des sessions d'un agent"):
            with Session(self._writer) as session, session.begin():
                done = session.execute(update(AgentRow).where(AgentRow.email == email.strip().lower(),
                                                              AgentRow.session_epoch == expected)
                                       .values(session_epoch=secrets.token_hex(16)).returning(AgentRow.email))
                return done.scalar_one_or_none() is not None

    def remove_agent(self, email: str) -> bool:
        with self._translate("la suppression d'un agent"):
            with Session(self._writer) as session, session.begin():
                row = session.get(AgentRow, email.strip().lower())
                if row is None:
                    return False
                session.delete(row)
                return True

    def list_agents(self) -> list[tuple[str, Jeton]]:
        with self._read("la liste des agents") as session:
            return [(row.email, _agent(row)) for row in session.scalars(select(AgentRow).order_by(AgentRow.email))]

    # -- audit -----------------------------------------------------------------------------------
    def record_audit(self, entry: AuditEntry) -> None:
        with self._translate("l'écriture du journal d'audit"):
            with Session(self._writer) as session, session.begin():
                session.add(AuditRow(at=entry.at, token_id=entry.token_id, role=entry.role, action=entry.action,
                                     ressource=entry.ressource[:512], departement=entry.departement,
                                     adresse=(entry.adresse or "")[:64] or None, statut_http=entry.statut_http,
                                     detail=entry.detail))

    def list_audit(self, *, limit: int = 100, token_id: str | None = None,
                   since: datetime | None = None) -> list[AuditEntry]:
        """Newest first."""
        if not 0 < limit <= MAX_AUDIT:
            raise ValueError(f"limit entre 1 et {MAX_AUDIT}")
        stmt = select(AuditRow).order_by(AuditRow.at.desc(), AuditRow.id.desc()).limit(limit)
        if token_id is not None:
            stmt = stmt.where(AuditRow.token_id == token_id)
        if since is not None:
            stmt = stmt.where(AuditRow.at >= since)
        with self._read("la lecture du journal d'audit") as session:
            return [AuditEntry(id=r.id, at=r.at, token_id=r.token_id, role=r.role, action=r.action,
                               ressource=r.ressource, departement=r.departement, adresse=r.adresse,
                               statut_http=r.statut_http, detail=dict(r.detail)) for r in session.scalars(stmt)]

    # -- départements of resources ---------------------------------------------------------------
    def convention_departement(self, convention_id: str) -> str | None:
        """The département of a convention's structure (None: no such convention)."""
        stmt = (select(StructureRow.departement).join(ConventionRow, ConventionRow.structure_id == StructureRow.id)
                .where(ConventionRow.id == convention_id))
        with self._read(f"la lecture de la convention {convention_id}") as session:
            return session.scalar(stmt)

    def dossier_departement(self, dossier_id: str) -> str | None:
        stmt = (select(StructureRow.departement).join(DossierRow, DossierRow.structure_id == StructureRow.id)
                .where(DossierRow.id == dossier_id))
        with self._read(f"la lecture du dossier {dossier_id}") as session:
            return session.scalar(stmt)

    def departements(self) -> tuple[str, ...]:
        """The départements that have structures (an admin's filter)."""
        with self._read("la liste des départements") as session:
            return tuple(sorted(session.scalars(select(StructureRow.departement).distinct())))

    # -- conventions search ----------------------------------------------------------------------
    def search_conventions(
        self, *, departements: tuple[str, ...] = (), departement: str | None = None,
        statut: ConventionStatut | None = None, nature: str | None = None, vague: int | None = None,
        q: str | None = None, limit: int = 50, offset: int = 0,
    ) -> tuple[int, list[ConventionResume]]:
        """(total, page) of conventions with their current version, ordered by id. ``departements``
        is the caller's scope (empty: all); ``departement`` a filter within it."""
        if not 0 < limit <= MAX_SEARCH or offset < 0:
            raise ValueError(f"pagination invalide : limit={limit} (1 à {MAX_SEARCH}), offset={offset}")
        stmt, statut_col = _conventions_stmt(departements=departements, departement=departement, statut=statut,
                                             nature=nature, vague=vague, q=q)
        with self._read("la recherche des conventions") as session:
            counted = stmt.with_only_columns(func.count()) if statut is None else select(func.count()).select_from(
                stmt.subquery())  # the status needs its column; without it, count the rows alone
            total = session.scalar(counted) or 0
            rows = session.execute(stmt.order_by(ConventionRow.id).limit(limit).offset(offset)).all()
        return int(total), [_resume(r) for r in rows]

    def conventions_a_relancer(self, *, departements: tuple[str, ...] = (), avant: datetime,
                               limit: int = 10_000) -> list[ConventionResume]:
        """Conventions à signer whose current version was issued before ``avant``, the oldest first (one query)."""
        stmt, _ = _conventions_stmt(departements=departements, statut=ConventionStatut.A_SIGNER)
        stmt = stmt.where(VersionRow.created_at < avant).order_by(VersionRow.created_at, ConventionRow.id).limit(limit)
        with self._read("la liste des conventions à relancer") as session:
            return [_resume(r) for r in session.execute(stmt)]


def _conventions_stmt(*, departements: tuple[str, ...] = (), departement: str | None = None,
                      statut: ConventionStatut | None = None, nature: str | None = None, vague: int | None = None,
                      q: str | None = None) -> tuple[Any, Any]:
    """The conventions with their current version and status, filtered (the statement, and its status column)."""
    # the current version of each convention, found through the primary key (convention, numero)
    # row by row: no grouping of the whole versions table before the filters apply
    older = aliased(VersionRow)
    newest = ~exists().where(older.convention_id == VersionRow.convention_id, older.numero > VersionRow.numero)
    of_current = and_(ArchiveRow.convention_id == ConventionRow.id, ArchiveRow.version == VersionRow.numero)
    archived = exists().where(of_current, ArchiveRow.statut == "archive", ArchiveRow.archived_at.is_not(None))
    received = exists().where(of_current, ArchiveRow.statut.in_(STATUTS_ARCHIVES))
    statut_col = case((archived, str(ConventionStatut.ARCHIVEE)), (received, str(ConventionStatut.SIGNEE)),
                      else_=str(ConventionStatut.A_SIGNER)).label("statut")
    stmt = (
        select(ConventionRow.id, ConventionRow.vague, ConventionRow.date_debut, StructureRow.id.label("sid"),
               StructureRow.siret, StructureRow.denomination, StructureRow.nature, StructureRow.departement,
               VersionRow.numero, VersionRow.document_type, VersionRow.motif, VersionRow.montant_total,
               VersionRow.created_at, statut_col)
        .join(StructureRow, StructureRow.id == ConventionRow.structure_id)
        .join(VersionRow, VersionRow.convention_id == ConventionRow.id)
        .where(newest)
    )
    if departements:
        stmt = stmt.where(StructureRow.departement.in_(departements))
    if departement is not None:
        stmt = stmt.where(StructureRow.departement == departement)
    if nature is not None:
        stmt = stmt.where(StructureRow.nature == nature)
    if vague is not None:
        stmt = stmt.where(ConventionRow.vague == vague)
    if statut is not None:
        stmt = stmt.where(statut_col == str(statut))
    if q:
        digits = "".join(c for c in q if c.isdigit())
        terms = [ConventionRow.id == q, StructureRow.id == q]
        if key := search_key(q):
            terms.append(StructureRow.recherche.contains(key, autoescape=True))
        if len(digits) >= 9 and len(digits) == len(q.replace(" ", "")):  # a SIREN or SIRET, spaces allowed
            terms.append(StructureRow.siret.startswith(digits, autoescape=True))
        stmt = stmt.where(or_(*terms))
    return stmt, statut_col


def _resume(r: Any) -> ConventionResume:
    return ConventionResume(id=r.id, vague=r.vague, date_debut=r.date_debut, structure_id=r.sid, siret=r.siret,
                            denomination=r.denomination, nature=r.nature, departement=r.departement,
                            version=r.numero, document_type=r.document_type, motif=r.motif,
                            montant_total=r.montant_total, version_created_at=r.created_at,
                            statut=ConventionStatut(r.statut))


def _agent(row: AgentRow) -> Jeton:
    """An agent acts with the same rules as a token of its role (``nom`` is its email)."""
    return Jeton(id=row.id, role=Role(row.role), departements=tuple(row.departements), nom=row.email,
                 created_at=row.created_at)


def _jeton(row: TokenRow) -> Jeton:
    return Jeton(id=row.id, role=Role(row.role), departements=tuple(row.departements), nom=row.nom,
                 created_at=row.created_at, revoked_at=row.revoked_at)
