"""The knowledge on a real Chroma server (``chroma run``, from the chromadb package) answers as the embedded
store does: the same ingest, the same ranking and the same decisions, case by case."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app import main
from tests.conftest import DEMO_PACK, ROOT

CASES = ROOT / "evals" / "cases" / "demo-colloquial.jsonl"


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
    if binary is None:
        pytest.skip("the chroma command of the chromadb package is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path_factory.mktemp("chroma-log") / "chroma.log"
    with log.open("wb") as out:
        server = subprocess.Popen([binary, "run", "--path", str(tmp_path_factory.mktemp("chroma-server")),
                                   "--host", "127.0.0.1", "--port", str(port)], stdout=out, stderr=out,
                                  env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-2000:]
            time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def _eval(data: Path, capsys: pytest.CaptureFixture[str], *server: str) -> dict[str, dict[str, object]]:
    capsys.readouterr()
    assert main(["eval", str(CASES), "--data-dir", str(data), *server, "--json"]) == 0
    return {case["id"]: case for case in json.loads(capsys.readouterr().out)["cases"]}


def test_a_chroma_server_answers_as_the_embedded_store(chroma_server: str, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    server = ["--chroma-url", chroma_server]
    for data, where in ((tmp_path / "embedded", []), (tmp_path / "served", server)):
        assert main(["ingest", str(DEMO_PACK), "--data-dir", str(data), *where, "-q", "--json"]) == 0
    assert not (tmp_path / "served" / "chroma").exists()  # the vectors went to the server
    embedded, served = _eval(tmp_path / "embedded", capsys), _eval(tmp_path / "served", capsys, *server)
    assert embedded.keys() == served.keys() and len(served) > 100
    for case_id, case in embedded.items():
        other = served[case_id]
        assert (other["retrieved"], other["decision"], other["cited"]) == \
            (case["retrieved"], case["decision"], case["cited"]), case_id
        assert abs(float(other["confidence"]) - float(case["confidence"])) < 1e-3, case_id  # type: ignore[arg-type]
