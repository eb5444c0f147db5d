"""Settings from `WUYOU_*` environment variables, built once at the edge and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WUYOU_", extra="ignore")

    database_url: str = "sqlite:///./wuyou.db"
    redis_url: str | None = None
    redis_prefix: str = "wuyou:"
    # Redis behind Sentinel: "host:port,host:port" and the monitored master's name (the URL's password and
    # database number still apply).
    redis_sentinels: str | None = None
    redis_sentinel_master: str = "mymaster"
    # Each process's PostgreSQL pool; behind PgBouncer in transaction mode, no server-side prepared statements.
    db_pool_size: int = Field(default=5, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_pgbouncer: bool = False
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""  # links in chat messages; defaults to http://host:port
    timezone: str = "Asia/Shanghai"
    locale: str = "zh-CN"
    log_format: Literal["text", "json"] = "text"  # json: one object per line, with request and ticket ids
    # The outbox delivery loop runs inside the web server unless a separate `wuyou worker` does it.
    inprocess_worker: bool = True
    worker_poll_seconds: float = Field(default=0.5, gt=0)
    # Queue care by the worker: remind a team of an unclaimed ticket (and again as often), release a
    # claim with no action (0: never), close a resolution the reporter never answered; remind a reporter who has
    # not answered an engineer's question (once, in business hours) and resolve the ticket when they never do
    # (0: a question waits for ever).
    remind_unclaimed_minutes: float = Field(default=30, gt=0)
    remind_unclaimed_times: int = Field(default=3, ge=1)  # (in the ticket's hours; then the SLA breach)
    auto_release_minutes: float = Field(default=240, ge=0)
    auto_close_days: float = Field(default=3, gt=0)
    remind_waiting_hours: float = Field(default=24, gt=0)
    resolve_waiting_days: float = Field(default=3, ge=0)
    # Surge detection: offer a major incident at N similar reports from M branches within the window,
    # declare it automatically at the second pair of thresholds.
    surge_min_reports: int = Field(default=5, ge=2)
    surge_min_branches: int = Field(default=3, ge=1)
    surge_window_minutes: float = Field(default=30, gt=0)
    surge_auto_reports: int = Field(default=10, ge=2)
    surge_auto_branches: int = Field(default=6, ge=1)
    # While the first ticket of a category waits unclaimed in a team's queue, the team hears of the next ones on
    # one grouped card held back up to this long (0: every ticket is announced on its own at once).
    group_tickets_minutes: float = Field(default=10, ge=0)
    # Inbound limits per minute: a person (staff have their own, higher one) and a whole branch. The first
    # message over a limit gets a polite "please wait", the rest of the minute nothing.
    rate_person_per_minute: int = Field(default=20, ge=1)
    rate_staff_per_minute: int = Field(default=120, ge=1)
    rate_branch_per_minute: int = Field(default=300, ge=1)
    # Outgoing webhooks to loopback, link-local (cloud metadata) and private addresses are refused unless allowed:
    # an admin's typo, or a stolen admin token, must not make the desk call its own or its neighbours' APIs.
    webhooks_allow_private: bool = False
    # Loaded into an empty database by `make run` / `wuyou serve --demo`.
    demo_dir: Path | None = None
    channels_file: Path | None = None
    # Attachment contents (photos, voice, files); give every process the same folder (a shared volume).
    media_dir: Path = Path("media")
    # Or an S3-compatible bucket (needs `pip install 'wuyou[s3]'`); credentials here or boto3's usual chain.
    media_s3_bucket: str | None = None
    media_s3_endpoint_url: str | None = None
    media_s3_region: str = "us-east-1"
    media_s3_access_key: str | None = None
    media_s3_secret_key: str | None = None
    # Monitoring alerts (`POST /api/v1/alerts`): the shared secret, and which `severity` labels declare an
    # incident, comma-separated (`critical,page`); read as a set through `alerts_declaring`.
    alerts_secret: SecretStr | None = None
    alerts_declare: str = "critical"
    # The HTTP chat channel (`/channels/http/…`, the web chat page) takes whatever `user` it is told: open for the
    # demo and tests, it lets anyone who reaches the server act and read as anyone. In production either close it
    # or let only a gateway that has signed its users in use it, with this shared secret as a Bearer token.
    http_channel: bool = True
    http_channel_token: SecretStr | None = None
    # `GET /metrics` (counts only, nothing about people): open when unset, else only with this Bearer token
    # (Prometheus: `authorization: {credentials: …}` in the scrape config).
    metrics_token: SecretStr | None = None

    @field_validator("redis_url", "redis_sentinels", "channels_file", "demo_dir", "media_s3_bucket",
                     "media_s3_endpoint_url", "media_s3_access_key", "media_s3_secret_key",
                     "alerts_secret", "http_channel_token", "metrics_token", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def engine_options(self) -> dict[str, Any]:
        """make_engine's pool options for a server database (SQLite keeps its own)."""
        if self.database_url.startswith("sqlite"):
            return {}
        options: dict[str, Any] = {"pool_size": self.db_pool_size, "max_overflow": self.db_max_overflow}
        if self.db_pgbouncer:
            options["connect_args"] = {"prepare_threshold": None}
        return options

    @property
    def alerts_declaring(self) -> frozenset[str]:
        """The `severity` label values that declare an incident, lower-case."""
        return frozenset(s.strip().lower() for s in self.alerts_declare.split(",") if s.strip())

    @property
    def http_channel_open(self) -> bool:
        """Whether anyone may talk and read as anyone through the HTTP chat channel (on, without a token)."""
        return self.http_channel and self.http_channel_token is None

    @property
    def link_base(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")
