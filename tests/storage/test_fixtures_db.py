"""The database fixtures skip without PostgreSQL, but fail instead under CI=true."""

import re

import pytest

from tests import fixtures_db


@pytest.fixture
def no_postgres(monkeypatch):
    monkeypatch.delenv(fixtures_db.POSTGRES_URL_ENV, raising=False)
    monkeypatch.setattr(fixtures_db, "_port_answers", lambda host, port: False)
    return monkeypatch


def test_missing_postgres_skips_with_the_reason(no_postgres):
    no_postgres.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=re.escape(fixtures_db.POSTGRES_UNAVAILABLE)):
        fixtures_db._postgres_base_url()


def test_missing_postgres_fails_under_ci(no_postgres):
    no_postgres.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="COACHBOT_TEST_POSTGRES_URL unset"):
        fixtures_db._postgres_base_url()


def test_the_environment_variable_wins(monkeypatch):
    url = "postgresql+asyncpg://ci@db.internal:5432/ci"
    monkeypatch.setenv(fixtures_db.POSTGRES_URL_ENV, url)
    assert fixtures_db._postgres_base_url() == url


def test_an_answering_local_server_is_used(no_postgres):
    no_postgres.setattr(fixtures_db, "_port_answers", lambda host, port: True)
    assert fixtures_db._postgres_base_url() == fixtures_db.DEFAULT_POSTGRES_URL
