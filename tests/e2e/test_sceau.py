"""What conum issues carries its seal when a key is configured: a convention generated as a person types
it, the rapport de contrôle, the certificat d'archivage (also when its archiving is retried).

Real parts: LibreOffice (warm pool), the CLI in a child process, the test PKI and TSA on loopback,
child-process inspection, local storage with retention, SQLite.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dossiers.adapters.signature.sceau import CHAMP_SCEAU
from dossiers.bootstrap import App
from dossiers.errors import CatalogError
from dossiers.services.archive import archive_staged, stage
from dossiers.services.generation import generate_convention
from dossiers.services.validation import open_dossier, rapport_dossier
from dossiers.settings import Settings
from tests.e2e.test_cli import CONUM, write
from tests.factories import demande
from tests.fixtures.signature import signer
from tests.integration.test_sceau import assert_sealed
from tests.pki import PASSWORD

pytestmark = pytest.mark.libreoffice
CID = "CN-V2-STR-000123"
NOW = datetime.now(UTC).replace(microsecond=0)


def seal_env(pki: Any, tsa_url: str) -> dict[str, str]:
    return {"SEAL_PKCS12": str(pki.cachet), "SEAL_PKCS12_PASSWORD": PASSWORD.decode(), "TSA_URL": tsa_url}


def run(args: list[str], tmp_path: Path, pool_urls: str, extra: dict[str, str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "CONUM_VAR_DIR": str(tmp_path / "var"), "CONVERTER_URLS": pool_urls, "COLUMNS": "250",
           **extra}
    for name in ("SEAL_PKCS12", "SEAL_PKCS11_MODULE", "TSA_URL"):
        if name not in extra:
            env.pop(name, None)
    return subprocess.run([*CONUM, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)


def embedded(pdf: bytes) -> list[str]:
    from pyhanko.pdf_utils.reader import PdfFileReader

    return [s.field_name for s in PdfFileReader(io.BytesIO(pdf)).embedded_signatures]


def test_conum_generate_seals_the_convention_when_a_key_is_set_and_not_otherwise(
        tmp_path: Path, pool_urls: str, pki: Any, tsa_url: str) -> None:
    sealed_dir, plain_dir = tmp_path / "cachet", tmp_path / "sans"
    sealed_dir.mkdir()
    plain_dir.mkdir()
    result = run(["generate", str(write(sealed_dir, demande())), "--out", "out", "--json"], sealed_dir, pool_urls,
                 seal_env(pki, tsa_url))
    assert result.returncode == 0, result.stderr
    pdf = Path(json.loads(result.stdout)["pdf"]).read_bytes()
    assert_sealed(pdf, pki, timestamped=True)
    plain = run(["generate", str(write(plain_dir, demande())), "--out", "out", "--json"], plain_dir, pool_urls, {})
    assert plain.returncode == 0, plain.stderr
    assert embedded(Path(json.loads(plain.stdout)["pdf"]).read_bytes()) == []


def test_a_wrong_seal_password_stops_generate_with_its_code(tmp_path: Path, pool_urls: str, pki: Any) -> None:
    result = run(["generate", str(write(tmp_path, demande())), "--out", "out", "--json"], tmp_path, pool_urls,
                 {"SEAL_PKCS12": str(pki.cachet), "SEAL_PKCS12_PASSWORD": "faux"})
    assert result.returncode != 0
    assert "sceau_indisponible" in result.stdout + result.stderr and "Traceback" not in result.stderr


@pytest.fixture
def app(tmp_path: Path, pool: Any, pki: Any, tsa_url: str) -> Iterator[App]:
    settings = Settings(var_dir=tmp_path / "var", seal_pkcs12=pki.cachet, seal_pkcs12_password=PASSWORD.decode(),
                        tsa_url=tsa_url, signature_trust_roots=pki.racines)
    with App(settings, converter=pool) as application:
        generate_convention(demande(), application, today=date(2026, 11, 2), now=NOW - timedelta(days=1))
        yield application


def test_the_rapport_de_controle_is_sealed(app: App, pki: Any) -> None:
    dossier = open_dossier(demande(), app)
    rapport = rapport_dossier(dossier.id, app, now=NOW)
    assert rapport.pdf.startswith(b"%PDF-")
    assert_sealed(rapport.pdf, pki, timestamped=True)


def test_a_retried_archive_keeps_the_sealed_certificate_it_already_stored(app: App, pki: Any) -> None:
    ref = app.catalog.get_convention(CID).current.document("pdf")
    issued = app.storage.get(ref.key, sha256=ref.sha256)
    assert embedded(issued) == [CHAMP_SCEAU]
    signed = signer(issued, pki.camille_exemple, champ="SignatureStructure", provided=True)  # the representative
    key = stage(signed, app)

    # the certificate is stored under retention, then the catalog fails before recording it
    record_archived = app.catalog.record_archived

    def outage(*args: Any, **kwargs: Any) -> None:
        raise CatalogError("panne simulée du catalogue")

    app.catalog.record_archived = outage
    with pytest.raises(CatalogError):
        archive_staged(key, CID, app, now=NOW)
    app.catalog.record_archived = record_archived
    stored = sorted(p for p in app.settings.effective_archive_dir.rglob("*.certificat.pdf"))
    assert len(stored) == 1
    first = stored[0].read_bytes()

    # the job is retried: same key, the same certificate bytes, no ObjectExists
    record = archive_staged(key, CID, app, now=NOW + timedelta(minutes=1))
    assert record.statut == "archive", record.findings
    certificat = app.archive.get(record.certificat_key, sha256=record.certificat_sha256)
    assert certificat == first
    assert_sealed(certificat, pki, timestamped=True)
    assert sorted(app.settings.effective_archive_dir.rglob("*.certificat.pdf")) == stored
