"""``make load`` at a small size: a live server killed with SIGKILL mid-run loses nothing and claims nothing twice."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_killed_server_loses_no_message_and_no_claim_is_doubled() -> None:
    run = subprocess.run([sys.executable, "-m", "evals.load_handoff", "--citizens", "6", "--agents", "2",
                          "--think", "0.5", "--spread", "3", "--no-burst", "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout)
    assert result["retries_after_kill"] > 0  # the kill landed while citizens were talking to the server
    assert result["answers"] == 18 and result["handoffs_claimed"] == 12  # every citizen got through, twice
    assert (result["lost"], result["double_claims"], result["database_locked"]) == (0, 0, 0)
    assert result["problems"] == []
