"""One typed settings object, read once from ``HOTLINE_*`` variables and ``<data dir>/hotline.env``.

Secrets (the session key, database passwords) come only from the environment or the data
directory; the secret key is generated into the data directory on first start.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from hotline.core.foundation.channel_settings import ChannelSettings, http_address

SUPPORTED_LANGUAGES = ("zh_CN", "en")


class Settings(ChannelSettings):
    """Everything the hotline can be told. Field docs are what ``hotline check`` prints."""

    model_config = SettingsConfigDict(
        env_prefix="HOTLINE_", extra="ignore", env_file_encoding="utf-8"
    )

    data_dir: Path = Field(
        Path("hotline-data"), description="where the database, files and keys live"
    )
    database_url: str = Field(
        "", description="SQLAlchemy async URL; empty means SQLite in data_dir"
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    public_url: str = Field("", description="the address citizens see; printed at start")
    default_language: Literal["zh_CN", "en"] = "zh_CN"
    timezone: str = Field("Asia/Shanghai", description="the hotline's local time, for deadlines")
    default_region: str = Field(
        "CN", min_length=2, max_length=2, description="for local phone numbers"
    )
    jobs_in_process: bool = Field(True, description="run jobs inside `serve` (embedded default)")
    job_workers: int = Field(2, ge=1, le=64)
    job_poll_seconds: float = Field(
        0.05, ge=0.01, le=10, description="how often idle job workers look for new jobs"
    )
    job_lease_seconds: float = Field(
        60,
        ge=1,
        le=3600,
        description="how long a follow-up job (acknowledgement, reply, transcription) is held by"
        " the worker running it, renewed while it runs; a job whose worker died runs again after",
    )
    job_relay_seconds: float = Field(
        5,
        ge=0.1,
        le=600,
        description="how often job workers hand again follow-up work that was never handed over"
        " or whose worker died",
    )
    job_reconcile_seconds: float = Field(
        300,
        ge=1,
        le=86400,
        description="how often job workers look for cases lacking their follow-up work (an"
        " acknowledgement, a transcription, a reply's delivery) and write it",
    )
    events_backend: Literal["memory", "redis", "postgres"] = "memory"
    redis_url: str = ""
    plugins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="extra plugin modules to load, comma-separated"
    )
    disabled_plugins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="plugin names not to load, comma-separated"
    )
    trace_plugins: bool = False
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "json", "text"] = Field(
        "auto", description="auto: readable lines on a terminal, JSON lines otherwise"
    )
    map_tile_url: str = Field(
        "",
        description="the portal map's tile server, e.g. https://tiles.example.gov/{z}/{x}/{y}.png;"
        " empty: no map (citizens type the place)",
    )
    map_attribution: str = Field("", description="the tile server's credit line under the map")
    map_center: str = Field(
        "39.9087,116.3975", description="where the portal map opens: latitude,longitude"
    )
    map_zoom: int = Field(13, ge=1, le=19, description="the portal map's opening zoom")
    director_reply_days: int = Field(
        15, ge=1, le=365, description="working days the director's office has to answer a letter"
    )
    max_text_chars: int = Field(20_000, ge=100)
    max_attachments: int = Field(10, ge=0)
    max_attachment_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    max_request_bytes: int = Field(
        64 * 1024 * 1024, ge=64 * 1024, description="largest request body the app reads"
    )
    secret_key: str = Field("", repr=False, description="session signing key; generated when empty")
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="reverse proxies (CIDR, comma-separated) whose X-Forwarded-For and"
        " X-Forwarded-Proto are believed; empty: none, the peer's own address counts",
    )
    header_timeout_seconds: float = Field(
        10, gt=0, le=300, description="a connection must send a request's headers within this"
    )
    keepalive_seconds: float = Field(
        5, gt=0, le=300, description="an idle kept-alive connection is closed after this"
    )
    max_connections: int = Field(
        1000,
        ge=10,
        description="open connections and requests one `serve` process takes; more get a 503",
    )
    max_header_bytes: int = Field(
        16 * 1024, ge=4096, le=1024 * 1024, description="largest request line and headers"
    )
    db_lock_timeout_seconds: float = Field(
        10,
        gt=0,
        le=600,
        description="how long a write waits for a lock (SQLite busy timeout, PostgreSQL"
        " lock_timeout) before the request is answered 503",
    )
    rate_limit_per_minute: int = Field(120, ge=1)
    form_posts_per_minute: int = Field(10, ge=1, description="portal form posts per address")
    console_posts_per_minute: int = Field(
        120, ge=1, description="console form posts per signed-in user (per address before)"
    )
    axd_strategy: Literal[
        "longest_idle",
        "round_robin",
        "fewest_today",
        "least_handling",
        "skill_level",
        "citizen_priority",
        "region",
        "last_agent",
    ] = Field(
        "longest_idle",
        description="how the AXD queue picks among eligible agents; each queue may choose its own",
    )
    axd_offer_seconds: int = Field(
        20, ge=5, description="how long an offer waits for the agent, unless the queue says"
    )
    axd_offers_per_agent: int = Field(
        1, ge=1, le=20, description="offers an agent holds at once (each within their capacity)"
    )
    axd_missed_before_away: int = Field(
        3,
        ge=0,
        le=20,
        description="offers an agent misses in a row before they are set away (0: never)",
    )
    axd_wrap_up_seconds: int = Field(
        30, ge=0, description="after-contact work before the next offer, unless the queue says"
    )
    axd_widen_after_seconds: int = Field(
        60, ge=1, description="skill tiers and regions widen after each such wait"
    )
    axd_repeat_contacts: int = Field(
        3, ge=0, description="cases in 30 days that make a citizen a priority; 0: never"
    )
    require_totp: bool = Field(
        True,
        description="administrators and the director's office must use a second factor"
        " (false relaxes it; anyone may still turn it on)",
    )
    console_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="address ranges allowed to reach the staff console, comma-separated CIDR; empty: any",
    )
    reopen_days: int = Field(
        15, ge=0, description="days after an answer a citizen may ask to reopen"
    )
    holidays_country: str = Field(
        "CN",
        max_length=2,
        description="public holidays and adjusted working days of this country (python-holidays)"
        " under the administrator's own calendar days; empty: weekends only",
    )
    deadline_warn_hours: int = Field(
        4, ge=0, description="working hours before a deadline the department is warned"
    )
    evaluation_days: int = Field(
        7, ge=1, description="days an answered case waits for the citizen's evaluation, then closes"
    )
    # The public edge: what one stranger may cost (see README, "Limits at the public edge").
    lookup_free_attempts: int = Field(
        5, ge=1, description="wrong lookups on one case before each next try waits"
    )
    lookup_delay_seconds: float = Field(
        2.0, gt=0, description="the first wait after those; it doubles with each wrong try"
    )
    lookup_max_delay_seconds: float = Field(900.0, gt=0, description="the longest such wait")
    lookup_failures_per_address: int = Field(
        20, ge=1, description="wrong lookups one address may make in an hour, on any case"
    )
    max_image_pixels: int = Field(
        50_000_000, ge=1_000_000, description="largest photo (width x height) decoded"
    )
    image_workers: int = Field(1, ge=1, le=16, description="photos decoded at once per process")
    signin_per_minute: int = Field(
        120, ge=1, description="console requests per address per minute before signing in"
    )
    chat_starts_free: int = Field(
        3, ge=0, description="chats one address begins in an hour before a proof of work"
    )
    chat_starts_per_address: int = Field(
        20, ge=1, description="chats one address may begin in an hour, at most"
    )
    chat_starts_per_contact: int = Field(
        5, ge=1, description="chats begun with one phone or e-mail in a day, at most"
    )
    chat_pow_bits: int = Field(
        18, ge=1, le=28, description="the proof of work: leading zero bits of SHA-256"
    )

    @field_validator("console_networks", "sms_networks", "trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for network in value:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(f"{network!r} is not an address range (CIDR)") from None
        return value

    @field_validator(
        "plugins",
        "disabled_plugins",
        "console_networks",
        "sms_networks",
        "trusted_proxies",
        "phone_numbers",
        "phone_turn_urls",
        mode="before",
    )
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// (an async driver)"
            )
        return value

    @field_validator("map_tile_url")
    @classmethod
    def _tile_url(cls, value: str) -> str:
        return http_address(value)

    @field_validator("map_center")
    @classmethod
    def _map_center(cls, value: str) -> str:
        try:
            lat, lon = (float(part) for part in value.split(","))
        except ValueError:
            raise ValueError("must be latitude,longitude") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValueError("must be latitude,longitude")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _backends_need_urls(self) -> Settings:
        if self.events_backend == "redis" and not self.redis_url:
            raise ValueError("HOTLINE_EVENTS_BACKEND=redis needs HOTLINE_REDIS_URL")
        if self.events_backend == "postgres" and not self.is_postgres:
            raise ValueError(
                "HOTLINE_EVENTS_BACKEND=postgres needs a PostgreSQL HOTLINE_DATABASE_URL"
            )
        return self

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir.resolve() / 'hotline.db'}"

    @property
    def is_postgres(self) -> bool:
        return self.db_url.startswith("postgresql")

    @property
    def speech_models(self) -> Path:
        return self.speech_models_dir or self.data_dir / "speech-models"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}/"


def env_file(environ: os._Environ[str] | dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get("HOTLINE_DATA_DIR", "hotline-data")) / "hotline.env"


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment and the data directory's ``hotline.env``."""
    return Settings(_env_file=env_file(), **overrides)  # type: ignore[call-arg]  # pydantic-settings keyword


def problems() -> list[str]:
    """Every missing or invalid setting, one line each (for ``hotline check``)."""
    try:
        settings = load_settings()
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = "_".join(str(part) for part in err["loc"]) if err["loc"] else ""
            name = f"HOTLINE_{loc.upper()}" if loc else "settings"
            lines.append(f"{name}: {err['msg']}")
        return lines
    found: list[str] = []
    data_dir = settings.data_dir
    probe = data_dir if data_dir.exists() else data_dir.parent.resolve()
    if not os.access(probe, os.W_OK):
        found.append(f"HOTLINE_DATA_DIR: {data_dir} is not writable")
    if settings.public_url and not settings.public_url.startswith(("http://", "https://")):
        found.append("HOTLINE_PUBLIC_URL: must start with http:// or https://")
    if not settings.jobs_in_process and settings.events_backend == "memory":
        found.append(
            "HOTLINE_EVENTS_BACKEND: 'memory' cannot carry events from `hotline worker` processes"
            " to the screens; use postgres or redis with HOTLINE_JOBS_IN_PROCESS=false"
        )
    return found


def ensure_secret_key(settings: Settings) -> str:
    """The session key: from the environment, else from ``<data dir>/secret_key`` (made once)."""
    if settings.secret_key:
        return settings.secret_key
    path = settings.data_dir / "secret_key"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
