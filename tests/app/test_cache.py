"""The dashboard's one cache (aidebt_app/cache.py): results keyed on the data files' identity,
data opened once per selection and shared by threads through cursors, a TTL for inputs with no
file to stamp, and no page with a cache of its own."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import streamlit as st

from aidebt_app import cache
from aidebt_core import analyses
from aidebt_core.data import ROWS
from aidebt_core.drift.options import DriftOptions
from aidebt_core.errors import AidebtError
from aidebt_core.roles import ROLES_FILE
from aidebt_core.selection import FILES, SPLIT, Selection

ROOT = Path(__file__).resolve().parents[2]
CALLS: list[str] = []  # what the cached functions below computed (a cache hit adds nothing)


@pytest.fixture(autouse=True)
def _cold():
    st.cache_data.clear()
    st.cache_resource.clear()
    CALLS.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def _write(path: Path, seed: int, rows: int, shift: float = 0.0) -> pd.DataFrame:
    """Loans with other names and types than the sample: integer year, 0/1 `repaid`."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"year": rng.integers(2019, 2024, rows),
                          "loan_amount": rng.gamma(2.0, 900.0, rows) + shift,
                          "repaid": rng.integers(0, 2, rows)})
    frame.to_parquet(path)
    return frame


def _files(folder: Path) -> Selection:
    return Selection(workspace=str(folder), mode=FILES, reference="before.parquet",
                     current="after.parquet")


def mean_amount(data, column: str) -> float:
    CALLS.append(column)
    return data.current.execute(f'SELECT avg("{column}") FROM {ROWS}').fetchone()[0]


def row_total(data) -> int:
    CALLS.append("rows")
    return data.current.execute(f"SELECT count(*) FROM {ROWS}").fetchone()[0]


def test_a_rewritten_file_gives_the_new_number(tmp_path):
    _write(tmp_path / "before.parquet", 1, 300)
    first = _write(tmp_path / "after.parquet", 2, 400)
    selection = _files(tmp_path)
    value = cache.run_on_data(mean_amount, selection, "loan_amount")
    assert value == pytest.approx(first["loan_amount"].mean(), rel=1e-12)
    assert cache.run_on_data(mean_amount, selection, "loan_amount") == value
    assert CALLS == ["loan_amount"]                     # the second call was a cache hit
    second = _write(tmp_path / "after.parquet", 3, 400, shift=5000.0)  # same rows, new values
    fresh = cache.run_on_data(mean_amount, selection, "loan_amount")
    assert fresh == pytest.approx(second["loan_amount"].mean(), rel=1e-12)
    assert fresh > value + 4000 and CALLS == ["loan_amount", "loan_amount"]


def test_the_data_page_shows_a_rewritten_file(run_page, tmp_path):
    _write(tmp_path / "before.parquet", 1, 300)
    _write(tmp_path / "after.parquet", 2, 400)
    at = run_page("pages/data.py", selection=_files(tmp_path))
    assert {m.label: m.value for m in at.metric}["Current rows"] == "400"
    _write(tmp_path / "after.parquet", 4, 1234)
    at.run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Current rows"] == "1,234"


def test_fingerprint_covers_files_roles_file_and_fields(tmp_path):
    _write(tmp_path / "part-1.parquet", 1, 50)
    split = Selection(workspace=str(tmp_path), mode=SPLIT, source="part-*.parquet",
                      split_column="year", split_at="2021-01-01")
    before = split.fingerprint()
    assert split.fingerprint() == before                           # nothing changed
    assert {p.name for p in split.input_files()} == {"part-1.parquet", ROLES_FILE}
    (tmp_path / ROLES_FILE).write_text("datasets: {}\n")            # a roles file appears
    with_roles = split.fingerprint()
    assert with_roles != before
    _write(tmp_path / "part-2.parquet", 2, 50)                      # the glob gains a file
    assert split.fingerprint() != with_roles
    assert split.with_roles({"loan_amount": "ignore"}).fingerprint() != split.fingerprint()
    with pytest.raises(AidebtError, match="no_such.parquet"):
        Selection(workspace=str(tmp_path), source="no_such.parquet").fingerprint()


def test_data_is_opened_once_per_fingerprint(tmp_path, monkeypatch):
    _write(tmp_path / "before.parquet", 1, 300)
    frame = _write(tmp_path / "after.parquet", 2, 400)
    opens = []
    real_open = Selection.open
    monkeypatch.setattr(Selection, "open", lambda self: opens.append(1) or real_open(self))
    selection = _files(tmp_path)
    assert cache.run_on_data(row_total, selection) == 400
    assert cache.run_on_data(mean_amount, selection, "repaid") == pytest.approx(
        frame["repaid"].mean())
    assert len(opens) == 1
    _write(tmp_path / "before.parquet", 5, 300)     # another reference file: opened again
    assert cache.run_on_data(row_total, selection) == 400
    assert len(opens) == 2


def test_threads_each_get_a_cursor_that_keeps_the_sandbox(tmp_path):
    """Sessions run in threads: many at once on one opened selection, each right."""
    _write(tmp_path / "before.parquet", 1, 300)
    frame = _write(tmp_path / "after.parquet", 2, 5000)
    con = duckdb.connect(str(tmp_path / "loans.duckdb"))    # a TEMP view, re-made per cursor
    con.execute("CREATE TABLE loans AS SELECT * FROM range(777) t(id)")
    con.close()
    selection = _files(tmp_path)
    tables = Selection(workspace=str(tmp_path), mode=FILES, reference="loans.duckdb::loans",
                       current="loans.duckdb::loans")
    results: dict[int, object] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            with cache.opened(tables if i % 2 else selection) as data:
                settings = data.con.execute(
                    "SELECT current_setting('enable_external_access'), "
                    "current_setting('lock_configuration'), "
                    "current_setting('allowed_directories')").fetchone()
                total = data.current.execute(
                    f"SELECT count(*), sum({'id' if i % 2 else 'loan_amount'}) FROM {ROWS}"
                ).fetchone()
                with pytest.raises(duckdb.PermissionException):
                    data.con.execute("SELECT * FROM read_csv('/etc/passwd')").fetchall()
                with pytest.raises(duckdb.InvalidInputException, match="locked"):
                    data.con.execute("SET enable_external_access = true")
            results[i] = (settings, total)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    folder = str(tmp_path.resolve()) + "/"
    for i, (settings, total) in results.items():
        assert settings[0] is False and settings[1] is True and folder in settings[2]
        if i % 2:
            assert total == (777, sum(range(777)))
        else:
            assert total[0] == 5000 and total[1] == pytest.approx(frame["loan_amount"].sum())
    assert len(results) == 12


def stamp(label: str) -> str:
    CALLS.append(label)
    return f"{label}-{len(CALLS)}"


def test_run_recent_recomputes_after_the_ttl(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(cache.time, "time", lambda: now[0])
    assert cache.run_recent(stamp, "runs", ttl=60) == "runs-1"
    now[0] += 59
    assert cache.run_recent(stamp, "runs", ttl=60) == "runs-1"     # still fresh
    assert cache.run_recent(stamp, "other", ttl=60) == "other-2"   # other options, own entry
    now[0] += 2
    assert cache.run_recent(stamp, "runs", ttl=60) == "runs-3"     # 61 s old: recomputed
    assert cache.run_recent(stamp, "runs", ttl=60) == "runs-3"


def test_functions_are_told_apart_and_closures_refused(tmp_path):
    def local(data):
        return 1

    captured = 5

    def closure(data):
        return captured

    assert cache.function_id(mean_amount) != cache.function_id(row_total)
    assert cache.function_id(local) != cache.function_id(mean_amount)
    with pytest.raises(TypeError, match="captures"):
        cache.function_id(closure)
    with pytest.raises(TypeError, match="plain Python function"):
        cache.function_id(len)


def test_no_page_defines_a_cache_of_its_own():
    """Every cached call goes through aidebt_app/cache.py (one key scheme, one place)."""
    own = re.compile(r"st\.cache_(data|resource)|selection\.open\(\)")
    offenders = [f"{path.relative_to(ROOT)}:{n}"
                 for path in [*sorted((ROOT / "pages").glob("*.py")), ROOT / "app.py",
                              *sorted((ROOT / "aidebt_app").glob("*.py"))]
                 if path.name != "cache.py"
                 for n, line in enumerate(path.read_text().splitlines(), 1) if own.search(line)]
    assert offenders == []


@dataclass(frozen=True)
class _ToyOptions:
    column: str = "loan_amount"


def _toy_run(data, options: _ToyOptions) -> float:
    CALLS.append(f"toy:{options.column}")
    return data.current.execute(f'SELECT max("{options.column}") FROM {ROWS}').fetchone()[0]


@pytest.fixture
def toy_analysis():
    analyses.register(analyses.Analysis("toy_cache_max", "Toy maximum", _ToyOptions, _toy_run,
                                        None, need_current=False))
    yield "toy_cache_max"
    analyses.unregister("toy_cache_max")


def test_run_analysis_runs_the_registry_entry_once_per_options_and_file(tmp_path, toy_analysis):
    _write(tmp_path / "before.parquet", 4, 200)
    first = _write(tmp_path / "after.parquet", 5, 300)
    selection = _files(tmp_path)
    assert cache.run_analysis(toy_analysis, selection) == first["loan_amount"].max()
    assert cache.run_analysis(toy_analysis, selection, _ToyOptions()) == first["loan_amount"].max()
    assert cache.run_analysis(toy_analysis, selection, _ToyOptions("year")) == first["year"].max()
    # None and the default options are distinct keys; equal options are a cache hit.
    assert CALLS == ["toy:loan_amount", "toy:loan_amount", "toy:year"]
    second = _write(tmp_path / "after.parquet", 6, 300, shift=9000.0)
    assert cache.run_analysis(toy_analysis, selection, _ToyOptions()) == \
        second["loan_amount"].max()
    assert CALLS[-1] == "toy:loan_amount" and len(CALLS) == 4


def test_run_analysis_gives_what_the_entry_gives_on_freshly_opened_data(tmp_path):
    """The page's drift is the CLI's: the same entry on the same data, the same options."""
    _write(tmp_path / "before.parquet", 7, 500)
    _write(tmp_path / "after.parquet", 8, 500, shift=800.0)
    selection = _files(tmp_path)
    options = DriftOptions(method="ks", drift_share=0.3)
    cached = cache.run_analysis("drift", selection, options)
    with selection.open() as data:
        direct = analyses.get("drift").run_on(data, options)
    assert cached.to_dict() == direct.to_dict()
    assert "loan_amount" in cached.drifted_columns and cached.options == options


def test_run_analysis_on_a_slices_rows_keys_and_filters_both_sides(tmp_path, toy_analysis):
    """`rows=` (a `?slice=` spec) filters each side before the entry runs, and is its own key."""
    _write(tmp_path / "before.parquet", 9, 400)
    after = _write(tmp_path / "after.parquet", 10, 400)
    selection = _files(tmp_path)
    whole = cache.run_analysis(toy_analysis, selection, _ToyOptions())
    sliced = cache.run_analysis(toy_analysis, selection, _ToyOptions(), rows=(("year", "= 2021"),))
    assert whole == after["loan_amount"].max()
    assert sliced == after.loc[after["year"] == 2021, "loan_amount"].max() != whole
    assert CALLS == ["toy:loan_amount", "toy:loan_amount"]
    assert cache.run_analysis(toy_analysis, selection, _ToyOptions(),
                              rows=(("year", "= 2021"),)) == sliced and len(CALLS) == 2
