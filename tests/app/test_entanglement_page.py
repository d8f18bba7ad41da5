"""The Entanglement page on the sample scenario: groups, the broken pair, ripple risk, inputs."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from aidebt_core import analyses
from aidebt_core.selection import FILES, Selection


def _table(at, column):
    """The shown table that has `column` (AppTest does not expose st.dataframe keys)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _metrics(at):
    return {m.label: m.value for m in at.metric}


def test_page_shows_planted_groups_break_and_ripple(run_page, sample_dir, ground_truth):
    at = run_page("pages/entanglement.py")
    metrics = _metrics(at)
    assert metrics["Changed pairs"] == "1"
    assert int(metrics["Redundant groups"]) >= len(ground_truth["redundant_pairs"])
    groups = next(m.value for m in at.markdown if m.value.startswith("- **"))
    for a, b in ground_truth["redundant_pairs"]:
        assert any(a in line and b in line for line in groups.splitlines()), groups
    changes = _table(at, "Change")  # human headers (issue 17)
    assert {changes["Feature"].iloc[0], changes["Paired with"].iloc[0]} == set(
        ground_truth["correlation_break"]["columns"])
    reference = pd.read_parquet(sample_dir / "reference.parquet")
    assert changes["Reference"].iloc[0] == pytest.approx(
        reference.income.corr(reference.monthly_income), abs=1e-9)
    assert bool(changes["Changed"].iloc[0]) and not changes["Changed"].iloc[1:].any()
    ripple = _table(at, "Ripple risk")
    assert ripple["Feature"].iloc[0] == "income" == metrics["Highest ripple risk"]
    assert any("logreg-prod" in c.value for c in at.caption)
    assert not at.error


def test_view_toggle_and_drill_down(run_page):
    at = run_page("pages/entanglement.py")
    assert at.selectbox(key="ent_pair").value == "income × monthly_income"
    at.button_group(key="ent_view").set_value("Difference").run()
    assert not at.exception
    at.selectbox(key="ent_pair").set_value(at.selectbox(key="ent_pair").options[1]).run()
    assert not at.exception and not at.error


def test_theils_u_and_excluded_features(run_page):
    at = run_page("pages/entanglement.py")
    at.multiselect(key="ent_exclude").set_value(["monthly_income"]).run()
    at.selectbox(key="ent_method").set_value("theils_u").run()
    assert not at.exception
    assert _metrics(at)["Changed pairs"] == "0"
    pairs = _table(at, "Note")
    assert "monthly_income" not in set(pairs["Feature"]) | set(pairs["Paired with"])
    both = pairs[(pairs["Feature"] == "region") & (pairs["Paired with"] == "region_code")]
    assert both["Measure"].iloc[0] == "Theil's U"
    assert both["Association"].iloc[0] == pytest.approx(1.0)


def test_bad_input_is_explained_not_crashed(run_page, tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=200), "flat": 1.0,
                          "empty": pd.Series([None] * 200, dtype="float64"),
                          "id_like": [f"u{i}" for i in range(200)]})
    frame.to_parquet(tmp_path / "a.parquet")
    frame.to_parquet(tmp_path / "b.parquet")
    selection = Selection(workspace=str(tmp_path), mode=FILES, reference="a.parquet",
                          current="b.parquet")
    at = run_page("pages/entanglement.py", selection=selection)
    notes = " ".join(i.value for i in at.info)
    assert "'flat' has a single value" in notes and "'empty' is entirely missing" in notes

    single = pd.DataFrame({"x": rng.normal(size=50)})
    single.to_parquet(tmp_path / "s.parquet")
    at = run_page("pages/entanglement.py",
                  selection=Selection(workspace=str(tmp_path), mode=FILES,
                                      reference="s.parquet", current="s.parquet"))
    assert "at least two feature columns" in at.error[0].value


def test_report_download_is_the_registry_report_of_the_shown_result(run_page, monkeypatch):
    """The download is built by the registry entry's report (as `aidebt entanglement
    --report`) from the result the page shows; swapping the entry's report swaps it. It is
    built when clicked (a callable), not on every rerun (issue 17: reruns under a second)."""
    import streamlit

    entry, seen, buttons = analyses.get("entanglement"), [], []

    def recording(result):
        seen.append(result)
        return entry.make_report(result)

    original = streamlit.download_button

    def download_button(label, data, *args, **kwargs):
        buttons.append(data)
        return original(label, data, *args, **kwargs)

    monkeypatch.setattr(streamlit, "download_button", download_button)
    analyses.register(replace(entry, report=recording), replace=True)
    try:
        at = run_page("pages/entanglement.py")
        assert seen == [] and len(buttons) == 1 and callable(buttons[0])
        html = buttons[0]()  # the click
    finally:
        analyses.register(entry, replace=True)
    assert len(seen) == 1 and html.startswith("<!DOCTYPE html>")
    assert _metrics(at)["Features"] == str(seen[0].summary()["features"])
    assert _metrics(at)["Highest ripple risk"] == seen[0].summary()["top_ripple_feature"]
