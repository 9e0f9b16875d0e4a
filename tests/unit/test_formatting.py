"""Amounts and dates print the way a French legal document writes them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from dossiers.domain.formatting import NBSP, date_longue, montant, montant_en_lettres, montant_json, siret_lisible


def test_amounts_use_grouped_thousands_a_decimal_comma_and_no_break_spaces():
    assert montant(Decimal("17500")) == f"17{NBSP}500,00{NBSP}€"
    assert montant(Decimal("127500.00")) == f"127{NBSP}500,00{NBSP}€"
    assert montant(Decimal("1234567.891")) == f"1{NBSP}234{NBSP}567,89{NBSP}€"
    assert montant(Decimal("0.5")) == f"0,50{NBSP}€"
    assert montant(Decimal("-2500")) == f"-2{NBSP}500,00{NBSP}€"


def test_machine_amounts_are_strings_with_two_decimals():
    assert montant_json(Decimal("52500")) == "52500.00"


def test_first_of_the_month_is_written_1er():
    assert date_longue(date(2024, 1, 1)) == "1er janvier 2024"
    assert date_longue(date(2025, 8, 15)) == "15 août 2025"
    assert date_longue(date(2026, 12, 31)) == "31 décembre 2026"


def test_amounts_in_words_follow_french_spelling():
    assert montant_en_lettres(Decimal("127500.00")) == "cent vingt-sept mille cinq cents euros"
    assert montant_en_lettres(Decimal("44000")) == "quarante-quatre mille euros"
    assert montant_en_lettres(Decimal("21333.33")) == "vingt et un mille trois cent trente-trois euros et trente-trois centimes"
    assert montant_en_lettres(Decimal("2000000")) == "deux millions d'euros"


def test_siret_is_grouped_as_insee_prints_it():
    assert siret_lisible("21330099900017") == f"213{NBSP}300{NBSP}999{NBSP}00017"
