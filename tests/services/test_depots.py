"""The signed-copy intake on fakes (the one behind the API and the convention page): an unknown version, an
empty file, a file over the limit (read no further than the limit plus one byte) or not a PDF by its content
is refused with its code and nothing staged; a PDF is staged under its SHA-256 and its archive job submitted
with the version and the file's safe name; the audit detail holds what was known at each step."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, date, datetime
from typing import Any

import pytest

from dossiers.bootstrap import App
from dossiers.domain.checks.signe import SIGNED_COPY_POLICY
from dossiers.domain.jobs import Job, JobStatus
from dossiers.errors import DepotRefuse, ErrorCode
from dossiers.services.depots import MotifRefus, deposer_copie_signee
from dossiers.services.generation import generate_convention
from tests.factories import demande
from tests.services.conftest import issued_pdf

CID = "CN-V2-STR-000123"
NOW = datetime(2024, 2, 1, 9, 0, tzinfo=UTC)


class Guichet:
    """The caller's ``submit``: records what it was asked, answers a queued job."""

    def __init__(self) -> None:
        self.soumis: list[dict[str, Any]] = []

    def __call__(self, kwargs: dict[str, Any]) -> Job:
        self.soumis.append(kwargs)
        return Job(id=f"job-{len(self.soumis)}", actor="archive_signed_copy", queue="archive", args=kwargs,
                   status=JobStatus.QUEUED, created_at=NOW)


@pytest.fixture
def app(fakes_app: App) -> App:
    generate_convention(demande(), fakes_app, today=date(2024, 1, 2), now=datetime(2024, 1, 2, tzinfo=UTC))
    return fakes_app


def _refused(app: App, numero: int, fichier: io.BytesIO | None, name: str | None, detail: dict[str, Any],
             guichet: Guichet) -> DepotRefuse:
    with pytest.raises(DepotRefuse) as refused:
        deposer_copie_signee(app, CID, numero, fichier, name, submit=guichet, detail=detail)
    return refused.value


def test_each_refusal_has_its_code_and_stages_nothing(app: App) -> None:
    guichet = Guichet()
    cases = [
        (2, io.BytesIO(issued_pdf(app, CID)), MotifRefus.VERSION_INTROUVABLE, ErrorCode.VERSION_INTROUVABLE),
        (1, None, MotifRefus.FICHIER_VIDE, ErrorCode.REQUETE_INVALIDE),
        (1, io.BytesIO(b""), MotifRefus.FICHIER_VIDE, ErrorCode.REQUETE_INVALIDE),
        (1, io.BytesIO(b"PK\x03\x04 not a pdf at all" * 10), MotifRefus.TYPE_NON_ACCEPTE, ErrorCode.TYPE_NON_ACCEPTE),
    ]
    for numero, fichier, motif, code in cases:
        sent = fichier.getvalue() if fichier is not None else b""
        refused = _refused(app, numero, fichier, "copie.pdf", {}, guichet)
        assert (refused.motif, refused.code) == (motif, code), motif
        assert not app.staging.exists(f"signes/{hashlib.sha256(sent).hexdigest()}.pdf"), motif
    assert "type lu dans son contenu" in str(refused)
    assert guichet.soumis == []


def test_a_file_over_the_limit_is_refused_after_reading_one_byte_more(app: App) -> None:
    guichet = Guichet()
    big = io.BytesIO(issued_pdf(app, CID) + b"\0" * (SIGNED_COPY_POLICY.max_bytes + 10_000_000))
    detail: dict[str, Any] = {}
    refused = _refused(app, 1, big, "../../etc/énorme copie.pdf", detail, guichet)
    assert (refused.motif, refused.code) == (MotifRefus.TROP_VOLUMINEUX, ErrorCode.TROP_VOLUMINEUX)
    assert "50 Mo" in str(refused) and big.tell() == SIGNED_COPY_POLICY.max_bytes + 1
    assert detail["size"] == SIGNED_COPY_POLICY.max_bytes + 1 and "/" not in detail["filename"]  # what was known
    assert "sha256" not in detail and guichet.soumis == []


def test_a_pdf_is_staged_under_its_sha256_and_its_archive_job_submitted(app: App) -> None:
    guichet = Guichet()
    data = issued_pdf(app, CID)
    sha = hashlib.sha256(data).hexdigest()
    detail: dict[str, Any] = {}
    seen: list[str] = []
    depot = deposer_copie_signee(app, CID, 1, io.BytesIO(data), "copie signée.pdf", submit=guichet, detail=detail,
                                 avant_depot=seen.append)
    assert (depot.sha256, depot.staging_key, depot.job.id, seen) == (sha, f"signes/{sha}.pdf", "job-1", [sha])
    assert app.staging.get(depot.staging_key, sha256=sha) == data
    assert guichet.soumis == [{"convention_id": CID, "staging_key": f"signes/{sha}.pdf", "version": 1,
                               "filename": detail["filename"]}]
    assert detail == {"version": 1, "filename": detail["filename"], "size": len(data), "sha256": sha, "job_id": "job-1"}
    assert detail["filename"].endswith(".pdf")
