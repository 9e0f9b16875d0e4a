"""`conum seed`: a realistic population, the same for the same seed, written once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

from dossiers.bootstrap import App
from dossiers.domain.model import EtatPoste
from dossiers.services.seed import seed
from dossiers.settings import Settings


def population(app: App) -> list[tuple[str, str, str, int, str]]:
    return [(cid, dep, nature, numero, str(etat.postes)) for cid, dep, nature, numero, _m, etat
            in app.catalog.current_states()]


def test_the_same_seed_gives_the_same_population_and_seeding_again_adds_nothing(tmp_path: Path) -> None:
    with App(Settings(var_dir=tmp_path / "a")) as a, App(Settings(var_dir=tmp_path / "b")) as b, \
            App(Settings(var_dir=tmp_path / "c")) as c:
        first = seed(a, structures=200, seed=4)
        assert (first.structures, first.skipped) == (200, 0)
        seed(b, structures=200, seed=4)
        seed(c, structures=200, seed=5)
        assert population(a) == population(b) != population(c)
        again = seed(a, structures=200, seed=4)
        assert (again.structures, again.skipped, again.versions, again.paiements) == (0, 200, 0, 0)
        states = [s[-1] for s in a.catalog.current_states()]
        natures = Counter(nature for _c, _d, nature, *_ in a.catalog.current_states())
        assert 0.45 < natures["publique"] / 200 < 0.75 and {e.vague for e in states} == {1, 2}
        sizes = Counter(len(e.postes) for e in states)
        assert min(sizes) == 1 and max(sizes) <= 10
        assert any(p.etat is EtatPoste.VACANT for e in states for p in e.postes)
        assert 8 <= sum(1 for *_n, numero, _m, _e in a.catalog.current_states() if numero == 2) <= 35  # ~10 % amended
        assert sum(len(e.paiements) for e in states) == first.paiements > 200
        # every paid year is one whose amount the convention states
        for e in states:
            for p in e.paiements:
                assert p.montant > 0 and p.date >= e.date_debut


def test_seeded_ajouts_keep_their_effect_date_for_the_may_2025_limits(tmp_path: Path) -> None:
    # The seed records what conum now refuses (no limiter): the limits must be able to read it back.
    with App(Settings(var_dir=tmp_path)) as app:
        seed(app, structures=80, seed=4, evenements=False)
        historiques = list(app.catalog.historiques_limites())
    ajouts = [(h, a) for h in historiques for a in h.ajouts]
    assert len(historiques) == 80 and ajouts
    assert all(a.date_effet == h.date_debut + timedelta(days=183) and a.version == 2 for h, a in ajouts)
    assert all(h.structure_nouvelle and not h.derogation_initiale for h in historiques)  # one convention each
