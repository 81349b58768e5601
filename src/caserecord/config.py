"""Settings, read from CASERECORD_* environment variables (and .env), and their translation
into the eventsourcing library's environment."""

import os
import secrets
from pathlib import Path
from typing import Self
from urllib.parse import parse_qs, unquote, urlparse

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./var/caserecord.db"
# Where `db init` keeps the integrity key of a PostgreSQL store when no path is configured
# (a SQLite store's sits next to its file).
DEFAULT_POSTGRES_KEY_FILE = "./var/caserecord-integrity.key"
KEY_BYTES = 32


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
    # The longest a case of a specialty may go without client contact before the worklist
    # shows it ("substance_abuse=7,mental_health=14"); specialties not named keep their
    # defaults (projections/worklist.py DEFAULT_CONTACT_DAYS).
    contact_standard_days: str = ""
    # The web console's sessions: ended after this long without a page view, and this long
    # after sign-in whatever the use.
    # Networks of agencies that share one resource directory: "north:agency-a,agency-b;
    # south:agency-c"; an agency in none keeps its own.
    directory_networks: str = ""
    console_idle_minutes: float = Field(default=30.0, gt=0)
    console_session_hours: float = Field(default=12.0, gt=0)
    # The session cookie is `Secure` when the request came over HTTPS (as uvicorn's proxy
    # headers report it); true sends it only over HTTPS whatever the request said.
    console_secure_cookie: bool = False
    # Signed checkpoints (``caserecord chain checkpoint --out DIR/NAME.json``) and the public
    # key that verifies them: the verification of a case names the newest one that covers it.
    checkpoint_dir: Path | None = None
    checkpoint_public_key: Path | None = None
    # Production refuses to start unless the integrity key is given explicitly (a variable or
    # a secrets file), never one made next to the database by `db init`.
    production: bool = False
    integrity_key: SecretStr | None = None
    integrity_key_file: Path | None = None

    @model_validator(mode="after")
    def _production_has_a_key(self) -> Self:
        if self.production and self.integrity_key is None and self.integrity_key_file is None:
            raise ValueError(
                "production mode needs CASERECORD_INTEGRITY_KEY or CASERECORD_INTEGRITY_KEY_FILE"
            )
        return self

    # Roles that may disclose without consent in a medical emergency ("break the glass"),
    # comma separated.
    break_glass_roles: str = "supervisor"
    # Roles that may break the glass to read a case they have no need to know.
    break_glass_read_roles: str = "caseworker,supervisor"

    @field_validator("break_glass_roles", "break_glass_read_roles")
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
        env["DIRECTORY_NETWORKS"] = self.directory_networks
        env["BREAK_GLASS_READ_ROLES"] = self.break_glass_read_roles
        # The library reads a maximum size of 0 as "unbounded"; here 0 means no cache.
        try:
            env["INTEGRITY_KEY"] = self.load_integrity_key(create=create_table).hex()
        except ConfigError as e:
            # Only what writes or checks records needs the key (the service says so when it
            # starts); the views' runners and the runner lock do not.
            env["INTEGRITY_KEY_PROBLEM"] = str(e)
        if self.aggregate_cache_size > 0:
            env["AGGREGATE_CACHE_MAXSIZE"] = str(self.aggregate_cache_size)
            # Commands get a copy, so one that fails half-way cannot corrupt the cached case;
            # pinned here because the library would otherwise take it from os.environ.
            env["DEEPCOPY_FROM_AGGREGATE_CACHE"] = "y"
        return env

    def integrity_key_path(self) -> Path | None:
        """The key file: the configured one, or a default beside a SQLite store's file."""
        if self.integrity_key_file is not None:
            return self.integrity_key_file.expanduser()
        env = database_env(self.database_url)
        if env["PERSISTENCE_MODULE"] == "eventsourcing.postgres":
            return Path(DEFAULT_POSTGRES_KEY_FILE)
        dbname = env["SQLITE_DBNAME"]
        if dbname == ":memory:" or dbname.startswith("file:"):
            return None
        return Path(dbname + ".key").expanduser()

    def load_integrity_key(self, *, create: bool = False) -> bytes:
        """The integrity key; ``create`` (``db init``) makes the default key file if there is
        none, except in production, where the key must be provided."""
        if self.integrity_key is not None:
            return parse_key(self.integrity_key.get_secret_value(), "CASERECORD_INTEGRITY_KEY")
        path = self.integrity_key_path()
        if path is None:
            raise ConfigError("an in-memory store needs CASERECORD_INTEGRITY_KEY")
        if not path.exists() and create and not self.production:
            write_new_key(path)
        try:
            text = path.read_text()
        except FileNotFoundError:
            raise ConfigError(
                f"no integrity key at {path}: run `caserecord db init`, or set "
                "CASERECORD_INTEGRITY_KEY_FILE to the key's file"
            ) from None
        except OSError as e:
            raise ConfigError(f"cannot read the integrity key {path}: {e.strerror}") from None
        return parse_key(text, str(path))


def parse_key(text: str, where: str) -> bytes:
    """A key as kept in a file or a variable: at least 64 hex digits (32 random bytes)."""
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise ConfigError(f"the integrity key in {where} is not hexadecimal") from None
    if len(key) < KEY_BYTES:
        raise ConfigError(
            f"the integrity key in {where} is {len(key)} bytes; it needs at least {KEY_BYTES} "
            "(64 hex digits, e.g. from `openssl rand -hex 32`)"
        )
    return key


def write_new_key(path: Path) -> None:
    """A new random key, readable by its owner only; a key another process wrote first
    (workers initialising at once) is kept."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as e:
        raise ConfigError(f"cannot create the integrity key {path}: {e.strerror}") from None
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(KEY_BYTES) + "\n")


def load_settings() -> Settings:
    """Settings from the environment, or a ConfigError naming the first bad variable."""
    try:
        return Settings()
    except ValidationError as e:
        error = e.errors()[0]
        if not error["loc"]:  # a rule over several settings
            raise ConfigError(str(error["msg"]).removeprefix("Value error, ")) from None
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
