"""The contrat de travail check: a conseiller's contract read from the PDF text layer.

Findings (``erreur`` rejects the piece, ``alerte`` sends it to a human):

- ``TEXTE_ABSENT`` alerte: no text layer (a scan); nothing else is said.
- ``CONTRAT_TYPE_INCONNU`` erreur: neither CDI, CDD, PEC (CUI-CAE, parcours emploi compétences) nor
  contrat de projet. PEC and contrat de projet win over the CDD/CDI wording they also use; between CDD
  and CDI the first one written (the title) wins.
- ``CONTRAT_DATE_DEBUT_MANQUANTE`` alerte; ``CONTRAT_DATE_FIN_MANQUANTE`` erreur unless the contract
  is a CDI (or a PEC in CDI form). A "durée de N mois" after the start date gives the end date.
  "prendra fin le" inside a période d'essai clause is not the end of the contract.
- ``CONTRAT_EXPIRE`` erreur (ended before ``today``), ``CONTRAT_PAS_COMMENCE`` alerte (starts after).
- ``CONTRAT_SALARIE_MANQUANT`` / ``CONTRAT_SALARIE_DIFFERENT`` alerte: the employee's name, from
  "Le salarié :", "Nom du salarié", or the name before "ci-après dénommé(e) « le/la salarié(e) »".
- ``CONTRAT_NON_SIGNE`` alerte: no signed signature field and no signature wording (a handwritten
  signature is invisible in the text layer, hence an alerte and not an erreur).

Text is compared folded (lower case, no accents) with one character per character of the original, so
a match in the folded text slices the original name with its accents.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from dossiers.domain.dates import add_months
from dossiers.domain.findings import Finding, FindingCode, Severity
from dossiers.domain.model import TypeContrat
from dossiers.domain.pieces import Contexte, FileFacts

__all__ = ["check_contrat", "read_contrat", "same_person"]

E, A = Severity.ERREUR, Severity.ALERTE
_SPACES = (dict.fromkeys(map(ord, "\u00a0\u202f\u2007\u2009\t"), " ") | dict.fromkeys(map(ord, "’‘ʼ`´"), "'")
           | dict.fromkeys(map(ord, "\u2010\u2011"), "-"))
_MOIS = ("janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout", "septembre", "octobre",
         "novembre", "decembre")
_DATE = (r"(?:(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})"
         rf"|(1\s?er|premier|\d{{1,2}})\s*({'|'.join(_MOIS)})\s+(\d{{4}}))")
_GAP = r"\s*:?[^0-9\n]{0,30}?"  # "le", a weekday, "lundi", a colon between a phrase and its date
_START = (r"a compter du|a partir du|prend(?:ra)? effet|date d'embauche|date de debut|debutera|debute le"
          r"|commence(?:ra)? le|entree en fonctions?|date d'effet|date d'entree")
_END = (r"jusqu'au|prendra fin|prend fin|se terminera|se termine|date de fin|date de terme|expirera"
        r"|echeance du contrat|terme du contrat")
_RANGE = re.compile(rf"\bdu\s+{_DATE}\s+au\s+{_DATE}")
_DUREE = re.compile(r"pour une duree (?:determinee )?de (\d{1,2}) (mois|ans?)\b")
_TYPES = (
    (TypeContrat.PEC, re.compile(r"parcours emploi[- ]competences?|contrat unique d'insertion|\bcui\b"
                                 r"|contrat d'accompagnement dans l'emploi|\bpec\b")),
    (TypeContrat.CONTRAT_DE_PROJET, re.compile(r"\bcontrat de projet\b")),
)
_CDD = re.compile(r"\bduree determinee\b|\bcdd\b")
_CDI = re.compile(r"\bduree indeterminee\b|\bcdi\b")
_SALARIE = r"(?:salarie(?:\(e\)|e)?|conseill(?:er|ere|er\(e\))(?: numerique)?)"
_LABELS = re.compile(rf"(?:^|\n)\s*(?:(?:le|la|l')\s*)?{_SALARIE}\s*:\s*"
                     rf"|\bnom(?: et prenoms?| prenoms?)? d[ue] (?:la |l')?{_SALARIE}\s*:?\s*")
_CI_APRES = re.compile(rf"\bci-(?:apres|dessous)\s+(?:\w+(?:\(e\))?s?\s+)?[«\"“]?\s*(?:le |la |l')\s*"
                       rf"(?:\((?:le|la)\)\s*)?{_SALARIE}")
_CIVILITE = re.compile(r"(?:^|(?<=[\s,(]))(?:m\.|mr\.?|mme\.?|mlle\.?|monsieur|madame|mademoiselle)\s+")
_NAME_END = re.compile(r"[,;(\n]|\s(?:ne|nee|demeurant|domicilie\w*|de nationalite|ci-apres|en qualite|numero"
                       r"|date|adresse)\b|\sn°|\sprenoms?\s*:")
_GIVEN = re.compile(r"\s*prenoms?\s*:\s*")
_PARTICLES = frozenset({"de", "du", "des", "d'", "le", "la", "van", "von", "di", "da", "del", "ben", "el", "al"})
_ESIGN = re.compile(r"signee? electroniquement|signature electronique|signee? numeriquement|signature numerique"
                    r"|docusign|yousign|universign|electronically signed")
_MENTION = re.compile(r"lu et approuve|bon pour accord")


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    parts = unicodedata.normalize("NFKD", ch)
    base = parts[0] if parts and all(unicodedata.combining(c) for c in parts[1:]) else ch
    low = base.lower()
    return low if len(low) == 1 else base


def fold(text: str) -> str:
    """Lower case without accents, one character for each character of ``text`` (indices agree)."""
    return "".join(map(_fold_char, text))


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text).translate(_SPACES)
    return "\n".join(" ".join(line.split()) for line in text.splitlines())


def _date(m: re.Match[str], at: int = 0) -> date | None:
    g = m.groups()[at: at + 6]
    try:
        if g[0]:
            return date(int(g[2]), int(g[1]), int(g[0]))
        day = 1 if not g[3][0].isdigit() or g[3].replace(" ", "").endswith("er") else int(g[3])
        return date(int(g[5]), _MOIS.index(g[4]) + 1, day)
    except ValueError:
        return None


def _after(flat: str, phrases: str, *, skip_essai: bool = False) -> date | None:
    for m in re.finditer(rf"(?:{phrases}){_GAP}{_DATE}", flat):
        sentence = flat[max(0, m.start() - 120): m.start()].rsplit(". ", 1)[-1]
        if skip_essai and "essai" in sentence:  # "la période d'essai prendra fin le..."
            continue
        if (found := _date(m)) is not None:
            return found
    return None


def _duree(flat: str) -> TypeContrat | None:
    """CDD or CDI, whichever is written first (the title), or None."""
    cdd, cdi = _CDD.search(flat), _CDI.search(flat)
    if cdd and cdi:
        return TypeContrat.CDD if cdd.start() < cdi.start() else TypeContrat.CDI
    return TypeContrat.CDD if cdd else TypeContrat.CDI if cdi else None


def _type(flat: str) -> TypeContrat | None:
    for kind, pattern in _TYPES:
        if pattern.search(flat):
            return kind
    return _duree(flat)


def _clean_name(original: str, folded: str) -> str | None:
    """A person's name at the start of ``original``: civilité dropped, cut before "né le", a comma..."""
    end = _NAME_END.search(folded)
    original, folded = original[: end.start() if end else 80], folded[: end.start() if end else 80]
    while (civ := _CIVILITE.match(folded)) is not None:
        original, folded = original[civ.end():], folded[civ.end():]
    words = original.strip(" .:-").split()
    if not 2 <= len(words) <= 6:
        return None
    for word in words:
        if not all(c.isalpha() or c in "-'." for c in word) or not any(c.isalpha() for c in word):
            return None
        if not word[0].isupper() and fold(word) not in _PARTICLES and not fold(word).startswith("d'"):
            return None
    return " ".join(words)


def _cut(original: str, folded: str, start: int) -> tuple[str, int | None]:
    """The text from ``start`` to the end of a name, and where that end is (None: no terminator)."""
    end = _NAME_END.search(folded, start)
    return original[start: end.start() if end else start + 80].strip(), end.start() if end else None


def _salarie(original: str, folded: str) -> str | None:
    for m in _LABELS.finditer(folded):
        start = m.end()
        eol = original.find("\n", start)
        if not original[start: eol if eol >= 0 else len(original)].strip():  # the value is on the next line
            start = eol + 1 if eol >= 0 else len(original)
        surname, end = _cut(original, folded, start)
        given = _GIVEN.match(folded, end) if end is not None else None
        if given and end is not None:  # "Nom du salarié : DUPONT Prénom : Marie"
            first, _ = _cut(original, folded, given.end())
            if name := _clean_name(f"{first} {surname}", fold(f"{first} {surname}")):
                return name
        if (name := _clean_name(original[start: start + 200], folded[start: start + 200])) is not None:
            return name
    flat_o, flat_f = original.replace("\n", " "), folded.replace("\n", " ")
    for m in _CI_APRES.finditer(flat_f):
        low = max(0, m.start() - 400)
        civs = list(_CIVILITE.finditer(flat_f, low, m.start()))
        for civ in reversed(civs):
            if "employeur" in flat_f[civ.start(): m.start()]:
                break  # the employer's representative, not the salarié
            if (name := _clean_name(flat_o[civ.start(): m.start()], flat_f[civ.start(): m.start()])) is not None:
                return name
    return None


def _tokens(name: str) -> list[str]:
    return [t for t in re.findall(r"[a-z]+", fold(name)) if t not in {"m", "mme", "mlle", "monsieur", "madame"}]


def same_person(a: str, b: str) -> bool:
    """Whether two "Prénom Nom" strings name the same person: accents, case, order, hyphens ignored; one may
    omit given names the other has (at least two names in common)."""
    ta, tb = _tokens(a), _tokens(b)
    if not ta or not tb:
        return False
    if sorted(ta) == sorted(tb) or "".join(ta) == "".join(tb):
        return True
    small, large = sorted((set(ta), set(tb)), key=len)
    return len(small) >= 2 and small <= large


def _signed_mention(flat: str) -> bool:
    """Electronic-signature wording, or "lu et approuvé" / "bon pour accord" written by both parties (not
    the instruction "précédée de la mention « lu et approuvé »")."""
    if _ESIGN.search(flat):
        return True
    written = [m for m in _MENTION.finditer(flat) if not re.search(r"mention|precede", flat[max(0, m.start() - 60):
                                                                                           m.start()])]
    return len(written) >= 2


def _signature(facts: FileFacts, mention: bool) -> tuple[str | None, list[str]]:
    signed = [s for s in (facts.pdf.signatures if facts.pdf else ()) if s.signed]
    if signed:
        return "numerique", [s.signer for s in signed if s.signer]
    return ("mention" if mention else None), []


def read_contrat(text: str) -> dict[str, Any]:
    """What the contract's text says: type, dates (``date``), salarié, signature wording; absent values are None."""
    original = _normalise(text)
    folded = fold(original)
    flat = folded.replace("\n", " ")
    kind = _type(flat)
    debut, fin, source = _after(flat, _START), None, None
    rng = _RANGE.search(flat)
    if debut is None and rng:
        debut = _date(rng)
    if kind is not TypeContrat.CDI:
        fin = _after(flat, _END, skip_essai=True) or (_date(rng, 6) if rng else None)
        source = "texte" if fin else None
        if fin is None and debut is not None and (d := _DUREE.search(flat)):
            months = int(d.group(1)) * (1 if d.group(2) == "mois" else 12)
            fin, source = add_months(debut, months) - timedelta(days=1), "duree"
    permanent = kind is TypeContrat.CDI or kind is TypeContrat.PEC and _duree(flat) is TypeContrat.CDI
    return {"type": kind, "date_debut": debut, "date_fin": fin, "date_fin_source": source,
            "salarie": _salarie(original, folded), "cdi": permanent, "signature_mention": _signed_mention(flat)}


def check_contrat(facts: FileFacts, ctx: Contexte) -> tuple[list[Finding], dict[str, Any]]:
    """Findings and fields of a contrat de travail for the conseiller ``ctx.conseiller``."""
    pdf = facts.pdf
    if pdf is None or not pdf.has_text:
        signature, signataires = _signature(facts, mention=False)
        return [Finding(FindingCode.TEXTE_ABSENT, A, "Le contrat n'a pas de couche texte (document numérisé ?) : "
                        "il n'a pas pu être lu automatiquement, à vérifier.")], {
            "type": None, "date_debut": None, "date_fin": None, "salarie": None, "signature": signature,
            "signataires": signataires}
    read = read_contrat(pdf.text)
    signature, signataires = _signature(facts, read["signature_mention"])
    fields: dict[str, Any] = {"signature": signature, "signataires": signataires}
    kind, debut, fin, salarie = read["type"], read["date_debut"], read["date_fin"], read["salarie"]
    fields = {"type": str(kind) if kind else None, "date_debut": debut.isoformat() if debut else None,
              "date_fin": fin.isoformat() if fin else None, "salarie": salarie, **fields}
    if read["date_fin_source"] == "duree":
        fields["date_fin_calculee"] = True
    out: list[Finding] = []
    if kind is None:
        out.append(Finding(FindingCode.CONTRAT_TYPE_INCONNU, E, "Le type de contrat n'a pas été reconnu (CDI, CDD, "
                           "PEC ou contrat de projet attendu)."))
    if debut is None:
        out.append(Finding(FindingCode.CONTRAT_DATE_DEBUT_MANQUANTE, A, "La date de début du contrat n'a pas été "
                           "trouvée : à vérifier."))
    if fin is None and kind is not None and not read["cdi"]:
        out.append(Finding(FindingCode.CONTRAT_DATE_FIN_MANQUANTE, E, f"La date de fin du contrat ({_label(kind)}) "
                           "n'a pas été trouvée : elle est obligatoire pour un contrat autre qu'un CDI."))
    if fin is not None and ctx.today > fin:
        out.append(Finding(FindingCode.CONTRAT_EXPIRE, E, f"Le contrat a pris fin le {fin:%d/%m/%Y} : il n'est plus "
                           "en cours de validité."))
    elif debut is not None and ctx.today < debut:
        out.append(Finding(FindingCode.CONTRAT_PAS_COMMENCE, A, f"Le contrat ne commence que le {debut:%d/%m/%Y} : "
                           "à vérifier."))
    if salarie is None:
        out.append(Finding(FindingCode.CONTRAT_SALARIE_MANQUANT, A, "Le nom du salarié n'a pas été trouvé dans le "
                           "contrat : à vérifier."))
    elif ctx.conseiller and not same_person(salarie, ctx.conseiller):
        out.append(Finding(FindingCode.CONTRAT_SALARIE_DIFFERENT, A, f"Le salarié du contrat ({salarie}) n'est pas "
                           f"le conseiller déclaré ({ctx.conseiller}) : à vérifier."))
    if signature is None:
        out.append(Finding(FindingCode.CONTRAT_NON_SIGNE, A, "Aucune signature n'a été détectée (ni signature "
                           "numérique, ni mention de signature) : une signature manuscrite ne se lit pas "
                           "automatiquement, vérifier que l'employeur et le salarié ont signé."))
    return out, fields


def _label(kind: TypeContrat) -> str:
    return "contrat de projet" if kind is TypeContrat.CONTRAT_DE_PROJET else str(kind)
