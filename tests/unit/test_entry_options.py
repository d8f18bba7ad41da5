"""The registry entries' options the pages need (columns, slicing, pickers): on generated data
with other names than the sample, each new option against a direct core call or a planted truth,
and the defaults still give what the CLI gives."""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import pytest

from aidebt_core import analyses
from aidebt_core.commands._common import add_data_arguments, open_inputs
from aidebt_core.drift.entry import DriftColumnsOptions
from aidebt_core.drift.options import DriftOptions
from aidebt_core.entanglement.entry import EntanglementOptions
from aidebt_core.performance.analysis import analyse_performance
from aidebt_core.performance.entry import PerformanceOptions
from aidebt_core.slices.entry import SlicesOptions

ROLES = ["--target", "repaid", "--score", "y_pred_proba", "--prediction", "approved",
         "--timestamp", "opened_on"]


def _loans(seed: int, rows: int, shift: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.normal(50 + shift, 10, rows)
    twin = income * 2 + rng.normal(0, 0.1, rows)  # planted: redundant with income
    region = rng.choice(["north", "south", "east"], rows)
    proba = 1 / (1 + np.exp(-(income - 50) / 10))
    repaid = (rng.random(rows) < proba).astype(int)
    other_proba = rng.random(rows)  # a second probability column, not the score role
    return pd.DataFrame({
        "opened_on": pd.date_range("2021-01-01", periods=rows, freq="h"),
        "income": income, "income_twice": twin, "region": region, "steady": rng.normal(0, 1, rows),
        "y_pred_proba": proba, "other_proba": other_proba,
        "approved": (proba >= 0.5).astype(int), "repaid": repaid})


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("entry_options")
    paths = []
    for name, seed, shift in (("before.parquet", 1, 0.0), ("after.parquet", 2, 8.0)):
        _loans(seed, 3000, shift).to_parquet(folder / name)
        paths.append(str(folder / name))
    parser = argparse.ArgumentParser()
    add_data_arguments(parser)
    data = open_inputs(parser.parse_args([*paths, *ROLES]), need_current=True)
    with data:
        yield data


def test_drift_compares_only_the_picked_columns_and_keeps_plain_options(inputs):
    options = DriftColumnsOptions(method="ks", columns=("income", "steady"))
    result = analyses.get("drift").run_on(inputs, options)
    assert [c.name for c in result.columns] == ["income", "steady"]
    assert result.drifted_columns == ["income"]  # planted shift of 0.8 σ
    assert type(result.options) is DriftOptions and result.options == DriftOptions(method="ks")
    everything = analyses.get("drift").run_on(inputs, DriftOptions(method="ks"))
    assert {c.name for c in everything.columns} > {"income", "steady", "region"}
    assert everything.column("income").to_dict() == result.column("income").to_dict()


def _values(result) -> dict:
    """The result's document without what it was read from (`run_on` adds the inputs)."""
    return {k: v for k, v in result.to_dict().items() if k not in ("inputs", "fingerprint")}


def test_performance_takes_the_pickers_columns_as_given(inputs):
    entry = analyses.get("performance")
    by_schema = entry.run_on(inputs, PerformanceOptions(chunk="month"))
    assert (by_schema.score, by_schema.prediction) == ("y_pred_proba", "approved")
    picked = entry.run_on(inputs, PerformanceOptions(
        chunk="month", roles_from_schema=False, target="repaid", score="other_proba",
        prediction=None, timestamp="opened_on"))
    direct = analyse_performance(inputs.reference, inputs.current, "repaid", score="other_proba",
                                 timestamp="opened_on", chunking="month")
    assert (picked.score, picked.prediction) == ("other_proba", None)
    assert _values(picked) == _values(direct)
    assert _values(picked) != _values(by_schema)


def test_entanglement_leaves_out_excluded_features(inputs):
    entry = analyses.get("entanglement")
    whole = entry.run_on(inputs, EntanglementOptions())
    assert any(set(group) >= {"income", "income_twice"} for group in whole.groups)
    without = entry.run_on(inputs, EntanglementOptions(exclude=("income_twice",)))
    assert "income_twice" not in without.reference.columns
    assert "income" in without.reference.columns
    assert not any("income" in group for group in without.groups)
    # No MLflow store on these inputs: asking for its importances changes nothing.
    assert entry.run_on(inputs, EntanglementOptions(mlflow_importance=True)).to_dict() \
        == whole.to_dict()


def test_slices_break_down_search_columns_and_min_share(inputs):
    result = analyses.get("slices").run_on(inputs, SlicesOptions(
        by=("region",), features=("income", "steady"), min_share=0.2, metric="accuracy"))
    assert list(result.by) == ["region"]
    assert {s.slice.describe() for s in result.breakdown} >= {
        f"region = {r}" for r in ("north", "south", "east")}
    assert sorted(result.search["columns"]) == ["income", "steady"]
    assert result.search["min_size"] == int(np.ceil(0.2 * result.overall.rows)) or \
        result.search["min_size"] == int(0.2 * result.overall.rows)
    default = analyses.get("slices").run_on(inputs, SlicesOptions(metric="accuracy"))
    assert list(default.by) == [] and set(default.search["columns"]) >= {"income", "region"}
