"""The DS sync on fakes (``MemoryDs`` for DS): one run takes every dossier of the démarche over several pages
and submits one job per dossier and per file, each file downloaded and staged under its SHA-256; a second run
takes nothing; a changed dossier is taken again; a file whose bytes are not those DS announced is an error
of that dossier only, the others going on."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dossiers.adapters.ds.memory import MemoryDs
from dossiers.bootstrap import App
from dossiers.domain.jobs import Job, JobStatus
from dossiers.services.ds import Rapport, load_mapping, sync_demarche
from tests.fixtures.ds_server import DEMARCHE, MAPPING, champs_exemple
from tests.fixtures.rib import rib_pdf

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


class Soumissions:
    """The sync's ``submit``: records (actor, kwargs), answers a queued job."""

    def __init__(self) -> None:
        self.faites: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, actor: str, kwargs: dict[str, Any]) -> Job:
        self.faites.append((actor, kwargs))
        return Job(id=f"job-{len(self.faites)}", actor=actor, queue="ds", args=kwargs, status=JobStatus.QUEUED,
                   created_at=NOW)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _node(ds: MemoryDs, i: int, modified: datetime, *, rib: bytes | None = None) -> dict[str, Any]:
    files = {"rib": [ds.fichier(f"rib-{i}.pdf", rib, created_at=_iso(modified))]} if rib is not None else {}
    return {"id": base64.b64encode(f"Dossier-{i}".encode()).decode(), "number": i, "archived": False,
            "dateDepot": _iso(modified), "dateDerniereModification": _iso(modified), "state": "en_construction",
            "motivation": None, "messages": [], "annotations": [],
            "usager": {"id": f"usager-{i}", "email": f"usager{i}@structure.example"},
            "champs": champs_exemple(i, fichiers=files)}


def _rib(i: int) -> bytes:
    return rib_pdf(titulaire=f"COMMUNE N {i}", iban="FR76 3000 6000 0112 3456 7890 189", bic="AGRIFRPP")


@pytest.fixture
def run(fakes_app: App, tmp_path: Path) -> Any:
    config = tmp_path / "ds"
    config.mkdir()
    (config / f"{DEMARCHE}.toml").write_text(MAPPING.read_text(encoding="utf-8").split("[ecriture]")[0],
                                             encoding="utf-8")
    correspondance = load_mapping(config, DEMARCHE)

    def once(ds: MemoryDs, soumissions: Soumissions, now: datetime = NOW) -> Rapport:
        return sync_demarche(fakes_app, ds, correspondance, now=now, submit=soumissions, page_size=2)

    return once


def test_every_dossier_is_taken_over_pages_then_only_what_changed(fakes_app: App, run: Any) -> None:
    ds = MemoryDs()
    ribs = {i: _rib(i) for i in (1, 2, 3, 4, 5, 40)}
    for i in range(1, 6):
        ds.put_dossier(DEMARCHE, _node(ds, i, NOW - timedelta(hours=6 - i), rib=ribs[i]))
    first = Soumissions()
    rapport = run(ds, first)
    assert rapport.complet and rapport.erreurs == [] and (len(rapport.importes), rapport.telecharges) == (5, 5)
    assert sorted(actor for actor, _ in first.faites) == ["dossier"] * 5 + ["validate"] * 5
    staged = {kw["dossier_id"]: kw for actor, kw in first.faites if actor == "validate"}
    third = staged["DOS-V2-STR-000003"]
    sha = hashlib.sha256(ribs[3]).hexdigest()
    assert (third["kind"], third["filename"], third["piece_key"]) == ("rib", "rib-3.pdf", f"televersements/{sha}")
    assert fakes_app.storage.get(third["piece_key"], sha256=sha) == ribs[3]  # kept as downloaded, in MemoryStorage
    assert len(ds.downloads) == 5

    again = Soumissions()
    assert run(ds, again).importes == [] and again.faites == [] and len(ds.downloads) == 5

    ds.put_dossier(DEMARCHE, _node(ds, 2, NOW + timedelta(minutes=5), rib=ribs[2]))  # same file, its dossier touched
    ds.put_dossier(DEMARCHE, _node(ds, 4, NOW + timedelta(minutes=6), rib=ribs[40]))  # a new RIB
    changed = Soumissions()
    rapport = run(ds, changed, NOW + timedelta(minutes=10))
    # read again: the last one of the first run (DS's « since » includes it) and the two touched; the one whose
    # content did not change is left as it was
    assert (rapport.lus, rapport.inchanges, rapport.erreurs) == (3, 2, [])
    assert [d["number"] for d in rapport.importes] == [4] and len(ds.downloads) == 6
    assert [(kw["dossier_id"], kw["piece_key"]) for actor, kw in changed.faites if actor == "validate"] == [
        ("DOS-V2-STR-000004", f"televersements/{hashlib.sha256(ribs[40]).hexdigest()}")]


def test_a_file_altered_on_the_way_is_that_dossiers_error_only(fakes_app: App, run: Any) -> None:
    ds = MemoryDs()
    for i in (1, 2):
        ds.put_dossier(DEMARCHE, _node(ds, i, NOW - timedelta(hours=3 - i), rib=_rib(i)))
    bad = ds.dossiers[2]["champs"]
    url = next(f["url"] for c in bad if c.get("label") == "RIB" for f in c.get("files", []))
    ds.files[url] = ds.files[url][:-1] + b"\x00"
    soumissions = Soumissions()
    rapport = run(ds, soumissions)
    assert [e["number"] for e in rapport.erreurs] == [2] and "somme de contrôle" in str(rapport.erreurs[0])
    assert [kw.get("dossier_id") for actor, kw in soumissions.faites if actor == "validate"] == ["DOS-V2-STR-000001"]
