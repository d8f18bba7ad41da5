"""Column roles (numeric, categorical, timestamp, id, target, prediction, score, …).

Roles are inferred once from DuckDB types, names and one aggregate pass, then the user can
override any of them; every analysis reads roles from the same `Schema`. The naming rules are
documented, one row per rule, in docs/roles.md; keep the two in step.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from aidebt_core.data import ROWS, Table, is_temporal_type, quote_ident
from aidebt_core.data import is_numeric_type as _numeric_prefix
from aidebt_core.errors import SchemaError
from aidebt_core.timeaxis import named_text_times

if TYPE_CHECKING:  # pandas only for to_frame (the CLI's drift never imports it)
    import pandas as pd

ROLES = ("numeric", "categorical", "boolean", "timestamp", "id", "target", "prediction", "score",
         "ignore")
FEATURE_ROLES = ("numeric", "categorical", "boolean")
# A user may also say just "feature": the column then gets the feature kind its type implies.
FEATURE = "feature"
# One column each: naming a new one takes the role away from the column inference gave it to.
SINGLE_ROLES = ("target", "prediction", "score")
# Exact names that are targets when two-valued, or numeric (a regression target).
TARGET_NAMES = {"target", "label", "labels", "y", "class", "clf_target", "outcome",
                "ground_truth", "truth"}
# Names that are targets only when the column holds two values (0/1, yes/no, true/false).
BINARY_TARGET_NAMES = {"defaulted", "default", "churned", "churn", "is_fraud", "fraud",
                       "converted", "clicked", "repaid", "employed", "survived", "approved",
                       "response", "responded", "bad_loan", "is_default", "purchased"}
_TARGET_PATTERN = re.compile(r"_(true|target|label|actual|outcome)$|^(actual|target|label)_"
                             r"|^actual")
_SCORE = re.compile(r"proba|probabilit|(^|_)probs?($|_)|score")
_PREDICTION = re.compile(r"^(pred|predicted|prediction|predictions|yhat|y_hat|y_pred)(_|$)"
                         r"|_(pred|predicted|prediction|hat)$")
_OUTPUT_TOKENS = {"pred", "predicted", "prediction", "predictions", "proba", "probas",
                  "probability", "probabilities", "prob", "probs", "score", "scores", "hat",
                  "yhat"}
_ID = re.compile(r"(^|_)(id|uuid|key)$")
_NESTED_PREFIXES = ("STRUCT", "MAP", "UNION", "LIST")
# Above this many rows distinct values are estimated (HyperLogLog) and labelled approximate.
# Roles need only "two values or not" and "nearly unique or not", which the estimate answers;
# exact counts cost ~2.4 s on 1M rows x 40 columns before every analysis. The Data page shows
# exact counts from the profile (profile.py), computed only there.
EXACT_DISTINCT_MAX_ROWS = 250_000


def is_nested_type(dtype: str) -> bool:
    """LIST (`INTEGER[]`), fixed ARRAY (`INTEGER[3]`), STRUCT, MAP and UNION columns."""
    upper = dtype.upper().strip()
    return upper.endswith("]") or upper.startswith(_NESTED_PREFIXES)


def is_numeric_type(dtype: str) -> bool:
    """Numeric, and not a list of numbers (`BIGINT[]` starts like `BIGINT`)."""
    return _numeric_prefix(dtype) and not is_nested_type(dtype)


@dataclass(frozen=True)
class ColumnInfo:
    """One column: its storage type, inferred role and the facts the role came from."""

    name: str
    dtype: str
    role: str
    distinct: int
    nulls: int
    rows: int
    inferred_role: str
    distinct_exact: bool = True
    low: float | None = None
    high: float | None = None

    @property
    def null_share(self) -> float:
        return self.nulls / self.rows if self.rows else 0.0

    @property
    def all_null(self) -> bool:
        return self.rows > 0 and self.nulls == self.rows

    @property
    def nested(self) -> bool:
        return is_nested_type(self.dtype)

    @property
    def feature_kind(self) -> str:
        """The feature role this column's type implies (what "feature" means for it)."""
        return _feature_kind(self.dtype, self.distinct, self.low, self.high)


@dataclass(frozen=True)
class Schema:
    """Columns with roles; `with_roles` applies a user's overrides."""

    columns: tuple[ColumnInfo, ...]

    def __getitem__(self, name: str) -> ColumnInfo:
        for col in self.columns:
            if col.name == name:
                return col
        raise SchemaError(f"No column '{name}'. Columns are: {', '.join(self.names)}.")

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def with_role(self, *roles: str) -> list[str]:
        return [c.name for c in self.columns if c.role in roles]

    @property
    def features(self) -> list[str]:
        return self.with_role(*FEATURE_ROLES)

    def first(self, role: str) -> str | None:
        names = self.with_role(role)
        return names[0] if names else None

    def with_roles(self, overrides: Mapping[str, str], source: str = "") -> Schema:
        """A copy with some roles set by the user.

        Unknown columns, unknown roles and roles the column's type cannot hold (a score on a
        text column, anything but ignore on a nested column) are refused; `source` names where
        the overrides came from in that message. A target, prediction or score named here takes
        the role from any other column that held it (that column becomes a feature), so there
        is one of each.
        """
        where = f" ({source})" if source else ""
        wanted = {}
        for name, role in overrides.items():
            if role not in (*ROLES, FEATURE):
                raise SchemaError(f"Unknown role '{role}' for column '{name}'{where}. "
                                  f"Roles: {', '.join((FEATURE, *ROLES))}.")
            col = self[name]  # raises for unknown columns
            if col.nested and role != "ignore":
                raise SchemaError(f"Column '{name}' ({col.dtype}) cannot have the role "
                                  f"'{role}'{where}: it is a nested column; only 'ignore' "
                                  "applies.")
            role = col.feature_kind if role == FEATURE else role
            _check_role_fits(col, role, where)
            wanted[name] = role
        taken = {r for r in wanted.values() if r in SINGLE_ROLES}
        out = []
        for col in self.columns:
            if col.name in wanted:
                col = replace(col, role=wanted[col.name])
            elif col.role in taken:
                col = replace(col, role=col.feature_kind)
            out.append(col)
        return Schema(tuple(out))

    def overrides(self) -> dict[str, str]:
        """The roles that differ from what was inferred (what a user changed)."""
        return {c.name: c.role for c in self.columns if c.role != c.inferred_role}

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame({
            "column": [c.name for c in self.columns],
            "type": [c.dtype for c in self.columns],
            "role": [c.role for c in self.columns],
            "distinct": [c.distinct for c in self.columns],
            "missing_share": [c.null_share for c in self.columns],
        })

    def to_dict(self) -> dict:
        return {"columns": [{"name": c.name, "type": c.dtype, "role": c.role,
                             "distinct": c.distinct, "distinct_exact": c.distinct_exact,
                             "missing_share": c.null_share}
                            for c in self.columns]}


def _check_role_fits(col: ColumnInfo, role: str, where: str) -> None:
    """Refuse a role the column's values cannot play."""
    numeric = is_numeric_type(col.dtype)
    problem = ""
    if role in ("score", "numeric") and not numeric:
        problem = f"a {role} must be numeric"
    elif role == "timestamp" and col.dtype.upper() == "BOOLEAN":
        problem = "a timestamp cannot be boolean"
    elif role == "boolean" and col.distinct > 2 and col.dtype.upper() != "BOOLEAN":
        problem = f"a boolean column has at most two values, it has {col.distinct}"
    if problem:
        raise SchemaError(f"Column '{col.name}' ({col.dtype}) cannot have the role '{role}'"
                          f"{where}: {problem}.")


def infer_schema(table: Table) -> Schema:
    """Infer every column's role in one aggregate pass over the table."""
    prebuilt = getattr(table, "schema_override", None)
    if prebuilt is not None:  # a saved profile (profiles/source.py): roles from its counts
        return prebuilt
    types = table.column_types
    rows = int(table.execute(f"SELECT count(*) FROM {ROWS}").fetchone()[0])
    exact = rows <= EXACT_DISTINCT_MAX_ROWS
    parts = []
    for name, dtype in types.items():
        col = quote_ident(name)
        if is_nested_type(dtype):  # distinct counts of nested values are neither cheap nor used
            parts += ["0", f"count(*) - count({col})"]
        else:
            distinct = f"count(DISTINCT {col})" if exact else f"approx_count_distinct({col})"
            parts += [distinct, f"count(*) - count({col})"]
        if is_numeric_type(dtype):
            parts += [f"min({col})::DOUBLE", f"max({col})::DOUBLE"]
    row = table.execute(f"SELECT {', '.join(parts)} FROM {ROWS}").fetchone()
    pos, infos = 0, []
    for name, dtype in types.items():
        distinct, nulls = int(row[pos]), int(row[pos + 1])
        # HyperLogLog can overshoot: never claim more distinct values than non-null rows.
        distinct = min(distinct, rows - nulls)
        pos += 2
        lo = hi = None
        if is_numeric_type(dtype):
            lo, hi = row[pos], row[pos + 1]
            pos += 2
        role = _infer_role(name, dtype, distinct, rows - nulls, lo, hi)
        infos.append(ColumnInfo(name, dtype, role, distinct, nulls, rows, role, exact, lo, hi))
    text_times = set(named_text_times(table, [c.name for c in infos if c.role == "categorical"]))
    infos = [replace(c, role="timestamp", inferred_role="timestamp") if c.name in text_times
             else c for c in infos]
    return Schema(_one_target(_pair_targets(tuple(infos))))


def _infer_role(name: str, dtype: str, distinct: int, non_null: int,
                lo: float | None, hi: float | None) -> str:
    lower = name.lower()
    numeric = is_numeric_type(dtype)
    binary = distinct <= 2
    if is_nested_type(dtype):
        return "ignore"
    # Scores before predictions: y_pred_proba and pred_score also match the prediction names.
    if numeric and _SCORE.search(lower) and lo is not None and 0 <= lo and hi <= 1:
        return "score"
    if _PREDICTION.search(lower):
        return "prediction"
    if is_temporal_type(dtype):
        return "timestamp"
    if _is_target_name(lower, binary, numeric):
        return "target"
    if _ID.search(lower) and non_null and distinct >= 0.95 * non_null and not _is_float(dtype):
        return "id"
    return _feature_kind(dtype, distinct, lo, hi)


def _is_target_name(lower: str, binary: bool, numeric: bool) -> bool:
    if lower in TARGET_NAMES:
        return binary or numeric
    return binary and (lower in BINARY_TARGET_NAMES or bool(_TARGET_PATTERN.search(lower)))


def _feature_kind(dtype: str, distinct: int, lo: float | None = None,
                  hi: float | None = None) -> str:
    numeric = is_numeric_type(dtype)
    if dtype.upper() == "BOOLEAN":
        return "boolean"
    if numeric and distinct <= 2 and (lo is None or lo in (0, 1)) and (hi is None or hi in (0, 1)):
        return "boolean"
    return "numeric" if numeric else "categorical"


def _output_base(name: str) -> str:
    """`y_pred_proba` -> `y`, `pred_repaid` -> `repaid`: the name a model output predicts."""
    tokens = [t for t in name.lower().split("_") if t and t not in _OUTPUT_TOKENS]
    return "_".join(tokens)


def _pair_targets(infos: tuple[ColumnInfo, ...]) -> tuple[ColumnInfo, ...]:
    """A two-valued column named after a prediction/score (y_pred -> y or y_true,
    pred_X -> X) is that output's target."""
    bases = {_output_base(c.name) for c in infos if c.role in ("prediction", "score")} - {""}
    wanted = set()
    for base in bases:
        wanted |= {base, f"{base}_true", f"true_{base}", f"{base}_actual", f"actual_{base}"}
    out = []
    for col in infos:
        if (col.name.lower() in wanted and col.role in FEATURE_ROLES and col.distinct <= 2
                and not col.nested):
            col = replace(col, role="target", inferred_role="target")
        out.append(col)
    return tuple(out)


def _one_target(infos: tuple[ColumnInfo, ...]) -> tuple[ColumnInfo, ...]:
    """Several target candidates: keep the best-named one (exact name, then the pattern),
    the others stay features."""
    targets = [c for c in infos if c.role == "target"]
    if len(targets) < 2:
        return infos
    best = min(targets, key=lambda c: (c.name.lower() not in TARGET_NAMES,
                                       c.name.lower() not in BINARY_TARGET_NAMES))
    return tuple(replace(c, role=c.feature_kind, inferred_role=c.feature_kind)
                 if c.role == "target" and c is not best else c for c in infos)


def _is_float(dtype: str) -> bool:
    return dtype.upper().startswith(("FLOAT", "DOUBLE", "REAL", "DECIMAL"))


# Role inference from a saved profile's counts (aidebt_core/profiles/source.py): the same rules.
infer_role, pair_targets, one_target = _infer_role, _pair_targets, _one_target
