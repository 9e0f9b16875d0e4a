"""A structure returns its signed convention: checked against the issued version, archived under
retention with its certificate, findable by its hash; ID pieces deleted after the retention period.

Real parts: LibreOffice (warm pool), child-process inspection, local storage with retention, SQLite.
"""

from __future__ import annotations

import hashlib
import json
import io
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from dossiers.bootstrap import App
from dossiers.domain.pieces import PieceKind
from dossiers.services.archive import archive_signed_copy, archive_staged, purge_identite, stage, verify_file
from dossiers.services.generation import generate_convention
from dossiers.services.validation import add_piece, open_dossier, piece_key
from dossiers.settings import Settings
from tests.factories import demande
from tests.fixtures.identite import identite_image
from tests.fixtures.rib import rib_pdf
from tests.fixtures.signature import copie_signee

pytestmark = pytest.mark.libreoffice
CID = "CN-V2-STR-000123"
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def archive_app(tmp_path: Path, pool, pki) -> Iterator[App]:
    """An App on ``tmp_path/var`` that issued version 1 of ``CID``, trusting the test PKI's root."""
    settings = Settings(var_dir=tmp_path / "var", identite_retention_days=30, signature_trust_roots=pki.racines)
    with App(settings, converter=pool) as application:
        generate_convention(demande(), application, today=date(2026, 11, 2), now=NOW - timedelta(days=24))
        yield application


@pytest.fixture
def app(tmp_path: Path, pool, pki) -> Iterator[App]:
    yield from archive_app(tmp_path, pool, pki)


def issued_pdf(app: App) -> bytes:
    ref = app.catalog.get_convention(CID).current.document("pdf")
    return app.storage.get(ref.key, sha256=ref.sha256)


def test_a_digitally_signed_copy_is_archived_under_retention_with_its_certificate(app: App, pki) -> None:
    signed = copie_signee(issued_pdf(app), pki)  # the representative, then the CDC's agent
    before = hashlib.sha256(signed).hexdigest()
    record = archive_signed_copy(signed, CID, app, filename="convention-signee.pdf", now=NOW)
    assert record.statut == "archive", record.findings
    assert record.sha256 == before and record.version == 1
    assert [(s["signataire"], s["integre"], s["approuvee"]) for s in record.fields["signatures"]] == [
        ("Camille Exemple", True, True), ("Agent CDC", True, True)]
    assert record.retain_until == NOW + timedelta(days=3650)
    assert app.archive.get(record.storage_key, sha256=before) == signed  # never modified
    path = app.archive.path_of(record.storage_key)
    assert not os.access(path, os.W_OK) or os.stat(path).st_mode & 0o222 == 0  # read-only on disk
    with pytest.raises(Exception) as locked:
        app.archive.delete(record.storage_key)
    assert "conserv" in str(locked.value).lower() or "verrou" in str(locked.value).lower()
    certificat = app.archive.get(record.certificat_key, sha256=record.certificat_sha256)
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(certificat)).pages)
    assert CID in text and before in text.replace("\n", "").replace(" ", "")
    assert not list((app.settings.effective_staging_dir).rglob("*.pdf"))  # staging emptied
    again = archive_signed_copy(signed, CID, app, now=NOW + timedelta(hours=1))
    assert (again.id, again.storage_key, again.retain_until) == (record.id, record.storage_key, record.retain_until)


def test_a_copy_sent_for_the_wrong_version_is_archived_when_sent_again_for_its_own(app: App, pki) -> None:
    from dossiers.services.avenants import amend

    v1 = issued_pdf(app)
    amend(CID, {"request_id": "retrait", "type": "retrait_postes",
                "postes": [{"id": "P-2", "date_fin_contrat": "2025-12-31"}]}, app, today=date(2026, 11, 10), now=NOW)
    signed = copie_signee(v1, pki, cdc=False)
    wrong = archive_signed_copy(signed, CID, app, now=NOW)  # the current version is 2 now
    assert (wrong.version, wrong.statut) == (2, "refuse")
    assert "SIGNE_AUTRE_VERSION" in [f.code for f in wrong.findings] and wrong.storage_key is None
    right = archive_signed_copy(signed, CID, app, version=1, now=NOW + timedelta(minutes=1))
    assert (right.version, right.statut) == (1, "archive") and right.id != wrong.id, right.findings
    assert app.archive.get(right.storage_key, sha256=right.sha256) == signed
    again = archive_signed_copy(signed, CID, app, version=2, now=NOW + timedelta(minutes=2))
    assert (again.id, again.statut) == (wrong.id, "refuse")  # each version keeps its own answer


def test_a_copy_without_signature_is_locked_only_once_a_human_accepts_it(app: App, tmp_path: Path,
                                                                         pool_urls: str) -> None:
    # our own PDF sent back unsigned: SIGNE_SANS_SIGNATURE, à vérifier; nothing under retention yet
    unsigned = issued_pdf(app)
    sha = hashlib.sha256(unsigned).hexdigest()
    record = archive_signed_copy(unsigned, CID, app, now=NOW)
    assert record.statut == "a_verifier" and "SIGNE_SANS_SIGNATURE" in [f.code for f in record.findings]
    assert record.storage_key is None and record.retain_until is None
    assert not list(app.settings.effective_archive_dir.rglob("*.pdf"))  # nothing locked for ten years
    assert app.staging.get(f"signes/{sha}.pdf") == unsigned  # kept, waiting for a human
    # sent again: the same row, still waiting
    assert archive_signed_copy(unsigned, CID, app, now=NOW + timedelta(minutes=1)).id == record.id

    # an outage while accepting leaves it accepted but not yet written: accepting again resumes
    from dossiers.errors import StorageUnavailable
    from dossiers.services.archive import accepter_copie

    put = app.archive.put
    app.archive.put = lambda *a, **k: (_ for _ in ()).throw(StorageUnavailable("panne simulée"))
    with pytest.raises(StorageUnavailable):
        accepter_copie(record.id, app, par="Claire Instructrice", now=NOW + timedelta(minutes=2))
    app.archive.put = put
    assert app.catalog.get_archive(record.id).archived_at is None

    # the instructeur accepts it, as typed
    from tests.e2e.test_cli import run

    assert app.settings.var_dir == tmp_path / "var"  # the CLI below works on this catalog and storage
    done = run(["accepter", str(record.id), "--par", "Claire Instructrice", "--json"], tmp_path, pool_urls)
    assert done.returncode == 0, done.stdout + done.stderr
    accepted = json.loads(done.stdout)
    assert (accepted["id"], accepted["status"]) == (record.id, "archive")
    assert accepted["fields"]["acceptation"]["par"] == "Claire Instructrice"
    stored = app.catalog.get_archive(record.id)
    assert stored.retain_until is not None and app.archive.get(stored.storage_key, sha256=sha) == unsigned
    with pytest.raises(Exception):
        app.archive.delete(stored.storage_key)  # now under retention
    assert not app.staging.exists(f"signes/{sha}.pdf")
    again = run(["accepter", str(record.id), "--par", "Autre", "--json"], tmp_path, pool_urls)
    assert again.returncode == 0 and json.loads(again.stdout)["key"] == stored.storage_key  # changes nothing
    unknown = run(["accepter", "999", "--par", "X", "--json"], tmp_path, pool_urls)
    assert unknown.returncode == 1 and json.loads(unknown.stdout)["error"]["code"] == "copie_introuvable"


def test_verify_says_where_a_file_is_archived_or_that_conum_issued_it(app: App, pki) -> None:
    signed = copie_signee(issued_pdf(app), pki, cdc=False)
    record = archive_signed_copy(signed, CID, app, now=NOW)
    found = verify_file(signed, app)
    assert [r.storage_key for r in found.archives] == [record.storage_key]
    issued = verify_file(issued_pdf(app), app)
    assert issued.archives == [] and [(c, v, k) for c, v, k, _ in issued.emis] == [(CID, 1, "pdf")]
    assert verify_file(b"%PDF-1.7 inconnu", app).emis == []


def test_a_random_pdf_is_refused_and_not_archived(app: App) -> None:
    record = archive_signed_copy(rib_pdf(titulaire="X", iban="FR7630006000011234567890189", bic=None), CID, app,
                                 now=NOW)
    assert record.statut == "refuse" and "SIGNE_NON_RECONNU" in [f.code for f in record.findings]
    assert record.storage_key is None and not list(app.settings.effective_archive_dir.rglob("*.pdf"))


def test_a_staged_copy_survives_until_its_archive_write_is_confirmed(app: App, pki) -> None:
    signed = copie_signee(issued_pdf(app), pki, cdc=False)
    key = stage(signed, app)
    assert app.staging.get(key) == signed and stage(signed, app) == key
    done = archive_staged(key, CID, app, now=NOW)
    redelivered = archive_staged(key, CID, app, now=NOW + timedelta(minutes=5))  # staging is empty by now
    assert (redelivered.id, redelivered.storage_key) == (done.id, done.storage_key)


def test_id_pieces_are_deleted_after_the_retention_period_with_a_trace(app: App, pki) -> None:
    dossier = open_dossier(demande(), app)
    piece = add_piece(dossier.id, identite_image(mrz=None), PieceKind.IDENTITE, app, now=NOW)
    rib = add_piece(dossier.id, rib_pdf(titulaire="COMMUNE", iban="FR7630006000011234567890189", bic=None),
                    PieceKind.RIB, app, now=NOW)
    signed = copie_signee(issued_pdf(app), pki, cdc=False)
    archive_signed_copy(signed, CID, app, now=NOW)
    assert purge_identite(app, now=NOW + timedelta(days=10)) == []  # 30 days not reached
    due = purge_identite(app, now=NOW + timedelta(days=31))
    assert [p for p, _, _ in due] == [piece.id]
    assert not app.pieces_storage.exists(piece_key(dossier.id, piece.sha256))
    assert app.pieces_storage.exists(piece_key(dossier.id, rib.sha256))
    [kept] = [p for p in app.catalog.list_pieces(dossier.id) if p.id == piece.id]
    assert kept.storage_key is None and kept.sha256 == piece.sha256
    assert purge_identite(app, now=NOW + timedelta(days=40)) == []


def test_a_blank_pdf_is_refused_and_a_scan_waits_for_a_human_staging_emptied_either_way(app: App) -> None:
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    def pdf(draw) -> bytes:
        out = io.BytesIO()
        page = canvas.Canvas(out)
        draw(page)
        page.showPage()
        page.save()
        return out.getvalue()

    blank = pdf(lambda page: None)
    refused = archive_signed_copy(blank, CID, app, filename="blanc.pdf", now=NOW)
    assert refused.statut == "refuse" and [str(f.code) for f in refused.findings] == ["SIGNE_NON_RECONNU"]
    assert refused.storage_key is None and not list(app.settings.effective_archive_dir.rglob("*.pdf"))
    grey = io.BytesIO()
    Image.new("L", (850, 1100), 235).save(grey, "PNG")
    scan = pdf(lambda page: page.drawImage(ImageReader(io.BytesIO(grey.getvalue())), 0, 0, 595, 842))
    waiting = archive_signed_copy(scan, CID, app, filename="scan.pdf", now=NOW)
    assert waiting.statut == "a_verifier" and "SIGNE_NUMERISE" in [str(f.code) for f in waiting.findings]
    staged = sorted(p.name for p in app.settings.effective_staging_dir.rglob("*.pdf"))
    assert staged == [f"{waiting.sha256}.pdf"]  # the refused blank is gone; the scan waits for its reader


def test_the_same_copy_sent_twice_leaves_nothing_in_staging(app: App, pki, tmp_path: Path, pool_urls: str) -> None:
    """Sent again (the same bytes, the same version) its job has already ended: the bytes staged a second
    time are not left behind for ever, through the CLI as through the API and the pages."""
    from tests.e2e.test_cli import run

    copy = tmp_path / "copie.pdf"
    copy.write_bytes(copie_signee(issued_pdf(app), pki))
    roots = {"SIGNATURE_TRUST_ROOTS": str(pki.racines)}
    for attempt in range(2):
        done = run(["submit", "archive", str(copy), "--convention", CID, "--json"], tmp_path, pool_urls,
                   extra_env=roots)
        assert done.returncode == 0, done.stdout + done.stderr
        assert json.loads(done.stdout)["result"]["status"] == "archive"
        assert not list(app.settings.effective_staging_dir.rglob("*.pdf")), f"envoi {attempt + 1}"


def test_archive_out_saves_the_certificate_and_verify_recognises_it(app: App, pki, tmp_path: Path,
                                                                     pool_urls: str) -> None:
    from tests.e2e.test_cli import run

    copy = tmp_path / "copie.pdf"
    copy.write_bytes(copie_signee(issued_pdf(app), pki))
    roots = {"SIGNATURE_TRUST_ROOTS": str(pki.racines)}
    done = run(["archive", str(copy), "--convention", CID, "--out", "certificat.pdf"], tmp_path, pool_urls,
               extra_env=roots)
    assert done.returncode == 0, done.stdout + done.stderr
    certificat = tmp_path / "certificat.pdf"
    assert "certificat d'archivage enregistré" in done.stdout and certificat.read_bytes()[:5] == b"%PDF-"
    shown = run(["verify", str(certificat)], tmp_path, pool_urls)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert f"certificat d'archivage émis par conum pour la copie signée de {CID} v1" in shown.stdout
    as_json = json.loads(run(["verify", str(certificat), "--json"], tmp_path, pool_urls).stdout)
    assert [c["sha256"] for c in as_json["certificat_de"]] == [hashlib.sha256(copy.read_bytes()).hexdigest()]
