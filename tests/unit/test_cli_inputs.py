"""One way to give reference and current, role flags and the roles file, on every data command;
`roles` and `excluded` in each result; the CLI's read boundary. All on generated data."""

from __future__ import annotations

import json
import re

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy.stats import wasserstein_distance
from sklearn.metrics import roc_auc_score

from aidebt_core.cli import main
from aidebt_core.roles import ROLES_FILE
from tests.generated import CAR_FEATURES, car_loans, census, write

SPLIT_AT = "2019-01-01"
OUTPUTS_AND_IDS = ["id", "timestamp", "y_pred_proba", "y_pred", "repaid"]


@pytest.fixture(scope="module")
def loans():
    return car_loans(3000, seed=11, shift_at="2019-07-01", shift=1.0)


@pytest.fixture
def folder(tmp_path, loans):
    write(loans[loans.timestamp < SPLIT_AT], tmp_path / "ref.parquet")
    write(loans[loans.timestamp >= SPLIT_AT], tmp_path / "cur.parquet")
    write(loans, tmp_path / "all.parquet")
    return tmp_path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def run_json(capsys, *argv):
    code, out, err = run(capsys, *argv, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def reasons(doc) -> dict:
    return {e["column"]: e["reason"] for e in doc["excluded"]}


def normed_wasserstein(reference: pd.Series, current: pd.Series) -> float:
    return wasserstein_distance(reference, current) / np.std(reference)


def test_drift_without_flags_names_the_roles_and_leaves_out_non_features(capsys, folder,
                                                                         loans):
    doc = run_json(capsys, "drift", folder / "ref.parquet", folder / "cur.parquet")
    assert doc["roles"] == {"target": "repaid", "prediction": "y_pred", "score": "y_pred_proba",
                            "timestamp": "timestamp", "id": ["id"],
                            "features": list(CAR_FEATURES)}
    assert [c["name"] for c in doc["columns"]] == list(CAR_FEATURES)  # only features counted
    why = reasons(doc)
    assert list(why) == OUTPUTS_AND_IDS
    assert why["y_pred_proba"] == "model output: score"
    assert why["y_pred"] == "model output: prediction"
    assert why["repaid"] == "target" and why["id"] == "id" and why["timestamp"] == "time axis"
    ref, cur = loans[loans.timestamp < SPLIT_AT], loans[loans.timestamp >= SPLIT_AT]
    income = next(c for c in doc["columns"] if c["name"] == "income")
    assert income["statistic"] == pytest.approx(normed_wasserstein(ref.income, cur.income),
                                                rel=1e-6)


def test_explicit_target_is_reported_as_excluded(capsys, folder):
    doc = run_json(capsys, "drift", folder / "ref.parquet", folder / "cur.parquet",
                   "--target", "repaid")
    assert doc["roles"]["target"] == "repaid" and reasons(doc)["repaid"] == "target"


def anonymous(frame: pd.DataFrame) -> pd.DataFrame:
    """Names inference cannot read: every role must come from the user."""
    return frame.rename(columns={"id": "k1", "timestamp": "t1", "y_pred_proba": "out_a",
                                 "y_pred": "out_b", "repaid": "lab1"})


ANON_ROLES = {"out_a": "score", "out_b": "prediction", "lab1": "target", "k1": "id"}


@pytest.fixture
def anon_folder(tmp_path, loans):
    frame = anonymous(loans)
    write(frame[frame.t1 < SPLIT_AT], tmp_path / "ref.parquet")
    write(frame[frame.t1 >= SPLIT_AT], tmp_path / "cur.parquet")
    return tmp_path


def test_inference_alone_misses_anonymous_names(capsys, anon_folder):
    doc = run_json(capsys, "drift", anon_folder / "ref.parquet", anon_folder / "cur.parquet")
    assert doc["roles"]["score"] is None and doc["roles"]["target"] is None
    assert "lab1" in doc["roles"]["features"]  # the mistake the flags and the file fix


def test_roles_through_role_flags(capsys, anon_folder):
    flags = [x for column, role in ANON_ROLES.items() for x in ("--role", f"{column}={role}")]
    doc = run_json(capsys, "drift", anon_folder / "ref.parquet", anon_folder / "cur.parquet",
                   *flags)
    assert doc["roles"] == {"target": "lab1", "prediction": "out_b", "score": "out_a",
                            "timestamp": "t1", "id": ["k1"], "features": list(CAR_FEATURES)}
    assert set(reasons(doc)) == {"k1", "t1", "out_a", "out_b", "lab1"}


def test_roles_through_the_roles_file_and_flags_win(capsys, anon_folder):
    lines = "".join(f"      {c}: {r}\n" for c, r in ANON_ROLES.items())
    (anon_folder / ROLES_FILE).write_text(f"datasets:\n  ref.parquet:\n    roles:\n{lines}")
    doc = run_json(capsys, "drift", anon_folder / "ref.parquet", anon_folder / "cur.parquet")
    assert doc["roles"]["score"] == "out_a" and doc["roles"]["target"] == "lab1"
    assert [c["name"] for c in doc["columns"]] == list(CAR_FEATURES)
    doc = run_json(capsys, "drift", anon_folder / "ref.parquet", anon_folder / "cur.parquet",
                   "--role", "lab1=feature", "--role", "age=ignore")
    assert doc["roles"]["target"] is None and "lab1" in doc["roles"]["features"]
    assert reasons(doc)["age"] == "role ignore"


def test_roles_file_split_defaults_for_one_source(capsys, folder, loans):
    (folder / ROLES_FILE).write_text("datasets:\n  all.parquet:\n    timestamp: timestamp\n"
                                     "    reference_end: 2019-03-01\n")
    doc = run_json(capsys, "drift", folder / "all.parquet")
    assert doc["reference_rows"] == int((loans.timestamp < "2019-03-01").sum())
    assert doc["current_rows"] == int((loans.timestamp >= "2019-03-01").sum())
    sliced = run_json(capsys, "slices", folder / "all.parquet", "--max-order", "1")
    current = loans[loans.timestamp >= "2019-03-01"]
    assert sliced["overall"] == pytest.approx((current.y_pred == current.repaid).mean())


def test_one_source_split_at_a_full_timestamp(capsys, folder, loans):
    at = "2019-01-15 12:30:00"
    doc = run_json(capsys, "drift", folder / "all.parquet", "--timestamp", "timestamp",
                   "--reference-end", at)
    assert doc["reference_rows"] == int((loans.timestamp < at).sum())
    assert doc["current_rows"] == int((loans.timestamp >= at).sum())


def test_one_source_split_by_rows(capsys, folder, loans):
    doc = run_json(capsys, "drift", folder / "all.parquet", "--reference-rows", 1000)
    assert (doc["reference_rows"], doc["current_rows"]) == (1000, len(loans) - 1000)
    income = next(c for c in doc["columns"] if c["name"] == "income")
    expected = normed_wasserstein(loans.income[:1000], loans.income[1000:])
    assert income["statistic"] == pytest.approx(expected, rel=1e-6)


def test_current_alias_equals_two_sources(capsys, folder):
    two = run_json(capsys, "drift", folder / "ref.parquet", folder / "cur.parquet")
    alias = run_json(capsys, "drift", folder / "ref.parquet", "--current", folder / "cur.parquet")
    assert alias["columns"] == two["columns"]


def test_integer_year_as_the_time_axis(capsys, tmp_path):
    frame = census(2000, seed=4)
    write(frame, tmp_path / "census.parquet")
    doc = run_json(capsys, "drift", tmp_path / "census.parquet", "--timestamp", "year",
                   "--reference-end", "2018-01-01")
    assert doc["reference_rows"] == int((frame.year < 2018).sum())
    assert doc["roles"]["timestamp"] == "year" and doc["roles"]["target"] == "employed"
    assert reasons(doc)["year"] == "time axis"
    assert "year" not in [c["name"] for c in doc["columns"]]


def test_table_output_names_excluded_columns(capsys, folder):
    code, out, _ = run(capsys, "drift", folder / "ref.parquet", folder / "cur.parquet")
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("excluded:"))
    assert "y_pred_proba (model output: score)" in line and "repaid (target)" in line


def test_performance_uses_the_score_not_the_prediction(capsys, folder, loans):
    doc = run_json(capsys, "performance", folder / "all.parquet", "--timestamp", "timestamp",
                   "--reference-end", SPLIT_AT)
    assert doc["metric"] == "roc_auc" and doc["score"] == "y_pred_proba"
    first = next(c for c in doc["chunks"] if c["period"] == "current")
    month = loans[(loans.timestamp >= SPLIT_AT) & (loans.timestamp < "2019-02-01")]
    assert first["realized"] == pytest.approx(roc_auc_score(month.repaid, month.y_pred_proba))
    assert doc["roles"]["target"] == "repaid"


def test_slices_and_entanglement_leave_the_target_out(capsys, folder):
    ent = run_json(capsys, "entanglement", folder / "ref.parquet", "--current",
                   folder / "cur.parquet")
    assert ent["columns"] and set(ent["columns"]) <= set(CAR_FEATURES)
    assert reasons(ent)["repaid"] == "target"
    sl = run_json(capsys, "slices", folder / "all.parquet", "--max-order", "1")
    assert set(reasons(sl)) == {"id", "timestamp"}  # outputs and target are used, not sliced
    assert sl["roles"]["target"] == "repaid"


def test_audit_prefill_measures_accuracy_from_the_prediction(capsys, folder, loans):
    doc = run_json(capsys, "audit", "--prefill", "--model", "car-loans", "--data",
                   folder / "all.parquet", "--reference-end", SPLIT_AT)
    figure = next(p["figure"] for p in doc["prefilled"] if p["measurement"] == "slices")
    accuracy = float(re.search(r"accuracy (\d\.\d+) overall", figure).group(1))
    current = loans[loans.timestamp >= SPLIT_AT]
    expected = (current.y_pred == current.repaid).mean()
    assert accuracy == pytest.approx(expected, abs=5e-4) and expected > 0.9
    assert doc["roles"]["score"] == "y_pred_proba"


@pytest.mark.parametrize(("argv", "message"), [
    (["drift", "{d}/ref.parquet", "{d}/cur.parquet", "--role", "age=bogus"],
     "unknown role 'bogus'"),
    (["drift", "{d}/ref.parquet", "{d}/cur.parquet", "--target", "nope"],
     "--target 'nope' is not a column"),
    (["drift", "{d}/ref.parquet", "{d}/cur.parquet", "--score", "car_type"],
     "cannot have the role 'score'"),
    (["drift", "{d}/ref.parquet", "{d}/cur.parquet", "--reference-end", SPLIT_AT],
     "Two sources are already reference and current"),
    (["drift", "{d}/ref.parquet", "{d}/cur.parquet", "{d}/all.parquet"], "3 data sources"),
    (["drift", "{d}/all.parquet"], "One data source given and no split"),
    (["drift", "{d}/all.parquet", "--reference-rows", "3000"], "--reference-rows 3000"),
    (["drift", "{d}/all.parquet", "--reference-rows", "5", "--reference-end", SPLIT_AT],
     "not both"),
    (["performance", "{d}/ref.parquet", "{d}/cur.parquet", "--role", "repaid=feature"],
     "No column is the target"),
    (["slices", "{d}/all.parquet", "--role", "repaid"], "COLUMN=ROLE"),
    (["entanglement", "{d}/all.parquet", "--target", "repaid", "--score", "repaid"],
     "one role"),
    (["audit", "--prefill", "--model", "m", "--data", "{d}/ref.parquet", "{d}/cur.parquet",
      "--reference-rows", "10"], "Two sources are already"),
])
def test_bad_input_is_one_error_line(capsys, folder, argv, message):
    code, out, err = run(capsys, *[a.format(d=folder) for a in argv])
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], err


def test_bad_roles_file_is_one_error_line(capsys, folder):
    (folder / ROLES_FILE).write_text("datasets:\n  ref.parquet:\n    roles: {age: bogus}\n")
    code, out, err = run(capsys, "drift", folder / "ref.parquet", folder / "cur.parquet")
    assert code == 2 and out == ""
    assert err.startswith("error: ") and "aidebt.yaml" in err and "bogus" in err
    assert len(err.strip().splitlines()) == 1


# ------------------------------------------------------------------ read boundary

@pytest.fixture
def hostile(tmp_path, monkeypatch):
    """A .duckdb file in downloads/ whose view reads a file in secrets/ (another folder)."""
    downloads, secrets = tmp_path / "downloads", tmp_path / "secrets"
    downloads.mkdir()
    secrets.mkdir()
    (secrets / "key.csv").write_text("user,password\nroot,hunter2\n")
    # The relative view resolves against the cwd, where it would be read if the cwd were
    # still allowed.
    monkeypatch.chdir(tmp_path)
    con = duckdb.connect(str(downloads / "data.duckdb"))
    con.execute(f"CREATE VIEW leak AS SELECT * FROM read_csv('{secrets / 'key.csv'}')")
    con.execute("CREATE VIEW leak_relative AS SELECT * FROM read_csv('secrets/key.csv')")
    con.close()
    monkeypatch.delenv("AIDEBT_ALLOWED_DIRS", raising=False)
    return downloads, secrets


@pytest.mark.parametrize("view", ["leak", "leak_relative"])
def test_duckdb_view_reading_outside_is_refused(capsys, hostile, view):
    downloads, _ = hostile
    code, out, err = run(capsys, "entanglement", f"{downloads / 'data.duckdb'}::{view}")
    assert code == 2 and out == "" and "hunter2" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")


def test_allowed_dirs_extend_the_boundary(capsys, hostile, monkeypatch):
    downloads, secrets = hostile
    monkeypatch.setenv("AIDEBT_ALLOWED_DIRS", str(secrets))
    code, out, err = run(capsys, "drift", f"{downloads / 'data.duckdb'}::leak",
                         f"{downloads / 'data.duckdb'}::leak", "--format", "json")
    assert code == 0, err  # the same view is read once its folder is allowed


@pytest.fixture
def nested(tmp_path):
    """Reference and current with LIST, STRUCT and MAP columns beside two plain features."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(5)
    for name, shift in (("ref", 0.0), ("cur", 1.0)):
        n = 400
        pq.write_table(pa.table({
            "tags": [[1, 2]] * n, "meta": [{"a": 1}] * n,
            "attrs": pa.array([[("k", 1)]] * n, type=pa.map_(pa.string(), pa.int64())),
            "x": rng.normal(shift, 1, n), "c": rng.choice(["a", "b"], n)}),
            tmp_path / f"{name}.parquet")
    return tmp_path


@pytest.mark.parametrize("command", ["drift", "entanglement"])
def test_nested_columns_are_set_aside_with_a_reason(capsys, nested, command):
    doc = run_json(capsys, command, nested / "ref.parquet", nested / "cur.parquet")
    why = reasons(doc)
    assert {c: why[c] for c in ("tags", "meta", "attrs")} == {
        "tags": "nested type BIGINT[]", "meta": "nested type STRUCT(a BIGINT)",
        "attrs": "nested type MAP(VARCHAR, BIGINT)"}
    assert doc["roles"]["features"] == ["x", "c"]


@pytest.mark.parametrize("extra", [["--columns", "x,tags"], ["--role", "meta=feature"]])
def test_naming_a_nested_column_is_one_error_line(capsys, nested, extra):
    code, out, err = run(capsys, "drift", nested / "ref.parquet", nested / "cur.parquet", *extra)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert err.startswith("error: ") and "nested" in err


def test_time_axis_given_through_role_splits_too(capsys, tmp_path):
    frame = census(1500, seed=8)
    write(frame, tmp_path / "census.parquet")
    doc = run_json(capsys, "drift", tmp_path / "census.parquet", "--role", "year=timestamp",
                   "--reference-end", "2017-01-01")
    assert doc["reference_rows"] == int((frame.year < 2017).sum())
    assert doc["roles"]["timestamp"] == "year"


def test_sources_in_two_folders_and_the_roles_file_of_the_first(capsys, tmp_path, loans):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    write(anonymous(loans[loans.timestamp < SPLIT_AT]), first / "ref.parquet")
    write(anonymous(loans[loans.timestamp >= SPLIT_AT]), second / "cur.parquet")
    (first / ROLES_FILE).write_text("datasets:\n  ref.parquet:\n    roles: {lab1: target}\n")
    (second / ROLES_FILE).write_text("datasets:\n  cur.parquet:\n    roles: {age: target}\n")
    doc = run_json(capsys, "drift", first / "ref.parquet", second / "cur.parquet")
    assert doc["roles"]["target"] == "lab1"


def test_audit_prefill_with_two_sources(capsys, folder, loans):
    doc = run_json(capsys, "audit", "--prefill", "--model", "car-loans", "--data",
                   folder / "ref.parquet", "--current", folder / "cur.parquet")
    drift = next(p["figure"] for p in doc["prefilled"] if p["measurement"] == "drift")
    current = loans[loans.timestamp >= SPLIT_AT]
    assert f"{len(current):,} current rows" in drift and "of 7 features" in drift
    assert reasons(doc) == {"id": "id"}


def test_audit_prefill_slices_only_on_the_resolved_features(capsys, tmp_path, loans):
    frame = loans.copy()
    north = frame.region == "north"
    # Planted weak slice: the model's score is turned around for one region.
    frame.loc[north, "y_pred_proba"] = 1 - frame.loc[north, "y_pred_proba"]
    frame["y_pred"] = (frame.y_pred_proba >= 0.5).astype(int)
    write(frame, tmp_path / "loans.parquet")
    base = ["audit", "--prefill", "--model", "m", "--data", tmp_path / "loans.parquet",
            "--reference-end", SPLIT_AT]

    def slices_figure(*extra) -> str:
        doc = run_json(capsys, *base, *extra)
        return next(p["figure"] for p in doc["prefilled"] if p["measurement"] == "slices")

    assert "worst: region = north" in slices_figure()
    assert "region" not in slices_figure("--role", "region=ignore")
