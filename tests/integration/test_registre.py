"""The archive ledger on real catalogs (SQLite, PostgreSQL), a real TSA and real WORM stores (the local
archive directory, SeaweedFS under object lock): appends, concurrent appends, tampering found, anchors."""

from __future__ import annotations

import hashlib
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from dossiers.bootstrap import App
from dossiers.domain.registre import Inscription, Nature, RuptureCode
from dossiers.errors import ConumError, ErrorCode, ObjectLocked
from dossiers.services.registre import (
    ancrer,
    ancrer_si_du,
    anchor_key,
    inscrire,
    inscrire_tous,
    preuves,
    verifier_registre,
)
from dossiers.settings import Settings


def _sha(n: int) -> str:
    return hashlib.sha256(f"document {n}".encode()).hexdigest()


def _issue(app: App, documents: int, *, start: int = 0) -> None:
    """What issuing ``documents`` / 2 conventions inscribes: a DOCX and a PDF each, one transaction each."""
    now = app.clock.now()
    for n in range(start, start + documents, 2):
        inscrire_tous(app, [Inscription(Nature.DOCUMENT, f"conventions/C{n}/v1/{n}.docx", _sha(n)),
                            Inscription(Nature.DOCUMENT, f"conventions/C{n}/v1/{n}.pdf", _sha(n + 1))], now=now)


def _sql(app: App, statement: str, **params: Any) -> None:
    with app.catalog.engine.begin() as conn:
        conn.execute(text(statement), params)


@pytest.fixture
def app(tmp_path: Path, catalog_url: str) -> Any:
    with App(Settings(var_dir=tmp_path / "var", database_url=catalog_url)) as application:
        yield application


def test_a_thousand_documents_verify_and_one_changed_sha256_is_named(app: App) -> None:
    _issue(app, 1000)
    verdict = verifier_registre(app)
    assert verdict.intact and verdict.entrees == 1000 and verdict.tete.sequence == 1000
    _sql(app, "UPDATE registre SET sha256 = :s WHERE sequence = 617", s=_sha(99999))
    rupture = verifier_registre(app).rupture
    assert (rupture.sequence, rupture.code) == (617, RuptureCode.EMPREINTE_ALTEREE)
    assert verifier_registre(app).entrees == 616


def test_a_deleted_row_is_found(app: App) -> None:
    _issue(app, 40)
    _sql(app, "DELETE FROM registre WHERE sequence = 13")
    rupture = verifier_registre(app).rupture
    assert (rupture.sequence, rupture.code) == (13, RuptureCode.SEQUENCE_MANQUANTE)


def test_a_retried_store_appends_nothing(app: App) -> None:
    now = app.clock.now()
    assert len(inscrire(app, Nature.DOCUMENT, "conventions/C/v1/a.pdf", _sha(1), now=now)) == 1
    assert inscrire(app, Nature.DOCUMENT, "conventions/C/v1/a.pdf", _sha(1), now=now) == []
    twice = [Inscription(Nature.CERTIFICAT, "c.pdf", _sha(2))] * 2
    assert [e.sequence for e in inscrire_tous(app, twice, now=now)] == [2]
    assert app.catalog.registre_head().sequence == 2


@pytest.mark.postgres
def test_concurrent_appends_on_postgresql_leave_no_gap(tmp_path: Path, postgres_server: Any) -> None:
    url = postgres_server.create_database()
    with App(Settings(var_dir=tmp_path / "var", database_url=url)) as app:
        app.catalog.registre_head()  # migrated once, before the threads
        errors: list[BaseException] = []

        def worker(t: int) -> None:
            try:
                _issue(app, 60, start=t * 1000)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        verdict = verifier_registre(app)
        assert verdict.intact and verdict.entrees == 8 * 60


# -- anchors: a real TSA, the token under retention ---------------------------------------------------------


@pytest.fixture
def anchored(tmp_path: Path, catalog_url: str, pki: Any, tsa_url: str) -> Any:
    settings = Settings(var_dir=tmp_path / "var", database_url=catalog_url, tsa_url=tsa_url,
                        signature_trust_roots=pki.racines)
    with App(settings) as application:
        yield application


def test_the_head_is_timestamped_and_the_token_kept_under_retention(anchored: App) -> None:
    app = anchored
    _issue(app, 10)
    before = datetime.now(UTC)
    ancrage = ancrer(app, now=app.clock.now())
    assert ancrage.sequence == 10 and ancrage.key == anchor_key(10) == "registre/ancrages/10.tsr"
    assert app.archive.get(ancrage.key) == ancrage.token
    with pytest.raises(ObjectLocked):
        app.archive.delete(ancrage.key)
    assert ancrer(app, now=app.clock.now()) is None  # nothing new
    verdict = verifier_registre(app)
    assert verdict.intact and verdict.ancrages == 1
    assert verdict.dernier_ancrage[0] == 10 and verdict.dernier_ancrage[1] >= before - timedelta(seconds=2)
    proof = preuves(app, _sha(4))[0]
    assert proof.valide and [e.sequence for e in proof.chaine] == [5, 6, 7, 8, 9, 10]


def test_the_cadence_skips_a_recent_anchor(anchored: App) -> None:
    app = anchored
    _issue(app, 2)
    now = app.clock.now()
    assert ancrer_si_du(app, now=now) is not None
    _issue(app, 2, start=2)
    assert ancrer_si_du(app, now=now + timedelta(hours=1)) is None
    assert ancrer_si_du(app, now=now + timedelta(hours=25)).sequence == 4


def test_an_altered_token_is_found(anchored: App) -> None:
    app = anchored
    _issue(app, 6)
    ancrage = ancrer(app, now=app.clock.now())
    token = bytearray(ancrage.token)
    token[-10] ^= 0xFF  # inside the TSA's signature
    _sql(app, "UPDATE registre_ancrages SET token = :t WHERE sequence = 6", t=bytes(token))
    rupture = verifier_registre(app).rupture
    assert (rupture.sequence, rupture.code) == (6, RuptureCode.JETON_INVALIDE)


def test_rows_deleted_before_the_last_anchor_at_the_end_of_the_chain_are_found(anchored: App) -> None:
    app = anchored
    _issue(app, 8)
    ancrer(app, now=app.clock.now())
    _sql(app, "DELETE FROM registre WHERE sequence >= 7")
    rupture = verifier_registre(app).rupture
    assert (rupture.sequence, rupture.code) == (8, RuptureCode.ANCRAGE_SANS_ENTREE)


def test_a_rewritten_chain_no_longer_matches_its_anchor(anchored: App) -> None:
    app = anchored
    _issue(app, 4)
    ancrer(app, now=app.clock.now())
    _sql(app, "DELETE FROM registre")
    _issue(app, 4, start=100)  # a whole new, self-consistent chain
    rupture = verifier_registre(app).rupture
    assert (rupture.sequence, rupture.code) == (4, RuptureCode.ANCRAGE_DIFFERENT)


def test_anchoring_without_a_tsa_says_so(app: App) -> None:
    _issue(app, 2)
    with pytest.raises(ConumError) as caught:
        ancrer(app, now=app.clock.now())
    assert caught.value.code == ErrorCode.HORODATAGE_NON_CONFIGURE and "TSA_URL" in caught.value.message


@pytest.mark.seaweedfs
def test_the_token_goes_to_the_locked_bucket_on_s3(tmp_path: Path, seaweedfs: Any, pki: Any, tsa_url: str) -> None:
    tag = uuid.uuid4().hex[:8]
    settings = seaweedfs.settings(var_dir=tmp_path / "var", tsa_url=tsa_url, signature_trust_roots=pki.racines,
                                  s3_bucket_documents=f"doc-{tag}", s3_bucket_pieces=f"pie-{tag}",
                                  s3_bucket_archive=f"arc-{tag}")
    with App(settings) as app:
        _issue(app, 4)
        ancrage = ancrer(app, now=app.clock.now())
        assert app.archive.head(ancrage.key).sha256 == hashlib.sha256(ancrage.token).hexdigest()
        with pytest.raises(ObjectLocked):
            app.archive.delete(ancrage.key)
        assert verifier_registre(app).intact
        # a second anchoring of the same head (a crash before the catalog recorded it) keeps the stored token
        _sql(app, "DELETE FROM registre_ancrages")
        again = ancrer(app, now=app.clock.now())
        assert again.token == ancrage.token and verifier_registre(app).intact
