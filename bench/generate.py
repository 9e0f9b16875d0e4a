"""Benchmark of convention generation: DOCX renders and PDF conversions. Prints its figures.

    .venv/bin/python bench/generate.py [--docx-n 300] [--pdf-n 24] [--soffice-n 4] [--skip-pdf]

* DOCX renders per second on one core: stock docxtpl (render + save) vs conum's prepared template,
  for 3 and 60 postes; text identical (checked).
* RSS of a worker over 1 000 renders (flat is the goal).
* PDF conversions per second: a warm unoserver pool (one converter per core, fed by as many
  threads) vs one-shot ``soffice --headless``.
"""

from __future__ import annotations

import argparse
import copy
import gc
import io
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import jinja2
import psutil
from docx import Document
from docxtpl import DocxTemplate

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dossiers.adapters.docx import PreparedTemplate  # noqa: E402
from dossiers.adapters.rules import RulesRepository  # noqa: E402
from dossiers.domain.context import convention_context  # noqa: E402
from dossiers.domain.demande import parse_demande  # noqa: E402
from dossiers.domain.rules import calculer  # noqa: E402
from dossiers.settings import Settings  # noqa: E402

TEMPLATE = ROOT / "templates" / "convention.docx"


def context_for(nombre_postes: int) -> dict:
    payload = json.loads((ROOT / "examples" / "demandes" / "commune-qpv-3-postes.json").read_text())
    postes = []
    for i in range(nombre_postes):
        poste = copy.deepcopy(payload["postes"][i % 2])
        poste["id"] = f"P-{i + 1}"
        postes.append(poste)
    payload["postes"] = postes
    payload["convention"]["nombre_postes"] = nombre_postes
    demande = parse_demande(payload)
    rules = RulesRepository(ROOT / "config" / "rules").for_vague(2)
    return convention_context(
        demande, calculer(demande, rules), rules,
        convention_id="CN-V2-BENCH", version=1, modele_version="bench", date_edition=date(2026, 1, 1),
    )


def text_of(docx: bytes) -> list[str]:
    doc = Document(io.BytesIO(docx))
    return [p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells]


def stock_render(ctx: dict) -> bytes:
    tpl = DocxTemplate(TEMPLATE)
    tpl.render(ctx, jinja_env=jinja2.Environment(autoescape=True), autoescape=True)
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


def rate(fn, n: int) -> tuple[float, float]:
    """Median seconds per call over n calls, and calls per second."""
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    median = statistics.median(times)
    return median, 1 / median


def bench_docx(n: int) -> None:
    print("== DOCX (un cœur, médiane) ==")
    prepared = PreparedTemplate(TEMPLATE)
    for postes in (3, 60):
        ctx = context_for(postes)
        assert text_of(prepared.render(ctx)) == text_of(stock_render(ctx)), "texte différent de docxtpl"
        stock_s, stock_rate = rate(lambda: stock_render(ctx), max(20, n // 10))
        fast_s, fast_rate = rate(lambda: prepared.render(ctx), n)
        print(f"{postes:>3} postes : docxtpl {stock_s * 1000:6.1f} ms ({stock_rate:5.1f}/s) | "
              f"conum {fast_s * 1000:6.2f} ms ({fast_rate:6.1f}/s) | ×{fast_rate / stock_rate:.1f}")


def bench_memory(renders: int = 1000) -> None:
    print("== Mémoire d'un worker sur 1 000 rendus ==")
    prepared = PreparedTemplate(TEMPLATE)
    ctx = context_for(3)
    process = psutil.Process()
    for _ in range(20):
        prepared.render(ctx)
    gc.collect()
    gc.freeze()
    samples = []
    for i in range(renders):
        prepared.render(ctx)
        if i % 100 == 99:
            samples.append(process.memory_info().rss / 2**20)
    print("RSS (Mio) tous les 100 rendus : " + " ".join(f"{s:.0f}" for s in samples))
    print(f"écart premier/dernier : {samples[-1] - samples[0]:+.1f} Mio")


def bench_pdf(n: int, soffice_n: int) -> None:
    from dossiers.adapters.libreoffice import SofficeConverter, UnoserverPool

    settings = Settings.from_env()
    docx = PreparedTemplate(TEMPLATE).render(context_for(3))
    print("== PDF/A (document de la démo, 3 postes) ==")
    unoserver_bin = settings.effective_unoserver_bin
    if unoserver_bin:
        size = settings.converter_pool_size
        t = time.perf_counter()
        pool = UnoserverPool.start(unoserver_bin, size=size, base_dir=settings.var_dir / "bench-converter")
        print(f"pool de {size} convertisseur(s) prêt en {time.perf_counter() - t:.1f} s")
        try:
            for _ in range(size):
                pool.convert(docx)
            t = time.perf_counter()
            with ThreadPoolExecutor(max_workers=size) as ex:
                list(ex.map(lambda _: pool.convert(docx), range(n)))
            warm = n / (time.perf_counter() - t)
            print(f"pool chaud : {warm:.2f} conversions/s ({n} documents, {size} fils)")
        finally:
            pool.close()
    else:
        warm = None
        print("unoserver absent (make uno) : pool non mesuré")
    with tempfile.TemporaryDirectory() as tmp:
        soffice = SofficeConverter(settings.soffice_bin, profile_dir=Path(tmp) / "profile")
        soffice.convert(docx)  # profile creation is not part of the steady state
        t = time.perf_counter()
        for _ in range(soffice_n):
            soffice.convert(docx)
        one_shot = soffice_n / (time.perf_counter() - t)
        soffice.close()
    print(f"soffice ponctuel : {one_shot:.2f} conversions/s ({soffice_n} documents, séquentiel)")
    if warm:
        print(f"rapport pool chaud / soffice : ×{warm / one_shot:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docx-n", type=int, default=300)
    parser.add_argument("--pdf-n", type=int, default=24)
    parser.add_argument("--soffice-n", type=int, default=4)
    parser.add_argument("--skip-pdf", action="store_true")
    args = parser.parse_args()
    bench_docx(args.docx_n)
    bench_memory()
    if not args.skip_pdf:
        bench_pdf(args.pdf_n, args.soffice_n)


if __name__ == "__main__":
    main()
