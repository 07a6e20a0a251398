"""Is a message a complaint, an appeal or a report (投诉、求助、举报) rather than a question about a service?

Citizens seldom say 投诉: they tell what a neighbour, an employer, a property manager or a window did
and ask someone to deal with it. A nearest-centroid rule over e5 sentence vectors of the message's
opening decides: the centroids of the complaint and the question examples of ``data/complaints.jsonl``
(computed from that file, or read from ``data/complaint-centroids.json`` while it matches the file).
A second pair of centroids reads the message's last sentence, where the ask is: "请上级督促处理" asks someone to deal
with a wrong, "我这种情况能不能领" or "要去哪里办" asks how to get something done. A message is a complaint when
both its opening and its ask are nearer the complaints, and its last sentence does not ask how, where or
with what to get something done, or for a verdict on a dispute. Short messages are left to the cue words of
:mod:`assistant.intent`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from assistant.lexicon import LEXICON
from knowledge.embedders.base import Embedder
from knowledge.errors import ConfigError
from knowledge.text import chinese_chars

logger = logging.getLogger(__name__)

DATA = Path(__file__).resolve().parent / "data"
EXAMPLES = DATA / "complaints.jsonl"
CENTROIDS = DATA / "complaint-centroids.json"
OPENING = 80  # characters embedded: the story and the request are at the start, and cost grows with length
ASK = 60  # characters of the last sentence embedded: the ask
POLICY = f"opening{OPENING}+ask{ASK}"
MIN_CHINESE = 20  # shorter messages are questions or plain requests for a person (the cue words catch those)

Label = Literal["complaint", "question"]
_KEYS = ("complaint", "question", "ask_complaint", "ask_question")
_SENTENCE_END = re.compile(r"[。！？!?\n]+")
# The last sentence asks how, where, with what or at what cost to get something done ("…要找哪个部门审批？",
# "收费吗"), or asks for a judgement on a dispute or a lawsuit ("你评评理", "法院会怎么判"), which no person
# at the desk gives either: a question, answered or refused, not a complaint (assistant/data/lexicon/).
_ASKS_PROCEDURE = LEXICON.pattern("asks-procedure")
# …unless its last clause appeals to someone to deal with it ("…有没有审批，恳请有关部门依法处理").
_APPEALS = LEXICON.regex("appeals")
_CLAUSE_END = re.compile(r"[，,；;。！？!?\n]+")


@dataclass(frozen=True)
class Example:
    text: str
    label: Label


def load_examples(path: Path = EXAMPLES) -> list[Example]:
    """The labelled messages of a JSONL file (``{"text": …, "label": "complaint" | "question"}``).

    Raises ConfigError naming the line of a bad record.
    """
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            label, text = raw["label"], raw["text"].strip()
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise ConfigError(f"{path} line {number}: expected {{'text': …, 'label': …}}: {err}") from err
        if label not in ("complaint", "question") or not text:
            raise ConfigError(f"{path} line {number}: label must be complaint or question, got {label!r}")
        examples.append(Example(text, label))
    return examples


def asks_procedure(text: str) -> bool:
    """Does the message's last sentence ask how to get something done (or for a verdict on a dispute)?"""
    last = _last_sentence(text)
    return last is not None and _ASKS_PROCEDURE.search(last) is not None and not appeals(text)


def appeals(text: str) -> bool:
    """Does the message's last clause appeal to someone to deal with what it tells ("请交通部门查处…")?"""
    clauses = [c for c in _CLAUSE_END.split(text.strip()) if c.strip()]
    return bool(clauses) and _APPEALS.search(clauses[-1]) is not None


def _opening(text: str) -> str:
    return text[:OPENING]


def the_ask(text: str) -> str:
    """The end of the message's last sentence: what it asks for."""
    last = _last_sentence(text)
    return (text if last is None else last)[-ASK:]


def _last_sentence(text: str) -> str | None:
    sentences = [s for s in _SENTENCE_END.split(text.strip()) if s.strip()]
    return sentences[-1] if sentences else None


def long_enough(text: str) -> bool:
    return chinese_chars(text) >= MIN_CHINESE


class ComplaintDetector:
    """Holds the sentence model and the two centroids; one per process, shared by sessions."""

    def __init__(self, embedder: Embedder, examples: Path = EXAMPLES, centroids: Path | None = CENTROIDS) -> None:
        self.embedder = embedder
        self.examples = examples
        self.centroids_file = centroids
        self._centroids: tuple[np.ndarray, ...] | None = None  # opening: complaint, question; ask: the same

    def digest(self) -> str:
        """What the centroids depend on: the examples, the model and how much of each message is read."""
        content = hashlib.sha256(self.examples.read_bytes()).hexdigest()
        return f"{content}:{self.embedder.query_identity}:{POLICY}"

    def warm_up(self) -> None:
        """Load the centroids now (from the cache file when it matches the examples, else computed)."""
        if self._centroids is not None:
            return
        digest = self.digest()
        if self.centroids_file is not None and self.centroids_file.is_file():
            cached = json.loads(self.centroids_file.read_text(encoding="utf-8"))
            if cached.get("digest") == digest:
                self._centroids = tuple(np.asarray(cached[k], dtype=np.float32) for k in _KEYS)
                return
            logger.warning("%s is out of date for %s: computing the centroids", self.centroids_file, self.examples)
        self._centroids = self.compute()

    def compute(self) -> tuple[np.ndarray, ...]:
        """The normalised mean vector of each class's examples: of their openings, then of their asks."""
        examples = load_examples(self.examples)
        labels = np.array([e.label == "complaint" for e in examples])
        if labels.all() or not labels.any():
            raise ConfigError(f"{self.examples} needs examples of both complaint and question")

        def centroid(rows: np.ndarray) -> np.ndarray:
            mean = rows.mean(axis=0)
            return (mean / np.linalg.norm(mean)).astype(np.float32)  # type: ignore[no-any-return]

        centroids = []
        for part in (_opening, the_ask):
            vectors = np.stack([self.embedder.encode_query(part(e.text)) for e in examples])
            centroids += [centroid(vectors[labels]), centroid(vectors[~labels])]
        return tuple(centroids)

    def save(self, path: Path) -> None:
        """Write the centroids with the digest they were computed for (see :meth:`warm_up`)."""
        self.warm_up()
        assert self._centroids is not None
        saved = {k: [round(float(v), 6) for v in c] for k, c in zip(_KEYS, self._centroids, strict=True)}
        path.write_text(json.dumps({"digest": self.digest(), **saved}) + "\n", encoding="utf-8")

    def margin(self, text: str) -> float:
        """Of the opening: cosine to the complaint centroid minus cosine to the question centroid (positive: a
        complaint)."""
        return self._margin(_opening(text), 0)

    def ask_margin(self, text: str) -> float:
        """The same of the ask (the end of the last sentence)."""
        return self._margin(the_ask(text), 2)

    def _margin(self, part: str, first: int) -> float:
        self.warm_up()
        assert self._centroids is not None
        vector = self.embedder.encode_query(part)
        complaint, question = self._centroids[first : first + 2]
        return float(vector @ complaint - vector @ question)

    def is_complaint(self, text: str) -> bool:
        """A complaint, appeal or report: long enough to tell, not a procedure question, and both its opening and
        its ask nearer the complaints (the ask is read only when the opening is)."""
        return long_enough(text) and not asks_procedure(text) and self.margin(text) > 0.0 and \
            self.ask_margin(text) > 0.0
