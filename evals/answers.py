"""Answer metrics: replay each case's history through the assistant, then score the final answer.

decision (answer/clarify/refuse/handoff as expected), facts (share of expected_facts in the text, durations
compared as they are said: 7(工作日) as 7个工作日), citation (the first cited guide is an expected one),
unsupported (sentences with a fact that no cited source contains; must be 0 for the grounded composer) and
false-confident (an answer given as the citizen's own, not as a labelled reference, from a guide the case
does not expect). For answers the assistant gives: answer-first (an expected fact within the first
ANSWER_FIRST_CHARS characters of the text) and speech-fact (an expected fact in the speech, as it is said
there: 7(工作日) as 7个工作日, brackets full-width or not).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from assistant.answer import Answer
from assistant.fields import spoken_duration
from assistant.grounding import unsupported_statements
from assistant.service import Assistant
from assistant.session import Session
from evals.cases import EvalCase
from knowledge.text import normalise_text

ANSWER_FIRST_CHARS = 120


@dataclass
class AnswerOutcome:
    answer: Answer
    seconds: float
    metrics: dict[str, float]
    unsupported: list[str]
    missing_facts: list[str]  # expected facts the text does not state, compared as ``facts`` compares them


def _position(text: str, name: str) -> int:
    found = text.find(name)
    if found < 0:  # the list may shorten names: look for the part after the shared stem
        found = next((text.find(name[i:]) for i in range(1, len(name) - 1) if text.find(name[i:]) >= 0), -1)
    return found if found >= 0 else len(text)


def _spoken_form(text: str) -> str:
    """Normalised, brackets half-width and durations as they are said ("7(工作日)" → "7个工作日")."""
    return spoken_duration(normalise_text(text).replace("（", "(").replace("）", ")"))


def shape_metrics(case: EvalCase, answer: Answer) -> dict[str, float]:
    """answer-first and speech-fact, for an answer the assistant gives to a case with expected facts."""
    if answer.decision != "answer" or not case.expected_facts:
        return {}
    opening = _spoken_form(answer.text)[:ANSWER_FIRST_CHARS]
    speech = _spoken_form(answer.speech)
    return {"answer-first": 1.0 if any(_spoken_form(f) in opening for f in case.expected_facts) else 0.0,
            "speech-fact": 1.0 if any(_spoken_form(f) in speech for f in case.expected_facts) else 0.0}


def false_confident(case: EvalCase, answer: Answer) -> float:
    """1.0 for an answer given as the citizen's own (not a labelled reference) from a guide the case does not
    expect: a wrong guide, or any guide when the case expects a refusal, a question back or a person."""
    if answer.decision != "answer" or answer.reference_only:
        return 0.0
    right = case.expect == "answer" and bool(answer.citations) and answer.citations[0].guide_id in case.expected_ids
    return 0.0 if right else 1.0


def offered(case: EvalCase, answer: Answer) -> float:
    """1.0 when a question back lists an expected guide among its options (a good question back for a bare word
    such as "备案"), else 0.0."""
    return 1.0 if any(c.guide_id in case.expected_ids for c in answer.citations) else 0.0


def answer_case(case: EvalCase, assistant: Assistant) -> AnswerOutcome:
    session = Session(channel=case.channel, region=case.region)
    for turn in case.history:
        if turn.role == "user":
            assistant.ask(turn.content, session)
        elif session.options:
            # The citizen saw the case's own list of options: number ours the way it numbered them.
            shown = turn.content
            session.options = sorted(session.options, key=lambda i: _position(shown, assistant.names.get(i) or i))
    started = time.perf_counter()
    answer = assistant.ask(case.question, session)
    seconds = time.perf_counter() - started
    unsupported = unsupported_statements(answer.text, assistant.sources(answer)) if answer.citations else []
    metrics = {"decision": 1.0 if answer.decision == case.expect else 0.0, "unsupported": float(len(unsupported))}
    text = _spoken_form(answer.text)  # "5个工作日" states the fact "5(工作日)"
    missing = [f for f in case.expected_facts if _spoken_form(f) not in text]
    if case.expect == "answer" and case.expected_facts:
        metrics["facts"] = (len(case.expected_facts) - len(missing)) / len(case.expected_facts)
    if answer.decision == "answer" and case.expected_ids and answer.citations:
        metrics["citation"] = 1.0 if answer.citations[0].guide_id in case.expected_ids else 0.0
    metrics.update(shape_metrics(case, answer))
    metrics["false-confident"] = false_confident(case, answer)
    if answer.decision == "clarify" and case.expected_ids:
        metrics["offered"] = offered(case, answer)
    return AnswerOutcome(answer, seconds, metrics, unsupported, missing)
