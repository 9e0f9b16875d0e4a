"""The trust anchors a signature must chain to: every PEM or DER certificate of a folder.

Operators put there the roots they accept (``SIGNATURE_TRUST_ROOTS``): for signatures made under the
eIDAS regulation, the CA certificates of the EU trusted lists (the French list, published by the ANSSI,
names the qualified providers' roots); the README says how. The seal's own chain (``SEAL_CHAIN``) is
added by the callers that validate what conum issued.
"""

from __future__ import annotations

from pathlib import Path

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509

from dossiers.errors import ConumError, ErrorCode

__all__ = ["charger_certificats", "racines"]

_MAX_FILE = 1 << 20  # a certificate file of more than 1 MB is not one
_CONFIG = ErrorCode.CONFIGURATION_INVALIDE  # every file read here is named by a setting


def charger_certificats(path: Path) -> list[asn1_x509.Certificate]:
    """Every certificate of a PEM (one or several blocks) or DER file; ``ConumError`` if it holds none."""
    try:
        data = path.read_bytes()[:_MAX_FILE]
    except OSError as exc:
        raise ConumError(f"certificat illisible ({path}) : {exc.strerror or exc}", code=_CONFIG) from exc
    try:
        if pem.detect(data):
            found = [asn1_x509.Certificate.load(der) for kind, _, der in pem.unarmor(data, multiple=True)
                     if kind == "CERTIFICATE"]
        else:
            found = [asn1_x509.Certificate.load(data)]
        for cert in found:
            cert.native  # noqa: B018 - parse it now: a broken file fails here, not during a validation
    except (ValueError, TypeError) as exc:
        raise ConumError(f"certificat illisible ({path}) : ni PEM ni DER X.509", code=_CONFIG) from exc
    if not found:
        raise ConumError(f"aucun certificat dans {path}", code=_CONFIG)
    return found


def racines(folder: Path | None) -> list[asn1_x509.Certificate]:
    """The certificates of every file of ``folder`` (sorted by name; hidden files skipped); none when unset."""
    if folder is None:
        return []
    if not folder.is_dir():
        raise ConumError(f"SIGNATURE_TRUST_ROOTS={folder} : ce n'est pas un dossier", code=_CONFIG)
    certs: list[asn1_x509.Certificate] = []
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        certs.extend(charger_certificats(path))
    return certs
