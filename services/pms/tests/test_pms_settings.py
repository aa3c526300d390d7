"""Settings fail fast with clear messages; production refuses the dev key."""

from __future__ import annotations

import pytest
from posada_common.settings import SettingsError, load_settings
from posada_common.testing import shared_test_credentials
from posada_pms.settings import DEV_PMS_API_KEY, PmsSettings

# Valid mesh credentials, so each test sees only the failure it is about.
MESH = {k.lower(): v for k, v in shared_test_credentials().env_for("pms").items()}


def test_development_defaults_point_at_the_local_stand_in() -> None:
    s = PmsSettings(environment="development")
    assert s.pms_base_url == "http://127.0.0.1:8095"
    assert s.pms_api_key.get_secret_value() == DEV_PMS_API_KEY
    assert s.grpc_port == 50054 and s.metrics_port == 9454


def test_production_refuses_the_dev_key(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SettingsError):
        load_settings(PmsSettings, environment="production", **MESH)
    assert "PMS_API_KEY" in capsys.readouterr().err


def test_bad_values_are_named(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SettingsError):
        load_settings(
            PmsSettings, pms_base_url="qloapps.local", pms_api_key="short", pms_read_retries=-1
        )
    err = capsys.readouterr().err
    assert "PMS_BASE_URL" in err and "PMS_API_KEY" in err and "PMS_READ_RETRIES" in err


def test_production_accepts_a_real_key() -> None:
    s = load_settings(
        PmsSettings,
        environment="production",
        pms_api_key="K7Q2M9X4ZP1L8W3R6T5Y0U2I4O6P8A1S",
        **MESH,
    )
    assert s.environment == "production"


def test_production_refuses_the_mesh_runner_dev_key() -> None:
    with pytest.raises(SettingsError):
        load_settings(
            PmsSettings, environment="production", pms_api_key="DEVKEYPOSADA0000000000000000000Q"
        )
