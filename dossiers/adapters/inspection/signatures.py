"""The cryptographic validation of a PDF's signatures, with pyHanko, in the inspection child.

:func:`valider` runs in the limited child process (``pool.py``) after pypdf found signed fields: the
bytes are untrusted, and pyHanko's parser and difference analysis must cost a child, never the
worker. For each embedded signature, in the order of the file, it answers JSON-ready facts:

- ``integre``: the digest of the signed byte ranges and the signature value both check out;
- ``couverture``: what the byte range covers (``fichier`` the whole file, ``revision`` its revision
  only: later incremental updates follow, ``partielle`` anything else);
- ``modifications``: pyHanko's difference analysis of what the later revisions changed (``aucune``,
  ``horodatage`` (document timestamps, validation data), ``remplissage`` (form filling and further
  signatures), ``annotations``, ``autres``), and ``docmdp_ok`` when a certification signature's
  permissions were kept;
- the signer's certificate (``signataire`` its CN, ``organisation``, ``emetteur`` its issuer's CN,
  ``numero_serie``, ``valide_du`` / ``valide_au``), ``date`` (the signing time the signer states),
  ``horodatage`` (the time of an embedded RFC 3161 token, when there is one and it is intact);
- ``approuvee``: the signer's certificate chains to one of the trust roots sent (at the signing time:
  the token's, else the stated one, else ``maintenant``); ``chaine_hors_validite``: when it does not
  because of the certificate's dates alone, whether the chain would hold within them (an expired
  certificate of a known signer is not an unknown signer);
- ``certification``: a certification (DocMDP) signature, such as the seal conum puts on what it issues;
- ``erreur``: why pyHanko could not validate it at all (malformed CMS, unknown algorithm…).

Nothing is fetched (no OCSP, no CRL, no AIA): the child has no network business, and revocation is
not asserted by conum (the README says so).
"""

from __future__ import annotations

import asyncio
import base64
import io
from datetime import datetime, timedelta
from typing import Any

__all__ = ["valider", "MAX_SIGNATURES"]

MAX_SIGNATURES = 10  # a convention carries the seal and two or three signatures; more are not read

_MODIFICATIONS = {0: "aucune", 1: "horodatage", 2: "remplissage", 3: "annotations", 4: "autres"}
_COUVERTURE = {3: "fichier", 2: "revision"}


def valider(data: bytes, racines: list[str], maintenant: str) -> list[dict[str, Any]]:
    """Facts of every signature of ``data`` (see the module docstring). ``racines``: the trust anchors,
    DER base64; ``maintenant``: ISO instant used when a signature states no time."""
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader

    anchors = [asn1_x509.Certificate.load(base64.b64decode(r)) for r in racines]
    now = datetime.fromisoformat(maintenant)
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    return [_one(sig, anchors, now) for sig in reader.embedded_signatures[:MAX_SIGNATURES]]


def _one(sig: Any, anchors: list[Any], now: datetime) -> dict[str, Any]:
    from pyhanko.sign.validation import async_validate_pdf_signature

    facts: dict[str, Any] = {"champ": str(sig.field_name or ""), "integre": False, "approuvee": False,
                             "certification": sig.docmdp_level is not None, "erreur": None}
    try:
        cert = sig.signer_cert
        facts.update(_certificate(cert))
    except Exception as exc:  # noqa: BLE001 - a CMS without a usable signer certificate
        facts["erreur"] = f"certificat du signataire illisible ({type(exc).__name__})"
        return facts
    stated = sig.self_reported_timestamp
    facts["date"] = stated.isoformat() if stated else None
    try:
        status = asyncio.run(async_validate_pdf_signature(sig, _context(anchors, stated or now)))
    except Exception as exc:  # noqa: BLE001 - pyHanko raises many kinds for a broken signature
        facts["erreur"] = f"signature invalide ({type(exc).__name__}: {str(exc)[:200]})"
        return facts
    token = status.timestamp_validity
    if token is not None and token.intact and token.valid:
        facts["horodatage"] = token.timestamp.isoformat()
        if token.timestamp != stated:  # trust judged at the token's time, which proves when it was signed
            status = asyncio.run(async_validate_pdf_signature(sig, _context(anchors, token.timestamp)))
    else:
        facts["horodatage"] = None
    facts.update(
        integre=bool(status.intact and status.valid),
        approuvee=bool(status.trusted),
        couverture=_COUVERTURE.get(int(status.coverage.value), "partielle") if status.coverage else "partielle",
        modifications=_MODIFICATIONS.get(int(status.modification_level.value), "autres")
        if status.modification_level is not None else None,
        docmdp_ok=status.docmdp_ok,
    )
    signed_at = token.timestamp if facts["horodatage"] else stated or now
    start, end = cert.not_valid_before, cert.not_valid_after
    facts["chaine_hors_validite"] = None
    if not status.trusted and anchors and not start <= signed_at <= end:
        inside = min(max(signed_at, start + timedelta(seconds=1)), end - timedelta(seconds=1))
        again = asyncio.run(async_validate_pdf_signature(sig, _context(anchors, inside), skip_diff=True))
        facts["chaine_hors_validite"] = bool(again.trusted)
    return facts


def _context(anchors: list[Any], moment: datetime) -> Any:
    from pyhanko_certvalidator import ValidationContext

    return ValidationContext(trust_roots=anchors, allow_fetching=False, moment=moment,
                             revocation_mode="soft-fail")


def _certificate(cert: Any) -> dict[str, Any]:
    subject, issuer = cert.subject.native, cert.issuer.native
    return {
        "signataire": _text(subject.get("common_name")), "organisation": _text(subject.get("organization_name")),
        "emetteur": _text(issuer.get("common_name")) or _text(issuer.get("organization_name")),
        "numero_serie": format(cert.serial_number, "x"),
        "valide_du": cert.not_valid_before.isoformat(), "valide_au": cert.not_valid_after.isoformat(),
    }


def _text(value: Any) -> str | None:
    if isinstance(value, list):  # a name may hold several values of one attribute
        value = ", ".join(str(v) for v in value)
    return str(value)[:200] if value else None
