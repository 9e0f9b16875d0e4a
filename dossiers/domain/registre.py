"""The archive ledger (registre): an append-only hash chain of everything conum issues or archives (no I/O).

Each entry holds (sequence, at, nature, key, sha256, prev_hash) and its ``hash``: the SHA-256 of
:func:`encoder`'s bytes, the six fields as netstrings (``<length in bytes>:<UTF-8 bytes>,``) after the
format tag ``conum-registre-1``. Netstrings make the encoding unambiguous (no separator a key could
contain) and easy to recompute in any language::

    16:conum-registre-1,1:1,32:2026-12-07T10:00:00.000000+00:00,8:document,<n>:<key>,64:<sha256>,64:<prev>,

``at`` is UTC with microseconds (``isoformat(timespec="microseconds")``); the first entry's
``prev_hash`` is 64 zeros (:data:`GENESE`). Changing any field of a row changes its hash (detected by
recomputing it); recomputing the hash too breaks the next entry's ``prev_hash``; deleting a row leaves a
gap in the sequence; rewriting the whole tail consistently changes the hash the next *anchor* holds.

An anchor (:class:`Ancrage`) is an RFC 3161 token whose message imprint **is the anchored entry's hash**
(the 32 bytes of ``hash``; the timestamped datum is the entry's encoding, whose SHA-256 is that hash).
It proves the entry, and by the chain every entry before it, existed at the token's time. A row deleted
at the end of the chain before the last anchor is found because that anchor names a missing sequence.

:func:`verifier` streams the entries (bounded memory: millions of rows) and the anchors, both in
sequence order, and stops at the first :class:`Rupture`. :func:`prouver` gives the proof for one entry:
the entries from it to the nearest later anchor, their links recomputed, and the anchor's token time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from dossiers.errors import JetonInvalide

__all__ = ["GENESE", "FORMAT", "Nature", "Inscription", "Entree", "Ancrage", "RuptureCode", "Rupture", "Verdict",
           "Preuve", "Controle", "encoder", "empreinte", "instant", "chainer", "verifier", "prouver"]

GENESE = "0" * 64
FORMAT = "conum-registre-1"


class Nature(StrEnum):
    DOCUMENT = "document"  # an issued convention, avenant or résiliation (DOCX or PDF)
    COPIE_SIGNEE = "copie_signee"  # a signed copy archived under retention
    CERTIFICAT = "certificat"  # its certificat d'archivage
    RAPPORT = "rapport"  # a rapport de contrôle handed out


@dataclass(frozen=True)
class Inscription:
    """What to append: the rest (sequence, time, chaining) is the ledger's."""

    nature: Nature
    key: str
    sha256: str


@dataclass(frozen=True)
class Entree:
    sequence: int
    at: datetime
    nature: str
    key: str
    sha256: str
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {"sequence": self.sequence, "at": self.at.isoformat(timespec="microseconds"), "nature": self.nature,
                "key": self.key, "sha256": self.sha256, "prev_hash": self.prev_hash, "hash": self.hash}


@dataclass(frozen=True)
class Ancrage:
    """The head ``sequence`` (whose hash is ``hash``) timestamped: ``token`` (DER), also stored under ``key``
    in the WORM bucket; ``at`` is when conum asked for it."""

    sequence: int
    hash: str
    token: bytes
    key: str
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"sequence": self.sequence, "hash": self.hash, "key": self.key,
                "at": self.at.isoformat(timespec="microseconds")}


def instant(at: datetime) -> datetime:
    """``at`` in UTC, to the microsecond (what both catalogs store); naive times are refused."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"horodatage sans fuseau horaire refusé : {at.isoformat()}")
    return at.astimezone(UTC)


def _netstring(value: str) -> bytes:
    data = value.encode("utf-8")
    return b"%d:%s," % (len(data), data)


def encoder(sequence: int, at: datetime, nature: str, key: str, sha256: str, prev_hash: str) -> bytes:
    """The canonical bytes of an entry (what its hash is the SHA-256 of)."""
    fields = (FORMAT, str(sequence), instant(at).isoformat(timespec="microseconds"), str(nature), key, sha256,
              prev_hash)
    return b"".join(_netstring(f) for f in fields)


def empreinte(sequence: int, at: datetime, nature: str, key: str, sha256: str, prev_hash: str) -> str:
    return hashlib.sha256(encoder(sequence, at, nature, key, sha256, prev_hash)).hexdigest()


def _recalcul(e: Entree) -> str:
    return empreinte(e.sequence, e.at, e.nature, e.key, e.sha256, e.prev_hash)


def chainer(tete: Entree | None, inscriptions: Iterable[Inscription], *, at: datetime) -> list[Entree]:
    """The entries that follow ``tete`` (None: an empty ledger), one per inscription, all at ``at``."""
    at = instant(at)
    sequence, prev = (tete.sequence, tete.hash) if tete is not None else (0, GENESE)
    out = []
    for i in inscriptions:
        if len(i.sha256) != 64 or i.sha256.strip("0123456789abcdef"):
            raise ValueError(f"SHA-256 invalide pour {i.key} : {i.sha256!r}")
        sequence += 1
        h = empreinte(sequence, at, i.nature, i.key, i.sha256, prev)
        out.append(Entree(sequence, at, str(i.nature), i.key, i.sha256, prev, h))
        prev = h
    return out


class RuptureCode(StrEnum):
    SEQUENCE_MANQUANTE = "sequence_manquante"  # a row deleted
    SEQUENCE_INATTENDUE = "sequence_inattendue"  # a sequence repeated or out of order
    EMPREINTE_ALTEREE = "empreinte_alteree"  # a row changed: its hash is not the hash of its fields
    CHAINAGE_ROMPU = "chainage_rompu"  # prev_hash is not the previous entry's hash
    ANCRAGE_SANS_ENTREE = "ancrage_sans_entree"  # an anchor names a sequence the ledger lacks (tail deleted)
    ANCRAGE_DIFFERENT = "ancrage_different"  # the anchored hash is not the entry's
    JETON_INVALIDE = "jeton_invalide"  # the token does not prove the anchored hash


@dataclass(frozen=True)
class Rupture:
    sequence: int
    code: RuptureCode
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"sequence": self.sequence, "code": str(self.code), "message": self.message}


@dataclass(frozen=True)
class Verdict:
    entrees: int  # entries read (up to the break)
    tete: Entree | None  # the last entry read
    ancrages: int  # anchors checked
    dernier_ancrage: tuple[int, datetime] | None  # (sequence, token time) of the last anchor checked
    rupture: Rupture | None

    @property
    def intact(self) -> bool:
        return self.rupture is None


# checks a token against its anchor (imprint == the anchored hash, signature, trust): returns its time
Controle = Callable[[Ancrage], datetime]


def _lien(e: Entree, prev: Entree | None) -> Rupture | None:
    """The first thing wrong with ``e`` after ``prev`` (None: ``e`` is the first entry)."""
    expected = prev.sequence + 1 if prev is not None else 1
    if e.sequence > expected:
        gap = (f"la séquence {expected} est absente" if e.sequence == expected + 1
               else f"les séquences {expected} à {e.sequence - 1} sont absentes")
        return Rupture(expected, RuptureCode.SEQUENCE_MANQUANTE, f"{gap} (ligne supprimée du registre)")
    if e.sequence < expected:
        return Rupture(e.sequence, RuptureCode.SEQUENCE_INATTENDUE,
                       f"séquence {e.sequence} lue après la séquence {expected - 1}")
    if _recalcul(e) != e.hash:
        return Rupture(e.sequence, RuptureCode.EMPREINTE_ALTEREE,
                       f"l'empreinte recalculée de l'entrée {e.sequence} ({e.key}) n'est pas celle enregistrée "
                       "(ligne modifiée)")
    if e.prev_hash != (prev.hash if prev is not None else GENESE):
        return Rupture(e.sequence, RuptureCode.CHAINAGE_ROMPU,
                       f"l'entrée {e.sequence} ne désigne pas l'empreinte de l'entrée {expected - 1} "
                       "(chaîne réécrite ou ligne remplacée)")
    return None


def _ancrage(a: Ancrage, e: Entree, controle: Controle) -> datetime | Rupture:
    """The anchor's certified time, or why it does not hold."""
    if a.hash != e.hash:
        return Rupture(a.sequence, RuptureCode.ANCRAGE_DIFFERENT,
                       f"l'ancrage de la séquence {a.sequence} porte une autre empreinte que l'entrée "
                       "(chaîne réécrite depuis l'horodatage)")
    try:
        return controle(a)
    except JetonInvalide as exc:
        return Rupture(a.sequence, RuptureCode.JETON_INVALIDE,
                       f"jeton d'horodatage de la séquence {a.sequence} : {exc.message}")


def verifier(entrees: Iterable[Entree], ancrages: Iterable[Ancrage], controle: Controle) -> Verdict:
    """Recompute the chain and check every anchor; both iterables in increasing sequence, read once."""
    pending: Iterator[Ancrage] = iter(ancrages)
    ancrage = next(pending, None)
    prev: Entree | None = None
    count = checked = 0
    last: tuple[int, datetime] | None = None

    def verdict(rupture: Rupture | None) -> Verdict:
        return Verdict(count, prev, checked, last, rupture)

    for e in entrees:
        if (rupture := _lien(e, prev)) is not None:
            return verdict(rupture)
        while ancrage is not None and ancrage.sequence <= e.sequence:
            if ancrage.sequence < e.sequence:  # only before the first entry (a gap was caught above)
                return verdict(Rupture(ancrage.sequence, RuptureCode.ANCRAGE_SANS_ENTREE,
                                       f"l'ancrage de la séquence {ancrage.sequence} ne correspond à aucune entrée"))
            time = _ancrage(ancrage, e, controle)
            if isinstance(time, Rupture):
                return verdict(time)
            checked, last = checked + 1, (ancrage.sequence, time)
            ancrage = next(pending, None)
        prev, count = e, count + 1
    if ancrage is not None:
        return verdict(Rupture(ancrage.sequence, RuptureCode.ANCRAGE_SANS_ENTREE,
                               f"la séquence {ancrage.sequence} a été horodatée mais le registre s'arrête à la "
                               f"séquence {prev.sequence if prev else 0} (entrées de fin supprimées)"))
    return verdict(None)


@dataclass(frozen=True)
class Preuve:
    """Why ``entree`` is genuine: ``chaine`` (from it to the anchored entry, inclusive) recomputed link by
    link, and the anchor's token time; ``ancrage`` None when no anchor covers it yet."""

    entree: Entree
    chaine: Sequence[Entree]
    ancrage: Ancrage | None
    horodatage: datetime | None
    rupture: Rupture | None

    @property
    def valide(self) -> bool:
        return self.rupture is None and self.horodatage is not None

    def to_dict(self) -> dict[str, Any]:
        return {"entree": self.entree.to_dict(), "chaine": [e.to_dict() for e in self.chaine],
                "ancrage": self.ancrage.to_dict() if self.ancrage else None,
                "horodatage": self.horodatage.isoformat() if self.horodatage else None,
                "rupture": self.rupture.to_dict() if self.rupture else None, "valide": self.valide}


def prouver(entree: Entree, suite: Iterable[Entree], ancrage: Ancrage | None, controle: Controle) -> Preuve:
    """The proof of ``entree``: ``suite`` is the ledger from ``entree.sequence`` to ``ancrage.sequence`` (or to
    the head when no anchor covers it yet)."""
    chaine: list[Entree] = []
    prev: Entree | None = None
    for e in suite:
        rupture = _lien(e, prev) if prev is not None else (
            None if e == entree else Rupture(e.sequence, RuptureCode.EMPREINTE_ALTEREE,
                                             f"l'entrée {e.sequence} a changé pendant la lecture"))
        if rupture is None and prev is None and _recalcul(e) != e.hash:
            rupture = Rupture(e.sequence, RuptureCode.EMPREINTE_ALTEREE,
                              f"l'empreinte recalculée de l'entrée {e.sequence} n'est pas celle enregistrée")
        if rupture is not None:
            return Preuve(entree, tuple(chaine), ancrage, None, rupture)
        chaine.append(e)
        prev = e
    if ancrage is None:
        return Preuve(entree, tuple(chaine), None, None, None)
    if prev is None or prev.sequence != ancrage.sequence:
        return Preuve(entree, tuple(chaine), ancrage, None, Rupture(
            ancrage.sequence, RuptureCode.ANCRAGE_SANS_ENTREE,
            f"la chaîne ne mène pas à la séquence horodatée {ancrage.sequence}"))
    time = _ancrage(ancrage, prev, controle)
    if isinstance(time, Rupture):
        return Preuve(entree, tuple(chaine), ancrage, None, time)
    return Preuve(entree, tuple(chaine), ancrage, time, None)
