"""`aidebt drift` stays light: no pandas, pyarrow or scipy on a run whose statistics need none
(tests/benchmarks/bench_cli.py measures what that saves), its table printed as pandas would
print it, and the chi-square p-value computed without scipy equal to scipy's."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy.special import chdtrc

from aidebt_core.commands.drift import TABLE_COLUMNS, plain_table
from aidebt_core.drift.chisquare import chi2_sf

HEAVY = ("pandas", "pyarrow", "scipy", "plotly", "mlflow", "sklearn", "streamlit")
RUN_CLI = """import sys
from aidebt_core.cli import main
code = main(sys.argv[1:])
sys.stderr.write("MODULES " + " ".join(sorted(sys.modules)) + "\\n")
sys.exit(code)
"""


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """12,000 + 11,000 rows (above the exact-KS size): one numeric column barely moved, two far
    moved (KS by Pelz-Good and p = 0: neither needs scipy; a KS distance below ~0.004 here
    would, for scipy's Durbin matrix), a text category with a new value."""
    folder = tmp_path_factory.mktemp("light")
    rng = np.random.default_rng(19)
    sides = {}
    for name, rows, shift in (("before", 12_000, 0.0), ("after", 11_000, 3.0)):
        sides[name] = pd.DataFrame({
            "balance": rng.gamma(2.0, 50.0, rows).round(2),
            "y_pred_proba": np.clip(rng.normal(0.3 + shift / 10, 0.1, rows), 0, 1),
            "tier": rng.choice(["gold", "silver", "bronze"] + (["iron"] if shift else []), rows),
            "year": rng.integers(2015, 2020, rows) + int(shift),
        })
        sides[name].to_parquet(folder / f"{name}.parquet")
    return folder / "before.parquet", folder / "after.parquet"


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_drift_imports_no_pandas_pyarrow_or_scipy(pair, fmt):
    out = subprocess.run([sys.executable, "-c", RUN_CLI, "drift", str(pair[0]), str(pair[1]),
                          "--format", fmt, "--with-outputs"],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    line = next(x for x in out.stderr.splitlines() if x.startswith("MODULES "))
    names = set(line.split()[1:])
    assert "aidebt_core.drift.univariate" in names  # the drift really ran in that process
    heavy = sorted(n for n in names if n.split(".")[0] in HEAVY)
    assert not heavy, heavy
    assert "y_pred_proba" in out.stdout and "iron" in out.stdout


def _pandas_text(rows, columns):
    frame = pd.DataFrame(rows, columns=list(columns))
    with pd.option_context("display.max_rows", 500, "display.max_columns", 50,
                           "display.width", 200, "display.float_format", "{:.4g}".format):
        return frame.to_string(index=False)


def test_plain_table_prints_what_pandas_prints():
    rng = np.random.default_rng(7)
    names = ["amount", "y_pred_proba", "a\tb", "new\nline", "é_ü", "x" * 70, "r\rx", "  lead"]
    for trial in range(60):
        rows = []
        for i in range(int(rng.integers(1, 9))):
            statistic = [None, float("nan"), float("inf"), -0.0, 1e-7, 123456.789,
                         float(rng.normal())][int(rng.integers(0, 7))]
            rows.append({"column": names[int(rng.integers(0, len(names)))],
                         "kind": ["numeric", "categorical"][i % 2], "method": "psi",
                         "statistic": statistic,
                         "p_value": None if trial % 5 == 0 else float(rng.uniform()),
                         "threshold": [0.1, 0.05, 2][trial % 3] if trial % 7 else 0.1,
                         "drifted": bool(rng.integers(0, 2)),
                         "missing_change": float(rng.normal(0, 0.01)),
                         "new_categories": ", ".join(["gold"] * int(rng.integers(0, 4))),
                         "status": "ok"})
        if trial % 4 == 0:  # an integer column, and one mixing ints and floats
            for j, row in enumerate(rows):
                row["threshold"] = j + 1
                row["missing_change"] = j if j % 2 else j + 0.5
        text = plain_table(rows, TABLE_COLUMNS)
        assert text == _pandas_text(rows, TABLE_COLUMNS), (trial, rows)


def test_plain_table_leaves_unknown_cell_kinds_to_pandas():
    base = {c: "x" for c in TABLE_COLUMNS}
    assert plain_table([{**base, "statistic": np.int64(3)}], TABLE_COLUMNS) is None
    assert plain_table([{**base, "drifted": True}, {**base, "drifted": 1.0}],
                       TABLE_COLUMNS) is None
    assert plain_table([], TABLE_COLUMNS) is None


@pytest.mark.parametrize("dof", [1, 2, 3, 4, 5, 9, 19, 20, 21, 40, 99, 199, 200, 401, 1000,
                                 2000, 4999, 20_000])
def test_chi2_sf_equals_scipy(dof):
    rng = np.random.default_rng(dof)
    shares = [0.0, 1e-6, 0.01, 0.3, 0.8, 0.95, 1.0, 1.05, 1.5, 2, 5, 30, 300,
              *rng.uniform(0, 3, 12)]
    for share in shares:
        for x in (dof * share, dof * share + 0.37, dof * share + 0.3 * math.sqrt(dof)):
            want, got = float(chdtrc(dof, x)), chi2_sf(dof, x)
            if want < 1e-300:  # scipy's underflow: ours is as small
                assert got < 1e-299, (x, got)
                continue
            assert got == pytest.approx(want, rel=1e-11), (x, got, want)


def test_chi2_sf_closed_forms_and_edges():
    assert chi2_sf(2, 6.0) == pytest.approx(math.exp(-3.0), rel=1e-15)
    assert chi2_sf(1, 3.841458820694124) == pytest.approx(0.05, rel=1e-12)  # the 95 % point
    assert chi2_sf(7, 0.0) == 1.0 and chi2_sf(7, -1.0) == 1.0
    assert chi2_sf(7, math.inf) == 0.0 and math.isnan(chi2_sf(7, math.nan))


@pytest.mark.parametrize("n", [1500, 1600, 1601, 5739, 50_000, 1_000_003])
def test_kstwo_sf_is_zero_where_scipy_underflows_for_far_moved_columns(n):
    from scipy import stats

    from aidebt_core.drift.kolmogorov import kstwo_sf

    lowest = max(0.5, math.sqrt(400 / n))  # n x^2 = 400: our zero starts here
    for x in [lowest, *np.linspace(lowest, 0.999, 25)]:
        assert kstwo_sf(float(x), n) == float(np.clip(stats.kstwo.sf(x, n), 0, 1)) == 0.0, x
    for x in np.linspace(0.5, 0.999, 40):  # all of x >= 0.5, on both sides of n x^2 = 400
        assert kstwo_sf(float(x), n) == float(np.clip(stats.kstwo.sf(x, n), 0, 1)), x


@pytest.mark.parametrize("limit", [1, 5, 6, 7, 8, 50])
def test_top_counts_give_the_most_frequent_values_and_totals(tmp_path, limit):
    """One query when every value fits, the windowed one beyond: the same answer as counting
    in Python, at and around `limit` + 1 distinct values (here 7 codes and NULLs)."""
    from collections import Counter

    from aidebt_core.data import connect, open_table
    from aidebt_core.drift.collect import top_counts
    from aidebt_core.workspace import Workspace

    rng = np.random.default_rng(limit)
    codes = rng.choice(["a1", "b22", "c", "d", "e", "f9", "g"], 3000, p=[.3, .2, .15, .12, .1,
                                                                         .08, .05])
    values = [None if i % 37 == 0 else str(c) for i, c in enumerate(codes)]
    pd.DataFrame({"branch_code": values}).to_parquet(tmp_path / "t.parquet")
    con = connect(Workspace.at(tmp_path))
    got = top_counts(open_table(con, Workspace.at(tmp_path), "t.parquet"), "branch_code", limit)
    con.close()
    counted = Counter(v for v in values if v is not None)
    ranked = sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    assert list(got.counts.items()) == ranked
    assert got.distinct == len(counted) == 7
    assert got.nulls == sum(v is None for v in values) > 0
