"""``conum paiement``, ``conum amend``, ``conum history``: a convention's life after its first version.

Exit codes: 0 done, 1 refused (change invalid, without effect, on a superseded version, unknown
convention, bad payment), 2 bad usage, 3 the service failed.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click

from dossiers.domain.etat import Figures
from dossiers.domain.formatting import montant, montant_json
from dossiers.domain.model import ConventionVersion
from dossiers.entrypoints._console import Colonne, print_table, json_option
from dossiers.entrypoints._common import JOUR, read_demande, settings
from dossiers.errors import ErrorCode

__all__ = ["paiement", "amend", "history", "restitutions"]



def entry(version: ConventionVersion, fig: Figures, paths: dict[str, str] | None = None) -> dict[str, Any]:
    """One version as scripts read it (amend and history)."""
    docs = paths or {d.kind: d.key for d in version.documents}
    return {
        "convention_id": version.convention_id, "version": version.numero, "motif": version.motif,
        "document": version.document_type, "regles": version.regles, "request_id": version.request_id,
        "date": version.created_at.isoformat(), "docx": docs.get("docx"), "pdf": docs.get("pdf"),
        "annees": [{"annee": a.annee, "du_eur": montant_json(a.du), "verse_eur": montant_json(a.verse),
                    "a_reverser_eur": montant_json(a.a_reverser), "reste_a_verser_eur": montant_json(a.reste_a_verser)}
                   for a in fig.annees],
        "total_du_eur": montant_json(fig.total_du), "total_verse_eur": montant_json(fig.total_verse),
        "total_a_reverser_eur": montant_json(fig.total_a_reverser),
        "total_reste_a_verser_eur": montant_json(fig.total_reste_a_verser),
    }


def _print_figures(fig: Figures, title: str) -> None:
    cols = [Colonne("Année (début)", cle=True), *(Colonne(c, droite=True) for c in ("Dû", "Versé", "Reste à verser",
                                                                               "À reverser"))]
    rows = [(f"{a.annee} ({a.debut:%d/%m/%Y})", montant(a.du), montant(a.verse), montant(a.reste_a_verser),
             montant(a.a_reverser)) for a in fig.annees]
    rows.append(("Total", montant(fig.total_du), montant(fig.total_verse), montant(fig.total_reste_a_verser),
                 montant(fig.total_a_reverser)))
    print_table(cols, rows, titre=title or None)


@click.command()
@click.argument("convention_id")
@click.option("--annee", type=click.IntRange(1, 10), required=True, help="Année de convention payée (1, 2, 3…).")
@click.option("--date", "when", type=JOUR, required=True, help="Date du versement.")
@click.option("--montant", "amount", required=True, help="Montant versé en euros (ex. 52500.00).")
@click.option("--force", is_flag=True, help="Enregistrer un versement au-delà du dû de l'année (avec --motif).")
@click.option("--motif", help="Pourquoi un versement au-delà du dû est enregistré (avec --force).")
@json_option
def paiement(convention_id: str, annee: int, when: date, amount: str, force: bool, motif: str | None,
             as_json: bool) -> None:
    """Enregistre un versement de la CDC pour une année de la convention (refusé au-delà du dû, sauf --force)."""
    from dossiers.bootstrap import App
    from dossiers.services.avenants import record_payment

    try:
        value = Decimal(amount.replace(",", ".").replace("\u00a0", "").replace(" ", ""))
    except InvalidOperation:
        raise click.BadParameter(f"montant illisible : {amount!r}", param_hint="--montant") from None
    with App(settings()) as app:
        recorded, created = record_payment(convention_id, annee=annee, jour=when, montant=value, app=app,
                                           force=force, motif=motif)
    if as_json:
        click.echo(json.dumps({"convention_id": convention_id, "annee": annee, "date": recorded.date.isoformat(),
                               "montant_eur": montant_json(recorded.montant), "nouveau": created}))
    else:
        state = "enregistré" if created else "déjà enregistré (inchangé)"
        click.echo(f"Versement de {montant(recorded.montant)} pour l'année {annee} de {convention_id} {state}")


@click.command()
@click.argument("convention_id")
@click.argument("change", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--out", "out", type=click.Path(path_type=Path, file_okay=False), default=Path("."),
              show_default=True, help="Dossier où copier le DOCX et le PDF.")
@json_option
def amend(convention_id: str, change: Path, out: Path, as_json: bool) -> None:
    """Applique une modification (MODIFICATION.json) : avenant, renouvellement ou résiliation."""
    from dossiers.bootstrap import App
    from dossiers.services.avenants import amend as apply_change
    from dossiers.services.avenants import version_figures
    from dossiers.services.generation import export_documents

    payload = read_demande(change, code=ErrorCode.CHANGEMENT_INVALIDE)
    with App(settings()) as app:
        now, today = app.clock.read()
        amended = apply_change(convention_id, payload, app, today=today, now=now)
        fig = version_figures(amended.version.convention_id, amended.version, app)
        paths = {k: str(p) for k, p in export_documents(app.storage, amended.version, out).items()}
    result = entry(amended.version, fig, paths) | {"nouvelle": amended.created}
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    state = "émise" if amended.created else "déjà émise pour cette demande (inchangée)"
    issued_id = amended.version.convention_id
    if issued_id != convention_id:  # a renouvellement: a new convention, version 1
        click.echo(f"Nouvelle convention {issued_id} (renouvellement de {convention_id}) {state} : "
                   f"{amended.version.motif}")
    else:
        click.echo(f"{convention_id} version {amended.version.numero} {state} : "
                   f"{amended.version.motif}")
    _print_figures(fig, "Échéancier")
    click.echo(f"  DOCX : {result['docx']}\n  PDF  : {result['pdf']}")


@click.command()
@click.argument("convention_id")
@json_option
def history(convention_id: str, as_json: bool) -> None:
    """Liste les versions d'une convention : motif, règles, montants et documents."""
    from dossiers.bootstrap import App
    from dossiers.services.avenants import history as read_history
    from dossiers.services.avenants import liens as read_liens

    with App(settings()) as app:
        versions = read_history(convention_id, app)
        evenements = app.catalog.list_evenements(convention_id)
        chaine = read_liens(convention_id, app)
    events = [_event_entry(e) for e in evenements]
    if as_json:
        click.echo(json.dumps({"convention_id": convention_id, "versions": [entry(v, f) for v, f in versions],
                               "evenements": events, **_liens_json(chaine)}, ensure_ascii=False))
        return
    if chaine.renouvelle and chaine.periode_precedente and chaine.solde_precedent:
        debut, fin = chaine.periode_precedente
        sens, amount = chaine.solde_precedent
        solde = {"reverser": f"{montant(amount)} à reverser par la structure",
                 "verser": f"{montant(amount)} restant à verser par la CDC", "nul": "nul"}[sens]
        click.echo(f"Renouvelle la convention {chaine.renouvelle} (du {debut:%d/%m/%Y} au {fin:%d/%m/%Y}) ; "
                      f"solde de cette période, réglé au titre de celle-ci et hors des montants ci-dessous : {solde}")
    if chaine.renouvelee_par:
        click.echo(f"Renouvelée par la convention {chaine.renouvelee_par}")
    for version, fig in versions:
        click.echo(f"Version {version.numero} du {version.created_at:%d/%m/%Y} — {version.motif} "
                      f"(règles {version.regles})")
        _print_figures(fig, "")
        for doc in version.documents:
            click.echo(f"  {doc.kind.upper()} : {doc.key} (SHA-256 {doc.sha256})")
    if events:
        print_table([Colonne("Date", cle=True), Colonne("Poste", cle=True), "Événement", "Détail", "Source",
                     Colonne("Demande", cle=True)],
                    [(f"{datetime.fromisoformat(e['date']):%d/%m/%Y}", e["poste"], e["type"], e["detail"], e["source"],
                      e["request_id"]) for e in events], titre="Événements des postes (sans document)")


def _liens_json(chaine: Any) -> dict[str, Any]:
    """``renouvelle`` (with the closed period and its balance today) and ``renouvelee_par``."""
    renouvelle = None
    if chaine.renouvelle:
        renouvelle = {"convention_id": chaine.renouvelle}
        if chaine.periode_precedente and chaine.solde_precedent:
            sens, amount = chaine.solde_precedent
            renouvelle |= {"date_debut": chaine.periode_precedente[0].isoformat(),
                           "date_fin": chaine.periode_precedente[1].isoformat(),
                           "solde": {"sens": sens, "montant_eur": montant_json(amount)}}
    return {"renouvelle": renouvelle, "renouvelee_par": chaine.renouvelee_par}


def _event_entry(recorded: Any) -> dict[str, Any]:
    """A recorded poste event as ``conum history`` shows it."""
    from dossiers.domain.evenements import evenement_to_json

    data = evenement_to_json(recorded.evenement)
    return {"seq": recorded.seq, "request_id": recorded.evenement.request_id, "type": data["type"],
            "poste": data["poste"], "date": recorded.jour.isoformat(), "detail": _detail(data),
            "source": str(recorded.source), "version": recorded.version,
            "enregistre_le": recorded.recorded_at.isoformat() if recorded.recorded_at else None, "evenement": data}


def _detail(data: dict[str, Any]) -> str:
    """One line on an event (its catalog JSON), for the history table."""
    match data["type"]:
        case "recrutement":
            fin = f" au {data['date_fin']}" if data["date_fin"] else ""
            return f"{data['conseiller']} ({data['type_contrat']} du {data['date_debut']}{fin})"
        case "fin_contrat":
            return f"fin le {data['date']} ({data['motif']})"
        case "prolongation":
            return f"jusqu'au {data['date_fin']}" if data["date_fin"] else "passage en CDI"
        case "absence":
            au = f" au {data['au']}" if data["au"] else ""
            return f"{data['motif']} du {data['du']}{au}" + ("" if data["justifiee"] else " (non justifiée)")
        case _:  # transfert
            derogation = f" (dérogation {data['derogation']})" if data["derogation"] else ""
            return f"vers {data['vers_structure'] or 'une nouvelle structure'} après le {data['date']}{derogation}"


@click.command()
@click.argument("convention_id")
@click.option("--date", "when", type=JOUR, default=None, help="Date d'examen (défaut : aujourd'hui).")
@click.option("--regles", "regles_id", default="regles-2025-05", show_default=True, help="Règles de gestion appliquées.")
@click.option("--apply", "apply", is_flag=True, help="Émet l'avenant de restitution (sinon : liste seulement).")
@click.option("--out", "out", type=click.Path(path_type=Path, file_okay=False), default=Path("."),
              show_default=True, help="Dossier où copier le DOCX et le PDF de l'avenant.")
@json_option
def restitutions(convention_id: str, when: date | None, regles_id: str, apply: bool, out: Path,
                 as_json: bool) -> None:
    """Postes vacants depuis plus de 6 mois à rendre (règles de mai 2025), et l'avenant qui les rend."""
    from dossiers.bootstrap import App
    from dossiers.services.avenants import restitutions as find, version_figures
    from dossiers.services.generation import export_documents

    amended, fig, paths = None, None, {}
    with App(settings()) as app:
        now, today = app.clock.read()
        jour = when if when else today
        change, amended = find(convention_id, app, jour=jour, regles_id=regles_id, apply=apply,
                               today=today, now=now)
        avertissements = app.rules.gestion(regles_id).avertissements
        if amended is not None:
            fig = version_figures(convention_id, amended.version, app)
            paths = {k: str(p) for k, p in export_documents(app.storage, amended.version, out).items()}
    postes = [{"id": p.id, "date_fin_contrat": p.date_fin_contrat.isoformat()} for p in (change.postes if change else ())]
    if as_json:
        result: dict[str, Any] = {"convention_id": convention_id, "date": jour.isoformat(), "regles": regles_id,
                                  "postes_a_rendre": postes, "avertissements": list(avertissements)}
        if amended is not None and fig is not None:
            result["avenant"] = entry(amended.version, fig, paths) | {"nouvelle": amended.created}
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    for note in avertissements:
        click.echo(f"attention : {note}", err=True)
    if not postes:
        click.echo(f"{convention_id} : aucun poste à rendre au {jour:%d/%m/%Y} ({regles_id})")
        return
    for p in postes:
        click.echo(f"{convention_id} : poste {p['id']} à rendre (fin de financement au {p['date_fin_contrat']})")
    if amended is not None:
        click.echo(f"Avenant émis : version {amended.version.numero} — {amended.version.motif} ; PDF : {paths.get('pdf')}")
