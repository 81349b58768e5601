"""Settings, read from CASERECORD_* environment variables (and .env), and their translation
into the eventsourcing library's environment."""

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./var/caserecord.db"


class ConfigError(Exception):
    """A setting is unusable; the message is one line a person can act on."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CASERECORD_", env_file=".env", env_ignore_empty=True, extra="ignore"
    )

    database_url: str = DEFAULT_DATABASE_URL
    aggregate_cache_size: int = Field(default=1000, ge=0)
    read_your_writes_timeout: float = Field(default=5.0, gt=0)
    poll_interval: float = Field(default=0.2, gt=0)
    max_page_size: int = Field(default=500, ge=1)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    run_projections: bool = True
    # How long the API trusts a token it found active without asking the store again: a
    # token revoked by another process (a worker, the CLI) is refused here within this time.
    # 0 (the default) looks every token up on every request. Off by default because that
    # lookup is also what makes a request fail at once when PostgreSQL goes away: past it,
    # the event store's reads and writes retry a lost connection for tens of seconds.
    token_cache_seconds: float = Field(default=0.0, ge=0)
    # How often a process that does not run the views asks for the runner lock again: the
    # longest a standby waits to take over from a runner process that died.
    projection_lock_retry: float = Field(default=2.0, gt=0)
    # Roles that may disclose without consent in a medical emergency ("break the glass"),
    # comma separated.
    break_glass_roles: str = "supervisor"

    @field_validator("break_glass_roles")
    @classmethod
    def _known_roles(cls, roles: str) -> str:
        known = {"caseworker", "supervisor", "compliance_reviewer", "admin"}
        named = {r.strip() for r in roles.split(",") if r.strip()}
        if not named or named - known:
            raise ValueError(f"must name roles among {', '.join(sorted(known))}")
        return ",".join(sorted(named))

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, url: str) -> str:
        database_env(url)
        return url

    def eventsourcing_env(self, *, create_table: bool = False) -> dict[str, str]:
        env = database_env(self.database_url)
        env["CREATE_TABLE"] = "y" if create_table else "n"
        # Carries each event's agency to the recorder, which indexes it for the event feed.
        env["MAPPER_TOPIC"] = "caserecord.persistence.feed:AgencyMapper"
        env["BREAK_GLASS_ROLES"] = self.break_glass_roles
        # The library reads a maximum size of 0 as "unbounded"; here 0 means no cache.
        if self.aggregate_cache_size > 0:
            env["AGGREGATE_CACHE_MAXSIZE"] = str(self.aggregate_cache_size)
            # Commands get a copy, so one that fails half-way cannot corrupt the cached case;
            # pinned here because the library would otherwise take it from os.environ.
            env["DEEPCOPY_FROM_AGGREGATE_CACHE"] = "y"
        return env


def load_settings() -> Settings:
    """Settings from the environment, or a ConfigError naming the first bad variable."""
    try:
        return Settings()
    except ValidationError as e:
        error = e.errors()[0]
        name = "CASERECORD_" + "_".join(str(part) for part in error["loc"]).upper()
        value = error.get("input")
        raise ConfigError(f"invalid setting {name}={value!r}: {error['msg']}") from None


def database_env(url: str) -> dict[str, str]:
    """Translate CASERECORD_DATABASE_URL into the library's persistence settings."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)
        if url.startswith("sqlite:///"):
            path = url[len("sqlite:///") :]
        if not path:
            raise ConfigError(f"database URL {url!r} names no SQLite file")
        if path != ":memory:":
            folder = Path(path).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise ConfigError(
                    f"cannot create the folder {str(folder)!r} for the SQLite file: "
                    f"{e.strerror or e}"
                ) from None
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": "10",
            "APPLICATION_RECORDER_TOPIC": (
                "caserecord.persistence.sqlite:ChainedSQLiteApplicationRecorder"
            ),
        }
    if parsed.scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        dbname = parsed.path.lstrip("/")
        if not dbname:
            raise ConfigError(f"database URL {url!r} names no PostgreSQL database")
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": unquote(dbname),
            "POSTGRES_HOST": parsed.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parsed.port or 5432),
            "POSTGRES_USER": unquote(parsed.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parsed.password or ""),
            "POSTGRES_CONNECT_TIMEOUT": "5",
            "APPLICATION_RECORDER_TOPIC": (
                "caserecord.persistence.postgres:ChainedPostgresApplicationRecorder"
            ),
        }
        schema = parse_qs(parsed.query).get("schema")
        if schema:
            env["POSTGRES_SCHEMA"] = schema[0]
        return env
    raise ConfigError(
        f"unsupported database URL {url!r}: use sqlite:///PATH or postgresql://HOST/DB"
    )
