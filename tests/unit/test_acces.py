"""The rights of each role (``domain.acces``), which the API's dependencies and the pages both ask:
an admin oversees, an instructeur instructs its départements, a portail submits; and the page an
agent starts on follows from them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dossiers.domain.acces import Accueil, Droit, Jeton, Role, accueil

NOW = datetime(2026, 11, 26, tzinfo=UTC)


def jeton(role: Role, departements: tuple[str, ...] = ()) -> Jeton:
    return Jeton(id="tok_1", role=role, departements=departements, nom="essai", created_at=NOW)


@pytest.mark.parametrize("role, departements, droits", [
    (Role.ADMIN, (), set(Droit)),
    (Role.INSTRUCTEUR, ("33",), {Droit.LIRE, Droit.DEPOSER_SIGNE, Droit.SUIVRE, Droit.INSTRUIRE}),
    (Role.PORTAIL, (), {Droit.SOUMETTRE, Droit.SUIVRE}),
])
def test_each_role_holds_its_rights_and_only_an_admin_administers(role: Role, departements: tuple[str, ...],
                                                                  droits: set[Droit]) -> None:
    assert {d for d in Droit if jeton(role, departements).peut(d)} == droits


def test_an_instructeur_starts_with_its_work_and_an_admin_or_a_visitor_with_the_conventions() -> None:
    assert accueil(jeton(Role.INSTRUCTEUR, ("33", "2A"))) is Accueil.A_TRAITER
    assert accueil(jeton(Role.ADMIN)) is Accueil.CONVENTIONS
    assert accueil(None) is Accueil.CONVENTIONS
