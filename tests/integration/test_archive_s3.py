"""Archiving on a real SeaweedFS under object lock, through an outage: the store stops in the middle
of a batch of signed copies and comes back; every copy ends archived once, verified, with its
certificate, and staging is empty. Real parts: SeaweedFS, LibreOffice, inspection children, SQLite."""

from __future__ import annotations

import hashlib
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from dossiers.bootstrap import App
from dossiers.errors import ObjectLocked, StorageUnavailable
from dossiers.services.archive import archive_staged, stage
from dossiers.services.generation import generate_convention
from tests.factories import demande
from tests.fixtures.signature import copie_signee
from tests.integration.conftest import stop_weed, _weed_bin, _weed_command, start_seaweedfs

pytestmark = [pytest.mark.seaweedfs, pytest.mark.libreoffice]
CID = "CN-V2-STR-000123"
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


class Weed:
    """A SeaweedFS of this test only, restartable on the same ports and data."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.server, self.process, self.ports = start_seaweedfs(base, access_key="k-test", secret_key="s-test-key")

    def stop(self) -> None:
        stop_weed(self.process, self.ports)

    def start(self) -> None:
        env = {"AWS_ACCESS_KEY_ID": "k-test", "AWS_SECRET_ACCESS_KEY": "s-test-key", "PATH": "/usr/bin:/bin"}
        with open(self.base / "weed.log", "ab") as out:
            self.process = subprocess.Popen(_weed_command(_weed_bin(), self.base, self.ports), cwd=self.base,
                                            env=env, stdout=out, stderr=subprocess.STDOUT)


@pytest.fixture
def weed(tmp_path: Path) -> Iterator[Weed]:
    server = Weed(tmp_path / "weed")
    try:
        yield server
    finally:
        server.stop()


def archive_with_retries(app: App, key: str, deadline: float) -> object:
    """What the archive job does under Dramatiq's retry policy, compressed in time."""
    while True:
        try:
            return archive_staged(key, CID, app, now=NOW)
        except StorageUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_an_outage_in_the_middle_of_a_batch_loses_nothing_and_writes_nothing_twice(
        weed: Weed, tmp_path: Path, pool, pki) -> None:
    settings = weed.server.settings(var_dir=tmp_path / "var", signature_trust_roots=pki.racines)
    with App(settings, converter=pool) as app:
        generated = generate_convention(demande(), app, today=date(2026, 11, 2), now=NOW - timedelta(days=24))
        ref = generated.version.document("pdf")
        issued = app.storage.get(ref.key, sha256=ref.sha256)
        copies = [copie_signee(issued, pki, cdc=n % 2 == 0) for n in range(6)]  # a new signing time each
        assert len(set(copies)) == 6
        keys = [stage(data, app) for data in copies]

        done = [archive_with_retries(app, key, time.monotonic() + 30) for key in keys[:2]]
        weed.stop()
        with pytest.raises(StorageUnavailable):
            archive_staged(keys[2], CID, app, now=NOW)
        assert len(app.catalog.find_archives(convention_id=CID)) == 2  # the staged copy waits in staging
        weed.start()
        done += [archive_with_retries(app, key, time.monotonic() + 60) for key in keys[2:]]

        records = app.catalog.find_archives(convention_id=CID)
        assert len(records) == 6 and all(r.statut == "archive" and r.archived_at for r in records)
        for record, data in zip(sorted(records, key=lambda r: r.id), copies, strict=True):
            assert app.archive.get(record.storage_key, sha256=record.sha256) == data
            head = app.archive.head(record.storage_key)
            assert head.version_id == record.version_id and head.retain_until >= NOW + timedelta(days=3649)
            assert app.archive.get(record.certificat_key, sha256=record.certificat_sha256).startswith(b"%PDF")
            with pytest.raises(ObjectLocked):
                app.archive.delete(record.storage_key)
        assert not any(app.staging.exists(key) for key in keys)
        assert [r.id for r in done] == [r.id for r in sorted(records, key=lambda r: r.id)]


def test_an_issued_document_is_downloaded_through_a_short_lived_presigned_url(weed: Weed, tmp_path: Path,
                                                                               pool) -> None:
    import urllib.error
    import urllib.request

    from dossiers.services.archive import document_link

    with App(weed.server.settings(var_dir=tmp_path / "var", presigned_url_ttl=60), converter=pool) as app:
        generated = generate_convention(demande(), app, today=date(2026, 11, 2), now=NOW)
        key, url = document_link(app, CID, version=None, kind="pdf")
        assert key == generated.version.document("pdf").key and "X-Amz-Expires=60" in url
        with urllib.request.urlopen(url, timeout=10) as response:
            assert hashlib.sha256(response.read()).hexdigest() == generated.version.document("pdf").sha256
        tampered = url.replace(CID, "CN-V2-STR-999999")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(tampered, timeout=10)
        assert refused.value.code in (403, 404)
