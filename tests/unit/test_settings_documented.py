"""Every environment variable the settings read is documented (README table and .env.example)."""

from __future__ import annotations

import pytest

from dossiers.settings import ENV_VARS, ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLE = (ROOT / "config" / ".env.example").read_text(encoding="utf-8")


@pytest.mark.parametrize("variable", sorted(ENV_VARS))
def test_the_variable_is_in_the_readme_and_the_example(variable: str) -> None:
    assert f"`{variable}`" in README, f"{variable} manque au tableau de configuration du README"
    assert f"{variable}=" in EXAMPLE, f"{variable} manque à config/.env.example"
