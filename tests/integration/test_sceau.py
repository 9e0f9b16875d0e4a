"""The service's seal on what conum issues, and the parties' signatures after it.

Real parts: a convention converted by LibreOffice (warm pool), the test PKI of tests/pki.py, a real
RFC 3161 TSA on loopback, SoftHSM2 as the PKCS#11 token (Debian ``softhsm2``; missing: skip locally,
fail when ``CI=true``), pyHanko's validator and difference analysis.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from dossiers.adapters.pdf import read_pdf_metadata
from dossiers.adapters.signature.champs import CHAMP_CDC, CHAMP_STRUCTURE, REPLI
from dossiers.adapters.signature.confiance import racines
from dossiers.adapters.signature.sceau import CHAMP_SCEAU, build_sceau
from dossiers.bootstrap import App
from dossiers.errors import HorodatageUnavailable, SceauError
from dossiers.services.generation import generate_convention
from dossiers.settings import Settings
from tests.conftest import _free_port, _missing_service
from tests.factories import demande
from tests.fixtures.signature import signer
from tests.pki import PASSWORD

SOFTHSM_MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def convention(pool: Any, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A convention PDF/A-2b as conum issues it without a seal key (LibreOffice, stamped)."""
    var = tmp_path_factory.mktemp("sceau-var")
    with App(Settings(var_dir=var), converter=pool) as app:
        generated = generate_convention(demande(), app, today=date(2026, 11, 2), now=NOW)
        ref = generated.version.document("pdf")
        return app.storage.get(ref.key, sha256=ref.sha256)


def pkcs12_settings(pki: Any, tmp_path: Path, **extra: Any) -> Settings:
    return Settings(var_dir=tmp_path / "var", seal_pkcs12=pki.cachet, seal_pkcs12_password=PASSWORD.decode(),
                    **extra)


def validation_context(pki: Any) -> Any:
    from pyhanko_certvalidator import ValidationContext

    return ValidationContext(trust_roots=racines(pki.racines), allow_fetching=False)


def signatures(pdf: bytes, pki: Any) -> list[Any]:
    """(field name, pyHanko's status, the embedded signature) of every signature of ``pdf``, in order, with
    the test root trusted for the signers and the TSA."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature

    reader = PdfFileReader(io.BytesIO(pdf))
    return [(s.field_name, validate_pdf_signature(s, validation_context(pki),
                                                  ts_validation_context=validation_context(pki)), s)
            for s in reader.embedded_signatures]


def assert_sealed(pdf: bytes, pki: Any, *, timestamped: bool) -> Any:
    from pyhanko.sign.fields import MDPPerm

    (name, status, embedded), = signatures(pdf, pki)
    assert name == CHAMP_SCEAU
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert embedded.docmdp_level == MDPPerm.FILL_FORMS
    assert "conum — cachet de test" in status.signing_cert.subject.human_friendly
    if timestamped:
        ts = status.timestamp_validity
        assert ts is not None and ts.intact and ts.valid and ts.trusted
        assert abs((ts.timestamp - datetime.now(UTC)).total_seconds()) < 300
    else:
        assert status.timestamp_validity is None
    return status


def test_a_pkcs12_seal_is_a_timestamped_certification_the_structure_then_the_cdc_sign_after(
        convention: bytes, pki: Any, tsa_url: str, tmp_path: Path) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.fields import enumerate_sig_fields
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    sceau = build_sceau(pkcs12_settings(pki, tmp_path, tsa_url=tsa_url), now=NOW)
    sealed = sceau.sceller(convention, signataires=True)
    assert sealed.startswith(convention)  # an incremental update: every byte issued before stays
    assert_sealed(sealed, pki, timestamped=True)
    meta = read_pdf_metadata(sealed)
    assert (meta["pdfa_part"], meta["pdfa_conformance"]) == (2, "B")
    assert meta["convention_id"] == "CN-V2-STR-000123"

    # the parties' fields are empty, on the page of the signature block, under each column's label
    reader = PdfFileReader(io.BytesIO(sealed))
    empty = {name: field for name, value, field in enumerate_sig_fields(reader, filled_status=False)}
    assert set(empty) == {CHAMP_STRUCTURE, CHAMP_CDC}
    rects = {name: [float(v) for v in field.get_object()["/Rect"]] for name, field in empty.items()}
    assert rects[CHAMP_CDC][2] <= rects[CHAMP_STRUCTURE][0]  # CDC on the left, structure on the right
    assert [int(v) for v in rects[CHAMP_STRUCTURE]] != list(REPLI[CHAMP_STRUCTURE])  # found, not the fallback
    text = _page_text(sealed, CHAMP_STRUCTURE)
    assert "Pour la Structure" in text and "signature" in text.lower()

    # the structure signs in its field, then the CDC countersigns: two more incremental revisions
    by_structure = signer(sealed, pki.marie_dupont, champ=CHAMP_STRUCTURE, provided=True)
    countersigned = signer(by_structure, pki.agent_cdc, champ=CHAMP_CDC, provided=True)
    statuses = signatures(countersigned, pki)
    assert [name for name, _, _ in statuses] == [CHAMP_SCEAU, CHAMP_STRUCTURE, CHAMP_CDC]
    for name, status, _ in statuses:
        assert status.intact and status.valid and status.trusted, (name, status.pretty_print_details())
    seal = statuses[0][1]
    # the later signatures are what the certification allows: form filling, not "modified after"
    assert seal.docmdp_ok and seal.modification_level <= ModificationLevel.FORM_FILLING
    assert seal.coverage == SignatureCoverageLevel.ENTIRE_REVISION
    assert statuses[1][1].signing_cert.subject.native["common_name"] == "Marie Dupont"
    assert statuses[2][1].coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert read_pdf_metadata(countersigned)["pdfa_part"] == 2


def test_the_seal_keeps_the_pdfa_identification_and_marks_every_widget_printable(
        convention: bytes, pki: Any, tmp_path: Path) -> None:
    from pypdf import PdfReader

    sealed = build_sceau(pkcs12_settings(pki, tmp_path), now=NOW).sceller(convention, signataires=True)
    assert_sealed(sealed, pki, timestamped=False)
    reader = PdfReader(io.BytesIO(sealed), strict=True)
    widgets = [a.get_object() for p in reader.pages for a in p.get("/Annots", []) if a.get_object()["/Subtype"] == "/Widget"]
    assert len(widgets) == 3
    for widget in widgets:  # PDF/A-2 6.3.2: print flag set, hidden/invisible/noview clear
        flags = int(widget.get("/F", 0))
        assert flags & 4 and not flags & (1 | 2 | 32)
        # 6.3.3: an appearance (normal only) unless the box is empty, as the invisible seal's is
        if any(float(v) for v in widget["/Rect"]):
            assert set(widget["/AP"]) == {"/N"}
        else:
            assert widget["/T"] == CHAMP_SCEAU
    assert "/Perms" in reader.trailer["/Root"] and "/DocMDP" in reader.trailer["/Root"]["/Perms"]
    # the XMP packet LibreOffice wrote and conum stamped is the one the catalog still points to
    assert read_pdf_metadata(sealed)["pdfa_part"] == 2 and "/Encrypt" not in reader.trailer


@dataclass(frozen=True)
class SoftHsm:
    module: Path
    token: str
    pin: str
    key_label: str
    chain: Path


@pytest.fixture(scope="session")
def softhsm(pki: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHsm]:
    """A SoftHSM2 token « conum » (PIN 1234) holding the test seal's key and certificate under « cachet »."""
    util = shutil.which("softhsm2-util")
    if util is None or not SOFTHSM_MODULE.is_file():
        _missing_service("SoftHSM2 n'est pas installé (apt-get install softhsm2)")
    base = tmp_path_factory.mktemp("softhsm")
    (base / "tokens").mkdir()
    conf = base / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {base / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n")
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)  # read by the module when it is first loaded in this process
    try:
        key, cert, chain = pkcs12.load_key_and_certificates(pki.cachet.read_bytes(), PASSWORD)
        key_pem = base / "cachet.key.pem"
        key_pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
        chain_pem = base / "chaine.pem"
        chain_pem.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain))
        run = {"env": os.environ, "check": True, "capture_output": True, "timeout": 60}
        subprocess.run([util, "--init-token", "--free", "--label", "conum", "--pin", "1234", "--so-pin", "5678"], **run)
        subprocess.run([util, "--import", str(key_pem), "--token", "conum", "--label", "cachet", "--id", "01",
                        "--pin", "1234"], **run)
        key_pem.unlink()
        import pkcs11
        from pkcs11 import Attribute, CertificateType, ObjectClass

        token = pkcs11.lib(str(SOFTHSM_MODULE)).get_token(token_label="conum")
        with token.open(rw=True, user_pin="1234") as session:
            session.create_object({
                Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                Attribute.TOKEN: True, Attribute.LABEL: "cachet", Attribute.ID: b"\x01",
                Attribute.SUBJECT: cert.subject.public_bytes(), Attribute.VALUE: cert.public_bytes(serialization.Encoding.DER),
            })
        yield SoftHsm(SOFTHSM_MODULE, "conum", "1234", "cachet", chain_pem)
    finally:
        if previous is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = previous


def pkcs11_settings(hsm: SoftHsm, tmp_path: Path, **extra: Any) -> Settings:
    values = {"seal_pkcs11_module": hsm.module, "seal_pkcs11_token": hsm.token, "seal_pkcs11_pin": hsm.pin,
              "seal_pkcs11_key_label": hsm.key_label, "seal_chain": hsm.chain, **extra}
    return Settings(var_dir=tmp_path / "var", **values)


def test_a_seal_from_a_softhsm2_token_validates_and_the_structure_signs_after_it(
        convention: bytes, softhsm: SoftHsm, pki: Any, tsa_url: str, tmp_path: Path) -> None:
    sceau = build_sceau(pkcs11_settings(softhsm, tmp_path, tsa_url=tsa_url), now=NOW)
    try:
        sealed = sceau.sceller(convention, signataires=True)
        again = sceau.sceller(convention)  # the session stays open between seals
    finally:
        sceau.close()
    assert_sealed(sealed, pki, timestamped=True)
    assert_sealed(again, pki, timestamped=True)
    signed = signer(sealed, pki.marie_dupont, champ=CHAMP_STRUCTURE, provided=True)
    assert all(s.intact and s.valid and s.trusted for _, s, _ in signatures(signed, pki))


def test_a_wrong_pin_or_label_is_a_french_sceau_error(softhsm: SoftHsm, tmp_path: Path) -> None:
    with pytest.raises(SceauError) as pin:
        build_sceau(pkcs11_settings(softhsm, tmp_path, seal_pkcs11_pin="0000"), now=NOW)
    assert "PIN" in pin.value.message and pin.value.code == "sceau_indisponible"
    with pytest.raises(SceauError) as label:
        build_sceau(pkcs11_settings(softhsm, tmp_path, seal_pkcs11_key_label="autre"), now=NOW)
    assert "« autre »" in label.value.message
    with pytest.raises(SceauError) as token:
        build_sceau(pkcs11_settings(softhsm, tmp_path, seal_pkcs11_token="absent"), now=NOW)
    assert "absent" in token.value.message


def test_a_bad_pkcs12_configuration_is_refused_in_french(pki: Any, tmp_path: Path) -> None:
    with pytest.raises(SceauError) as password:
        build_sceau(Settings(var_dir=tmp_path, seal_pkcs12=pki.cachet, seal_pkcs12_password="faux"), now=NOW)
    assert "mot de passe" in password.value.message
    with pytest.raises(SceauError) as missing:
        build_sceau(Settings(var_dir=tmp_path, seal_pkcs12=tmp_path / "absent.p12"), now=NOW)
    assert "illisible" in missing.value.message
    with pytest.raises(SceauError) as expired:
        build_sceau(Settings(var_dir=tmp_path, seal_pkcs12=pki.paul_martin_expire,
                             seal_pkcs12_password=PASSWORD.decode()), now=NOW)
    assert "expiré" in expired.value.message
    both = Settings(var_dir=tmp_path, seal_pkcs12=pki.cachet, seal_pkcs11_module=SOFTHSM_MODULE)
    with pytest.raises(SceauError) as two:
        App(both)  # refused when the service starts, before any document
    assert "choisissez" in two.value.message


def test_without_a_key_documents_are_issued_unsealed(convention: bytes, tmp_path: Path) -> None:
    app = App(Settings(var_dir=tmp_path / "var"))
    assert app.sceau is None and app.sceller(convention, signataires=True) is convention


def test_a_tsa_that_does_not_answer_is_transient(convention: bytes, pki: Any, tmp_path: Path) -> None:
    port = _free_port()  # nothing listens there
    sceau = build_sceau(pkcs12_settings(pki, tmp_path, tsa_url=f"http://127.0.0.1:{port}/tsa", tsa_timeout=2),
                        now=NOW)
    with pytest.raises(HorodatageUnavailable) as down:
        sceau.sceller(convention)
    assert down.value.code == "horodatage_indisponible"


def _page_text(pdf: bytes, field: str) -> str:
    """The text of the page whose annotations hold the widget of ``field``."""
    from pypdf import PdfReader

    for page in PdfReader(io.BytesIO(pdf)).pages:
        if any(a.get_object().get("/T") == field for a in page.get("/Annots", [])):
            return page.extract_text()
    raise AssertionError(f"aucune page ne porte le champ {field}")
