"""One clock: services and adapters never read the wall clock; dates users see are Paris dates."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from dossiers.bootstrap import App
from dossiers.clock import OFFSET_VARIABLE, Clock, offset_from_env, paris_date
from dossiers.settings import ROOT, Settings

# (file, function) -> why it may read the wall clock. Everything else gets its time from its caller
# or from ``App.clock``.
ALLOWED = {
    ("dossiers/clock.py", "_system_now"): "the one clock's source: every other reading goes through Clock",
    ("dossiers/adapters/storage/local.py", "_stale_claim"):
        "compared with a file's mtime, which the kernel stamps with the wall clock (not conum's clock)",
}
WALL_CLOCK = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
              ("time", "time"), ("time", "time_ns")}


def _readings(path: Path) -> list[tuple[str, int, str]]:
    """(enclosing function, line, call) of every wall-clock reading in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, int, str]] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
            if isinstance(child, ast.Attribute):
                owner = child.value.attr if isinstance(child.value, ast.Attribute) else getattr(child.value, "id", None)
                if (owner, child.attr) in WALL_CLOCK:
                    found.append((name, child.lineno, f"{owner}.{child.attr}"))
            if isinstance(child, ast.ImportFrom) and child.module == "time":
                found.extend((name, child.lineno, f"from time import {a.name}") for a in child.names
                             if a.name in ("time", "time_ns"))
            visit(child, name)

    visit(tree, "<module>")
    return found


def test_no_service_or_adapter_reads_the_wall_clock():
    offending = []
    used = set()
    for folder in ("dossiers", "workers"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            for function, line, call in _readings(path):
                if (rel, function) in ALLOWED:
                    used.add((rel, function))
                else:
                    offending.append(f"{rel}:{line} {call} (dans {function})")
    assert offending == [], "lire l'heure par App.clock ou la recevoir de l'appelant :\n" + "\n".join(offending)
    assert used == set(ALLOWED), f"exceptions devenues inutiles : {set(ALLOWED) - used}"


def test_the_walker_finds_every_form_of_reading(tmp_path):
    source = tmp_path / "m.py"
    source.write_text(
        "import datetime as d, time\nfrom time import time as t\n"
        "def f():\n    return d.datetime.now(), d.date.today(), time.time()\n"
        "class C:\n    def g(self):\n        return datetime.utcnow()\n", encoding="utf-8")
    assert sorted(call for _, _, call in _readings(source)) == [
        "date.today", "datetime.now", "datetime.utcnow", "from time import time", "time.time"]


def test_today_is_the_date_in_paris_not_on_the_server():
    # 23:30 UTC on 31 December is already 1 January in Paris (UTC+1 in winter)
    assert Clock(fixed=datetime(2026, 12, 31, 23, 30, tzinfo=UTC)).today() == date(2027, 1, 1)
    # 22:30 UTC on 30 June is 00:30 on 1 July in Paris (UTC+2 in summer)
    assert Clock(fixed=datetime(2026, 6, 30, 22, 30, tzinfo=UTC)).today() == date(2026, 7, 1)
    assert Clock(fixed=datetime(2026, 6, 30, 21, 59, tzinfo=UTC)).today() == date(2026, 6, 30)
    assert paris_date(datetime(2026, 3, 29, 0, 30, tzinfo=UTC)) == date(2026, 3, 29)
    with pytest.raises(ValueError):
        paris_date(datetime(2026, 1, 1))


def test_a_fixed_clock_reads_now_and_today_together():
    # 23:30 in Paris on 31 December, given in another zone: stored in UTC, the date is Paris's
    instant = datetime(2026, 12, 31, 17, 30, tzinfo=timezone(timedelta(hours=-5)))
    clock = Clock(fixed=instant)
    assert clock.now() == instant and clock.now().tzinfo is UTC
    assert clock.read() == (instant, date(2026, 12, 31))
    with pytest.raises(ValueError):
        Clock(fixed=datetime(2026, 1, 1))


def test_the_app_gives_its_clock_to_its_adapters(tmp_path):
    clock = Clock(fixed=datetime(2031, 2, 3, 4, 5, tzinfo=UTC))
    app = App(Settings(var_dir=tmp_path), clock=clock)
    try:
        assert app.clock is clock and app.catalog._clock is clock
        stored = app.storage.put("requetes/x.json", b"{}", content_type="application/json")
        assert app.storage.get(stored.key) == b"{}"
        meta = (tmp_path / "storage" / "meta" / "requetes" / "x.json.json").read_text()
        assert '"created": "2031-02-03T04:05:00+00:00"' in meta
    finally:
        app.close()


def test_the_offset_variable_is_checked():
    assert offset_from_env({}) == timedelta(0)
    assert offset_from_env({OFFSET_VARIABLE: "1096"}) == timedelta(days=1096)
    assert offset_from_env({OFFSET_VARIABLE: " -3 "}) == timedelta(days=-3)
    for bad in ("3j", "1.5", "99999"):
        with pytest.raises(ValueError, match=OFFSET_VARIABLE):
            offset_from_env({OFFSET_VARIABLE: bad})


def test_a_process_started_with_the_offset_lives_years_ahead():
    code = "from dossiers.clock import Clock; print(Clock().now().isoformat())"
    env = {**os.environ, OFFSET_VARIABLE: "1096"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    ahead = datetime.fromisoformat(out.stdout.strip()) - datetime.now(UTC)
    assert timedelta(days=1095, hours=23) < ahead < timedelta(days=1096, hours=1)
