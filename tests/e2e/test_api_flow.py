"""The whole flow over HTTP, against real parts: ``conum serve`` (uvicorn) on a free port, Dramatiq
workers on Redis, PostgreSQL, SeaweedFS for every bucket (so downloads are 302s to presigned URLs),
LibreOffice for the PDF.

A portal opens a dossier and sends its pieces, waits for their validation, asks for the convention;
an instructeur of the département downloads the PDF, uploads the copy the structure signed, and
fetches the certificat d'archivage. Everything is read back: the PDF's SHA-256 and text, the signed
copy in the archive bucket under retention, the audit log.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from tests.conftest import _free_port, terminate
from tests.e2e.test_workers_redis import Workers, worker_env
from dossiers.clock import Clock
from dossiers.domain.formatting import montant
from tests.factories import demande
from tests.fixtures.contrat import contrat_pdf
from tests.fixtures.identite import identite_pdf, td1
from tests.fixtures.signature import copie_signee
from tests.fixtures.rib import rib_pdf
from tests.fixtures.sirene import avis_sirene_pdf

pytestmark = [pytest.mark.libreoffice, pytest.mark.redis, pytest.mark.postgres, pytest.mark.seaweedfs]
ROOT = Path(__file__).resolve().parents[2]
CONUM = [sys.executable, "-m", "dossiers.entrypoints"]
# Commune d'Exempleville (33), vague 2: two postes occupied (a CDD still running when the workers check
# it, whatever the date: its end follows conum's clock; a CDI), one vacant
CDD_FIN = Clock().today().replace(day=1) + timedelta(days=400)
DEMANDE = demande(postes=[
    {"id": "P-1", "etat": "occupe", "conseiller": {"prenom": "Inès", "nom": "Témoin-Lefèvre"},
     "contrat": {"type": "CDD", "date_debut": "2024-01-01", "date_fin": CDD_FIN.isoformat()}},
    {"id": "P-2", "etat": "occupe", "conseiller": {"prenom": "Karim", "nom": "Bouzid"},
     "contrat": {"type": "CDI", "date_debut": "2023-10-01"}},
    {"id": "P-3", "etat": "vacant", "vacant_depuis": "2024-03-01"},
])
DOSSIER, CONVENTION = "DOS-V2-STR-000123", "CN-V2-STR-000123"
COMMUNE = "COMMUNE D'EXEMPLEVILLE"


class Api:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._out = open(log, "ab")  # noqa: SIM115 - closed by stop()
        self.log = log
        self.proc = subprocess.Popen([*CONUM, "serve", "--port", str(self.port)], cwd=ROOT, env=env,
                                     stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text(errors="replace")[-3000:]
            try:
                if httpx.get(self.base + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError("l'API n'est pas prête :\n" + self.log.read_text(errors="replace")[-3000:])

    def stop(self) -> None:
        terminate(self.proc, grace=20)
        self._out.close()


def cli(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run([*CONUM, *args, "--json"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@pytest.fixture
def stack(tmp_path: Path, postgres_server: Any, redis_url: str, seaweedfs: Any, pool_urls: str,
          pki: Any) -> Iterator[Any]:
    bucket = uuid.uuid4().hex[:10]
    env = worker_env(tmp_path, database_url=postgres_server.create_database(), broker_url=redis_url,
                     converter_urls=pool_urls, S3_ENDPOINT_URL=seaweedfs.endpoint, S3_REGION=seaweedfs.region,
                     S3_ACCESS_KEY_ID=seaweedfs.access_key, S3_SECRET_ACCESS_KEY=seaweedfs.secret_key,
                     S3_BUCKET_DOCUMENTS=f"docs-{bucket}", S3_BUCKET_PIECES=f"pieces-{bucket}",
                     S3_BUCKET_ARCHIVE=f"archive-{bucket}", API_RATE_LIMIT="100000", API_RATE_BURST="1000",
                     SIGNATURE_TRUST_ROOTS=str(pki.racines))
    workers = Workers(env, tmp_path / "workers.log", processes=1, threads=2)
    api = Api(env, tmp_path / "api.log")
    try:
        workers.wait_ready()
        api.wait_ready()
        yield env, api, workers
    finally:
        api.stop()
        workers.stop()


def wait_job(client: httpx.Client, url: str, token: str, *, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(url, headers={"Authorization": f"Bearer {token}"}).json()
        if job["status"] in ("succeeded", "failed"):
            return job  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"tâche {url} non terminée en {timeout} s : {job}")


def pieces() -> list[tuple[str, str | None, str, bytes]]:
    """(kind, poste, filename, bytes) of a complete dossier for DEMANDE. The ID card and the avis Sirene
    must be valid on the day the workers check them: their dates follow conum's clock (a fixed avis
    date made this test fail three months after it was written)."""
    today = Clock().today()
    mrz = td1(surname="EXEMPLE", given_names="CAMILLE", number="X4RTBPFW4", birth_date=date(1972, 5, 3),
              expiry=today.replace(day=1) + timedelta(days=5 * 365))
    avis = avis_sirene_pdf(siren="213300999", siret="21330099900017", denomination=COMMUNE,
                           date_avis=today - timedelta(days=34))
    return [
        ("sirene", None, "avis-situation.pdf", avis),
        ("identite", None, "cni maire.pdf", identite_pdf(mrz=mrz)),
        ("rib", None, "rib.pdf", rib_pdf(titulaire=COMMUNE, iban="FR7630006000011234567890189", bic="AGRIFRPP")),
        ("designation", None, "delib.pdf", avis),  # any PDF: a human reads a désignation
        ("contrat", "P-1", "contrat P-1.pdf", contrat_pdf(
            type="CDD", date_debut=date(2024, 1, 1), date_fin=CDD_FIN)),
        ("contrat", "P-2", "contrat P-2.pdf", contrat_pdf(
            type="CDI", salarie="Karim Bouzid", civilite="M.", date_debut=date(2023, 10, 1))),
    ]


def test_from_dossier_to_certificate_over_http(stack: Any, tmp_path: Path, pki: Any) -> None:
    env, api, workers = stack
    portail = cli(env, "token", "create", "--role", "portail", "--nom", "DS connecteur")["token"]
    instr = cli(env, "token", "create", "--role", "instructeur", "--departement", "33", "--nom", "Préfecture 33")
    other = cli(env, "token", "create", "--role", "instructeur", "--departement", "75")["token"]
    as_portail = {"Authorization": f"Bearer {portail}"}
    as_instr = {"Authorization": f"Bearer {instr['token']}"}

    with httpx.Client(base_url=api.base, timeout=60) as http:
        # a portal opens the dossier: incomplete, six pieces missing
        opened = http.post("/v1/dossiers", json=DEMANDE, headers=as_portail)
        assert opened.status_code == 202, opened.text
        job = wait_job(http, opened.json()["url"], portail)
        assert job["status"] == "succeeded", job
        assert job["result"]["status"] == "incomplet" and len(job["result"]["missing"]) == 6

        # its pieces, validated by the workers
        sent = []
        for kind, poste, name, data in pieces():
            form = {"kind": kind, **({"poste_id": poste} if poste else {})}
            r = http.post(f"/v1/dossiers/{DOSSIER}/pieces", data=form, files={"fichier": (name, data)},
                          headers=as_portail)
            assert r.status_code == 202, r.text
            assert r.json()["sha256"] == hashlib.sha256(data).hexdigest()
            sent.append((kind, r.json()["url"]))
        for kind, url in sent:
            job = wait_job(http, url, portail)
            assert job["status"] == "succeeded", (kind, job["error"], job["result"])
            assert job["result"]["status"] in ("valide", "a_verifier"), (kind, job["result"]["findings"])

        dossier = http.get(f"/v1/dossiers/{DOSSIER}", headers=as_instr).json()
        assert dossier["missing"] == [] and dossier["status"] == "a_verifier"  # the designation is read by a human
        assert {p["kind"] for p in dossier["pieces"]} == {"sirene", "identite", "rib", "designation", "contrat"}
        rapport = http.get(dossier["rapport_url"], headers=as_instr)
        assert rapport.status_code == 200 and "Commune d'Exempleville" in pdf_text(rapport.content)

        # no convention while a piece waits for a human: the instructeur of the 33 reads the désignation
        early = http.post("/v1/conventions", json={"dossier_id": DOSSIER}, headers=as_portail)
        assert early.status_code == 409 and early.json()["code"] == "dossier_a_verifier", early.text
        assert "Acte désignant le représentant légal" in early.json()["message"]
        designation = next(p for p in dossier["pieces"] if p["kind"] == "designation")
        decision_url = f"/v1/dossiers/{DOSSIER}/pieces/{designation['id']}/decision"
        assert http.post(decision_url, json={"decision": "accepte"}, headers=as_portail).status_code == 403
        other_answer = http.post(decision_url, json={"decision": "accepte"},
                                 headers={"Authorization": f"Bearer {other}"})
        assert other_answer.status_code == 404 and other_answer.json()["code"] == "dossier_introuvable"
        no_motif = http.post(decision_url, json={"decision": "refuse"}, headers=as_instr)
        assert no_motif.status_code == 422 and no_motif.json()["code"] == "decision_invalide"
        nul = http.post(decision_url, json={"decision": "accepte", "commentaire": "lue\u0000"}, headers=as_instr)
        assert nul.status_code == 422 and nul.json()["code"] == "decision_invalide", nul.text  # not a 503 from PG
        assert [e["champ"] for e in nul.json()["erreurs"]] == ["commentaire"]
        decided = http.post(decision_url, json={"decision": "accepte", "commentaire": "Délibération du 3 mars lue"},
                            headers=as_instr)
        assert decided.status_code == 200, decided.text
        assert decided.json()["status"] == "complet"
        piece = next(p for p in decided.json()["pieces"] if p["kind"] == "designation")
        assert (piece["status"], piece["final_status"]) == ("a_verifier", "valide")
        assert piece["decision"]["par"] == "Préfecture 33" and piece["findings"]  # the machine's findings stay
        again = http.post(decision_url, json={"decision": "refuse", "motif": "illisible"}, headers=as_instr)
        assert again.status_code == 409 and again.json()["code"] == "decision_impossible"

        # the convention, generated by a worker (DOCX, LibreOffice, S3)
        asked = http.post("/v1/conventions", json={"dossier_id": DOSSIER}, headers=as_portail)
        assert asked.status_code == 202, asked.text
        assert asked.json()["convention_id"] == CONVENTION
        job = wait_job(http, asked.json()["url"], portail)
        assert job["status"] == "succeeded", (job, workers.tail())
        assert job["result"]["version"] == 1
        total = job["result"]["total_eur"]

        # the instructeur of the 33 finds it and downloads the PDF (a presigned SeaweedFS URL)
        listed = http.get("/v1/conventions", params={"q": "exempleville"}, headers=as_instr).json()
        assert [c["id"] for c in listed["items"]] == [CONVENTION] and listed["items"][0]["statut"] == "a_signer"
        assert listed["items"][0]["montant_total"] == total
        convention = http.get(f"/v1/conventions/{CONVENTION}", headers=as_instr).json()
        pdf_doc = next(d for d in convention["versions"][0]["documents"] if d["kind"] == "pdf")
        redirect = http.get(pdf_doc["url"], headers=as_instr)
        assert redirect.status_code == 302 and redirect.headers["location"].startswith(env["S3_ENDPOINT_URL"])
        assert "X-Amz-Signature=" in redirect.headers["location"]
        issued = httpx.get(redirect.headers["location"], timeout=30)
        assert issued.status_code == 200 and hashlib.sha256(issued.content).hexdigest() == pdf_doc["sha256"]
        text = "".join(pdf_text(issued.content).split())
        assert "Communed'Exempleville" in text and "".join(montant(Decimal(total)).split()) in text
        docx = http.get(pdf_doc["url"].replace(".pdf", ".docx"), headers=as_instr, follow_redirects=True)
        assert docx.status_code == 200 and docx.content[:2] == b"PK"
        # another département's instructeur: as if it did not exist
        assert http.get(pdf_doc["url"], headers={"Authorization": f"Bearer {other}"}).status_code == 404

        # the structure signed it; the instructeur uploads the signed copy
        signed = copie_signee(issued.content, pki)
        up = http.post(convention["versions"][0]["signed_url"], files={"fichier": ("convention signée.pdf", signed)},
                       headers=as_instr)
        assert up.status_code == 202, up.text
        job = wait_job(http, up.json()["url"], instr["token"])
        assert job["status"] == "succeeded", (job, workers.tail())
        assert job["result"]["status"] == "archive" and job["result"]["sha256"] == hashlib.sha256(signed).hexdigest()

        # archived: the certificate, and the convention shown as archivée
        convention = http.get(f"/v1/conventions/{CONVENTION}", headers=as_instr).json()
        assert convention["statut"] == "archivee"
        copy = convention["versions"][0]["copies_signees"][0]
        assert copy["statut"] == "archive" and copy["retain_until"] > "2036"
        cert = http.get(copy["certificat_url"], headers=as_instr, follow_redirects=True)
        assert cert.status_code == 200
        cert_text = pdf_text(cert.content).replace("\n", "")
        assert CONVENTION in cert_text and hashlib.sha256(signed).hexdigest()[:32] in cert_text
        archived = http.get("/v1/conventions", params={"statut": "archivee"}, headers=as_instr).json()
        assert [c["id"] for c in archived["items"]] == [CONVENTION]

    # the signed bytes are in the archive bucket, under object lock, unchanged
    import boto3

    s3 = boto3.client("s3", endpoint_url=env["S3_ENDPOINT_URL"], region_name=env["S3_REGION"],
                      aws_access_key_id=env["S3_ACCESS_KEY_ID"], aws_secret_access_key=env["S3_SECRET_ACCESS_KEY"])
    stored = s3.get_object(Bucket=env["S3_BUCKET_ARCHIVE"], Key=job["result"]["key"])
    assert stored["Body"].read() == signed and stored["ObjectLockMode"] == "COMPLIANCE"

    # every download and upload was audited, with who and from where
    entries = cli(env, "audit", "--limit", "100")["entries"]
    actions = [(e["action"], e["token_id"], e["statut_http"]) for e in reversed(entries)]
    assert ("document.telecharger", instr["id"], 302) in actions
    assert ("copie_signee.deposer", instr["id"], 202) in actions
    assert ("certificat.telecharger", instr["id"], 302) in actions
    assert ("document.telecharger", None, 404) not in actions  # refusals carry the token too
    assert sum(a == "piece.deposer" for a, _, _ in actions) == 6
    assert all(e["adresse"] == "127.0.0.1" for e in entries)


def pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)



