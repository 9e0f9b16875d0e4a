"""``conum archive``, ``conum verify``, ``conum purge``: signed copies under retention, and the
deletion of personal data once it is no longer needed.

``archive`` exits 0 when the copy is archived, 1 when it waits for a human (à vérifier) or is refused;
``accepter`` archives a copy à vérifier once an instructeur has read it.
``verify`` exits 0 when the file is known (archived, issued, or in the ledger), 1 otherwise or when its
ledger proof is broken.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from dossiers.entrypoints._console import json_option
from dossiers.entrypoints._common import EXIT_REFUSED, settings

__all__ = ["archive", "accepter", "verify", "purge", "lien"]

_file = click.Path(path_type=Path, dir_okay=False, exists=True, readable=True)
MAX_SIGNED_BYTES = 50_000_000
WORDS = {"archive": "archivée", "a_verifier": "à vérifier, en attente d'acceptation (non archivée)",
         "refuse": "refusée"}


def _read(path: Path) -> bytes:
    if path.stat().st_size > MAX_SIGNED_BYTES:
        raise click.BadParameter(f"fichier de plus de {MAX_SIGNED_BYTES // 1_000_000} Mo", param_hint="FICHIER")
    return path.read_bytes()


@click.command()
@click.argument("signed", type=_file)
@click.option("--convention", "convention_id", required=True, help="Identifiant de la convention.")
@click.option("--version", "version", type=click.IntRange(1, 999), default=None,
              help="Version signée (défaut : la version en vigueur).")
@click.option("--out", "out", type=click.Path(path_type=Path, dir_okay=False),
              help="Enregistre le certificat d'archivage (PDF) dans ce fichier.")
@json_option
def archive(signed: Path, convention_id: str, version: int | None, out: Path | None, as_json: bool) -> None:
    """Contrôle la copie signée COPIE_SIGNEE et l'archive sous verrou avec son certificat."""
    from dossiers.bootstrap import App
    from dossiers.services.archive import archive_signed_copy

    data = _read(signed)
    with App(settings()) as app:
        record = archive_signed_copy(data, convention_id, app, version=version, filename=signed.name,
                                     now=app.clock.now())
        if out is not None and record.certificat_key:
            out.write_bytes(app.archive.get(record.certificat_key, sha256=record.certificat_sha256))
    saved = str(out.resolve()) if out is not None and record.certificat_key else None
    if as_json:
        click.echo(json.dumps(record.to_dict() | ({"certificat_fichier": saved} if out is not None else {}),
                              ensure_ascii=False))
    else:
        click.echo(f"Copie signée de {convention_id} v{record.version} : {WORDS[record.statut]}")
        if saved:
            click.echo(f"  certificat d'archivage enregistré : {saved}")
        for f in record.findings:
            click.echo(f"  {f.severity} {f.message} ({f.code})")
        for line in _signature_lines(record.fields.get("signatures") or []):
            click.echo(f"  {line}")
        if record.storage_key:
            click.echo(f"  archive : {record.storage_key} (version {record.version_id or '—'}), conservée jusqu'au "
                       f"{record.retain_until:%d/%m/%Y} ; certificat : {record.certificat_key}")
    if record.statut == "a_verifier" and not as_json:
        click.echo(f"  copie n° {record.id} : après lecture, l'accepter avec conum accepter {record.id} --par NOM")
    if record.statut != "archive":
        sys.exit(EXIT_REFUSED)


def _signature_lines(signatures: list[dict]) -> list[str]:
    """One line per signature: who, issued by whom, when, and what its validation found."""
    lines = []
    for s in signatures:
        who = s.get("signataire") or "signataire inconnu"
        if s.get("organisation"):
            who += f" ({s['organisation']})"
        when = s.get("horodatage") or s.get("date")
        state = ("non vérifiée" if "integre" not in s else "INVALIDE" if not s.get("integre")
                 else "intègre, autorité reconnue" if s.get("approuvee") else "intègre, autorité non reconnue")
        lines.append(f"signature « {s.get('champ')} »{' (cachet)' if s.get('certification') else ''} : {who}"
                     + (f", certificat de {s['emetteur']}" if s.get("emetteur") else "")
                     + (f", {'horodatée' if s.get('horodatage') else 'datée'} du {when[:16].replace('T', ' ')}"
                        if when else "") + f" — {state}")
    return lines


@click.command()
@click.argument("archive_id", type=click.IntRange(1))
@click.option("--par", required=True, help="Nom de l'instructeur qui a lu la copie et l'accepte.")
@json_option
def accepter(archive_id: int, par: str, as_json: bool) -> None:
    """Accepte une copie signée à vérifier (lue par un instructeur) : elle est alors archivée sous verrou."""
    from dossiers.bootstrap import App
    from dossiers.services.archive import accepter_copie

    with App(settings()) as app:
        record = accepter_copie(archive_id, app, par=par, now=app.clock.now())
        from workers.actors import announce_decision

        announce_decision(app, record)
    if as_json:
        click.echo(json.dumps(record.to_dict(), ensure_ascii=False))
        return
    click.echo(f"Copie signée n° {record.id} de {record.convention_id} v{record.version} acceptée par "
               f"{record.fields['acceptation']['par']} : archivée sous {record.storage_key}, conservée jusqu'au "
               f"{record.retain_until:%d/%m/%Y} ; certificat : {record.certificat_key}")


@click.command()
@click.argument("file", type=_file)
@json_option
def verify(file: Path, as_json: bool) -> None:
    """Calcule l'empreinte de FICHIER et dit s'il est archivé (et où) ou émis par conum, et son entrée au
    registre avec sa preuve (chaîne jusqu'à l'horodatage le plus proche)."""
    from dossiers.bootstrap import App
    from dossiers.entrypoints.cli_registre import proof_lines
    from dossiers.services.archive import verify_file
    from dossiers.services.registre import preuves

    with App(settings()) as app:
        found = verify_file(_read(file), app)
        proofs = preuves(app, found.sha256)
    archived = [r for r in found.archives if r.storage_key]
    result: dict[str, Any] = {
        "sha256": found.sha256, "archive": bool(archived),
        "archives": [r.to_dict() for r in found.archives],
        "documents": [{"convention_id": c, "version": v, "kind": k, "key": key} for c, v, k, key in found.emis],
        "certificat_de": [r.to_dict() for r in found.certificats],
        "registre": [p.to_dict() for p in proofs],
    }
    known = bool(found.archives or found.emis or found.certificats or proofs)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    else:
        click.echo(f"SHA-256 {found.sha256}")
        for r in archived:
            click.echo(f"  copie signée archivée de {r.convention_id} v{r.version} : {r.storage_key} "
                       f"(version {r.version_id or '—'}, conservée jusqu'au {r.retain_until:%d/%m/%Y})")
        for r in found.archives:
            if not r.storage_key:
                click.echo(f"  copie reçue pour {r.convention_id} v{r.version} mais {WORDS[r.statut]}")
        for c, v, k, key in found.emis:
            click.echo(f"  document émis : {k.upper()} de {c} v{v} ({key})")
        for r in found.certificats:
            click.echo(f"  certificat d'archivage émis par conum pour la copie signée de {r.convention_id} v{r.version} "
                       f"({r.certificat_key}) ; copie : SHA-256 {r.sha256}, {r.storage_key}, conservée jusqu'au "
                       f"{r.retain_until:%d/%m/%Y}")
        for line in proof_lines(proofs):
            click.echo(line)
        if not known:
            click.echo("  inconnu : ni archivé ni émis par conum")
    if not known or any(p.rupture is not None for p in proofs):
        sys.exit(EXIT_REFUSED)


@click.command()
@click.option("--dry-run", is_flag=True, help="Liste sans rien supprimer.")
@json_option
def purge(dry_run: bool, as_json: bool) -> None:
    """Supprime les pièces d'identité des dossiers archivés depuis plus de IDENTITE_RETENTION_DAYS jours."""
    from dossiers.bootstrap import App
    from dossiers.services.archive import purge_identite

    with App(settings()) as app:
        due = purge_identite(app, now=app.clock.now(), dry_run=dry_run)
    if as_json:
        click.echo(json.dumps({"supprimees": [] if dry_run else [p for p, _, _ in due],
                               "a_supprimer": [{"piece_id": p, "dossier_id": d} for p, d, _ in due]}))
        return
    verb = "à supprimer" if dry_run else "supprimée(s)"
    click.echo(f"{len(due)} pièce(s) d'identité {verb}")


@click.command()
@click.argument("convention_id")
@click.option("--version", "version", type=click.IntRange(1, 999), default=None, help="Version (défaut : en vigueur).")
@click.option("--kind", type=click.Choice(["pdf", "docx"]), default="pdf", show_default=True)
@json_option
def lien(convention_id: str, version: int | None, kind: str, as_json: bool) -> None:
    """Lien de téléchargement d'un document émis (URL présignée de courte durée sur S3)."""
    from dossiers.bootstrap import App
    from dossiers.services.archive import document_link

    with App(settings()) as app:
        key, url = document_link(app, convention_id, version=version, kind=kind)
        ttl = app.settings.presigned_url_ttl
    if as_json:
        click.echo(json.dumps({"convention_id": convention_id, "key": key, "url": url,
                               "expires_in": ttl if url else None}))
    else:
        click.echo(url or f"stockage local, pas d'URL présignée : {key}")
