"""``conum ds sync`` run as a user types it, against the fake DS on 127.0.0.1 (in-process broker)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.e2e.test_cli import run
from tests.fixtures.ds_server import DEMARCHE, MAPPING, TOKEN, FakeDs, champs_exemple, rib, running_fake


@pytest.fixture
def fake() -> Iterator[FakeDs]:
    with running_fake(datetime(2026, 3, 2, 8, 0, tzinfo=UTC)) as ds:
        yield ds


def env_for(tmp_path: Path, fake: FakeDs) -> dict[str, str]:
    config = tmp_path / "ds"
    config.mkdir(exist_ok=True)
    (config / f"{DEMARCHE}.toml").write_text(MAPPING.read_text(encoding="utf-8"), encoding="utf-8")
    return {"DS_API_URL": fake.url, "DS_API_TOKEN": TOKEN, "DS_CONFIG_DIR": str(config)}  # type: ignore[attr-defined]


def test_dry_run_then_sync_then_nothing_new(tmp_path: Path, fake: FakeDs) -> None:
    """--dry-run downloads nothing and lists what it would take; the sync takes it (a refused dossier: exit 1
    with its French message); a second sync takes nothing."""
    if os.environ.get("BROKER_URL"):
        pytest.skip("the CLI runs the jobs in its own process here")
    for i in (1, 2, 3):
        fake.put_dossier(DEMARCHE, i, champs_exemple(i, fichiers={"rib": [rib(fake, i)]},
                                                     sans=("Dénomination",) if i == 3 else ()))
    env = env_for(tmp_path, fake)

    dry = run(["ds", "sync", "--demarche", str(DEMARCHE), "--dry-run", "--json"], tmp_path, extra_env=env)
    assert dry.returncode == 1, dry.stderr
    planned = json.loads(dry.stdout)
    assert planned["dry_run"] and [d["number"] for d in planned["importes"]] == [1, 2]
    assert planned["importes"][0]["pieces"] == [{"kind": "rib", "poste_id": None, "filename": "rib-1.pdf"}]
    assert fake.downloads == [] and planned["taches"] == 0

    done = run(["ds", "sync", "--demarche", str(DEMARCHE)], tmp_path, extra_env=env)
    assert done.returncode == 1, done.stderr
    assert "3 dossier(s) lu(s), 2 importés ou mis à jour" in done.stdout
    assert "dossier DS n° 3 refusé (ds_correspondance_invalide)" in done.stdout
    assert "le champ DS « Dénomination » est absent du dossier" in done.stdout
    assert len(fake.downloads) == 2

    fake.put_dossier(DEMARCHE, 3, champs_exemple(3))
    again = run(["ds", "sync", "--demarche", str(DEMARCHE), "--json"], tmp_path, extra_env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    report = json.loads(again.stdout)
    assert [d["number"] for d in report["importes"]] == [3] and report["fichiers_telecharges"] == 0
    assert len(fake.downloads) == 2


def test_a_missing_token_is_a_clear_error(tmp_path: Path, fake: FakeDs) -> None:
    """Without DS_API_TOKEN the command says so in French and exits 3, without a traceback."""
    env = env_for(tmp_path, fake) | {"DS_API_TOKEN": ""}
    result = run(["ds", "sync", "--demarche", str(DEMARCHE)], tmp_path, extra_env=env)
    assert result.returncode == 3 and "DS_API_TOKEN" in result.stderr and "Traceback" not in result.stderr
    wrong = run(["ds", "sync", "--demarche", str(DEMARCHE), "--json"], tmp_path, extra_env=env | {"DS_API_TOKEN": "faux"})
    assert wrong.returncode == 3 and json.loads(wrong.stdout)["error"]["code"] == "ds_refus"


def test_the_procfile_ds_line_runs_again_and_again_until_stopped(tmp_path: Path, fake: FakeDs) -> None:
    """The Procfile's ``ds`` line as written (the démarche from DS_DEMARCHE), with a 5 s interval: a pass,
    then the next one finds what changed on DS in between; SIGTERM stops it."""
    import shlex
    import signal
    import subprocess
    import time

    from dossiers.settings import ROOT
    from tests.e2e.test_cli import CONUM

    if os.environ.get("BROKER_URL"):
        pytest.skip("the CLI runs the jobs in its own process here")
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("ds:"))
    argv = shlex.split(line.partition(":")[2])
    assert argv[0] == "conum"
    fake.put_dossier(DEMARCHE, 1, champs_exemple(1))
    env = {**os.environ, **env_for(tmp_path, fake), "CONUM_VAR_DIR": str(tmp_path / "var"), "DS_DEMARCHE": str(DEMARCHE)}
    out, err = tmp_path / "ds.out", tmp_path / "ds.err"
    with out.open("w") as sink, err.open("w") as log:  # stderr: the jobs' JSON log lines
        proc = subprocess.Popen([*CONUM, *argv[1:], "--interval", "5", "--json"], stdout=sink, stderr=log, env=env,
                                cwd=tmp_path)
        try:
            def passes() -> list[dict]:
                return [json.loads(x) for x in out.read_text().splitlines() if x.startswith("{")]

            deadline = time.monotonic() + 120
            while len(passes()) < 1:
                assert time.monotonic() < deadline and proc.poll() is None, err.read_text()
                time.sleep(0.1)
            fake.put_dossier(DEMARCHE, 2, champs_exemple(2))
            while len(passes()) < 2:
                assert time.monotonic() < deadline and proc.poll() is None, err.read_text()
                time.sleep(0.1)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    first, second = passes()[:2]
    assert [d["number"] for d in first["importes"]] == [1]
    assert [d["number"] for d in second["importes"]] == [2]
