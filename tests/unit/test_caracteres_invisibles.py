"""Issue 17, item 8: bidi controls and other invisible format characters (Unicode category Cf) are refused in
every name field, with a clear error; a zero-width joiner inside an emoji sequence stays allowed."""

from __future__ import annotations

import pytest

from dossiers.domain.demande import format_character, parse_demande
from dossiers.errors import DemandeInvalide
from tests.factories import demande


@pytest.mark.parametrize("char", ["\u202e", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069", "\u200b", "\u200e",
                                  "\u200f", "\u00ad", "\ufeff", "\u2060"])
def test_every_format_character_is_found(char: str) -> None:
    assert format_character(f"Association{char} Numérique") == char


def test_a_zero_width_joiner_in_an_emoji_sequence_and_accents_are_allowed() -> None:
    assert format_character("Les codeuses 👩\u200d💻 de Lécluse – Œuvre") is None
    assert format_character("Jean\u200dPierre") == "\u200d"  # between letters it hides nothing useful


@pytest.mark.parametrize("path, value, field", [
    (("structure", "denomination"), "Commune de \u202eellivelpmexE", "structure.denomination"),
    (("structure", "representant", "nom"), "Exemple\u2067", "structure.representant.nom"),
    (("postes", 0, "conseiller", "prenom"), "In\u200bès", "postes[0].conseiller.prenom"),
])
def test_a_demande_with_a_bidi_control_in_a_name_is_refused_with_the_field(path: tuple, value: str,
                                                                           field: str) -> None:
    payload = demande()
    target = payload
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(DemandeInvalide) as refused:
        parse_demande(payload)
    [error] = [e for e in refused.value.errors if "invisible" in e.message]
    assert error.field == field
    assert "U+" in error.message and "mise en forme invisible" in error.message
