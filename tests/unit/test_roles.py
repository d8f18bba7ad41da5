"""Role inference on users' names, the workspace roles file, and role precedence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aidebt_core.data import connect, open_table
from aidebt_core.errors import AidebtError, SchemaError
from aidebt_core.profile import profile_table
from aidebt_core.roles import (
    ROLES_FILE,
    excluded_columns,
    flag_roles,
    parse_role_options,
    read_roles_file,
    resolve_schema,
    roles_payload,
    write_dataset_roles,
)
from aidebt_core.schema import infer_schema
from aidebt_core.workspace import Workspace
from tests.generated import car_loans, census, write


def schema_of(frame: pd.DataFrame, folder, name="t.parquet"):
    write(frame, folder / name)
    workspace = Workspace.at(folder)
    con = connect(workspace)
    return infer_schema(open_table(con, workspace, name))


@pytest.fixture
def loans_schema(tmp_path):
    return schema_of(car_loans(800, seed=1), tmp_path)


def test_car_loan_names_get_their_roles(loans_schema):
    roles = {c.name: c.role for c in loans_schema.columns}
    assert roles["y_pred_proba"] == "score"
    assert roles["y_pred"] == "prediction"
    assert roles["repaid"] == "target"
    assert roles["id"] == "id" and roles["timestamp"] == "timestamp"
    assert loans_schema.features == ["loan_amount", "income", "age", "term_months", "car_type",
                                     "region", "debt_ratio"]


def test_census_target_and_integer_year(tmp_path):
    schema = schema_of(census(500, seed=2), tmp_path)
    assert schema["employed"].role == "target"
    assert schema["year"].role == "numeric"  # an integer year is data until named the time axis
    assert schema["person_id"].role == "id"


RNG = np.random.default_rng(7)
PROBS = RNG.uniform(0, 1, 200)
BITS = (RNG.uniform(size=200) < 0.5).astype(int)


@pytest.mark.parametrize(("name", "values", "role"), [
    ("y_pred_proba", PROBS, "score"),
    ("predicted_probability", PROBS, "score"),
    ("pred_score", PROBS, "score"),
    ("risk_score", PROBS, "score"),
    ("credit_score", RNG.integers(300, 850, 200), "numeric"),  # a score outside [0, 1]
    ("pred_score", PROBS * 100, "prediction"),                 # named like a prediction
    ("y_pred", BITS, "prediction"),
    ("repaid", BITS, "target"),
    ("employed", BITS, "target"),
    ("clf_target", BITS, "target"),
    ("outcome", BITS, "target"),
    ("label", np.where(BITS == 1, "yes", "no"), "target"),
    ("default_true", BITS, "target"),
    ("actual_churn", BITS, "target"),
    ("repaid", RNG.integers(0, 5, 200), "numeric"),            # not two-valued: not a target
    ("is_weekend", BITS, "boolean"),
])
def test_one_column_inference(tmp_path, name, values, role):
    frame = pd.DataFrame({name: values, "x": RNG.normal(size=200)})
    assert schema_of(frame, tmp_path)[name].role == role


@pytest.mark.parametrize(("output", "target"), [("y_pred", "y_true"), ("pred_status", "status"),
                                                ("status_proba", "status")])
def test_target_paired_by_name_with_an_output(tmp_path, output, target):
    values = BITS if not output.endswith("proba") else PROBS
    frame = pd.DataFrame({output: values, target: 1 - BITS, "x": RNG.normal(size=200)})
    schema = schema_of(frame, tmp_path)
    assert schema[target].role == "target"
    assert schema.with_role("target") == [target]


def test_distinct_counts_are_exact(tmp_path):
    n = 50_000
    frame = pd.DataFrame({"id": np.arange(n), "code": RNG.integers(0, 20_000, n).astype(str)})
    schema = schema_of(frame, tmp_path)
    assert schema["id"].distinct == n
    assert schema["code"].distinct == frame["code"].nunique()
    assert schema["id"].distinct_exact


def test_estimated_distinct_counts_are_labelled_and_never_above_the_rows(tmp_path, monkeypatch):
    import aidebt_core.schema as schema_module

    monkeypatch.setattr(schema_module, "EXACT_DISTINCT_MAX_ROWS", 100)  # force the estimate
    n = 20_000
    frame = pd.DataFrame({"id": np.arange(n), "half": np.where(np.arange(n) < n // 2, 1.5, None)})
    schema = schema_of(frame, tmp_path)
    assert not schema["id"].distinct_exact
    assert schema["id"].distinct <= n and schema["half"].distinct <= n // 2
    assert schema["id"].distinct > 0.9 * n  # an estimate, not a placeholder


def test_nested_columns_are_ignored_with_a_reason(tmp_path):
    table = pa.table({"tags": [[1, 2], [3], []], "meta": [{"a": 1}, {"a": 2}, {"a": 3}],
                      "x": [1.0, 2.0, 3.0]})
    pq.write_table(table, tmp_path / "n.parquet")
    workspace = Workspace.at(tmp_path)
    schema = infer_schema(open_table(connect(workspace), workspace, "n.parquet"))
    assert schema["tags"].role == "ignore" and schema["meta"].role == "ignore"
    assert schema.features == ["x"]
    reasons = {e["column"]: e["reason"] for e in excluded_columns(schema, ["x"])}
    assert reasons["tags"].startswith("nested type") and reasons["meta"].startswith("nested type")
    with pytest.raises(SchemaError, match="tags.*nested"):
        schema.with_roles({"tags": "feature"})
    # The Data page's profile reads every column: a list of numbers is not cast to a number.
    profile = profile_table(open_table(connect(workspace), workspace, "n.parquet"), schema)
    assert [c.name for c in profile.columns] == ["tags", "meta", "x"]


def test_wrong_type_unknown_role_and_unknown_column_are_refused(loans_schema):
    with pytest.raises(SchemaError, match="car_type.*score.*numeric"):
        resolve_schema(loans_schema, flags={"car_type": "score"})
    with pytest.raises(SchemaError, match="nope"):
        resolve_schema(loans_schema, flags={"nope": "target"})
    with pytest.raises(SchemaError, match="unknown role 'bogus'"):
        parse_role_options(["repaid=bogus"])
    with pytest.raises(SchemaError, match="COLUMN=ROLE"):
        parse_role_options(["repaid"])
    with pytest.raises(SchemaError, match="one role"):
        flag_roles(target="repaid", score="repaid")


def test_flags_win_over_the_file_and_the_file_over_inference(loans_schema):
    schema = resolve_schema(loans_schema, file_roles={"y_pred": "target", "age": "ignore"},
                            flags={"repaid": "target"})
    assert schema.with_role("target") == ["repaid"]   # the flag's target
    assert schema["y_pred"].role == "boolean"          # the file's target gave way: a feature
    assert schema["age"].role == "ignore"              # the file's other role stands
    file_only = resolve_schema(loans_schema, file_roles={"y_pred": "target"})
    assert file_only.with_role("target") == ["y_pred"]
    assert file_only["repaid"].role == "boolean"       # inferred target gave way to the file


def test_feature_role_takes_the_type_kind(loans_schema):
    schema = resolve_schema(loans_schema, flags={"id": "feature", "car_type": "feature",
                                                 "repaid": "feature"})
    assert schema["id"].role == "numeric"
    assert schema["car_type"].role == "categorical"
    assert schema["repaid"].role == "boolean"
    assert schema.first("target") is None


def test_payload_and_excluded_reasons(loans_schema):
    payload = roles_payload(loans_schema)
    assert payload == {"target": "repaid", "prediction": "y_pred", "score": "y_pred_proba",
                       "timestamp": "timestamp", "id": ["id"],
                       "features": list(loans_schema.features)}
    excluded = excluded_columns(loans_schema, loans_schema.features, reasons={"age": "--exclude"},
                                also=["extra"])
    assert [e["column"] for e in excluded] == ["id", "timestamp", "y_pred_proba", "y_pred",
                                               "repaid", "extra"]
    reasons = {e["column"]: e["reason"] for e in excluded}
    assert "model output" in reasons["y_pred"] and "target" in reasons["repaid"]
    excluded = excluded_columns(loans_schema, ["income"], reasons={"age": "--exclude"})
    assert {"column": "age", "reason": "--exclude"} in excluded


# ------------------------------------------------------------------ the roles file

def test_missing_file_is_empty(tmp_path):
    roles = read_roles_file(tmp_path)
    assert roles.default is None and dict(roles.dataset("x.parquet").roles) == {}
    assert not (tmp_path / ROLES_FILE).exists()


def test_read_a_written_file(tmp_path):
    (tmp_path / ROLES_FILE).write_text(
        "default: loans.parquet\n"
        "datasets:\n"
        "  loans.parquet:\n"
        "    timestamp: timestamp\n"
        "    reference_end: 2019-04-01\n"
        "    roles: {repaid: target, y_pred_proba: score, id: id, notes: ignore}\n"
        "  other.csv:\n"
        "    reference_end: 2019-04-01 12:30:00\n")
    roles = read_roles_file(tmp_path)
    loans = roles.dataset("loans.parquet")
    assert roles.default == "loans.parquet"
    assert dict(loans.roles) == {"repaid": "target", "y_pred_proba": "score", "id": "id",
                                 "notes": "ignore"}
    assert loans.timestamp == "timestamp" and loans.reference_end == "2019-04-01"
    assert roles.dataset("other.csv").reference_end == "2019-04-01 12:30:00"
    assert dict(roles.dataset("unknown.parquet").roles) == {}


def test_write_keeps_everything_else(tmp_path):
    (tmp_path / ROLES_FILE).write_text(
        "default: a.parquet\ndatasets:\n  a.parquet:\n    timestamp: t\n"
        "    reference_end: 2020-01-01\n    roles: {y: target}\n"
        "  b.parquet:\n    roles: {z: ignore}\n")
    write_dataset_roles(tmp_path, "a.parquet", {"repaid": "target", "p": "score"})
    write_dataset_roles(tmp_path, "new.csv", {"id": "id"})
    roles = read_roles_file(tmp_path)
    assert roles.default == "a.parquet"
    a = roles.dataset("a.parquet")
    assert dict(a.roles) == {"repaid": "target", "p": "score"}
    assert a.timestamp == "t" and a.reference_end == "2020-01-01"
    assert dict(roles.dataset("b.parquet").roles) == {"z": "ignore"}
    assert dict(roles.dataset("new.csv").roles) == {"id": "id"}
    assert sorted(p.name for p in tmp_path.iterdir()) == [ROLES_FILE]  # no temporary left


def test_write_refuses_an_unknown_role_and_leaves_the_file(tmp_path):
    write_dataset_roles(tmp_path, "a.parquet", {"y": "target"})
    before = (tmp_path / ROLES_FILE).read_bytes()
    with pytest.raises(SchemaError, match="unknown role 'bogus'"):
        write_dataset_roles(tmp_path, "a.parquet", {"y": "bogus"})
    assert (tmp_path / ROLES_FILE).read_bytes() == before


@pytest.mark.parametrize(("text", "message"), [
    ("- a\n- b\n", "expected a mapping"),
    ("datasets: {a.parquet: {roles: {y: bogus}}}\n", "column 'y'.*unknown role 'bogus'"),
    ("datasets: {a.parquet: {role: {y: target}}}\n", "unknown key.*'role'"),
    ("colour: red\n", "unknown key.*'colour'"),
    ("datasets: [a, b]\n", "'datasets' must map"),
    ("a: &x [1]\nb: *x\n", "aliases"),
    ("datasets: {a.parquet: {roles: [y]}}\n", "'roles' must map"),
])
def test_bad_files_name_the_file_and_problem(tmp_path, text, message):
    (tmp_path / ROLES_FILE).write_text(text)
    with pytest.raises(AidebtError, match=message):
        read_roles_file(tmp_path)


def test_dates_kept_as_text_are_a_time_column_not_a_category(tmp_path):
    """A census with an integer `year` axis and `survey_date` as d/m/Y text: the text dates
    are left out as a second time column, never compared as a 300-value category."""
    import json

    import numpy as np
    import pandas as pd

    from aidebt_core.cli import main

    rng = np.random.default_rng(5)
    year = rng.integers(2015, 2023, 4000)
    day = rng.integers(13, 28, 4000)   # > 12: d/m/Y is not ambiguous
    frame = pd.DataFrame({
        "year": year,
        "survey_date": [f"{d:02d}/03/{y}" for d, y in zip(day, year, strict=True)],
        "age": rng.normal(40, 10, 4000),
        "employed": rng.integers(0, 2, 4000),
    })
    frame.to_parquet(tmp_path / "census.parquet")
    out = tmp_path / "out.json"
    import contextlib
    with open(out, "w") as handle, contextlib.redirect_stdout(handle):
        code = main(["drift", str(tmp_path / "census.parquet"), "--timestamp", "year",
                     "--reference-end", "2019", "--format", "json"])
    assert code == 0
    result = json.loads(out.read_text())
    assert result["roles"]["timestamp"] == "year"
    assert result["roles"]["features"] == ["age"]
    assert {"column": "survey_date", "reason": "time column (not the time axis)"} \
        in result["excluded"]
    assert [c["name"] for c in result["columns"]] == ["age"]
