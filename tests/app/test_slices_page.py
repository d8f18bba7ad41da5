"""The Slices page on the sample scenario: shown values checked against pandas/sklearn."""

import re
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


def _with(at, *headers, last=False):
    """The shown table holding these headers (tables have human headers since issue 17)."""
    tables = [d.value for d in at.dataframe if set(headers) <= set(d.value.columns)]
    assert tables, [list(d.value.columns) for d in at.dataframe]
    return tables[-1] if last else tables[0]


def found_table(at):
    return _with(at, "Slice", "Significant", "Size")


def breakdown_table(at):
    return _with(at, "Slice", "Significant", "Size", last=True)


def change_table(at):
    return _with(at, "Slice", "Worsened", "Reference size")


def rows_of(df, description):
    """pandas rows of a slice description ('channel = mobile and account_age_days < 87')."""
    mask = pd.Series(True, index=df.index)
    for part in description.split(" and "):
        column, op, value = re.match(r"^(\S+) (<|>=|=|in) (.+)$", part).groups()
        col = df[column]
        if op == "in":
            low, high = (float(v) for v in value.strip("[)").split(","))
            mask &= (col >= low) & (col < high)
        elif op == "<":
            mask &= col < float(value)
        elif op == ">=":
            mask &= col >= float(value)
        else:
            numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
            mask &= (col == float(value)) if numeric else \
                (col.astype(str).str.lower() == value.lower())
    return df[mask]


def test_page_lists_significant_slices_first_and_the_planted_one(run_page, current, sample_dir):
    # the drift within the picked slice is counted on demand (a toggle)
    at = run_page("pages/slices.py", state={"slices_drill": True})
    shown = _metrics(at)
    acc = (current.defaulted == current.predicted_default).mean()
    assert shown["Overall accuracy (current)"] == f"{acc:.3f}"
    assert shown["Labelled current rows"] == f"{len(current):,}"
    found = found_table(at)
    weak = int(shown["Weak slices (q < 0.05)"])
    assert weak >= 1 and weak == int(found["Significant"].sum())
    # significant slices first; each one's q below 0.05 and its accuracy below overall
    assert list(found["Significant"]) == sorted(found["Significant"], reverse=True)
    sig = found[found["Significant"]]
    assert (sig["q-value"] < 0.05).all() and (sig["Metric"] < acc).all()
    # the sentences list exactly the significant slices, in the table's order
    bullets = next(m.value for m in at.markdown if m.value.startswith("- **")).replace("\\", "")
    lines = bullets.splitlines()
    assert [line[4:].split(": accuracy")[0] for line in lines] == list(sig["Slice"])
    assert f"vs {acc:.3g} overall" in lines[0]
    # the planted mobile/new-account slice is among them (ground truth of the sample)
    planted = [s for s in sig["Slice"] if "channel = mobile" in s and "account_age_days < " in s]
    assert planted, list(sig["Slice"])

    top = found.iloc[0]
    inside = rows_of(current, top["Slice"])
    assert top["Size"] == len(inside)
    assert top["Metric"] == pytest.approx((inside.defaulted == inside.predicted_default).mean())
    assert top["CI low"] < top["Metric"] < top["CI high"]

    change = change_table(at).set_index("Slice")
    assert set(change.index) == set(found["Slice"])

    by = breakdown_table(at).set_index("Slice")
    counts = current.channel.value_counts()
    for value in ("mobile", "web", "branch", "partner"):
        assert by.loc[f"channel = {value}", "Size"] == counts[value]
    link = next(m.value for m in at.markdown if "/drift?" in m.value)
    assert "slice=%7B%22" in link
    # the first slice's own drift summary, with its row counts in both periods
    df = pd.read_parquet(sample_dir / "applications.parquet")
    ref_rows = len(rows_of(df[df.applied_at < "2025-07-01"], top["Slice"]))
    cur_rows = len(rows_of(df[df.applied_at >= "2025-07-01"], top["Slice"]))
    summary = next(m.value for m in at.markdown if m.value.startswith("Within this slice"))
    assert f"({ref_rows:,} reference rows, {cur_rows:,} current rows)" in summary
    assert "columns drifted" in summary


def test_switching_the_metric_recomputes(run_page, current):
    at = run_page("pages/slices.py", state={"slices_metric": "recall", "slices_order": 2})
    assert not any(m.value.startswith("Within this slice") for m in at.markdown)  # on demand
    shown = _metrics(at)
    recall = skm.recall_score(current.defaulted.astype(int), current.predicted_default)
    assert shown["Overall recall (current)"] == f"{recall:.3f}"
    by = breakdown_table(at).set_index("Slice")
    web = current[current.channel == "web"]
    assert by.loc["channel = web", "Metric"] == pytest.approx(
        skm.recall_score(web.defaulted.astype(int), web.predicted_default))


@pytest.mark.parametrize("metric,score", [
    ("roc_auc", lambda g: skm.roc_auc_score(g.defaulted.astype(int), g.default_score)),
    ("f1", lambda g: skm.f1_score(g.defaulted.astype(int), g.predicted_default)),
])
def test_auc_and_f1_views_show_the_metric_and_its_own_significance(run_page, current, metric,
                                                                    score):
    at = run_page("pages/slices.py", state={"slices_metric": metric})
    overall = score(current)
    label = "ROC AUC" if metric == "roc_auc" else "F1"
    assert _metrics(at)[f"Overall {label} (current)"] == f"{overall:.3f}"
    found = found_table(at)
    for _, row in found.iterrows():   # the q-values and flags are of the metric shown
        inside = rows_of(current, row["Slice"])
        assert row["Metric"] == pytest.approx(score(inside))
        assert bool(row["Significant"]) == (row["q-value"] < 0.05 and row["Metric"] < overall)
        assert row["CI low"] <= row["Metric"] <= row["CI high"]
    by = breakdown_table(at).set_index("Slice")
    for value in ("mobile", "web"):
        assert by.loc[f"channel = {value}", "Metric"] == pytest.approx(
            score(current[current.channel == value]))


def test_a_third_breakdown_column_keeps_the_page(run_page, current):
    at = run_page("pages/slices.py",
                  state={"slices_by": ["channel", "region", "credit_score"]})
    assert not at.error
    assert any("the 200 largest are shown" in i.value for i in at.info)
    assert len(found_table(at)) >= 1          # the discovered slices are still there
    by = breakdown_table(at)
    assert len(by) == 200 and by["Size"].sum() <= len(current)
    for _, row in by.head(5).iterrows():
        assert row["Size"] == len(rows_of(current, row["Slice"]))
    # the 200 largest of all channel x region x credit band combinations
    assert by["Size"].min() >= by["Size"].max() / 100
    assert any(c.startswith("The chart shows the 40 slices") for c in
               (x.value for x in at.caption))


def test_no_search_columns_shows_an_error(run_page):
    at = run_page("pages/slices.py", state={"slices_features": []})
    assert any("Pick at least one column to search slices on" in e.value for e in at.error)


def test_breakdown_slices_compared_between_periods(run_page, sample_dir, current):
    at = run_page("pages/slices.py", state={"slices_which": "breakdown", "slices_order": 1})
    table = change_table(at).set_index("Slice")
    df = pd.read_parquet(sample_dir / "applications.parquet")
    ref = df[(df.applied_at < "2025-07-01") & df.defaulted.notna()]
    mobile_ref = ref[ref.channel == "mobile"]
    row = table.loc["channel = mobile"]
    assert row["Reference size"] == len(mobile_ref)
    assert row["Reference"] == pytest.approx(
        (mobile_ref.defaulted == mobile_ref.predicted_default).mean())
    # 'partner' is new in current: no reference rows, so no reference number and no flag
    partner = table.loc["channel = partner"]
    assert partner["Reference size"] == 0 and pd.isna(partner["Reference"])
    assert not bool(partner["Worsened"])


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
    by = breakdown_table(at).set_index("Slice")
    south = cur[cur.region == "south"]
    assert by.loc["region = south", "Metric"] == pytest.approx(
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


def test_page_and_cli_give_the_same_slices_for_the_same_data_and_options(run_page, tmp_path,
                                                                          capsys):
    """Issue 16 done-when: the planted 10k x 20 table, CLI defaults vs the page's defaults
    (the same SlicesOptions): the same slices in the same order."""
    from aidebt_core.selection import FILES, Selection
    from tests.unit.test_slices_cli import planted_table

    planted_table(tmp_path / "planted.parquet")
    cli = _cli_json(capsys, str(tmp_path / "planted.parquet"), "--target", "y", "--prediction",
                    "p", "--score", "score", "--max-order", "3")
    # The page needs two sides: the same file as reference and current (bins fitted on the
    # same rows as the CLI's one source).
    selection = Selection(workspace=str(tmp_path), mode=FILES, reference="planted.parquet",
                          current="planted.parquet")
    roles = {"y": "target", "p": "prediction", "score": "score"}  # as the Data page sets them
    at = run_page("pages/slices.py", selection=selection, state={"aidebt_roles": roles})
    _same_slices(found_table(at), cli)
    assert cli["slices"][0]["slice"]["region"] == "north"


def test_page_and_cli_agree_with_other_options_on_the_sample(run_page, sample_dir, capsys):
    """The other objective and other settings, each set once on the page and once as flags."""
    cli = _cli_json(capsys, str(sample_dir / "applications.parquet"), "--target", "defaulted",
                    "--prediction", "predicted_default", "--score", "default_score",
                    "--timestamp", "applied_at", "--reference-end", "2025-07-01",
                    "--objective", "calibration", "--max-order", "2", "--alpha-fdr", "0.01",
                    "--top-k", "5")
    at = run_page("pages/slices.py", state={"slices_objective": "calibration",
                                            "slices_order": 2, "slices_fdr": 0.01,
                                            "slices_k": 5})
    page = found_table(at)
    _same_slices(page, cli)
    assert cli["objective"] == "calibration" and len(cli["slices"]) >= 2
    assert list(page["Gap"]) == pytest.approx([s["gap"] for s in cli["slices"]])
    assert _metrics(at)["Weak slices (q < 0.01)"] == str(cli["summary"]["weak_slices"])


def _cli_json(capsys, *args) -> dict:
    import json

    from aidebt_core.cli import main

    code = main(["slices", *args, "--format", "json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


def _same_slices(page, cli: dict) -> None:
    assert list(page["Slice"]) == [s["description"] for s in cli["slices"]]
    assert list(page["Size"]) == [s["size"] for s in cli["slices"]]
    assert list(page["Significant"]) == [s["significant"] for s in cli["slices"]]
    assert list(page["q-value"]) == pytest.approx([s["q_value"] for s in cli["slices"]])


def test_page_does_not_flag_tiny_gaps_on_large_clean_data(run_page, tmp_path, capsys):
    """The minimum gap (SlicesOptions.min_gap) decides the page's flags as it does the CLI's:
    on 150k clean rows the retail half's 1-point gap is significant and not flagged."""
    from aidebt_core.selection import FILES, Selection
    from tests.unit.test_slices_min_gap import clean_loans

    clean_loans(tmp_path / "loans.parquet", n=150_000)
    cli = _cli_json(capsys, str(tmp_path / "loans.parquet"), "--target", "repaid",
                    "--prediction", "y_hat", "--by", "segment")
    selection = Selection(workspace=str(tmp_path), mode=FILES, reference="loans.parquet",
                          current="loans.parquet")
    at = run_page("pages/slices.py", selection=selection,
                  state={"aidebt_roles": {"repaid": "target", "y_hat": "prediction"},
                         "slices_by": ["segment"]})
    page = found_table(at)
    _same_slices(page, cli)
    assert "retail" in " ".join(breakdown_table(at)["Slice"])
    assert not page["Significant"].any() and not breakdown_table(at)["Significant"].any()
    assert _metrics(at)["Weak slices (q < 0.05)"] == "0"
    assert any("at least 0.02 worse" in str(i.value) for i in at.info)
    # The page's own control, as --min-gap 0: the retail gap is flagged in both.
    at.number_input(key="slices_min_gap").set_value(0.0).run()
    loose = _cli_json(capsys, str(tmp_path / "loans.parquet"), "--target", "repaid",
                      "--prediction", "y_hat", "--by", "segment", "--min-gap", "0")
    _same_slices(found_table(at), loose)
    flagged = breakdown_table(at).set_index("Slice")["Significant"]
    assert bool(flagged["segment = retail"])
