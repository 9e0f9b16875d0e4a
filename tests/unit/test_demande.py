"""A portal's demande is refused field by field, in French, before anything is generated."""

from __future__ import annotations

import pytest

from dossiers.domain.demande import avertissements_demande, parse_demande, validate_demande
from dossiers.domain.model import Lieu, Nature, TypeContrat
from dossiers.errors import DemandeInvalide
from dossiers.services.generation import demande_digest
from tests.factories import demande


def refusal(payload) -> dict[str, str]:
    with pytest.raises(DemandeInvalide) as err:
        parse_demande(payload)
    return {e.field: e.message for e in err.value.errors}


def test_the_design_example_is_accepted_as_domain_objects():
    d = parse_demande(demande())
    assert d.structure.nature is Nature.PUBLIQUE
    assert d.postes[0].contrat.type is TypeContrat.CDD
    assert d.structure.siren == "213300999"


def test_unknown_field_is_refused_and_named():
    payload = demande()
    payload["structure"]["couleur"] = "bleu"
    assert refusal(payload) == {"structure.couleur": "champ inconnu (refusé)"}


def test_siret_with_a_wrong_check_digit_is_refused():
    errors = refusal(demande(structure__siret="21330099900018"))
    assert errors == {"structure.siret": "le SIRET « 21330099900018 » est invalide (clé de contrôle incorrecte)"}


def test_la_poste_siret_follows_its_own_rule():
    # La Poste's establishments fail Luhn but their digit sum is a multiple of 5.
    assert parse_demande(demande(structure__siret="35600000000048")).structure.siret == "35600000000048"


@pytest.mark.parametrize("count", [0, -2])
def test_zero_or_negative_nombre_postes_is_refused(count):
    errors = refusal(demande(convention={"vague": 2, "date_debut": "2024-01-01", "nombre_postes": count}))
    assert errors == {"convention.nombre_postes": f"doit être strictement supérieur à 0 (reçu : {count})"}


def test_more_postes_than_nombre_postes_is_refused():
    errors = refusal(demande(convention={"vague": 2, "date_debut": "2024-01-01", "nombre_postes": 2}))
    assert errors == {"postes": "3 postes décrits pour 2 poste(s) demandé(s) (convention.nombre_postes)"}


def test_cdd_without_date_fin_is_refused_on_that_field():
    payload = demande()
    del payload["postes"][0]["contrat"]["date_fin"]
    assert refusal(payload) == {"postes[0].contrat.date_fin": "date_fin est obligatoire pour un contrat CDD"}


def test_cdi_needs_no_date_fin():
    assert parse_demande(demande()).postes[1].contrat.date_fin is None


def test_unknown_vague_and_nature_list_the_accepted_values():
    errors = refusal(demande(structure__nature="mixte", convention={"vague": 3, "date_debut": "2024-01-01", "nombre_postes": 3}))
    assert errors["structure.nature"] == "valeur inconnue « mixte » (valeurs admises : 'publique', 'privee')"
    assert errors["convention.vague"] == "valeur inconnue « 3 » (valeurs admises : 1, 2)"


def test_every_problem_is_reported_at_once():
    payload = demande(structure__siret="123", structure__departement="99")
    del payload["convention"]["date_debut"]
    errors = refusal(payload)
    assert set(errors) == {"structure.siret", "structure.departement", "convention.date_debut"}
    assert errors["convention.date_debut"] == "champ obligatoire manquant"


def test_bad_dates_and_types_are_explained():
    payload = demande()
    payload["convention"]["date_debut"] = "01/01/2024"
    payload["postes"][0]["contrat"]["date_fin"] = "2023-01-01"
    errors = refusal(payload)
    assert errors["convention.date_debut"] == "doit être une date AAAA-MM-JJ"
    assert errors["postes[0].contrat.date_fin"] == "date_fin est antérieure à date_debut"


def test_control_characters_are_refused_but_line_breaks_kept():
    assert "\n" in parse_demande(demande(structure__adresse="Mairie\n1 place")).structure.adresse
    assert refusal(demande(structure__denomination="A\x07B")) == {
        "structure.denomination": "contient un caractère de contrôle interdit"
    }


def test_duplicate_poste_ids_and_inconsistent_postes_are_refused():
    payload = demande()
    payload["postes"][1]["id"] = "P-1"
    assert refusal(payload) == {"postes": "l'identifiant de poste « P-1 » apparaît deux fois"}
    payload = demande()
    del payload["postes"][0]["conseiller"]
    assert refusal(payload) == {"postes[0].conseiller": "un poste occupé doit indiquer son conseiller"}
    payload = demande()
    payload["postes"][2]["contrat"] = {"type": "CDI", "date_debut": "2024-01-01"}
    assert refusal(payload) == {"postes[2].contrat": "un poste vacant ne peut pas avoir de contrat"}


def test_contrat_de_projet_is_for_public_structures_only():
    payload = demande(structure__nature="privee", structure__categorie_juridique="9220")
    payload["postes"][0]["contrat"]["type"] = "contrat_de_projet"
    assert refusal(payload) == {
        "postes[0].contrat.type": "le contrat de projet est réservé aux structures publiques"
    }
    payload["structure"]["nature"] = "publique"
    assert parse_demande(payload).postes[0].contrat.type is TypeContrat.CONTRAT_DE_PROJET


def test_booleans_are_not_counts():
    errors = refusal(demande(convention={"vague": True, "date_debut": "2024-01-01", "nombre_postes": True}))
    assert set(errors) == {"convention.vague", "convention.nombre_postes"}


def test_a_payload_that_is_not_an_object_is_refused():
    with pytest.raises(DemandeInvalide) as err:
        parse_demande(["not", "a", "demande"])
    assert err.value.errors[0].message == "la demande doit être un objet JSON"


def test_a_poste_lieu_is_read_with_its_commune_code_normalised():
    payload = demande()
    payload["postes"][0]["lieu"] = {"commune": " 2a004 ", "zrr": True}
    payload["postes"][1]["lieu"] = {"commune": "59512", "qpv": True}
    d = parse_demande(payload)
    assert d.postes[0].lieu == Lieu("2A004", qpv=False, zrr=True)
    assert d.postes[1].lieu.zone_prioritaire and d.postes[2].lieu is None
    assert avertissements_demande(d) == []


@pytest.mark.parametrize("code", ["5951", "595120", "2C004", "ABCDE"])
def test_a_commune_code_that_is_not_insee_is_refused_on_that_field(code):
    payload = demande()
    payload["postes"][1]["lieu"] = {"commune": code, "qpv": True}
    errors = refusal(payload)
    assert list(errors) == ["postes[1].lieu.commune"]
    assert "code INSEE à 5 caractères" in errors["postes[1].lieu.commune"]


def test_the_structure_flag_and_per_poste_lieux_together_are_refused():
    payload = demande(structure__zone_prioritaire=True)
    payload["postes"][0]["lieu"] = {"commune": "59512", "qpv": True}
    errors = refusal(payload)
    assert list(errors) == ["structure.zone_prioritaire"]
    assert "obsolète" in errors["structure.zone_prioritaire"]


def test_the_structure_flag_is_accepted_with_a_deprecation_warning_in_french():
    d = parse_demande(demande(structure__zone_prioritaire=True))
    assert [w.split(" : ")[0] for w in avertissements_demande(d)] == ["structure.zone_prioritaire est obsolète"]
    assert avertissements_demande(parse_demande(demande())) == []


def test_a_demande_without_lieux_keeps_its_canonical_form_and_digest():
    # demandes issued before postes[].lieu existed must hash the same (generating them again is a no-op)
    canonical = validate_demande(demande()).model_dump(mode="json")
    assert all("lieu" not in p for p in canonical["postes"])
    # the digest the test factory's demande had before the field was added
    assert demande_digest(canonical) == "33146eb87b963b5e85d7a7d3bf02c62efa09d72c6b97c2a1b911680425e62239"
    with_lieu = demande()
    with_lieu["postes"][0]["lieu"] = {"commune": "59512", "qpv": True}
    assert validate_demande(with_lieu).model_dump(mode="json")["postes"][0]["lieu"] == {
        "commune": "59512", "qpv": True, "zrr": False}
