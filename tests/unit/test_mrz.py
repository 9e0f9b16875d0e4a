"""Machine-readable zones: ICAO 9303 specimens, French cards built here, validity and name checks."""

from __future__ import annotations

from datetime import date

import pytest

from dossiers.domain.mrz import (
    MrzCode,
    MrzFormat,
    MrzIllisible,
    expiry_for,
    mrz_transliterate,
    names_match,
    old_cni_expiry,
    parse_mrz,
)
from dossiers.errors import ConumError

TODAY = date(2024, 6, 1)

# ICAO Doc 9303 part 5 (TD1) and part 4 (TD3) specimens.
TD1_SPECIMEN = "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<"
TD3_SPECIMEN = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
# Old CNI specimen shown on Wikipedia "National identity card (France)".
CNI_SPECIMEN = "IDFRABERTHIER<<<<<<<<<<<<<<<<<<<<<<<\n8806923102858CORINNE<<<<<<<6512068F6"


def cd(value: str) -> str:
    """Check digit computed independently of the module under test."""
    values = {c: i for i, c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")} | {"<": 0}
    return str(sum(values[c] * (7, 3, 1)[i % 3] for i, c in enumerate(value)) % 10)


def pad(s: str, n: int) -> str:
    return s + "<" * (n - len(s))


def cnie(number="X4RTBPFW4", birth="900315", sex="M", expiry="310820", names="DUPONT<<JEAN<PIERRE") -> str:
    l1 = pad("IDFRA" + number + cd(number), 30)
    l2 = birth + cd(birth) + sex + expiry + cd(expiry) + "FRA" + "<" * 11
    l2 += cd(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29])
    return "\n".join([l1, l2, pad(names, 30)])


def passport(number="19FV12345", birth="850704", expiry="290103", names="LEFEVRE<<ELOISE") -> str:
    l1 = pad("P<FRA" + names, 44)
    personal = "<" * 14
    l2 = number + cd(number) + "FRA" + birth + cd(birth) + "F" + expiry + cd(expiry) + personal + cd(personal)
    l2 += cd(l2[0:10] + l2[13:20] + l2[21:43])
    return l1 + "\n" + l2


def old_cni(issue="1006", birth="750212", surname="DUPONT", given="JEAN<<PAUL", sex="M") -> str:
    l1 = pad("IDFRA" + surname, 30) + "075" + "123"
    number = issue + "075" + "12345"
    l2 = number + cd(number) + pad(given, 14) + birth + cd(birth) + sex
    return l1 + "\n" + l2 + cd(l1 + l2)


def corrupt(text: str, line: int, col: int) -> str:
    """Change one digit of the zone so that a check digit no longer matches."""
    lines = text.split("\n")
    c = lines[line][col]
    lines[line] = lines[line][:col] + str((int(c) + 1) % 10) + lines[line][col + 1 :]
    return "\n".join(lines)


def fields(mrz) -> list[str]:
    return [e.field for e in mrz.errors if e.code is MrzCode.CLE_INVALIDE]


def test_td1_specimen_reads_every_field():
    """The ICAO TD1 specimen reads as UTO card D23145890 of Anna Maria Eriksson, all digits valid."""
    m = parse_mrz(TD1_SPECIMEN, today=TODAY)
    assert m.format is MrzFormat.TD1 and m.errors == ()
    assert (m.document_type, m.issuing_country, m.document_number) == ("I", "UTO", "D23145890")
    assert (m.surname, m.given_names, m.nationality, m.sex) == ("ERIKSSON", ("ANNA", "MARIA"), "UTO", "F")
    assert (m.birth_date, m.expiry_date) == (date(1974, 8, 12), date(2012, 4, 15))


def test_td3_specimen_reads_every_field():
    """The ICAO TD3 specimen reads as UTO passport L898902C3, all digits valid including the personal number."""
    m = parse_mrz(TD3_SPECIMEN, today=TODAY)
    assert m.format is MrzFormat.TD3 and m.errors == ()
    assert (m.document_type, m.document_number, m.surname) == ("P", "L898902C3", "ERIKSSON")
    assert m.given_names == ("ANNA", "MARIA")
    assert (m.birth_date, m.expiry_date, m.sex) == (date(1974, 8, 12), date(2012, 4, 15), "F")


def test_old_cni_specimen_final_digit_covers_line_one_and_35_of_line_two():
    """The Wikipedia old CNI specimen verifies, so the final digit covers line 1 + 35 chars of line 2."""
    m = parse_mrz(CNI_SPECIMEN, today=TODAY)
    assert m.format is MrzFormat.CNI_FR_ANCIENNE and m.errors == ()
    assert (m.surname, m.given_names, m.birth_date) == ("BERTHIER", ("CORINNE",), date(1965, 12, 6))
    assert m.issue_year_month == (1988, 6)
    assert m.expiry_date is None and m.nationality is None


def test_french_cnie_td1_reads_and_uses_printed_expiry():
    """A CNIe (TD1, IDFRA) reads its fields and is valid until its MRZ expiry date."""
    m = parse_mrz(cnie(), today=TODAY)
    assert m.errors == () and m.document_type == "ID" and m.issuing_country == "FRA"
    assert (m.document_number, m.surname, m.given_names) == ("X4RTBPFW4", "DUPONT", ("JEAN", "PIERRE"))
    assert expiry_for(m) == date(2031, 8, 20)


def test_french_passport_uses_printed_expiry():
    """A French passport (TD3) is valid until its MRZ expiry date, in 20YY."""
    m = parse_mrz(passport(), today=TODAY)
    assert m.errors == () and expiry_for(m) == date(2029, 1, 3)


def test_old_cni_fields_and_issue_month():
    """An old CNI exposes its 12-char number, issue year+month, given names split on <<, and no expiry."""
    m = parse_mrz(old_cni(), today=TODAY)
    assert m.errors == ()
    assert (m.document_number, m.issue_year_month) == ("100607512345", (2010, 6))
    assert (m.surname, m.given_names, m.sex) == ("DUPONT", ("JEAN", "PAUL"), "M")


def test_whitespace_around_lines_and_blank_lines_are_tolerated():
    """Indentation, trailing spaces and blank lines around the zone's lines are ignored."""
    text = "\n\n  " + TD3_SPECIMEN.replace("\n", "  \n\n\t") + "\n  \n"
    assert parse_mrz(text, today=TODAY).errors == ()


@pytest.mark.parametrize(
    ("text", "line", "col", "expected"),
    [
        (TD1_SPECIMEN, 0, 14, ["document_number", "composite"]),
        (TD1_SPECIMEN, 1, 6, ["birth_date", "composite"]),
        (TD1_SPECIMEN, 1, 14, ["expiry_date", "composite"]),
        (TD1_SPECIMEN, 1, 29, ["composite"]),
        (TD3_SPECIMEN, 1, 9, ["document_number", "composite"]),
        (TD3_SPECIMEN, 1, 19, ["birth_date", "composite"]),
        (TD3_SPECIMEN, 1, 27, ["expiry_date", "composite"]),
        (TD3_SPECIMEN, 1, 42, ["optional_data", "composite"]),
        (TD3_SPECIMEN, 1, 43, ["composite"]),
        (CNI_SPECIMEN, 1, 12, ["document_number", "composite"]),
        (CNI_SPECIMEN, 1, 33, ["birth_date", "composite"]),
        (CNI_SPECIMEN, 1, 35, ["composite"]),
    ],
)
def test_each_wrong_check_digit_is_reported_with_its_field(text, line, col, expected):
    """A wrong check digit reports mrz_cle_invalide on its field (and on the composite digit that covers it)."""
    assert fields(parse_mrz(corrupt(text, line, col), today=TODAY)) == expected


def test_changed_data_fails_its_digit_and_the_composite():
    """Changing a birth-date digit fails both its own check digit and the composite one."""
    m = parse_mrz(corrupt(TD1_SPECIMEN, 1, 0), today=TODAY)
    assert fields(m) == ["birth_date", "composite"]
    assert all(e.message for e in m.errors)


def test_old_cni_number_change_fails_number_and_final_digit():
    """On an old CNI, a changed number digit fails its check digit and the final one."""
    assert fields(parse_mrz(corrupt(old_cni(), 1, 11), today=TODAY)) == ["document_number", "composite"]


def test_td1_long_document_number_continues_in_optional_data():
    """A TD1 number longer than 9 characters continues after a < in the optional data, check digit last."""
    number = "D23145890AB"
    l1 = pad("I<UTO" + number[:9] + "<" + number[9:] + cd(number), 30)
    l2 = "7408122F1204159UTO<<<<<<<<<<<"
    l2 += cd(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29])
    m = parse_mrz("\n".join([l1, l2, pad("ERIKSSON<<ANNA", 30)]), today=TODAY)
    assert m.errors == () and m.document_number == number


def test_invalid_date_is_reported():
    """A month 13 with a matching check digit is reported as mrz_date_invalide and left empty."""
    m = parse_mrz(cnie(birth="901315"), today=TODAY)
    assert m.birth_date is None
    assert [(e.code, e.field) for e in m.errors] == [(MrzCode.DATE_INVALIDE, "birth_date")]


def test_birth_year_pivots_to_the_past_and_expiry_to_20yy():
    """Birth year 30 is 1930 (not in the future), 24 before today is 2024, and expiry 95 is 2095."""
    assert parse_mrz(cnie(birth="300101"), today=TODAY).birth_date == date(1930, 1, 1)
    assert parse_mrz(cnie(birth="240531", expiry="950101"), today=TODAY).birth_date == date(2024, 5, 31)
    assert parse_mrz(cnie(birth="240602"), today=TODAY).birth_date == date(1924, 6, 2)
    assert parse_mrz(cnie(expiry="950101"), today=TODAY).expiry_date == date(2095, 1, 1)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", MrzCode.VIDE),
        ("  \n \n", MrzCode.VIDE),
        (TD3_SPECIMEN.lower(), MrzCode.CARACTERES_INVALIDES),
        (TD3_SPECIMEN.replace("ANNA<MARIA", "ANNA MARIA"), MrzCode.CARACTERES_INVALIDES),
        (TD3_SPECIMEN.replace("<<ANNA", "«ANNA"), MrzCode.CARACTERES_INVALIDES),
        (TD3_SPECIMEN[:-1], MrzCode.LONGUEUR_INVALIDE),
        (TD1_SPECIMEN + "<", MrzCode.LONGUEUR_INVALIDE),
        ("A" * 40 + "\n" + "A" * 40, MrzCode.LONGUEUR_INVALIDE),
        ("A" * 401, MrzCode.LONGUEUR_INVALIDE),
        ("I<UTO" + "<" * 31 + "\n" + "<" * 36, MrzCode.FORMAT_INCONNU),
        (TD3_SPECIMEN.split("\n")[0], MrzCode.FORMAT_INCONNU),
        (TD1_SPECIMEN + "\n" + "<" * 30, MrzCode.FORMAT_INCONNU),
    ],
)
def test_unreadable_zone_raises_with_its_code(text, code):
    """Empty text, bad characters, wrong lengths and unknown layouts raise MrzIllisible with a stable code."""
    with pytest.raises(MrzIllisible) as exc:
        parse_mrz(text, today=TODAY)
    assert exc.value.code is code
    assert isinstance(exc.value, ConumError) and exc.value.to_dict()["code"] == str(code)


def test_old_cni_issued_2010_to_adult_is_valid_15_years():
    """An old CNI issued June 2010 to an adult is valid 15 years from the first of the month."""
    assert expiry_for(parse_mrz(old_cni(issue="1006", birth="750212"), today=TODAY)) == date(2025, 6, 1)


def test_old_cni_issued_2010_to_minor_is_valid_10_years():
    """An old CNI issued June 2010 to a 10-year-old is valid 10 years."""
    assert expiry_for(parse_mrz(old_cni(issue="1006", birth="000212"), today=TODAY)) == date(2020, 6, 1)


def test_old_cni_issued_1998_is_valid_10_years():
    """An old CNI issued in 1998 (before 2004-01-02) to an adult is valid 10 years."""
    assert expiry_for(parse_mrz(old_cni(issue="9803", birth="700101"), today=TODAY)) == date(2008, 3, 1)


def test_explicit_birth_date_overrides_the_zone():
    """expiry_for decides adult/minor from the birth_date given rather than the zone's."""
    m = parse_mrz(old_cni(issue="1006", birth="750212"), today=TODAY)
    assert expiry_for(m, birth_date=date(2000, 1, 1)) == date(2020, 6, 1)


@pytest.mark.parametrize(
    ("issued", "years"),
    [
        (date(2004, 1, 1), 10),
        (date(2004, 1, 2), 15),
        (date(2013, 12, 31), 15),
        (date(2014, 1, 1), 10),
    ],
)
def test_fifteen_year_rule_boundaries(issued, years):
    """Adults' CNI get 15 years exactly for issue dates 2004-01-02 to 2013-12-31 inclusive."""
    assert old_cni_expiry(issued, birth_date=date(1970, 5, 5)) == issued.replace(year=issued.year + years)


def test_adulthood_is_judged_on_the_issue_day():
    """A holder turning 18 on the issue day is an adult (15 years); the day before, a minor (10 years)."""
    assert old_cni_expiry(date(2010, 3, 1), birth_date=date(1992, 3, 1)) == date(2025, 3, 1)
    assert old_cni_expiry(date(2010, 3, 1), birth_date=date(1992, 3, 2)) == date(2020, 3, 1)


def test_unknown_birth_date_gives_the_shorter_validity():
    """Without a birth date the holder counts as a minor: 10 years."""
    assert old_cni_expiry(date(2010, 3, 1), birth_date=None) == date(2020, 3, 1)


def test_transliteration_follows_icao():
    """Accents go, Œ/ß/Æ expand, hyphens and spaces become <, apostrophes vanish."""
    assert mrz_transliterate("Hélène-Zoë d'Œuvre") == "HELENE<ZOE<DOEUVRE"
    assert mrz_transliterate("Straße Ærø Ä") == "STRASSE<AEROE<A"


def test_names_with_accents_hyphens_and_apostrophes_match():
    """Accented, hyphenated and apostrophe names match their MRZ form, whatever the separator."""
    zone = passport(names="D<ARTAGNAN<LEFEVRE<<ELOISE<MARIE<NOEL")
    m = parse_mrz(zone, today=TODAY)
    assert names_match(m, "Éloïse", "d'Artagnan Lefèvre")
    assert names_match(m, "Éloïse-Marie", "D’Artagnan-Lefèvre")
    assert names_match(m, "éloïse marie noël", "DARTAGNAN LEFEVRE")


def test_different_names_do_not_match():
    """Another surname, another given name, or a given name not first in the zone does not match."""
    m = parse_mrz(TD3_SPECIMEN, today=TODAY)
    assert names_match(m, "Anna", "Eriksson")
    assert not names_match(m, "Anna", "Eriksen")
    assert not names_match(m, "Anne", "Eriksson")
    assert not names_match(m, "Maria", "Eriksson")
    assert not names_match(m, "Anna", "Eriksso")


def test_truncated_names_match_the_full_names():
    """Names cut by a full MRZ field match the start of the representative's full names."""
    long_given = parse_mrz(old_cni(given="MARIE<CHRISTIN", surname="DUPONT"), today=TODAY)
    assert long_given.names_truncated
    assert names_match(long_given, "Marie-Christine", "Dupont")
    long_surname = parse_mrz(old_cni(surname="DE<LA<ROCHEFOUCAULD<MONTB", given="JEAN"), today=TODAY)
    assert names_match(long_surname, "Jean", "de La Rochefoucauld-Montbazon")
    assert not names_match(long_surname, "Jean", "de La Rochefoucauld-Martin")


def test_old_cni_unreadable_issue_month_is_reported_and_expiry_unknown():
    """An old CNI whose number holds month 13 reports mrz_date_invalide on issue_date; expiry is unknown."""
    m = parse_mrz(old_cni(issue="1013"), today=TODAY)
    assert [(e.code, e.field) for e in m.errors] == [(MrzCode.DATE_INVALIDE, "issue_date")]
    assert m.issue_year_month is None and expiry_for(m) is None
