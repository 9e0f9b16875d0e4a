"""Use cases of the archive ledger (registre): inscribe, anchor, verify, prove a file.

Every issued document (DOCX and PDF of conventions, avenants, résiliations), every signed copy archived
and its certificat d'archivage, every rapport de contrôle handed out is inscribed as an entry of the
hash chain (``dossiers.domain.registre``). Inscribing is idempotent: a retried job appends nothing.

An anchor timestamps the head of the chain with the TSA (``TSA_URL``): the token's imprint is the head
entry's hash. The token goes to the WORM archive (``registre/ancrages/<sequence>.tsr``, retained
``ARCHIVE_RETENTION_DAYS``) and to the catalog. Anchoring happens when ``conum ledger anchor`` runs
(a timer, with ``--si-du`` to keep the ``LEDGER_ANCHOR_HOURS`` cadence) and at the end of a re-issue
batch. Two anchorings of the same head converge on the token the WORM archive holds first.

Verification recomputes every entry, checks every anchor's token (the imprint, the TSA's signature,
its chain to ``SIGNATURE_TRUST_ROOTS`` when set) and that the catalog's token is the WORM archive's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from dossiers.domain.registre import (Ancrage, Controle, Entree, Inscription, Nature, Preuve, Verdict, prouver,
                                      verifier)
from dossiers.errors import HorodatageUnavailable, JetonInvalide, ObjectExists, ObjectNotFound
from dossiers.ports import AppPorts

__all__ = ["inscrire", "inscrire_tous", "ancrer", "ancrer_si_du", "ancrer_fin_de_lot", "verifier_registre",
           "preuves", "anchor_key", "TOKEN_TYPE"]

log = logging.getLogger(__name__)
TOKEN_TYPE = "application/timestamp-reply"


def anchor_key(sequence: int) -> str:
    return f"registre/ancrages/{sequence}.tsr"


def inscrire(app: AppPorts, nature: Nature, key: str, sha256: str, *, now: datetime) -> list[Entree]:
    """Append one entry (nothing if this nature, key and SHA-256 are inscribed already)."""
    return app.catalog.registre_append([Inscription(nature, key, sha256)], now=now)


def inscrire_tous(app: AppPorts, inscriptions: Iterable[Inscription], *, now: datetime) -> list[Entree]:
    """Append several entries in one transaction (the new ones are returned)."""
    return app.catalog.registre_append(list(inscriptions), now=now)


def ancrer(app: AppPorts, *, now: datetime) -> Ancrage | None:
    """Timestamp the head of the ledger if it is newer than the last anchor; None when nothing is new.
    ``ConumError`` (horodatage_non_configure) without ``TSA_URL``; ``HorodatageUnavailable`` is transient."""
    head = app.catalog.registre_head()
    last = app.catalog.registre_last_anchor()
    if head is None or (last is not None and last.sequence >= head.sequence):
        return None
    digest = bytes.fromhex(head.hash)
    token = app.horodatage.horodater(digest)
    key = anchor_key(head.sequence)
    try:
        app.archive.put(key, token, content_type=TOKEN_TYPE,
                        retain_until=now + timedelta(days=app.settings.archive_retention_days))
    except ObjectExists:  # an earlier (crashed) or concurrent anchoring of this head stored its token first
        token = app.archive.get(key)
        app.horodatage.verifier_jeton(token, digest)  # JetonInvalide if that token is not for this head
    return app.catalog.registre_record_anchor(Ancrage(head.sequence, head.hash, token, key, now))


def ancrer_si_du(app: AppPorts, *, now: datetime) -> Ancrage | None:
    """Anchor only when the last anchor is older than ``LEDGER_ANCHOR_HOURS`` (or there is none)."""
    last = app.catalog.registre_last_anchor()
    if last is not None and now - last.at < timedelta(hours=app.settings.ledger_anchor_hours):
        return None
    return ancrer(app, now=now)


def ancrer_fin_de_lot(app: AppPorts, *, now: datetime) -> Ancrage | None:
    """Anchor at the end of a batch when a TSA is configured; a TSA outage is logged, not raised (the
    batch's work is done; the next timed anchoring covers it)."""
    if not app.settings.tsa_url:
        return None
    try:
        return ancrer(app, now=now)
    except HorodatageUnavailable as exc:
        log.warning("horodatage du registre en fin de lot reporté : %s", exc.message)
        return None


def _controle(app: AppPorts) -> Controle:
    """The token check of an anchor: the token proves its hash (and chains to the trust roots when set),
    and the catalog's copy is the one the WORM archive holds."""
    horodatage = app.horodatage

    def check(a: Ancrage) -> datetime:
        time = horodatage.verifier_jeton(a.token, bytes.fromhex(a.hash), racines=True)
        try:
            stored = app.archive.get(a.key)
        except ObjectNotFound:
            raise JetonInvalide(f"jeton absent de l'archive sous verrou ({a.key})") from None
        if stored != a.token:
            raise JetonInvalide(f"le jeton du catalogue n'est pas celui de l'archive sous verrou ({a.key})")
        return time

    return check


def verifier_registre(app: AppPorts) -> Verdict:
    """Recompute the whole chain and check every anchor (streamed: bounded memory)."""
    return verifier(app.catalog.registre_entries(), app.catalog.registre_anchors(), _controle(app))


def preuves(app: AppPorts, sha256: str) -> list[Preuve]:
    """For each entry holding ``sha256``: the chain from it to the nearest later anchor, checked."""
    controle = _controle(app)
    out = []
    for entree in app.catalog.registre_find(sha256):
        ancrage = app.catalog.registre_anchor_covering(entree.sequence)
        suite = app.catalog.registre_entries(start=entree.sequence, stop=ancrage.sequence if ancrage else None)
        out.append(prouver(entree, suite, ancrage, controle))
    return out
