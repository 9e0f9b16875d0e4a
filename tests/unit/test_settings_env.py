"""The working directory's .env, under the process environment; what `conum config` may print."""

from __future__ import annotations

import pytest

from dossiers.settings import Settings, SettingsError, environment, masked, sources


def test_a_dotenv_file_is_read_and_the_environment_wins(tmp_path):
    (tmp_path / ".env").write_text("API_PORT=9123\nAPI_WORKERS=3\n# COMMENTAIRE=1\nSESSION_SECRET='s3cr3t'\n",
                                   encoding="utf-8")
    env = environment({"API_WORKERS": "2"}, cwd=tmp_path)
    settings = Settings.from_env(env)
    assert (settings.api_port, settings.api_workers, settings.session_secret) == (9123, 2, "s3cr3t")
    assert sources({"API_WORKERS": "2"}, cwd=tmp_path) == {"API_PORT": ".env", "API_WORKERS": "environnement",
                                                           "SESSION_SECRET": ".env"}
    assert environment({}, cwd=tmp_path / "ailleurs") == {}
    assert environment({"CONUM_ENV_FILE": ""}, cwd=tmp_path) == {"CONUM_ENV_FILE": ""}  # none read
    (tmp_path / "prod.env").write_text("API_PORT=7000\n", encoding="utf-8")
    assert environment({"CONUM_ENV_FILE": "prod.env"}, cwd=tmp_path)["API_PORT"] == "7000"


def test_secrets_and_url_passwords_are_masked_and_a_bad_value_is_named_in_french():
    assert masked("SESSION_SECRET", "abc") == "****" and masked("SEAL_PKCS11_PIN", "1234") == "****"
    assert masked("DS_API_TOKEN", "jeton-de-la-demarche") == "****"
    assert masked("DATABASE_URL", "postgresql://conum:motdepasse@db:5432/conum") == "postgresql://conum:****@db:5432/conum"
    assert masked("API_PORT", 8000) == "8000" and masked("TSA_URL", None) == ""
    with pytest.raises(SettingsError, match="API_PORT='abc' : doit être un nombre entier"):
        Settings.from_env({"API_PORT": "abc"})
