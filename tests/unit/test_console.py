"""The shared console layer of the commands (``dossiers/entrypoints/_console.py``) and the batch
progress wording: what a person reads, checked in process."""

from __future__ import annotations

import click
from click.testing import CliRunner

from dossiers.entrypoints._console import CLICK_FR, JOUR, Colonne, anciens_noms, franciser, lisible, print_table
from dossiers.entrypoints.cli_reemission import _temps, debit, duree


@anciens_noms(rules="--regles")
@click.command()
@click.option("--regles", required=True)
@click.option("--date", "jour", type=JOUR)
@click.option("--role", type=click.Choice(["portail", "admin"]))
def commande(regles: str, jour, role) -> None:
    click.echo(f"{regles} {jour}")


franciser(commande)


def test_click_usage_errors_and_help_are_french():
    runner = CliRunner()
    missing = runner.invoke(commande, [])
    assert missing.exit_code == 2
    assert "Erreur : Option manquante '--regles'." in missing.output and "Utilisation :" in missing.output
    assert "Essayez « commande --help » pour l'aide." in missing.output
    choice = runner.invoke(commande, ["--regles", "x", "--role", "chef"])
    assert "'chef' n'est pas l'une des valeurs 'portail', 'admin'." in choice.output
    date = runner.invoke(commande, ["--regles", "x", "--date", "15/01/2025"])
    assert "« 15/01/2025 » n'est pas une date AAAA-MM-JJ" in date.output
    help_text = runner.invoke(commande, ["--help"]).output
    assert "Affiche cette aide et quitte." in help_text and "[obligatoire]" in help_text
    assert "--regles TEXTE" in help_text and "--rules" not in help_text


def test_an_old_option_name_still_works_and_says_its_new_name():
    done = CliRunner().invoke(commande, ["--rules=vague-1", "--date", "2025-01-15"])
    assert done.exit_code == 0 and "vague-1 2025-01-15" in done.output
    assert "--rules est remplacée par --regles" in done.output


def test_every_translation_keeps_its_placeholders():
    import re

    for english, french in CLICK_FR.items():
        assert set(re.findall(r"\{[^}]*\}", english)) == set(re.findall(r"\{[^}]*\}", french)), english


def test_a_piped_table_is_tsv_with_every_value_whole(capsys):
    long_id = "tok_" + "a" * 60
    print_table([Colonne("id", cle=True), "nom", Colonne("montant", droite=True)],
                [(long_id, "Préfecture\tde la Gironde", "1 234 567,89 €")])
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["id\tnom\tmontant", f"{long_id}\tPréfecture de la Gironde\t1 234 567,89 €"]


def test_values_read_as_a_person_writes_them():
    assert lisible(True) == "oui" and lisible(False) == "non" and lisible(None) == "—"
    assert lisible(["P-1", "P-2"]) == "P-1, P-2" and lisible([]) == "—"


def test_durations_rates_and_the_end_of_a_batch_read_well():
    assert [duree(s) for s in (0.4, 12, 125, 3725)] == ["0 s", "12 s", "2 min 05 s", "1 h 02 min"]
    assert debit(2.44) == "2,4/s" and debit(0.2) == "12/min" and debit(0) == "—"
    assert _temps(52.0, 130, 0, finished=True) == "terminé en 52 s · 2,5/s"
    assert _temps(3.0, 0, 40, finished=False) == "écoulé 3 s · débit en cours de mesure"
    assert _temps(10.0, 20, 40, finished=False) == "écoulé 10 s · 2,0/s · reste environ 20 s"


def test_seed_refuses_a_catalog_holding_conventions_it_did_not_make():
    from types import SimpleNamespace

    import pytest

    from dossiers.entrypoints.cli_reemission import _refuse_real_catalog
    from dossiers.errors import ConumError

    class Catalogue:
        def __init__(self, *structures: str) -> None:
            self.structures = structures

        def conventions_par_structure(self) -> dict[str, list]:
            return {s: [] for s in self.structures}

    def app(*structures: str) -> SimpleNamespace:
        return SimpleNamespace(catalog=Catalogue(*structures),
                               settings=SimpleNamespace(effective_database_url="postgresql://u:mdp@base/conum"))

    _refuse_real_catalog(app("STR-S1-000001", "STR-S16-000150"))  # seeded only: fine
    with pytest.raises(ConumError) as refused:
        _refuse_real_catalog(app("STR-S1-000001", "STR-000123"))
    assert refused.value.code == "catalogue_reel" and "STR-000123" in refused.value.message
    assert "mdp" not in refused.value.message and "--force" in refused.value.message
