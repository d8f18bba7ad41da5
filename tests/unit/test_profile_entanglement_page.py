"""The Entanglement page on two saved profiles with the cross section: the matrices, groups
and changes from the profiles; what needs rows (importance, the drill-down) said in one line
each instead of an error."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from aidebt_core.selection import FILES, Selection
from tests.unit.test_profile_cross import cross_frame
from tests.unit.test_profile_entanglement import saved_profile

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "entanglement.py")


def test_entanglement_page_runs_from_saved_profiles(tmp_path):
    saved_profile(tmp_path, cross_frame(61, 2000), "ref")
    saved_profile(tmp_path, cross_frame(62, 2000, broken=True), "cur")
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["aidebt_selection"] = Selection(
        workspace=str(tmp_path), mode=FILES, reference="ref.aidebt", current="cur.aidebt")
    at.run()
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    assert any(c.value.startswith("Reference: 2,000 of 2,000 rows · current: 2,000")
               for c in at.caption)
    infos = [i.value.replace("\\", "") for i in at.info]
    assert any("ranks features by their strongest association alone" in i for i in infos)
    assert any(i.startswith("This drill-down plots rows") for i in infos)
    # a categorical pair is drawn from the profiles' contingency counts
    pair = next(o for o in at.selectbox(key="ent_pair").options
                if set(o.split(" × ")) <= {"region", "branch", "verified", "it's `q`"})
    at.selectbox(key="ent_pair").set_value(pair).run()
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    assert not any(i.value.startswith("This drill-down") for i in at.info)
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Changed pairs"]) >= 1          # twin no longer follows year
    assert int(metrics["Redundant groups"]) >= 1       # twin ~ year in the reference
