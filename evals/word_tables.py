"""Count the hand-written word tables left in code: module-level constants of ``assistant/`` and ``knowledge/``
whose literals hold three or more Chinese words and which are matched against questions or guides (not the
texts the assistant says, such as replies and labels, listed in SAYS), and tuples, lists or sets of three or
more Chinese words written inside a function.

    python -m evals.word_tables [--list]

The language tables kept as data are in ``assistant/data/`` (``lexicon/``, ``acts.json``, ``lookups.json``,
``synonyms.tsv``, ``places.tsv``): see docs/lexicon.md.
"""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_CJK = re.compile(r"[\u3400-\u9fff]+")
_CLASS = re.compile(r"\[([^\]]*)\]")
# Constants holding what the assistant says or labels, or formats it reads: not words it matches.
SAYS = frozenset(("FACET_LABELS", "_SMALL_TALK_REPLIES", "_HANDOFF_LEADS", "NOBODY_NOW", "REASONS", "DECISIONS",
                  "HANDOFF_REASONS", "SYSTEM_PROMPT", "EXPECTS", "SECTIONS", "_TOPIC_WORDS", "_DURATION", "A_NUMBER",
                  "_LIST_COUNT", "PRIVACY"))


def _words(node: ast.AST) -> set[str]:
    """The Chinese words of the literals under ``node``; each character of a regular expression's character class
    ("[那这就还…]") is a word of its own."""
    texts = [sub.value for sub in ast.walk(node) if isinstance(sub, ast.Constant) and isinstance(sub.value, str)]
    words = {w for text in texts for part in re.split(r"[|,，、()?\s]+", _CLASS.sub(" ", text))
             for w in _CJK.findall(part)}
    return words | {c for text in texts for chars in _CLASS.findall(text) for c in chars if _CJK.match(c)}


def word_tables(folders: list[Path]) -> list[tuple[str, int, str, int]]:
    """(file, line, name, words) of every table left in code: a module-level constant, or a tuple, list or set of
    words written inside a function (``any(w in text for w in ("投诉", "态度", "不满意"))``, named ``<inline>``)."""
    found = []
    for folder in folders:
        for path in sorted(folder.glob("*.py")):
            module = ast.parse(path.read_text(encoding="utf-8"))
            for node in module.body:
                if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
                    continue
                target = node.targets[0] if isinstance(node, ast.Assign) else node.target
                name = getattr(target, "id", "")
                if not name.lstrip("_").isupper() or name in SAYS:
                    continue
                if len(words := _words(node.value)) >= 3:
                    found.append((str(path.relative_to(ROOT)), node.lineno, name, len(words)))
            for function in ast.walk(module):
                if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                for literal in ast.walk(function):
                    if isinstance(literal, (ast.Tuple, ast.List, ast.Set)) and all(
                            isinstance(e, ast.Constant) and isinstance(e.value, str) for e in literal.elts) and \
                            len(words := _words(literal)) >= 3:
                        found.append((str(path.relative_to(ROOT)), literal.lineno, "<inline>", len(words)))
    return sorted(set(found))  # a nested function is walked with the one around it too


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="print each table")
    args = parser.parse_args()
    tables = word_tables([ROOT / "assistant", ROOT / "knowledge"])
    if args.list:
        for path, line, name, words in tables:
            print(f"{path}:{line} {name} ({words} words)")
    print(f"word tables in code: {len(tables)}")


if __name__ == "__main__":
    main()
