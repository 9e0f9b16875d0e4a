"""The pure mapping from DS champs to a demande (``dossiers.domain.ds_mapping``) and the write-back texts."""

from __future__ import annotations

import tomllib

import pytest

from dossiers.domain.demande import validate_demande
from dossiers.domain.ds_ecriture import annotation_controle, message_pieces
from dossiers.domain.ds_mapping import load_correspondance, map_dossier
from dossiers.domain.pieces import PieceKind
from dossiers.errors import CorrespondanceInvalide
from tests.fixtures.ds_server import MAPPING, FakeDs, champs_exemple

EXEMPLE = tomllib.loads(MAPPING.read_text(encoding="utf-8"))


def dossier(champs: list[dict], number: int = 7) -> dict:
    return {"id": "RG9zc2llci03", "number": number, "dateDerniereModification": "2026-01-05T09:00:00Z",
            "champs": champs}


def fake() -> FakeDs:
    from datetime import UTC, datetime

    return FakeDs(token="t", now=datetime(2026, 1, 1, tzinfo=UTC))


def test_the_example_mapping_gives_a_valid_demande_with_postes_and_their_contracts() -> None:
    """Labels, translations of choices, typed values (date, checkbox, integer) and repetition rows as postes."""
    ds = fake()
    contrat = ds.fichier("contrat.pdf", b"%PDF-1.7 contrat")
    postes = [{"id": "P-1", "etat": "Occupé", "prenom": "Inès", "nom": "Témoin", "type": "CDD", "debut": "2024-01-01",
               "fin": "2025-06-30", "contrat": [contrat]},
              {"id": "P-2", "etat": "Vacant", "vacant_depuis": "2024-03-01"}]
    rib = ds.fichier("rib.pdf", b"%PDF-1.7 rib")
    mapped = map_dossier(dossier(champs_exemple(7, postes=postes, fichiers={"rib": [rib]})),
                         load_correspondance(EXEMPLE))
    demande = validate_demande(mapped.demande).model_dump(mode="json")
    assert demande["structure"]["nature"] == "publique" and demande["structure"]["representant"]["civilite"] == "Mme"
    assert demande["convention"] == {"vague": 2, "date_debut": "2024-01-01", "nombre_postes": 2}
    assert demande["postes"][0]["contrat"] == {"type": "CDD", "date_debut": "2024-01-01", "date_fin": "2025-06-30"}
    assert demande["postes"][1]["etat"] == "vacant" and "conseiller" not in mapped.demande["postes"][1]
    assert [(p.kind, p.poste_id, p.file["filename"]) for p in mapped.pieces] == [
        (PieceKind.RIB, None, "rib.pdf"), (PieceKind.CONTRAT, "P-1", "contrat.pdf")]


def test_every_champ_at_fault_is_named_in_french() -> None:
    champs = champs_exemple(3, sans=("Dénomination",))
    next(c for c in champs if c["label"] == "Nombre de postes").update(entier=None, stringValue="deux")
    with pytest.raises(CorrespondanceInvalide) as refused:
        map_dossier(dossier(champs, number=3), load_correspondance(EXEMPLE))
    assert refused.value.number == 3
    assert [(e.field, e.code) for e in refused.value.errors] == [
        ("structure.denomination", "champ_ds_absent"), ("convention.nombre_postes", "champ_ds_invalide")]
    assert "le champ DS « Dénomination » est absent du dossier" in refused.value.message


@pytest.mark.parametrize(("change", "message"), [
    ({"demarche": "x"}, "numéro de la démarche"),
    ({"inconnue": {}}, "section inconnue"),
    ({"champs": {k: v for k, v in EXEMPLE["champs"].items() if k != "structure.siret"}}, "structure.siret"),
    ({"pieces": {"passeport": "Pièce"}}, "nature de pièce inconnue"),
    ({"ecriture": {**EXEMPLE["ecriture"], "convention": "fax"}}, "convention"),
    ({"ecriture": {"annotation": "Contrôle conum"}}, "instructeur_id"),
])
def test_a_wrong_mapping_file_is_refused_when_loaded(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_correspondance({**EXEMPLE, **change})


def test_the_write_back_texts_say_what_is_missing_or_refused_in_french() -> None:
    view = {"dossier_id": "DOS-V2-STR-000007", "status": "incomplet",
            "pieces": [{"kind": "rib", "poste_id": None, "filename": "rib.pdf", "status": "invalide",
                        "findings": [{"code": "IBAN_INVALIDE", "severity": "erreur", "message": "IBAN invalide."}]}],
            "missing": [{"kind": "identite", "poste_id": None, "label": "pièce d'identité du représentant"}]}
    annotation = annotation_controle(view)
    assert annotation.startswith("Contrôle conum du dossier DOS-V2-STR-000007 : incomplet.")
    assert "[IBAN_INVALIDE] IBAN invalide." in annotation
    message = message_pieces(view)
    assert message is not None and "- pièce d'identité du représentant" in message and "IBAN invalide." in message
    assert message_pieces({**view, "pieces": [], "missing": []}) is None
