from __future__ import annotations

import pytest
from pydantic import ValidationError

from beatstream.settings import Settings


def test_flat_environment_names_fill_nested_sections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONGODB_URL", "mongodb://u:pw@a:1,b:2/?replicaSet=rs0")
    monkeypatch.setenv("MONGODB_DB", "catalogue")
    monkeypatch.setenv("MONGODB_CONNECT_TIMEOUT_MS", "750")
    monkeypatch.setenv("ELASTICSEARCH_URL", "http://es1:9200, http://es2:9200")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/2")
    monkeypatch.setenv("LOG_LEVEL", "debug")

    settings = Settings(_env_file=None)

    assert settings.mongodb.db == "catalogue"
    assert settings.mongodb.connect_timeout_ms == 750
    assert settings.mongodb.safe_url == "mongodb://u:***@a:1,b:2/?replicaSet=rs0"
    assert settings.elasticsearch.hosts == ["http://es1:9200", "http://es2:9200"]
    assert settings.redis.url == "redis://cache:6379/2"
    assert settings.log.level == "DEBUG"


def test_invalid_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_PORT", "70000")
    with pytest.raises(ValidationError) as excinfo:
        Settings(_env_file=None)
    assert excinfo.value.errors()[0]["loc"] == ("api", "port")


def test_printing_settings_never_shows_a_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONGODB_URL", "mongodb://u:topsecret@db:27017")
    monkeypatch.setenv("REDIS_URL", "redis://:hunter2@cache:6379/0")
    settings = Settings(_env_file=None)
    for shown in (repr(settings), str(settings), repr(settings.mongodb), f"{settings.redis}"):
        assert "topsecret" not in shown
        assert "hunter2" not in shown
    assert "mongodb://u:***@db:27017" in repr(settings)
    assert settings.mongodb.url == "mongodb://u:topsecret@db:27017"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MONGODB_URL", "postgres://db:5432"),
        ("ELASTICSEARCH_URL", "http://es1:9200,es2:9200"),
        ("REDIS_URL", "localhost:6379"),
        ("MONGODB_URL", ""),
    ],
)
def test_a_url_with_the_wrong_scheme_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as excinfo:
        Settings(_env_file=None)
    assert "_".join(map(str, excinfo.value.errors()[0]["loc"])).upper() == variable


def test_the_jwt_secret_comes_from_its_variable_and_is_never_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = "s3cret-" + "q" * 40
    monkeypatch.setenv("SECURITY_JWT_SECRET", secret)
    monkeypatch.setenv("SECURITY_ACCESS_TOKEN_TTL_S", "300")

    settings = Settings(_env_file=None)

    assert settings.security.jwt_secret is not None
    assert settings.security.jwt_secret.get_secret_value() == secret
    assert settings.security.access_token_ttl_s == 300
    assert secret not in repr(settings)


def test_an_empty_jwt_secret_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECURITY_JWT_SECRET", "")
    assert Settings(_env_file=None).security.jwt_secret is None


def test_a_short_jwt_secret_is_refused_without_echoing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECURITY_JWT_SECRET", "short-secret-value")
    with pytest.raises(ValidationError) as excinfo:
        Settings(_env_file=None)
    assert excinfo.value.errors()[0]["loc"] == ("security", "jwt_secret")
    assert "short-secret-value" not in str(excinfo.value)


def test_thirdparty_section_from_flat_names_secret_never_printed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("THIRDPARTY_PSEUDONYM_SECRET", "s3cret-" + "x" * 30)
    monkeypatch.setenv("THIRDPARTY_MIN_GROUP_SIZE", "7")
    settings = Settings(_env_file=None)
    assert settings.thirdparty.min_group_size == 7
    assert settings.thirdparty.pseudonym_secret is not None
    assert "s3cret" not in repr(settings)
    assert "s3cret" not in str(settings.thirdparty)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", None), ("short", "error")],
)
def test_thirdparty_secret_empty_is_unset_and_short_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: str | None
) -> None:
    monkeypatch.setenv("THIRDPARTY_PSEUDONYM_SECRET", value)
    if expected is None:
        assert Settings(_env_file=None).thirdparty.pseudonym_secret is None
    else:
        with pytest.raises(ValidationError, match=r"thirdparty\.pseudonym_secret"):
            Settings(_env_file=None)
