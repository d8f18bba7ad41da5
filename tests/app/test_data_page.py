"""The Data page and the sidebar on the sample scenario: sizes, roles, statistics, URL state."""

from dataclasses import replace

import pandas as pd
import pytest

from aidebt_core.selection import FILES, sample_selection


def _frames(at):
    return [d.value for d in at.dataframe]


def test_data_page_shows_sizes_and_roles(run_page, ground_truth):
    at = run_page("pages/data.py")
    metrics = {m.label: m.value for m in at.metric}
    rows = ground_truth["rows_per_month"] * len(ground_truth["reference_months"])
    assert metrics["Reference rows"] == f"{rows:,}"
    assert metrics["Current rows"] == f"{rows:,}"
    roles = at.dataframe(key="roles_editor").value.set_index("column")["role"]
    for role, column in ground_truth["roles"].items():
        assert roles[column] == role


def test_summary_statistics_match_pandas(run_page, sample_dir):
    at = run_page("pages/data.py")
    frame = pd.read_parquet(sample_dir / "reference.parquet")
    numeric = next(f for f in _frames(at) if "mean" in f.columns).set_index("column")
    assert numeric.loc["credit_score", "mean"] == pytest.approx(frame["credit_score"].mean())
    assert numeric.loc["income", "median"] == pytest.approx(frame["income"].median())
    other = next(f for f in _frames(at) if "top_value" in f.columns).set_index("column")
    assert other.loc["employment_type", "missing"] == frame["employment_type"].isna().sum()


def test_current_period_statistics(run_page, sample_dir):
    at = run_page("pages/data.py")
    at.button_group(key="profile_side").set_value("Current").run()
    frame = pd.read_parquet(sample_dir / "current.parquet")
    numeric = next(f for f in _frames(at) if "mean" in f.columns).set_index("column")
    assert numeric.loc["income", "mean"] == pytest.approx(frame["income"].mean())


def test_role_override_is_kept_for_every_page(run_page):
    at = run_page("pages/data.py", state={"aidebt_roles": {"prev_loans": "categorical"}})
    roles = at.dataframe(key="roles_editor").value.set_index("column")["role"]
    assert roles["prev_loans"] == "categorical"
    assert any("prev_loans → categorical" in i.value for i in at.info)


def test_two_files_mode_uses_the_chosen_files(run_page, sample_dir):
    selection = replace(sample_selection(sample_dir), mode=FILES,
                        reference="reference.parquet", current="current.parquet")
    at = run_page("pages/data.py", selection=selection)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Reference rows"] == "60,000" and metrics["Current rows"] == "60,000"


def test_missing_file_is_a_clear_error_not_a_traceback(run_page, sample_dir):
    selection = replace(sample_selection(sample_dir), source="no_such.parquet")
    at = run_page("pages/data.py", selection=selection)
    errors = " ".join(e.value for e in at.error)
    assert "no_such.parquet" in errors and "does not exist" in errors


def test_sidebar_puts_the_selection_in_the_url(run_app):
    at = run_app()
    assert at.query_params["src"] in ("applications.parquet", ["applications.parquet"])
    assert "2025-07-01" in str(at.query_params["at"])
    assert at.text_input(key="sb_ws").value.endswith("sample_data")


def test_shared_link_restores_the_selection(run_app):
    at = run_app(query={"mode": "files", "ref": "reference.parquet", "cur": "current.parquet"})
    assert at.radio(key="sb_mode").value == "files"
    assert at.selectbox(key="sb_ref").value == "reference.parquet"
    assert at.selectbox(key="sb_cur").value == "current.parquet"


def test_bad_workspace_in_a_link_is_a_clear_error(run_app):
    at = run_app(query={"ws": "/no/such/folder"})
    errors = " ".join(e.value for e in at.error)
    assert "/no/such/folder" in errors and "does not exist" in errors


def test_sources_of_the_workspace_are_listed_with_the_one_in_use(run_page, sample_dir):
    at = run_page("pages/data.py")
    sources = next(f for f in _frames(at) if "in use" in f.columns).set_index("source")
    assert set(sources.index) >= {"applications.parquet", "reference.parquet", "current.parquet"}
    assert sources.loc["applications.parquet", "in use"]
    assert not sources.loc["reference.parquet", "in use"]
    size = (sample_dir / "current.parquet").stat().st_size / 1e6
    assert sources.loc["current.parquet", "size_mb"] == pytest.approx(size)
