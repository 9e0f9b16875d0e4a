"""The catalog's decisions on pieces and signed copies à vérifier (a mixin of ``Catalog``).

One decision per piece and per copy (unique columns): two instructeurs deciding at once end with
one decision, the first; the second reads it back and is told. Deciding a signed copy changes the
copy's status in the same transaction (``archive`` or ``refuse``), so a copy is never accepted
without its decision, nor decided twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from dossiers.adapters.catalog.base import CatalogBase
from dossiers.adapters.catalog.tables import ArchiveRow, DecisionRow
from dossiers.domain.decisions import Cible, Decision, Verdict

__all__ = ["DecisionCatalog", "decision_from_row"]


class DecisionCatalog(CatalogBase):
    """Methods ``Catalog`` gets for decisions; relies on its ``_writer``, ``_insert``, ``_read``, ``_translate``."""


    def record_piece_decision(self, piece_id: int, decision: Decision) -> Decision:
        """Record the decision on a piece; returns the one recorded (an earlier one wins)."""
        with self._translate(f"l'enregistrement de la décision sur la pièce {piece_id}"):
            with Session(self._writer) as session, session.begin():
                session.execute(self._insert(DecisionRow).values(
                    piece_id=piece_id, **_values(decision)).on_conflict_do_nothing())
                return decision_from_row(session.scalars(
                    select(DecisionRow).where(DecisionRow.piece_id == piece_id)).one())

    def decide_archive(self, record_id: int, decision: Decision) -> Decision | None:
        """Decide a copy à vérifier: it becomes ``archive`` (to be written under retention) or ``refuse``,
        and the decision is recorded with it. None when the copy is not (or no longer) à vérifier."""
        with self._translate(f"la décision sur la copie signée {record_id}"):
            with Session(self._writer) as session, session.begin():
                row = session.get(ArchiveRow, record_id, with_for_update=True)
                if row is None or row.statut != "a_verifier" or row.archived_at is not None:
                    return None
                accepted = decision.verdict is Verdict.ACCEPTE
                row.statut = "archive" if accepted else "refuse"
                trace: dict[str, str | None] = {"par": decision.par, "date": decision.le.isoformat()}
                if not accepted:
                    trace |= {"motif": decision.motif, "commentaire": decision.commentaire}
                row.fields = {**row.fields, ("acceptation" if accepted else "refus"): trace}
                session.execute(self._insert(DecisionRow).values(archive_id=record_id, **_values(decision))
                                .on_conflict_do_nothing())
                return decision_from_row(session.scalars(
                    select(DecisionRow).where(DecisionRow.archive_id == record_id)).one())

    def decisions_of(self, *, pieces: Iterable[int] = (), archives: Iterable[int] = ()) -> dict[tuple[Cible, int], Decision]:
        """The decisions on these pieces and copies, by (cible, id)."""
        piece_ids, archive_ids = list(pieces), list(archives)
        if not piece_ids and not archive_ids:
            return {}
        out: dict[tuple[Cible, int], Decision] = {}
        with self._read("la lecture des décisions") as session:
            for column, cible, ids in ((DecisionRow.piece_id, Cible.PIECE, piece_ids),
                                       (DecisionRow.archive_id, Cible.COPIE, archive_ids)):
                for start in range(0, len(ids), 500):  # bounded IN lists
                    for row in session.scalars(select(DecisionRow).where(column.in_(ids[start:start + 500]))):
                        out[(cible, int(cast(int, row.piece_id if cible is Cible.PIECE else row.archive_id)))] = decision_from_row(row)
        return out


def _values(decision: Decision) -> dict[str, Any]:
    return {"cible": str(decision.cible), "verdict": str(decision.verdict), "motif": decision.motif,
            "commentaire": decision.commentaire, "par": decision.par, "token_id": decision.token_id,
            "decided_at": decision.le}


def decision_from_row(row: DecisionRow) -> Decision:
    return Decision(cible=Cible(row.cible), verdict=Verdict(row.verdict), par=row.par, le=row.decided_at,
                    motif=row.motif, commentaire=row.commentaire, token_id=row.token_id, id=row.id)
