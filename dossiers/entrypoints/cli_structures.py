"""``conum structure corriger``: an admin's audited correction of a structure's facts."""

from __future__ import annotations

import json

import click

from dossiers.entrypoints._console import json_option
from dossiers.entrypoints._common import settings

__all__ = ["structure"]

_OPTIONS = (("siret", "SIRET (14 chiffres)."), ("denomination", "Dénomination."),
            ("nature", "publique ou privee."), ("categorie-juridique", "Catégorie juridique (4 chiffres)."),
            ("adresse", "Adresse."), ("civilite", "Civilité du représentant (M. ou Mme)."),
            ("prenom", "Prénom du représentant."), ("nom", "Nom du représentant."),
            ("qualite", "Qualité du représentant."))
_CHAMPS = {"siret": "siret", "denomination": "denomination", "nature": "nature",
           "categorie_juridique": "categorie_juridique", "adresse": "adresse", "civilite": "representant.civilite",
           "prenom": "representant.prenom", "nom": "representant.nom", "qualite": "representant.qualite"}


@click.group()
def structure() -> None:
    """Structures : leurs données sont figées dès qu'une convention est émise."""


def _corriger(structure_id: str, par: str, motif: str, as_json: bool, **valeurs: str | None) -> None:
    """Corrige les données de la structure STRUCTURE_ID (identifiant du catalogue), avec une entrée du
    journal d'audit (qui, pourquoi, avant, après). Les documents émis ne changent pas : la prochaine
    version lit les données corrigées."""
    from dossiers.bootstrap import App
    from dossiers.services.acces import Auteur
    from dossiers.services.structures import corriger_structure

    changements = {_CHAMPS[k]: v for k, v in valeurs.items() if v is not None}
    with App(settings()) as app:
        done = corriger_structure(app, structure_id, changements, qui=Auteur(par), motif=motif,
                                  ressource=f"cli:structure corriger {structure_id}", now=app.clock.now())
    if as_json:
        click.echo(json.dumps(done.to_dict(), ensure_ascii=False))
    else:
        avant, apres = done.to_dict()["avant"], done.to_dict()["apres"]
        for champ in done.champs:
            click.echo(f"{champ} : {avant[champ]} → {apres[champ]}")
        click.echo(f"structure {structure_id} corrigée par {par} (journal d'audit : structure.corriger)")


_command = _corriger
for _name, _help in reversed(_OPTIONS):
    _command = click.option(f"--{_name}", default=None, help=_help)(_command)
_command = json_option(_command)
_command = click.option("--motif", required=True, help="Pourquoi (ex. « SIRET erroné, avis Sirene du 02/12 »).")(_command)
_command = click.option("--par", required=True, help="Qui fait la correction (nom de l'administrateur).")(_command)
_command = click.argument("structure_id")(_command)
structure.command("corriger")(_command)
