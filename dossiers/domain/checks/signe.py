"""The check of a signed copy of a convention (or avenant) sent back for archiving.

Facts in (the upload's :class:`~dossiers.domain.pieces.FileFacts` and :class:`Emis`, the facts of the
PDF conum issued for that version), findings and fields out; :func:`statut_archivage` turns the
findings into ``archive`` (no finding), ``a_verifier`` (an alerte: a human confirms) or ``refuse``
(an erreur). The rules, in order:

1. **The file.** :func:`~dossiers.domain.checks.fichier.check_file` with :data:`SIGNED_COPY_POLICY`
   (a PDF, sniffed; 50 Mo; 60 pages). A blocking finding (not a PDF, empty, corrupt, encrypted,
   interrupted) stops here; the other file erreurs (active content, polyglot…) refuse the copy but the
   checks below still run, to say all that is wrong.
2. **Our own PDF, unchanged** (same SHA-256 as the issued one): ``SIGNE_SANS_SIGNATURE`` alerte,
   nothing signed; identification ``"empreinte"``. Nothing else is said.
3. **Identification by metadata** (Info /ConumConventionId, /ConumVersion, /ConumDocxSha256, which
   ``stamp_pdf`` writes): another convention -> ``SIGNE_AUTRE_CONVENTION`` erreur; same convention,
   another version -> ``SIGNE_AUTRE_VERSION`` erreur; another DOCX -> ``SIGNE_CONTENU_MODIFIE`` erreur.
   Any of these stops the check. A value absent is not compared.
4. **Else by the footer line** each page prints (« Convention <id> — version <n> — modèle … », also
   inside an avenant's « … à la convention <id> — version <n> … »): any footer naming another
   convention -> ``SIGNE_AUTRE_CONVENTION``; our convention with another version -> ``SIGNE_AUTRE_VERSION``
   (both erreur, both stop).
5. **No usable text** (no text layer, or fewer than :data:`SPARSE_TOKENS_PER_PAGE` words a page: a scan
   with a stamp): when the pages read draw no image either and carry no signature (a blank page, an
   empty export, whatever its metadata says), ``SIGNE_NON_RECONNU`` erreur, stop; else ``SIGNE_NUMERISE``
   alerte: nothing can be compared, a human reads it. A page count other than the issued one adds
   ``SIGNE_PAGES_DIFFERENTES`` alerte. No signature finding: a scan carries a handwritten one the text
   does not show.
6. **Text comparison**, always when there is text, even when metadata matched (an editor keeps the
   Info dictionary of the PDF it modifies). Both texts are normalised (NFKC, no accents, lower case,
   digit groups joined: « 1 900,00 » -> ``1900``, ``00``) and cut into word tokens; the issued
   tokens missing from the copy (multiset difference) are counted:

   - not identified by 3 or 4 and less than :data:`IDENTIFY_COVERAGE` of the issued tokens found:
     ``SIGNE_NON_RECONNU`` erreur (another document), stop. At or above it: identification ``"texte"``;
   - any missing token holding a digit (an amount, a date, a SIRET: no tolerance), or more missing
     words than :func:`word_tolerance` (max 2 and 0.5 %, for an extractor's quirks):
     ``SIGNE_CONTENU_MODIFIE`` erreur;
   - more added tokens than max(50, 5 %) with nothing missing: ``SIGNE_CONTENU_MODIFIE`` alerte (a clause
     written in? a signing tool's stamp adds a few words only, its certificate page comes with
     ``SIGNE_PAGES_DIFFERENTES``);
   - the comparison is only indicative, and its differences are alertes, when the copy was scanned
     and OCRed (producer: ocrmypdf, Tesseract, ABBYY, a scanner's software: ``SIGNE_NUMERISE`` alerte
     too) or when the copy's text was cut by the inspection while its page count differs (the pages
     read are not the issued ones).
7. **Pages.** A page count other than the issued one: ``SIGNE_PAGES_DIFFERENTES`` erreur when the
   content differs too (a page removed or replaced), alerte otherwise (a page added: a signing tool's
   certificate, an annex).
8. **Metadata stripped** but the text matches: a signing tool re-saving the PDF often drops the Info
   dictionary. With a digital signature, accepted silently; without, ``SIGNE_METADONNEES_ABSENTES``
   alerte (not for an OCR'd scan: a scan never had them).
9. **Signatures.** Signed fields (a /V with /ByteRange) go to ``fields["signatures"]`` as
   ``{"champ", "signataire", "date"}`` (``date``: ISO 8601 from the PDF ``D:YYYYMMDDHHmmSS+HH'mm'``,
   as written when it does not parse). None, not a scan and no erreur so far: ``SIGNE_SANS_SIGNATURE``
   alerte (the copy may have been signed by an image or by hand before an « impression en PDF »).
   Certification signatures (the seal conum puts on what it issues) are not the parties' signatures.
10. **Their validation** (when the facts carry :attr:`PdfFacts.verifications`, pyHanko's, on every path
   but the unchanged issued PDF), for each signature: digest or value wrong, unreadable, or a byte
   range that does not cover its revision -> ``SIGNATURE_INVALIDE`` erreur; later revisions that change
   more than form fields and signatures (annotations, content), or break a certification's
   permissions -> ``SIGNATURE_MODIFIEE_APRES`` erreur; a certificate not valid at the signing time
   (the timestamp's, else the one the signer states) -> ``SIGNATURE_CERTIFICAT_EXPIRE`` alerte; a
   chain that does not reach a trusted root (``SIGNATURE_TRUST_ROOTS``), the dates aside ->
   ``SIGNATURE_NON_APPROUVEE`` alerte. Then, when the representative is known, no valid party
   signature in his or her name (CN holding the first and last names, in any order, accents and case
   aside) -> ``SIGNATURE_SIGNATAIRE_DIFFERENT`` alerte. Each entry of ``fields["signatures"]`` then
   says what was found: ``signataire`` (the certificate's CN), ``organisation``, ``emetteur``,
   ``numero_serie``, ``date``, ``horodatage``, ``integre``, ``approuvee``, ``modifications``,
   ``certification``, ``couverture``, ``certificat_valide_du`` / ``_au``, ``erreur``.

When ``emis`` lacks a value (no DOCX hash, no text or pages read from the issued PDF), that comparison
is skipped: the copy is then judged on what remains, and one not identified by 3 or 4 is
``SIGNE_NON_RECONNU``.

Fields: ``identification`` (``"empreinte"`` | ``"metadonnees"`` | ``"pied_de_page"`` | ``"texte"`` |
None), ``convention_id`` and ``version`` (as the copy states them, or the issued ones when recognised
by its bytes or text), ``pages``, ``signatures``, ``texte`` (the comparison's counts, or None).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from dossiers.domain.checks.fichier import blocking, check_file
from dossiers.domain.findings import Finding, FindingCode, Severity, Statut, statut_of
from dossiers.domain.pieces import MB, MIME_PDF, FileFacts, KindPolicy, PdfFacts, SignatureVerifiee

__all__ = [
    "IDENTIFY_COVERAGE", "SIGNED_COPY_POLICY", "SPARSE_TOKENS_PER_PAGE", "Emis", "check_signed_copy", "footer_ids",
    "iso_pdf_date", "statut_archivage", "tokens", "word_tolerance",
]

E, A = Severity.ERREUR, Severity.ALERTE
SIGNED_COPY_POLICY = KindPolicy(frozenset({MIME_PDF}), 50 * MB, 60)
IDENTIFY_COVERAGE = 0.8  # share of the issued tokens a copy without metadata nor footer must hold
SPARSE_TOKENS_PER_PAGE = 15  # fewer words a page: a scan (with, at most, a stamp or an OCR'd line)
ADDED_MIN, ADDED_SHARE = 50, 0.05
_SHOWN = 5  # missing numbers quoted in a message

_FOOTER = re.compile(r"\bconvention\s+(?:n[°o]\s*)?([A-Za-z0-9][A-Za-z0-9._/-]*[A-Za-z0-9])\s*[—–-]+\s*"
                     r"version\s+(?:n[°o]\s*)?(\d{1,6})\b", re.IGNORECASE)
_SPACES = re.compile(r"[\s\u00a0\u202f\u2007\u2009]+")
_DIGIT_GROUPS = re.compile(r"(?<=\d)[ \u00a0\u202f\u2007\u2009.](?=\d{3}\b)")  # « 1 900 », « 1.900 »
_TOKEN = re.compile(r"[a-z0-9]+")
_OCR = re.compile(r"ocrmypdf|tesseract|abbyy|finereader|omnipage|readiris|paper capture|scan", re.IGNORECASE)
_PDF_DATE = re.compile(r"D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:(Z)|([+-])(\d{2})'?(\d{2})?'?)?")
_STATUTS = {Statut.VALIDE: "archive", Statut.A_VERIFIER: "a_verifier", Statut.INVALIDE: "refuse"}


@dataclass(frozen=True)
class Emis:
    """The issued version the copy should be a signed copy of: the facts of conum's own PDF."""

    convention_id: str
    version: int
    docx_sha256: str
    pdf_sha256: str
    pages: int
    text: str
    representant: str | None = None  # the structure's legal representative, « Prénom Nom »


def statut_archivage(findings: Iterable[Finding]) -> str:
    """``"refuse"`` on any erreur, ``"a_verifier"`` on any alerte, else ``"archive"``."""
    return _STATUTS[statut_of(findings)]


def check_signed_copy(facts: FileFacts, emis: Emis) -> tuple[list[Finding], dict[str, Any]]:
    """Findings and fields of an uploaded signed copy of ``emis`` (rules: the module docstring)."""
    findings, fields = _check_copy(facts, emis)
    pdf = facts.pdf
    if pdf is not None and pdf.verifications is not None and fields["identification"] != "empreinte":
        findings.extend(_check_signatures(pdf.verifications, emis))
    return findings, fields


def _check_copy(facts: FileFacts, emis: Emis) -> tuple[list[Finding], dict[str, Any]]:
    findings = check_file(facts, SIGNED_COPY_POLICY)
    fields: dict[str, Any] = {"identification": None, "convention_id": None, "version": None, "pages": None,
                              "signatures": [], "texte": None}
    pdf = facts.pdf
    if blocking(findings) or pdf is None:
        return findings, fields
    fields["pages"] = pdf.pages
    fields["signatures"] = _signatures(pdf)
    if facts.sha256 == emis.pdf_sha256:
        fields.update(identification="empreinte", convention_id=emis.convention_id, version=emis.version)
        findings.append(Finding(FindingCode.SIGNE_SANS_SIGNATURE, A,
                                "Le fichier reçu est le PDF émis par conum, à l'identique : il ne porte aucune "
                                "signature. Envoyez l'exemplaire signé."))
        return findings, fields

    stop = _identify(pdf, emis, fields, findings)
    if stop:
        return findings, fields
    words = tokens(pdf.text)
    if not pdf.has_text or (len(words) < SPARSE_TOKENS_PER_PAGE * pdf.pages and not pdf.text_truncated):
        if pdf.pages_images == 0 and not _party_signed(pdf):
            findings.append(Finding(FindingCode.SIGNE_NON_RECONNU, E,
                                    "La copie ne contient ni le texte du document émis, ni image numérisée, ni "
                                    "signature (page blanche ?) : envoyez la copie signée de la version "
                                    f"{emis.version} de la convention {emis.convention_id}."))
            return findings, fields
        findings.append(Finding(FindingCode.SIGNE_NUMERISE, A,
                                "La copie est un document numérisé (sans texte lisible) : son contenu n'a pas pu "
                                "être comparé au document émis, un instructeur doit le vérifier."))
        if emis.pages > 0 and pdf.pages != emis.pages:
            findings.append(_pages(pdf.pages, emis.pages, A))
        return findings, fields

    modified = _compare(pdf, words, emis, fields, findings)
    if modified is None:  # not recognised
        return findings, fields
    if emis.pages > 0 and pdf.pages != emis.pages:
        findings.append(_pages(pdf.pages, emis.pages, E if modified else A))
    signed = _party_signed(pdf)
    scanned = any(f.code is FindingCode.SIGNE_NUMERISE for f in findings)  # OCR'd: signed by hand, no Info
    if fields["identification"] != "metadonnees" and not modified and not signed and not scanned:
        findings.append(Finding(FindingCode.SIGNE_METADONNEES_ABSENTES, A,
                                "La copie ne porte plus l'identification que conum inscrit dans ses PDF (elle a "
                                "été réenregistrée ou imprimée en PDF) : à vérifier."))
    if not signed and not scanned and not any(f.severity is E for f in findings):
        findings.append(Finding(FindingCode.SIGNE_SANS_SIGNATURE, A,
                                "Aucune signature électronique n'a été trouvée dans la copie : vérifier qu'elle "
                                "porte les signatures des parties."))
    return findings, fields


def _identify(pdf: PdfFacts, emis: Emis, fields: dict[str, Any], findings: list[Finding]) -> bool:
    """Rules 3 and 4: fill the identification fields; True when a finding stops the check."""
    if pdf.conum_convention_id:
        version = _int(pdf.conum_version)
        fields.update(identification="metadonnees", convention_id=pdf.conum_convention_id,
                      version=version if version is not None else pdf.conum_version)
        if not _same_id(pdf.conum_convention_id, emis.convention_id):
            findings.append(_autre_convention(pdf.conum_convention_id, emis.convention_id))
            return True
        if pdf.conum_version is not None and version != emis.version:
            findings.append(_autre_version(pdf.conum_version, emis))
            return True
        docx = (pdf.conum_docx_sha256 or "").strip().lower()
        if docx and emis.docx_sha256 and docx != emis.docx_sha256.lower():
            findings.append(Finding(FindingCode.SIGNE_CONTENU_MODIFIE, E,
                                    f"La copie se présente comme la version {emis.version} de la convention "
                                    f"{emis.convention_id}, mais elle a été produite à partir d'un autre document "
                                    "que celui émis : envoyez la copie signée du document émis."))
            return True
        return False
    found = footer_ids(pdf.text)
    if not found:
        return False
    others = sorted({cid for cid, _ in found if not _same_id(cid, emis.convention_id)})
    if others:
        fields.update(identification="pied_de_page", convention_id=others[0])
        findings.append(_autre_convention(others[0], emis.convention_id))
        return True
    versions = sorted({v for _, v in found})
    fields.update(identification="pied_de_page", convention_id=emis.convention_id, version=versions[0])
    if versions != [emis.version]:
        other = next(v for v in versions if v != emis.version)
        fields["version"] = other
        findings.append(_autre_version(str(other), emis))
        return True
    return False


def _compare(pdf: PdfFacts, words: list[str], emis: Emis, fields: dict[str, Any],
             findings: list[Finding]) -> bool | None:
    """Rule 6: None when the copy is not recognised (finding added), else whether its content differs."""
    issued = Counter(tokens(emis.text))
    copy = Counter(words)
    total = sum(issued.values())
    if not total:  # the issued PDF's text could not be read: nothing to compare, identification only
        if fields["identification"] is None:
            findings.append(_non_reconnu(emis))
            return None
        return False
    missing = issued - copy
    added = copy - issued
    lost_numbers = sorted((t for t in missing if any(c.isdigit() for c in t)), key=lambda t: (-missing[t], t))
    lost_words = sum(n for t, n in missing.items() if not any(c.isdigit() for c in t))
    coverage = 1 - sum(missing.values()) / total
    fields["texte"] = {"mots_emis": total, "mots_copie": sum(copy.values()), "manquants": sum(missing.values()),
                       "nombres_manquants": lost_numbers[:20], "ajoutes": sum(added.values()),
                       "couverture": round(coverage, 4)}
    if fields["identification"] is None:
        if coverage < IDENTIFY_COVERAGE:
            findings.append(_non_reconnu(emis))
            return None
        fields.update(identification="texte", convention_id=emis.convention_id, version=emis.version)
    ocr = bool(pdf.producer and _OCR.search(pdf.producer))
    unreliable = ocr or (pdf.text_truncated and pdf.pages != emis.pages)
    if ocr:
        findings.append(Finding(FindingCode.SIGNE_NUMERISE, A,
                                "La copie est un document numérisé dont le texte a été reconnu par OCR : la "
                                "comparaison avec le document émis n'est qu'indicative, à vérifier."))
    changed = bool(lost_numbers) or lost_words > word_tolerance(total)
    if changed:
        numbers = ", ".join(lost_numbers[:_SHOWN]) + (" …" if len(lost_numbers) > _SHOWN else "")
        detail = (f" (nombres ou montants du document émis absents de la copie : {numbers})" if lost_numbers
                  else f" ({lost_words} mots du document émis absents de la copie)")
        if unreliable:
            findings.append(Finding(FindingCode.SIGNE_CONTENU_MODIFIE, A,
                                    f"Le texte de la copie diffère de celui du document émis{detail} ; la lecture "
                                    "du texte n'est pas fiable pour cette copie : à vérifier."))
            return False
        findings.append(Finding(FindingCode.SIGNE_CONTENU_MODIFIE, E,
                                f"Le contenu de la copie a été modifié par rapport au document émis{detail} : "
                                "envoyez la copie signée du document émis, sans modification."))
        return True
    extra = sum(added.values())
    if extra > max(ADDED_MIN, ADDED_SHARE * total):
        findings.append(Finding(FindingCode.SIGNE_CONTENU_MODIFIE, A,
                                f"La copie contient {extra} mots absents du document émis (texte ajouté ?) : "
                                "à vérifier."))
    return False


def word_tolerance(total: int) -> int:
    """Issued words (not numbers) a copy may miss before it counts as modified: max(2, 0.5 %)."""
    return max(2, total * 5 // 1000)


def tokens(text: str) -> list[str]:
    """Comparable words of ``text``: NFKC, no accents, lower case, digit groups joined (« 1 900 » -> ``1900``)."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return _TOKEN.findall(_DIGIT_GROUPS.sub("", text))


def footer_ids(text: str) -> set[tuple[str, int]]:
    """The (convention id, version) pairs of the footer lines found in ``text``."""
    flat = _SPACES.sub(" ", unicodedata.normalize("NFC", text))
    return {(m.group(1), int(m.group(2))) for m in _FOOTER.finditer(flat)}


def iso_pdf_date(value: str | None) -> str | None:
    """``D:20240110093000+01'00'`` -> ``2024-01-10T09:30:00+01:00``; unparsable: the value as written."""
    if not value:
        return None
    m = _PDF_DATE.match(value.strip())
    if m is None:
        return value
    year, month, day, hour, minute, second, zulu, sign, tz_hours, tz_minutes = m.groups()
    tz = None
    if zulu:
        tz = UTC
    elif sign:
        offset = timedelta(hours=int(tz_hours), minutes=int(tz_minutes or 0))
        tz = timezone(offset if sign == "+" else -offset)
    try:
        when = datetime(int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0),
                        int(second or 0), tzinfo=tz)
    except ValueError:
        return value
    return when.isoformat()


def _signatures(pdf: PdfFacts) -> list[dict[str, Any]]:
    if pdf.verifications is not None:
        return [_verified(v) for v in pdf.verifications]
    return [{"champ": s.field_name, "signataire": s.signer, "date": iso_pdf_date(s.signing_time)}
            for s in pdf.signatures if s.signed]


def _verified(v: SignatureVerifiee) -> dict[str, Any]:
    return {"champ": v.champ, "signataire": v.signataire, "organisation": v.organisation, "emetteur": v.emetteur,
            "numero_serie": v.numero_serie, "date": v.date, "horodatage": v.horodatage, "integre": v.integre,
            "approuvee": v.approuvee, "modifications": v.modifications, "certification": v.certification,
            "couverture": v.couverture, "certificat_valide_du": v.valide_du, "certificat_valide_au": v.valide_au,
            "erreur": v.erreur}


def _party_signed(pdf: PdfFacts) -> bool:
    """A signature of a party: any signed field, or, once validated, any but a certification (the seal)."""
    if pdf.verifications is not None:
        return any(not v.certification for v in pdf.verifications)
    return any(s.signed for s in pdf.signatures)


def _check_signatures(verifications: Iterable[SignatureVerifiee], emis: Emis) -> list[Finding]:
    """Rule 10 (the module docstring)."""
    findings: list[Finding] = []
    names: list[str] = []
    for v in verifications:
        who = f"la signature « {v.champ or '?'} »" + (f" de {v.signataire}" if v.signataire else "")
        if v.erreur or not v.integre or v.couverture not in ("fichier", "revision"):
            why = v.erreur or ("elle ne couvre pas le document qu'elle accompagne" if v.integre else
                               "son empreinte ne correspond plus au contenu signé")
            findings.append(Finding(FindingCode.SIGNATURE_INVALIDE, E,
                                    f"{who[0].upper()}{who[1:]} n'est pas valide ({why}) : le document a été "
                                    "modifié après sa signature, ou la signature est corrompue. Envoyez "
                                    "l'exemplaire tel qu'il a été signé."))
            continue
        if v.modifications in ("annotations", "autres") or v.docmdp_ok is False:
            what = {"annotations": "des annotations ont été ajoutées",
                    "autres": "le contenu a été modifié"}.get(v.modifications or "",
                                                              "les modifications permises par le cachet sont dépassées")
            findings.append(Finding(FindingCode.SIGNATURE_MODIFIEE_APRES, E,
                                    f"Le document a été modifié après {who} ({what}) : ce qui a été signé n'est "
                                    "plus ce qui est présenté. Envoyez l'exemplaire tel qu'il a été signé."))
        hors_dates = _outside(v)
        if hors_dates:
            findings.append(Finding(FindingCode.SIGNATURE_CERTIFICAT_EXPIRE, A,
                                    f"Le certificat de {who} n'était pas valide à la date de signature "
                                    f"({hors_dates}) : à vérifier."))
        if not v.approuvee and not (hors_dates and v.chaine_hors_validite):
            by = f" (émis par {v.emetteur})" if v.emetteur else ""
            findings.append(Finding(FindingCode.SIGNATURE_NON_APPROUVEE, A,
                                    f"Le certificat de {who}{by} ne remonte à aucune autorité de confiance "
                                    "configurée : un instructeur doit vérifier qui a signé."))
        if not v.certification and v.signataire:
            names.append(v.signataire)
    if emis.representant and names and not any(_same_person(n, emis.representant) for n in names):
        findings.append(Finding(FindingCode.SIGNATURE_SIGNATAIRE_DIFFERENT, A,
                                f"Aucune signature n'est au nom du représentant légal de la structure "
                                f"({emis.representant}) : signée par {', '.join(names)}. Vérifier que le "
                                "signataire avait délégation."))
    return findings


def _outside(v: SignatureVerifiee) -> str | None:
    """Why the certificate was not valid when the signature was made (None: it was, or unknown)."""
    when, start, end = _instant(v.horodatage or v.date), _instant(v.valide_du), _instant(v.valide_au)
    if when is None or start is None or end is None:
        return None
    if when > end:
        return f"expiré le {end.date().strftime('%d/%m/%Y')}"
    if when < start:
        return f"valide seulement à partir du {start.date().strftime('%d/%m/%Y')}"
    return None


def _instant(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _same_person(common_name: str, representant: str) -> bool:
    """The CN holds every word of « Prénom Nom », in any order (accents, case, hyphens aside)."""
    wanted = set(tokens(representant))
    return bool(wanted) and wanted <= set(tokens(common_name))


def _same_id(found: str, expected: str) -> bool:
    return found.strip().upper() == expected.strip().upper()


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() and len(value) <= 6 else None


def _non_reconnu(emis: Emis) -> Finding:
    return Finding(FindingCode.SIGNE_NON_RECONNU, E,
                   f"Le document reçu n'a pas été reconnu comme la version {emis.version} de la convention "
                   f"{emis.convention_id} (ni identification conum, ni pied de page, ni texte du document émis) : "
                   "envoyez la copie signée de cette convention.")


def _autre_convention(found: str, expected: str) -> Finding:
    return Finding(FindingCode.SIGNE_AUTRE_CONVENTION, E,
                   f"La copie est celle de la convention {found[:80]}, pas de la convention {expected} : "
                   "envoyez la copie signée de cette convention.")


def _autre_version(found: str, emis: Emis) -> Finding:
    return Finding(FindingCode.SIGNE_AUTRE_VERSION, E,
                   f"La copie est la version {found[:20]} de la convention {emis.convention_id}, alors que la "
                   f"version attendue est la version {emis.version} : envoyez la copie signée de cette version.")


def _pages(found: int, expected: int, severity: Severity) -> Finding:
    why = ("des pages ont été retirées ou remplacées" if severity is E
           else "des pages ont pu être ajoutées ou retirées (certificat de signature, annexe…) : à vérifier")
    return Finding(FindingCode.SIGNE_PAGES_DIFFERENTES, severity,
                   f"La copie compte {found} page(s), le document émis {expected} : {why}.")
