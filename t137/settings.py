"""Settings, read once from the environment (prefix ``T137_``) and frozen."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Frozen project settings.

    Every field can be set with an environment variable ``T137_<NAME>`` (for example
    ``T137_STORE_URL``) or a ``.env`` file in the working directory.
    """

    model_config = SettingsConfigDict(
        env_prefix="T137_", env_file=".env", frozen=True, extra="ignore"
    )

    store_url: str = Field(
        "data/store", description="Embedded store directory or postgresql+psycopg:// URL."
    )
    shared_data: Path | None = Field(
        None, description="Folder holding tehran/ and nyc311/ reference data (../shared/data)."
    )
    boundaries: Path | None = Field(
        None, description="Boundary directory written by `t137 boundaries import`."
    )
    snap_tolerance_m: float = Field(
        200.0, ge=0, description="Snap points this close outside the city, in metres."
    )
    placeholder_points: tuple[tuple[float, float], ...] = Field(
        ((51.389, 35.6892), (51.4, 35.7)),
        description=(
            "(lon, lat) pairs that operators type when the location is unknown (city centre)."
        ),
    )
    hash_key: SecretStr = Field(
        SecretStr("t137-development-key-change-me"),
        description=(
            "Secret key of the HMAC-SHA256 that pseudonymizes phone numbers and national ids."
        ),
    )
    timezone: str = Field(
        "Asia/Tehran", description="Time zone in which local dates are read and shown."
    )

    def tehran_dir(self) -> Path | None:
        """Return the real Tehran boundary folder when it exists, else None."""
        if self.shared_data is None:
            return None
        path = self.shared_data / "tehran"
        return path if path.is_dir() else None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read from the environment on first use."""
    return Settings()
