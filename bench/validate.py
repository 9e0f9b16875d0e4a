"""Benchmark of piece validation. Prints its figures.

    .venv/bin/python bench/validate.py [--n 300] [--rounds 5]

* Pieces per second on one core, through the whole path a worker takes (hash, sniff, parse in a
  limited child process, checks): a born-digital avis de situation Sirene and a 2-page contrat de
  travail. One thread, one child: the parent and the child share one core's worth of work.
* The same parse done in the calling process (no child), to show what the isolation costs.
* The hostile corpus (tests/hostile.py): worst wall-clock time of one file, and the peak memory of
  the child processes that parsed it (the largest resident set any of them reached).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dossiers.adapters.inspection import Inspector  # noqa: E402
from dossiers.adapters.inspection import pdf as pdf_facts  # noqa: E402
from dossiers.adapters.antivirus import NoScanner  # noqa: E402
from dossiers.bootstrap import App  # noqa: E402
from dossiers.domain.checks import check_file  # noqa: E402
from dossiers.domain.findings import Statut  # noqa: E402
from dossiers.domain.pieces import DEFAULT_POLICIES, Contexte, PieceKind  # noqa: E402
from dossiers.services.validation import validate_piece  # noqa: E402
from dossiers.settings import Settings  # noqa: E402
from tests.fixtures.contrat import contrat_pdf  # noqa: E402
from tests.fixtures.sirene import avis_sirene_pdf  # noqa: E402
from tests.hostile import corpus  # noqa: E402

CTX = Contexte(today=date(2026, 11, 26), siret="21590350100017", nature="publique",
               denomination="Commune de Roubaix", representant="Guillaume Delbar", conseiller="Inès Témoin-Lefèvre")


def rate(fn: Callable[[], object], n: int, rounds: int) -> float:
    """Median over ``rounds`` of calls per second over ``n`` calls."""
    fn()  # warm up
    results = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        results.append(n / (time.perf_counter() - start))
    return statistics.median(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    avis = avis_sirene_pdf(siren="215903501", siret="21590350100017", denomination="COMMUNE DE ROUBAIX",
                           date_avis=date(2026, 11, 2))
    contrat = contrat_pdf(date_debut=date(2026, 1, 1), date_fin=date(2027, 12, 31), pages=2)
    params = {"text_limit": 100_000, "max_pages_text": 10, "text_seconds": 5.0, "max_pixels": 50_000_000}
    print(f"avis Sirene : {len(avis)} octets, contrat 2 pages : {len(contrat)} octets")
    print("\n== pièces par seconde, un cœur (un fil, un processus d'analyse) ==")
    with Inspector(workers=1) as inspector, App(Settings(), inspector=inspector, scanner=NoScanner()) as app:
        for name, kind, data in (("avis Sirene", PieceKind.SIRENE, avis), ("contrat 2 pages", PieceKind.CONTRAT, contrat)):
            result = validate_piece(data, kind, CTX, app)
            assert result.statut is Statut.VALIDE, result.findings
            isolated = rate(lambda: validate_piece(data, kind, CTX, app), args.n, args.rounds)  # noqa: B023
            inline = rate(lambda: pdf_facts.parse(data, **params), args.n, args.rounds)  # noqa: B023
            print(f"{name:16} chemin complet : {isolated:7.1f}/s ({1000 / isolated:5.2f} ms)   "
                  f"analyse seule dans le processus : {inline:7.1f}/s ({1000 / inline:5.2f} ms)")

    print("\n== corpus hostile (tests/hostile.py) ==")
    cases = corpus()
    times: list[tuple[float, str]] = []
    refused = 0
    with Inspector(workers=1, timeout=5.0, memory_mb=512) as inspector:
        inspector.warm()
        for case in cases:
            policy = DEFAULT_POLICIES[case.kind]
            start = time.perf_counter()
            facts = inspector.inspect(case.data, policy=policy, declared_name=case.name)
            elapsed = time.perf_counter() - start
            refused += bool(check_file(facts, policy))
            times.append((elapsed, case.name))
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    times.sort(reverse=True)
    print(f"{len(cases)} fichiers, {refused} refusés dès le contrôle du fichier (les autres passent au contrôle "
          f"de leur nature) ; médiane {statistics.median(t for t, _ in times) * 1000:.0f} ms ; "
          f"pire {times[0][0]:.2f} s ({times[0][1]}) ; limite 5 s")
    print("les 5 plus lents : " + ", ".join(f"{name} {t:.2f} s" for t, name in times[:5]))
    print(f"mémoire résidente maximale d'un processus d'analyse : {peak_mib:.0f} Mio (limite 512 Mio)")


if __name__ == "__main__":
    main()
