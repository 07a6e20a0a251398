"""Knowledge updates reach a running server without a restart.

Staff run ``banshi ingest`` beside ``banshi serve`` (or edit the extra synonyms file). Every ingest ends
by stamping the index with a digest of what it holds; the server looks at that stamp every
``BANSHI_RELOAD_SECONDS`` and, when it changed, builds a new search (BM25, records, the vectors as
now on disk) while the old one keeps answering, then swaps it in. An ingest still running, or one
that failed, leaves the stamp as it was, so citizens are never answered from half an index.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

from assistant.build import load_search, release_memory
from assistant.service import Assistant
from assistant.settings import Settings
from knowledge.index import KnowledgeIndex, read_generation

logger = logging.getLogger(__name__)

Fingerprint = tuple[int, str | None, float]  # index file, its generation, the extra synonyms' mtime


class KnowledgeWatcher:
    """Reloads ``assistant``'s knowledge when the index in ``settings.data_dir`` or the synonyms change."""

    def __init__(self, settings: Settings, assistant: Assistant) -> None:
        self.settings = settings
        self.assistant = assistant
        self.loaded = self.fingerprint()
        self.loaded_at = dt.datetime.now(dt.UTC)
        self.error: str | None = None  # why the last reload failed (the old knowledge is still served)
        self._lock = threading.Lock()

    def fingerprint(self) -> Fingerprint:
        inode, generation = read_generation(self.settings.data_dir)
        synonyms = self.settings.synonyms
        try:
            mtime = synonyms.stat().st_mtime if synonyms else 0.0
        except OSError:
            mtime = -1.0
        return inode, generation, mtime

    def check(self) -> bool:
        """Reload if the knowledge changed since it was loaded; True when a new one is being served."""
        with self._lock:
            seen = self.fingerprint()
            if seen == self.loaded or seen[1] is None:  # unchanged, or no finished ingest (a rebuild under way)
                return False
            started = dt.datetime.now(dt.UTC)
            try:
                KnowledgeIndex.reopen_vectors()
                old = self.assistant.search
                search = load_search(self.settings, old.index.embedder, old.config, tokenizer=old.tokenizer)
                del old  # so that release_memory below can free it
                self.assistant.swap(search)
            except Exception as error:  # noqa: BLE001 - keep serving what was loaded; staff see why on /healthz
                logger.exception("reloading the knowledge failed; still serving generation %s", self.loaded[1])
                self.loaded, self.error = seen, f"{type(error).__name__}: {error}"  # retried on the next change
                return False
            # the old BM25 and records, and what loading the new one threw away: else the process keeps both sizes
            release_memory()
            self.loaded, self.loaded_at, self.error = seen, dt.datetime.now(dt.UTC), None
            count = search.index.count()
            logger.info("knowledge reloaded: generation %s, %s guides, %s themes, %s chunks, in %.1f s", seen[1],
                        count["guides"], count["themes"], count["chunks"], (self.loaded_at - started).total_seconds())
            return True

    def status(self) -> dict[str, Any]:
        """For /healthz: what is being served, since when, and a failed reload's reason."""
        return {"generation": self.loaded[1], "loaded_at": self.loaded_at.isoformat(timespec="seconds"),
                "reload_error": self.error}


def keep_reloading(watcher: KnowledgeWatcher, every: float, stop: threading.Event) -> None:
    """Check every ``every`` seconds until ``stop`` is set (``banshi serve`` runs this in a thread)."""
    while not stop.wait(every):
        try:
            watcher.check()
        except Exception:  # noqa: BLE001 - a failed check is logged and tried again next time
            logger.exception("checking the index for new knowledge failed")
