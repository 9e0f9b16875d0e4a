"""conum's converter server runs under LibreOffice's Python, so it lives outside the importable
package; conum must find it from a checkout and from an installed wheel alike."""

from __future__ import annotations

import sysconfig
import tomllib
from pathlib import Path

from dossiers.adapters.libreoffice.unoserver_process import SERVER_SCRIPTS, server_script
from dossiers.settings import ROOT


def test_the_checkout_runs_its_own_libexec_server_outside_the_package() -> None:
    """From a checkout the pool runs ``libexec/uno_server.py``, which no ``dossiers`` import reaches."""
    script = server_script()
    assert script == ROOT / "libexec" / "uno_server.py" and script.is_file()
    assert ROOT / "dossiers" not in script.parents


def test_a_wheel_installs_the_server_where_conum_looks_for_it() -> None:
    """pyproject's data-files put the script in ``<prefix>/libexec/conum``, the place searched after
    the checkout's."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    data_files = config["tool"]["setuptools"]["data-files"]
    installed = [
        Path(sysconfig.get_path("data")) / target / Path(source).name
        for target, sources in data_files.items()
        for source in sources
        if Path(source).name == "uno_server.py"
    ]
    assert installed == [SERVER_SCRIPTS[1]]
    assert (ROOT / data_files["libexec/conum"][0]).is_file()
