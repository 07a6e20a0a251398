"""Knowledge ingested beside a running server reaches citizens without a restart."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from fastapi.testclient import TestClient

from app import create_app, knowledge_line, main
from assistant.reload import keep_reloading
from knowledge.index import read_generation
from knowledge.settings import Settings
from tests.conftest import ROOT

KEY = {"X-API-Key": "kiosk-secret"}


def _ingest_elsewhere(pack: Path, data_dir: Path, *options: str) -> None:
    """`banshi ingest` in its own process, as staff run it beside the server."""
    done = subprocess.run([sys.executable, "app.py", "ingest", str(pack), "--data-dir", str(data_dir), "-q", *options],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr


def _answer(client: TestClient, question: str) -> str:
    response = client.post("/api/v1/ask", json={"question": question}, headers=KEY)
    assert response.status_code == 200, response.text
    return str(response.json()["answer"]["text"])


def _served_generation_changes(client: TestClient, before: str) -> str:
    deadline = time.monotonic() + 120
    while (generation := client.get("/healthz").json()["generation"]) == before:
        assert time.monotonic() < deadline, "the server never picked up the new knowledge"
        time.sleep(0.2)
    return str(generation)


def test_a_running_server_answers_from_what_was_ingested_beside_it(pack_copy: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    _ingest_elsewhere(pack_copy, data_dir)
    settings = Settings(data_dir=data_dir, api_keys={"kiosk-city": "kiosk-secret"}, rate_limit=0)
    with TestClient(create_app(settings)) as client:
        assert "首次申领不收费" in _answer(client, "办居住证收费吗")
        before = client.get("/healthz").json()["generation"]
        assert before == read_generation(data_dir)[1]

        # Staff change a fee and add a guide, then ingest in another process while the server runs.
        guide = pack_copy / "guides" / "residence-permit.yaml"
        text = guide.read_text(encoding="utf-8")
        guide.write_text(text.replace("首次申领不收费", "首次申领收取工本费20元"), encoding="utf-8")
        (pack_copy / "guides" / "dog.yaml").write_text(
            text.replace("t-residence-permit", "t-dog-licence").replace("居住证申领", "养犬登记证核发")
                .replace("办居住证, 外地人办居住证", "办狗证, 养狗登记"), encoding="utf-8")
        _ingest_elsewhere(pack_copy, data_dir)
        assert "养犬登记证核发" not in _answer(client, "办狗证要带什么")  # not searchable until the reload

        stop = threading.Event()
        threading.Thread(target=keep_reloading, args=(client.app.state.knowledge, 0.2, stop), daemon=True).start()
        try:
            after = _served_generation_changes(client, before)
            assert after == read_generation(data_dir)[1]
            fee = _answer(client, "办居住证收费吗")
            assert "工本费20元" in fee and "首次申领不收费" not in fee  # no stale chunk survives, BM25 or vector
            assert "养犬登记证核发" in _answer(client, "办狗证要带什么")
            found = client.app.state.knowledge.assistant.search.search("办狗证要带什么").hits[0]
            assert found.record_id == "t-dog-licence" and found.dense > 0  # the vectors written by the other process

            # A rebuild replaces the index file and the Chroma collection: picked up the same way.
            (pack_copy / "guides" / "dog.yaml").unlink()
            _ingest_elsewhere(pack_copy, data_dir, "--rebuild")
            _served_generation_changes(client, after)
            assert "养犬登记证核发" not in _answer(client, "办狗证要带什么")
            assert "工本费20元" in _answer(client, "办居住证收费吗")
            assert client.get("/healthz").json()["reload_error"] is None
        finally:
            stop.set()


def test_a_broken_reload_keeps_the_loaded_knowledge(pack_copy: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert main(["ingest", str(pack_copy), "--data-dir", str(data_dir), "-q"]) == 0
    synonyms = tmp_path / "synonyms.tsv"
    synonyms.write_text("暂住证\t居住证\n", encoding="utf-8")
    settings = Settings(data_dir=data_dir, api_keys={"kiosk-city": "kiosk-secret"}, rate_limit=0, synonyms=synonyms)
    with TestClient(create_app(settings)) as client:
        watcher = client.app.state.knowledge
        assert watcher.check() is False  # nothing changed: nothing rebuilt
        synonyms.write_text("暂住证 居住证\n", encoding="utf-8")  # no tab: the file cannot be read
        assert watcher.check() is False
        health = client.get("/healthz").json()
        assert health["status"] == "ok" and "expected 'colloquial<TAB>standard terms'" in health["reload_error"]
        assert "知识库更新失败，仍在使用上一版：ConfigError" in knowledge_line(watcher)  # the console's 统计 panel
        added = watcher.assistant.search.search("暂住证").query.expansions  # what hit testing shows as 补充
        assert "居住证" in added and _answer(client, "暂住证怎么办")  # the rules loaded at start still apply

        synonyms.write_text("暂住证\t居住证\n狗证\t养犬登记\n", encoding="utf-8")  # mended: the next check reloads
        assert "养犬登记" not in watcher.assistant.search.search("狗证").query.expansions
        assert watcher.check() is True and client.get("/healthz").json()["reload_error"] is None
        assert "养犬登记" in watcher.assistant.search.search("狗证").query.expansions
