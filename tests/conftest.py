"""Fixtures every layer shares: the sample scenario, generated once per machine."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = Path(os.environ.get("AIDEBT_SAMPLE_DIR", ROOT / "sample_data")).resolve()
os.environ["AIDEBT_SAMPLE_DIR"] = str(SAMPLE_DIR)
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")


def ensure_sample(folder: Path = SAMPLE_DIR) -> Path:
    """Generate the sample scenario if it is not there (one process at a time)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".generate.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "ground_truth.json").exists():
            from aidebt_core.sample import write_sample

            write_sample(folder, force=True)  # next to README.md and the lock file
    return folder


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return ensure_sample()


@pytest.fixture(scope="session")
def ground_truth(sample_dir: Path) -> dict:
    return json.loads((sample_dir / "ground_truth.json").read_text())
