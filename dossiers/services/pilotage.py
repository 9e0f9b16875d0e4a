"""``conum pilotage import``: a structure's *tableau de pilotage* (one row per contract) compared
with the catalog, and the poste events it implies recorded.

The file (CSV UTF-8 with ``;`` or ``,``, or XLSX) has a header row; column names are matched
without regard to case, accents, spaces or hyphens, in any order; other columns are ignored:
``structure_id``, ``siret``, ``poste``, ``conseiller_prenom``, ``conseiller_nom``, ``type_contrat``
(CDI, CDD, PEC, contrat_de_projet), ``date_debut``, ``date_fin`` (empty for a CDI) and, optional,
``date_rupture`` and ``motif_rupture``. Dates are AAAA-MM-JJ or JJ/MM/AAAA (in an XLSX, date cells too).

Each row is placed (the structure's current convention: vague 2, else vague 1; its SIRET; the
poste) and compared with the poste's timeline as of ``as_of``:

- no occupation starting on ``date_debut`` → a ``recrutement``;
- an occupation starting then whose planned end is earlier than the row's ``date_fin`` (or the
  row says CDI) → a ``prolongation``;
- a ``date_rupture`` while the occupation has no declared end → a ``fin_contrat`` (motif
  ``autre`` when none is given).

Request ids are built from the content (``pilotage:<poste>:<date_debut>:<type>…``), so importing
the same file again records nothing. Each row's events are checked (``verifier``) against the
timeline with the events accepted before it (rows of a poste in order of ``date_debut``, then of
the file); a row with any error records nothing and is reported with its line number; the others
go on. The accepted events are recorded with source ``pilotage``, one transaction per convention.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import unicodedata
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from dossiers.domain.postes import NouvelEvenement
from dossiers.domain.demande import format_character
from dossiers.domain.etat import EtatConvention, StatutConvention
from dossiers.domain.evenements import parse_evenement
from dossiers.domain.formatting import date_longue
from dossiers.domain.model import TypeContrat, convention_en_vigueur
from dossiers.domain.postes import (
    Evenement,
    EvenementPoste,
    MotifFin,
    Occupation,
    Source,
    chronologie,
    verifier,
)
from dossiers.errors import ChangementRefuse, ConumError, ErrorCode
from dossiers.ports import AppPorts
from dossiers.services.generation import canonical_json, demande_digest

__all__ = ["COLONNES", "COLONNES_OBLIGATOIRES", "MAX_BYTES", "MAX_ROWS", "FichierRefuse", "Ligne", "Erreur",
           "Import", "lire_tableau", "importer"]

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000
MAX_XLSX_UNCOMPRESSED = 500 * 1024 * 1024
COLONNES_OBLIGATOIRES = ("structure_id", "siret", "poste", "conseiller_prenom", "conseiller_nom", "type_contrat",
                         "date_debut", "date_fin")
COLONNES = (*COLONNES_OBLIGATOIRES, "date_rupture", "motif_rupture")
_MOTIFS = tuple(m.value for m in MotifFin if m is not MotifFin.TRANSFERT)
_TYPES = {t.value.lower(): t for t in TypeContrat}


class FichierRefuse(ConumError):
    """The file as a whole cannot be read (type, size, header)."""

    code = ErrorCode.PILOTAGE_INVALIDE


# -- reading the file ----------------------------------------------------------------------------


def _key(name: Any) -> str:
    """A column name or a keyword, folded: no accents, lower case, spaces and hyphens as ``_``."""
    text = unicodedata.normalize("NFKD", str(name or "")).encode("ascii", "ignore").decode("ascii")
    return "_".join(text.strip().lower().replace("-", " ").replace("'", " ").split())


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _sniff(raw: bytes, name: str) -> str:
    if raw.startswith(b"PK\x03\x04"):
        return "xlsx"
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise FichierRefuse(f"{name} : classeur Excel 97-2003 (.xls) non pris en charge ; enregistrez-le au format "
                            ".xlsx ou .csv (UTF-8).")
    if b"\x00" in raw[:65536]:
        raise FichierRefuse(f"{name} : ce n'est ni un fichier CSV (texte UTF-8) ni un classeur XLSX.")
    return "csv"


def _csv_rows(raw: bytes, name: str) -> Iterator[tuple[int, list[Any]]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FichierRefuse(f"{name} : ce n'est ni un fichier CSV en UTF-8 ni un classeur XLSX (octet invalide à la "
                            f"position {exc.start}) ; enregistrez-le en « CSV UTF-8 ».") from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        start = 1
        for values in reader:
            yield start, values
            start = reader.line_num + 1
    except csv.Error as exc:
        raise FichierRefuse(f"{name} : CSV illisible ligne {reader.line_num} ({exc}).") from None


def _xlsx_rows(raw: bytes, name: str) -> Iterator[tuple[int, list[Any]]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        names = set(archive.namelist())
        total = sum(i.file_size for i in archive.infolist())
    except zipfile.BadZipFile:
        raise FichierRefuse(f"{name} : archive ZIP illisible, ce n'est pas un classeur XLSX.") from None
    if "xl/workbook.xml" not in names:
        raise FichierRefuse(f"{name} : archive ZIP qui n'est pas un classeur XLSX (un document .docx, .ods… ?) ; "
                            "enregistrez le tableau au format .xlsx ou .csv (UTF-8).")
    if total > MAX_XLSX_UNCOMPRESSED:
        raise FichierRefuse(f"{name} : classeur trop volumineux une fois décompressé ({total // 1_000_000} Mo, "
                            f"maximum {MAX_XLSX_UNCOMPRESSED // 1_000_000} Mo).")
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged workbook
        raise FichierRefuse(f"{name} : classeur XLSX illisible ({type(exc).__name__} : {exc}).") from None
    try:
        sheet = book.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(values)
    finally:
        book.close()


@dataclass(frozen=True)
class Ligne:
    """A data row as read (values stripped; None when empty)."""

    numero: int
    valeurs: dict[str, Any]

    @property
    def structure_id(self) -> str:
        return str(self.valeurs.get("structure_id") or "")

    @property
    def poste(self) -> str:
        return str(self.valeurs.get("poste") or "")


def lire_tableau(path: Path) -> tuple[str, list[Ligne]]:
    """Read the file: (``csv`` | ``xlsx``, its data rows). Raises ``FichierRefuse``."""
    name = path.name
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise FichierRefuse(f"{name} : fichier trop volumineux ({size // 1_000_000} Mo, maximum "
                                f"{MAX_BYTES // 1_000_000} Mo) ; découpez-le.")
        raw = path.read_bytes()
    except OSError as exc:
        raise FichierRefuse(f"impossible de lire {name} : {exc.strerror}") from None
    if len(raw) > MAX_BYTES:
        raise FichierRefuse(f"{name} : fichier trop volumineux (maximum {MAX_BYTES // 1_000_000} Mo).")
    if not raw.strip():
        raise FichierRefuse(f"{name} : fichier vide.")
    kind = _sniff(raw, name)
    rows = _xlsx_rows(raw, name) if kind == "xlsx" else _csv_rows(raw, name)
    header: list[str] | None = None
    lignes: list[Ligne] = []
    for number, values in rows:
        values = [_cell(v) for v in values]
        if not any(v is not None for v in values):
            continue
        if header is None:
            header = [_key(v) for v in values]
            missing = [c for c in COLONNES_OBLIGATOIRES if c not in header]
            if missing:
                raise FichierRefuse(
                    f"{name} : ligne d'en-tête {number} incomplète, colonne(s) manquante(s) : {', '.join(missing)} "
                    f"(colonnes attendues : {', '.join(COLONNES)}).")
            doubles = sorted({c for c in header if c in COLONNES and header.count(c) > 1})
            if doubles:
                raise FichierRefuse(f"{name} : colonne(s) en double dans l'en-tête : {', '.join(doubles)}.")
            continue
        if len(lignes) >= MAX_ROWS:
            raise FichierRefuse(f"{name} : plus de {MAX_ROWS} lignes ; découpez le fichier.")
        lignes.append(Ligne(number, {c: values[i] for i, c in enumerate(header)
                                     if c in COLONNES and i < len(values) and values[i] is not None}))
    if header is None:
        raise FichierRefuse(f"{name} : aucune ligne d'en-tête (colonnes attendues : {', '.join(COLONNES)}).")
    return kind, lignes


# -- a row's values --------------------------------------------------------------------------------


class _Refus(Exception):
    pass


def _date(valeurs: dict[str, Any], column: str) -> date | None:
    value = valeurs.get(column)
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        from openpyxl.utils.datetime import from_excel

        try:
            converted = from_excel(value)
        except (ValueError, OverflowError):
            converted = None
        if not isinstance(converted, datetime):  # a fraction of a day is a time of day, not a date
            raise _Refus(f"{column} : date invalide « {value} »")
        return converted.date()
    text = str(value).strip()
    try:
        if "/" in text:
            jour, mois, annee = text.split("/")
            if len(annee) != 4:
                raise ValueError
            return date(int(annee), int(mois), int(jour))
        return date.fromisoformat(text[:10] if len(text) > 10 and text[10] in "T " else text)
    except ValueError:
        raise _Refus(f"{column} : date invalide « {text} » (attendu AAAA-MM-JJ ou JJ/MM/AAAA)") from None


def _text(valeurs: dict[str, Any], column: str) -> str:
    value = valeurs.get(column)
    if value is None:
        raise _Refus(f"{column} : valeur manquante")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    invisible = format_character(text)
    if invisible is not None:
        raise _Refus(f"{column} : caractère de mise en forme invisible interdit (U+{ord(invisible):04X}) dans "
                     f"« {text.encode('ascii', 'backslashreplace').decode()} »")
    return text


def _siret(valeurs: dict[str, Any]) -> str:
    value = _text(valeurs, "siret").replace(" ", "").replace("\u00a0", "")
    if value.isdigit() and len(value) < 14:
        value = value.zfill(14)  # a spreadsheet's number cell drops leading zeros
    return value


@dataclass(frozen=True)
class Contrat:
    structure_id: str
    siret: str
    poste: str
    prenom: str
    nom: str
    type_contrat: TypeContrat
    date_debut: date
    date_fin: date | None
    date_rupture: date | None
    motif: MotifFin | None


def _contrat(ligne: Ligne, as_of: date) -> Contrat:
    v = ligne.valeurs
    erreurs: list[str] = []

    def get(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except _Refus as exc:
            erreurs.append(str(exc))
            return None

    structure_id, poste = get(_text, v, "structure_id"), get(_text, v, "poste")
    siret = get(_siret, v)
    prenom, nom = get(_text, v, "conseiller_prenom"), get(_text, v, "conseiller_nom")
    kind = get(_text, v, "type_contrat")
    type_contrat = None
    if kind is not None:
        type_contrat = _TYPES.get(_key(kind).lower())
        if type_contrat is None:
            erreurs.append(f"type_contrat : « {kind} » inconnu (valeurs admises : {', '.join(t.value for t in TypeContrat)})")
    debut, fin = get(_date, v, "date_debut"), get(_date, v, "date_fin")
    rupture = get(_date, v, "date_rupture")
    motif = None
    if v.get("motif_rupture") is not None:
        motif_text = _key(v["motif_rupture"])
        if motif_text not in _MOTIFS:
            erreurs.append(f"motif_rupture : « {v['motif_rupture']} » inconnu (valeurs admises : {', '.join(_MOTIFS)})")
        else:
            motif = MotifFin(motif_text)
        if v.get("date_rupture") is None:
            erreurs.append("motif_rupture sans date_rupture")
    if debut is None and "date_debut" not in v:
        erreurs.append("date_debut : valeur manquante")
    if type_contrat is TypeContrat.CDI and fin is not None:
        erreurs.append("dates contradictoires : un CDI n'a pas de date_fin")
    if type_contrat not in (None, TypeContrat.CDI) and fin is None and "date_fin" not in v:
        erreurs.append(f"dates contradictoires : date_fin obligatoire pour un contrat {type_contrat.value}")
    if debut is not None and fin is not None and fin < debut:
        erreurs.append(f"dates contradictoires : date_fin ({fin.isoformat()}) antérieure à date_debut "
                       f"({debut.isoformat()})")
    if debut is not None and rupture is not None and rupture < debut:
        erreurs.append(f"dates contradictoires : date_rupture ({rupture.isoformat()}) antérieure à date_debut "
                       f"({debut.isoformat()})")
    if fin is not None and rupture is not None and rupture > fin:
        erreurs.append(f"dates contradictoires : date_rupture ({rupture.isoformat()}) postérieure à date_fin "
                       f"({fin.isoformat()})")
    if debut is not None and debut > as_of:
        erreurs.append(f"date_debut ({debut.isoformat()}) postérieure à la date d'appréciation ({as_of.isoformat()})")
    if rupture is not None and rupture > as_of:
        erreurs.append(f"date_rupture ({rupture.isoformat()}) postérieure à la date d'appréciation "
                       f"({as_of.isoformat()})")
    if erreurs or type_contrat is None:  # a type_contrat missing or unknown appended its error above
        raise _Refus(" ; ".join(erreurs))
    return Contrat(structure_id, siret, poste, prenom, nom, type_contrat, debut, fin, rupture, motif)


# -- the import ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Erreur:
    ligne: int
    structure_id: str
    poste: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"ligne": self.ligne, "structure_id": self.structure_id, "poste": self.poste, "message": self.message}


@dataclass(frozen=True)
class APoser:
    """An event a row implies, as it will be recorded."""

    ligne: int
    convention_id: str
    departement: str
    evenement: Evenement  # resolved by verifier (a prolongation names the contract it extends)
    requete: dict[str, Any]
    sha256: str


@dataclass
class Import:
    fichier: str
    format: str
    as_of: date
    dry_run: bool
    lignes: int = 0
    enregistres: int = 0
    deja_presents: int = 0
    evenements: list[APoser] = field(default_factory=list)
    erreurs: list[Erreur] = field(default_factory=list)

    @property
    def par_type(self) -> dict[str, int]:
        return dict(sorted(Counter(str(e.evenement.type) for e in self.evenements).items()))

    @property
    def par_departement(self) -> dict[str, dict[str, int]]:
        found: dict[str, Counter[str]] = defaultdict(Counter)
        for e in self.evenements:
            found[e.departement][str(e.evenement.type)] += 1
        return {dep: dict(sorted(c.items())) for dep, c in sorted(found.items())}

    def to_json(self) -> dict[str, Any]:
        return {
            "fichier": self.fichier, "format": self.format, "as_of": self.as_of.isoformat(), "dry_run": self.dry_run,
            "lignes": self.lignes, "enregistres": self.enregistres, "a_enregistrer": len(self.evenements),
            "deja_presents": self.deja_presents, "evenements": self.par_type, "par_departement": self.par_departement,
            "erreurs": [e.to_json() for e in sorted(self.erreurs, key=lambda e: e.ligne)],
        }


def _rid(c: Contrat, kind: str, suffix: str = "") -> str:
    return f"pilotage:{c.poste}:{c.date_debut.isoformat()}:{kind}{suffix}"


def _same_person(a: str | None, b: str) -> bool:
    return a is None or _key(a) == _key(b)


def _payloads(c: Contrat, timeline_occupations: tuple[Occupation, ...]) -> list[dict[str, Any]]:
    """The events (as a portal would send them) that bring the poste's timeline up to the row."""
    occupation = next((o for o in timeline_occupations if o.debut == c.date_debut), None)
    out: list[dict[str, Any]] = []
    declared_end = None
    if occupation is None:
        contrat: dict[str, Any] = {"type": c.type_contrat.value, "date_debut": c.date_debut.isoformat()}
        if c.date_fin is not None:
            contrat["date_fin"] = c.date_fin.isoformat()
        out.append({"request_id": _rid(c, "recrutement"), "type": "recrutement", "poste": c.poste,
                    "conseiller": {"prenom": c.prenom, "nom": c.nom}, "contrat": contrat})
    else:
        who = f"{c.prenom} {c.nom}"
        if not _same_person(occupation.conseiller, who):
            raise _Refus(f"le contrat du {date_longue(c.date_debut)} est enregistré pour {occupation.conseiller} "
                         f"(fichier : {who})")
        if occupation.fin is not None and occupation.source_fin is not Source.CONTRAT:
            declared_end = occupation.fin
        if occupation.fin_prevue is None:
            # (a contract that is not a CDI always has its date_fin: ``_contrat``)
            if c.type_contrat is not TypeContrat.CDI and c.date_fin is not None and declared_end is None:
                raise _Refus(f"le contrat du {date_longue(c.date_debut)} est enregistré en CDI (fichier : "
                             f"{c.type_contrat.value} jusqu'au {date_longue(c.date_fin)}) ; un CDI ne se raccourcit "
                             "pas : déclarez une date_rupture")
        elif c.date_fin is not None and c.date_fin < occupation.fin_prevue and declared_end is None \
                and c.date_rupture is None:
            raise _Refus(f"date_fin ({date_longue(c.date_fin)}) antérieure à la fin prévue enregistrée "
                         f"({date_longue(occupation.fin_prevue)}) : une fin anticipée se déclare par date_rupture")
        elif declared_end is None and (c.date_fin is None or c.date_fin > occupation.fin_prevue):
            suffix = f":{c.date_fin.isoformat()}" if c.date_fin else ":cdi"
            payload: dict[str, Any] = {"request_id": _rid(c, "prolongation", suffix), "type": "prolongation",
                                       "poste": c.poste}
            payload |= {"date_fin": c.date_fin.isoformat()} if c.date_fin else {"cdi": True}
            out.append(payload)
    if c.date_rupture is not None:
        if declared_end is not None:
            if declared_end != c.date_rupture:
                raise _Refus(f"fin de contrat déjà déclarée le {date_longue(declared_end)} (fichier : "
                             f"{date_longue(c.date_rupture)})")
        else:
            out.append({"request_id": _rid(c, "fin_contrat"), "type": "fin_contrat", "poste": c.poste,
                        "date": c.date_rupture.isoformat(), "motif": (c.motif or MotifFin.AUTRE).value})
    return out


@dataclass
class _Convention:
    convention_id: str
    departement: str
    etat: EtatConvention | None
    lu: tuple[EvenementPoste, ...] = ()  # the events as read
    request_ids: dict[str, EvenementPoste] = field(default_factory=dict)
    nouveaux: list[APoser] = field(default_factory=list)


def _placer(c: Contrat, conventions: dict[str, _Convention], structures: dict[str, tuple[str, str]],
            periodes: dict[str, list[tuple[str, date]]], app: AppPorts) -> _Convention:
    known = structures.get(c.structure_id)
    # the convention in force when the contract starts (a renewal from its first day)
    cid = convention_en_vigueur([p for p in periodes.get(c.structure_id, []) if p[0] in conventions], c.date_debut)
    conv = conventions[cid] if cid is not None else None
    if known is None or conv is None:
        raise _Refus(f"structure « {c.structure_id} » inconnue" + ("" if known is None else " (aucune convention)"))
    if known[0] != c.siret:
        raise _Refus(f"SIRET différent : {c.siret} dans le fichier, {known[0]} pour la structure {c.structure_id}")
    if conv.etat is None:  # a v1 from before états were stored: recomputed from its demande
        from dossiers.services.avenants import etat_courant

        conv.etat = etat_courant(conv.convention_id, app).etat
        conv.lu = conv.etat.evenements
        conv.request_ids = {e.evenement.request_id: e for e in conv.lu}
    etat = conv.etat
    if etat.statut is not StatutConvention.ACTIVE:
        raise _Refus(f"la convention {conv.convention_id} est close (statut {etat.statut.value})")
    if not any(p.id == c.poste for p in etat.postes):
        raise _Refus(f"poste « {c.poste} » inconnu de la convention {conv.convention_id} "
                     f"(postes : {', '.join(p.id for p in etat.postes)})")
    return conv


def _evaluer(c: Contrat, conv: _Convention, ligne: int, as_of: date) -> list[APoser] | None:
    """The row's events, checked in order against the convention with those accepted so far;
    None when the row is already reflected. Raises ``_Refus``; changes nothing then."""
    etat = conv.etat
    assert etat is not None
    poste = next(p for p in etat.postes if p.id == c.poste)
    try:
        timeline = chronologie(poste, etat.evenements, as_of)
    except ChangementRefuse as exc:
        raise _Refus(f"la chronologie enregistrée du poste est incohérente ({exc.message})") from None
    payloads = _payloads(c, timeline.occupations)
    if not payloads:
        return None
    events = list(etat.evenements)
    seq = max((e.seq for e in events), default=0)
    out: list[APoser] = []
    for payload in payloads:
        canonical = canonical_json(payload)
        digest = demande_digest(canonical)
        done = conv.request_ids.get(payload["request_id"])
        if done is not None:
            if done.sha256 == digest:
                continue
            raise _Refus(f"l'événement {payload['request_id']} a déjà été enregistré avec un autre contenu")
        try:
            evenement = parse_evenement(canonical)
            resolved, _ = verifier(dataclasses.replace(etat, evenements=tuple(events)), evenement,
                                   source=Source.PILOTAGE)
        except ChangementRefuse as exc:
            details = getattr(exc, "errors", None)
            message = "; ".join(str(e) for e in details) if details else exc.message
            raise _Refus(f"{payload['type']} refusé : {message}") from None
        seq += 1
        events.append(EvenementPoste(seq=seq, evenement=resolved, source=Source.PILOTAGE, sha256=digest,
                                     version=etat.version))
        out.append(APoser(ligne, conv.convention_id, conv.departement, resolved, canonical, digest))
    if not out:
        return None
    conv.etat = dataclasses.replace(etat, evenements=tuple(events))
    for recorded in events[len(etat.evenements):]:  # a later row cannot send them again
        conv.request_ids[recorded.evenement.request_id] = recorded
    return out


def importer(path: Path, app: AppPorts, *, as_of: date, dry_run: bool = False) -> Import:
    """Read the file, compare it with the catalog as of ``as_of`` and record (unless ``dry_run``)
    the events it implies. Raises ``FichierRefuse`` when the file cannot be read at all."""
    kind, lignes = lire_tableau(path)
    result = Import(fichier=str(path), format=kind, as_of=as_of, dry_run=dry_run, lignes=len(lignes))
    structures = app.catalog.structures_siret()
    periodes = app.catalog.conventions_par_structure()
    conventions: dict[str, _Convention] = {}
    for cid, departement, _nature, _numero, _modele, etat in app.catalog.current_states():
        conv = _Convention(cid, departement, etat)
        if etat is not None:
            conv.lu = etat.evenements
            conv.request_ids = {e.evenement.request_id: e for e in etat.evenements}
        conventions[cid] = conv

    contrats: list[tuple[Ligne, Contrat, _Convention]] = []
    for ligne in lignes:
        try:
            c = _contrat(ligne, as_of)
            contrats.append((ligne, c, _placer(c, conventions, structures, periodes, app)))
        except _Refus as exc:
            result.erreurs.append(Erreur(ligne.numero, ligne.structure_id, ligne.poste, str(exc)))
    # within a poste, contracts in order of their start (then of the file)
    contrats.sort(key=lambda t: (t[2].convention_id, t[1].poste, t[1].date_debut, t[0].numero))
    for ligne, c, conv in contrats:
        try:
            found = _evaluer(c, conv, ligne.numero, as_of)
        except _Refus as exc:
            result.erreurs.append(Erreur(ligne.numero, c.structure_id, c.poste, str(exc)))
            continue
        if found is None:
            result.deja_presents += 1
        else:
            conv.nouveaux.extend(found)
    for conv in conventions.values():
        result.evenements.extend(conv.nouveaux)
    if not dry_run:
        for conv in conventions.values():
            if conv.nouveaux:
                result.enregistres += _enregistrer(conv, app, result)
    return result


def _enregistrer(conv: _Convention, app: AppPorts, result: Import) -> int:
    """Record a convention's accepted events in one transaction. When its events changed since they
    were read, every new one is checked again against them; a refusal drops the convention's rows."""
    etat = conv.etat
    assert etat is not None
    read = tuple(e.seq for e in conv.lu)

    def check(existing: tuple[EvenementPoste, ...]) -> None:
        if tuple(e.seq for e in existing) == read:
            return
        events = list(existing)
        for a in conv.nouveaux:
            resolved, _ = verifier(dataclasses.replace(etat, evenements=tuple(events)), a.evenement,
                                   source=Source.PILOTAGE)
            events.append(EvenementPoste(seq=max((e.seq for e in events), default=0) + 1, evenement=resolved,
                                         source=Source.PILOTAGE))

    nouveaux = [NouvelEvenement(conv.convention_id, a.evenement, a.requete, a.sha256, Source.PILOTAGE, etat.version)
                for a in conv.nouveaux]
    try:
        app.catalog.record_evenements(conv.convention_id, nouveaux, check)
    except ChangementRefuse as exc:
        rows = sorted({a.ligne for a in conv.nouveaux})
        poste_of = {a.ligne: a.evenement.poste for a in conv.nouveaux}
        structure_id = conv.convention_id.split("-", 2)[-1]
        for ligne in rows:
            result.erreurs.append(Erreur(ligne, structure_id, poste_of[ligne],
                                         f"événements modifiés pendant l'import, rien n'est enregistré pour la "
                                         f"convention {conv.convention_id} : {exc.message} ; relancez l'import"))
        result.evenements = [a for a in result.evenements if a.convention_id != conv.convention_id]
        return 0
    return len(nouveaux)
