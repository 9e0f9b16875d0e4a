"""A clause changed in LibreOffice goes through the check and into the PDF of a generated convention:
the .docx is the source of the legal text, edited with the legal service's own tool.

The edit is LibreOffice's, by script (``tests/fixtures/lo_edit_clause.py``, run with Debian's Python
which has ``uno``): it opens a copy of ``templates/convention.docx``, retypes one clause and saves it
in Word format, with all the noise LibreOffice adds. Then, as a person types it: ``conum templates
check`` (the projection is stale), ``conum templates text``, ``conum templates check`` (clean),
``conum generate`` with ``CONUM_TEMPLATES_DIR`` on the copy; the new clause is in the PDF.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.conftest import IN_CI
from tests.factories import ROOT, demande

CONUM = str(Path(sys.executable).parent / "conum")
EDIT = ROOT / "tests" / "fixtures" / "lo_edit_clause.py"
OLD = "Les annexes font partie intégrante de la convention"
NEW = ("Clause ajoutée par le service juridique : la Structure informe la CDC de tout changement de son adresse dans "
       "un délai de quinze jours, sans préjudice de l'article 7.")


def conum(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "CONUM_VAR_DIR": str(cwd / "var"), **env}
    return subprocess.run([CONUM, *args], capture_output=True, text=True, env=full, cwd=cwd, timeout=180)


def flat(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").replace("\u2019", "'").split())


@pytest.mark.libreoffice
def test_a_clause_changed_in_libreoffice_is_checked_and_printed_in_the_pdf(tmp_path: Path, pool_urls: str) -> None:
    if not Path("/usr/bin/python3").exists() or subprocess.run(["/usr/bin/python3", "-c", "import uno"]).returncode:
        if IN_CI:
            pytest.fail("/usr/bin/python3 sans uno (python3-uno) : CI=true exige LibreOffice")
        pytest.skip("/usr/bin/python3 sans uno (python3-uno)")
    modeles = tmp_path / "modeles"
    shutil.copytree(ROOT / "templates", modeles)
    edited = subprocess.run(["/usr/bin/python3", str(EDIT), str(modeles / "convention.docx"), OLD, NEW,
                             str(tmp_path / "profil-lo")], capture_output=True, text=True, timeout=120)
    assert edited.returncode == 0, edited.stderr
    assert (modeles / "convention.docx").read_bytes() != (ROOT / "templates" / "convention.docx").read_bytes()

    stale = conum(["templates", "check", str(modeles / "convention.docx"), "--json"], tmp_path)
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert [c["code"] for c in json.loads(stale.stdout)["constats"]] == ["projection_perimee"]
    written = conum(["templates", "text", str(modeles / "convention.docx")], tmp_path)
    assert written.returncode == 0, written.stderr
    projection = (modeles / "convention.txt").read_text(encoding="utf-8")
    assert flat(NEW) in flat(projection) and OLD not in projection
    checked = conum(["templates", "check", str(modeles / "convention.docx")], tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "conforme" in checked.stdout

    (tmp_path / "demande.json").write_text(json.dumps(demande(), ensure_ascii=False), encoding="utf-8")
    generated = conum(["generate", "demande.json", "--out", "out", "--json"], tmp_path,
                      CONUM_TEMPLATES_DIR=str(modeles), CONVERTER_URLS=pool_urls)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    pdf = PdfReader(json.loads(generated.stdout)["pdf"])
    text = flat(" ".join(page.extract_text() or "" for page in pdf.pages))
    assert flat(NEW) in text
    assert flat(OLD) not in text and "127 500,00 €" in text
