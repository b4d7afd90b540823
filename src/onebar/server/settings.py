"""The service's settings, with one precedence: flag, then environment (`ONEBAR_*`), then the config
file (`ONEBAR_CONFIG`, TOML), then the default. Nothing is read until `ServiceSettings()` is built.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from onebar.errors import UsageError
from onebar.settings import database_url, default_database_path


class ServiceSettings(BaseSettings):
    """Everything `onebar serve` can be told; each field is also ONEBAR_<FIELD> and a key of the config file."""

    model_config = SettingsConfigDict(env_prefix="ONEBAR_", extra="forbid", validate_default=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    workers: int = Field(default=1, ge=1, le=64, description="app processes (uvicorn workers)")
    database_url: str | None = Field(default=None, description="the store; default: the embedded SQLite file")
    data_dir: Path | None = Field(default=None, description="mirrors and charters of owned repositories")
    job_workers: int = Field(
        default=1, ge=0, le=16, description="job worker threads per process (0: this process runs no jobs)"
    )
    job_process: bool = Field(
        default=True,
        description="run the job workers in a child process (`onebar worker`), so jobs never slow requests "
        "down (false: threads of the serving process)",
    )
    job_lease: int = Field(default=60, ge=2, description="seconds a claimed job is held without a renewal")
    job_poll: float = Field(default=1.0, gt=0, description="seconds between looks at an idle queue")
    fetch_interval: int = Field(
        default=900, ge=0, description="seconds between scheduled fetch+ingest of every repository (0: off)"
    )
    sweep_interval: int = Field(default=3600, ge=0, description="seconds between expiry sweeps (0: off)")
    cluster: str | None = Field(
        default=None, description="Dask scheduler for multi-repository ingest ('local' or tcp://host:8786)"
    )
    metrics_public: bool = Field(default=False, description="serve /metrics without a token")
    public_docs: bool = Field(default=True, description="serve /openapi.json and /docs without a token")
    session_ttl: int = Field(
        default=12 * 3600, ge=60, description="seconds a browser session lasts (never past its token)"
    )
    secure_cookies: bool | None = Field(
        default=None, description="Secure cookies; default: when the request came over TLS"
    )
    shutdown_timeout: int = Field(
        default=30, ge=1, description="seconds to finish in-flight requests and jobs on shutdown"
    )
    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="largest request body accepted")
    max_hook_body_bytes: int = Field(
        default=25 * 1024 * 1024, ge=1024, description="largest webhook delivery accepted (GitHub sends up to 25 MB)"
    )
    log_level: str = "info"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config = os.environ.get("ONEBAR_CONFIG")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if config:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(config)))
        return tuple(sources)

    @property
    def store_url(self) -> str:
        return database_url(self.database_url)

    @property
    def data_path(self) -> Path:
        return self.data_dir if self.data_dir is not None else default_database_path().parent / "service"


def load_settings(**flags: Any) -> ServiceSettings:
    """Settings from flags (None means not given), the environment and the config file; a bad value
    is a UsageError naming the field."""
    given = {k: v for k, v in flags.items() if v is not None}
    config = os.environ.get("ONEBAR_CONFIG")
    if config and not Path(config).is_file():
        raise UsageError(f"ONEBAR_CONFIG names {config}, which is not a file", field="config")
    try:
        return ServiceSettings(**given)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = ".".join(str(p) for p in err["loc"]) or "settings"
        raise UsageError(f"{err['msg']} (got {err.get('input')!r})", field=name) from None
    except (OSError, ValueError) as exc:  # an unreadable or malformed config file
        raise UsageError(f"{config}: {exc}", field="config") from None
