"""Fit the retriever's confidence (a logistic model) on development cases, and show thresholds.

``python -m evals.calibrate --data-dir DIR CASES.jsonl...`` (one data dir holding every guide the
cases expect). Label: 1 when the first guide is an expected one, 0 when it is not or the case is
out of scope. Features: the first guide's best dense cosine, the question's term coverage, BM25 per question word and
the question's length (log2 of its characters).
The defaults in ``assistant/hits.py`` (Calibration) come from this script on the bundled pack's
cases; ``--write`` stores the fit, with ``--refuse-below`` picked from the table, in the (single)
data dir's index, where the retriever reads it. Done on development cases only.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from assistant.build import build_search
from assistant.hits import Calibration, Filters
from assistant.settings import Settings
from evals.cases import load_cases
from evals.runner import _question_with_history


def fit_logistic(features: np.ndarray, labels: np.ndarray, l2: float = 1e-3, steps: int = 50) -> np.ndarray:
    """Newton's method; returns weights with the bias first."""
    x = np.hstack([np.ones((len(features), 1)), features])
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-x @ w))
        gradient = x.T @ (p - labels) + l2 * w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + l2 * np.eye(len(w))
        w -= np.linalg.solve(hessian, gradient)
    return w


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("cases", nargs="+", type=Path)
    parser.add_argument("--data-dir", type=Path, action="append", required=True,
                        help="repeat to pair with case files in order (one per file) or give one for all")
    parser.add_argument("--write", action="store_true", help="store the fit in the index (one data dir only)")
    parser.add_argument("--refuse-below", type=float, default=0.55, help="threshold to store with --write")
    args = parser.parse_args()
    dirs = args.data_dir if len(args.data_dir) == len(args.cases) else args.data_dir[:1] * len(args.cases)
    rows, labels, kinds = [], [], []
    for case_file, data_dir in zip(args.cases, dirs, strict=True):
        search = build_search(Settings(data_dir=data_dir))
        search.calibration = Calibration()  # fit from the raw features, not from a stored fit
        for case in load_cases([case_file]):
            if case.expect == "handoff" or (case.expect != "refuse" and not case.expected_ids):
                continue
            result = search.search(_question_with_history(case), k=2, filters=Filters(region=case.region))
            top = result.hits[0] if result.hits else None
            lexical = top.lexical if top else 0.0
            rows.append(list(Calibration.features(top.dense if top else 0.0, result.coverage, lexical / result.words,
                                                  len(result.query.text))))
            labels.append(1.0 if top and top.record_id in case.expected_ids else 0.0)
            kinds.append(case.expect)
    x, y = np.array(rows), np.array(labels)
    w = fit_logistic(x, y)
    print(f"Calibration(bias={w[0]:.3f}, dense={w[1]:.3f}, coverage={w[2]:.3f}, lexical={w[3]:.3f}, "
          f"length={w[4]:.3f})")
    if args.write:
        if len(args.data_dir) != 1:
            parser.error("--write needs exactly one --data-dir")
        bias, dense, coverage, lexical, length = (round(float(v), 3) for v in w)
        fitted = Calibration(bias=bias, dense=dense, coverage=coverage, lexical=lexical, length=length,
                             refuse_below=args.refuse_below)
        search.index.set_meta("calibration", json.dumps(fitted.__dict__))
        print(f"stored in {args.data_dir[0]}: {fitted}")
    p = 1 / (1 + np.exp(-(w[0] + x @ w[1:])))
    oos = np.array([k == "refuse" for k in kinds])
    right = (y == 1) & ~oos
    print("threshold  out-of-scope refused  in-scope right kept  in-scope wrong kept")
    for threshold in (0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7):
        print(f"{threshold:9.2f}  {np.mean(p[oos] < threshold):21.3f}  {np.mean(p[right] >= threshold):19.3f}"
              f"  {np.mean(p[(y == 0) & ~oos] >= threshold):19.3f}")


if __name__ == "__main__":
    main()
