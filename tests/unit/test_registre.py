"""The ledger's pure core: the canonical encoding, chaining, and what verification and proofs report."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest

from dossiers.domain.registre import (
    GENESE,
    Ancrage,
    Inscription,
    Nature,
    RuptureCode,
    chainer,
    empreinte,
    encoder,
    prouver,
    verifier,
)
from dossiers.errors import JetonInvalide

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
TOKEN_TIME = NOW + timedelta(minutes=1)


def _sha(n: int) -> str:
    return hashlib.sha256(str(n).encode()).hexdigest()


def _chain(n: int) -> list:
    return chainer(None, [Inscription(Nature.DOCUMENT, f"conventions/C{i}/v1.pdf", _sha(i)) for i in range(n)], at=NOW)


def _ok(a: Ancrage) -> datetime:
    return TOKEN_TIME


def _anchor(entry) -> Ancrage:
    return Ancrage(entry.sequence, entry.hash, b"token", f"registre/ancrages/{entry.sequence}.tsr", NOW)


def test_the_encoding_is_netstrings_after_a_format_tag_and_the_hash_its_sha256() -> None:
    data = encoder(1, NOW, "document", "a/b.pdf", "ab" * 32, GENESE)
    assert data == (b"16:conum-registre-1,1:1,32:2026-12-07T10:00:00.000000+00:00,8:document,7:a/b.pdf,"
                    + b"64:" + b"ab" * 32 + b",64:" + GENESE.encode() + b",")
    assert empreinte(1, NOW, "document", "a/b.pdf", "ab" * 32, GENESE) == hashlib.sha256(data).hexdigest()


def test_the_same_instant_in_another_zone_encodes_the_same_and_a_naive_one_is_refused() -> None:
    paris = NOW.astimezone(timezone(timedelta(hours=1)))
    assert encoder(1, paris, "document", "k", "0" * 64, GENESE) == encoder(1, NOW, "document", "k", "0" * 64, GENESE)
    with pytest.raises(ValueError):
        encoder(1, NOW.replace(tzinfo=None), "document", "k", "0" * 64, GENESE)


def test_fields_cannot_be_shifted_from_one_to_the_next() -> None:
    assert encoder(1, NOW, "document", "ab", "c" * 64, GENESE) != encoder(1, NOW, "documenta", "b", "c" * 64, GENESE)


def test_entries_chain_from_the_genesis_and_continue_after_a_head() -> None:
    first = _chain(3)
    assert [e.sequence for e in first] == [1, 2, 3]
    assert first[0].prev_hash == GENESE and first[1].prev_hash == first[0].hash
    more = chainer(first[-1], [Inscription(Nature.CERTIFICAT, "x", _sha(9))], at=NOW)
    assert more[0].sequence == 4 and more[0].prev_hash == first[-1].hash


def test_a_bad_sha256_is_refused() -> None:
    with pytest.raises(ValueError):
        chainer(None, [Inscription(Nature.DOCUMENT, "k", "XYZ")], at=NOW)


def test_an_intact_chain_with_its_anchors_verifies() -> None:
    entries = _chain(10)
    verdict = verifier(iter(entries), [_anchor(entries[4]), _anchor(entries[9])], _ok)
    assert verdict.intact and verdict.entrees == 10 and verdict.ancrages == 2
    assert verdict.dernier_ancrage == (10, TOKEN_TIME)


def test_a_changed_row_is_named_by_its_sequence() -> None:
    entries = _chain(10)
    entries[6] = dataclasses.replace(entries[6], sha256=_sha(99))
    rupture = verifier(entries, [], _ok).rupture
    assert rupture is not None and (rupture.sequence, rupture.code) == (7, RuptureCode.EMPREINTE_ALTEREE)


def test_a_changed_row_with_its_hash_recomputed_breaks_the_next_link() -> None:
    entries = _chain(10)
    e = dataclasses.replace(entries[6], sha256=_sha(99))
    entries[6] = dataclasses.replace(e, hash=empreinte(e.sequence, e.at, e.nature, e.key, e.sha256, e.prev_hash))
    rupture = verifier(entries, [], _ok).rupture
    assert (rupture.sequence, rupture.code) == (8, RuptureCode.CHAINAGE_ROMPU)


def test_a_deleted_row_leaves_a_gap() -> None:
    entries = _chain(10)
    del entries[3]
    rupture = verifier(entries, [], _ok).rupture
    assert (rupture.sequence, rupture.code) == (4, RuptureCode.SEQUENCE_MANQUANTE)
    assert "4" in rupture.message


def test_a_deleted_first_row_is_found_too() -> None:
    rupture = verifier(_chain(3)[1:], [], _ok).rupture
    assert (rupture.sequence, rupture.code) == (1, RuptureCode.SEQUENCE_MANQUANTE)


def test_rows_deleted_at_the_end_are_found_by_the_anchor_that_named_them() -> None:
    entries = _chain(10)
    rupture = verifier(entries[:7], [_anchor(entries[9])], _ok).rupture
    assert (rupture.sequence, rupture.code) == (10, RuptureCode.ANCRAGE_SANS_ENTREE)


def test_a_chain_rewritten_consistently_no_longer_matches_its_anchor() -> None:
    entries = _chain(5)
    anchor = _anchor(entries[4])
    rewritten = chainer(None, [Inscription(Nature.DOCUMENT, e.key, _sha(100 + i)) for i, e in enumerate(entries)],
                        at=NOW)
    rupture = verifier(rewritten, [anchor], _ok).rupture
    assert (rupture.sequence, rupture.code) == (5, RuptureCode.ANCRAGE_DIFFERENT)


def test_an_invalid_token_breaks_the_verification() -> None:
    def bad(_a: Ancrage) -> datetime:
        raise JetonInvalide("signature du jeton d'horodatage invalide")

    entries = _chain(3)
    rupture = verifier(entries, [_anchor(entries[2])], bad).rupture
    assert (rupture.sequence, rupture.code) == (3, RuptureCode.JETON_INVALIDE)
    assert "signature" in rupture.message


def test_verification_reads_a_generator_once() -> None:
    entries = _chain(2000)
    verdict = verifier((e for e in entries), (a for a in [_anchor(entries[999])]), _ok)
    assert verdict.intact and verdict.entrees == 2000


def test_a_proof_goes_from_the_entry_to_the_anchor_and_gives_the_token_time() -> None:
    entries = _chain(10)
    anchor = _anchor(entries[7])
    proof = prouver(entries[3], entries[3:8], anchor, _ok)
    assert proof.valide and proof.horodatage == TOKEN_TIME
    assert [e.sequence for e in proof.chaine] == [4, 5, 6, 7, 8]
    assert proof.to_dict()["ancrage"]["sequence"] == 8


def test_a_proof_without_an_anchor_yet_is_not_valid_but_not_broken() -> None:
    entries = _chain(4)
    proof = prouver(entries[1], entries[1:], None, _ok)
    assert not proof.valide and proof.rupture is None and len(proof.chaine) == 3


def test_a_proof_through_a_changed_row_is_broken() -> None:
    entries = _chain(6)
    entries[3] = dataclasses.replace(entries[3], key="autre")
    proof = prouver(entries[1], entries[1:6], _anchor(entries[5]), _ok)
    assert not proof.valide and proof.rupture.sequence == 4
