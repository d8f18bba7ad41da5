"""The association matrix read through DuckDB: values, clustering, groups, bad input."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from aidebt_core.entanglement import (
    analyse,
    association_matrix,
    correlation_change,
    feature_kinds,
    redundant_groups,
)
from aidebt_core.entanglement.encode import OTHER
from aidebt_core.errors import AidebtError, OptionError, SchemaError
from aidebt_core.schema import infer_schema


@pytest.fixture
def open_frame(make_table):
    """Write a DataFrame to Parquet and open it as a sandboxed Table."""
    return make_table


def _mixed(n=3000, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], n)
    shift = pd.Series(colour).map({"red": 0.0, "green": 1.0, "blue": 2.0}).to_numpy()
    frame = pd.DataFrame({
        "a": a,
        "a_copy": 3 * a + rng.normal(0, 0.1, n),
        "b": rng.normal(size=n) + shift,
        "c": rng.exponential(size=n),
        "colour": colour,
        "shade": np.where(rng.random(n) < 0.9, colour, "grey"),
        "size": rng.choice(["S", "M", "L", "XL"], n),
    })
    frame.loc[rng.random(n) < 0.1, "b"] = np.nan
    frame.loc[rng.random(n) < 0.05, "size"] = None
    return frame


KINDS = {"a": "numeric", "a_copy": "numeric", "b": "numeric", "c": "numeric",
         "colour": "categorical", "shade": "categorical", "size": "categorical"}


def _v(x, y) -> float:
    table = pd.crosstab(x, y).to_numpy()
    chi2 = stats.chi2_contingency(table, correction=False)[0]
    n, (r, k) = table.sum(), table.shape
    phi2 = max(0.0, chi2 / n - (k - 1) * (r - 1) / (n - 1))
    return math.sqrt(phi2 / min(k - (k - 1) ** 2 / (n - 1) - 1, r - (r - 1) ** 2 / (n - 1) - 1))


def _eta(x, g) -> float:
    frame = pd.DataFrame({"x": x, "g": g}).dropna()
    means = frame.groupby("g")["x"].transform("mean")
    return math.sqrt(((means - frame.x.mean()) ** 2).sum()
                     / ((frame.x - frame.x.mean()) ** 2).sum())


def test_mixed_matrix_matches_independent_computations(open_frame):
    frame = _mixed()
    m = association_matrix(open_frame(frame), KINDS)
    corr = frame[["a", "a_copy", "b", "c"]].corr()
    for x in ("a", "a_copy", "b", "c"):
        for y in ("a", "a_copy", "b", "c"):
            assert m.value(x, y) == pytest.approx(corr.loc[x, y], abs=1e-10)
    assert m.method_of("a", "b") == "pearson"
    assert m.value("colour", "shade") == pytest.approx(_v(frame.colour, frame.shade), abs=1e-10)
    assert m.value("size", "colour") == pytest.approx(_v(frame["size"], frame.colour), abs=1e-10)
    assert m.method_of("size", "colour") == "cramers_v"
    for num in ("b", "c"):
        for cat in ("colour", "size"):
            assert m.value(num, cat) == pytest.approx(_eta(frame[num], frame[cat]), abs=1e-9)
            assert m.method_of(cat, num) == "eta"
    # b's missing rows are left out pairwise, like pandas.
    assert m.counts[m.index("b"), m.index("a")] == frame.b.notna().sum()
    assert m.rows_used == m.rows_total == len(frame)
    assert m.symmetric


def test_spearman_and_theils_u_methods(open_frame):
    from sklearn.metrics import mutual_info_score

    frame = _mixed()
    m = association_matrix(open_frame(frame), KINDS, method="spearman")
    rho = frame[["a", "b", "c"]].corr(method="spearman")
    assert m.value("b", "c") == pytest.approx(rho.loc["b", "c"], abs=1e-10)
    assert m.method_of("b", "c") == "spearman"

    u = association_matrix(open_frame(frame, "u.parquet"), KINDS, method="theils_u")
    assert not u.symmetric
    # U(colour | shade): share of colour's entropy that shade explains.
    expected = (mutual_info_score(frame.colour, frame.shade)
                / stats.entropy(frame.colour.value_counts()))
    assert u.value("colour", "shade") == pytest.approx(expected, abs=1e-10)
    assert u.value("shade", "colour") != pytest.approx(u.value("colour", "shade"), abs=1e-3)
    pairs = u.pairs()
    assert {("colour", "shade"), ("shade", "colour")} <= set(zip(pairs.a, pairs.b, strict=True))


def test_clustered_order_puts_entangled_blocks_together_and_groups_them(open_frame):
    frame = _mixed()
    m = association_matrix(open_frame(frame), KINDS)
    order = list(m.columns)
    assert abs(order.index("a") - order.index("a_copy")) == 1
    assert abs(order.index("colour") - order.index("shade")) == 1
    groups = redundant_groups(m, 0.8)
    assert sorted(map(sorted, groups)) == [["a", "a_copy"], ["colour", "shade"]]
    # Every pair inside a group passes the threshold; a higher threshold splits colour/shade.
    assert m.value("colour", "shade") < 0.95 < m.value("a", "a_copy")
    assert redundant_groups(m, 0.95) == [["a", "a_copy"]] or \
        redundant_groups(m, 0.95) == [["a_copy", "a"]]
    with pytest.raises(OptionError, match="threshold"):
        redundant_groups(m, 1.5)


def test_constant_column_is_undefined_with_reason(open_frame):
    frame = _mixed().assign(flat=7.0, tag="same")
    m = association_matrix(open_frame(frame), {**KINDS, "flat": "numeric", "tag": "categorical"})
    assert np.isnan(m.value("flat", "a")) and np.isnan(m.value("tag", "colour"))
    assert np.isnan(m.value("flat", "tag")) and np.isnan(m.value("flat", "flat"))
    assert m.undefined[("a", "flat")] == "undefined: 'flat' is constant"
    assert any("'tag' has a single value" in note for note in m.notes)
    # Undefined cells stay out of the groups and do not pull blocks together.
    assert all("flat" not in g and "tag" not in g for g in redundant_groups(m))


def test_all_null_column_is_left_out_with_a_note(open_frame):
    frame = _mixed().assign(empty=np.nan)
    m = association_matrix(open_frame(frame), {**KINDS, "empty": "numeric"})
    assert "empty" not in m.columns
    assert any("'empty' is entirely missing" in note for note in m.notes)


def test_single_usable_column_is_refused(open_frame):
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "gone": [None, None, None]}, dtype="float64")
    table = open_frame(frame)
    with pytest.raises(SchemaError, match="at least two feature columns.*only 'x'"):
        association_matrix(table, {"x": "numeric", "gone": "numeric"})
    with pytest.raises(SchemaError, match="at least two"):
        association_matrix(table, {"x": "numeric"})


def test_50k_categories_are_folded_to_top_k(open_frame):
    n = 60_000
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"customer": [f"c{i}" for i in range(50_000)]
                          + [f"c{i}" for i in range(10_000)],
                          "x": rng.normal(size=n), "k": rng.choice(list("ab"), n)})
    m = association_matrix(open_frame(frame), {"customer": "categorical", "x": "numeric",
                                               "k": "categorical"}, top_k=20)
    note = next(n for n in m.notes if "'customer'" in n)
    assert "50,000 distinct values; the 19 most frequent" in note and OTHER in note
    assert "identifier" in note
    assert m.value("customer", "x") < 0.05
    assert np.isfinite(m.values).all()


def test_large_table_uses_a_stated_sample(open_frame):
    frame = _mixed(n=5000)
    m = association_matrix(open_frame(frame), KINDS, max_rows=2000, seed=4)
    # Bernoulli sampling at 40%: about 2,000 rows (binomial sd ≈ 35), the number drawn stated.
    assert m.rows_total == 5000 and 1800 <= m.rows_used <= 2200
    assert any(f"sample of {m.rows_used:,} of 5,000 rows" in note for note in m.notes)
    assert m.value("a", "a_copy") == pytest.approx(frame.a.corr(frame.a_copy), abs=1e-3)
    again = association_matrix(open_frame(frame, "b.parquet"), KINDS, max_rows=2000, seed=4)
    np.testing.assert_array_equal(m.values, again.values)


def test_unknown_method_and_kind_are_refused(open_frame):
    table = open_frame(_mixed(200))
    with pytest.raises(AidebtError, match="Unknown method 'kendall'"):
        association_matrix(table, KINDS, method="kendall")
    with pytest.raises(AidebtError, match="Unknown column kind"):
        association_matrix(table, {"a": "numbers", "b": "numeric"})
    with pytest.raises(AidebtError, match="no column"):
        association_matrix(table, {"a": "numeric", "nope": "numeric"})


def test_correlation_change_flags_a_broken_pair_with_fisher_z(open_frame):
    rng = np.random.default_rng(2)
    before = _mixed(3000, seed=1)
    after = _mixed(3000, seed=2)
    after["a_copy"] = rng.permutation(after["a_copy"].to_numpy())
    ref = association_matrix(open_frame(before, "r.parquet"), KINDS)
    cur = association_matrix(open_frame(after, "c.parquet"), KINDS)
    change = correlation_change(ref, cur, threshold=0.25)
    top = change.pairs.iloc[0]
    assert {top.a, top.b} == {"a", "a_copy"} and top.flagged
    r1, r2 = before.a.corr(before.a_copy), after.a.corr(after.a_copy)
    assert top.delta == pytest.approx(r2 - r1, abs=1e-10)
    z = (np.arctanh(r1) - np.arctanh(r2)) / math.sqrt(2 / (3000 - 3))
    assert top.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-6)
    assert list(change.flagged[["a", "b"]].itertuples(index=False, name=None)) in (
        [("a", "a_copy")], [("a_copy", "a")])
    # The current matrix in the reference's order lines up cell by cell with the change.
    aligned = cur.reordered(ref.columns)
    assert aligned.columns == ref.columns
    assert aligned.value("a", "a_copy") == cur.value("a", "a_copy")
    delta = aligned.values - ref.values
    np.fill_diagonal(delta, np.nan)  # the change leaves a column with itself blank
    np.testing.assert_allclose(delta, change.difference, equal_nan=True, atol=1e-12)
    # Measures without a test get no p-value.
    cat = change.pairs[(change.pairs.method == "cramers_v")]
    assert cat.p_value.isna().all() and len(cat) == 3


def test_analyse_on_sample_finds_planted_pairs_and_break(sample_dir, ground_truth):
    from aidebt_core.selection import sample_selection

    with sample_selection(sample_dir).open() as data:
        result = analyse(data.reference, data.current, data.schema)
    for pair in ground_truth["redundant_pairs"]:
        assert any(set(pair) <= set(g) for g in result.groups), (pair, result.groups)
    top = result.change.flagged.iloc[0]
    assert {top.a, top.b} == set(ground_truth["correlation_break"]["columns"])
    assert top.reference > 0.95 and top.current < 0.5 and top.p_value < 1e-12
    assert len(result.change.flagged) == 1
    # Reference has 60,000 rows (months 1-6), read in full.
    assert result.reference.rows_used == 60_000 == result.current.rows_used
    features = set(result.reference.columns)
    assert {"default_score", "defaulted", "predicted_default", "application_id"} & features \
        == set()
    # The most entangled important feature is one of the planted pair.
    assert result.ripple.table.feature.iloc[0] in {"income", "monthly_income"}
    payload = result.to_dict()
    json.dumps(payload, allow_nan=False)
    assert set(payload) >= {"columns", "matrix", "groups", "pairs"}
    assert len(payload["matrix"]) == len(payload["columns"])
    assert payload["summary"]["changed_pairs"] == 1
    assert payload["change"]["pairs"][0]["flagged"] is True


def test_feature_kinds_follow_roles(sample_dir):
    from aidebt_core.selection import sample_selection

    with sample_selection(sample_dir).open() as data:
        kinds = feature_kinds(data.schema)
        assert kinds["income_verified"] == "categorical"    # boolean role
        assert kinds["income"] == "numeric" and kinds["region"] == "categorical"
        with pytest.raises(SchemaError, match="'default_score' has role 'score'"):
            feature_kinds(data.schema, ["income", "default_score"])
        assert "income" not in feature_kinds(data.schema, exclude=["income"])
        assert infer_schema(data.reference)["income"].role == "numeric"


def test_awkward_column_names_and_values_are_quoted_and_bound(open_frame):
    rng = np.random.default_rng(8)
    n = 500
    base = rng.normal(size=n)
    frame = pd.DataFrame({'we"ird col': base, "select": base * 2 + rng.normal(0, 0.1, n),
                          "it's": rng.choice(["o'brien", 'say "hi"', "a,b"], n)})
    m = association_matrix(open_frame(frame), {'we"ird col': "numeric", "select": "numeric",
                                               "it's": "categorical"})
    assert m.value('we"ird col', "select") == pytest.approx(
        frame['we"ird col'].corr(frame["select"]), abs=1e-12)
    assert m.value("it's", "select") == pytest.approx(_eta(frame["select"], frame["it's"]),
                                                      abs=1e-9)
