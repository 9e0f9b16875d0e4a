"""Use case: what waits for an instructeur (« À traiter »), the oldest first, in their départements.

Five kinds of work:

- ``piece``: a current piece à vérifier that nobody decided (accept or refuse it);
- ``copie``: a signed copy à vérifier that nobody decided (accept, and it is archived; or refuse it);
- ``dossier_complet``: a complete dossier whose structure has no convention for its vague (generate it);
- ``a_signer``: a convention whose current version was issued more than ``A_SIGNER_RELANCE_JOURS`` days
  ago and has no archived signed copy (remind the structure);
- ``reemission_echec``: a batch re-issue item that failed (look at its error, then re-run the plan).

Each item says since when it waits: the oldest comes first, whatever its kind. ``jour`` is given by
the caller (the clock), never read here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, get_args

from dossiers.clock import paris_date
from dossiers.domain.dossier import DossierStatut
from dossiers.ports import AppPorts

__all__ = ["Genre", "GENRES", "Item", "ATraiter", "a_traiter", "elements"]

Genre = Literal["piece", "copie", "dossier_complet", "a_signer", "reemission_echec"]

GENRES: dict[str, str] = {
    "piece": "Pièce à vérifier",
    "copie": "Copie signée à vérifier",
    "dossier_complet": "Dossier complet sans convention",
    "a_signer": "Convention à signer (relance)",
    "reemission_echec": "Réémission en échec",
}
assert tuple(GENRES) == get_args(Genre)
MAX_PER_PAGE = 200


@dataclass(frozen=True)
class Item:
    genre: str
    depuis: datetime  # since when it waits
    departement: str
    reference: str  # the dossier, convention or plan it is about
    libelle: str  # what it is, in French
    detail: str  # why it waits, in French
    lien: str  # the page where it is dealt with
    ids: dict[str, Any] = field(default_factory=dict)  # what the API needs to act (piece_id, sha256…)

    def attente_jours(self, jour: date) -> int:
        return max(0, (jour - paris_date(self.depuis)).days)

    def to_dict(self, jour: date) -> dict[str, Any]:
        return {"genre": self.genre, "genre_libelle": GENRES[self.genre], "depuis": self.depuis.isoformat(),
                "attente_jours": self.attente_jours(jour), "departement": self.departement,
                "reference": self.reference, "libelle": self.libelle, "detail": self.detail, "lien": self.lien,
                **self.ids}


@dataclass(frozen=True)
class ATraiter:
    jour: date
    items: list[Item]  # the page asked for
    total: int  # of the kind asked for (all kinds when none)
    compte: dict[str, int]  # every kind, whatever the filter
    page: int
    par_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.par_page))


def _constats(findings: Any) -> str:
    return " ; ".join(f.message for f in findings[:3]) + (" …" if len(findings) > 3 else "")


def _pieces(app: AppPorts, departements: tuple[str, ...]) -> list[Item]:
    items = []
    for dossier_id, departement, p in app.catalog.pieces_en_attente(departements):
        label = p.label
        items.append(Item("piece", p.validated_at, departement, dossier_id, f"{label} — dossier {dossier_id}",
                          _constats(p.findings) or "à lire", f"/dossiers/{dossier_id}#piece-{p.id}",
                          {"dossier_id": dossier_id, "piece_id": p.id,
                           "decision_url": f"/v1/dossiers/{dossier_id}/pieces/{p.id}/decision"}))
    return items


def _copies(app: AppPorts, departements: tuple[str, ...]) -> list[Item]:
    items = []
    for departement, a in app.catalog.copies_en_attente(departements):
        items.append(Item("copie", a.received_at, departement, a.convention_id,
                          f"Copie signée de la version {a.version} — {a.convention_id}",
                          _constats(a.findings) or "à lire", f"/conventions/{a.convention_id}#copie-{a.id}",
                          {"convention_id": a.convention_id, "version": a.version, "sha256": a.sha256,
                           "decision_url": f"/v1/conventions/{a.convention_id}/versions/{a.version}/signed/"
                                           f"{a.sha256}/decision"}))
    return items


def _complets(app: AppPorts, departements: tuple[str, ...]) -> list[Item]:
    from dossiers.domain.demande import parse_demande
    from dossiers.domain.dossier import dossier_view
    from dossiers.errors import ConumError
    from dossiers.services.validation import dossier_from_demande

    candidates = app.catalog.dossiers_sans_convention(departements)
    pieces = app.catalog.pieces_des_dossiers([d for d, _, _, _ in candidates])
    items = []
    for dossier_id, departement, updated_at, demande in candidates:
        found = pieces[dossier_id]
        # without every required kind there is nothing to offer: skip the demande's parsing
        required = set(app.pieces_requises.par_nature.get(str((demande.get("structure") or {}).get("nature")), ()))
        if not found or not required <= {p.kind for p in found}:
            continue
        try:
            view = dossier_view(dossier_from_demande(dossier_id, parse_demande(demande)), found, app.pieces_requises)
        except (ConumError, ValueError, KeyError, TypeError):  # a demande conum can no longer read: nothing to offer
            continue
        if view.statut is not DossierStatut.COMPLET:
            continue
        depuis = max([updated_at, *(p.validated_at for p in view.courantes),
                      *(p.decision.le for p in view.courantes if p.decision is not None)])
        d = view.dossier
        items.append(Item("dossier_complet", depuis, departement, dossier_id,
                          f"{d.denomination} — dossier {dossier_id}", "toutes les pièces sont valides ou acceptées",
                          f"/dossiers/{dossier_id}", {"dossier_id": dossier_id}))
    return items


def _a_signer(app: AppPorts, departements: tuple[str, ...], jour: date) -> list[Item]:
    limite = datetime.combine(jour - timedelta(days=app.settings.a_signer_relance_jours), time.min, tzinfo=UTC)
    return [Item("a_signer", c.version_created_at, c.departement, c.id, f"{c.denomination} — {c.id} (version {c.version})",
                 f"émise le {paris_date(c.version_created_at):%d/%m/%Y}, aucune copie signée archivée",
                 f"/conventions/{c.id}", {"convention_id": c.id, "version": c.version})
            for c in app.catalog.conventions_a_relancer(departements=departements, avant=limite)]


def _echecs(app: AppPorts, departements: tuple[str, ...]) -> list[Item]:
    items = []
    for plan in app.catalog.list_plans(limit=50):
        for it in app.catalog.plan_failures(plan.id, departements=departements):
            i = it.impact
            items.append(Item("reemission_echec", it.updated_at or plan.created_at, i.departement, i.convention_id,
                              f"{i.convention_id} — plan {plan.id}", it.message or "échec", f"/reemissions/{plan.id}",
                              {"plan_id": plan.id, "convention_id": i.convention_id}))
    return items


def elements(app: AppPorts, *, departements: tuple[str, ...], jour: date) -> list[Item]:
    """Every item waiting in ``departements`` (empty: every département), the oldest first."""
    everything = (_pieces(app, departements) + _copies(app, departements) + _complets(app, departements)
                  + _a_signer(app, departements, jour) + _echecs(app, departements))
    return sorted(everything, key=lambda i: (i.depuis, i.genre, i.reference))


def a_traiter(app: AppPorts, *, departements: tuple[str, ...], jour: date, genre: str | None = None, page: int = 1,
              par_page: int = 50) -> ATraiter:
    """The work waiting in ``departements`` (empty: every département), the oldest first; ``genre`` filters
    the list, the counts are always of every kind."""
    if genre is not None and genre not in GENRES:
        raise ValueError(f"genre inconnu : {genre} ({', '.join(GENRES)})")
    par_page = max(1, min(par_page, MAX_PER_PAGE))
    everything = elements(app, departements=departements, jour=jour)
    compte = Counter(i.genre for i in everything)
    chosen = [i for i in everything if genre is None or i.genre == genre]
    start = (max(1, page) - 1) * par_page
    return ATraiter(jour, chosen[start:start + par_page], len(chosen), {g: compte.get(g, 0) for g in GENRES},
                    max(1, page), par_page)
