"""Production mode refuses unsafe settings; demo mode stays permissive; the CLI keeps a key."""

from __future__ import annotations

import importlib
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from reelstack.app import create_app
from reelstack.cli.main import app as cli_app
from reelstack.config import (
    DEMO_ADMIN_API_KEY,
    Settings,
    UnsafeProductionSettings,
    check_production,
    get_settings,
)
from reelstack.security import ADMIN_KEY_FILE

STRONG = "k" * 20 + "Q7pX2vR9sT4wY6zA8bC1dE3fG5"  # 46 chars, not a demo value
KEY_SECRET = "t" * 20 + "m4Nq8Lw2Zr6Vb1Xc5Hj9Kd3Fg7"  # the signing keys' secret
URL_SECRET = "u" * 20 + "p3Wq7Er1Ty5Ui9Op2As6Df0Gh4"  # the media URLs' signing secret
MEDIA_SECRET = "m" * 20 + "c5Vb8Nm1Qw4Er7Ty0Ui3Op6As9"  # the content keys' wrapping secret


def _prod(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path / "var",
        "env": "production",
        "admin_api_key": STRONG,
        "cors_allow_origins": "https://watch.example.com",
        "token_key_secret": KEY_SECRET,
        "url_signing_secret": URL_SECRET,
        "media_key_secret": MEDIA_SECRET,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def test_safe_production_settings_have_no_problems(tmp_path: Path) -> None:
    assert _prod(tmp_path).production_problems() == []
    check_production(_prod(tmp_path))


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"admin_api_key": None}, "REELSTACK_ADMIN_API_KEY is not set"),
        ({"admin_api_key": ""}, "REELSTACK_ADMIN_API_KEY is not set"),
        ({"admin_api_key": "short-key-123"}, "REELSTACK_ADMIN_API_KEY is weak: 13 characters"),
        ({"admin_api_key": DEMO_ADMIN_API_KEY}, "REELSTACK_ADMIN_API_KEY is a known demo value"),
        ({"cors_allow_origins": "*"}, "REELSTACK_CORS_ALLOW_ORIGINS allows any origin"),
        (
            {"cors_allow_origins": "https://a.example, *"},
            "REELSTACK_CORS_ALLOW_ORIGINS allows any origin",
        ),
        ({"token_key_secret": None}, "REELSTACK_TOKEN_KEY_SECRET is not set"),
        ({"token_key_secret": "short"}, "REELSTACK_TOKEN_KEY_SECRET is weak: 5 characters"),
    ],
)
def test_each_unsafe_setting_is_named(
    tmp_path: Path, overrides: dict[str, object], expected: str
) -> None:
    problems = _prod(tmp_path, **overrides).production_problems()
    assert len(problems) == 1 and problems[0].startswith(expected), problems
    with pytest.raises(UnsafeProductionSettings) as refused:
        create_app(_prod(tmp_path, **overrides))
    assert expected in str(refused.value)


def test_a_secret_left_at_its_demo_default_is_refused(tmp_path: Path) -> None:
    demo = Settings(
        data_dir=tmp_path,
        env="production",
        admin_api_key=SecretStr(STRONG),
        cors_allow_origins="https://x",
        token_key_secret=SecretStr(KEY_SECRET),
    )
    assert demo.production_problems() == [
        "REELSTACK_URL_SIGNING_SECRET has its demo default",
        "REELSTACK_MEDIA_KEY_SECRET has its demo default",
    ]
    changed = demo.model_copy(
        update={
            "url_signing_secret": SecretStr("s" * 48),
            "media_key_secret": SecretStr(MEDIA_SECRET),
        }
    )
    assert changed.production_problems() == []
    unsigned = changed.model_copy(update={"url_signing": "off"})
    assert unsigned.production_problems() == [
        "REELSTACK_URL_SIGNING is off: media URLs would be unsigned"
    ]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    settings = _prod(tmp_path, admin_api_key="changeme", cors_allow_origins="*")
    with pytest.raises(UnsafeProductionSettings) as refused:
        check_production(settings)
    message = str(refused.value)
    assert message.startswith("refusing to start with REELSTACK_ENV=production")
    assert "REELSTACK_ADMIN_API_KEY is weak" in message
    assert "REELSTACK_CORS_ALLOW_ORIGINS" in message
    assert len(refused.value.problems) == 2


def test_demo_mode_stays_permissive(tmp_path: Path) -> None:
    demo = Settings(data_dir=tmp_path / "var", admin_api_key=None, cors_allow_origins="*")
    assert demo.production_problems()  # unsafe for production...
    check_production(demo)  # ...but demo mode starts anyway
    create_app(demo)


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Settings]]:
    """The CLI with a throwaway data dir; serving is replaced by recording the settings."""
    served: list[Settings] = []
    monkeypatch.setenv("REELSTACK_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("REELSTACK_ADMIN_API_KEY", raising=False)
    monkeypatch.delenv("REELSTACK_ENV", raising=False)
    # reelstack.cli re-exports a `main` function, so fetch the module itself.
    monkeypatch.setattr(importlib.import_module("reelstack.cli.main"), "_serve", served.append)
    monkeypatch.setattr("reelstack.db.migrate", lambda *_a, **_k: None)
    # Nothing was migrated: nor are the periodic jobs queued.
    monkeypatch.setattr(
        importlib.import_module("reelstack.cli.main"),
        "_schedule_periodic_jobs",
        lambda *_a, **_k: None,
    )
    monkeypatch.setattr("reelstack.cli.seed.seed_demo", lambda *_a, **_k: None)
    monkeypatch.setattr("reelstack.cli.seed.seed_demo_accounts", lambda *_a, **_k: None)
    get_settings.cache_clear()
    yield served
    get_settings.cache_clear()


def _key(settings: Settings) -> str:
    assert settings.admin_api_key is not None
    return settings.admin_api_key.get_secret_value()


def test_run_generates_keeps_and_prints_a_key(tmp_path: Path, cli_env: list[Settings]) -> None:
    first = CliRunner().invoke(cli_app, ["run"])
    assert first.exit_code == 0, first.output
    key_file = tmp_path / "var" / ADMIN_KEY_FILE
    key = key_file.read_text().strip()
    assert len(key) >= 43
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert _key(cli_env[0]) == key
    assert key in first.output and "generated" in first.output
    assert f'curl -H "Authorization: Bearer {key}" http://127.0.0.1:8000/v1/admin/jobs' in (
        first.output
    )
    # The next start, and `reelstack api`, use the same key.
    for command in ("run", "api"):
        get_settings.cache_clear()
        again = CliRunner().invoke(cli_app, [command])
        assert again.exit_code == 0, again.output
        assert _key(cli_env[-1]) == key and "generated" not in again.output


def test_environment_key_wins_and_is_not_printed(
    tmp_path: Path, cli_env: list[Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REELSTACK_ADMIN_API_KEY", STRONG)
    result = CliRunner().invoke(cli_app, ["api"])
    assert result.exit_code == 0, result.output
    assert _key(cli_env[0]) == STRONG
    assert STRONG not in result.output
    assert "$REELSTACK_ADMIN_API_KEY" in result.output
    assert not (tmp_path / "var" / ADMIN_KEY_FILE).exists()


@pytest.mark.parametrize("command", ["api", "run"])
def test_cli_refuses_unsafe_production(
    command: str, tmp_path: Path, cli_env: list[Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REELSTACK_ENV", "production")
    result = CliRunner().invoke(cli_app, [command])
    assert result.exit_code == 2
    assert "refusing to start with REELSTACK_ENV=production" in result.output
    assert "REELSTACK_ADMIN_API_KEY is not set" in result.output
    assert "REELSTACK_CORS_ALLOW_ORIGINS allows any origin" in result.output
    assert cli_env == []
    # Production never falls back to a generated key file.
    assert not (tmp_path / "var" / ADMIN_KEY_FILE).exists()


def test_cli_serves_safe_production(
    cli_env: list[Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REELSTACK_ENV", "production")
    monkeypatch.setenv("REELSTACK_ADMIN_API_KEY", STRONG)
    monkeypatch.setenv("REELSTACK_CORS_ALLOW_ORIGINS", "https://watch.example.com")
    monkeypatch.setenv("REELSTACK_TOKEN_KEY_SECRET", KEY_SECRET)
    monkeypatch.setenv("REELSTACK_URL_SIGNING_SECRET", URL_SECRET)
    monkeypatch.setenv("REELSTACK_MEDIA_KEY_SECRET", MEDIA_SECRET)
    result = CliRunner().invoke(cli_app, ["api"])
    assert result.exit_code == 0, result.output
    assert cli_env[0].env == "production"


def test_production_refuses_a_demo_password(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        env="production",
        admin_api_key=SecretStr("k" * 48),
        cors_allow_origins="https://tv.example.com",
        token_key_secret=SecretStr(KEY_SECRET),
        url_signing_secret=SecretStr(URL_SECRET),
        media_key_secret=SecretStr(MEDIA_SECRET),
        demo_password=SecretStr("a long and private password"),
    )
    problems = settings.production_problems()
    assert problems == ["REELSTACK_DEMO_PASSWORD is set: demo accounts belong to demo mode only"]
