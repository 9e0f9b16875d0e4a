"""The service's seal on every PDF conum issues: a PAdES certification signature, timestamped.

:func:`build_sceau` loads the key once from the settings: a PKCS#12 file (``SEAL_PKCS12``, its password
in ``SEAL_PKCS12_PASSWORD``) or a PKCS#11 token (``SEAL_PKCS11_MODULE``, ``SEAL_PKCS11_TOKEN``,
``SEAL_PKCS11_PIN``, ``SEAL_PKCS11_KEY_LABEL``, ``SEAL_PKCS11_CERT_LABEL``), never both; the issuers in
``SEAL_CHAIN`` are embedded in every seal. Neither configured: None, and documents are issued unsealed.
Every failure is a :class:`SceauError` with a French message (a missing file, a wrong password or PIN,
an absent token, an expired certificate); a TSA that does not answer is :class:`HorodatageUnavailable`
(transient: the job is retried).

:meth:`Sceau.sceller` appends one incremental update to the PDF (every byte before it, the PDF/A-2b
identification included, stays as it was): for a convention, an avenant or a résiliation, the empty
signature fields of the parties (:mod:`dossiers.adapters.signature.champs`), then the invisible field
``CachetConum`` holding a certification signature (DocMDP level 2, « remplissage de formulaires et
signatures » : the structure, then the CDC, can still sign in their fields without breaking it),
subfilter ETSI.CAdES.detached (PAdES), with an RFC 3161 timestamp from ``TSA_URL`` when set (PAdES
B-T; B-B without it). B-LT (the revocation information of the chain embedded in a DSS) is done only
when the seal's certificate names a revocation source (OCSP or CRL URL): it is then fetched at every
seal (network), and the roots must be known (self-signed certificates of ``SEAL_CHAIN`` or
``SIGNATURE_TRUST_ROOTS``). The test PKI names none, so tests cover B-T.

Cost (``bench/sceau.py``): pyHanko's defaults spend ~100 ms per seal, four fifths of it loading the
RSA private key twice (cryptography checks an RSA key at every load, ~40 ms) and signing a dummy
container to size the reservation. The key is therefore loaded once (:class:`_ClefEnMemoire`) and the
space for the signature reserved from the certificates' sizes (:func:`_reserve`), which leaves ~25 ms.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from pyhanko.sign.general import get_pyca_cryptography_hash
from pyhanko.sign.signers import SimpleSigner

from dossiers.adapters.signature.confiance import charger_certificats, racines
from dossiers.adapters.signature.horodatage import Horodateur
from dossiers.errors import ConumError, HorodatageUnavailable, SceauError

__all__ = ["CHAMP_SCEAU", "Sceau", "build_sceau", "verifier_configuration"]

CHAMP_SCEAU = "CachetConum"
_TOKEN_RESERVE = 12_000  # DER bytes for a TSA token with its certificates (a qualified TSA's: ~6 kB)


def verifier_configuration(settings: Any) -> None:
    """Refuse at start-up a configuration naming two keys (no I/O: the key itself is loaded on first use)."""
    if settings.seal_pkcs12 is not None and settings.seal_pkcs11_module is not None:
        raise SceauError("SEAL_PKCS12 et SEAL_PKCS11_MODULE sont tous deux définis : le cachet vient d'un "
                         "fichier PKCS#12 ou d'un jeton PKCS#11, choisissez l'un des deux.")


@dataclass
class Sceau:
    """A loaded seal key; :meth:`sceller` may be called from several threads."""

    signer: Any  # a pyhanko Signer
    horodateur: Horodateur | None = None
    validation: Any = None  # a ValidationContext when B-LT is possible
    session: Any = None  # the PKCS#11 session, closed by close()
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def sceller(self, pdf: bytes, *, signataires: bool = False) -> bytes:
        """``pdf`` with the seal appended (and, with ``signataires``, the parties' empty signature fields)."""
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.pdf_utils.misc import PdfError
        from pyhanko.sign import fields, signers
        from pyhanko.sign.general import SigningError
        from pyhanko.sign.timestamps.common_utils import TimestampRequestError

        from dossiers.adapters.signature.champs import emplacements

        meta = signers.PdfSignatureMetadata(
            field_name=CHAMP_SCEAU, certify=True, docmdp_permissions=fields.MDPPerm.FILL_FORMS,
            subfilter=fields.SigSeedSubFilter.PADES, reason="Cachet du service émetteur (conum)",
            embed_validation_info=self.validation is not None, validation_context=self.validation,
            use_pades_lta=False,
        )
        timestamper = self.horodateur.timestamper() if self.horodateur else None
        reserve = _reserve(self.signer, timestamped=timestamper is not None)
        for attempt in (reserve, None):  # None: let pyHanko size it (a TSA answering a larger token)
            try:
                writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
                if signataires:
                    for champ in emplacements(writer.root):
                        fields.append_signature_field(writer, fields.SigFieldSpec(
                            champ.nom, on_page=champ.page, box=champ.box,
                            readable_field_name=f"Signature — {champ.nom.removeprefix('Signature')}"))
                pdf_signer = signers.PdfSigner(meta, self.signer, timestamper=timestamper)
                if self.session is not None:
                    with self._lock:  # one PKCS#11 session: one operation at a time
                        out = pdf_signer.sign_pdf(writer, bytes_reserved=attempt)
                else:
                    out = pdf_signer.sign_pdf(writer, bytes_reserved=attempt)
                return out.getvalue()
            except TimestampRequestError as exc:
                raise HorodatageUnavailable(f"autorité d'horodatage {self.horodateur.url if self.horodateur else ''} "
                                            f"injoignable ou en erreur : {exc}") from exc
            except (SigningError, PdfError) as exc:
                if attempt is not None and _too_small(exc):
                    continue
                raise SceauError(f"le cachet n'a pas pu être apposé : {exc}") from exc
            except Exception as exc:  # noqa: BLE001 - a token gone, a network error fetching revocation data
                if _is_network(exc):
                    raise HorodatageUnavailable(f"cachet : service distant injoignable ({exc})") from exc
                raise SceauError(f"le cachet n'a pas pu être apposé : {exc}") from exc
        raise SceauError("le cachet n'a pas pu être apposé : place réservée insuffisante")

    def close(self) -> None:
        if self.session is not None:
            try:
                self.session.close()
            except Exception:  # noqa: BLE001 - a token removed meanwhile: nothing left to close
                pass
            self.session = None


def _too_small(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "bytes_reserved" in text or "larger than" in text or "too small" in text


def _is_network(exc: BaseException) -> bool:
    return isinstance(exc, (OSError, TimeoutError)) or type(exc).__module__.startswith(("aiohttp", "requests"))


def _reserve(signer: Any, *, timestamped: bool) -> int:
    """Hex characters to reserve for the CMS container: the certificates it embeds, the signed attributes
    and the signature (~3 kB), a timestamp token; doubled (hex), even."""
    certs = [signer.signing_cert, *list(signer.cert_registry)]
    der = sum(len(c.dump()) for c in certs) + 3_000 + (_TOKEN_RESERVE if timestamped else 0)
    return 2 * der + 2 * (der // 8)


def build_sceau(settings: Any, *, now: datetime) -> Sceau | None:
    """The seal from the settings; None when no key is configured."""
    verifier_configuration(settings)
    if settings.seal_pkcs12 is None and settings.seal_pkcs11_module is None:
        return None
    chain = _chain(settings.seal_chain)
    if settings.seal_pkcs12 is not None:
        signer, session = _pkcs12(settings.seal_pkcs12, settings.seal_pkcs12_password, chain), None
    else:
        signer, session = _pkcs11(settings, chain)
    try:
        cert = signer.signing_cert
        _check_validity(cert, now)
        horodateur = Horodateur(settings.tsa_url, settings.tsa_timeout) if settings.tsa_url else None
        validation = _validation(cert, chain, settings.signature_trust_roots)
    except BaseException:
        if session is not None:
            session.close()
        raise
    return Sceau(signer, horodateur, validation, session)


def _chain(path: Path | None) -> list[Any]:
    if path is None:
        return []
    try:
        return charger_certificats(path)
    except ConumError as exc:
        raise SceauError(f"SEAL_CHAIN : {exc.message if hasattr(exc, 'message') else exc}") from exc


def _pkcs12(path: Path, password: str | None, chain: list[Any]) -> Any:
    from cryptography.hazmat.primitives.serialization import pkcs12
    from pyhanko.keys.internal import (
        translate_pyca_cryptography_cert_to_asn1,
        translate_pyca_cryptography_key_to_asn1,
    )
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SceauError(f"SEAL_PKCS12={path} : fichier illisible ({exc.strerror or exc})") from exc
    try:
        key, cert, others = pkcs12.load_key_and_certificates(data, password.encode() if password else None)
    except (ValueError, TypeError) as exc:
        raise SceauError(f"SEAL_PKCS12={path} : fichier PKCS#12 illisible ou mot de passe "
                         "(SEAL_PKCS12_PASSWORD) incorrect") from exc
    if key is None or cert is None:
        raise SceauError(f"SEAL_PKCS12={path} : le fichier ne contient pas à la fois une clé et son certificat")
    registry = SimpleCertificateStore.from_certs(
        [translate_pyca_cryptography_cert_to_asn1(c) for c in others] + list(chain))
    return _ClefEnMemoire(key, signing_key=translate_pyca_cryptography_key_to_asn1(key),
                          signing_cert=translate_pyca_cryptography_cert_to_asn1(cert), cert_registry=registry)


def _pkcs11(settings: Any, chain: list[Any]) -> tuple[Any, Any]:
    from pyhanko.sign import pkcs11

    module = settings.seal_pkcs11_module
    key_label = settings.seal_pkcs11_key_label
    if not key_label:
        raise SceauError("SEAL_PKCS11_KEY_LABEL manquant : le libellé de la clé du cachet sur le jeton")
    if not module.is_file():
        raise SceauError(f"SEAL_PKCS11_MODULE={module} : module PKCS#11 introuvable")
    try:
        session = pkcs11.open_pkcs11_session(
            str(module), token_criteria=pkcs11.TokenCriteria(label=settings.seal_pkcs11_token),
            user_pin=settings.seal_pkcs11_pin)
    except Exception as exc:  # noqa: BLE001 - python-pkcs11 raises its own tree (PinIncorrect, NoSuchToken…)
        raise SceauError(f"jeton PKCS#11 « {settings.seal_pkcs11_token or '(premier)'} » inaccessible "
                         f"({type(exc).__name__}) : module, libellé du jeton ou PIN (SEAL_PKCS11_PIN) ?") from exc
    try:
        signer = pkcs11.PKCS11Signer(session, cert_label=settings.seal_pkcs11_cert_label or key_label,
                                     key_label=key_label, ca_chain=chain)
        signer.signing_cert  # noqa: B018 - fetch the certificate now: a wrong label fails at start-up
    except Exception as exc:  # noqa: BLE001
        session.close()
        raise SceauError(f"jeton PKCS#11 : clé « {key_label} » ou son certificat introuvable "
                         f"({type(exc).__name__})") from exc
    return signer, session


def _check_validity(cert: Any, now: datetime) -> None:
    validity = cert["tbs_certificate"]["validity"]
    start, end = validity["not_before"].native, validity["not_after"].native
    subject = cert.subject.human_friendly
    if now < start:
        raise SceauError(f"certificat du cachet ({subject}) valable seulement à partir du {start:%d/%m/%Y}")
    if now > end:
        raise SceauError(f"certificat du cachet ({subject}) expiré le {end:%d/%m/%Y}")


def _validation(cert: Any, chain: list[Any], roots_folder: Path | None) -> Any:
    """A validation context to embed revocation data (B-LT), or None when the certificate names no source."""
    if not (cert.ocsp_urls or cert.crl_distribution_points):
        return None
    from pyhanko_certvalidator import ValidationContext

    try:
        roots = [c for c in chain if c.self_signed == "maybe" or c.self_signed == "yes"] + racines(roots_folder)
    except ConumError as exc:
        raise SceauError(f"racines de confiance illisibles : {exc}") from exc
    if not roots:
        return None  # no root to build the path to: B-T only
    return ValidationContext(trust_roots=roots, other_certs=chain, allow_fetching=True)


class _ClefEnMemoire(SimpleSigner):
    """pyHanko's SimpleSigner loads the private key from DER at every signature (~40 ms for RSA: the key
    check of cryptography), twice per seal; this one keeps the loaded key."""

    def __init__(self, key: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._key = key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        digest = get_pyca_cryptography_hash(digest_algorithm)
        if mechanism == "rsassa_pkcs1v15" and isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(data, PKCS1v15(), digest)
        if mechanism == "ecdsa" and isinstance(self._key, ec.EllipticCurvePrivateKey):
            return self._key.sign(data, ec.ECDSA(digest))
        return super().sign_raw(data, digest_algorithm)
