"""The DS client over httpx's own in-memory transport (``httpx.MockTransport``): checks of downloads,
backoff on 429/5xx, mutations never blindly sent twice, the token kept for the API."""

from __future__ import annotations

import httpx
import pytest

from dossiers.adapters.ds import DsClient, checksum_ds
from dossiers.errors import DsError, DsFichierInvalide, DsIndisponible

API = "https://ds.example/api/v2/graphql"
DATA = b"%PDF-1.7 une piece"


def client(handler, **kw) -> tuple[DsClient, list[float]]:  # type: ignore[no-untyped-def]
    waits: list[float] = []
    return DsClient(API, "secret", http=httpx.Client(transport=httpx.MockTransport(handler)), sleep=waits.append,
                    **kw), waits


def file(**kw: object) -> dict[str, object]:
    return {"filename": "rib.pdf", "byteSizeBigInt": str(len(DATA)), "checksum": checksum_ds(DATA),
            "url": "https://stockage.example/f?sig=1", **kw}


def test_a_file_is_taken_only_with_ds_size_and_checksum_and_without_the_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=DATA)

    ds, _ = client(handler)
    assert ds.download(file()) == DATA
    assert "authorization" not in seen[0].headers  # presigned storage URL: the API token stays with the API
    with pytest.raises(DsFichierInvalide, match="somme de contrôle"):
        ds.download(file(checksum=checksum_ds(b"autre chose")))
    with pytest.raises(DsFichierInvalide, match="annoncés"):
        ds.download(file(byteSizeBigInt=str(len(DATA) + 5), checksum=checksum_ds(DATA)))
    with pytest.raises(DsFichierInvalide, match="dépassée"):
        ds.download(file(byteSizeBigInt="4"))
    with pytest.raises(DsFichierInvalide, match="au plus"):
        ds.download(file(byteSizeBigInt=str(10**12)))


def test_429_waits_what_ds_says_and_5xx_backs_off_until_it_gives_up() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(503),
                    httpx.Response(200, json={"data": {"ok": True}})])
    ds, waits = client(lambda request: next(answers))
    assert ds.execute("query { ok }", {}) == {"ok": True} and waits == [7.0, 1.0]
    ds, waits = client(lambda request: httpx.Response(502), max_attempts=4)
    with pytest.raises(DsIndisponible, match="4 tentatives"):
        ds.execute("query { ok }", {})
    assert waits == [0.5, 1.0, 2.0]


def test_a_mutation_is_not_sent_again_after_a_5xx_but_is_after_a_429() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(503)

    ds, _ = client(handler)
    with pytest.raises(DsIndisponible):
        ds.execute("mutation { x }", {}, mutation=True)
    assert len(calls) == 1
    answers = iter([httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(200, json={"data": {"x": 1}})])
    ds, _ = client(lambda request: next(answers))
    assert ds.execute("mutation { x }", {}, mutation=True) == {"x": 1}


def test_graphql_errors_and_a_refused_token_are_clear_errors() -> None:
    ds, _ = client(lambda request: httpx.Response(200, json={"errors": [{"message": "Demarche not found"}]}))
    with pytest.raises(DsError, match="Demarche not found"):
        ds.execute("query { x }", {})
    ds, _ = client(lambda request: httpx.Response(401))
    with pytest.raises(DsError, match="DS_API_TOKEN"):
        ds.execute("query { x }", {})
