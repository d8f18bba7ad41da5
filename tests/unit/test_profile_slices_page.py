"""The Slices page on a saved profile (reference) and a table (current): it runs from the
profile's slice cells, offers only the metrics cell counts give, and shows the planted slice
as `aidebt slices` finds it on the same inputs."""

from __future__ import annotations

import io
import json
from contextlib import chdir, redirect_stderr, redirect_stdout
from pathlib import Path

import pyarrow.parquet as pq
from streamlit.testing.v1 import AppTest

from aidebt_core.cli import main
from aidebt_core.selection import FILES, Selection
from tests.unit.test_profile_slices_data import CHANNEL, INCOME, OUTPUTS, planted

ROOT = Path(__file__).resolve().parents[2]
ROLES = ["--target", OUTPUTS["target"], "--prediction", OUTPUTS["prediction"],
         "--score", OUTPUTS["score"]]


def _cli(folder, *args) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with chdir(folder), redirect_stdout(out), redirect_stderr(err):
        code = main([*args])
    return code, out.getvalue() if code == 0 else err.getvalue()


def test_slices_page_runs_from_a_saved_profile(tmp_path):
    pq.write_table(planted(1, weak=0.1), tmp_path / "ref.parquet")
    pq.write_table(planted(2, weak=0.45), tmp_path / "cur.parquet")
    columns = f"{INCOME},{CHANNEL},age,year,flag"
    code, err = _cli(tmp_path, "profile", "ref.parquet", *ROLES, "--columns",
                     f"{columns},{','.join(OUTPUTS.values())}", "--for", "slices",
                     "--out", "ref.aidebt")
    assert code == 0, err
    code, out = _cli(tmp_path, "slices", "ref.aidebt", "cur.parquet", *ROLES, "--max-order",
                     "2", "--format", "json")
    assert code == 0, out
    cli = json.loads(out)
    at = AppTest.from_file(str(ROOT / "pages/slices.py"), default_timeout=120)
    at.session_state["aidebt_selection"] = Selection(
        workspace=str(tmp_path), mode=FILES, reference="ref.aidebt", current="cur.parquet",
        roles=tuple(sorted({"repaid": "target", "y_pred": "prediction",
                            "y_pred_proba": "score"}.items())))
    at.session_state["slices_order"] = 2
    at.session_state["slices_by"] = []
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    metric = next(s for s in at.selectbox if s.label == "Metric")
    assert "roc_auc" not in metric.options and "accuracy" in metric.options
    notes = " ".join(str(i.value) for i in at.info)
    assert "Computed from profiles (ref.aidebt (profile), cur.parquet)" in notes
    top = cli["slices"][0]
    assert top["slice"][CHANNEL] == "mobile" and top["slice"][INCOME].startswith("< 3")
    shown = [d.value for d in at.dataframe if "Slice" in d.value.columns]
    assert shown and shown[0].iloc[0]["Slice"] == top["description"]
