"""Audit and scorecard reports (self-contained HTML and Markdown) built on `aidebt_core.report`."""

from __future__ import annotations

import pandas as pd

from aidebt_core.audit.history import DIMENSION_COLUMNS, Comparison, Scorecard
from aidebt_core.audit.questions import DIMENSIONS, LEVEL_NAMES, Questionnaire
from aidebt_core.audit.records import AuditRecord
from aidebt_core.plots.audit import (
    DIMENSION_LABELS,
    comparison_bars,
    dimension_bars,
    mts_sections,
    portfolio_heatmap,
)
from aidebt_core.report import Report


def _fmt(value: float | None) -> str:
    return "N/A" if value is None else f"{value:.1f}"


def headline_label(scores: dict) -> str:
    """The headline as shown everywhere: "4.5 / 10", or "incomplete: 13 of 37 answered" while
    fewer than the minimum share of questions are answered (unanswered is not level 0)."""
    from aidebt_core.audit import scoring

    answered, total = scores.get("answered"), scores.get("total")
    share = getattr(scoring, "MIN_ANSWERED_SHARE", 1.0)
    if answered is not None and total and answered < share * total:
        return f"incomplete: {answered} of {total} answered"
    overall = scores.get("overall")
    return "N/A" if overall is None else f"{overall:.1f} / 10"


def headline_text(scores: dict) -> str:
    """One sentence: the headline (weakest dimension) next to the weighted mean."""
    weakest = scores.get("weakest_dimension")
    counted = [i for i in scores.get("items", []) if i.get("level") != "na"]
    verified = sum(i.get("confidence") == "verified" for i in counted)
    return (f"Headline health {_fmt(scores.get('overall'))} / 10 ({scores.get('band')}), the "
            f"weakest dimension ({DIMENSION_LABELS.get(weakest, '—')}); weighted mean of all "
            f"items {_fmt(scores.get('weighted_mean'))}. Debt index "
            f"{_fmt(scores.get('debt_index'))}. {scores.get('answered', 0)} of "
            f"{scores.get('total', 0)} questions answered; {verified} of {len(counted)} "
            "counted answers verified by measurement.")


def answers_frame(record: AuditRecord, questionnaire: Questionnaire) -> pd.DataFrame:
    """One row per question: level, how it counts, evidence and note."""
    items = {i["question"]: i for i in record.scores.get("items", [])}
    rows = []
    for q in questionnaire.questions:
        a = record.answers.get(q.id)
        item = items.get(q.id, {})
        level = "—" if a is None else ("N/A" if a.na else f"{a.level} {LEVEL_NAMES[a.level]}")
        rows.append({"id": q.id, "dimension": DIMENSION_LABELS[q.dimension],
                     "question": q.title, "weight": q.weight, "level": level,
                     "counts as": item.get("effective_level"),
                     "confidence": item.get("confidence", ""),
                     "source": "" if a is None else a.source,
                     "evidence": "" if a is None else a.evidence,
                     "note": "" if a is None else a.note})
    frame = pd.DataFrame(rows)
    frame["counts as"] = frame["counts as"].map(lambda v: "" if v is None or pd.isna(v)
                                                else str(int(v)))
    return frame


def audit_report(record: AuditRecord, questionnaire: Questionnaire,
                 comparison: Comparison | None = None, previous: AuditRecord | None = None
                 ) -> Report:
    """The audit as a report: scores, red flags, findings, actions, MTS view, every answer."""
    scores = record.scores
    report = Report(
        title=f"AI technical debt audit: {record.model}",
        subtitle=(f"model version {record.model_version or '—'} · audited {record.audited_at}"
                  f" by {record.auditor or '—'} · questionnaire {record.questionnaire_version}"))
    report.callout(headline_text(scores))
    report.heading("Scores by dimension")
    report.table(pd.DataFrame([{"dimension": DIMENSION_LABELS[d],
                                "health": (scores.get("dimensions") or {}).get(d),
                                "verified share": (scores.get("verified_share") or {}).get(d)}
                               for d in DIMENSIONS]), float_format="{:.2f}")
    report.figure(dimension_bars(scores), "Bars coloured by health band; dashed line: weighted "
                                          "mean of all items.")
    report.heading("Red flags")
    flags = scores.get("red_flags") or []
    report.text("; ".join(flags) if flags else "No critical item at level 1 or below.")
    report.heading("Open findings (measured now, separate from maturity)")
    if record.findings:
        findings = pd.DataFrame(record.findings)[["severity", "question", "title", "detail"]]
        order = findings["severity"].map({"high": 0, "medium": 1, "low": 2}).fillna(3)
        report.table(findings.iloc[order.argsort(kind="stable")])
    else:
        report.text("No open findings recorded.")
    report.heading("Actions, ranked by weight × level gap")
    actions = scores.get("actions") or []
    if actions:
        report.table(pd.DataFrame(actions)[["question", "title", "dimension", "weight",
                                            "current_level", "target_level", "priority",
                                            "gain"]], float_format="{:.2f}")
    else:
        report.text("Every item is at its target level.")
    if comparison is not None and previous is not None:
        report.heading(f"Compared with the audit of {previous.audited_at}")
        if not comparison.same_questionnaire:
            report.callout("The previous audit used another questionnaire version; "
                           "scores are not directly comparable.")
        report.table(pd.DataFrame([{"dimension": DIMENSION_LABELS[d],
                                    "change": comparison.dimension_deltas.get(d)}
                                   for d in DIMENSIONS]), float_format="{:+.2f}")
        report.figure(comparison_bars(previous.scores, scores, previous.audited_at,
                                      record.audited_at))
        if comparison.changed:
            report.table(comparison.to_frame())
    mts = scores.get("ml_test_score") or {}
    if mts:
        report.heading("ML Test Score compatibility view")
        report.text(f"Final ML Test Score {mts.get('final', 0):g} (minimum of the four "
                    f"sections): {mts.get('band', '')}.")
        report.figure(mts_sections(mts))
    report.heading("All answers")
    report.table(answers_frame(record, questionnaire))
    if record.notes:
        report.heading("Notes")
        for key, text in record.notes.items():
            if text:
                report.text(f"{key}: {text}")
    return report


def scorecard_report(scorecard: Scorecard) -> Report:
    """The portfolio scorecard as a report: one row per model and the heatmap."""
    frame = scorecard.to_frame()
    report = Report(title="AI technical debt scorecard",
                    subtitle=f"{len(frame)} model(s), latest audit of each")
    if frame.empty:
        report.text("No audits saved yet.")
        return report
    report.figure(portfolio_heatmap(frame), "Headline = weakest dimension; colours are the "
                                            "health bands.")
    shown = frame[["model", "model_version", "audited_at", "headline", "weighted_mean", "band",
                   *DIMENSION_COLUMNS, "red_flags", "trend", "open_findings", "top_actions"]]
    report.table(shown.rename(columns={c: DIMENSION_LABELS[c.removesuffix("_score")]
                                       for c in DIMENSION_COLUMNS}), float_format="{:.2f}")
    return report
