"""The workspace listing: one bad file never hides the others, links stay inside, bounded."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from aidebt_core import sources as sources_module
from aidebt_core.data import row_count
from aidebt_core.errors import SandboxError
from aidebt_core.selection import FILES, SPLIT, default_selection, median_split
from aidebt_core.sources import describe_sources, scan_sources
from aidebt_core.workspace import Workspace, refuse_system_root


def _frame(n=10):
    return pd.DataFrame({"a": np.arange(n), "b": [f"v{i}" for i in range(n)]})


def test_corrupt_and_empty_files_are_listed_with_a_reason_beside_the_good_ones(tmp_path):
    _frame().to_parquet(tmp_path / "good.parquet")
    _frame().to_csv(tmp_path / "good.csv", index=False)
    (tmp_path / "broken.duckdb").write_bytes(b"this is not a duckdb file" * 100)
    (tmp_path / "fake.parquet").write_bytes(b"not parquet at all")
    (tmp_path / "empty.csv").write_bytes(b"")
    con = duckdb.connect(str(tmp_path / "store.duckdb"))
    con.execute("CREATE TABLE t AS SELECT 1 AS a")
    con.close()
    scan = scan_sources(Workspace.at(tmp_path))
    assert scan.sources == ("good.csv", "good.parquet", "store.duckdb::t")
    reasons = dict(scan.unreadable)
    assert set(reasons) == {"broken.duckdb", "fake.parquet", "empty.csv"}
    assert "PAR1" in reasons["fake.parquet"] and "0 bytes" in reasons["empty.csv"]
    assert reasons["broken.duckdb"]
    rows = {r["source"]: r for r in describe_sources(Workspace.at(tmp_path))}
    assert rows["broken.duckdb"]["problem"] and not rows["good.csv"]["problem"]
    assert rows["good.parquet"]["size_mb"] == pytest.approx(
        (tmp_path / "good.parquet").stat().st_size / 1e6)


def test_symlinks_out_of_the_root_and_hidden_folders_are_skipped(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    _frame().to_csv(outside / "secret.csv", index=False)
    _frame().to_csv(root / "mine.csv", index=False)
    (root / "link.csv").symlink_to(outside / "secret.csv")
    (root / "linked_dir").symlink_to(outside, target_is_directory=True)
    (root / "inside_link.csv").symlink_to(root / "mine.csv")
    for hidden in (".aidebt", ".venv", ".git", "mlruns", "node_modules"):
        (root / hidden).mkdir()
        _frame().to_csv(root / hidden / "x.csv", index=False)
    (root / ".hidden.csv").write_text("a\n1\n")
    (root / "sub").mkdir()
    _frame().to_csv(root / "sub" / "deep.csv", index=False)
    assert scan_sources(Workspace.at(root)).sources == ("inside_link.csv", "mine.csv",
                                                        "sub/deep.csv")


def test_the_scan_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(sources_module, "MAX_SCAN_ENTRIES", 5)
    for i in range(12):
        (tmp_path / f"f{i:02d}.csv").write_text("a\n1\n")
    scan = scan_sources(Workspace.at(tmp_path))
    assert scan.truncated and len(scan.sources) == 5
    monkeypatch.setattr(sources_module, "MAX_SCAN_ENTRIES", 100)
    monkeypatch.setattr(sources_module, "MAX_SCAN_DEPTH", 2)
    deep = tmp_path / "d1" / "d2" / "d3"
    deep.mkdir(parents=True)
    (deep / "far.csv").write_text("a\n1\n")
    (tmp_path / "d1" / "near.csv").write_text("a\n1\n")
    scan = scan_sources(Workspace.at(tmp_path))
    assert "d1/near.csv" in scan.sources and "d1/d2/d3/far.csv" not in scan.sources
    assert scan.truncated


def test_system_roots_are_refused_but_data_folders_are_not(tmp_path):
    for system in ("/", "/etc", "/etc/ssh", "/proc/1", "/usr/share", "/root", "/tmp"):
        with pytest.raises(SandboxError, match="system or home folder"):
            refuse_system_root(system)
    assert refuse_system_root(tmp_path) == tmp_path.resolve()
    (tmp_path / "to_etc").symlink_to("/etc")
    with pytest.raises(SandboxError):
        refuse_system_root(tmp_path / "to_etc")  # a link to /etc is /etc


# ---------------------------------------------------------------- defaults from the folder

def test_default_is_the_first_data_set_split_at_its_median_time(tmp_path):
    times = pd.date_range("2024-03-01", periods=101, freq="37min")
    pd.DataFrame({"when": times, "x": np.arange(101.0)}).to_parquet(tmp_path / "b.parquet")
    _frame().to_csv(tmp_path / "c.csv", index=False)
    chosen = default_selection(tmp_path, "sqlite:///x.db")
    assert (chosen.mode, chosen.source, chosen.split_column) == (SPLIT, "b.parquet", "when")
    median = pd.Series(times).quantile(0.5, interpolation="lower")
    assert pd.Timestamp(chosen.split_at) == median.floor("min")
    assert "applications" not in str(chosen) and "applied_at" not in str(chosen)
    with chosen.open() as data:
        assert row_count(data.reference) == 50 and row_count(data.current) == 51


def test_two_data_sets_without_time_are_not_the_same_file(tmp_path):
    _frame().to_csv(tmp_path / "a.csv", index=False)
    _frame().to_csv(tmp_path / "b.csv", index=False)
    chosen = default_selection(tmp_path)
    assert (chosen.mode, chosen.reference, chosen.current) == (FILES, "a.csv", "b.csv")


def test_empty_folder_opens_on_nothing(tmp_path):
    chosen = default_selection(tmp_path)
    assert chosen.sources == ("",) and chosen.workspace == str(tmp_path)


def test_roles_file_default_wins(tmp_path):
    times = pd.date_range("2024-01-01", periods=10, freq="D")
    pd.DataFrame({"t": times, "x": range(10)}).to_parquet(tmp_path / "a.parquet")
    pd.DataFrame({"stamp": times, "y": range(10)}).to_parquet(tmp_path / "z.parquet")
    (tmp_path / "aidebt.yaml").write_text(
        "default: z.parquet\ndatasets:\n  z.parquet:\n    timestamp: stamp\n"
        "    reference_end: 2024-01-04T06:00\n")
    chosen = default_selection(tmp_path)
    assert (chosen.source, chosen.split_column) == ("z.parquet", "stamp")
    assert pd.Timestamp(chosen.split_at) == pd.Timestamp("2024-01-04T06:00")


def test_median_split_with_ties_keeps_rows_on_both_sides(tmp_path):
    times = [pd.Timestamp("2024-01-01")] * 8 + [pd.Timestamp("2024-01-02 10:30")] * 2
    pd.DataFrame({"t": times}).to_parquet(tmp_path / "a.parquet")
    chosen = default_selection(tmp_path)
    assert chosen.split_at == "2024-01-02T10:30"
    pd.DataFrame({"t": [pd.Timestamp("2024-01-01")] * 3}).to_parquet(tmp_path / "a.parquet")
    ws = Workspace.at(tmp_path)
    from aidebt_core.data import connect, open_table

    con = connect(ws)
    assert median_split(open_table(con, ws, "a.parquet"), "t") is None
    con.close()


def test_the_split_column_is_the_time_axis_not_a_feature(tmp_path):
    """An integer year split on would otherwise 'drift' by construction."""
    years = np.repeat([2018, 2019, 2020, 2021], 25)
    pd.DataFrame({"year": years, "weekly_hours": np.linspace(30, 40, 100)}).to_parquet(
        tmp_path / "survey.parquet")
    chosen = default_selection(tmp_path)
    assert (chosen.split_column, chosen.split_at) == ("year", "2019-01-01")
    with chosen.open() as data:
        assert data.schema.features == ["weekly_hours"]
        assert data.schema["year"].role == "timestamp"
        assert row_count(data.reference) == 25 and row_count(data.current) == 75


def test_a_file_named_like_a_glob_is_listed_as_unreadable(tmp_path):
    """Readers take `sales[2024].csv` as a pattern (it would read sales2.csv instead)."""
    pd.DataFrame({"a": [1, 2, 3]}).to_csv(tmp_path / "sales[2024].csv", index=False)
    pd.DataFrame({"a": [9]}).to_csv(tmp_path / "sales2.csv", index=False)
    scan = scan_sources(Workspace.at(tmp_path))
    assert scan.sources == ("sales2.csv",)
    assert [name for name, _ in scan.unreadable] == ["sales[2024].csv"]
    assert "rename" in scan.unreadable[0][1]
