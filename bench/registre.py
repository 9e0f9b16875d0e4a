"""Benchmark of the archive ledger on SQLite (embedded default), optionally PostgreSQL. Prints its figures.

    .venv/bin/python bench/registre.py [--entries 100000] [--batch 2] [--backends sqlite[,postgresql]]

Appends ``--entries`` entries through ``dossiers.services.registre.inscrire_tous`` in transactions of
``--batch`` entries (2: what issuing one version inscribes, its DOCX and PDF; a larger batch shows the
bulk rate), then times ``verifier_registre`` over the whole chain (streamed by pages of 5 000) and
``preuves`` for the first entry (the longest proof: no anchor, up to the head). Peak memory of the
verification: traced Python allocations (tracemalloc). PostgreSQL needs ``BENCH_DATABASE_URL``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dossiers.bootstrap import App  # noqa: E402
from dossiers.domain.registre import Inscription, Nature  # noqa: E402
from dossiers.services.registre import inscrire_tous, preuves, verifier_registre  # noqa: E402
from dossiers.settings import Settings  # noqa: E402


def run(url: str | None, var: Path, entries: int, batch: int) -> None:
    settings = Settings(var_dir=var, database_url=url) if url else Settings(var_dir=var)
    with App(settings) as app:
        app.catalog.registre_head()
        now = app.clock.now()
        started = time.perf_counter()
        for start in range(0, entries, batch):
            inscrire_tous(app, [Inscription(Nature.DOCUMENT, f"conventions/CN-{n}/v1/{n}.pdf",
                                            hashlib.sha256(str(n).encode()).hexdigest())
                                for n in range(start, min(start + batch, entries))], now=now)
        append = time.perf_counter() - started
        tracemalloc.start()
        started = time.perf_counter()
        verdict = verifier_registre(app)
        verify = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert verdict.intact and verdict.entrees == entries, verdict
        started = time.perf_counter()
        proof = preuves(app, hashlib.sha256(b"0").hexdigest())[0]
        prove = time.perf_counter() - started
        backend = app.catalog.engine.dialect.name
    print(f"{backend:10} append   {entries} entrées par lots de {batch} : {append:6.1f} s, "
          f"{entries / append:8.0f} entrées/s")
    print(f"{backend:10} verify   {entries} entrées : {verify:6.2f} s ({entries / verify:8.0f} entrées/s), "
          f"pic Python {peak / 1e6:.1f} Mo")
    print(f"{backend:10} preuve   entrée 1 jusqu'à la tête ({len(proof.chaine)} maillons) : {prove:6.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--backends", default="sqlite")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory(prefix="conum-bench-registre-") as tmp:
            if backend == "postgresql":
                url = os.environ.get("BENCH_DATABASE_URL")
                if not url:
                    print("postgresql : BENCH_DATABASE_URL absente, ignoré")
                    continue
                run(url, Path(tmp), args.entries, args.batch)
            else:
                run(None, Path(tmp), args.entries, args.batch)


if __name__ == "__main__":
    main()
