"""A test PKI made by code, and a real RFC 3161 time-stamping authority served over HTTP on loopback.

:func:`build` writes, under a folder, what the signature tests need (validity relative to the ``now``
given, so that every test passes whatever today's date is):

- ``racines/racine.pem``: the trusted root (the folder ``SIGNATURE_TRUST_ROOTS`` points to);
- an intermediate CA under it, which issues: the service's seal (``cachet.p12``, « conum — cachet de
  test », O « Agence nationale de la cohésion des territoires (test) »), the structure's representative
  (``marie-dupont.p12``, « Marie Dupont », O « Commune de Testville »; ``camille-exemple.p12``, the
  representative of ``tests.factories.demande()``), the CDC's agent
  (``agent-cdc.p12``), an expired signer (``paul-martin-expire.p12``: valid from 3 years to 1 year ago)
  and the TSA's certificate (``tsa.p12``, extended key usage timeStamping, critical);
- ``autre-racine.pem`` and ``jean-inconnu.p12``: a signer whose chain reaches a root nobody trusts.

Every PKCS#12 file has the password :data:`PASSWORD` and carries its chain (``tests.fixtures.signature``
signs with them). :class:`TsaServer` answers ``application/timestamp-query`` POSTs with tokens signed
by the TSA's key, through pyHanko's
``DummyTimeStamper`` (its name says "dummy" because it signs whatever it is asked: the tokens are real
RFC 3161 responses, with the request's imprint and nonce and the TSA's signature).
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["PASSWORD", "Pki", "TsaServer", "build"]

PASSWORD = b"conum-test"


@dataclass(frozen=True)
class Pki:
    folder: Path
    now: datetime  # the instant the certificates' validity is built around
    racines: Path  # the trust roots folder (SIGNATURE_TRUST_ROOTS)
    cachet: Path
    marie_dupont: Path
    camille_exemple: Path
    agent_cdc: Path
    paul_martin_expire: Path
    jean_inconnu: Path
    tsa: Path
    autre_racine: Path

    def signataire(self, cn: str, org: str) -> Path:
        """A new signer under the intermediate CA (e.g. the representative of a given demande)."""
        key, cert, chain = pkcs12.load_key_and_certificates((self.folder / "ac.p12").read_bytes(), PASSWORD)
        assert key is not None and cert is not None
        leaf_key = _key()
        leaf = _cert(_name(cn, org), leaf_key, cert.subject, key, start=self.now - timedelta(days=30),
                     end=self.now + timedelta(days=3 * 365))
        name = "".join(c if c.isalnum() else "-" for c in cn.lower())
        return _p12(self.folder / f"{name}.p12", cn, leaf_key, leaf, [cert, *chain])


def _name(cn: str, org: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _cert(subject: x509.Name, key: rsa.RSAPrivateKey, issuer: x509.Name, issuer_key: rsa.RSAPrivateKey, *,
          start: datetime, end: datetime, ca: bool = False, tsa: bool = False) -> x509.Certificate:
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                              critical=False))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True)
    else:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=not tsa, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False),
            critical=True)
    if tsa:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


def _p12(path: Path, name: str, key: rsa.RSAPrivateKey, cert: x509.Certificate,
         chain: list[x509.Certificate]) -> Path:
    path.write_bytes(pkcs12.serialize_key_and_certificates(
        name.encode(), key, cert, chain, serialization.BestAvailableEncryption(PASSWORD)))
    return path


def _pem(path: Path, cert: x509.Certificate) -> Path:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def build(folder: Path, now: datetime) -> Pki:
    """Write the test PKI under ``folder`` (validity around ``now``, an aware datetime)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "racines").mkdir(exist_ok=True)
    year = timedelta(days=365)
    root_key, root_name = _key(), _name("conum test — racine", "conum (test)")
    root = _cert(root_name, root_key, root_name, root_key, start=now - 5 * year, end=now + 20 * year, ca=True)
    inter_key, inter_name = _key(), _name("conum test — AC signature", "conum (test)")
    inter = _cert(inter_name, inter_key, root_name, root_key, start=now - 5 * year, end=now + 10 * year, ca=True)
    chain = [inter, root]
    _p12(folder / "ac.p12", "conum test — AC signature", inter_key, inter, [root])  # for Pki.signataire

    def leaf(file: str, cn: str, org: str, *, start: datetime = now - year, end: datetime = now + 3 * year,
             tsa: bool = False) -> Path:
        key = _key()
        cert = _cert(_name(cn, org), key, inter_name, inter_key, start=start, end=end, tsa=tsa)
        return _p12(folder / file, cn, key, cert, chain)

    other_key, other_name = _key(), _name("Autre racine", "Inconnue")
    other = _cert(other_name, other_key, other_name, other_key, start=now - 5 * year, end=now + 20 * year, ca=True)
    stranger_key = _key()
    stranger = _cert(_name("Jean Inconnu", "Commune de Testville"), stranger_key, other_name, other_key,
                     start=now - year, end=now + 3 * year)
    return Pki(
        folder=folder, now=now, racines=(_pem(folder / "racines" / "racine.pem", root)).parent,
        cachet=leaf("cachet.p12", "conum — cachet de test", "Agence nationale de la cohésion des territoires (test)"),
        marie_dupont=leaf("marie-dupont.p12", "Marie Dupont", "Commune de Testville"),
        camille_exemple=leaf("camille-exemple.p12", "Camille Exemple", "Commune d'Exemple"),
        agent_cdc=leaf("agent-cdc.p12", "Agent CDC", "Caisse des Dépôts (test)"),
        paul_martin_expire=leaf("paul-martin-expire.p12", "Paul Martin", "Commune de Testville",
                                start=now - 3 * year, end=now - year),
        jean_inconnu=_p12(folder / "jean-inconnu.p12", "Jean Inconnu", stranger_key, stranger, [other]),
        tsa=leaf("tsa.p12", "conum test — horodatage", "conum (test)", tsa=True),
        autre_racine=_pem(folder / "autre-racine.pem", other),
    )


class TsaServer:
    """An RFC 3161 TSA over HTTP on 127.0.0.1 (a free port), signing with ``tsa_p12``'s key."""

    def __init__(self, tsa_p12: Path) -> None:
        from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        key, cert, chain = pkcs12.load_key_and_certificates(tsa_p12.read_bytes(), PASSWORD)
        assert key is not None and cert is not None
        der_key = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        as_cert = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
        store = SimpleCertificateStore.from_certs(
            [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in chain])
        stamper = DummyTimeStamper(tsa_cert=as_cert, tsa_key=asn1_keys.PrivateKeyInfo.load(der_key),
                                   certs_to_embed=store)
        self.requests = 0
        server_self = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(min(length, 1 << 16))
                if self.headers.get("Content-Type") != "application/timestamp-query":
                    self.send_error(415)
                    return
                try:
                    req = tsp.TimeStampReq.load(body)
                    answer = asyncio.run(stamper.async_request_tsa_response(req)).dump()
                except Exception:  # noqa: BLE001 - a bad request is answered 400, as a TSA would
                    self.send_error(400)
                    return
                server_self.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/tsa"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()
