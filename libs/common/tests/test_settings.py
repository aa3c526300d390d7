from __future__ import annotations

import pytest
from posada_common.settings import CommonSettings, SettingsError, is_placeholder, load_settings
from posada_common.testing import shared_test_credentials
from pydantic import SecretStr


class DemoSettings(CommonSettings):
    service_name: str = "demo"
    api_token: SecretStr = SecretStr("dev-token")


def test_settings_read_environment_variables_by_field_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRPC_PORT", "51234")
    monkeypatch.setenv("MESH_ADDRESS", "envoy:9000")
    settings = load_settings(DemoSettings)
    assert settings.grpc_port == 51234
    assert settings.mesh_address == "envoy:9000"


def test_bad_value_exits_with_a_message_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GRPC_PORT", "not-a-port")
    with pytest.raises(SettingsError) as exc:
        load_settings(DemoSettings)
    assert exc.value.code == 2
    assert "GRPC_PORT" in capsys.readouterr().err


def test_production_refuses_placeholder_secrets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(SettingsError):
        load_settings(DemoSettings)
    err = capsys.readouterr().err
    assert "API_TOKEN" in err
    assert "dev-token" not in err, "the secret itself must never be printed"


def test_production_accepts_real_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    for var, value in shared_test_credentials().env_for("pms").items():
        monkeypatch.setenv(var, value)
    monkeypatch.setenv("API_TOKEN", "s3cr3t-9f2c1d8e7a6b")
    assert load_settings(DemoSettings).api_token.get_secret_value() == "s3cr3t-9f2c1d8e7a6b"


def test_development_allows_dev_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "development")
    assert load_settings(DemoSettings).api_token.get_secret_value() == "dev-token"


@pytest.mark.parametrize(
    "value", ["", "  ", "changeme", "dev-secret", "PLACEHOLDER", "example-key"]
)
def test_placeholders_are_recognised(value: str) -> None:
    assert is_placeholder(value)


def test_secret_is_hidden_in_repr() -> None:
    assert "dev-token" not in repr(DemoSettings())


def test_production_refuses_to_start_without_mesh_credentials(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("API_TOKEN", "s3cr3t-9f2c1d8e7a6b")
    with pytest.raises(SettingsError):
        load_settings(DemoSettings)
    err = capsys.readouterr().err
    assert "MESH_PRIVATE_KEY" in err and "MESH_PUBLIC_KEYS" in err


def test_a_random_key_that_happens_to_contain_a_placeholder_word_is_accepted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("API_TOKEN", "s3cr3t-9f2c1d8e7a6b")
    for var, value in shared_test_credentials().env_for("pms").items():
        monkeypatch.setenv(var, value)
    monkeypatch.setenv("MESH_PRIVATE_KEY", "xxxTODOdev-" + "A" * 32)  # valid 32-byte key
    assert load_settings(DemoSettings).mesh_private_key.get_secret_value().startswith("xxx")


def test_a_malformed_mesh_key_is_named_but_never_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MESH_PRIVATE_KEY", "not-a-key-but-a-secret-9f2c1d")
    with pytest.raises(SettingsError):
        load_settings(DemoSettings)
    err = capsys.readouterr().err
    assert "MESH_PRIVATE_KEY" in err and "9f2c1d" not in err
