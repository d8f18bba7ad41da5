"""Entanglement (CACE): which features move together, which are redundant, which relations
changed between reference and current, and which features are risky to touch."""

import pandas as pd
import streamlit as st

from aidebt_app.cache import run_analysis, run_on_data
from aidebt_app.context import current_selection, guard, page_header
from aidebt_app.glossary import help_text
from aidebt_app.tables import fixed, show_table
from aidebt_core.analyses import get as analysis
from aidebt_core.entanglement import MEASURE_NAMES, feature_kinds
from aidebt_core.entanglement.drilldown import pair_view
from aidebt_core.entanglement.entry import EntanglementOptions
from aidebt_core.plots.entanglement import (
    TEXT_MIN,
    association_heatmap,
    difference_heatmap,
    pair_figure,
)
from aidebt_core.textsafe import md

METHOD_LABELS = {"auto": "auto (Pearson · Cramér's V · η)", "spearman": "Spearman for numeric",
                 "theils_u": "Theil's U for categorical (asymmetric)"}
VIEWS = ["Reference", "Current", "Difference"]


def features(data) -> list[str]:
    return list(feature_kinds(data.schema))


def pair(data, a: str, b: str, exclude: tuple):
    """The pair per period: from rows, or for a categorical pair of saved profiles from
    their counts; None when a side has no rows to plot (a profile's numeric pair, Spark)."""
    from aidebt_core.profiles.entanglement import pair_crosstab
    from aidebt_core.profiles.source import is_profile_table, reads_rows

    kinds = feature_kinds(data.schema, exclude=exclude)
    sides = {"reference": data.reference, "current": data.current}
    if not all(reads_rows(t) for t in sides.values() if t is not None):
        if all(is_profile_table(t) for t in sides.values() if t is not None):
            return pair_crosstab({k: t for k, t in sides.items() if t is not None}, a, b, kinds)
        return None
    return pair_view(sides, a, b, kinds)


page_header("Entanglement", "Changing anything changes everything: features that move "
            "together, redundant groups, broken relations and the features risky to touch.")
selection = current_selection()
with guard():
    all_features = run_on_data(features, selection, spinner="Reading columns…")

with st.expander("Measures and thresholds"):
    a, b, c, d = st.columns(4)
    method = a.selectbox("Measure", list(METHOD_LABELS), format_func=METHOD_LABELS.get,
                         key="ent_method")
    group_threshold = b.slider("Redundant when ≥", 0.5, 1.0, 0.8, 0.05, key="ent_group",
                               help="Every pair inside a group is associated at least this.")
    change_threshold = c.slider("Changed when |Δ| >", 0.05, 1.0, 0.25, 0.05, key="ent_change")
    top_k = d.number_input("Categories kept per column", 2, 500, 50, key="ent_topk",
                           help="More frequent values are kept; the rest fold into '(other)'.")
    exclude = st.multiselect("Leave out features", all_features, key="ent_exclude")

with guard():
    options = EntanglementOptions(method=method, threshold=group_threshold,
                                  change_threshold=change_threshold, top_k=int(top_k),
                                  exclude=tuple(exclude), mlflow_importance=True)
    result = run_analysis("entanglement", selection, options, spinner="Computing associations…")

summary = result.summary()
m1, m2, m3, m4 = st.columns(4)
m1.metric("Features", summary["features"])
m2.metric("Redundant groups", summary["redundant_groups"],
          help=f"{summary['features_in_groups']} features in groups")
m3.metric("Changed pairs", summary["changed_pairs"],
          help=f"|current − reference| > {change_threshold:g}")
m4.metric("Highest ripple risk", md(summary["top_ripple_feature"] or "—"),
          help=help_text("ripple risk"))
ref = result.reference
st.caption(f"Reference: {ref.rows_used:,} of {ref.rows_total:,} rows"
           + (f" · current: {result.current.rows_used:,} of {result.current.rows_total:,}"
              if result.current is not None else ""))
for note in result.notes:
    st.info(md(note), icon=":material/info:")

view = st.segmented_control("Matrix", VIEWS, default="Reference", key="ent_view") or "Reference"
if view == "Difference":
    fig = difference_heatmap(result.change)
elif view == "Current":
    fig = association_heatmap(result.current.reordered(ref.columns),
                              title="Association on current data (in the reference's order)")
else:
    fig = association_heatmap(ref, title="Association on reference data (clustered)")
st.plotly_chart(fig, width="stretch", key="ent_heatmap")
st.caption("Blocks along the diagonal are entangled features. Values are printed where "
           f"|association| ≥ {TEXT_MIN:g}; hover any cell for its value, measure and rows "
           "(undefined cells are grey, hover for the reason). Measures: "
           + ", ".join(MEASURE_NAMES[m] for m in sorted(set(ref.methods.ravel()) - {"self"})))

st.subheader("Redundant groups")
if result.groups:
    st.markdown("\n".join(f"- **{', '.join(map(md, g))}**" for g in result.groups))
else:
    st.write(f"No group of features associated at ≥ {group_threshold:g}.")
st.subheader("Top changed pairs")
changes = result.change.pairs.head(10).assign(
    method=lambda f: f["method"].map(lambda m: MEASURE_NAMES.get(m, m)))
show_table(changes, key_columns=["a", "b"], key="ent_changes",
           formats={"reference": 3, "current": 3, "delta": fixed(3, signed=True),
                    "p_value": "pvalue"},
           labels={"a": "Feature", "b": "Paired with", "method": "Measure",
                   "delta": "Change", "p_value": "p (Fisher z)", "flagged": "Changed"},
           help={"p_value": "Only for Pearson/Spearman pairs (—: no test for this "
                            "measure). " + help_text("p-value"),
                 "delta": "current − reference"},
           raw_columns=["reference_rows", "current_rows"], raw_label="Rows used")

st.subheader("Drill down into a pair")
labels = [f"{r.a} × {r.b}" for r in result.change.pairs.head(25).itertuples(index=False)]
choice = st.selectbox("Pair (largest change first)", labels, key="ent_pair")
if choice:
    first, second = choice.split(" × ", 1)
    with guard():
        view = run_on_data(pair, selection, first, second, tuple(exclude),
                           spinner="Reading the pair…")
        if view is None:
            st.info("This drill-down plots rows, and a profile source has none (a pair of "
                    "categorical features is drawn from a saved profile's counts); the matrix "
                    "and tables above come from the counts.", icon=":material/info:")
        else:
            st.plotly_chart(pair_figure(view), width="stretch", key="ent_pair_fig")

st.subheader("Ripple risk")
st.caption(f"Risk = importance (scaled to the most important feature) × strongest association. "
           f"Importance: {result.ripple.source}.")
show_table(result.ripple.table, key_columns=["feature"], key="ent_ripple",
           formats=dict.fromkeys(("importance", "strongest_association", "risk"), 3),
           labels={"risk": "Ripple risk"},
           help={"risk": help_text("ripple risk"),
                 "strongest_association": help_text("association")})

with st.expander("All pairs"):
    pairs = pd.DataFrame(ref.pairs()).assign(
        method=lambda f: f["method"].map(lambda m: MEASURE_NAMES.get(m, m)),
        note=lambda f: f["note"].replace("", None))
    show_table(pairs, key_columns=["a", "b"], key="ent_pairs", formats={"value": 3},
               labels={"a": "Feature", "b": "Paired with", "method": "Measure",
                       "value": "Association"})
# Built when clicked, not on every rerun (the HTML embeds plotly.js: megabytes per rerun).
st.download_button("Download HTML report",
                   lambda: analysis("entanglement").make_report(result).to_html(),
                   file_name="entanglement.html", mime="text/html", key="ent_report")
