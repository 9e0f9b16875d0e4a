"""Benchmark of the seal: CPU per document, without the TSA round trip. Prints its figures.

    .venv/bin/python bench/sceau.py [--n 50]

A real convention (LibreOffice, stamped, ~170 kB, 8 pages) is sealed with a PKCS#12 key, no TSA,
parties' fields included: median of ``time.process_time`` per document for

* pyHanko's defaults (``SimpleSigner.load_pkcs12``, signature size estimated by a dummy signature);
* conum's seal (:mod:`dossiers.adapters.signature.sceau`), RSA 2048 (the test PKI's keys) and ECDSA P-256;
* locating the parties' fields alone (:mod:`dossiers.adapters.signature.champs`).

Target: ≤ 30 ms per document.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.hazmat.primitives.serialization import pkcs12  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

from dossiers.adapters.signature.sceau import build_sceau  # noqa: E402
from dossiers.bootstrap import App  # noqa: E402
from dossiers.services.generation import generate_convention  # noqa: E402
from dossiers.settings import Settings  # noqa: E402
from tests.factories import demande  # noqa: E402
from tests.pki import PASSWORD, build  # noqa: E402


def median_ms(fn: Callable[[], object], n: int) -> float:
    fn()  # warm: imports, caches
    times = []
    for _ in range(n):
        start = time.process_time()
        fn()
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times)


def convention_pdf(folder: Path) -> bytes:
    with App(Settings(var_dir=folder / "var")) as app:
        generated = generate_convention(demande(), app, today=datetime.now(UTC).date(), now=datetime.now(UTC))
        ref = generated.version.document("pdf")
        return app.storage.get(ref.key, sha256=ref.sha256)


def ec_p12(folder: Path, now: datetime) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "conum — cachet ECDSA (bench)")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30)).sign(key, hashes.SHA256()))
    path = folder / "cachet-ec.p12"
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"ec", key, cert, None,
                                                           serialization.BestAvailableEncryption(PASSWORD)))
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50)
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pdf = convention_pdf(folder)
        pki = build(folder / "pki", now)
        print(f"Convention : {len(pdf) // 1024} kio ; {args.n} cachets par mesure, sans horodatage (CPU, médiane)")

        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign import fields, signers

        default_signer = signers.SimpleSigner.load_pkcs12(pki.cachet, passphrase=PASSWORD)
        meta = signers.PdfSignatureMetadata(field_name="CachetConum", certify=True,
                                            docmdp_permissions=fields.MDPPerm.FILL_FORMS,
                                            subfilter=fields.SigSeedSubFilter.PADES)

        def pyhanko_default() -> bytes:
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
            return signers.PdfSigner(meta, default_signer).sign_pdf(writer).getvalue()

        rsa = build_sceau(Settings(var_dir=folder, seal_pkcs12=pki.cachet, seal_pkcs12_password=PASSWORD.decode()),
                          now=now)
        ecdsa = build_sceau(Settings(var_dir=folder, seal_pkcs12=ec_p12(folder, now),
                                     seal_pkcs12_password=PASSWORD.decode()), now=now)

        from dossiers.adapters.signature.champs import emplacements

        rows = [
            ("pyHanko par défaut, RSA 2048 (sans champs)", median_ms(pyhanko_default, max(args.n // 5, 5))),
            ("cachet conum, RSA 2048, avec les champs des parties", median_ms(lambda: rsa.sceller(pdf, signataires=True), args.n)),
            ("cachet conum, RSA 2048, sans champs (rapport, certificat)", median_ms(lambda: rsa.sceller(pdf), args.n)),
            ("cachet conum, ECDSA P-256, avec les champs des parties", median_ms(lambda: ecdsa.sceller(pdf, signataires=True), args.n)),
            ("repérage des champs seul", median_ms(lambda: emplacements(PdfFileReader(io.BytesIO(pdf), strict=False).root), args.n)),
        ]
        for label, ms in rows:
            print(f"  {label:<62} {ms:6.1f} ms")
        verdict = "OK" if rows[1][1] <= 30 else "AU-DELÀ"
        print(f"Objectif ≤ 30 ms par document (RSA, champs compris) : {verdict}")


if __name__ == "__main__":
    main()
