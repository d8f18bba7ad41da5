"""The Drift page on two saved profiles of generated bookings: drift over time from the
profiles (binned columns named as approximate), multivariate drift and an unsupported
chunking each said in one line instead of an error."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest
from test_profile_over_time import bookings

from aidebt_core.cli import main
from aidebt_core.selection import FILES, Selection

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "drift.py")


def test_drift_page_runs_over_time_from_saved_profiles(tmp_path):
    bookings(6_000, 3, "2024-01-17", 150).to_parquet(tmp_path / "ref.parquet")
    bookings(5_000, 4, "2024-06-20", 145).to_parquet(tmp_path / "cur.parquet")
    assert main(["profile", str(tmp_path / "ref.parquet"), "--timestamp", "booked_at",
                 "--chunk", "month", "--out", str(tmp_path / "ref.aidebt")]) == 0
    assert main(["profile", str(tmp_path / "cur.parquet"), "--like",
                 str(tmp_path / "ref.aidebt"), "--out", str(tmp_path / "cur.aidebt")]) == 0
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["aidebt_selection"] = Selection(
        workspace=str(tmp_path), mode=FILES, reference="ref.aidebt", current="cur.aidebt")
    at.run()
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    assert at.subheader[0].value.endswith("(since 2024-06)")
    assert "Drift over time" in [s.value for s in at.subheader]
    captions = [c.value for c in at.caption]
    assert any(c.startswith("From binned profiles, approximate") and "amount" in c
               for c in captions)
    assert [i.value.replace("\\", "") for i in at.info] == [   # markdown escapes dropped
        "Multivariate drift not computed: ref.aidebt was saved without the cross-column "
        "counts multivariate drift needs; profile it again with `aidebt profile SOURCE "
        "--timestamp T --chunk PERIOD --for entanglement`."]
    table = at.dataframe[0].value.set_index("column")
    assert table.loc["amount", "recent_alert"] and not table.loc["ratio", "recent_alert"]
    at.selectbox(key="drift_chunk").set_value("week").run()
    assert not at.exception and not at.error
    assert [i.value for i in at.info] == [
        "Not computed: ref.aidebt is profiled by month; drift over time by week needs a "
        "profile made with --timestamp T --chunk week."]
