"""Every file of the hostile corpus (tests/hostile.py) through the real Inspector and check_file.

Each file must give its expected findings (or, for the few odd-but-harmless ones, no erreur at all),
never an exception, and within 5 s of wall clock measured around ``inspect`` + ``check_file``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from dossiers.adapters.inspection import Inspector
from dossiers.domain.checks.fichier import check_file
from dossiers.domain.findings import Severity
from dossiers.domain.pieces import DEFAULT_POLICIES, FileFacts
from tests.hostile import HostileCase, corpus

CASES = corpus()
SECONDS_PER_FILE = 5.0


@pytest.fixture(scope="module")
def inspector() -> Iterator[Inspector]:
    # The timeout is below the 5 s per file so that a file stopped by the clock, plus the kill,
    # still fits in it; on this corpus no file needs the clock (the work limits stop them first).
    with Inspector(workers=2, timeout=3.0) as insp:
        insp.warm()
        yield insp


def test_the_corpus_is_large_and_its_names_unique() -> None:
    assert len(CASES) >= 60
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_a_hostile_file_gives_its_findings_in_bounded_time(inspector: Inspector, case: HostileCase) -> None:
    policy = DEFAULT_POLICIES[case.kind]
    started = time.monotonic()
    facts = inspector.inspect(case.data, policy=policy, declared_name=case.name)
    findings = check_file(facts, policy)
    elapsed = time.monotonic() - started
    codes = {f.code for f in findings}
    assert elapsed < SECONDS_PER_FILE, f"{case.name}: {elapsed:.1f} s"
    assert set(case.expected) <= codes, f"{case.name}: {sorted(codes)} ({facts.probleme}: {facts.detail})"
    errors = [f for f in findings if f.severity is Severity.ERREUR]
    if case.expected:
        assert errors
    else:  # odd but harmless: a viewer reads it, so must we
        assert errors == [], f"{case.name}: {findings}"
        assert facts.pdf is not None and facts.pdf.pages >= 1
    _check_facts(case.name, facts)


def _check_facts(name: str, facts: FileFacts) -> None:
    """What some files must also show in their facts."""
    if name == "metadonnees-unicode-bombe.pdf":
        assert facts.pdf is not None and facts.pdf.title is not None and len(facts.pdf.title) <= 500
    if name == "metadonnees-utf16-invalide.pdf":  # undecodable, or NUL only: no value
        assert facts.pdf is not None and facts.pdf.title is None and facts.pdf.producer is None
    if name == "scan-sans-texte.pdf":
        assert facts.pdf is not None and not facts.pdf.has_text
    if name == "signature-vide.pdf":
        assert facts.pdf is not None and [(s.field_name, s.signed) for s in facts.pdf.signatures] == [("Signature1", False)]
    if name == "10000-pages.pdf":
        assert facts.pdf is not None and facts.pdf.pages == 10_000
    if name == "count-enorme.pdf":
        assert facts.pdf is not None and facts.pdf.pages == 1
