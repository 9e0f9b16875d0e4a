"""RFC 3161 timestamps from a TSA (``TSA_URL``), requested and verified with pyHanko.

:meth:`Horodateur.horodater` sends the SHA-256 of some bytes and returns the DER TimeStampToken;
:func:`verifier_jeton` checks a stored token against a digest (the imprint, the TSA's signature, and
its certificate path to the trust roots when some are given, at the token's own time) and returns the
time it states. Revocation is not fetched (no network but the TSA's).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import cms

from dossiers.errors import ConumError, ErrorCode, HorodatageUnavailable, JetonInvalide

__all__ = ["Horodateur", "Tsa", "verifier_jeton"]

@dataclass(frozen=True)
class Horodateur:
    url: str
    timeout: float = 10.0

    def horodater(self, digest: bytes) -> bytes:
        """The TSA's token (DER) for a SHA-256 ``digest``; ``HorodatageUnavailable`` (transient) if it cannot
        be reached or answers nonsense (a job retries)."""
        from pyhanko.sign.timestamps import HTTPTimeStamper

        stamper = HTTPTimeStamper(self.url, timeout=self.timeout)
        try:
            token = asyncio.run(stamper.async_timestamp(digest, "sha256"))
        except Exception as exc:  # noqa: BLE001 - network errors, HTTP errors, a bad answer: all transient
            raise HorodatageUnavailable(f"autorité d'horodatage {self.url} injoignable ou en erreur : {exc}") from exc
        return bytes(token.dump())

    def timestamper(self) -> Any:
        """pyHanko's own client, for the signers that embed a timestamp (PAdES B-T)."""
        from pyhanko.sign.timestamps import HTTPTimeStamper

        return HTTPTimeStamper(self.url, timeout=self.timeout)


def verifier_jeton(token: bytes, digest: bytes, roots: list[Any] | None = None) -> datetime:
    """The time a token states for ``digest``; ``JetonInvalide`` when it is not a token, covers another
    digest, its signature is wrong, or (with ``roots``) its TSA does not chain to one of them."""
    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
    from pyhanko.sign.validation.status import TimestampSignatureStatus
    from pyhanko_certvalidator import ValidationContext

    try:
        info = cms.ContentInfo.load(token)
        signed = info["content"]
        tst_info = signed["encap_content_info"]["content"].parsed
        imprint = bytes(tst_info["message_imprint"]["hashed_message"].native)
    except (ValueError, TypeError, KeyError) as exc:
        raise JetonInvalide("jeton d'horodatage illisible") from exc
    if imprint != digest:
        raise JetonInvalide("le jeton d'horodatage porte sur une autre empreinte")
    gen_time = tst_info["gen_time"].native
    # the TSA's certificate is judged at the time it signed (a token outlives its TSA's certificate)
    # without roots, only the token's own signature is checked: never the operating system's trust list
    context = ValidationContext(trust_roots=list(roots or ()), allow_fetching=False, moment=gen_time)
    try:
        status = TimestampSignatureStatus(**asyncio.run(validate_tst_signed_data(signed, context, lambda _: imprint)))
    except Exception as exc:  # noqa: BLE001 - pyHanko raises several kinds for a broken signature
        raise JetonInvalide(f"signature du jeton d'horodatage invalide : {exc}") from exc
    if not status.intact or not status.valid:
        raise JetonInvalide("signature du jeton d'horodatage invalide")
    if roots and not status.trusted:
        raise JetonInvalide("l'autorité d'horodatage n'est pas reconnue par les racines de confiance")
    return gen_time


class Tsa:
    """The ``dossiers.ports.Horodatage`` of the settings: the TSA at ``url`` (None: not configured), and the
    trust roots its tokens must chain to, loaded by ``racines`` on the first check that asks for them."""

    def __init__(self, url: str | None, timeout: float, racines: Callable[[], list[Any]]) -> None:
        self.url, self.timeout = url, timeout
        self._charger = racines
        self._racines: list[Any] | None = None
        self._lock = threading.Lock()

    def horodater(self, digest: bytes) -> bytes:
        if not self.url:
            raise ConumError("TSA_URL n'est pas configurée : le registre ne peut pas être horodaté (indiquez "
                             "l'adresse d'une autorité d'horodatage RFC 3161).",
                             code=ErrorCode.HORODATAGE_NON_CONFIGURE)
        return Horodateur(self.url, self.timeout).horodater(digest)

    def verifier_jeton(self, token: bytes, digest: bytes, *, racines: bool = False) -> datetime:
        return verifier_jeton(token, digest, (self.racines() or None) if racines else None)

    def racines(self) -> list[Any]:
        """The trust roots (empty: none configured); a folder that cannot be read raises ``ConumError``."""
        with self._lock:
            if self._racines is None:
                self._racines = self._charger()
            return self._racines
