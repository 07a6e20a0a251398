"""The knowledge on a real Chroma server (``chroma run``, from the chromadb package) answers as the embedded
store does: the same ingest, the same ranking and the same decisions, case by case."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from cli import main
from tests.conftest import DEMO_PACK, ROOT

CASES = ROOT / "evals" / "cases" / "demo-colloquial.jsonl"


def _eval(data: Path, capsys: pytest.CaptureFixture[str], *server: str) -> dict[str, dict[str, object]]:
    capsys.readouterr()
    assert main(["eval", str(CASES), "--data-dir", str(data), *server, "--json"]) == 0
    return {case["id"]: case for case in json.loads(capsys.readouterr().out)["cases"]}


def test_a_chroma_server_answers_as_the_embedded_store(chroma_server: str, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    server = ["--chroma-url", chroma_server]
    monkeypatch.setenv("BANSHI_COLLECTION", f"colloquial-{uuid.uuid4().hex[:8]}")  # the server is the session's
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
