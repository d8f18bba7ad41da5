"""The Slices page on the sample scenario: shown values checked against pandas/sklearn."""

from dataclasses import replace

import pandas as pd
import pytest
from sklearn import metrics as skm

from aidebt_core import analyses


@pytest.fixture(scope="module")
def current(sample_dir):
    df = pd.read_parquet(sample_dir / "applications.parquet")
    return df[(df.applied_at >= "2025-07-01") & df.defaulted.notna()]


def _metrics(at):
    return {m.label: m.value for m in at.metric}


def test_page_finds_the_weak_slice_and_shows_it_worsening(run_page, current, sample_dir):
    at = run_page("pages/slices.py")
    shown = _metrics(at)
    acc = (current.defaulted == current.predicted_default).mean()
    assert shown["Overall accuracy (current)"] == f"{acc:.3f}"
    assert shown["Labelled current rows"] == f"{len(current):,}"
    assert int(shown["Weak slices (q < 0.05)"]) >= 1
    # the sentence is escaped markdown (column names and values are user text): unescape
    bullets = next(m.value for m in at.markdown if m.value.startswith("- **")).replace("\\", "")
    assert bullets.startswith("- **channel = mobile and account_age_days < ")
    assert f"vs {acc:.3g} overall" in bullets.splitlines()[0]

    found = at.dataframe[0].value
    top = found.iloc[0]
    edge = float(top["slice"].rsplit("< ", 1)[1])
    inside = current[(current.channel == "mobile") & (current.account_age_days < edge)]
    assert top["size"] == len(inside)
    assert top["metric"] == pytest.approx((inside.defaulted == inside.predicted_default).mean())
    assert top["ci_low"] < top["metric"] < top["ci_high"] and top["q_value"] < 1e-6

    change = at.dataframe[1].value.iloc[0]
    assert change["slice"] == top["slice"]
    assert change["current"] < change["reference"] - 0.05 and bool(change["worsened"])

    by = at.dataframe[2].value.set_index("slice")
    counts = current.channel.value_counts()
    for value in ("mobile", "web", "branch", "partner"):
        assert by.loc[f"channel = {value}", "size"] == counts[value]
    link = next(m.value for m in at.markdown if "/drift?" in m.value)
    assert "slice=%7B%22channel%22%3A%22mobile%22" in link
    # the first slice's own drift summary, with its row counts in both periods
    df = pd.read_parquet(sample_dir / "applications.parquet")
    ref_rows = ((df.applied_at < "2025-07-01") & (df.channel == "mobile")
                & (df.account_age_days < edge)).sum()
    cur_rows = ((df.applied_at >= "2025-07-01") & (df.channel == "mobile")
                & (df.account_age_days < edge)).sum()
    summary = next(m.value for m in at.markdown if m.value.startswith("Within this slice"))
    assert f"({ref_rows:,} reference rows, {cur_rows:,} current rows)" in summary
    assert "columns drifted" in summary


def test_switching_the_metric_recomputes(run_page, current):
    at = run_page("pages/slices.py", state={"slices_metric": "recall", "slices_order": 2})
    shown = _metrics(at)
    recall = skm.recall_score(current.defaulted.astype(int), current.predicted_default)
    assert shown["Overall recall (current)"] == f"{recall:.3f}"
    by = at.dataframe[2].value.set_index("slice")
    web = current[current.channel == "web"]
    assert by.loc["channel = web", "metric"] == pytest.approx(
        skm.recall_score(web.defaulted.astype(int), web.predicted_default))


def test_no_search_columns_shows_an_error(run_page):
    at = run_page("pages/slices.py", state={"slices_features": []})
    assert any("Pick at least one column to search slices on" in e.value for e in at.error)


def test_breakdown_slices_compared_between_periods(run_page, sample_dir, current):
    at = run_page("pages/slices.py", state={"slices_which": "breakdown", "slices_order": 1})
    table = at.dataframe[1].value.set_index("slice")
    df = pd.read_parquet(sample_dir / "applications.parquet")
    ref = df[(df.applied_at < "2025-07-01") & df.defaulted.notna()]
    mobile_ref = ref[ref.channel == "mobile"]
    row = table.loc["channel = mobile"]
    assert row["reference_size"] == len(mobile_ref)
    assert row["reference"] == pytest.approx(
        (mobile_ref.defaulted == mobile_ref.predicted_default).mean())
    # 'partner' is new in current: no reference rows, so no reference number and no flag
    partner = table.loc["channel = partner"]
    assert partner["reference_size"] == 0 and pd.isna(partner["reference"])
    assert not bool(partner["worsened"])


def test_regression_model_gets_mae_per_slice(run_page, tmp_path):
    import numpy as np

    from aidebt_core.selection import FILES, Selection

    rng = np.random.default_rng(0)
    for name, noise in (("ref.parquet", 1.0), ("cur.parquet", 2.0)):
        n = 4000
        region = rng.choice(["north", "south"], n)
        x = rng.normal(size=n)
        target = 3 * x + rng.normal(0, np.where(region == "south", noise, 1.0))
        pd.DataFrame({"region": region, "x": x, "target": target,
                      "prediction": 3 * x}).to_parquet(tmp_path / name)
    selection = Selection(workspace=str(tmp_path), mode=FILES, reference="ref.parquet",
                          current="cur.parquet")
    at = run_page("pages/slices.py", selection=selection, state={"slices_by": ["region"]})
    assert at.selectbox(key="slices_metric").value == "mae"
    cur = pd.read_parquet(tmp_path / "cur.parquet")
    mae = (cur.target - cur.prediction).abs().mean()
    assert _metrics(at)["Overall MAE (current)"] == f"{mae:.3f}"
    by = at.dataframe[-1].value.set_index("slice")
    south = cur[cur.region == "south"]
    assert by.loc["region = south", "metric"] == pytest.approx(
        (south.target - south.prediction).abs().mean())


def test_report_download_is_the_registry_report_of_the_shown_result(run_page, current):
    """The download is built by the registry entry's report (as `aidebt slices --report`)
    from the result the page shows; swapping the entry's report swaps it."""
    entry, seen = analyses.get("slices"), []

    def recording(result):
        seen.append(result)
        return entry.make_report(result)

    analyses.register(replace(entry, report=recording), replace=True)
    try:
        at = run_page("pages/slices.py")
    finally:
        analyses.register(entry, replace=True)
    assert len(seen) == 1 and seen[0].overall.rows == len(current)
    assert _metrics(at)["Weak slices (q < 0.05)"] == str(len(seen[0].weak()))
