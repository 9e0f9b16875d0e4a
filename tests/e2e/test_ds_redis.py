"""``conum ds sync`` as deployed: the command submits to a real Redis broker, ``conum worker`` validates
the dossiers and pieces and writes back to the fake DS once their checks have ended (the write-back
waits for them, retried by Dramatiq); a second sync does nothing. SQLite catalog shared by the processes."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dossiers.domain.jobs import JobStatus
from dossiers.settings import Settings
from tests.e2e.test_workers_redis import CONUM, Workers, group_alive, wait_until, worker_env
from tests.fixtures.ds_server import DEMARCHE, MAPPING, TOKEN, champs_exemple, rib, running_fake

pytestmark = pytest.mark.redis
N = 10


def test_sync_on_a_broker_writes_back_once_when_the_checks_have_ended(tmp_path: Path, redis_url: str) -> None:
    from dossiers.bootstrap import App

    config = tmp_path / "ds"
    config.mkdir()
    (config / f"{DEMARCHE}.toml").write_text(MAPPING.read_text(encoding="utf-8"), encoding="utf-8")
    with running_fake(datetime(2026, 5, 4, 8, 0, tzinfo=UTC)) as fake:
        for i in range(1, N + 1):
            fake.put_dossier(DEMARCHE, i, champs_exemple(i, fichiers={"rib": [rib(fake, i)]}))
        env = worker_env(tmp_path, database_url=f"sqlite:///{tmp_path / 'conum.db'}", broker_url=redis_url,
                         converter_urls=None, DS_API_URL=fake.url, DS_API_TOKEN=TOKEN,  # type: ignore[attr-defined]
                         DS_CONFIG_DIR=str(config))

        def sync() -> dict:
            done = subprocess.run([str(CONUM), "ds", "sync", "--demarche", str(DEMARCHE), "--json"], env=env,
                                  capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stdout + done.stderr
            return json.loads(done.stdout)

        group = Workers(env, tmp_path / "worker.log", processes=1, threads=2)
        try:
            group.wait_ready()
            first = sync()
            assert len(first["importes"]) == N and first["taches"] == 2 * N
            with App(Settings.from_env(env)) as app:
                def written() -> bool:
                    jobs = [j for j in app.catalog.list_jobs(limit=1000) if j.actor == "ds_write_back"]
                    return len(jobs) == N and all(j.status is JobStatus.SUCCEEDED for j in jobs)

                wait_until(written, timeout=120, what="écritures vers DS", workers=[group])
                jobs = app.catalog.list_jobs(limit=1000)
                assert {j.status for j in jobs} <= {JobStatus.SUCCEEDED, JobStatus.FAILED}
                assert {j.error["code"] for j in jobs if j.error} <= {"piece_invalide"}  # a finding, never a crash
            assert len(fake.sent("dossierModifierAnnotationText")) == N and len(fake.sent("dossierEnvoyerMessage")) == N
            second = sync()
            assert (second["importes"], second["taches"], second["fichiers_telecharges"]) == ([], 0, 0)
            assert len(fake.mutations) == 2 * N
        finally:
            group.stop(timeout=10)
        assert not group_alive(group.proc.pid)
