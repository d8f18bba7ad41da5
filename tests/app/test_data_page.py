"""The Data page and the sidebar on the sample scenario: sizes, roles, statistics, URL state."""

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from aidebt_core.roles import ROLES_FILE, read_roles_file
from aidebt_core.selection import FILES, Selection, sample_selection
from aidebt_core.serving import ENV, ServeConfig


def _shown(elements) -> str:
    """The text of message elements as a reader sees it (markdown escapes removed)."""
    # md() escapes punctuation and puts a word joiner (U+2060) into URLs against autolinks
    return " ".join(e.value for e in elements).replace("\\", "").replace("\u2060", "")


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
    numeric = next(f for f in _frames(at) if "Mean" in f.columns).set_index("Column")
    assert numeric.loc["credit_score", "Mean"] == pytest.approx(frame["credit_score"].mean())
    assert numeric.loc["income", "Median"] == pytest.approx(frame["income"].median())
    other = next(f for f in _frames(at) if "Most frequent" in f.columns).set_index("Column")
    assert other.loc["employment_type", "Missing"] == frame["employment_type"].isna().sum()


def test_current_period_statistics(run_page, sample_dir):
    at = run_page("pages/data.py")
    at.button_group(key="profile_side").set_value("Current").run()
    frame = pd.read_parquet(sample_dir / "current.parquet")
    numeric = next(f for f in _frames(at) if "Mean" in f.columns).set_index("Column")
    assert numeric.loc["income", "Mean"] == pytest.approx(frame["income"].mean())


def test_role_override_is_kept_for_every_page(run_page):
    at = run_page("pages/data.py", state={"aidebt_roles": {"prev_loans": "categorical"}})
    roles = at.dataframe(key="roles_editor").value.set_index("column")["role"]
    assert roles["prev_loans"] == "categorical"
    # Column names are markdown-escaped on the page (prev\_loans); compare the shown text.
    assert any("prev_loans → categorical" in i.value.replace("\\", "") for i in at.info)


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
    assert at.selectbox(key="sb_ws").value.endswith("sample_data")


def test_shared_link_restores_the_selection(run_app):
    at = run_app(query={"mode": "files", "ref": "reference.parquet", "cur": "current.parquet"})
    assert at.radio(key="sb_mode").value == "files"
    assert at.selectbox(key="sb_ref").value == "reference.parquet"
    assert at.selectbox(key="sb_cur").value == "current.parquet"


def test_bad_workspace_in_a_link_is_a_clear_error(run_app, sample_dir):
    # Since the served boundary, a folder the server was not started with is refused outright
    # (whether or not it exists), and the sidebar stays on the allowed root.
    at = run_app(query={"ws": "/no/such/folder"})
    errors = _shown(at.error)
    assert "/no/such/folder" in errors and "not one of the folders" in errors
    assert at.selectbox(key="sb_ws").value == str(sample_dir)


def test_sources_of_the_workspace_are_listed_with_the_one_in_use(run_page, sample_dir):
    at = run_page("pages/data.py")
    sources = next(f for f in _frames(at) if "in use" in f.columns).set_index("Source")
    assert set(sources.index) >= {"applications.parquet", "reference.parquet", "current.parquet"}
    assert sources.loc["applications.parquet", "in use"]
    assert not sources.loc["reference.parquet", "in use"]
    size = (sample_dir / "current.parquet").stat().st_size / 1e6
    assert sources.loc["current.parquet", "Size (MB)"] == pytest.approx(size)


# ---------------------------------------------------------------- the served boundary (issue 13)

def test_system_folder_in_a_link_is_refused_and_not_listed(run_app, sample_dir):
    at = run_app(query={"ws": "/etc", "mode": "files", "ref": "passwd", "cur": "hostname"})
    errors = _shown(at.error)
    assert "'/etc' is not one of the folders" in errors
    assert at.selectbox(key="sb_ws").value == str(sample_dir)
    # the file names are looked up in the allowed root only, where they do not exist
    assert "'passwd' is not in the workspace" in errors
    listed = at.selectbox(key="sb_ref").options
    assert "passwd" not in listed and "reference.parquet" in listed


def test_file_outside_the_root_in_a_link_is_refused(run_app, tmp_path, sample_dir):
    secret = tmp_path / "secret.csv"
    secret.write_text("user,password\nalice,hunter2\n")
    at = run_app(query={"mode": "files", "ref": str(secret), "cur": "../etc/passwd"})
    errors = _shown(at.error)
    assert str(secret) in errors and "'../etc/passwd' is not in the workspace" in errors
    assert at.selectbox(key="sb_ref").value != str(secret)
    assert at.selectbox(key="sb_ref").value != at.selectbox(key="sb_cur").value
    assert "hunter2" not in str(at.main) + str(at.sidebar)


def test_tracking_uri_not_allowed_is_refused(run_app, sample_dir):
    at = run_app(query={"mlflow": "http://127.0.0.1:9/x"})
    assert "Tracking URI 'http://127.0.0.1:9/x' is not one" in _shown(at.error)
    assert at.selectbox(key="sb_mlflow").value == f"sqlite:///{sample_dir / 'mlflow.db'}"
    assert at.selectbox(key="sb_mlflow").options == [f"sqlite:///{sample_dir / 'mlflow.db'}"]


def test_markdown_in_a_refused_link_is_shown_as_text(run_app):
    at = run_app(query={"ws": "![x](http://evil.example/p.png)"})
    raw = " ".join(e.value for e in at.error)
    assert "![x](http://evil" not in raw and "evil.example" in _shown(at.error)


# ---------------------------------------------------------------- split within a day (issue 12)

def test_split_at_a_time_of_day_from_a_link(run_app):
    at = run_app(query={"at": "2025-07-01T12:30"})
    assert str(at.time_input(key="sb_at_time").value) == "12:30:00"
    assert at.query_params["at"] in ("2025-07-01T12:30", ["2025-07-01T12:30"])
    assert at.session_state["aidebt_selection"].split_at == "2025-07-01T12:30"


def test_time_of_day_moves_the_split(run_page, sample_dir):
    """Rows before 12:00 on the split day go to the reference: counted independently."""
    selection = replace(sample_selection(sample_dir), split_at="2025-07-01T12:00")
    at = run_page("pages/data.py", selection=selection)
    frame = pd.read_parquet(sample_dir / "applications.parquet", columns=["applied_at"])
    before = int((frame["applied_at"] < pd.Timestamp("2025-07-01T12:00")).sum())
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Reference rows"] == f"{before:,}"
    assert metrics["Current rows"] == f"{len(frame) - before:,}"


# ---------------------------------------------------------------- roles in links and the file

def _loans(folder):
    """A generated data set with its own names: y_pred_proba, repaid, an integer year."""
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame({
        "loan_ref": np.arange(n), "year": rng.choice([2019, 2020, 2021], n),
        "y_pred_proba": rng.uniform(0, 1, n), "repaid": rng.integers(0, 2, n),
        "grade": rng.choice(list("ABC"), n), "amount": rng.gamma(2.0, 1000.0, n)})
    frame.loc[::7, "grade"] = None
    frame.to_parquet(folder / "loans.parquet")
    return frame


def _loans_selection(folder):
    return Selection(workspace=str(folder), mode=FILES, reference="loans.parquet",
                     current="loans.parquet")


def test_saved_roles_survive_a_reload(run_page, tmp_path):
    _loans(tmp_path)
    selection = _loans_selection(tmp_path)
    at = run_page("pages/data.py", selection=selection)  # viewed (and cached) before the edit
    at.session_state["aidebt_roles"] = {"amount": "ignore", "grade": "id"}  # as an edit does
    at.run()
    assert not (tmp_path / ROLES_FILE).exists()  # viewing, even with edits, writes nothing
    at.button(key="save_roles").click().run()
    assert not at.exception
    saved = read_roles_file(tmp_path).dataset("loans.parquet").roles
    assert dict(saved) == {"amount": "ignore", "grade": "id"}
    assert any("Saved the roles" in s for s in _shown(at.success).split("\n"))
    assert not any("not saved" in i.value for i in at.info)  # the page shows the saved roles
    # A fresh session (a reload) reads them back from the file, with nothing in its state.
    fresh = run_page("pages/data.py", selection=selection)
    roles = fresh.dataframe(key="roles_editor").value.set_index("column")["role"]
    assert roles["amount"] == "ignore" and roles["grade"] == "id"
    assert fresh.button(key="save_roles").disabled
    assert not any("not saved" in i.value for i in fresh.info)


def test_viewing_the_data_page_writes_nothing(run_page, tmp_path):
    _loans(tmp_path)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    run_page("pages/data.py", selection=_loans_selection(tmp_path))
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_distinct_counts_are_exact(run_page, tmp_path):
    frame = _loans(tmp_path)
    at = run_page("pages/data.py", selection=_loans_selection(tmp_path))
    shown = at.dataframe(key="roles_editor").value.set_index("column")["distinct"]
    for column in frame.columns:
        assert shown[column] == frame[column].nunique(), column
    assert shown["loan_ref"] == len(frame)


def test_roles_link_applies_the_roles(run_app):
    roles = {"prev_loans": "categorical", "income": "ignore"}
    at = run_app(query={"roles": json.dumps(roles)})
    assert "roles" not in _shown(at.error)
    assert at.session_state["aidebt_roles"] == roles
    assert json.loads(at.query_params["roles"]) == roles
    page = at.switch_page("pages/data.py").run()
    shown = page.dataframe(key="roles_editor").value.set_index("column")["role"]
    assert shown["prev_loans"] == "categorical" and shown["income"] == "ignore"


@pytest.mark.parametrize("roles, message", [
    ({"no_such_column": "target"}, "no_such_column"),
    ({"income": "wizard"}, "wizard"),
    (["income"], "roles= value"),
])
def test_bad_roles_link_is_refused_with_a_message(run_app, roles, message):
    at = run_app(query={"roles": json.dumps(roles)})
    assert message in _shown(at.error)
    assert "aidebt_roles" not in at.session_state or not at.session_state["aidebt_roles"]
    assert "roles" not in at.query_params


# ---------------------------------------------------------------- a user's own folder

def test_own_folder_opens_on_its_own_data(run_app, tmp_path, monkeypatch):
    _loans(tmp_path)
    monkeypatch.setenv(ENV, ServeConfig.build(workspaces=[tmp_path]).to_env())
    at = run_app()
    shown = str(at.main) + str(at.sidebar) + _shown(at.error)
    assert "applications" not in shown and "applied_at" not in shown
    assert at.selectbox(key="sb_ws").value == str(tmp_path)
    selection = at.session_state["aidebt_selection"]
    assert selection.sources[0] == "loans.parquet"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loans.parquet"]


def test_one_unreadable_file_does_not_hide_the_others(run_app, tmp_path, monkeypatch):
    _loans(tmp_path)
    (tmp_path / "broken.duckdb").write_bytes(b"\x00garbage" * 64)
    monkeypatch.setenv(ENV, ServeConfig.build(workspaces=[tmp_path]).to_env())
    at = run_app()
    warnings = _shown(at.sidebar.warning)
    assert "1 file(s) cannot be read" in warnings and "broken.duckdb" in warnings
    assert at.selectbox(key="sb_src").options == ["loans.parquet"]
    assert not at.exception


def test_a_second_root_is_chosen_by_its_link(run_app, tmp_path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    _loans(first)
    pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}).to_csv(second / "a.csv", index=False)
    pd.DataFrame({"a": [3, 4], "b": ["z", "y"]}).to_csv(second / "b.csv", index=False)
    monkeypatch.setenv(ENV, ServeConfig.build(workspaces=[first, second]).to_env())
    at = run_app(query={"ws": str(second)})
    assert at.selectbox(key="sb_ws").options == [str(first), str(second)]
    selection = at.session_state["aidebt_selection"]
    assert (selection.workspace, selection.mode) == (str(second), FILES)
    assert (selection.reference, selection.current) == ("a.csv", "b.csv")


@pytest.mark.parametrize("bad", ["now", "2025-13-45", "yesterday-ish"])
def test_a_bad_split_time_in_a_link_is_refused(run_app, bad):
    at = run_app(query={"at": bad})
    assert f"'{bad}' in the link is not a date or time" in _shown(at.error)
    assert at.session_state["aidebt_selection"].split_at == "2025-07-01"


def test_switching_to_a_split_picks_the_median_time(run_app, tmp_path, monkeypatch):
    """A folder that opens on two files (no time in the first) gets a median split when the
    user switches to one data set with a time column."""
    pd.DataFrame({"a": [1, 2, 3]}).to_csv(tmp_path / "a.csv", index=False)
    times = pd.date_range("2024-05-01", periods=9, freq="5h")
    pd.DataFrame({"when": times, "v": range(9)}).to_parquet(tmp_path / "b.parquet")
    monkeypatch.setenv(ENV, ServeConfig.build(workspaces=[tmp_path]).to_env())
    at = run_app(query={"mode": "split", "src": "b.parquet"})
    selection = at.session_state["aidebt_selection"]
    assert (selection.source, selection.split_column) == ("b.parquet", "when")
    assert pd.Timestamp(selection.split_at) == times[4]  # the median of nine


def test_picking_another_data_set_moves_the_split_to_its_median(run_app, tmp_path,
                                                                 monkeypatch):
    early = pd.date_range("2020-01-01", periods=5, freq="D")
    late = pd.date_range("2023-06-01", periods=7, freq="D")
    pd.DataFrame({"t": early, "v": range(5)}).to_parquet(tmp_path / "a.parquet")
    pd.DataFrame({"t": late, "v": range(7)}).to_parquet(tmp_path / "b.parquet")
    monkeypatch.setenv(ENV, ServeConfig.build(workspaces=[tmp_path]).to_env())
    at = run_app()
    assert at.session_state["aidebt_selection"].split_at == early[2].date().isoformat()
    at.selectbox(key="sb_src").set_value("b.parquet").run()
    selection = at.session_state["aidebt_selection"]
    assert (selection.source, selection.split_at) == ("b.parquet", late[3].date().isoformat())


def test_data_page_lists_an_unreadable_file_with_its_problem(run_page, tmp_path):
    _loans(tmp_path)
    (tmp_path / "broken.duckdb").write_bytes(b"\x00garbage" * 64)
    at = run_page("pages/data.py", selection=_loans_selection(tmp_path))
    sources = next(f for f in _frames(at) if "in use" in f.columns).set_index("Source")
    assert sources.loc["broken.duckdb", "Problem"]
    assert sources.loc["loans.parquet", "Problem"] == "" and sources.loc["loans.parquet", "in use"]
