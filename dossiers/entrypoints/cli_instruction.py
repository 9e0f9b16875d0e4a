"""``conum decide``, ``conum a-traiter``, ``conum situation``: an instructeur's work from a terminal.

Exit codes: 0 done, 1 refused (unknown piece or copy, decision impossible or invalid), 2 bad usage,
3 the service failed. Each decision is written to the audit log (role ``cli``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from dossiers.domain.decisions import MOTIFS_REFUS
from dossiers.domain.formatting import montant
from dossiers.entrypoints._common import settings
from dossiers.entrypoints._console import Colonne, print_table, json_option
from dossiers.errors import ConumError, status_of
from dossiers.services.a_traiter import GENRES

__all__ = ["decide", "a_traiter", "situation"]

_verdict = click.argument("verdict", type=click.Choice(["accepte", "refuse"]), metavar="accepte|refuse")
_motif = click.option("--motif", type=click.Choice(list(MOTIFS_REFUS)),
                      help="Motif d'un refus : " + ", ".join(f"{k} ({v})" for k, v in MOTIFS_REFUS.items()) + ".")
_commentaire = click.option("--commentaire", help="Précision (obligatoire avec --motif autre).")
_par = click.option("--par", required=True, help="Nom de l'instructeur qui décide.")


def _decider(action: str, ressource: str, departement: Callable[[Any], str | None], decide: Callable[[Any], Any],
             detail: dict[str, Any], par: str) -> Any:
    """Run ``decide(app)`` and write its audit row whatever the outcome, as the API's (``services.acces.auditer``:
    role ``cli``, the name given with ``--par``, the status the API would answer: 200, the error's by the
    policy, 500 for anything else); the error goes on to ``conum``'s root, which exits by its kind."""
    from dossiers.bootstrap import App
    from dossiers.services.acces import Auteur, auditer

    with App(settings()) as app:
        where, statut = departement(app), 500
        try:
            done = decide(app)
            statut = 200
        except ConumError as exc:
            statut = status_of(exc)
            raise
        finally:
            auditer(app, Auteur(par), action, ressource=ressource, statut=statut, departement=where,
                    detail=detail, adresse=None, now=app.clock.now())
        return done


@click.group()
def decide() -> None:
    """Accepte ou refuse une pièce ou une copie signée à vérifier."""


@decide.command("piece")
@click.argument("dossier_id")
@click.argument("piece_id", type=click.IntRange(1))
@_verdict
@_motif
@_commentaire
@_par
@json_option
def decide_piece(dossier_id: str, piece_id: int, verdict: str, motif: str | None, commentaire: str | None, par: str,
                 as_json: bool) -> None:
    """Décide la pièce PIECE_ID (numéro donné par `conum dossier show`) du dossier DOSSIER_ID."""
    from dossiers.services.decisions import decider_piece

    view = _decider("piece.decider", f"cli:decide piece {dossier_id} {piece_id}",
                    lambda app: app.catalog.dossier_departement(dossier_id),
                    lambda app: decider_piece(dossier_id, piece_id, verdict, app, par=par, now=app.clock.now(),
                                              motif=motif, commentaire=commentaire),
                    {"piece": piece_id, "decision": verdict, "motif": motif}, par)
    if as_json:
        click.echo(json.dumps(view.to_dict(), ensure_ascii=False, default=str))
        return
    piece = next(p for p in view.pieces if p.id == piece_id)
    click.echo(f"Pièce n° {piece_id} du dossier {dossier_id} : {piece.decision.texte() if piece.decision else '—'}")
    click.echo(f"Dossier {dossier_id} : {view.statut}")


@decide.command("copie")
@click.argument("convention_id")
@click.argument("version", type=click.IntRange(1))
@click.argument("sha256")
@_verdict
@_motif
@_commentaire
@_par
@json_option
def decide_copie(convention_id: str, version: int, sha256: str, verdict: str, motif: str | None,
                 commentaire: str | None, par: str, as_json: bool) -> None:
    """Décide la copie signée SHA256 reçue pour la VERSION de CONVENTION_ID (acceptée : archivée sous verrou)."""
    from dossiers.services.decisions import decider_copie
    from workers.actors import announce_decision

    sha256 = sha256.strip().lower()
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise click.BadParameter("64 caractères hexadécimaux (l'empreinte SHA-256 de la copie).", param_hint="SHA256")

    def decide(app: Any) -> Any:
        record = decider_copie(convention_id, version, sha256, verdict, app, par=par, now=app.clock.now(), motif=motif,
                               commentaire=commentaire)
        announce_decision(app, record)
        return record

    record = _decider("copie_signee.decider", f"cli:decide copie {convention_id} {version} {sha256}",
                      lambda app: app.catalog.convention_departement(convention_id), decide,
                      {"version": version, "sha256": sha256, "decision": verdict, "motif": motif}, par)
    if as_json:
        click.echo(json.dumps(record.to_dict(), ensure_ascii=False))
        return
    click.echo(f"Copie signée {sha256} de {convention_id} v{version} : {record.decision.texte()}")
    if record.archived_at is not None:
        click.echo(f"  archivée sous {record.storage_key}, conservée jusqu'au {record.retain_until:%d/%m/%Y} ; "
                   f"certificat : {record.certificat_key}")
    else:
        click.echo("  retirée de la zone d'attente ; la trace (constats, décision) reste au catalogue")


@click.command("a-traiter")
@click.option("--departement", "departements", multiple=True, help="Département (répétable ; défaut : tous).")
@click.option("--genre", type=click.Choice(list(GENRES)),
              help="Un seul genre d'élément.")
@click.option("--page", type=click.IntRange(1), default=1, show_default=True)
@click.option("--par-page", type=click.IntRange(1, 200), default=50, show_default=True)
@json_option
def a_traiter(departements: tuple[str, ...], genre: str | None, page: int, par_page: int, as_json: bool) -> None:
    """Ce qui attend un instructeur : pièces et copies à vérifier, dossiers complets sans convention,
    conventions à relancer, réémissions en échec ; le plus ancien d'abord."""
    from dossiers.bootstrap import App
    from dossiers.services.a_traiter import a_traiter as work

    with App(settings()) as app:
        found = work(app, departements=tuple(d.strip().upper() for d in departements), jour=app.clock.today(),
                     genre=genre, page=page, par_page=par_page)
    if as_json:
        click.echo(json.dumps({"jour": found.jour.isoformat(), "total": found.total, "page": found.page,
                               "par_page": found.par_page, "compte": found.compte,
                               "items": [i.to_dict(found.jour) for i in found.items]}, ensure_ascii=False))
        return
    click.echo(" · ".join(f"{GENRES[g]} : {n}" for g, n in found.compte.items()))
    print_table([Colonne("Depuis"), Colonne("Attente (j)", droite=True), Colonne("Genre"), Colonne("Dép.", cle=True),
                 Colonne("Référence", cle=True), Colonne("Élément"), Colonne("Détail")],
                ([f"{i.depuis:%d/%m/%Y}", i.attente_jours(found.jour), GENRES[i.genre], i.departement, i.reference,
                  i.libelle, i.detail] for i in found.items),
                titre=f"À traiter au {found.jour:%d/%m/%Y} (page {found.page}/{found.pages}, "
                      f"{found.total} élément{'s' if found.total > 1 else ''})")


@click.command()
@click.argument("convention_id")
@json_option
def situation(convention_id: str, as_json: bool) -> None:
    """Situation financière d'une convention : dû, versé, reste à verser et à reverser, par année et par version."""
    from dossiers.bootstrap import App
    from dossiers.services.situation import situation as read

    with App(settings()) as app:
        found = read(convention_id, app)
    if as_json:
        click.echo(json.dumps(found.to_dict(), ensure_ascii=False))
        return
    f = found.figures
    print_table([Colonne("Année"), Colonne("Dû", cle=True, droite=True), Colonne("Versé", cle=True, droite=True),
                 Colonne("Reste à verser", cle=True, droite=True), Colonne("À reverser", cle=True, droite=True)],
                [*([f"{a.annee} ({a.debut:%d/%m/%Y} – {a.fin:%d/%m/%Y})", montant(a.du), montant(a.verse),
                    montant(a.reste_a_verser), montant(a.a_reverser)] for a in f.annees),
                 ["Total", montant(f.total_du), montant(f.total_verse), montant(f.total_reste_a_verser),
                  montant(f.total_a_reverser)]],
                titre=f"Situation financière de {convention_id} (version {found.version.numero})")
    click.echo("Versements :" if found.versements else "Aucun versement enregistré.")
    for v in found.versements:
        suffix = f" — au-delà du dû : {v.motif}" if v.motif else ""
        click.echo(f"  {v.paiement.date:%d/%m/%Y}  année {v.paiement.annee}  {montant(v.paiement.montant)}{suffix}")
    rows = []
    for v, fig in found.historique:
        dus = {a.annee: montant(a.du) for a in fig.annees}
        rows.append([f"v{v.numero} {v.document_type}", f"{v.created_at:%d/%m/%Y}",
                     *(dus.get(a.annee, "—") for a in f.annees), montant(fig.total_du)])
    print_table([Colonne("Version"), Colonne("Émise le"),
                 *(Colonne(f"Année {a.annee}", cle=True, droite=True) for a in f.annees),
                 Colonne("Total dû", cle=True, droite=True)], rows,
                titre="Historique par version (montants dus énoncés à l'émission)")
    for warning in found.avertissements:
        click.echo(f"Attention : {warning}")
