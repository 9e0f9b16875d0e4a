"""The RIB check: the structure's relevé d'identité bancaire read from the PDF text layer.

Findings (``erreur`` rejects the piece, ``alerte`` sends it to a human):

- ``TEXTE_ABSENT`` alerte: an image, or a PDF without text layer; nothing else is said.
- ``RIB_IBAN_MANQUANT`` erreur: no IBAN-shaped number in the text.
- ``RIB_IBAN_INVALIDE`` erreur: an IBAN-shaped number fails python-stdnum (check digits, length or
  format of its country). Only numbers after an "IBAN" label or with a known IBAN country code count,
  so that another reference in the text cannot reject the piece.
- ``RIB_TITULAIRE_MANQUANT`` alerte: no "Titulaire du compte", "Intitulé du compte", "Titulaire"...
- ``RIB_TITULAIRE_DIFFERENT`` alerte: the holder is not close to the dossier's dénomination.

The IBAN is kept whole (formatted in groups of 4): it is the structure's account, which instructeurs
compare with the convention; it is not a person's data.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from difflib import SequenceMatcher
from typing import Any

from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum import numdb

from dossiers.domain.findings import Finding, FindingCode, Severity
from dossiers.domain.pieces import Contexte, FileFacts

__all__ = ["check_rib", "read_rib", "find_iban", "holder_matches"]

E, A = Severity.ERREUR, Severity.ALERTE
_SPACES = dict.fromkeys(map(ord, "\u00a0\u202f\u2007\u2009\t"), " ") | dict.fromkeys(map(ord, "’‘ʼ`´"), "'")
_CANDIDATE = re.compile(r"(?:(?<![A-Za-z0-9])|(?<=IBAN))[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,32}")
_LABEL = re.compile(r"\bIBAN\b", re.IGNORECASE)
_BIC = re.compile(r"\b(?:BIC|SWIFT)\b(?:\s*\([^)\n]{0,40}\))?(?:\s*(?:/\s*)?(?:SWIFT|Code))?\s*[:.]?\s*"
                  r"([A-Z]{4} ?[A-Z]{2} ?[A-Z0-9]{2}(?: ?[A-Z0-9]{3})?)(?![A-Z0-9])", re.IGNORECASE)
_HOLDER = re.compile(r"(?:titulaire du compte|intitul[ée] du compte|nom du titulaire|titulaire|"
                     r"account (?:holder|owner))(?:\s*\([^)\n]{0,40}\))?\s*[:.]?[ \t]*", re.IGNORECASE)
_OTHER_LABELS = re.compile(r"\s(?:Domiciliation|IBAN|BIC|Banque|Code banque|Code guichet|Adresse|N° de compte|"
                           r"Agence|Clé RIB)\b.*", re.IGNORECASE)
_STOP = frozenset("de du des la le les l d et a au aux en sur pour".split())
# Words of a legal form or kind of body: "Commune de X" and "MAIRIE DE X" name the same holder.
_FORMS = frozenset("""association asso assoc ass commune mairie ville ccas cias centre communal intercommunal action
    sociale sarl sas sasu sa eurl sci scop scic gie gip epci sem spl fondation departement departemental conseil
    region regional communaute communes agglomeration metropole syndicat etablissement public""".split())
_IBAN_DB = numdb.get("iban")
_PUBLIC_ACCOUNTANT = re.compile(r"\b(?:tresor|tresorerie|sgc|dgfip|drfip|ddfip|paierie|comptable public)\b")


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text).translate(_SPACES)
    return "\n".join(" ".join(line.split()) for line in text.splitlines())


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _grouped(raw: str) -> str:
    """The number as written in groups: groups of 4 then one shorter last group, or one single token."""
    tokens = raw.split(" ")
    if len(tokens[0]) != 4:
        return tokens[0][:34]
    out = tokens[0]
    for token in tokens[1:]:
        if len(token) > 4:
            break
        out += token
        if len(token) < 4:
            break
    return out


def _valid_prefix(compact: str) -> str | None:
    """The IBAN at the start of ``compact``, cut to its country's length (text may be glued after it)."""
    structure = _bban(compact[:2])
    if structure is None:
        return None
    candidate = compact[: _length(structure)]
    return candidate if stdnum_iban.is_valid(candidate) else None


def _length(structure: str) -> int:
    return 4 + sum(int(n) for n in re.findall(r"(\d+)!?[ance]", structure))


def _end_of(m: re.Match[str], chars: int) -> int:
    """Offset in the text just after the first ``chars`` non-space characters of the match."""
    seen = 0
    for i, ch in enumerate(m.group(0)):
        seen += ch != " "
        if seen == chars:
            return m.start() + i + 1
    return m.end()


def find_iban(text: str) -> tuple[str | None, str | None, int]:
    """``(valid IBAN, invalid candidate, end offset)`` found in normalised ``text``; the first valid one wins.

    A candidate is two letters, two digits and 11 to 32 more characters, spaces between characters
    tolerated (text extraction splits groups); a valid IBAN may be followed by glued text ("...189BIC").
    """
    invalid: str | None = None
    labels = [m.end() for m in _LABEL.finditer(text)]  # sorted
    for m in _CANDIDATE.finditer(text):
        compact = m.group(0).replace(" ", "")
        if (valid := _valid_prefix(compact)) is not None:
            return valid, None, _end_of(m, len(valid))
        i = bisect_right(labels, m.start())
        labelled = i > 0 and m.start() - labels[i - 1] <= 80
        if invalid is None and (labelled or _bban(compact[:2]) is not None):
            invalid = _grouped(m.group(0))
    return None, invalid, -1


def _bban(country: str) -> str | None:
    """The BBAN structure of a country in the IBAN registry ("5!n5!n11!c2!n" for FR), or None."""
    info = _IBAN_DB.info(country)
    return info[0][1].get("bban") if len(info) == 1 and info[0][0] == country else None


def _reason(candidate: str) -> str:
    """Why python-stdnum refuses ``candidate``, in French."""
    country, structure = candidate[:2], _bban(candidate[:2])
    if structure is None:
        return f"code pays {country} inconnu"
    expected = _length(structure)
    if len(candidate) != expected:
        return f"un IBAN {country} a {expected} caractères, celui-ci en a {len(candidate)}"
    if stdnum_iban.calc_check_digits(candidate) != candidate[2:4]:
        return "clé de contrôle incorrecte"
    return f"format incorrect pour un IBAN {country}"


def _bic(text: str, after: int) -> str | None:
    for m in _BIC.finditer(text):
        value = m.group(1).replace(" ", "").upper()
        if stdnum_bic.is_valid(value):
            return value
    if after >= 0:  # a table "IBAN BIC / FR76 ... AGRIFRPP882": the code right after the IBAN
        glued = re.match(r"\s*([A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?)(?![A-Za-z0-9])", text[after:])
        if glued and stdnum_bic.is_valid(glued.group(1)):
            return glued.group(1)
    return None


def _holder(text: str) -> str | None:
    for m in _HOLDER.finditer(text):
        eol = text.find("\n", m.end())
        line = text[m.end(): eol if eol >= 0 else len(text)]
        if not line.strip() and eol >= 0:  # the value is on the next line
            after = text.find("\n", eol + 1)
            line = text[eol + 1: after if after >= 0 else len(text)]
        value = _OTHER_LABELS.sub("", " " + line).strip(" :.-")
        if value and any(c.isalpha() for c in value) and not _HOLDER.match(value):
            return value[:120]
    return None


def read_rib(text: str) -> dict[str, Any]:
    """IBAN (valid, compact), invalid candidate, BIC and holder read from a RIB's text."""
    t = _normalise(text)
    valid, invalid, end = find_iban(t)
    return {"iban": valid, "iban_invalide": invalid, "bic": _bic(t, end), "titulaire": _holder(t)}


def _tokens(name: str) -> list[str]:
    return [w for w in re.findall(r"[a-z0-9]+", _fold(name)) if w not in _STOP]


def _close(a: str, b: str) -> bool:
    return a == b or SequenceMatcher(None, a, b).ratio() >= 0.85 or min(len(a), len(b)) >= 4 and (
        a.startswith(b) or b.startswith(a))  # a holder cut by the bank's field width


def holder_matches(holder: str, denomination: str) -> bool:
    """Whether a RIB holder names the structure: accents, case, punctuation, articles and legal-form words
    ("commune de", "association", "SARL"...) ignored; one side may be a truncated or abbreviated form
    of the other if it keeps at least two significant words (or both have one)."""
    ta, tb = _tokens(holder), _tokens(denomination)
    sa, sb = [w for w in ta if w not in _FORMS] or ta, [w for w in tb if w not in _FORMS] or tb
    if not sa or not sb:
        return False
    if SequenceMatcher(None, " ".join(sa), " ".join(sb)).ratio() >= 0.9:
        return True
    small, large = sorted((sa, sb), key=len)
    if len(small) < 2 and len(large) > 1:
        return False
    return all(any(_close(w, other) for other in large) for w in small)


def check_rib(facts: FileFacts, ctx: Contexte) -> tuple[list[Finding], dict[str, Any]]:
    """Findings and fields of the structure's RIB, compared with ``ctx.denomination``."""
    fields: dict[str, Any] = {"iban": None, "bic": None, "titulaire": None}
    pdf = facts.pdf
    if pdf is None or not pdf.has_text:
        return [Finding(FindingCode.TEXTE_ABSENT, A, "Le RIB n'a pas de couche texte (image ou document numérisé) : "
                        "il n'a pas pu être lu automatiquement, à vérifier.")], fields
    read = read_rib(pdf.text)
    out: list[Finding] = []
    if read["iban"] is not None:
        fields["iban"] = stdnum_iban.format(read["iban"])
    elif read["iban_invalide"] is not None:
        bad = read["iban_invalide"]
        fields["iban"] = " ".join(bad[i: i + 4] for i in range(0, len(bad), 4))
        out.append(Finding(FindingCode.RIB_IBAN_INVALIDE, E, f"L'IBAN {fields['iban']} n'est pas valide "
                           f"({_reason(bad)})."))
    else:
        out.append(Finding(FindingCode.RIB_IBAN_MANQUANT, E, "Aucun IBAN n'a été trouvé dans le RIB."))
    fields.update(bic=read["bic"], titulaire=read["titulaire"])
    holder = read["titulaire"]
    if holder is None:
        out.append(Finding(FindingCode.RIB_TITULAIRE_MANQUANT, A, "Le titulaire du compte n'a pas été trouvé dans "
                           "le RIB : à vérifier."))
    elif ctx.denomination and not holder_matches(holder, ctx.denomination):
        hint = (" Le compte d'une collectivité peut être au nom de son comptable public (trésorerie, SGC) : "
                "vérifier qu'il s'agit bien du compte de la structure." if _PUBLIC_ACCOUNTANT.search(_fold(holder))
                else " À vérifier.")
        out.append(Finding(FindingCode.RIB_TITULAIRE_DIFFERENT, A, f"Le titulaire du compte ({holder}) ne correspond "
                           f"pas à la structure ({ctx.denomination}).{hint}"))
    return out, fields
