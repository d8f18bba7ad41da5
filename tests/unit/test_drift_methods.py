"""Contract of the drift method registry and of every drift result.

Methods: each registered method's statistic against scipy or a hand computation on generated
data, its decision rule, its label; a toy method registered at run time runs through
`analyse_drift`. Results: frozen, hashable where they claim, JSON-safe, round-trip through
`from_dict`, documented `to_frame` columns, and figures and the report built with the data's
connection closed (any query would fail).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from scipy.spatial.distance import jensenshannon

from aidebt_core.data import connect, open_table
from aidebt_core.drift import DriftOptions, analyse_drift, methods
from aidebt_core.drift import stats as ds
from aidebt_core.drift.distribution import Distribution, column_distribution
from aidebt_core.drift.identity import input_identity
from aidebt_core.drift.multivariate import MultivariateResult, multivariate_drift
from aidebt_core.drift.over_time import OverTimeResult, drift_over_time, over_time_method
from aidebt_core.drift.result import FRAME_COLUMNS, ColumnDrift, DriftResult
from aidebt_core.errors import SchemaError
from aidebt_core.plots.drift import (
    distribution_figure,
    drift_heatmap,
    drift_overview,
    feature_over_time,
    multivariate_figure,
)
from aidebt_core.reports.drift import drift_report
from aidebt_core.workspace import Workspace

NAMES = methods.method_names()


# --- generated data -------------------------------------------------------------------------

def _scores(rng, n, shift=0.0):
    return np.clip(rng.beta(2, 5, n) + shift, 0, 1)


@pytest.fixture(scope="module")
def samples():
    rng = np.random.default_rng(7)
    return {"small": (_scores(rng, 300), _scores(rng, 420, 0.04)),
            "large": (_scores(rng, 12_000).round(3), _scores(rng, 15_000, 0.01).round(3))}


@pytest.fixture(scope="module")
def counts():
    rng = np.random.default_rng(8)
    ref = np.bincount(rng.choice(5, 4000, p=[.4, .3, .15, .1, .05]), minlength=5)
    cur = np.bincount(rng.choice(5, 2600, p=[.3, .3, .2, .1, .1]), minlength=5)
    return ref, cur


def _frames(seed=3):
    """Loans over 9 months (6 reference, 3 current): a score that moves, a categorical
    `repaid` whose mix changes and gains 'written_off', an integer `year`, some nulls."""
    rng = np.random.default_rng(seed)

    def side(start, months, n, moved):
        when = pd.Timestamp(start) + pd.to_timedelta(rng.uniform(0, 30.4 * months, n), "D")
        p = [.6, .3, .1, 0.0] if not moved else [.45, .3, .15, .1]
        frame = pd.DataFrame({
            "applied_at": when,
            "y_pred_proba": _scores(rng, n, 0.08 if moved else 0.0),
            "repaid": rng.choice(["yes", "late", "no", "written_off"], n, p=p),
            "year": when.year.astype("int64"),
            "income_k": rng.lognormal(3.5, 0.4, n)})
        frame.loc[rng.random(n) < 0.03, "income_k"] = np.nan
        return frame

    return side("2023-01-01", 6, 4800, False), side("2023-07-01", 3, 2400, True)


@pytest.fixture(scope="module")
def computed(tmp_path_factory):
    """Every drift result on generated files, and the connection they came from."""
    folder = tmp_path_factory.mktemp("drift_contract")
    ws = Workspace.at(folder)
    con = connect(ws)
    tables, paths = [], []
    for name, frame in zip(("reference", "current"), _frames(), strict=True):
        path = folder / f"{name}.parquet"
        frame.to_parquet(path)
        paths.append(path)
        tables.append(open_table(con, ws, str(path)))
    ref, cur = tables
    columns = ["y_pred_proba", "repaid", "income_k"]
    result = analyse_drift(ref, cur, columns=columns, categorical=["repaid"])
    result = result.with_inputs(input_identity(paths))
    kinds = [result.column(c).kind for c in columns]
    trend = drift_over_time(ref, cur, columns, kinds, "month", "applied_at", min_rows=200)
    mv = multivariate_drift(ref, cur, ["y_pred_proba", "income_k"], ["repaid"], "month",
                            "applied_at", min_rows=200)
    truth = {"distributions": {c: column_distribution(ref, cur, c, k)
                               for c, k in zip(columns, kinds, strict=True)}}
    yield {"drift": result, "over_time": trend, "multivariate": mv, "con": con,
           "tables": (ref, cur), "paths": paths, "frames": _frames(), **truth}
    con.close()


# --- the registry ---------------------------------------------------------------------------

def test_every_method_is_a_file_named_after_it_and_loads():
    assert set(NAMES) >= {"ks", "chi2", "psi", "wasserstein", "jensenshannon"}
    for name in NAMES:
        method = methods.get(name)
        assert method.name == name and method.kinds and method.help and method.label
        assert method.rule in (methods.P_VALUE, methods.DISTANCE)
        assert method.default_threshold > 0
    assert methods.choices() == ("auto", *NAMES)
    assert len({methods.get(n).label for n in NAMES}) == len(NAMES)


def test_listing_the_methods_imports_no_numpy_and_the_cli_parser_no_drift_statistics():
    # (other commands' modules import numpy and scipy for the parser: not the registry's)
    code = ("import sys\nfrom aidebt_core.drift.methods import choices\nc = choices()\n"
            "assert 'numpy' not in sys.modules, 'numpy'\n"
            "from aidebt_core.cli import build_parser\nbuild_parser()\n"
            "loaded = sorted(m for m in sys.modules if m.startswith('aidebt_core.drift.'))\n"
            "assert loaded == ['aidebt_core.drift.methods', 'aidebt_core.drift.methods.base'], "
            "loaded\nprint(','.join(c))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ",".join(methods.choices())


def _hand_psi(r, c):
    r = np.maximum(r / r.sum(), 1e-4)
    c = np.maximum(c / c.sum(), 1e-4)
    return float(np.sum((c - r) * np.log(c / r)))


def _numeric_reference(name, a, b):
    """(statistic, p or None) by scipy or by hand, independent of aidebt's code."""
    if name == "ks":
        res = sps.ks_2samp(a, b)
        return res.statistic, res.pvalue
    if name == "wasserstein":
        return sps.wasserstein_distance(a, b) / np.std(a), None
    if name == "psi":
        edges = np.unique(np.quantile(a, np.arange(1, 10) / 10))
        bins = np.concatenate([[-np.inf], edges, [np.inf]])
        # np.histogram's bins are [e_i, e_i+1): the reference deciles start their bin
        return _hand_psi(np.histogram(a, bins)[0], np.histogram(b, bins)[0]), None
    raise AssertionError(f"no independent reference for numeric method {name!r}: add one")


def _categorical_reference(name, r, c):
    if name == "chi2":
        res = sps.chi2_contingency(np.vstack([r, c]))
        return res.statistic, res.pvalue
    if name == "jensenshannon":
        return jensenshannon(r, c), None
    if name == "psi":
        return _hand_psi(r.astype(float), c.astype(float)), None
    raise AssertionError(f"no independent reference for categorical method {name!r}: add one")


@pytest.mark.parametrize("name", NAMES)
def test_each_methods_statistic_equals_scipy_or_the_hand_computation(name, samples, counts):
    method = methods.get(name)
    if methods.NUMERIC in method.kinds:
        for a, b in samples.values():
            got = method.compute("numeric", ds.Sample(np.sort(a)), ds.Sample(np.sort(b)))
            want = _numeric_reference(name, a, b)
            assert got[0] == pytest.approx(want[0], rel=1e-9, abs=1e-12)
            if want[1] is None:
                assert got[1] is None
            else:
                assert got[1] == pytest.approx(want[1], rel=1e-6, abs=1e-300)
    if methods.CATEGORICAL in method.kinds:
        got = method.compute("categorical", *counts)
        want = _categorical_reference(name, *counts)
        assert got[0] == pytest.approx(want[0], rel=1e-9)
        assert (got[1] is None) == (want[1] is None)
        if want[1] is not None:
            assert got[1] == pytest.approx(want[1], rel=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_each_methods_decision_rule(name):
    method = methods.get(name)
    t = method.default_threshold
    if method.rule == methods.P_VALUE:  # drifted when p < threshold, whatever the statistic
        assert method.drifted(0.9, t * 0.99, t) and not method.drifted(0.9, t, t)
        assert not method.drifted(0.0, t * 1.01, t)
        assert method.excess(0.3, t / 4, t) == pytest.approx(4.0)
        assert method.shown(0.3, 0.0123) == "p = 0.012"
    else:  # drifted when statistic ≥ threshold, whatever the p-value
        assert method.drifted(t, 1.0, t) and not method.drifted(t * 0.99, 0.0, t)
        assert method.excess(t * 3, 0.5, t) == pytest.approx(3.0)
        assert method.shown(0.12345, 0.5) == "0.123"
    assert method.excess(None, None, t) == math.inf
    assert method.excess(math.inf, 0.0, t) == math.inf


def test_labels_and_kinds_as_the_charts_and_options_show_them():
    planted = {"wasserstein": ("Wasserstein / ref. std", ("numeric",), 0.1),
               "jensenshannon": ("Jensen–Shannon distance", ("categorical",), 0.1),
               "psi": ("PSI", ("numeric", "categorical"), 0.2),
               "ks": ("KS p-value", ("numeric",), 0.05),
               "chi2": ("chi-square p-value", ("categorical",), 0.05)}
    for name, (label, kinds, threshold) in planted.items():
        m = methods.get(name)
        assert (m.label, m.kinds, m.default_threshold) == (label, kinds, threshold)
    for name in NAMES:  # a method never decides a column of a kind it does not apply to
        for kind in methods.KINDS:
            for n in (50, 50_000):
                assert kind in methods.get(DriftOptions(method=name).method_for(kind, n, n)).kinds
    assert DriftOptions().method_for("numeric", 999, 5000) == "ks"
    assert DriftOptions().method_for("categorical", 1000, 5000) == "jensenshannon"
    assert over_time_method("ks") == "auto" and over_time_method("psi") == "psi"


def _mean_gap(reference, current):
    def mean(s):
        return np.average(s.values, weights=s.counts)
    return abs(mean(current) - mean(reference)) / reference.std(), None


def _total_variation(reference, current):
    return 0.5 * float(np.abs(reference / reference.sum() - current / current.sum()).sum()), None


TOY = methods.Method(name="mean_gap", kinds=("numeric", "categorical"), rule=methods.DISTANCE,
                     default_threshold=0.25, label="mean gap / ref. std",
                     help="toy: |mean difference| in reference stds; total variation",
                     numeric=_mean_gap, categorical=_total_variation)


def test_a_method_registered_at_run_time_runs_through_analyse_drift(computed):
    ref_frame, cur_frame = computed["frames"]
    with pytest.raises(SchemaError, match="Unknown drift method 'mean_gap'"):
        DriftOptions(method="mean_gap")
    with methods.registered(TOY):
        options = DriftOptions(method="mean_gap")
        result = analyse_drift(*computed["tables"], columns=["y_pred_proba", "repaid"],
                               categorical=["repaid"], options=options)
        assert "mean_gap" in methods.choices()
    assert "mean_gap" not in methods.choices()
    score = result.column("y_pred_proba")
    a, b = ref_frame["y_pred_proba"], cur_frame["y_pred_proba"]
    planted = abs(b.mean() - a.mean()) / a.std(ddof=0)
    assert score.method == "mean_gap" and score.threshold == 0.25
    assert score.statistic == pytest.approx(planted, rel=1e-9)
    assert score.drifted == (planted >= 0.25)
    assert score.measures["mean_gap"] == score.statistic
    assert score.p_value == pytest.approx(sps.ks_2samp(a, b).pvalue, rel=1e-6, abs=1e-300)
    repaid = result.column("repaid")
    shares = pd.concat([ref_frame["repaid"].value_counts(normalize=True),
                        cur_frame["repaid"].value_counts(normalize=True)], axis=1).fillna(0)
    tv = 0.5 * float((shares.iloc[:, 0] - shares.iloc[:, 1]).abs().sum())
    assert repaid.statistic == pytest.approx(tv, rel=1e-9) and repaid.drifted == (tv >= 0.25)
    assert json.loads(json.dumps(result.to_dict(), allow_nan=False))["columns"][0]["method"] \
        == "mean_gap"


# --- the results ----------------------------------------------------------------------------

def _json(data):
    return json.loads(json.dumps(data, allow_nan=False))


RESULTS = {"drift": DriftResult, "over_time": OverTimeResult,
           "multivariate": MultivariateResult}


@pytest.mark.parametrize("key", RESULTS)
def test_results_are_frozen_json_safe_and_round_trip(computed, key):
    result = computed[key]
    assert dataclasses.is_dataclass(result) and type(result).__dataclass_params__.frozen
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.inputs = ()
    document = _json(result.to_dict())
    again = RESULTS[key].from_dict(document)
    assert _json(again.to_dict()) == document
    assert again.fingerprint == result.fingerprint and len(result.fingerprint) == 20
    pd.testing.assert_frame_equal(again.to_frame(), result.to_frame(), check_dtype=False)


def test_column_drift_and_the_drift_result_are_hashable_by_value(computed):
    result = computed["drift"]
    for col in result.columns:
        assert dataclasses.is_dataclass(col) and type(col).__dataclass_params__.frozen
        twin = ColumnDrift.from_dict(_json(col.to_dict()))
        assert twin == col and hash(twin) == hash(col)
        with pytest.raises(TypeError):
            col.measures["ks"] = 1.0
    assert len({*result.columns, *result.columns}) == len(result.columns)
    assert hash(result) == hash(result) and hash(result.options) == hash(DriftOptions())


def test_to_frame_has_the_documented_columns(computed):
    assert tuple(computed["drift"].to_frame().columns) == FRAME_COLUMNS
    assert list(computed["over_time"].to_frame().columns) == [
        "column", "chunk", "period", "partial", "too_small", "method", "value", "threshold",
        "alert", "missing_share", "missing_alert"]
    assert list(computed["multivariate"].to_frame().columns) == [
        "chunk", "period", "rows", "partial", "too_small", "reconstruction_error", "lower",
        "upper", "alert"]
    dist = computed["drift"].distribution("repaid")
    assert list(dist.to_frame().columns) == ["value", "reference_share", "current_share"]


def test_the_fingerprint_follows_options_and_the_files_identity(computed, tmp_path):
    result = computed["drift"]
    other = dataclasses.replace(result, options=DriftOptions(drift_share=0.3))
    assert other.fingerprint != result.fingerprint
    path = tmp_path / "scores.csv"
    path.write_text("y_pred_proba\n0.2\n")
    first = result.with_inputs(input_identity([path]))
    os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    touched = result.with_inputs(input_identity([path]))
    assert first.fingerprint != touched.fingerprint
    assert touched.fingerprint == result.with_inputs(input_identity([path])).fingerprint
    path.write_text("y_pred_proba\n0.25\n")  # rewritten: size changes too
    os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    assert result.with_inputs(input_identity([path])).fingerprint != touched.fingerprint
    assert computed["over_time"].fingerprint != dataclasses.replace(
        computed["over_time"], sigmas=2.0).fingerprint


def test_the_carried_distributions_equal_what_duckdb_bins(computed):
    result = computed["drift"]
    assert {d.column for d in result.distributions} == {c.name for c in result.columns}
    for name, truth in computed["distributions"].items():
        dist = result.distribution(name)
        assert (dist.kind, dist.reference_count, dist.current_count) == (
            truth.kind, truth.reference_count, truth.current_count)
        if dist.kind == "numeric":
            np.testing.assert_allclose(dist.edges, truth.edges, rtol=1e-12)
            np.testing.assert_allclose(dist.reference, truth.reference, rtol=1e-12)
            np.testing.assert_allclose(dist.current, truth.current, rtol=1e-12)
        else:
            for side in ("reference", "current"):
                got = dict(zip(dist.labels, getattr(dist, side), strict=True))
                want = dict(zip(truth.labels, getattr(truth, side), strict=True))
                assert got == pytest.approx(want, rel=1e-12)
        back = Distribution.from_dict(_json(dist.to_dict()))
        assert back.to_dict() == dist.to_dict()


def test_figures_and_the_report_build_with_the_connection_closed(computed, tmp_path):
    # Rebuild the results from JSON and close a connection opened just for them: any query
    # while building figures or the report would fail.
    drift = DriftResult.from_dict(_json(computed["drift"].to_dict()))
    trend = OverTimeResult.from_dict(_json(computed["over_time"].to_dict()))
    mv = MultivariateResult.from_dict(_json(computed["multivariate"].to_dict()))
    computed["con"].close()
    figures = [drift_overview(drift), drift_heatmap(trend), drift_heatmap(trend, missing=True),
               multivariate_figure(mv)]
    for col in drift.columns:
        figures.append(distribution_figure(drift.distribution(col.name)))
        figures.append(feature_over_time(trend, col.name))
    assert all(fig.data for fig in figures)
    report = drift_report(drift, trend, mv)
    kinds = [kind for kind, _ in report.blocks]
    drifted = [c for c in drift.columns if c.drifted]
    assert drifted, "the generated current data moves"
    # overview + per drifted column (distribution + over time) + 2 heatmaps + PCA
    assert kinds.count("figure") == 1 + 2 * len(drifted) + 2 + 1
    html, markdown = report.to_html(), report.to_markdown()
    for heading in ("Drift over time", "Multivariate drift", "Columns"):
        assert heading in html and heading in markdown
    assert "reference.parquet vs current.parquet" in html or drift.labels[0] in html
    alone = drift_report(drift)
    assert "Drift over time" not in alone.to_markdown()


def test_the_cli_report_holds_the_over_time_and_pca_charts(computed, tmp_path, capsys):
    from aidebt_core.cli import main

    out = tmp_path / "drift.html"
    ref, cur = computed["paths"]
    code = main(["drift", str(ref), str(cur), "--columns", "y_pred_proba,repaid,income_k",
                 "--timestamp", "applied_at", "--chunk", "month", "--min-chunk-rows", "200",
                 "--report", str(out), "--format", "json"])
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert DriftResult.from_dict(document).fingerprint == document["fingerprint"]
    assert [i[0] for i in document["inputs"][:2]] == [str(ref.resolve()), str(cur.resolve())]
    html = out.read_text()
    for title in ("Drift by column", "y_pred_proba: distribution", "y_pred_proba over time",
                  "Drift per chunk", "Missing share per chunk", "Multivariate drift: PCA"):
        assert title in html, title
