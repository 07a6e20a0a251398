"""The word tables kept as data (assistant/data/lexicon/): each does what its header says, and a deployment
can extend them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import get_args

import pytest

from assistant.intent import (
    FACET_ORDER,
    SmallTalk,
    asks_for_bundle,
    asks_progress,
    asks_urgent,
    detect_facets,
    small_talk,
    wants_human,
)
from assistant.lexicon import BUNDLED, LEXICON, Lexicon, read_table
from knowledge.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_every_bundled_table_says_what_it_is_for_and_has_entries() -> None:
    files = sorted(BUNDLED.glob("*.t[sx][vt]"))
    assert len(files) >= 20
    for path in files:
        table = read_table(path)
        assert len(table.header) >= 30, path.name  # what it is for and how it is matched
        assert "match" in table.header.lower() or "substring" in table.header.lower(), path.name
        assert table.entries or table.groups


def test_grouped_tables_name_only_groups_the_code_reads() -> None:
    assert set(LEXICON.groups("facets")) <= set(FACET_ORDER)
    assert set(LEXICON.groups("small-talk")) <= set(get_args(SmallTalk))


@pytest.mark.parametrize(("facet", "cue"), [(f, c) for f, cues in LEXICON.groups("facets").items() for c in cues])
def test_every_facet_cue_asks_for_its_facet(facet: str, cue: str) -> None:
    assert facet in detect_facets(cue)


@pytest.mark.parametrize(("table", "check"), [
    ("urgent", asks_urgent), ("progress", asks_progress), ("handoff", wants_human), ("bundle", asks_for_bundle),
])
def test_every_cue_of_a_list_does_what_its_table_is_for(table: str, check) -> None:  # type: ignore[no-untyped-def]
    missed = [word for word in LEXICON.words(table) if not check(f"请问{word}")]
    assert missed == []


def test_every_small_talk_word_is_small_talk_of_its_kind() -> None:
    kinds = LEXICON.groups("small-talk")
    for kind, words in kinds.items():
        for word in words:
            said = small_talk(word)
            assert said is not None and word in kinds[said], (kind, word)
    for filler in LEXICON.words("small-talk-filler"):
        assert small_talk(f"{filler}谢谢") == "thanks", filler


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_a_deployment_extends_a_table_with_a_file_of_the_same_name(tmp_path: Path) -> None:
    extra = _write(tmp_path / "lex", "urgent.txt", "# 本市说法：matched as plain substrings.\n十万火急\n加急\n")
    _write(extra, "facets.tsv", "# 本市说法：matched as plain substrings.\nfee\t几个钱\n")
    lexicon = Lexicon(extra=extra)
    assert lexicon.words("urgent")[-1] == "十万火急" and lexicon.words("urgent").count("加急") == 1
    assert lexicon.words("urgent")[: len(LEXICON.words("urgent"))] == LEXICON.words("urgent")
    assert lexicon.groups("facets")["fee"][-1] == "几个钱"
    assert lexicon.groups("facets")["who"] == LEXICON.groups("facets")["who"]


def test_the_extension_folder_reaches_a_running_process(tmp_path: Path) -> None:
    extra = _write(tmp_path / "lex", "urgent.txt", "# 本市说法：matched as plain substrings.\n十万火急\n")
    code = "from assistant.intent import asks_urgent; print(asks_urgent('办证十万火急'))"
    env = {**os.environ, "BANSHI_LEXICON": str(extra)}
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "True"
    env.pop("BANSHI_LEXICON")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "False"


@pytest.mark.parametrize(("name", "text", "message"), [
    ("urgent.txt", "十万火急\n", "starts with a # header"),
    ("urgent.txt", "# what it is, matched as substrings\n\n", "empty"),
    ("urgent.txt", "# what it is, matched as substrings\n十万\t火急\n", "one entry a line"),
    ("facets.tsv", "# what it is, matched as substrings\n几个钱\n", "expected group<TAB>entry"),
    ("facets.tsv", "# what it is, matched as substrings\nprice\t几个钱\n", "unknown groups"),
    ("urgent.tsv", "# what it is, matched as substrings\nx\t十万火急\n", "is a list"),
    ("nonsense.txt", "# what it is, matched as substrings\n十万火急\n", "no bundled table is called nonsense"),
])
def test_a_bad_extension_is_refused_naming_the_file_and_what_is_wrong(tmp_path: Path, name: str, text: str,
                                                                    message: str) -> None:
    extra = _write(tmp_path / "lex", name, text)
    with pytest.raises(ConfigError, match=message):
        Lexicon(extra=extra)


def test_an_extension_folder_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a folder"):
        Lexicon(extra=tmp_path / "missing")


def test_no_word_table_comes_back_into_code() -> None:
    from evals.word_tables import ROOT as CODE
    from evals.word_tables import word_tables

    left = word_tables([CODE / "assistant", CODE / "knowledge"])
    assert len(left) <= 10, [name for _, _, name, _ in left]  # docs/lexicon.md: 41 before the tables moved


def _patterns():  # type: ignore[no-untyped-def]
    import assistant.candidates as candidates
    import assistant.complaints as complaints
    import assistant.compose as compose
    import assistant.fields as fields
    import assistant.grounding as grounding
    import assistant.places as places
    import assistant.service as service
    import assistant.turn as turn

    return {
        "pays": (service._PAYS, "{}吗"), "guide-urgent": (service._URGENT_TEXT, "可{}办理"),
        "at-once": (service._AT_ONCE, "{}办结"), "first-issue": (candidates._FIRST_ISSUE, "{}领证"),
        "what": (turn.WHAT, "要带{}"), "question-words": (service._QUESTION_WORDS, "要{}"),
        "follow-up-openings": (turn.ELLIPTICAL, "{}青山区的"), "asks-procedure": (complaints._ASKS_PROCEDURE, "{}"),
        "document-kinds": (grounding._DOCUMENT, "带上{}"), "place-question": (compose._PLACE_QUESTION, "{}"),
        "delivery-question": (compose._DELIVERY_QUESTION, "能{}吗"), "yes-no-answers": (compose._YES_NO_ANSWER, "{}。"),
        "origin-before": (places._ORIGIN_BEFORE, "我{}"), "origin-after": (places._ORIGIN_AFTER, "{}的"),
        "name-act-suffixes": (fields._ACT_SUFFIX, "居住证{}"),
    }


@pytest.mark.parametrize("table", sorted(_patterns()))
def test_every_word_of_a_pattern_table_is_matched_where_the_code_reads_it(table: str) -> None:
    pattern, template = _patterns()[table]
    search = pattern.match if pattern.pattern.startswith("^") else pattern.search
    missed = [w for w in LEXICON.words(table) if not search(template.format(w))]
    assert missed == []
    assert not search(template.format("天气"))  # and nothing else


def test_a_guide_with_an_online_channel_can_be_done_online() -> None:
    from assistant.fields import can_do_online
    from knowledge.schema import ServiceGuide

    for channel in LEXICON.words("online-channels"):
        assert can_do_online(ServiceGuide(id="g", name="某事项", channels=[channel], visits=1))
    assert not can_do_online(ServiceGuide(id="g", name="某事项", channels=["窗口办理"], visits=1))
