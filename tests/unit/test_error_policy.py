"""One error policy (``dossiers/errors.py``): every ``ErrorCode`` has one kind and one HTTP status, and
the API's status, the CLI's exit code and the workers' retry decision, each taken through the real
path (FastAPI's exception handlers, ``fail_by_kind`` under Click, Dramatiq's ``Retries`` middleware),
agree with it. No code is answered, recorded or raised that ``ErrorCode`` does not hold."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import click
import dramatiq
import pytest
from click.testing import CliRunner
from dramatiq.broker import MessageProxy
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Retries, TimeLimitExceeded
from fastapi import FastAPI
from fastapi.testclient import TestClient

import dossiers
import workers
from dossiers import errors
from dossiers.entrypoints._common import EXIT_FAILED, EXIT_REFUSED, EXIT_USAGE, exit_code
from dossiers.entrypoints._console import json_option
from dossiers.entrypoints.cli import cli
from dossiers.entrypoints.api.errors import install_handlers
from dossiers.errors import POLICY, ConumError, ErrorCode, Kind, policy_of
from workers.middleware import error_of
from workers.retry import THROWS, retried

SOURCES = [*Path(dossiers.__file__).parent.rglob("*.py"), *Path(workers.__file__).parent.rglob("*.py")]
EXIT = {Kind.REFUS: EXIT_REFUSED, Kind.TRANSITOIRE: EXIT_FAILED, Kind.DEFAUT: EXIT_FAILED}
CODES = list(ErrorCode)


def test_every_code_has_exactly_one_kind_and_a_status_that_fits_it():
    """The table is complete, and its statuses follow the kinds: 4xx refused, 503 transient, 500 defect."""
    assert set(POLICY) == set(ErrorCode)
    for code, policy in POLICY.items():
        if policy.kind is Kind.REFUS:
            assert 400 <= policy.status < 500, code
        else:
            assert policy.status == {Kind.TRANSITOIRE: 503, Kind.DEFAUT: 500}[policy.kind], code
        assert policy.retried is (policy.kind is Kind.TRANSITOIRE), code


def test_an_error_raised_with_a_code_takes_that_codes_policy_not_its_class_default():
    """``code=`` decides: a StorageError raised as objet_introuvable is a refusal, a bare ConumError a defect."""
    assert errors.StorageError("x", code=ErrorCode.OBJET_INTROUVABLE).kind is Kind.REFUS
    assert errors.StorageError("x").kind is Kind.TRANSITOIRE
    assert ConumError("sans code").code is ErrorCode.ERREUR_INTERNE and ConumError("x").kind is Kind.DEFAUT
    assert policy_of("pas_un_code").kind is Kind.DEFAUT


def _api() -> TestClient:
    api = FastAPI()
    install_handlers(api)

    @api.get("/boom/{code}")
    def boom(code: str) -> None:
        raise ConumError(f"refus {code}", code=ErrorCode(code))

    return TestClient(api, raise_server_exceptions=False)


@pytest.mark.parametrize("code", CODES)
def test_the_api_answers_each_codes_status_through_its_exception_handler(code):
    """The real handlers give the policy's status with the code in the body; a refusal says why, a
    transient error asks to retry (Retry-After), a defect keeps its details for the log."""
    response = _api().get(f"/boom/{code}")
    policy = POLICY[code]
    assert response.status_code == policy.status
    assert response.json()["code"] == code
    if policy.kind is Kind.REFUS:
        assert response.json()["message"] == f"refus {code}"
    elif policy.kind is Kind.TRANSITOIRE:
        assert response.headers["Retry-After"] == "30"
    else:
        assert f"refus {code}" not in response.text


@click.command("refuse")
@click.argument("code")
@json_option
def _command(code: str, as_json: bool) -> None:
    raise ConumError(f"refus {code}", code=ErrorCode(code))


@pytest.mark.parametrize("code", CODES)
def test_the_cli_exits_with_each_codes_kind_through_fail_by_kind(code):
    """1 for a refusal, 3 for a transient error or a defect (2 for usage, Click's), the code in --json: a
    command raises, conum's root group answers (the class of ``cli``, under a command of the test's)."""
    root = type(cli)(commands=[_command])
    result = CliRunner().invoke(root, ["refuse", str(code), "--json"])
    expected = EXIT_USAGE if code is ErrorCode.USAGE else EXIT[POLICY[code].kind]
    assert result.exit_code == expected and exit_code(str(code)) == expected
    assert json.loads(result.stdout)["error"]["code"] == code


@pytest.mark.parametrize("code", CODES)
def test_a_worker_retries_only_transient_errors_through_dramatiqs_retries_middleware(code):
    """An actor declared with ``throws=THROWS`` is retried for a transient error and failed at once for
    a refusal or a defect, by Dramatiq's own Retries middleware."""
    broker = StubBroker(middleware=[Retries()])

    @dramatiq.actor(broker=broker, throws=THROWS, max_retries=3)
    def job() -> None: ...

    message = MessageProxy(job.message())
    exc = ConumError("x", code=code)
    broker.emit_after("process_message", message, exception=exc)
    assert message.failed is not POLICY[code].retried
    assert retried(exc) is POLICY[code].retried


def test_what_is_not_a_conum_error_is_retried_and_recorded_with_a_known_code():
    """A library's exception or the time limit keeps being retried, recorded as erreur_interne or delai_depasse."""
    assert retried(KeyError("x")) and retried(TimeLimitExceeded())
    assert error_of(KeyError("x"))["code"] == ErrorCode.ERREUR_INTERNE
    assert error_of(TimeLimitExceeded())["code"] == ErrorCode.DELAI_DEPASSE
    assert error_of(errors.DsIndisponible("x"))["code"] == ErrorCode.DS_INDISPONIBLE


def test_every_actor_declares_the_shared_throws():
    """No actor keeps a tuple of its own: the retry decision is the policy's."""
    source = (Path(workers.__file__).parent / "actors.py").read_text(encoding="utf-8")
    decorators = re.findall(r"@dramatiq\.actor\(([^)]*)\)", source)
    assert decorators and all("throws=THROWS" in d for d in decorators), decorators


# -- every code in use is in ErrorCode ---------------------------------------------------------------
_WITH_STATUS = re.compile(r'(?:ApiError|_send_json)\((?:send, )?(\d{3}), (?:\{"code": )?"([a-z_0-9]+)"')
_LITERAL = re.compile(r'code="([a-z_0-9]+)"|\{"code": "([a-z_0-9]+)", "message"|_body\("([a-z_0-9]+)"')


def test_every_code_the_sources_answer_or_record_is_an_error_code_with_that_status():
    """HTTP answers (ApiError, the gate's own), ``code=`` literals and the workers' records use only
    ErrorCode values, and an HTTP answer's status is its code's."""
    seen = 0
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        for status, code in _WITH_STATUS.findall(text):
            seen += 1
            assert code in set(ErrorCode), (path.name, code)
            assert POLICY[ErrorCode(code)].status == int(status), (path.name, code, status)
        for groups in _LITERAL.findall(text):
            code = next(g for g in groups if g)
            seen += 1
            assert code in set(ErrorCode), (path.name, code)
    assert seen > 20


# MrzIllisible carries the MRZ reader's own codes (mrz_*), caught by the identity check and turned into
# findings: it never leaves the domain (and would count as a defect if it did).
_OWN_CODES = {"MrzIllisible"}


def test_every_error_class_defaults_to_an_error_code():
    """Each class in the package that sets a default ``code = X.Y`` takes it from ErrorCode."""
    found = 0
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef) or node.name in _OWN_CODES:
                continue
            for statement in node.body:
                if isinstance(statement, ast.Assign) and [getattr(t, "id", None) for t in statement.targets] == ["code"] \
                        and isinstance(statement.value, ast.Attribute):
                    owner = getattr(statement.value.value, "id", None)
                    assert owner == "ErrorCode" and hasattr(ErrorCode, statement.value.attr), (path.name, node.name)
                    found += 1
    assert found > 30
