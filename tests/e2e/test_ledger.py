"""`conum ledger verify`, `conum ledger anchor` and `conum verify FICHIER` as an operator or an auditor types
them, on a catalog of 1 000 issued documents (the first two through `conum generate` and LibreOffice, the
rest inscribed by the service the generation path calls), a real TSA and the local WORM archive."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from dossiers.bootstrap import App
from dossiers.domain.registre import Inscription, Nature
from dossiers.services.registre import inscrire_tous
from dossiers.settings import Settings
from tests.e2e.test_cli import run, write
from tests.factories import demande


def _fill(var: Path, upto: int) -> None:
    """Inscribe documents two by two (a DOCX and a PDF per version) until the ledger holds ``upto``."""
    with App(Settings(var_dir=var)) as app:
        head = app.catalog.registre_head()
        start = head.sequence if head else 0
        now = app.clock.now()
        for n in range(start, upto, 2):
            inscrire_tous(app, [Inscription(Nature.DOCUMENT, f"conventions/CN-{n}/v1/{n}.{kind}",
                                            hashlib.sha256(f"{n}{kind}".encode()).hexdigest())
                                for kind in ("docx", "pdf")], now=now)


@pytest.mark.libreoffice
def test_the_ledger_of_a_thousand_documents_verifies_proves_a_file_and_fails_after_one_changed_row(
        tmp_path: Path, pool_urls: str, pki, tsa_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TSA_URL", tsa_url)
    monkeypatch.setenv("SIGNATURE_TRUST_ROOTS", str(pki.racines))
    generated = run(["generate", str(write(tmp_path, demande())), "--out", "out", "--json"], tmp_path, pool_urls)
    assert generated.returncode == 0, generated.stderr
    pdf = Path(json.loads(generated.stdout)["pdf"])

    first = run(["ledger", "verify", "--json"], tmp_path)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["entrees"] == 2  # the convention's DOCX and PDF

    _fill(tmp_path / "var", 1000)
    anchored = run(["ledger", "anchor"], tmp_path)
    assert anchored.returncode == 0, anchored.stderr
    assert "Tête du registre horodatée : séquence 1000" in anchored.stdout
    assert (tmp_path / "var" / "archive").exists()

    verified = run(["ledger", "verify"], tmp_path)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "Registre intact : 1000 entrée(s)" in verified.stdout
    assert "1 ancrage(s) vérifié(s) ; dernier : séquence 1000 horodatée le" in verified.stdout

    proof = run(["verify", str(pdf)], tmp_path)
    assert proof.returncode == 0, proof.stderr
    assert "registre : entrée 2 (document, conventions/CN-V2-STR-000123/" in proof.stdout
    assert "preuve : 999 maillon(s) recalculé(s) de la séquence 2 à 1000, horodatée le" in proof.stdout
    as_json = json.loads(run(["verify", str(pdf), "--json"], tmp_path).stdout)
    entry = as_json["registre"][0]
    assert entry["valide"] and entry["entree"]["sha256"] == hashlib.sha256(pdf.read_bytes()).hexdigest()
    assert entry["ancrage"]["sequence"] == 1000 and entry["horodatage"]

    with sqlite3.connect(tmp_path / "var" / "conum.db") as db:
        db.execute("UPDATE registre SET sha256 = ? WHERE sequence = 500", ("f" * 64,))
    broken = run(["ledger", "verify"], tmp_path)
    assert broken.returncode == 1
    assert "Registre ROMPU à la séquence 500 :" in broken.stdout and "ligne modifiée" in broken.stdout
    as_json = json.loads(run(["ledger", "verify", "--json"], tmp_path).stdout)
    assert as_json["intact"] is False and as_json["rupture"]["sequence"] == 500
    assert as_json["rupture"]["code"] == "empreinte_alteree"
    assert run(["verify", str(pdf)], tmp_path).returncode == 1  # its proof goes through row 500


def test_a_deleted_row_fails_the_verification_and_anchoring_without_a_tsa_says_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TSA_URL", raising=False)
    _fill(tmp_path / "var", 1000)
    assert run(["ledger", "verify"], tmp_path).returncode == 0
    anchor = run(["ledger", "anchor"], tmp_path)
    assert anchor.returncode == 3 and "TSA_URL n'est pas configurée" in anchor.stderr
    assert json.loads(run(["ledger", "anchor", "--json"], tmp_path).stdout)["error"]["code"] == \
        "horodatage_non_configure"
    with sqlite3.connect(tmp_path / "var" / "conum.db") as db:
        db.execute("DELETE FROM registre WHERE sequence = 321")
    broken = run(["ledger", "verify"], tmp_path)
    assert broken.returncode == 1
    assert "Registre ROMPU à la séquence 321 : la séquence 321 est absente" in broken.stdout
