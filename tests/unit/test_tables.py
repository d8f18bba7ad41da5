"""aidebt_app.tables.prepare_table and aidebt_app.glossary: what a reader sees in every cell."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aidebt_app.glossary import GLOSSARY, has_term, help_text
from aidebt_app.tables import auto_decimals, fixed, human_header, prepare_table

BAD = ("None", "nan", "NaN", "-0.000", "-0.00", "-0.0", "<NA>", "NaT")


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "estimated_alert": [True, False, None],
        "ci_low": [0.81234, np.nan, -0.00001],
        "y_pred_proba": [0.5, -1e-9, np.nan],
        "feature": ["credit_score", None, "age"],
        "repaid_rows": pd.array([1200, None, 3], dtype="Int64"),
        "recall": [0.8567, 0.5, np.nan],
        "q_value": [1e-12, 0.0312, np.nan],
        "year": [2024, 2025, 2026],
        "when": pd.to_datetime(["2025-07-01", None, "2025-08-01"]),
    })


def test_no_none_nan_or_negative_zero_in_any_cell() -> None:
    table = prepare_table(_frame(), key_columns=["feature"], raw_columns=["ci_low"])
    for display in (table.display, table.raw_display):
        for cell in display.to_numpy().ravel():
            assert cell not in BAD and not cell.startswith("-0.0"), cell
    assert (table.display == "—").sum().sum() > 0  # missing values are shown as a dash


def test_key_columns_first_raw_columns_apart_and_headers_human() -> None:
    table = prepare_table(_frame(), key_columns=["feature", "year"],
                          raw_columns=["ci_low", "estimated_alert"], hide=["when"])
    assert list(table.display.columns[:2]) == ["Feature", "Year"]
    assert "CI low" not in table.display.columns and "When" not in table.display.columns
    assert list(table.raw_display.columns) == ["Feature", "Year", "CI low", "Estimated alert"]
    assert "q-value" in table.display.columns and "Y pred proba" in table.display.columns


def test_formats_per_column() -> None:
    frame = _frame()
    table = prepare_table(frame, formats={"y_pred_proba": 2})
    d = table.display
    assert list(d["Recall"]) == ["85.7%", "50.0%", "—"]          # a rate as %
    assert list(d["q-value"]) == ["< 0.001", "0.0312", "—"]
    assert list(d["Y pred proba"]) == ["0.50", "0.00", "—"]       # fixed 2 decimals, no -0.00
    assert list(d["Repaid rows"]) == ["1,200", "—", "3"]
    assert list(d["Year"]) == ["2024", "2025", "2026"]  # an identifier: no separator
    assert list(d["Estimated alert"]) == ["yes", "no", "—"]
    assert list(d["When"]) == ["2025-07-01", "—", "2025-08-01"]
    # fixed decimals within a column: every cell of CI low has the same number of decimals
    decimals = {len(c.split(".")[1]) for c in d["CI low"] if c != "—"}
    assert len(decimals) == 1


def test_signed_fixed_decimals() -> None:
    shown = fixed(3, signed=True)
    assert [shown(v) for v in (0.02654, -0.7004, -0.0001, 0.0, None)] == [
        "+0.027", "-0.700", "0.000", "0.000", "—"]


def test_values_stay_numbers_for_sorting() -> None:
    table = prepare_table(_frame())
    assert pd.api.types.is_float_dtype(table.values["CI low"])
    negative_zero = prepare_table(pd.DataFrame({"x": [-0.0, 1.5]})).values["X"]
    assert not np.signbit(negative_zero).any()  # -0.0 cleaned


def test_unknown_format_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown table format 'percentish'"):
        prepare_table(_frame(), formats={"recall": "percentish"})


@pytest.mark.parametrize(("name", "expected"), [
    ("ci_low", "CI low"), ("missing_share", "Missing (%)"), ("p_value", "p-value"),
    ("roc_auc", "ROC AUC"), ("model_id", "Model ID"), ("Cramér's V", "Cramér's V"),
    ("rows", "Rows"), ("psi", "PSI"),
])
def test_human_header(name, expected) -> None:
    assert human_header(name) == expected


def test_auto_decimals_give_three_significant_digits() -> None:
    assert auto_decimals(pd.Series([0.0123, 0.0456, np.nan])) == 4
    assert auto_decimals(pd.Series([0.5, 0.25])) == 3
    assert auto_decimals(pd.Series([12.5, 33.1])) == 1
    assert auto_decimals(pd.Series([1500.5, 3300.25])) == 0
    assert auto_decimals(pd.Series([1.0, 2.0])) == 0
    assert auto_decimals(pd.Series([np.nan])) == 0


def test_glossary_has_the_manager_terms() -> None:
    for term in ("debt index", "headline", "ML Test Score", "q-value", "ripple risk", "PSI",
                 "Debt_Index", "q value"):
        assert has_term(term)
        assert len(help_text(term)) > 40
    assert all(text.strip() for text in GLOSSARY.values())
    with pytest.raises(KeyError, match="no glossary entry for 'flux capacitor'"):
        help_text("flux capacitor")
