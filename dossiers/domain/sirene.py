"""INSEE *avis de situation au répertoire Sirene*, read from text already extracted (no I/O).

``parse_avis`` takes the text layer pypdf extracts (labels glued to values) and the PDF metadata and
returns an ``AvisSirene``; ``check_avis`` compares it with the dossier and returns ``Finding`` values.
The clock is never read: ``today`` is passed in.

Severities (``erreur`` rejects the piece, ``alerte`` asks a human to look, i.e. *à vérifier*):

- ``SIRENE_TEXTE_TROP_LONG`` erreur: text over ``MAX_CHARS`` is refused unparsed; nothing else is said.
- ``SIRENE_NON_RECONNU`` erreur: neither the metadata nor the headings of an avis; nothing else is said.
- ``SIRENE_METADONNEES_ABSENTES`` alerte: the text reads as an avis but Title/Author are not INSEE's
  (a re-saved or printed copy, or a forgery).
- ``SIRENE_CHAMP_MANQUANT`` alerte: a field could not be read; the checks that need it are skipped.
- ``SIRET_INVALIDE`` erreur: the SIRET fails the Luhn key (La Poste's rule accepted, via
  python-stdnum) or does not start with the avis' SIREN.
- ``SIRET_DIFFERENT`` erreur: the SIRET is not the dossier's (spaces ignored).
- ``SIRENE_ETABLISSEMENT_FERME`` / ``SIRENE_ENTREPRISE_CESSEE`` erreur: closed établissement / entreprise.
- ``SIRENE_AVIS_PERIME`` erreur: ``today`` is after the avis date plus 3 calendar months (to the day,
  clamped to the month's end: 30/11 is valid until 28/02 or 29/02).
- ``SIRENE_AVIS_DATE_FUTURE`` alerte: the avis is dated after ``today``.
- ``SIRENE_NATURE_INCOHERENTE`` erreur when the catégorie juridique (level I: 4 and 7 public; 1, 2, 5, 6,
  8, 9 private) contradicts the declared nature; alerte when the level is neither (3, foreign body).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal

from stdnum.fr import siret as stdnum_siret

from dossiers.domain.dates import add_months
from dossiers.domain.findings import Finding, FindingCode, Severity

__all__ = ["MAX_CHARS", "Etat", "AvisSirene", "parse_avis", "check_avis"]

MAX_CHARS = 200_000  # an avis is one page, about 1 500 characters
TITLE = "Avis de situation au répertoire Sirene"
AUTHOR = "Institut National de la Statistique et des Etudes Economiques"
VALIDITY_MONTHS = 3
PUBLIC_LEVELS = frozenset("47")
PRIVATE_LEVELS = frozenset("125689")


class Etat(StrEnum):
    ACTIF = "actif"
    FERME = "ferme"


@dataclass(frozen=True)
class AvisSirene:
    """What an avis says; ``None`` where the text did not say it. ``siret`` is the établissement's."""

    metadata_ok: bool
    headings_ok: bool
    too_long: bool = False
    date_avis: date | None = None
    etat_entreprise: Etat | None = None
    date_etat_entreprise: date | None = None
    siren: str | None = None
    siret_siege: str | None = None
    denomination: str | None = None
    categorie_code: str | None = None
    categorie_libelle: str | None = None
    ape_code: str | None = None
    ape_libelle: str | None = None
    etat_etablissement: Etat | None = None
    date_etat_etablissement: date | None = None
    siret: str | None = None
    adresse: tuple[str, ...] = ()

    @property
    def recognised(self) -> bool:
        return self.metadata_ok or self.headings_ok

    @property
    def code_postal(self) -> str | None:
        m = re.match(r"(\d{5})\s", self.adresse[-1]) if self.adresse else None
        return m.group(1) if m else None


_DATE = r"(\d{1,2}/\d{1,2}/\d{4})"
_LABEL = re.compile(
    r"(Activit[ée] Principale|Description de|[EÉ]tablissement|Entreprise|Identifiant|Adresse|D[ée]nomination"
    r"|Nom\b|Pr[ée]noms|Sigle|Tranche|Appartenance|Cat[ée]gorie|[AÀ] la date|Enseigne|Nature|Date|Page)"
)
_ETAB_HEADING = re.compile(r"Description de l'[ée]tablissement", re.I)
_SPACES = dict.fromkeys(map(ord, "\u00a0\u202f\u2007\u2009\t"), " ") | dict.fromkeys(map(ord, "’‘ʼ`´"), "'")


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text).translate(_SPACES)
    return "\n".join(" ".join(line.split()) for line in text.splitlines())


def _same(a: str | None, b: str) -> bool:
    def key(s: str) -> str:
        s = unicodedata.normalize("NFKD", s).translate(_SPACES)
        return " ".join("".join(c for c in s if not unicodedata.combining(c)).casefold().split())
    return a is not None and key(a) == key(b)


def _date(s: str | None) -> date | None:
    try:
        return date(*reversed([int(p) for p in s.split("/")])) if s else None
    except ValueError:  # 31/02 and the like
        return None


def _search(pattern: str, text: str) -> re.Match[str] | None:
    return re.search(pattern, text, re.I)


def _digits(m: re.Match[str] | None) -> str | None:
    return m.group(1).replace(" ", "") if m else None


def _etat(m: re.Match[str] | None) -> tuple[Etat | None, date | None]:
    if not m:
        return None, None
    return (Etat.ACTIF if m.group(1).lower().startswith("acti") else Etat.FERME), _date(m.group(2))


def _unwrapped(text: str, pattern: str) -> tuple[str | None, str | None]:
    """Code and label after ``pattern``; a label wrapped onto following lines (not labels) is joined."""
    m = re.search(pattern + r"\s*([0-9][0-9.]*[A-Z]?)\s*-\s*([^\n]*)", text, re.I)
    if not m:
        return None, None
    parts, rest = [m.group(2)], text[m.end():].split("\n")[1:4]
    for line in rest:
        if not line or _LABEL.match(line):
            break
        parts.append(line)
    return m.group(1), " ".join(" ".join(parts).split()) or None


def _address(text: str) -> tuple[str, ...]:
    m = re.search(r"Adresse\s*([^\n]*)", text)
    if not m:
        return ()
    lines = [m.group(1)] if m.group(1) else []
    for line in text[m.end():].split("\n")[1:7]:
        if re.match(r"\d{5}\s", line):
            return (*lines, line)
        if not line or _LABEL.match(line):
            break
        lines.append(line)
    return tuple(lines)


def _name(text: str) -> str | None:
    if m := re.search(r"D[ée]nomination\s*([^\n]+)", text):
        return m.group(1).strip()
    nom = re.search(r"(?:^|\n)Nom(?! commercial| d'usage)\s*([^\n]+)", text)
    prenoms = re.search(r"(?:^|\n)Pr[ée]noms\s*([^\n]+)", text)
    return " ".join(m.group(1).strip() for m in (prenoms, nom) if m) or None


def parse_avis(text: str, *, title: str | None, author: str | None) -> AvisSirene:
    """Read an avis de situation from its extracted text and PDF metadata (Title, Author)."""
    metadata_ok = _same(title, TITLE) and _same(author, AUTHOR)
    if len(text) > MAX_CHARS:
        return AvisSirene(metadata_ok=metadata_ok, headings_ok=False, too_long=True)
    t = _normalise(text)
    headings_ok = bool(_search(r"Description de l'entreprise", t) and _search(r"Identifiant SIREN", t))
    split = _ETAB_HEADING.search(t)
    entreprise, etab = (t[: split.start()], t[split.end():]) if split else (t, "")
    since = r"\s*(?:depuis\s*)?le\s*" + _DATE
    etat_e, date_e = _etat(_search(r"Entreprise\s*(active|cess[ée]e|ferm[ée]e)" + since, t))
    etat_s, date_s = _etat(_search(r"[EÉ]tablissement\s*(actif|ferm[ée]|cess[ée])" + since, etab))
    cat_code, cat_label = _unwrapped(entreprise, r"Cat[ée]gorie juridique")
    ape_code, ape_label = _unwrapped(entreprise, r"Activit[ée] Principale Exerc[ée]e \(APE\)")
    date_avis = _search(r"[AÀ] la date du\s*" + _DATE, t)
    return AvisSirene(
        metadata_ok=metadata_ok, headings_ok=headings_ok,
        date_avis=_date(date_avis.group(1) if date_avis else None),
        etat_entreprise=etat_e, date_etat_entreprise=date_e,
        siren=_digits(_search(r"Identifiant SIREN\s*((?:\d ?){9})(?!\d)", entreprise)),
        siret_siege=_digits(_search(r"Identifiant SIRET du si[eè]ge\s*((?:\d ?){14})(?!\d)", entreprise)),
        denomination=_name(entreprise),
        categorie_code=cat_code if cat_code and len(cat_code) == 4 and cat_code.isdigit() else None,
        categorie_libelle=cat_label, ape_code=ape_code, ape_libelle=ape_label,
        etat_etablissement=etat_s, date_etat_etablissement=date_s,
        siret=_digits(_search(r"Identifiant SIRET(?! du si)\s*((?:\d ?){14})(?!\d)", etab)),
        adresse=_address(etab or t),
    )


_REQUIRED = {  # field -> what a French reader calls it
    "date_avis": "la date de l'avis", "siren": "le SIREN", "siret": "le SIRET de l'établissement",
    "denomination": "la dénomination ou le nom", "categorie_code": "la catégorie juridique",
    "ape_code": "l'activité principale (APE)", "etat_entreprise": "l'état de l'entreprise",
    "etat_etablissement": "l'état de l'établissement", "code_postal": "l'adresse (code postal et commune)",
}


def check_avis(
    avis: AvisSirene, *, siret_dossier: str | None, nature: Literal["publique", "privee"] | None, today: date
) -> list[Finding]:
    """Findings on an avis for a dossier: identity, state, age and catégorie juridique vs ``nature``."""
    E, A = Severity.ERREUR, Severity.ALERTE
    if avis.too_long:
        return [Finding(FindingCode.SIRENE_TEXTE_TROP_LONG, E, "Texte trop long pour un avis de situation Sirene "
                        f"(plus de {MAX_CHARS} caractères) : il n'a pas été lu.")]
    if not avis.recognised:
        return [Finding(FindingCode.SIRENE_NON_RECONNU, E, "Ce document n'est pas reconnu comme un avis de situation "
                        "au répertoire Sirene de l'INSEE.")]
    out: list[Finding] = []

    def add(code: FindingCode, severity: Severity, message: str) -> None:
        out.append(Finding(code, severity, message))

    if not avis.metadata_ok:
        add(FindingCode.SIRENE_METADONNEES_ABSENTES, A, "Les métadonnées du PDF ne sont pas celles d'un avis de l'INSEE "
            "(copie réenregistrée ?) : à vérifier.")
    for field, label in _REQUIRED.items():
        if getattr(avis, field) is None:
            add(FindingCode.SIRENE_CHAMP_MANQUANT, A, f"Impossible de lire {label} dans l'avis : à vérifier.")
    if avis.siret is not None:
        if not stdnum_siret.is_valid(avis.siret):
            add(FindingCode.SIRET_INVALIDE, E, f"Le SIRET {avis.siret} de l'avis est invalide (clé).")
        elif avis.siren is not None and not avis.siret.startswith(avis.siren):
            add(FindingCode.SIRET_INVALIDE, E, f"Le SIRET {avis.siret} ne commence pas par le SIREN {avis.siren}.")
        if siret_dossier is not None and avis.siret != (dossier := "".join(siret_dossier.split())):
            add(FindingCode.SIRET_DIFFERENT, E,
                f"Le SIRET de l'avis ({avis.siret}) n'est pas celui du dossier ({dossier}).")
    if avis.etat_entreprise is Etat.FERME:
        add(FindingCode.SIRENE_ENTREPRISE_CESSEE, E, f"L'entreprise est cessée{_since(avis.date_etat_entreprise)}.")
    if avis.etat_etablissement is Etat.FERME:
        add(FindingCode.SIRENE_ETABLISSEMENT_FERME, E, f"L'établissement est fermé{_since(avis.date_etat_etablissement)}.")
    if avis.date_avis is not None:
        if today > (limit := add_months(avis.date_avis, VALIDITY_MONTHS)):
            add(FindingCode.SIRENE_AVIS_PERIME, E, f"L'avis du {avis.date_avis:%d/%m/%Y} a plus de {VALIDITY_MONTHS} "
                f"mois (valable jusqu'au {limit:%d/%m/%Y}).")
        elif avis.date_avis > today:
            add(FindingCode.SIRENE_AVIS_DATE_FUTURE, A,
                f"L'avis est daté du {avis.date_avis:%d/%m/%Y}, après aujourd'hui : à vérifier.")
    if nature is not None and avis.categorie_code is not None:
        out.extend(_nature(avis.categorie_code, avis.categorie_libelle, str(nature)))
    return out


def _since(d: date | None) -> str:
    return f" depuis le {d:%d/%m/%Y}" if d else ""


def _nature(code: str, label: str | None, nature: str) -> list[Finding]:
    what, level = (f"{code} - {label}" if label else code), code[0]
    if level not in PUBLIC_LEVELS | PRIVATE_LEVELS:
        return [Finding(FindingCode.SIRENE_NATURE_INCOHERENTE, Severity.ALERTE, f"La catégorie juridique {what} n'est ni "
                        "publique ni privée au sens du programme : à vérifier.")]
    found = "publique" if level in PUBLIC_LEVELS else "privee"
    if found == nature:
        return []
    words = {"publique": "publique", "privee": "privée"}
    return [Finding(FindingCode.SIRENE_NATURE_INCOHERENTE, Severity.ERREUR, f"La catégorie juridique {what} est celle "
                    f"d'une structure {words[found]}, mais le dossier la déclare {words[nature]}.")]
