"""A convention's life: payments, an avenant giving a poste back, a request sent twice, a request on a
superseded version, a résiliation; each version's documents stored and readable, the old ones intact.

Fast tier: in-memory ports (``tests/services/conftest.py``); the PDF is ``MemoryConverter``'s, which holds
the document's text.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from dossiers.bootstrap import App
from dossiers.errors import ChangementRefuse, ErrorCode
from dossiers.services.avenants import amend, history, record_payment, restitutions
from dossiers.services.generation import generate_convention
from tests.factories import demande
from tests.services.conftest import pdf_text, version_pdf

TODAY = date(2025, 4, 15)
NOW = datetime(2025, 4, 15, 10, 0, tzinfo=UTC)
CID = "CN-V2-STR-000123"
RETRAIT = {"request_id": "R-2", "type": "retrait_postes", "postes": [{"id": "P-2", "date_fin_contrat": "2025-03-31"}]}


@pytest.fixture
def app(fakes_app: App) -> App:
    generate_convention(demande(), fakes_app, today=date(2024, 1, 2), now=datetime(2024, 1, 2, tzinfo=UTC))
    record_payment(CID, annee=1, jour=date(2024, 1, 15), montant=Decimal("52500.00"), app=fakes_app)
    record_payment(CID, annee=2, jour=date(2025, 1, 10), montant=Decimal("37500.00"), app=fakes_app)
    return fakes_app


def test_giving_a_poste_back_after_year_2_was_paid_makes_a_trop_percu(app: App) -> None:
    amended = amend(CID, RETRAIT, app, today=TODAY, now=NOW)
    assert amended.created and amended.version.numero == 2 and amended.version.document_type == "avenant"
    fig = amended.resultat.apres
    # Year 2 (2025-01-01..2025-12-31, 365 days): P-1 and P-3 12 500 each; P-2 funded 90 days
    # (01/01-31/03): 12 500 x 90 / 365 = 3 082.1917… -> 3 082.19. Due 28 082.19; paid 37 500;
    # trop-perçu 37 500 - 28 082.19 = 9 417.81. Year 3: 2 x 12 500 = 25 000 still to pay.
    assert [(a.du, a.verse, a.a_reverser, a.reste_a_verser) for a in fig.annees] == [
        (Decimal("52500.00"), Decimal("52500.00"), Decimal("0.00"), Decimal("0.00")),
        (Decimal("28082.19"), Decimal("37500.00"), Decimal("9417.81"), Decimal("0.00")),
        (Decimal("25000.00"), Decimal("0.00"), Decimal("0.00"), Decimal("25000.00")),
    ]
    text = pdf_text(app, amended.version)
    for expected in ("CN-V2-STR-000123", "127 500,00 €", "105 582,19 €", "9 417,81 €", "P-2"):
        assert expected in text, expected
    v1 = app.catalog.find_version(CID, 1)
    assert v1.documents and version_pdf(app, v1)


def test_the_same_request_twice_gives_one_version_and_another_change_under_its_id_is_refused(app: App) -> None:
    first = amend(CID, RETRAIT, app, today=TODAY, now=NOW)
    again = amend(CID, RETRAIT, app, today=TODAY, now=NOW)
    assert (again.created, again.version.numero, again.version.documents) == (False, 2, first.version.documents)
    with pytest.raises(ChangementRefuse) as refused:
        amend(CID, {**RETRAIT, "postes": [{"id": "P-3", "date_fin_contrat": "2025-03-31"}]}, app, today=TODAY, now=NOW)
    assert refused.value.code is ErrorCode.REQUETE_CONFLIT
    assert [v.numero for v, _ in history(CID, app)] == [1, 2]


def test_a_request_on_a_superseded_version_or_without_effect_is_refused(app: App) -> None:
    amend(CID, RETRAIT, app, today=TODAY, now=NOW)
    with pytest.raises(ChangementRefuse) as stale:
        amend(CID, {"request_id": "R-3", "type": "ajout_postes", "date_effet": "2025-06-01", "nombre": 1, "version": 1},
              app, today=TODAY, now=NOW)
    assert stale.value.code is ErrorCode.VERSION_PERIMEE
    with pytest.raises(ChangementRefuse) as same:
        amend(CID, {"request_id": "R-4", "type": "changement_nature", "nature": "publique", "date_effet": "2025-07-01"},
              app, today=TODAY, now=NOW)
    assert same.value.code is ErrorCode.CHANGEMENT_SANS_EFFET


def test_an_early_termination_states_the_final_balance(app: App) -> None:
    ended = amend(CID, {"request_id": "R-5", "type": "resiliation", "date_effet": "2025-09-30", "motif": "anticipee"},
                  app, today=TODAY, now=NOW)
    assert ended.version.document_type == "resiliation"
    fig = ended.resultat.apres
    # Year 2: 3 postes x 12 500 x 273/365 (01/01-30/09) = 9 349.315… -> 9 349.32 each, 28 047.96 due;
    # 37 500 paid -> 9 452.04 to repay. Year 3: nothing due.
    assert fig.annees[1].du == Decimal("28047.96") and fig.annees[1].a_reverser == Decimal("9452.04")
    assert fig.annees[2].du == Decimal("0.00")
    assert "9 452,04 €" in pdf_text(app, ended.version)
    with pytest.raises(ChangementRefuse) as closed:
        amend(CID, {"request_id": "R-6", "type": "ajout_postes", "date_effet": "2025-10-01", "nombre": 1},
              app, today=TODAY, now=NOW)
    assert closed.value.code is ErrorCode.CONVENTION_CLOSE


def test_the_may_2025_rules_give_back_a_poste_vacant_for_more_than_6_months(app: App) -> None:
    # P-3 is vacant since 2024-03-01: on 2025-06-01 (rules in force since 2025-05-14) it is over 6 months.
    listed, none = restitutions(CID, app, jour=date(2025, 6, 1), regles_id="regles-2025-05", apply=False,
                                today=TODAY, now=NOW)
    assert none is None and [(p.id, p.date_fin_contrat) for p in listed.postes] == [("P-3", date(2024, 2, 29))]
    _, amended = restitutions(CID, app, jour=date(2025, 6, 1), regles_id="regles-2025-05", apply=True,
                              today=TODAY, now=NOW)
    assert amended.created and amended.version.request_id == "regles-2025-05-2025-06-01"
    # Year 1 (2024, 366 days): P-3 funded 60 days (01/01-29/02): 17 500 x 60 / 366 = 2 868.852… -> 2 868.85;
    # due 35 000 + 2 868.85 = 37 868.85; paid 52 500 -> 14 631.15 to repay.
    assert amended.resultat.apres.annees[0].a_reverser == Decimal("14631.15")
    _, again = restitutions(CID, app, jour=date(2025, 6, 1), regles_id="regles-2025-05", apply=True,
                            today=TODAY, now=NOW)
    assert again is None or not again.created


def test_documents_state_a_signature_date_only_from_a_verified_signed_copy(app: App) -> None:
    """Convention issued 2 January 2024, its signed copy archived with signatures of 10 and 12 January;
    avenant n° 1 issued 15 April 2025 whose copy went to a human (à vérifier); a résiliation au 30 septembre
    2025 issued on 6 December 2026 cites the convention's signature, not the avenant's, and dates neither
    by its own issue date. P-1's CDD ended on 30 June 2025: « vacant » at the résiliation's last day."""
    from dossiers.domain.archive import ArchiveRecord

    amend(CID, RETRAIT, app, today=TODAY, now=NOW)

    def copy(version: int, statut: str, *dates: str) -> None:
        app.catalog.record_received(ArchiveRecord(
            convention_id=CID, version=version, sha256=f"{version}" * 64, sha256_emis="e" * 64, statut=statut,
            findings=(), received_at=NOW,
            fields={"signatures": [{"champ": f"S{i}", "signataire": "X", "date": d} for i, d in enumerate(dates)]}))

    copy(1, "archive", "2024-01-10T09:00:00+01:00", "2024-01-12T17:45:00+01:00")
    copy(2, "a_verifier", "2025-04-20T10:00:00+02:00")
    ended = amend(CID, {"request_id": "R-5", "type": "resiliation", "date_effet": "2025-09-30", "motif": "anticipee"},
                  app, today=date(2026, 12, 6), now=datetime(2026, 12, 6, 9, 0, tzinfo=UTC))
    text = pdf_text(app, ended.version)
    for expected in ("émise le 2 janvier 2024 et signée le 12 janvier 2024",
                     "l'avenant n° 1 émis le 15 avril 2025, ayant", "P-1 — vacant depuis le 1er juillet 2025"):
        assert expected in text.replace("’", "'"), expected
    assert "6 décembre 2026" in text and "signée le 6 décembre" not in text and "signé le" not in text
