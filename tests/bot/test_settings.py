from pathlib import Path

import pytest

from bot.settings import Secret, Settings, SettingsError, ensure_config_file, load_settings

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_example_config_is_valid_and_equals_the_defaults():
    assert load_settings(ROOT / "config.example.toml", environ={}) == Settings()


def test_missing_file_means_defaults():
    settings = load_settings(Path("/nonexistent/config.toml"), environ={})
    assert settings.database_url == "sqlite+aiosqlite:///data/coachbot.db"
    assert settings.discord_token is None
    assert not settings.stripe_configured


@pytest.mark.parametrize(
    ("toml", "key", "what"),
    [
        ("[web]\nport = 70000", "web.port", "1 to 65535"),
        ("[web]\nport = 'eighty'", "web.port", "1 to 65535"),
        ("[web]\npublic_url = 'ftp://x'", "web.public_url", "http"),
        ("[bot]\nlog_level = 'LOUD'", "bot.log_level", "one of"),
        ("[bot]\ndev_guild_ids = ['abc']", "bot.dev_guild_ids", "server ids"),
        ("[bot]\nsync_commands_on_start = 'yes'", "bot.sync_commands_on_start", "true or false"),
        ("[booking]\nhold_minutes = 10", "booking.hold_minutes", "at least 30"),
        ("[booking]\nreminder_offsets_minutes = [-5]", "booking.reminder_offsets_minutes", "1 to"),
        ("[database]\nurl = 'mysql://x'", "database.url", "sqlite+aiosqlite://"),
        ("[meetings]\njitsi_base_url = 'meet'", "meetings.jitsi_base_url", "http"),
        ("[web]\nprot = 1", "web.prot", "unknown key"),
        ("[webb]\nport = 1", "[webb]", "unknown section"),
    ],
)
def test_invalid_setting_names_key_and_problem_in_one_line(tmp_path, toml, key, what):
    with pytest.raises(SettingsError) as info:
        load_settings(write(tmp_path, toml), environ={})
    message = str(info.value)
    assert key in message
    assert what in message
    assert "\n" not in message


def test_broken_toml_is_one_line(tmp_path):
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(write(tmp_path, "[web\nport=1"), environ={})


def test_environment_supplies_secrets_and_database_url(tmp_path):
    env = {
        "DISCORD_TOKEN": "tok-123456",
        "STRIPE_SECRET_KEY": "sk_test_abcdef",
        "STRIPE_WEBHOOK_SECRET": "whsec_abcdef",
        "DATABASE_URL": "postgresql+asyncpg://u:pw@db/coach",
    }
    settings = load_settings(write(tmp_path, ""), environ=env)
    assert settings.discord_token is not None
    assert settings.discord_token.reveal() == "tok-123456"
    assert settings.stripe_configured
    assert settings.database_url == "postgresql+asyncpg://u:pw@db/coach"


def test_bad_database_url_from_environment_is_named_and_password_hidden(tmp_path):
    with pytest.raises(SettingsError) as info:
        load_settings(write(tmp_path, ""), environ={"DATABASE_URL": "mysql://u:hunter22@db/x"})
    assert "DATABASE_URL" in str(info.value)
    assert "hunter22" not in str(info.value)


def test_stripe_key_must_look_like_a_stripe_key(tmp_path):
    with pytest.raises(SettingsError, match="STRIPE_SECRET_KEY"):
        load_settings(write(tmp_path, ""), environ={"STRIPE_SECRET_KEY": "pk_test_public"})


def test_secrets_never_show_in_repr():
    settings = Settings(discord_token=Secret("super-secret-token"))
    assert "super-secret-token" not in repr(settings)
    assert "super-secret-token" not in str(settings.discord_token)


def test_config_is_copied_from_example_only_on_first_run(tmp_path):
    example = tmp_path / "config.example.toml"
    example.write_text("[web]\nport = 9000\n")
    target = tmp_path / "config.toml"
    assert ensure_config_file(target, example)
    assert target.read_text() == example.read_text()
    target.write_text("[web]\nport = 9001\n")
    assert not ensure_config_file(target, example)
    assert "9001" in target.read_text()
