"""The assistant: question in, a grounded answer or a polite refusal out."""

from __future__ import annotations

import logging

from assistant.answer import Answer
from assistant.compose import compose_overview, compose_refusal
from assistant.retriever import Filters, HybridSearch

logger = logging.getLogger(__name__)


class Assistant:
    def __init__(self, search: HybridSearch) -> None:
        self.search = search

    def ask(self, question: str, *, region: str | None = None) -> Answer:
        question = question.strip()
        if not question:
            return compose_refusal([])
        result = self.search.search(question, k=5, filters=Filters(region=region))
        others = [h.name for h in result.hits[:3]]
        if not result.hits or result.confidence < self.search.calibration.refuse_below:
            logger.info("refused: confidence %.2f", result.confidence)
            return compose_refusal(others)
        record = self.search.index.record(result.hits[0].record_id)
        if record is None:  # the index changed under us; never answer from a stale chunk
            return compose_refusal(others)
        answer = compose_overview(record, result.confidence)
        return answer.model_copy(update={"suggestions": others[1:]})
