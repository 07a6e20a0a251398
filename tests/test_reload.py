"""Knowledge ingested beside a running server reaches citizens without a restart."""

from __future__ import annotations

import threading
from pathlib import Path

from fastapi.testclient import TestClient

from assistant.reload import keep_reloading
from assistant.settings import Settings
from cli import main
from knowledge.index import read_generation
from tests.conftest import answer_text, edit_pack, ingest_elsewhere, served_generation_changes
from web.console import knowledge_line
from web.server import create_app


def test_a_running_server_answers_from_what_was_ingested_beside_it(pack_copy: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    ingest_elsewhere(pack_copy, data_dir)
    settings = Settings(data_dir=data_dir, api_keys={"kiosk-city": "kiosk-secret"}, rate_limit=0)
    with TestClient(create_app(settings)) as client:
        assert "首次申领不收费" in answer_text(client, "办居住证收费吗")
        before = client.get("/healthz").json()["generation"]
        assert before == read_generation(data_dir)[1]

        # Staff change a fee and add a guide, then ingest in another process while the server runs.
        edit_pack(pack_copy)
        ingest_elsewhere(pack_copy, data_dir)
        assert "养犬登记证核发" not in answer_text(client, "办狗证要带什么")  # not searchable until the reload

        stop = threading.Event()
        threading.Thread(target=keep_reloading, args=(client.app.state.knowledge, 0.2, stop), daemon=True).start()
        try:
            after = served_generation_changes(client, before)
            assert after == read_generation(data_dir)[1]
            fee = answer_text(client, "办居住证收费吗")
            assert "工本费20元" in fee and "首次申领不收费" not in fee  # no stale chunk survives, BM25 or vector
            assert "养犬登记证核发" in answer_text(client, "办狗证要带什么")
            found = client.app.state.knowledge.assistant.search.search("办狗证要带什么").hits[0]
            assert found.record_id == "t-dog-licence" and found.dense > 0  # the vectors written by the other process

            # A rebuild replaces the index file and the Chroma collection: picked up the same way.
            (pack_copy / "guides" / "dog.yaml").unlink()
            ingest_elsewhere(pack_copy, data_dir, "--rebuild")
            served_generation_changes(client, after)
            assert "养犬登记证核发" not in answer_text(client, "办狗证要带什么")
            assert "工本费20元" in answer_text(client, "办居住证收费吗")
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
        assert "居住证" in added and answer_text(client, "暂住证怎么办")  # the rules loaded at start still apply

        synonyms.write_text("暂住证\t居住证\n狗证\t养犬登记\n", encoding="utf-8")  # mended: the next check reloads
        assert "养犬登记" not in watcher.assistant.search.search("狗证").query.expansions
        assert watcher.check() is True and client.get("/healthz").json()["reload_error"] is None
        assert "养犬登记" in watcher.assistant.search.search("狗证").query.expansions
