"""Language knowledge kept as data: the word tables the assistant reads questions (and guides) with.

Each table is a file of ``data/lexicon/``. ``NAME.txt`` holds one entry a line; ``NAME.tsv`` holds
``group<TAB>entry`` lines (the facets' cue words, small talk by kind); ``NAME.re`` holds one regular expression a
line, for phrasings with structure (网上 + 能 + 办), any of which matches. Lines starting with ``#`` are the
file's header, which says what the table is for and how it is matched; every file has one. Staff review
the files as they are; a deployment extends a table with a file of the same name in the folder named by
``BANSHI_LEXICON`` (read when the process starts): its entries come after the bundled ones, and a ``.tsv``
group that the bundled table lacks is refused, since no code would read it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from knowledge.errors import ConfigError

BUNDLED = Path(__file__).resolve().parent / "data" / "lexicon"


@dataclass(frozen=True)
class Table:
    name: str
    header: str
    entries: tuple[str, ...] = ()
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()


def read_table(path: Path) -> Table:
    """One table file. Raises ConfigError naming the file and line of what is wrong."""
    header: list[str] = []
    entries: list[str] = []
    groups: dict[str, list[str]] = {}
    grouped = path.suffix == ".tsv"
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if line.startswith("#"):
            header.append(line.lstrip("# "))
            continue
        if not line:
            continue
        if path.suffix == ".re":
            try:
                re.compile(line)
            except re.error as err:
                raise ConfigError(f"{path} line {number}: not a regular expression ({err}): {raw!r}") from None
        if grouped:
            parts = [p.strip() for p in raw.split("\t")]
            if len(parts) != 2 or not all(parts):
                raise ConfigError(f"{path} line {number}: expected group<TAB>entry, got {raw!r}")
            groups.setdefault(parts[0], []).append(parts[1])
        else:
            if "\t" in raw:
                raise ConfigError(f"{path} line {number}: one entry a line, got {raw!r}")
            entries.append(line)
    if not header:
        raise ConfigError(f"{path}: a table starts with a # header saying what it is for and how it is matched")
    if not entries and not groups:
        raise ConfigError(f"{path}: the table is empty")
    return Table(path.stem, " ".join(header), tuple(entries), tuple((g, tuple(w)) for g, w in groups.items()))


class Lexicon:
    """The bundled tables, each extended by a file of the same name in ``extra`` (a folder) when given."""

    def __init__(self, bundled: Path = BUNDLED, extra: Path | None = None) -> None:
        files = _table_files(bundled)
        self.tables = {p.stem: read_table(p) for p in files}
        self.suffixes = {p.stem: p.suffix for p in files}
        if extra is None:
            return
        if not extra.is_dir():
            raise ConfigError(f"BANSHI_LEXICON: {extra} is not a folder")
        for path in _table_files(extra):
            base = self.tables.get(path.stem)
            if base is None:
                raise ConfigError(f"{path}: no bundled table is called {path.stem} "
                                  f"(the tables: {', '.join(sorted(self.tables))})")
            more = read_table(path)
            if bool(more.groups) != bool(base.groups):
                raise ConfigError(f"{path}: {path.stem} is {'grouped (.tsv)' if base.groups else 'a list (.txt)'}")
            if (path.suffix == ".re") != (self.suffixes[path.stem] == ".re"):
                raise ConfigError(f"{path}: {path.stem} is a table of {self.suffixes[path.stem]} entries")
            known = dict(base.groups)
            unknown = [g for g, _ in more.groups if g not in known]
            if unknown:
                raise ConfigError(f"{path}: unknown groups {unknown}; {path.stem} has {list(known)}")
            for group, words in more.groups:
                known[group] = tuple(dict.fromkeys([*known[group], *words]))
            self.tables[path.stem] = Table(base.name, base.header, tuple(dict.fromkeys([*base.entries, *more.entries])),
                                           tuple(known.items()))

    def _table(self, name: str) -> Table:
        try:
            return self.tables[name]
        except KeyError:
            raise ConfigError(f"no lexicon table {name!r}") from None

    def words(self, name: str) -> tuple[str, ...]:
        """The entries of a list table, in file order."""
        return self._table(name).entries

    def groups(self, name: str) -> dict[str, tuple[str, ...]]:
        """The groups of a grouped table, in file order, each with its entries."""
        return dict(self._table(name).groups)

    def regex(self, name: str, *, before: str = "", after: str = "", flags: int = 0) -> re.Pattern[str]:
        """Any entry of a ``.re`` table (each a regular expression, tried in file order) as one expression."""
        if self.suffixes.get(name) != ".re":
            raise ConfigError(f"lexicon table {name!r} is not a table of regular expressions (.re)")
        return re.compile(f"{before}(?:{'|'.join(f'(?:{e})' for e in self.words(name))}){after}", flags)

    def pattern(self, name: str, *, before: str = "", after: str = "") -> re.Pattern[str]:
        """Any entry of a list table as a regular expression (entries are plain words, tried in file order)."""
        return re.compile(f"{before}(?:{alternation(self.words(name))}){after}")


def alternation(words: Iterable[str]) -> str:
    """Plain words as one regular-expression alternation, tried in the order given."""
    return "|".join(re.escape(w) for w in words)


def _table_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in (".txt", ".tsv", ".re"))


def load_lexicon() -> Lexicon:
    extra = os.environ.get("BANSHI_LEXICON")
    return Lexicon(extra=Path(extra) if extra else None)


LEXICON = load_lexicon()
