"""Drift results: one `ColumnDrift` per column and the dataset-level `DriftResult`.

A `DriftResult` carries the binned distributions of its compared columns, so its charts and
its report never go back to the data; `to_dict`/`from_dict` round-trip it through JSON and
`fingerprint` hashes its options with the input identity the caller set (`inputs`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING

from aidebt_core.drift import methods
from aidebt_core.drift.distribution import Distribution
from aidebt_core.drift.identity import Identity, fingerprint, identity_from
from aidebt_core.drift.options import DriftOptions
from aidebt_core.errors import SchemaError
from aidebt_core.jsonsafe import jsonable

if TYPE_CHECKING:  # pandas only for to_frame: the CLI prints its table without it
    import pandas as pd

OK, NOT_TESTABLE, TYPE_CHANGED = "ok", "not testable", "type changed"
MAX_LISTED_CATEGORIES = 50   # new / vanished values kept per column (most frequent first)
FRAME_COLUMNS = ("column", "kind", "method", "statistic", "p_value", "threshold", "drifted",
                 "missing_reference", "missing_current", "missing_change", "new_categories",
                 "vanished_categories", "status", "note")


class Measures(Mapping):
    """A read-only, hashable name -> figure mapping (a frozen result cannot hold a dict)."""

    __slots__ = ("_items", "_index")

    def __init__(self, items: Mapping | Iterable[tuple[str, float | None]] = ()) -> None:
        pairs = tuple((str(k), v) for k, v in (items.items() if isinstance(items, Mapping)
                                                else items))
        self._items = pairs
        self._index = dict(pairs)

    def __getitem__(self, key: str):
        return self._index[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(self._items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self) == dict(other)

    def __repr__(self) -> str:
        return f"Measures({dict(self._items)!r})"


@dataclass(frozen=True)
class ColumnDrift:
    """Every drift figure for one column; `statistic`/`p_value` are those of `method`."""

    name: str
    kind: str
    method: str
    statistic: float | None
    p_value: float | None
    threshold: float
    drifted: bool
    missing_share_reference: float
    missing_share_current: float
    missing_changed: bool
    reference_count: int
    current_count: int
    status: str = OK
    note: str = ""
    dtype_reference: str = ""
    dtype_current: str = ""
    new_categories: tuple[str, ...] = ()      # at most MAX_LISTED_CATEGORIES, most frequent
    vanished_categories: tuple[str, ...] = ()  # first; the counts say how many there were
    measures: Mapping[str, float | None] = field(default_factory=Measures)
    new_categories_count: int | None = None
    vanished_categories_count: int | None = None
    # False when computed from a binned profile (aidebt_core.profiles): `bound` then says how
    # far the true statistic may lie from `statistic` (docs/profiles.md).
    exact: bool = True
    bound: float | None = None

    def __post_init__(self) -> None:
        # Hashable and immutable: tuples, a frozen mapping, the long lists cut (with counts).
        set_ = object.__setattr__
        set_(self, "measures", Measures(self.measures))
        for name in ("new_categories", "vanished_categories"):
            values = tuple(getattr(self, name))
            if getattr(self, f"{name}_count") is None:
                set_(self, f"{name}_count", len(values))
            set_(self, name, values[:MAX_LISTED_CATEGORIES])

    @property
    def method_info(self) -> methods.Method:
        return methods.get(self.method)

    @property
    def excess(self) -> float:
        """How far past its threshold (1 = on the line), by the method's own rule."""
        return self.method_info.excess(self.statistic, self.p_value, self.threshold)

    @property
    def missing_change(self) -> float:
        return self.missing_share_current - self.missing_share_reference

    def to_dict(self) -> dict:
        return jsonable({
            "name": self.name, "kind": self.kind, "method": self.method,
            "statistic": self.statistic, "p_value": self.p_value, "threshold": self.threshold,
            "drifted": self.drifted,
            "missing_share_reference": self.missing_share_reference,
            "missing_share_current": self.missing_share_current,
            "new_categories": list(self.new_categories),
            "new_categories_count": self.new_categories_count,
            "vanished_categories": list(self.vanished_categories),
            "vanished_categories_count": self.vanished_categories_count,
            "missing_changed": self.missing_changed, "status": self.status, "note": self.note,
            "reference_count": self.reference_count, "current_count": self.current_count,
            "dtype_reference": self.dtype_reference, "dtype_current": self.dtype_current,
            "measures": dict(self.measures), "exact": self.exact, "bound": self.bound,
        })

    @classmethod
    def from_dict(cls, data: Mapping) -> ColumnDrift:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass(frozen=True)
class DriftResult:
    """Drift of every analysed column and the dataset-level verdict."""

    reference_rows: int
    current_rows: int
    columns: tuple[ColumnDrift, ...]
    options: DriftOptions
    only_in_reference: tuple[str, ...] = ()
    only_in_current: tuple[str, ...] = ()
    distributions: tuple[Distribution, ...] = ()   # of the compared ("ok") columns
    labels: tuple[str, str] = ("reference", "current")
    inputs: Identity = ()                          # set by the caller: see `identity`

    @property
    def fingerprint(self) -> str:
        """Options + the caller's input identity (paths, sizes, modification times)."""
        return fingerprint("drift", {"options": self.options.to_dict(),
                                     "columns": [c.name for c in self.columns]}, self.inputs)

    def with_inputs(self, inputs: Identity) -> DriftResult:
        return replace(self, inputs=tuple(inputs))

    def distribution(self, name: str) -> Distribution | None:
        """Both sides' binned distribution of a compared column (None if not compared)."""
        for dist in self.distributions:
            if dist.column == name:
                return dist
        return None

    @property
    def testable(self) -> list[ColumnDrift]:
        return [c for c in self.columns if c.status != NOT_TESTABLE]

    @property
    def drifted_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.drifted]

    @property
    def drifted_share(self) -> float:
        testable = self.testable
        return sum(c.drifted for c in testable) / len(testable) if testable else 0.0

    @property
    def dataset_drift(self) -> bool:
        return bool(self.testable) and self.drifted_share >= self.options.drift_share

    @property
    def missing_changed(self) -> list[str]:
        return [c.name for c in self.columns if c.missing_changed]

    @property
    def worst(self) -> ColumnDrift | None:
        """The drifted column furthest past its threshold (by ratio), else None."""
        drifted = [c for c in self.columns if c.drifted]
        return max(drifted, key=lambda c: c.excess) if drifted else None

    def column(self, name: str) -> ColumnDrift:
        for c in self.columns:
            if c.name == name:
                return c
        raise SchemaError(f"No drift result for column '{name}'.")

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.rows(), columns=list(FRAME_COLUMNS))

    def rows(self) -> list[dict]:
        """One dict per column with the keys FRAME_COLUMNS (the rows of `to_frame`)."""
        return [{"column": c.name, "kind": c.kind, "method": c.method, "statistic": c.statistic,
                 "p_value": c.p_value, "threshold": c.threshold, "drifted": c.drifted,
                 "missing_reference": c.missing_share_reference,
                 "missing_current": c.missing_share_current, "missing_change": c.missing_change,
                 "new_categories": _listed(c.new_categories, c.new_categories_count),
                 "vanished_categories": _listed(c.vanished_categories,
                                                c.vanished_categories_count),
                 "status": c.status, "note": c.note} for c in self.columns]

    def to_dict(self) -> dict:
        """The CLI contract's JSON document (extended with notes, measures and summaries)."""
        return jsonable({
            "reference_rows": self.reference_rows, "current_rows": self.current_rows,
            "dataset_drift": self.dataset_drift, "drifted_share": self.drifted_share,
            "drift_share_threshold": self.options.drift_share,
            "method": self.options.method,
            "drifted_columns": self.drifted_columns,
            "missing_changed": self.missing_changed,
            "only_in_reference": list(self.only_in_reference),
            "only_in_current": list(self.only_in_current),
            "columns": [c.to_dict() for c in self.columns],
            "options": self.options.to_dict(),
            "labels": list(self.labels),
            "distributions": [d.to_dict() for d in self.distributions],
            "inputs": [list(i) for i in self.inputs],
            "fingerprint": self.fingerprint,
        })

    @classmethod
    def from_dict(cls, data: Mapping) -> DriftResult:
        """The result a `to_dict` document describes (non-finite figures come back as None,
        as JSON holds them)."""
        return cls(int(data["reference_rows"]), int(data["current_rows"]),
                   tuple(ColumnDrift.from_dict(c) for c in data["columns"]),
                   DriftOptions.from_dict(data["options"]),
                   tuple(data.get("only_in_reference", ())),
                   tuple(data.get("only_in_current", ())),
                   tuple(Distribution.from_dict(d) for d in data.get("distributions", ())),
                   tuple(data.get("labels", ("reference", "current"))),
                   identity_from(data.get("inputs")))


def _listed(values: tuple[str, ...], count: int, limit: int = 10) -> str:
    shown = values[:limit]
    more = count - len(shown)
    return ", ".join(shown) + (f" … (+{more})" if more > 0 else "")


def drift_summary(result: DriftResult) -> dict:
    """A headline for other pages and the audit: share drifted, which, worst, new values."""
    worst = result.worst
    return jsonable({
        "columns_analysed": len(result.columns),
        "drifted_count": len(result.drifted_columns),
        "drifted_share": result.drifted_share,
        "dataset_drift": result.dataset_drift,
        "drifted_columns": result.drifted_columns,
        "worst_column": worst.name if worst else None,
        "worst_statistic": worst.statistic if worst else None,
        "worst_method": worst.method if worst else None,
        "missing_changed": result.missing_changed,
        "new_categories": {c.name: list(c.new_categories[:10]) for c in result.columns
                           if c.new_categories},
    })
