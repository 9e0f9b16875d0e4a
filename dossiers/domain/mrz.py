"""Machine-readable zones of identity documents, read from text already extracted (no I/O).

Layouts: ``td1`` 3x30 (CNIe since 2021, ID cards; ICAO 9303-5), ``td3`` 2x44 (passports; 9303-4),
``cni_fr_ancienne`` 2x36 (French CNI 1988-2021, national layout without expiry date). A zone that
cannot be read raises ``MrzIllisible``; wrong check digits or dates are listed in ``Mrz.errors``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from dossiers.errors import ConumError

__all__ = [
    "MrzFormat", "MrzCode", "MrzError", "MrzIllisible", "Mrz", "check_digit",
    "parse_mrz", "old_cni_expiry", "expiry_for", "mrz_transliterate", "names_match",
]

MAX_CHARS = 400  # a zone is at most 90 characters; anything much longer is not a zone
_VALUES = {ch: n for n, ch in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")} | {"<": 0}
_ALPHABET = frozenset(_VALUES)
_WEIGHTS = (7, 3, 1)
_EXTENSION_START = date(2004, 1, 2)  # décret 2013-1188: adults' CNI issued from this day...
_EXTENSION_END = date(2013, 12, 31)  # ...to this day are valid 15 years instead of 10


class MrzFormat(StrEnum):
    TD1 = "td1"
    TD3 = "td3"
    CNI_FR_ANCIENNE = "cni_fr_ancienne"


class MrzCode(StrEnum):
    VIDE = "mrz_vide"
    CARACTERES_INVALIDES = "mrz_caracteres_invalides"
    LONGUEUR_INVALIDE = "mrz_longueur_invalide"
    FORMAT_INCONNU = "mrz_format_inconnu"
    CLE_INVALIDE = "mrz_cle_invalide"
    DATE_INVALIDE = "mrz_date_invalide"


_LABELS = {  # field name -> what a French reader calls it
    "document_number": "le numéro du document", "birth_date": "la date de naissance",
    "expiry_date": "la date d'expiration", "issue_date": "la date de délivrance",
    "optional_data": "les données facultatives", "composite": "l'ensemble de la zone (clé finale)",
}


@dataclass(frozen=True)
class MrzError:
    """A problem in a readable zone: stable code, the field concerned, French message."""

    code: MrzCode
    field: str
    message: str


class MrzIllisible(ConumError):
    """The text is not a machine-readable zone this module can read."""

    code = MrzCode.FORMAT_INCONNU  # type: ignore[assignment]

    def __init__(self, code: MrzCode, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Mrz:
    """A zone's fields; ``sex`` is M, F or X (``<``); ``names_truncated``: a name field is full so names
    may be cut; ``issue_year_month`` is only known for the old CNI (from its number)."""

    format: MrzFormat
    document_type: str
    issuing_country: str
    document_number: str
    surname: str
    given_names: tuple[str, ...]
    nationality: str | None
    birth_date: date | None
    sex: str
    expiry_date: date | None
    issue_year_month: tuple[int, int] | None = None
    names_truncated: bool = False
    errors: tuple[MrzError, ...] = ()


def check_digit(value: str) -> int:
    """ICAO 9303 check digit: weights 7,3,1; 0-9 as such, A-Z = 10-35, ``<`` = 0; sum mod 10."""
    return sum(_VALUES[ch] * _WEIGHTS[i % 3] for i, ch in enumerate(value)) % 10


def _check(errors: list[MrzError], field: str, value: str, digit: str, *, optional: bool = False) -> None:
    if optional and digit == "<" and set(value) <= {"<"}:
        return
    if digit != str(check_digit(value)):
        errors.append(MrzError(MrzCode.CLE_INVALIDE, field, f"Clé de contrôle incorrecte pour {_LABELS[field]}."))


def _date(errors: list[MrzError], field: str, s: str, *, today: date | None) -> date | None:
    """YYMMDD; with ``today`` the century makes the date not in the future, without it 20YY."""
    try:
        yy, mm, dd = int(s[:2]), int(s[2:4]), int(s[4:])
        future = today is not None and (2000 + yy, mm, dd) > (today.year, today.month, today.day)
        return date(1900 + yy if future else 2000 + yy, mm, dd)
    except ValueError:  # "<<" (unknown) or a day that does not exist
        errors.append(MrzError(MrzCode.DATE_INVALIDE, field, f"{_LABELS[field].capitalize()} est invalide."))
        return None


def _words(field: str) -> str:
    return " ".join(field.replace("<", " ").split())


def _icao_names(field: str) -> tuple[str, tuple[str, ...]]:
    surname, _, given = field.partition("<<")
    return _words(surname), tuple(g for g in given.split("<") if g)


def _lines(text: str) -> list[str]:
    if len(text) > MAX_CHARS:
        raise MrzIllisible(MrzCode.LONGUEUR_INVALIDE, f"Texte trop long pour une zone MRZ ({len(text)} caractères).")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise MrzIllisible(MrzCode.VIDE, "Aucune ligne de zone MRZ.")
    for n, line in enumerate(lines, 1):
        if bad := set(line) - _ALPHABET:
            what = "des minuscules" if any(c.islower() for c in bad) else f"des caractères interdits {sorted(bad)}"
            raise MrzIllisible(MrzCode.CARACTERES_INVALIDES, f"La ligne {n} de la zone MRZ contient {what}.")
    return lines


def parse_mrz(text: str, *, today: date) -> Mrz:
    """Read a TD1, TD3 or old French CNI zone; ``today`` fixes the century of birth dates."""
    lines = _lines(text)
    lengths = [len(line) for line in lines]
    if len(lines) == 3:
        if lengths != [30, 30, 30]:
            raise MrzIllisible(MrzCode.LONGUEUR_INVALIDE, f"Une zone TD1 a 3 lignes de 30 caractères, pas {lengths}.")
        return _td1(*lines, today=today)
    if len(lines) != 2:
        raise MrzIllisible(MrzCode.FORMAT_INCONNU, f"Une zone MRZ a 2 ou 3 lignes, pas {len(lines)}.")
    if lengths == [44, 44]:
        return _td3(*lines, today=today)
    if lengths == [36, 36]:
        if lines[0].startswith("IDFRA"):
            return _old_cni(*lines, today=today)
        raise MrzIllisible(MrzCode.FORMAT_INCONNU, "Zone 2x36 (TD2) inconnue : seule l'ancienne CNI est lue.")
    raise MrzIllisible(MrzCode.LONGUEUR_INVALIDE, f"Longueurs de lignes non reconnues : {lengths}.")


def _td1(l1: str, l2: str, l3: str, *, today: date) -> Mrz:
    # ICAO 9303-5 §4.2.2: a number longer than 9 continues in the optional data after a "<".
    errors: list[MrzError] = []
    number, digit = l1[5:14], l1[14]
    if digit == "<" and l1[15] != "<":
        rest = l1[15:30].split("<", 1)[0]
        number, digit = number + rest[:-1], rest[-1]
    _check(errors, "document_number", number, digit)
    _check(errors, "birth_date", l2[0:6], l2[6])
    _check(errors, "expiry_date", l2[8:14], l2[14])
    _check(errors, "composite", l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29], l2[29])
    surname, given = _icao_names(l3)
    return Mrz(
        format=MrzFormat.TD1, document_type=l1[0:2].rstrip("<"), issuing_country=l1[2:5].rstrip("<"),
        document_number=number.rstrip("<"), surname=surname, given_names=given,
        nationality=l2[15:18].rstrip("<") or None, birth_date=_date(errors, "birth_date", l2[0:6], today=today),
        sex=l2[7] if l2[7] in "MF" else "X", expiry_date=_date(errors, "expiry_date", l2[8:14], today=None),
        names_truncated=l3[-1] != "<", errors=tuple(errors),
    )


def _td3(l1: str, l2: str, *, today: date) -> Mrz:
    # ICAO 9303-4 §4.2.2: the personal number check digit may be "<" when that field is empty.
    errors: list[MrzError] = []
    _check(errors, "document_number", l2[0:9], l2[9])
    _check(errors, "birth_date", l2[13:19], l2[19])
    _check(errors, "expiry_date", l2[21:27], l2[27])
    _check(errors, "optional_data", l2[28:42], l2[42], optional=True)
    _check(errors, "composite", l2[0:10] + l2[13:20] + l2[21:43], l2[43])
    surname, given = _icao_names(l1[5:44])
    return Mrz(
        format=MrzFormat.TD3, document_type=l1[0:2].rstrip("<"), issuing_country=l1[2:5].rstrip("<"),
        document_number=l2[0:9].rstrip("<"), surname=surname, given_names=given,
        nationality=l2[10:13].rstrip("<") or None, birth_date=_date(errors, "birth_date", l2[13:19], today=today),
        sex=l2[20] if l2[20] in "MF" else "X", expiry_date=_date(errors, "expiry_date", l2[21:27], today=None),
        names_truncated=l1[-1] != "<", errors=tuple(errors),
    )


def _old_cni(l1: str, l2: str, *, today: date) -> Mrz:
    """French CNI 1988-2021 (2 x 36), a national layout outside ICAO 9303.

    Line 1: ``IDFRA``, surname (25), département (3), office (3). Line 2: number (12) = issue
    year (2) + month (2) + département (3) + sequence (5), its check digit, given names (14,
    separated by ``<<``), birth date YYMMDD + check digit, sex, final check digit. The final
    digit is the ICAO 7-3-1 digit over all 36 characters of line 1 followed by the first 35 of
    line 2 (check digits included), as in the Innovatrics mrz-java ``FrenchIdCard`` and the
    kurzdigital ``MrzFranceParser`` ("digits 1-36 in first row combined with digits 1-35 in
    second row"), both after the ANTS layout described on Wikipedia's "National identity card
    (France)". Issue years 88-99 are 19YY (the card dates from 1988), 00-87 are 20YY.
    """
    errors: list[MrzError] = []
    _check(errors, "document_number", l2[0:12], l2[12])
    _check(errors, "birth_date", l2[27:33], l2[33])
    _check(errors, "composite", l1 + l2[:35], l2[35])
    issue: tuple[int, int] | None = None
    if l2[0:4].isdigit() and 1 <= int(l2[2:4]) <= 12:
        yy = int(l2[0:2])
        issue = (1900 + yy if yy >= 88 else 2000 + yy, int(l2[2:4]))
    else:
        errors.append(MrzError(MrzCode.DATE_INVALIDE, "issue_date", "Date de délivrance illisible."))
    return Mrz(
        format=MrzFormat.CNI_FR_ANCIENNE, document_type="ID", issuing_country="FRA",
        document_number=l2[0:12], surname=_words(l1[5:30]),
        given_names=tuple(_words(g) for g in l2[13:27].split("<<") if _words(g)), nationality=None,
        birth_date=_date(errors, "birth_date", l2[27:33], today=today), sex=l2[34] if l2[34] in "MF" else "X",
        expiry_date=None, issue_year_month=issue, names_truncated=l1[29] != "<" or l2[26] != "<", errors=tuple(errors),
    )


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def old_cni_expiry(issued: date, *, birth_date: date | None) -> date:
    """End of validity of an old-format CNI issued on ``issued`` (décret 2013-1188).

    Issued to an adult from 2004-01-02 to 2013-12-31: 15 years (10 printed + 5); otherwise (a
    minor at issue, or issued before 2004-01-02): 10 years. An unknown birth date counts as a
    minor, the shorter validity. The result is ``issued`` plus those years.
    """
    adult = birth_date is not None and _add_years(birth_date, 18) <= issued
    extended = adult and _EXTENSION_START <= issued <= _EXTENSION_END
    return _add_years(issued, 15 if extended else 10)


def expiry_for(mrz: Mrz, *, birth_date: date | None = None) -> date | None:
    """The date until which the document is valid, or None if it cannot be told.

    TD1 (CNIe) and TD3 (passport): the expiry date of the zone. Old CNI: only the year and month
    of issue are known, so the card is taken as issued on the first day of that month (for a
    card issued in January 2004 this gives the shorter, 10-year validity). Adult or minor is
    decided from ``birth_date`` if given, else from the zone's birth date.
    """
    if mrz.format is not MrzFormat.CNI_FR_ANCIENNE:
        return mrz.expiry_date
    if mrz.issue_year_month is None:
        return None
    year, month = mrz.issue_year_month
    return old_cni_expiry(date(year, month, 1), birth_date=birth_date or mrz.birth_date)


_SPECIAL = {"Œ": "OE", "Æ": "AE", "Ø": "OE", "ß": "SS", "Ð": "D", "Þ": "TH", "Ł": "L", "Ĳ": "IJ"}


def mrz_transliterate(name: str) -> str:
    """A name as ICAO 9303-3 §6 writes it: upper case, no accents, hyphens and spaces as ``<``,
    apostrophes dropped; other punctuation dropped."""
    out = []
    for ch in unicodedata.normalize("NFKD", name.upper()):
        if unicodedata.combining(ch):
            continue
        ch = _SPECIAL.get(ch, ch)
        if ch in "-\u2010\u2011\u2013" or ch.isspace():
            out.append("<")
        elif all(c in _ALPHABET for c in ch):
            out.append(ch)
    return "".join(out)


def _key(name: str) -> str:
    """Compared form: transliterated, separators removed (so ``D'ARC``, ``D<ARC`` and ``DARC`` agree)."""
    return mrz_transliterate(name).replace("<", "")


def _same(mrz_key: str, expected: str, truncated: bool) -> bool:
    return mrz_key == expected or truncated and len(mrz_key) >= 2 and expected.startswith(mrz_key)


def names_match(mrz: Mrz, prenom: str, nom: str) -> bool:
    """Whether the zone's names are ``prenom`` and ``nom`` once transliterated; ``prenom`` may be the
    first given names only, and a name cut by a full zone field matches the start of the full name."""
    if not _same(_key(mrz.surname), _key(nom), mrz.names_truncated):
        return False
    expected = _key(prenom)
    given = [_key(g) for g in mrz.given_names]
    joined = ["".join(given[: k + 1]) for k in range(len(given))]
    if not given:
        return expected == ""
    return expected in joined or _same(joined[-1], expected, mrz.names_truncated)
