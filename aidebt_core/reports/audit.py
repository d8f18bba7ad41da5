"""Audit reports (self-contained HTML and Markdown): one paragraph a manager reads first, then
scores, red flags, findings, tracked actions, the meeting record and every answer. Static SVG
charts keep the file small and printable (`reports/printable.py`)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from aidebt_core.audit.history import Comparison, Scorecard
from aidebt_core.audit.questions import DIMENSIONS, LEVEL_NAMES, Questionnaire
from aidebt_core.audit.records import STATUS_TEXT, AuditRecord
from aidebt_core.plots.audit import (
    DIMENSION_LABELS,
    comparison_svg,
    dimension_bars_svg,
    mts_sections_svg,
)
from aidebt_core.reports.printable import PrintableReport
from aidebt_core.reports.tables import readable_table


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def headline_label(scores: dict) -> str:
    """The headline as shown everywhere: "4.5 / 10", or "incomplete: 13 of 37 answered" while
    fewer than the minimum share of questions are answered (unanswered is not level 0)."""
    if scores.get("headline_text"):
        return scores["headline_text"]
    from aidebt_core.audit.scoring import MIN_ANSWERED_SHARE, format_score

    answered, total = scores.get("answered"), scores.get("total")
    if answered is not None and total and answered < MIN_ANSWERED_SHARE * total:
        return f"incomplete: {answered} of {total} answered"
    return format_score(scores.get("overall"))


def _complete(scores: dict) -> bool:
    return not headline_label(scores).startswith("incomplete")


def headline_text(scores: dict) -> str:
    """One sentence: the headline (weakest dimension) next to the weighted mean, with what was
    answered and verified."""
    weakest = scores.get("weakest_dimension")
    counted = [i for i in scores.get("items", []) if i.get("level") != "na"
               and not i.get("unanswered")]
    verified = sum(i.get("confidence") == "verified" for i in counted)
    unanswered = scores.get("unanswered")
    answered_text = (f"{scores.get('answered', 0)} of {scores.get('total', 0)} questions "
                     "answered" + (f" ({unanswered} unanswered, counted as level 0)"
                                   if unanswered else ""))
    if _complete(scores):
        lead = (f"Headline health {headline_label(scores)} ({scores.get('band')}), the weakest "
                f"dimension ({DIMENSION_LABELS.get(weakest, '—')}); weighted mean of all items "
                f"{_fmt(scores.get('weighted_mean'))} / 10. Debt index "
                f"{_fmt(scores.get('debt_index'))} / 10.")
    else:
        share = scores.get("min_answered_share")
        need = f" (a headline needs {share:.0%} answered)" if share else ""
        lead = f"Headline {headline_label(scores)}{need}."
    return (f"{lead} {answered_text}; {verified} of {len(counted)} counted answers verified "
            "by measurement.")


def manager_summary(record: AuditRecord, previous: AuditRecord | None = None,
                    today: date | None = None) -> str:
    """The paragraph a manager reads first: the result, what fails, what is being done."""
    scores = record.scores or {}
    flags = scores.get("red_flags") or []
    findings = record.findings or []
    high = sum(f.get("severity") == "high" for f in findings)
    open_actions = [a for a in record.actions if a.status == "open"]
    overdue = [a for a in open_actions if a.overdue(today)]
    done = [a for a in record.actions if a.status == "done"]
    ranked = scores.get("actions") or []
    parts = [f"{record.model} (version {record.model_version or '—'}) was audited on "
             f"{record.audited_at} by {record.auditor or '—'}"
             + (" — a partial audit, not on the scorecard" if record.partial else "") + "."]
    if _complete(scores):
        weakest = DIMENSION_LABELS.get(scores.get("weakest_dimension"), "—")
        parts.append(f"Headline {headline_label(scores)} ({scores.get('band')}); the weakest "
                     f"dimension is {weakest}.")
    else:
        parts.append(f"No headline yet: {headline_label(scores)}.")
    if previous is not None and previous.scores.get("overall") is not None \
            and scores.get("overall") is not None:
        delta = scores["overall"] - previous.scores["overall"]
        parts.append(f"Change since {previous.audited_at}: {delta:+.1f}.")
    parts.append(f"{len(flags)} red flag(s)" + (f" ({flags[0].split(':')[0]}"
                                                + (" and more" if len(flags) > 1 else "") + ")"
                                                if flags else "") + "; "
                 f"{len(findings)} open finding(s) from the measurements ({high} high).")
    if record.actions:
        parts.append(f"Actions: {len(open_actions)} open ({len(overdue)} overdue), "
                     f"{len(done)} done.")
    if ranked:
        parts.append(f"Most valuable next step: {ranked[0]['question']} "
                     f"{ranked[0].get('title', '')}.")
    parts.append(f"Signed off by {record.signed_by} on {record.signed_at[:10]}."
                 if record.signed else "Not signed off yet.")
    return " ".join(parts)


def answers_frame(record: AuditRecord, questionnaire: Questionnaire) -> pd.DataFrame:
    """One row per question: level, how it counts, evidence, note and discussion."""
    items = {i["question"]: i for i in record.scores.get("items", [])}
    rows = []
    for q in questionnaire.questions:
        a = record.answers.get(q.id)
        item = items.get(q.id, {})
        level = "unanswered" if a is None else ("N/A" if a.na
                                                else f"{a.level} {LEVEL_NAMES[a.level]}")
        counts = item.get("effective_level")
        rows.append({"ID": q.id, "Dimension": DIMENSION_LABELS[q.dimension],
                     "Question": q.title, "Weight": q.weight, "Level": level,
                     "Counts as": "" if counts is None or a is None else str(int(counts)),
                     "Confidence": item.get("confidence", "") if a is not None else "",
                     "Source": "" if a is None else a.source,
                     "Evidence": "" if a is None else a.evidence,
                     "Note": "" if a is None else a.note,
                     "Discussion": record.discussion.get(q.id, "")})
    frame = pd.DataFrame(rows)
    if not frame["Discussion"].astype(bool).any():
        frame = frame.drop(columns="Discussion")
    return frame


def actions_frame(record: AuditRecord, today: date | None = None) -> pd.DataFrame:
    """The tracked actions with their status at this audit (empty note/effect columns left
    out)."""
    frame = pd.DataFrame([{"Action": a.text, "Question": a.question_id, "Owner": a.owner or "—",
                          "Due": a.due.isoformat() if a.due else "—",
                          "Status": STATUS_TEXT.get(a.status, a.status)
                          + (" (overdue)" if a.overdue(today) else ""),
                          "Note": a.note, "Measured effect": a.effect} for a in record.actions])
    return frame.drop(columns=[c for c in ("Note", "Measured effect")
                               if not frame[c].astype(bool).any()])


def audit_report(record: AuditRecord, questionnaire: Questionnaire,
                 comparison: Comparison | None = None, previous: AuditRecord | None = None
                 ) -> PrintableReport:
    """The audit as a report: manager summary, scores, red flags, findings, actions, meeting
    record, comparison, MTS view, every answer."""
    scores = record.scores
    report = PrintableReport(
        title=f"AI technical debt audit: {record.model}",
        subtitle=(f"model version {record.model_version or '—'} · audited {record.audited_at}"
                  f" by {record.auditor or '—'} · questionnaire {record.questionnaire_version}"
                  + (" · partial audit" if record.partial else "")
                  + (f" · signed off by {record.signed_by} {record.signed_at[:10]}"
                     if record.signed else " · not signed off")),
        summary=manager_summary(record, previous))
    report.callout(headline_text(scores))
    report.heading("Scores by dimension")
    report.table(readable_table(pd.DataFrame([
        {"Dimension": DIMENSION_LABELS[d],
         "Health (0–10)": (scores.get("dimensions") or {}).get(d),
         "Verified share": _share((scores.get("verified_share") or {}).get(d))}
        for d in DIMENSIONS]), formats={"Health (0–10)": 1}))
    report.svg(dimension_bars_svg(scores), "Bars coloured by health band; the grey bar is the "
                                           "weighted mean of all items.")
    report.heading("Red flags")
    flags = scores.get("red_flags") or []
    if flags:
        report.table(pd.DataFrame({"Red flag": flags}))
    else:
        report.text("No critical item at level 1 or below.")
    report.heading("Open findings (measured now, separate from maturity)")
    if record.findings:
        findings = pd.DataFrame(record.findings)
        findings = findings.reindex(columns=["severity", "question", "title", "detail"])
        order = findings["severity"].map({"high": 0, "medium": 1, "low": 2}).fillna(3)
        report.table(readable_table(findings.iloc[order.argsort(kind="stable")].rename(
            columns=str.capitalize)))
    else:
        report.text("No open findings recorded.")

    report.section("Actions")
    if record.actions:
        report.table(readable_table(actions_frame(record)))
    else:
        report.text("No tracked actions agreed in this audit.")
    actions = scores.get("actions") or []
    if actions:
        report.heading("Ranked by weight × level gap")
        ranked = pd.DataFrame(actions[:10]).reindex(columns=["question", "title", "dimension",
                                                             "weight", "current_level",
                                                             "target_level", "gain"])
        ranked["dimension"] = ranked["dimension"].map(lambda d: DIMENSION_LABELS.get(d, d))
        report.table(readable_table(ranked, formats={
            "current_level": 0, "target_level": 0, "gain": 2}, labels={
            "question": "Question", "title": "Action", "dimension": "Dimension",
            "weight": "Weight", "current_level": "Level now", "target_level": "Target",
            "gain": "Dimension gain"}))
    else:
        report.text("Every item is at its target level.")
    report.heading("Meeting record")
    if record.participants:
        report.table(readable_table(pd.DataFrame([{"Participant": p.name,
                                                   "Role": p.role or "—"}
                                                  for p in record.participants])))
    else:
        report.text("No participants recorded.")
    report.text(f"Signed off by {record.signed_by} at {record.signed_at[:16].replace('T', ' ')}"
                " UTC; the audit is final." if record.signed
                else "Not signed off: the audit can still be superseded or withdrawn.")
    notes = {k: v for k, v in record.notes.items() if v}
    if notes:
        report.table(readable_table(pd.DataFrame([{"Note": _note_name(k), "Text": v}
                                                  for k, v in notes.items()])))

    if comparison is not None and previous is not None:
        report.section(f"Compared with the audit of {previous.audited_at}")
        if not comparison.same_questionnaire:
            report.callout("The previous audit used another questionnaire version; "
                           "scores are not directly comparable.")
        report.table(pd.DataFrame([{"Dimension": DIMENSION_LABELS[d],
                                    "Change": signed(comparison.dimension_deltas.get(d))}
                                   for d in DIMENSIONS]))
        report.svg(comparison_svg(previous.scores, scores, previous.audited_at,
                                  record.audited_at))
        if comparison.changed:
            report.table(readable_table(comparison.to_frame().rename(columns=str.capitalize)))
    mts = scores.get("ml_test_score") or {}
    if mts:
        report.heading("ML Test Score compatibility view")
        report.text(f"Final ML Test Score {mts.get('final', 0):g} (minimum of the four "
                    f"sections): {mts.get('band', '')}.")
        report.svg(mts_sections_svg(mts))
    report.section("All answers")
    report.table(readable_table(answers_frame(record, questionnaire)))
    return report


def _share(value: float | None) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:.0%}"


def _note_name(name: str) -> str:
    """A record note's key as a label: "tiers" -> "Tiers", "what_changed" -> "What changed"."""
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


SCORECARD_HEADERS = {"model": "Model", "model_version": "Version", "audited_at": "Last audit",
                     "auditor": "Auditor", "headline": "Headline (0–10)",
                     "weighted_mean": "Weighted mean", "band": "Band", "red_flags": "Red flags",
                     "trend": "Trend", "open_findings": "Open findings",
                     "open_actions": "Open actions", "overdue_actions": "Overdue actions",
                     "top_actions": "Top actions", "audits": "Audits",
                     **{f"{d}_score": f"{DIMENSION_LABELS[d]} health" for d in DIMENSIONS}}


def signed(value: float | None) -> str:
    """A change with its sign: "+0.4", "−1.2" (a true minus), "±0.0", or "—" when unknown."""
    if value is None or pd.isna(value):
        return "—"
    if round(value, 1) == 0:
        return "±0.0"
    return f"{value:+.1f}".replace("-", "−")


def scorecard_summary(frame: pd.DataFrame) -> str:
    """The paragraph a manager reads first about the portfolio."""
    if frame.empty:
        return "No audits saved yet."
    heads = frame["headline"].dropna()
    worst = frame.loc[frame["headline"].idxmin()] if not heads.empty else None
    flagged = int((frame["red_flags"] > 0).sum())
    open_actions = int(frame["open_actions"].sum()) if "open_actions" in frame else 0
    overdue = int(frame["overdue_actions"].sum()) if "overdue_actions" in frame else 0
    parts = [f"{len(frame)} model(s) audited; median headline "
             + ("—" if heads.empty else f"{heads.median():.1f} / 10") + "."]
    if worst is not None:
        parts.append(f"Weakest: {worst['model']} at {worst['headline']:.1f} / 10 "
                     f"({worst['band']}).")
    parts.append(f"{flagged} model(s) with red flags; {open_actions} open action(s), "
                 f"{overdue} overdue.")
    falling = frame[frame["trend"] < 0]["model"].tolist()
    if falling:
        parts.append("Headline fell since the previous audit for " + ", ".join(falling) + ".")
    return " ".join(parts)


def scorecard_report(scorecard: Scorecard, records: list[AuditRecord] | None = None,
                     today: date | None = None) -> PrintableReport:
    """The portfolio scorecard as a report: a summary paragraph, the models coloured by band
    (human headers, signed trend), red flags and top actions per model, the headline trend."""
    from aidebt_core.audit.history import headline_history
    from aidebt_core.plots.audit import BAND_COLORS, band_legend, trend_svg

    frame = scorecard.to_frame()
    report = PrintableReport(title="AI technical debt scorecard",
                             subtitle=f"{len(frame)} model(s), latest complete audit of each",
                             summary=scorecard_summary(frame))
    if frame.empty:
        report.text("No audits saved yet.")
        return report
    columns = ["model", "model_version", "audited_at", "headline",
               *[f"{d}_score" for d in DIMENSIONS], "band", "trend", "red_flags",
               "open_actions", "overdue_actions"]
    shown = frame[columns].copy()
    shown["trend"] = shown["trend"].map(signed)
    score_cols = ["headline", *[f"{d}_score" for d in DIMENSIONS]]
    styles = [[(f"background:{BAND_COLORS[_band(row[c])]}33" if c in score_cols else "")
               for c in columns] for _, row in frame[columns].iterrows()]
    report.heading("Models")
    report.styled_table(readable_table(shown, labels=SCORECARD_HEADERS, formats={
        c: 1 for c in score_cols}), styles)
    report.text(f"Bands: {band_legend()}. Headline = weakest dimension. Trend: headline "
                "change since the model's previous complete audit.")
    if records:
        counted = [r for r in records if r.counts]
        report.svg(trend_svg(headline_history(counted)))
    report.section("Red flags and top actions per model")
    latest = {}
    for record in sorted(records or [], key=lambda r: (r.audited_at, r.saved_at, r.id)):
        if record.counts:
            latest[record.model] = record
    for row in frame.itertuples(index=False):
        report.heading(f"{row.model} — {_fmt(row.headline)} / 10, trend {signed(row.trend)}")
        record = latest.get(row.model)
        flags = (record.scores.get("red_flags") or []) if record else []
        rows = [{"Kind": "red flag", "What": f} for f in flags]
        if record is not None:
            rows += [{"Kind": "tracked action", "What": f"{a.text} ({a.question_id}) — owner "
                      f"{a.owner or '—'}, due {a.due.isoformat() if a.due else '—'}, "
                      f"{STATUS_TEXT.get(a.status, a.status)}"
                      + (", OVERDUE" if a.overdue(today) else "")}
                     for a in record.actions if a.status == "open"]
            rows += [{"Kind": "top action", "What": f"{a['question']} {a.get('title', '')} "
                      f"(level {a.get('current_level')} → {a.get('target_level')})"}
                     for a in (record.scores.get("actions") or [])[:3]]
        elif row.top_actions:
            rows += [{"Kind": "top action", "What": t.strip()}
                     for t in str(row.top_actions).split(";")]
        if not flags:
            rows.insert(0, {"Kind": "red flag", "What": "none"})
        report.table(pd.DataFrame(rows))
    return report


def _band(value) -> str:
    from aidebt_core.audit.scoring import health_band

    return health_band(None if value is None or pd.isna(value) else float(value))
