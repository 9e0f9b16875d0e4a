"""The May 2025 limits read back from a real catalog (SQLite and PostgreSQL): conventions and avenants
recorded straight through the catalog, as before conum refused them, give each convention's
``HistoriqueLimites`` in a constant number of queries, and ``hors_limites`` lists what breaks them."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event

from dossiers.adapters.catalog import Catalog
from dossiers.adapters.rules import RulesRepository
from dossiers.domain.gestion import AJOUT_POSTES, NOUVELLE_STRUCTURE, AjoutHistorique, HistoriqueLimites, hors_limites
from dossiers.domain.model import Structure, convention_id_for
from dossiers.settings import ROOT
from tests.integration.test_catalog import STRUCTURE, make_version

MAI_2025 = RulesRepository(ROOT / "config" / "rules").gestion("regles-2025-05")
DEROGATION = {"reference": "ANCT-2025-042", "date": "2025-05-20"}

# The same SIRET under two ids: the older one (2023) makes the other a known structure.
ANCIENNE = dataclasses.replace(STRUCTURE, id="STR-ANCIENNE", siret="21330099900017")
MEME_SIRET = dataclasses.replace(STRUCTURE, id="STR-MEME-SIRET", siret="21330099900017")
NOUVELLE = dataclasses.replace(STRUCTURE, id="STR-NOUVELLE", siret="21330099900025")
DEROGEE = dataclasses.replace(STRUCTURE, id="STR-DEROGEE", siret="21330099900033")
JUMELLE = dataclasses.replace(STRUCTURE, id="STR-JUMELLE", siret="21330099900041")  # two vagues, same day

C_ANCIENNE = convention_id_for(ANCIENNE.id, 2)
C_RENOUVELLEMENT = "CN-V2-STR-ANCIENNE-R2"
C_MEME_SIRET = convention_id_for(MEME_SIRET.id, 2)
C_NOUVELLE = convention_id_for(NOUVELLE.id, 2)
C_DEROGEE = convention_id_for(DEROGEE.id, 2)
C_JUMELLE_1 = convention_id_for(JUMELLE.id, 1)
C_JUMELLE_2 = convention_id_for(JUMELLE.id, 2)


def demande(structure: Structure, debut: date, **extra: Any) -> dict[str, Any]:
    return {"structure": {"id": structure.id, "siret": structure.siret},
            "convention": {"vague": 2, "date_debut": debut.isoformat()}, **extra}


def convention(catalog: Catalog, structure: Structure, cid: str, debut: date, *, vague: int = 2,
               renouvelle: str | None = None, **extra: Any) -> None:
    catalog.record_version(structure=structure, convention_id=cid, vague=vague, date_debut=debut,
                           version=make_version(1, cid=cid), demande_json=demande(structure, debut, **extra),
                           renouvelle=renouvelle)


def avenant(catalog: Catalog, structure: Structure, cid: str, debut: date, numero: int,
            changement: dict[str, Any], *, vague: int = 2, renouvelle: str | None = None) -> None:
    version = dataclasses.replace(make_version(numero, cid=cid, demande_sha256=f"{numero:x}" * 64),
                                  document_type="avenant", changement=changement)
    catalog.record_version(structure=structure, convention_id=cid, vague=vague, date_debut=debut, version=version,
                           demande_json=demande(structure, debut), renouvelle=renouvelle)


def ajout(numero: int, effet: str, **extra: Any) -> dict[str, Any]:
    return {"type": "ajout_postes", "request_id": f"ajout-{numero}", "date_effet": effet, "nombre": 1,
            "version": numero - 1, **extra}


@pytest.fixture
def catalog(catalog_url: str) -> Any:
    with Catalog.open(catalog_url) as opened:
        # Recorded out of date order: the earliest decides, not the first written.
        convention(opened, MEME_SIRET, C_MEME_SIRET, date(2025, 6, 1))
        convention(opened, ANCIENNE, C_ANCIENNE, date(2023, 1, 1))
        avenant(opened, ANCIENNE, C_ANCIENNE, date(2023, 1, 1), 2, ajout(2, "2025-05-13"))
        avenant(opened, ANCIENNE, C_ANCIENNE, date(2023, 1, 1), 3, {
            "type": "changement_nature", "request_id": "nature-3", "nature": "privee", "date_effet": "2025-07-01",
            "version": 2})
        avenant(opened, ANCIENNE, C_ANCIENNE, date(2023, 1, 1), 4, ajout(4, "2025-05-14"))
        avenant(opened, ANCIENNE, C_ANCIENNE, date(2023, 1, 1), 5, ajout(5, "2025-09-01", derogation=DEROGATION))
        convention(opened, ANCIENNE, C_RENOUVELLEMENT, date(2026, 1, 1), renouvelle=C_ANCIENNE)
        avenant(opened, ANCIENNE, C_RENOUVELLEMENT, date(2026, 1, 1), 2, ajout(2, "2026-03-01"),
                renouvelle=C_ANCIENNE)  # (the catalog wants it for a renewal of the same vague)
        convention(opened, NOUVELLE, C_NOUVELLE, date(2025, 5, 14))
        avenant(opened, NOUVELLE, C_NOUVELLE, date(2025, 5, 14), 2, {"type": "ajout_postes", "request_id": "vieux"})
        convention(opened, DEROGEE, C_DEROGEE, date(2025, 6, 1), derogation=DEROGATION)
        convention(opened, JUMELLE, C_JUMELLE_2, date(2025, 6, 1))
        convention(opened, JUMELLE, C_JUMELLE_1, date(2025, 6, 1), vague=1)
        yield opened


def count_queries(catalog: Catalog) -> list[str]:
    seen: list[str] = []
    event.listen(catalog.engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_each_convention_s_history_is_read_in_two_queries(catalog: Catalog) -> None:
    queries = count_queries(catalog)
    found = {h.convention_id: h for h in catalog.historiques_limites()}
    assert len([q for q in queries if q.lstrip().upper().startswith("SELECT")]) == 2
    assert found == {
        C_ANCIENNE: HistoriqueLimites(C_ANCIENNE, True, date(2023, 1, 1), False, (
            AjoutHistorique(2, date(2025, 5, 13), False), AjoutHistorique(4, date(2025, 5, 14), False),
            AjoutHistorique(5, date(2025, 9, 1), True))),
        C_RENOUVELLEMENT: HistoriqueLimites(C_RENOUVELLEMENT, False, date(2026, 1, 1), False, (
            AjoutHistorique(2, date(2026, 3, 1), False),)),
        C_MEME_SIRET: HistoriqueLimites(C_MEME_SIRET, False, date(2025, 6, 1), False),  # its SIRET is known
        C_NOUVELLE: HistoriqueLimites(C_NOUVELLE, True, date(2025, 5, 14), False, (AjoutHistorique(2, None, False),)),
        C_DEROGEE: HistoriqueLimites(C_DEROGEE, True, date(2025, 6, 1), True),
        C_JUMELLE_1: HistoriqueLimites(C_JUMELLE_1, True, date(2025, 6, 1), False),  # same day: smaller id
        C_JUMELLE_2: HistoriqueLimites(C_JUMELLE_2, False, date(2025, 6, 1), False),
    }
    assert list(found) == sorted(found)


def test_what_the_catalog_issued_against_the_limits_is_listed(catalog: Catalog) -> None:
    listed = [(a.convention_id, a.version, a.limite, a.date_effet)
              for a in hors_limites(catalog.historiques_limites(), [MAI_2025])]
    assert listed == [  # by convention id
        (C_JUMELLE_1, 1, NOUVELLE_STRUCTURE, date(2025, 6, 1)),
        (C_ANCIENNE, 4, AJOUT_POSTES, date(2025, 5, 14)),
        (C_RENOUVELLEMENT, 2, AJOUT_POSTES, date(2026, 3, 1)),
        (C_NOUVELLE, 1, NOUVELLE_STRUCTURE, date(2025, 5, 14)),
        (C_NOUVELLE, 2, AJOUT_POSTES, None),  # its effect date was not kept: to be checked
    ]


def test_an_empty_catalog_has_no_history(catalog_url: str) -> None:
    with Catalog.open(catalog_url) as opened:
        assert list(opened.historiques_limites()) == []
