"""Settings: defaults, environment overrides and the production secret rule."""

import pytest
from pydantic import ValidationError

from common.settings import EXAMPLE_JWT_SECRET, ServiceSettings


def test_settings_read_environment(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1, 127.0.0.1:2")
    monkeypatch.setenv("TOPIC_TASK_EVENTS_PARTITIONS", "12")

    settings = ServiceSettings()

    assert settings.bootstrap_servers == ["127.0.0.1:1", "127.0.0.1:2"]
    assert settings.topic_task_events_partitions == 12


def test_settings_reject_invalid_partition_count(monkeypatch):
    monkeypatch.setenv("TOPIC_TASK_EVENTS_PARTITIONS", "0")

    with pytest.raises(ValidationError, match="topic_task_events_partitions"):
        ServiceSettings()


def test_production_rejects_example_secret():
    with pytest.raises(ValidationError, match="openssl rand -hex 32"):
        ServiceSettings(environment="production", jwt_secret=EXAMPLE_JWT_SECRET)


def test_production_rejects_short_secret():
    with pytest.raises(ValidationError, match="shorter than 32"):
        ServiceSettings(environment="production", jwt_secret="x" * 31)


def test_production_accepts_strong_secret():
    settings = ServiceSettings(environment="production", jwt_secret="a" * 64)

    assert settings.environment == "production"


def test_development_allows_example_secret():
    assert ServiceSettings(environment="development").jwt_secret == EXAMPLE_JWT_SECRET
