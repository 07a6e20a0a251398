from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.errors import KnowledgeError
from knowledge.loader import Reject, load_file, load_pack
from tests.conftest import DEMO_PACK, FIXTURE_PACK


def test_fixture_pack_loads_good_records_and_reports_bad_ones() -> None:
    loaded = load_pack(FIXTURE_PACK)
    assert loaded.origin == "pack:fixture"
    assert loaded.pack is not None and loaded.pack.halls[0].windows[0].name == "1号窗口"
    assert sorted(g.id for g in loaded.guides) == ["t-food-license", "t-individual-business", "t-residence-permit"]
    assert [t.id for t in loaded.themes] == ["t-theme-restaurant"]
    assert loaded.rejects == [
        Reject("guides/broken.yaml", "#1 (id t-broken-unknown-key)",
               "phone_number: Extra inputs are not permitted (got '0000-1234567')"),
        Reject("guides/broken.yaml", "#2 (id t-broken-visits)",
               "visits: Input should be a valid integer, unable to parse string as an integer (got '两次')"),
    ]
    assert loaded.raw_count == 6


def test_not_a_pack(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="no pack.yaml"):
        load_pack(tmp_path)


def test_jsonl_bad_line_is_reported_and_the_rest_loads(tmp_path: Path) -> None:
    path = tmp_path / "guides.jsonl"
    path.write_text('{"id": "a", "name": "甲"}\n{not json\n{"id": "b", "name": "乙"}\n', encoding="utf-8")
    loaded = load_file(path)
    assert [g.id for g in loaded.guides] == ["a", "b"]
    assert len(loaded.rejects) == 1
    assert loaded.rejects[0].record == "#2" and loaded.rejects[0].reason.startswith("invalid JSON")


def test_unparseable_yaml_is_a_reject_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("id: [unclosed\n", encoding="utf-8")
    loaded = load_file(path)
    assert loaded.guides == [] and loaded.rejects[0].record == "(file)"


def test_demo_pack_is_valid_and_big_enough() -> None:
    from knowledge.check import cross_check

    loaded = load_pack(DEMO_PACK)
    assert loaded.rejects == [] and cross_check(loaded) == []
    assert loaded.pack is not None and loaded.pack.sample is True
    assert len(loaded.guides) >= 60 and len(loaded.themes) >= 13
    regions = {loc.region for g in loaded.guides for loc in g.locations if loc.region}
    assert {"示例市明湖区", "示例市青山区"} <= regions
    assert any(h.kiosks for h in loaded.pack.halls)
    # Every phone in the sample pack is visibly fictional.
    phones = [g.consult_phone for g in loaded.guides if g.consult_phone]
    assert phones and all(p.startswith("0000-") or p == "12345" for p in phones)
