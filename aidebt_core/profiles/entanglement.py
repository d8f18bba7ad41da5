"""Entanglement from profiles: the association matrix read from the "cross" section.

`profile_matrices(reference, current, kinds, method, top_k)` is what `entanglement.analyse`
asks first: when `profiles.route.decide` says profiles (a saved profile, a Spark source, or a
table above the row switch), each side's matrix comes from its cross section — a saved
profile's own, or one computed now in SQL where the table lives — else None (exact path).

The numbers are those of the row path (`entanglement.matrix.compute_matrix` on all rows,
no sample): the same pairwise-complete sums go through the same formulas
(`measures.pearson_from_sums`, `eta_from_sums`, `cramers_v`, `theils_u`) and the same
assembly (`matrix.assemble_matrix`). Differences, stated in the notes: a saved profile's
categorical levels are those it was made with (the reference's, with `--like`), so values
outside them count as one "(other)" level; Spearman's ρ is refused (it needs ranks).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import SimpleNamespace

import numpy as np

from aidebt_core.entanglement import encode as _encode
from aidebt_core.entanglement import measures
from aidebt_core.entanglement.encode import CATEGORICAL, NUMERIC, OTHER
from aidebt_core.entanglement.matrix import (
    CRAMERS_V,
    ETA,
    METHODS,
    PEARSON,
    SPEARMAN,
    THEILS_U,
    AssociationMatrix,
    assemble_matrix,
)
from aidebt_core.entanglement.result import EntanglementResult
from aidebt_core.errors import AidebtError, OptionError, SchemaError
from aidebt_core.profiles import cross
from aidebt_core.profiles.source import ProfileTable, reads_rows

SPEARMAN_REFUSED = ("Spearman's ρ needs each row's rank, which a profile does not keep "
                    "(it holds sums of products: Pearson r is exact); use --method auto or "
                    "pearson, or give the rows with --exact below the profile switch.")


def profile_matrices(reference, current, kinds: Mapping[str, str], method: str = "auto",
                     top_k: int = cross.TOP_K
                     ) -> tuple[AssociationMatrix, AssociationMatrix | None] | None:
    """(reference matrix, current matrix or None) from cross sections when the route says
    profiles, else None."""
    from aidebt_core.profiles.route import decide

    if not decide(reference, current).use:
        return None
    if method not in METHODS:
        raise OptionError(f"Unknown method '{method}'. Methods: {', '.join(METHODS)}.")
    if method == SPEARMAN:
        raise OptionError(SPEARMAN_REFUSED)
    out = []
    for table in (reference, current):
        if table is None:
            out.append(None)
            continue
        section, config = side_section(table, kinds, top_k)
        matrix = matrix_from_section(section, config, kinds, method, _label(table))
        if config.top_k != top_k:   # a saved profile's levels were cut when it was made
            matrix = replace(matrix, notes=(*matrix.notes, (
                f"{table.label} keeps the {config.top_k} categories a column had when it was "
                f"profiled, not the {top_k} asked for.")))
        out.append(matrix)
    return out[0], out[1]


def _label(table) -> str:
    from aidebt_core.profiles.route import source_label

    return source_label(table)


def side_section(table, kinds: Mapping[str, str], top_k: int = cross.TOP_K
                 ) -> tuple[cross.Section, cross.Config]:
    """A side's whole cross section and its config: a saved profile's own (all chunks
    merged), else computed now over the table with a config made from the table itself
    (levels and shifts of its own rows, as the row path encodes each side)."""
    if isinstance(table, ProfileTable):
        config = table.profile.plan.section(cross.NAME)
        section = table.profile.overall().section(cross.NAME) if config else None
        if section is None:
            raise AidebtError(
                f"{table.label} was saved without the cross-column counts entanglement needs; "
                f"profile the data again with `aidebt profile SOURCE --out {table.label} "
                "--for entanglement`.")
        return section, config
    ctx = cross.sql_context(table)
    if ctx is None:
        raise AidebtError(f"{table.label}: this Spark engine offers no SQL context for "
                          "profile sections, so entanglement cannot run on it yet.")
    config = cross.make_config(ctx, [(n, k) for n, k in kinds.items()], top_k)
    sections = list(cross.compute(ctx, None, config).values())
    if not sections:   # no rows at all
        return cross.Section(), config
    whole = sections[0]
    for other in sections[1:]:
        whole = whole.merge(other)
    return whole, config


def matrix_from_section(section: cross.Section, config: cross.Config,
                        kinds: Mapping[str, str], method: str = "auto", label: str = ""
                        ) -> AssociationMatrix:
    """The association matrix of `kinds`' columns (those the section counts) from one
    side's cross section, equal to `compute_matrix` on that side's rows."""
    if method == SPEARMAN:
        raise OptionError(SPEARMAN_REFUSED)
    side = SimpleNamespace(label=label)
    notes: list[str] = []
    missing = [n for n in kinds if n not in config.numeric + config.categorical]
    if missing:
        notes.append(f"{label}: {', '.join(map(repr, missing))} not in the profile's "
                     "cross-column counts; left out of the matrix.")
    constant: set[str] = set()
    categorical = []          # (name, index in the config)
    for name in (n for n in kinds if n in config.categorical):
        c = config.categorical.index(name)
        counts = section.level_counts[c] if section.level_counts else ()
        used = [code for code, n in enumerate(counts) if n]
        if not used:
            notes.append(_encode._all_missing(name, side))
            continue
        _level_notes(name, c, config, counts, notes)
        if len(used) == 1:
            constant.add(name)
            notes.append(_encode._single_value(name, _level_label(config, c, used[0]), side))
        categorical.append((name, c))
    numeric = []
    for name in (n for n in kinds if n in config.numeric):
        i = config.numeric.index(name)
        if not section.count or section.count[i] == 0:
            notes.append(_encode._all_missing(name, side))
            continue
        if section.minimum[i] == section.maximum[i]:
            constant.add(name)
            notes.append(_encode._single_value(name, f"{section.minimum[i]:g}", side))
        numeric.append((name, i))
    for name in kinds:
        stored = NUMERIC if name in config.numeric else CATEGORICAL
        if name not in missing and kinds[name] != stored:
            notes.append(f"'{name}' is read as {stored}, as the profile counted it "
                         f"(asked: {kinds[name]}).")
    columns = [n for n, _ in numeric] + [n for n, _ in categorical]
    if len(columns) < 2:
        left = f" (only '{columns[0]}' is usable)" if columns else ""
        raise SchemaError(f"Entanglement needs at least two feature columns with data{left}. "
                          "Add columns or check the roles.")
    p, nn = len(columns), len(numeric)
    values = np.full((p, p), np.nan)
    methods = np.full((p, p), "", dtype=object)
    counts = np.zeros((p, p), dtype=np.int64)
    idx = [i for _, i in numeric]
    if nn:
        r, n = measures.pearson_from_sums(*_pair_sums(section, config, idx))
        values[:nn, :nn], counts[:nn, :nn], methods[:nn, :nn] = r, n, PEARSON
    for j, (_, c) in enumerate(categorical):
        if not nn:
            break
        eta, n = measures.eta_from_sums(*_group_sums(section, config, c, idx))
        values[:nn, nn + j], counts[:nn, nn + j], methods[:nn, nn + j] = eta, n, ETA
        values[nn + j, :nn], counts[nn + j, :nn], methods[nn + j, :nn] = eta, n, ETA
    cat_method = THEILS_U if method == THEILS_U else CRAMERS_V
    for a, (_, ca) in enumerate(categorical):
        i = nn + a
        counts[i, i] = sum(section.level_counts[ca])
        methods[i, i] = cat_method
        for b in range(a + 1, len(categorical)):
            j, table = nn + b, _table(section, config, ca, categorical[b][1])
            counts[i, j] = counts[j, i] = int(table.sum())
            methods[i, j] = methods[j, i] = cat_method
            if cat_method == THEILS_U:
                values[i, j], values[j, i] = measures.theils_u(table), measures.theils_u(table.T)
            else:
                values[i, j] = values[j, i] = measures.cramers_v(table)
    return assemble_matrix(columns, [NUMERIC] * nn + [CATEGORICAL] * len(categorical),
                           values, methods, counts, frozenset(constant), method, section.rows,
                           section.rows, tuple(notes))


def _level_label(config: cross.Config, c: int, code: int) -> str:
    levels = config.levels[c]
    return levels[code] if code < len(levels) else OTHER


def _level_notes(name: str, c: int, config: cross.Config, counts, notes: list[str]) -> None:
    """What was folded, as the row path says it; and rows outside levels not folded on the
    reference (new values of a side profiled with another side's levels)."""
    present = sum(counts)
    other = counts[-1]
    if config.folded(c):
        distinct = config.distinct[c]
        share = (present - other) / present
        hint = (" It looks like an identifier (almost every value is distinct); consider "
                "setting its role to 'id'.") if distinct >= 0.5 * present else ""
        notes.append(f"'{name}' has {distinct:,} distinct values; the {config.top_k - 1} most "
                     f"frequent ({share:.0%} of rows) are kept and the rest folded into "
                     f"'{OTHER}'.{hint}")
    elif other:
        notes.append(f"'{name}': {other:,} rows hold values outside the "
                     f"{len(config.levels[c])} levels the profile was made with; they count "
                     f"as one level '{OTHER}'.")


def _pair_sums(section: cross.Section, config: cross.Config, idx: list[int]):
    """(n, s, q, cross) p × p as `measures.Moments.pair_sums` gives them, for columns idx."""
    p = len(config.numeric)
    n = np.diag(np.asarray(section.count, dtype=np.float64))
    s = np.diag(np.asarray(section.sums, dtype=np.float64))
    q = np.diag(np.asarray(section.squares, dtype=np.float64))
    products = q.copy()
    for k, (i, j) in enumerate(cross.pairs_of(p)):
        n[i, j] = n[j, i] = section.pair_rows[k]
        s[i, j], s[j, i] = section.pair_sums_a[k], section.pair_sums_b[k]
        q[i, j], q[j, i] = section.pair_squares_a[k], section.pair_squares_b[k]
        products[i, j] = products[j, i] = section.pair_products[k]
    grid = np.ix_(idx, idx)
    return n[grid], s[grid], q[grid], products[grid]


def _group_sums(section: cross.Section, config: cross.Config, c: int, idx: list[int]):
    """(counts, sums, squares), codes × numeric columns idx, for categorical column c."""
    p = len(config.numeric)

    def block(values):
        return np.asarray(values, dtype=np.float64).reshape(-1, p)[:, idx]

    return (block(section.group_counts[c]), block(section.group_sums[c]),
            block(section.group_squares[c]))


def _table(section: cross.Section, config: cross.Config, ca: int, cb: int) -> np.ndarray:
    """The dense contingency table of categorical columns ca (rows) × cb (columns)."""
    m = len(config.categorical)
    lo, hi = min(ca, cb), max(ca, cb)
    table = np.zeros((len(config.levels[lo]) + 1, len(config.levels[hi]) + 1))
    for a, b, n in section.tables[cross.pair_index(lo, hi, m)]:
        table[a, b] = n
    table = table if ca < cb else table.T
    # Levels without rows in this pair change no measure; dropped, so no 0/0 is evaluated.
    return table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]


def pair_crosstab(periods: Mapping[str, ProfileTable], a: str, b: str,
                  kinds: Mapping[str, str]):
    """The drill-down of a categorical pair from saved profiles: per period the counts of
    the pair's levels as `entanglement.drilldown.pair_view` gives them from rows (the
    `DRILL_LEVELS` most frequent of each side, the rest folded), read from the contingency
    counts. None when a column is numeric (a scatter or box plot needs rows)."""
    import pandas as pd

    from aidebt_core.entanglement.drilldown import DRILL_LEVELS, PairView

    if kinds.get(a) != CATEGORICAL or kinds.get(b) != CATEGORICAL or a == b:
        return None
    frames = []
    for period, table in periods.items():
        section, config = side_section(table, kinds)
        if a not in config.categorical or b not in config.categorical:
            raise SchemaError(f"'{a}' or '{b}' is not in the cross-column counts of "
                              f"{table.label}.")
        ca, cb = config.categorical.index(a), config.categorical.index(b)
        labels_a = _drill_labels(section, config, ca, DRILL_LEVELS)
        labels_b = _drill_labels(section, config, cb, DRILL_LEVELS)
        if not labels_a or not labels_b:
            raise SchemaError(f"'{a}' or '{b}' is entirely missing in {table.label}.")
        m = len(config.categorical)
        lo, hi = min(ca, cb), max(ca, cb)
        counts: dict[tuple[str, str], int] = {}
        for x, y, n in section.tables[cross.pair_index(lo, hi, m)]:
            code_a, code_b = (x, y) if ca < cb else (y, x)
            key = (labels_a[1][code_a], labels_b[1][code_b])
            counts[key] = counts.get(key, 0) + n
        cells = [(la, lb) for la in labels_a[0] for lb in labels_b[0]]
        frames.append(pd.DataFrame({"period": period, a: [c[0] for c in cells],
                                    b: [c[1] for c in cells],
                                    "count": [counts.get(c, 0) for c in cells]}))
    return PairView(a, b, CATEGORICAL, CATEGORICAL, pd.concat(frames, ignore_index=True))


def _drill_labels(section: cross.Section, config: cross.Config, c: int, top_k: int):
    """(labels in order, label of each code): the side's levels with rows, most frequent
    first (count descending, then value), cut as the encoder cuts at `top_k`."""
    counts = section.level_counts[c]
    levels = config.levels[c]
    present = sorted(((-n, v) for v, n in zip(levels, counts, strict=False) if n),
                     key=lambda t: t)
    ranked = [v for _, v in present]
    other = counts[-1]
    if not config.folded(c) and len(ranked) + (1 if other else 0) <= top_k:
        labels = ranked + ([OTHER] if other else [])
    else:
        labels = ranked[:top_k - 1] + [OTHER]
    kept = set(labels)
    by_code = {code: (v if v in kept else OTHER) for code, v in enumerate(levels)}
    by_code[len(levels)] = OTHER
    return labels, by_code


def analyse_routed(reference, current, schema, **options) -> EntanglementResult:
    """`entanglement.analyse` with the matrices from profiles' cross sections when the route
    says profiles (a saved profile, a Spark source, a table above the row switch)."""
    from aidebt_core.entanglement import analyse, feature_kinds

    kinds = feature_kinds(schema, options.get("columns"), options.get("exclude", ()))
    matrices = profile_matrices(reference, current, kinds, options.get("method", "auto"),
                                options.get("top_k", cross.TOP_K))
    return analyse(reference, current, schema, matrices=matrices,
                   rows_readable=reads_rows(reference), **options)


def entanglement_run(data, options) -> EntanglementResult:
    """The registered entanglement analysis (aidebt_core/analyses.py)."""
    from aidebt_core.entanglement.entry import analyse_options

    return analyse_routed(data.reference, data.current, data.schema,
                          **analyse_options(data, options))


__all__ = ["SPEARMAN_REFUSED", "analyse_routed", "entanglement_run", "matrix_from_section",
           "pair_crosstab", "profile_matrices", "side_section"]
