"""Benchmark of the instructeur's work queue (« à traiter ») and of a convention's financial situation.
Prints its figures.

    .venv/bin/python bench/a_traiter.py [--structures 2000] [--dossiers 1000] [--repeat 5]

Setup, in a temporary CONUM_VAR_DIR (embedded SQLite catalog), removed at the end:

* ``conum seed``'s population of ``--structures`` conventions (none signed: every one issued long ago is
  a reminder in the queue);
* ``--dossiers`` dossiers opened from the seed's demandes, each with nine pieces recorded straight into
  the catalog (no file, no inspection: the queue reads the catalog only), a third of the dossiers with
  every piece valide (complete, without a convention: they are opened for structures the seed did not
  fund), the others with two pieces à vérifier.

Then, ``--repeat`` times each (median and worst printed): the queue of one département (the one with
the most work), the queue of every département (an admin), and the situation of a convention with
payments. Peak memory (tracemalloc) of one whole-queue read is printed too.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import tracemalloc
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from dossiers.bootstrap import App
from dossiers.domain.dossier import PieceRecord
from dossiers.domain.findings import Finding, FindingCode, Severity, Statut
from dossiers.domain.pieces import PieceKind
from dossiers.services.a_traiter import a_traiter, elements
from dossiers.services.seed import seed, seed_demande
from dossiers.services.situation import situation
from dossiers.services.validation import open_dossier
from dossiers.settings import Settings

KINDS = [PieceKind.DESIGNATION, PieceKind.IDENTITE, PieceKind.SIRENE, PieceKind.RIB, PieceKind.BUREAU,
         PieceKind.STATUTS, PieceKind.PV_AG, PieceKind.COMPTES]
ALERTE = Finding(FindingCode.PIECE_NON_CONTROLEE, Severity.ALERTE, "à lire")


def timed(fn, repeat: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), max(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--structures", type=int, default=2000)
    parser.add_argument("--dossiers", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, App(Settings(var_dir=Path(tmp))) as app:
        started = time.perf_counter()
        seed(app, structures=args.structures, seed=7, evenements=False)
        rng = random.Random(11)
        now = datetime(2026, 11, 2, 9, tzinfo=UTC)
        for n in range(args.dossiers):
            payload = seed_demande(rng, 900_000 + n, 11)
            payload["structure"]["id"] = f"BENCH-{n:05d}"
            dossier = open_dossier(payload, app)
            complete = n % 3 == 0
            postes = [p for p, _ in dossier.postes_occupes]
            for i, kind in enumerate(KINDS + [PieceKind.CONTRAT] * len(postes)):
                doubtful = not complete and i in (1, 5)
                app.catalog.record_piece(dossier.id, PieceRecord(
                    id=0, kind=kind, filename=f"{kind}.pdf", sha256=f"{n:032x}{i:032x}", size=1000,
                    mime="application/pdf", statut=Statut.A_VERIFIER if doubtful else Statut.VALIDE,
                    findings=(ALERTE,) if doubtful else (), fields={}, validated_at=now + timedelta(minutes=i),
                    poste_id=postes[i - len(KINDS)] if kind is PieceKind.CONTRAT else None))
        print(f"setup: {args.structures} conventions, {args.dossiers} dossiers in {time.perf_counter() - started:.1f} s")
        today = date(2026, 12, 1)
        everything = elements(app, departements=(), jour=today)
        per_departement = Counter(i.departement for i in everything)
        busiest = per_departement.most_common(1)[0][0]
        print(f"queue: {len(everything)} items ({dict(Counter(i.genre for i in everything))}); "
              f"busiest département {busiest}: {per_departement[busiest]}")
        med, worst, page = timed(lambda: a_traiter(app, departements=(busiest,), jour=today), args.repeat)
        print(f"à traiter, one département ({page.total} items): median {med * 1000:.0f} ms, worst {worst * 1000:.0f} ms")
        med, worst, page = timed(lambda: a_traiter(app, departements=(), jour=today), args.repeat)
        print(f"à traiter, every département ({page.total} items): median {med * 1000:.0f} ms, worst {worst * 1000:.0f} ms")
        tracemalloc.start()
        elements(app, departements=(), jour=today)
        print(f"à traiter, every département: peak memory {tracemalloc.get_traced_memory()[1] / 1e6:.1f} MB")
        tracemalloc.stop()
        paid = next(c for c in app.catalog.search_conventions(limit=100)[1]
                    if app.catalog.list_paiements(c.id, c.date_debut))
        med, worst, _ = timed(lambda: situation(paid.id, app), args.repeat * 4)
        print(f"situation of {paid.id}: median {med * 1000:.1f} ms, worst {worst * 1000:.1f} ms")


if __name__ == "__main__":
    main()
