"""Benchmark of the HTTP API on loopback: requests per second and p50/p99 latency. Prints its figures.

    .venv/bin/python bench/api.py [--conventions 2000] [--concurrency 32] [--seconds 10]
                                  [--warmup 2] [--api-workers 1[,2]]

Setup, all in a temporary CONUM_VAR_DIR (embedded SQLite catalog, local storage), removed at the end:

* seeding: N conventions generated in this process by the real use case (``generate_convention``:
  validation, figures, DOCX render, PDF stamping, storage, catalog) for N distinct demandes spread
  over the départements 33, 75, 69 and 13, half publiques (« Commune de … »), half privées
  (« Association … »). LibreOffice is not used: the converter returns one fixed two-page PDF made
  once with reportlab, so every stored PDF is that document stamped with its convention's id. Four
  threads share one ``App`` (storage fsyncs and SQLite waits release the GIL). The seeding time is
  printed: on the 2-core development machine some 40 ms per convention on one thread and 25 to 40 ms
  with four (catalog insert, two fsynced files, pypdf stamping, DOCX render), so the default 2 000
  take about a minute, as long as the measurements; ``--conventions`` lowers it;
* ``conum serve --workers W`` as a subprocess on a free port with the rate limiter set out of reach
  (API_RATE_LIMIT, API_RATE_BURST), and one instructeur token for département 33 made by
  ``conum token create``: every list is scoped to a quarter of the catalog.

Then, for each worker count W of ``--api-workers``, each scenario runs for ``--seconds`` after
``--warmup`` untimed seconds, with ``--concurrency`` requests in flight, each from its own
httpx.AsyncClient holding one HTTP/1.1 keep-alive connection (one shared client with a pool of 32
connections costs more client CPU per request the more connections it holds: on 2 cores it
delivered 90 /healthz per second at 32 in flight against 230 for this layout):

* healthz: ``GET /healthz``, the floor: no token check, no catalog; what the client, uvicorn and FastAPI
  cost per request on this machine, to read the other rows against;
* liste: ``GET /v1/conventions?limit=50`` (first page of the token's conventions, count included);
* filtre: ``GET /v1/conventions?limit=50&q=Commune&statut=a_signer`` (substring match and status);
* pdf: ``GET /v1/conventions/{id}/versions/1/document.pdf``, cycling over the token's conventions
  (catalog lookups, the file read back and checked against its SHA-256, one audit row written).

A request's latency runs from the send to the last byte of the body; the rate is the responses
received over the scenario's wall time. Any response but a 200 (or a PDF body not starting with
``%PDF-``) is an error: counted in the table, shown after it, and the exit status is 1.
The load generator runs on the same cores as the server: the CPU seconds each side used per second
of measurement are printed, and a client near 100 % (one core, one Python thread) means the figure
is the client's limit, not the API's. The load average at the start is printed too: other work on
the machine moves these figures a lot.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import itertools
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import psutil
from stdnum import luhn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dossiers.settings import ENV_VARS, Settings  # noqa: E402
from tests.conftest import _free_port  # noqa: E402
from tests.factories import demande  # noqa: E402

CONUM = ROOT / ".venv" / "bin" / "conum"
DEPARTEMENTS = ("33", "75", "69", "13")
SCOPE = "33"  # the token's département
OUT_OF_REACH = "1000000"  # API_RATE_LIMIT / API_RATE_BURST: the settings' maximum
SEED_THREADS = 4


# -- seeding ---------------------------------------------------------------------------------------
class StaticPdf:
    """A converter that ignores the DOCX and returns one fixed PDF (made once with reportlab)."""

    def __init__(self, pages: int = 2) -> None:
        from reportlab.lib.pagesizes import A4
        from reportlab.pdfgen import canvas

        out = io.BytesIO()
        pdf = canvas.Canvas(out, pagesize=A4, pageCompression=1)
        pdf.setTitle("Convention de subvention (bench)")
        for page in range(1, pages + 1):
            pdf.setFont("Helvetica-Bold", 14)
            pdf.drawString(72, 780, f"Convention de subvention Conseiller numérique — page {page}")
            pdf.setFont("Helvetica", 10)
            for line in range(60):
                pdf.drawString(72, 750 - 11 * line, f"Article {line + 1}. La structure s'engage à accueillir "
                                                     "le conseiller numérique dans les conditions prévues.")
            pdf.showPage()
        pdf.save()
        self.pdf = out.getvalue()

    def convert(self, docx: bytes) -> bytes:
        return self.pdf

    def close(self) -> None:
        pass


def siret_for(i: int) -> str:
    """A distinct SIRET per ``i`` whose SIREN and SIRET both carry a valid Luhn key."""
    siren = f"{30_000_000 + i:08d}"
    siren += luhn.calc_check_digit(siren)
    base = siren + f"{1 + i % 9000:04d}"
    return base + luhn.calc_check_digit(base)


def demande_for(i: int) -> dict[str, object]:
    departement = DEPARTEMENTS[i % len(DEPARTEMENTS)]
    # nature changes every len(DEPARTEMENTS) demandes, so that each département gets both
    publique = (i // len(DEPARTEMENTS)) % 2 == 0
    return demande(
        structure__id=f"STR-B{i:06d}",
        structure__siret=siret_for(i),
        structure__denomination=f"Commune de Benchville-{i}" if publique else f"Association Numérique Solidaire {i}",
        structure__nature="publique" if publique else "privee",
        structure__categorie_juridique="7210" if publique else "9220",
        structure__departement=departement,
        structure__adresse=f"1 place de la Mairie, {departement}000 Benchville",
    )


@dataclass
class Catalog:
    """What the scenarios need to know about the seeded catalog (within the token's scope)."""

    visible: list[str] = field(default_factory=list)  # convention ids in SCOPE
    visible_communes: int = 0  # of which publiques (« Commune de … »)


def seed(settings: Settings, n: int) -> Catalog:
    from dossiers.bootstrap import App
    from dossiers.services.generation import Generated, generate_convention

    seeded = Catalog()
    converter = StaticPdf()
    today, now = date.today(), datetime.now(UTC)
    with App(settings, converter=converter) as app:

        def one(i: int) -> Generated:
            return generate_convention(demande_for(i), app, today=today, now=now)

        pool = ThreadPoolExecutor(max_workers=SEED_THREADS)
        try:
            for generated in pool.map(one, range(n)):
                structure = generated.demande.structure
                if structure.departement == SCOPE:
                    seeded.visible.append(generated.version.convention_id)
                    seeded.visible_communes += str(structure.nature) == "publique"
        finally:
            pool.shutdown(cancel_futures=True)  # interrupted or failed: the queued demandes are dropped
    converter.close()
    return seeded


# -- the server ------------------------------------------------------------------------------------
def bench_env(var_dir: Path, workers: int = 1) -> dict[str, str]:
    """This environment without any conum variable, plus the bench's own."""
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    env.update(CONUM_VAR_DIR=str(var_dir), API_RATE_LIMIT=OUT_OF_REACH, API_RATE_BURST=OUT_OF_REACH,
               API_WORKERS=str(workers))
    return env


def create_token(env: dict[str, str]) -> str:
    done = subprocess.run([str(CONUM), "token", "create", "--role", "instructeur", "--departement", SCOPE,
                           "--nom", "bench", "--json"], env=env, capture_output=True, text=True, timeout=60,
                          check=False)
    if done.returncode != 0:
        sys.exit(f"conum token create a échoué ({done.returncode}) :\n{done.stdout}{done.stderr}")
    return str(json.loads(done.stdout)["token"])


class Server:
    """``conum serve`` in its own session (uvicorn's worker processes included)."""

    def __init__(self, env: dict[str, str], workers: int, log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen([str(CONUM), "serve", "--port", str(self.port), "--workers", str(workers)],
                                         env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def tail(self, lines: int = 30) -> str:
        """The end of the server's log, without uvicorn's access lines."""
        kept = [line for line in self.log.read_text(errors="replace").splitlines() if 'HTTP/1.1" ' not in line]
        return "\n".join(kept[-lines:])

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"conum serve s'est arrêté (code {self.proc.returncode}) :\n{self.tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1, trust_env=False).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        sys.exit(f"conum serve ne répond pas sur /healthz après {timeout:.0f} s :\n{self.tail()}")

    def cpu_seconds(self) -> float:
        """User + system CPU of the server and its worker processes so far."""
        try:
            root = psutil.Process(self.proc.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0.0
        total = 0.0
        for p in procs:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return total

    def stop(self) -> None:
        """SIGTERM (uvicorn shuts its workers down), then SIGKILL to the session if it lingers."""
        if self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the session this bench started (pgid = its pid)
            self.proc.wait(timeout=15)


@contextmanager
def serving(env: dict[str, str], workers: int, log: Path) -> Iterator[Server]:
    server = Server(env, workers, log)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


# -- load ------------------------------------------------------------------------------------------
@dataclass
class Scenario:
    name: str
    path: Callable[[int], str]  # the path of the k-th request
    pdf: bool = False


@dataclass
class Figures:
    scenario: str
    latencies: list[float]  # seconds, one per response received (non-200 included)
    elapsed: float
    errors: list[str]
    client_cpu: float  # CPU seconds per second of measurement
    server_cpu: float

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.elapsed

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile, in milliseconds."""
        ordered = sorted(self.latencies)
        return 1000 * ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else math.nan


def problem(response: httpx.Response, pdf: bool) -> str | None:
    if response.status_code != 200:
        return f"{response.request.url.path} : HTTP {response.status_code} {response.text[:200]!r}"
    if pdf and not response.content.startswith(b"%PDF-"):
        return f"{response.request.url.path} : pas un PDF ({response.content[:20]!r})"
    return None


async def hammer(clients: list[httpx.AsyncClient], scenario: Scenario,
                 seconds: float) -> tuple[list[float], list[str], float]:
    """One loop per client, each sending requests back to back until ``seconds`` have passed."""
    latencies: list[float] = []
    errors: list[str] = []
    counter = itertools.count()
    deadline = time.perf_counter() + seconds

    async def loop(client: httpx.AsyncClient) -> None:
        while time.perf_counter() < deadline:
            path = scenario.path(next(counter))
            sent = time.perf_counter()
            try:
                response = await client.get(path)  # the body is read before this returns
            except httpx.HTTPError as exc:
                errors.append(f"{path} : {exc!r}")
                continue
            latencies.append(time.perf_counter() - sent)
            if (found := problem(response, scenario.pdf)) is not None:
                errors.append(found)

    started = time.perf_counter()
    await asyncio.gather(*(loop(client) for client in clients))
    return latencies, errors, time.perf_counter() - started


async def measure(server: Server, token: str, scenarios: list[Scenario], args: argparse.Namespace) -> list[Figures]:
    # One client per request in flight, each with its one keep-alive connection: a single client
    # with a pool of 32 connections spends CPU on every request scanning the whole pool (httpcore
    # 1.0), and on 2 cores gave less than half the rate of this layout on /healthz.
    clients = [httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60,
                                 limits=httpx.Limits(max_connections=1, max_keepalive_connections=1), trust_env=False)
               for _ in range(args.concurrency)]
    results = []
    try:
        for scenario in scenarios:
            await hammer(clients, scenario, args.warmup)  # connections open, caches warm
            client_cpu, server_cpu = time.process_time(), server.cpu_seconds()
            latencies, errors, elapsed = await hammer(clients, scenario, args.seconds)
            results.append(Figures(scenario.name, latencies, elapsed, errors,
                                   (time.process_time() - client_cpu) / elapsed,
                                   (server.cpu_seconds() - server_cpu) / elapsed))
            if server.proc.poll() is not None:  # nothing left to measure
                break
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    return results


def check_totals(server: Server, token: str, seeded: Catalog) -> None:
    """The lists answer what was seeded (scope and filter applied), before anything is timed."""
    headers = {"Authorization": f"Bearer {token}"}
    expected = {"/v1/conventions?limit=50": len(seeded.visible),
                "/v1/conventions?limit=50&q=Commune&statut=a_signer": seeded.visible_communes}
    for path, total in expected.items():
        response = httpx.get(server.url + path, headers=headers, timeout=60, trust_env=False)
        if response.status_code != 200:
            sys.exit(f"{path} : HTTP {response.status_code} {response.text[:300]}")
        if response.json()["total"] != total:
            sys.exit(f"{path} : total {response.json()['total']}, attendu {total}")


def scenarios_for(seeded: Catalog) -> list[Scenario]:
    ids = seeded.visible
    return [
        Scenario("healthz", lambda _: "/healthz"),
        Scenario("liste", lambda _: "/v1/conventions?limit=50"),
        Scenario("filtre", lambda _: "/v1/conventions?limit=50&q=Commune&statut=a_signer"),
        Scenario("pdf", lambda k: f"/v1/conventions/{ids[k % len(ids)]}/versions/1/document.pdf", pdf=True),
    ]


def print_table(workers: int, results: list[Figures]) -> None:
    print(f"\n== {workers} processus API ==")
    print(f"{'scénario':9} {'requêtes':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'erreurs':>8}"
          f" {'CPU client':>11} {'CPU serveur':>12}")
    for r in results:
        print(f"{r.scenario:9} {len(r.latencies):9d} {r.rps:8.1f} {r.percentile(50):8.1f} {r.percentile(99):8.1f}"
              f" {len(r.errors):8d} {r.client_cpu:10.0%} {r.server_cpu:11.0%}")


def parse_workers(value: str) -> list[int]:
    try:
        counts = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("attendu des entiers séparés par des virgules (ex. 1,2)") from None
    if not counts or any(not 1 <= c <= 64 for c in counts):
        raise argparse.ArgumentTypeError("entre 1 et 64 processus")
    return counts


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conventions", type=int, default=2000, help="conventions générées dans le catalogue")
    parser.add_argument("--concurrency", type=int, default=32, help="requêtes en vol")
    parser.add_argument("--seconds", type=float, default=10, help="durée mesurée par scénario")
    parser.add_argument("--warmup", type=float, default=2, help="durée non mesurée avant chaque scénario")
    parser.add_argument("--api-workers", type=parse_workers, default=[1], metavar="W[,W…]",
                        help="processus uvicorn ; plusieurs valeurs : une série par valeur (ex. 1,2)")
    args = parser.parse_args()
    if args.conventions < len(DEPARTEMENTS):
        parser.error(f"--conventions : au moins {len(DEPARTEMENTS)}")
    if not CONUM.exists():
        sys.exit(f"{CONUM} introuvable (make venv)")

    # SIGTERM unwinds like Ctrl-C, so the server is stopped and the temp dir removed either way
    signal.signal(signal.SIGTERM, _interrupted)
    base = Path(tempfile.mkdtemp(prefix="conum-bench-api-"))
    failures: list[str] = []
    try:
        env = bench_env(base / "var")
        started = time.perf_counter()
        seeded = seed(Settings.from_env(env), args.conventions)
        seeding = time.perf_counter() - started
        print(f"{args.conventions} conventions générées en {seeding:.1f} s ({1000 * seeding / args.conventions:.1f} ms "
              f"chacune, PDF fixe sans LibreOffice) ; {len(seeded.visible)} dans le département {SCOPE} du jeton, "
              f"dont {seeded.visible_communes} communes")
        token = create_token(env)
        print(f"{len(os.sched_getaffinity(0))} cœurs (charge moyenne sur 1 min : {os.getloadavg()[0]:.1f}) ; "
              f"{args.concurrency} requêtes en vol, {args.seconds:g} s par scénario après {args.warmup:g} s de "
              "chauffe ; client et serveur sur la même machine (boucle locale)")
        for workers in args.api_workers:
            with serving(bench_env(base / "var", workers), workers, base / f"serve-{workers}.log") as server:
                check_totals(server, token, seeded)
                results = asyncio.run(measure(server, token, scenarios_for(seeded), args))
                print_table(workers, results)
                errors = [f"{workers} processus, {r.scenario} : {e}" for r in results for e in r.errors[:5]]
                if server.proc.poll() is not None:
                    errors.append(f"conum serve s'est arrêté pendant la mesure (code {server.proc.returncode})")
                if errors:  # the log goes with the temp dir: keep its end
                    failures += [*errors, f"fin du journal de conum serve :\n{server.tail()}"]
    except KeyboardInterrupt:
        sys.exit("interrompu")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    if failures:
        print("\nERREURS (5 premières par scénario) :", *failures, sep="\n", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
