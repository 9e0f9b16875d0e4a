"""Demande payloads for tests: the DESIGN.md example, varied by keyword."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "demandes"

BASE: dict[str, Any] = {
    "structure": {
        "id": "STR-000123",
        "siret": "21330099900017",
        "denomination": "Commune d'Exempleville",
        "nature": "publique",
        "categorie_juridique": "7210",
        "departement": "33",
        "adresse": "1 place de la Mairie, 33000 Exempleville",
        "zone_prioritaire": False,
        "representant": {"civilite": "Mme", "prenom": "Camille", "nom": "Exemple", "qualite": "Maire"},
    },
    "convention": {"vague": 2, "date_debut": "2024-01-01", "nombre_postes": 3},
    "postes": [
        {
            "id": "P-1",
            "etat": "occupe",
            "conseiller": {"prenom": "Inès", "nom": "Témoin-Lefèvre"},
            "contrat": {"type": "CDD", "date_debut": "2024-01-01", "date_fin": "2025-06-30"},
        },
        {
            "id": "P-2",
            "etat": "occupe",
            "conseiller": {"prenom": "Karim", "nom": "Bouzid"},
            "contrat": {"type": "CDI", "date_debut": "2023-10-01"},
        },
        {"id": "P-3", "etat": "vacant", "vacant_depuis": "2024-03-01"},
    ],
}


def demande(**changes: Any) -> dict[str, Any]:
    """A copy of BASE; ``structure__nature="privee"`` style keys set nested fields."""
    payload = copy.deepcopy(BASE)
    for key, value in changes.items():
        *path, last = key.split("__")
        target = payload
        for part in path:
            target = target[part]
        target[last] = value
    return payload


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
