"""The Audit page's per-question card: level, note, evidence, and (in a popover) a raised weight
tier and the evidence date. Logic lives in aidebt_core.audit.session; this is widgets only."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import streamlit as st

from aidebt_core.audit.evidence import Prefill
from aidebt_core.audit.history import withdrawn_text
from aidebt_core.audit.questions import LEVEL_NAMES, Question
from aidebt_core.audit.records import AuditRecord, StoredAudits
from aidebt_core.audit.session import CHOICES, NA, RawInput, tier_options
from aidebt_core.audit.store import AuditStore, default_store_path
from aidebt_core.textsafe import md
from aidebt_core.workspace import Workspace

TIER_ICON = {"critical": ":red-badge[critical]", "high": ":orange-badge[high]",
             "medium": ":blue-badge[medium]", "low": ":gray-badge[low]"}


def level_label(choice: str) -> str:
    return NA if choice == NA else f"{choice} · {LEVEL_NAMES[int(choice)]}"


def _as_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def question_card(q: Question, key: str, start: dict, found: Prefill | None,
                  query: str) -> RawInput:
    """One question in a bordered box; widget keys are `{key}_level`, `_note`, `_evidence`,
    `_tier` and `_evdate`. Returns what the person entered."""
    tiers = tier_options(q)
    tier_now = st.session_state.get(f"{key}_tier") or start["tier"] or q.weight
    with st.container(border=True, key=f"{key}_box"):
        head, more = st.columns([4, 2], vertical_alignment="center")
        head.markdown(f"**{q.id} · {q.title}** — {TIER_ICON.get(tier_now, tier_now)}")
        with more.popover("Tier & date", icon=":material/tune:", key=f"{key}_more",
                          width="stretch"):
            tier = st.selectbox("Weight tier", tiers, key=f"{key}_tier",
                                index=tiers.index(start["tier"]) if start["tier"] in tiers
                                else 0, disabled=len(tiers) == 1,
                                help="Raise the weight for this model's context; a critical "
                                     "item cannot be lowered.")
            day = st.date_input("Evidence date", value=_as_date(start["evidence_date"]),
                                key=f"{key}_evdate", format="YYYY-MM-DD",
                                help=f"Evidence older than {q.cadence_days} days before the "
                                     "audit date counts one level lower.")
        st.caption(f"{q.text} *Why:* {q.why}")
        if found is not None and found.available:
            st.info(f"Measured: level {found.level} — {md(found.evidence)} "
                    f"([open]({found.link}?{query}))", icon=":material/analytics:")
        elif found is not None:
            st.caption(f":grey[{md(found.note)}]")
        choice = st.radio("Level", CHOICES, horizontal=True, key=f"{key}_level",
                          index=CHOICES.index(start["choice"])
                          if start["choice"] in CHOICES else None, format_func=level_label)
        if choice is not None and choice != NA:
            st.caption(f"Level {choice}: {q.levels[int(choice)]}")
        a, b = st.columns(2)
        note = a.text_input("Note", value=start["note"], key=f"{key}_note")
        ev = b.text_input("Evidence link or text", value=start["evidence"],
                          key=f"{key}_evidence", placeholder=q.evidence_hint)
    return RawInput(choice, note, ev, "" if tier == q.weight else tier,
                    day.isoformat() if day else "")


def audit_store(workspace: str) -> AuditStore:
    """The store the pages read and save to: the server's `--store` when given, else the
    default store of the server's first root (one portfolio per server, whichever root the
    sidebar shows), else the workspace's own. Opening it creates nothing."""
    from aidebt_app.context import serve_config

    config = serve_config()
    if config.store:
        return AuditStore(Path(config.store))
    served = [root for root in config.roots if Path(workspace) == Path(root)]
    home = config.roots[0] if served else workspace
    return AuditStore(default_store_path(Workspace.at(home).folder))


def show_skipped(stored: StoredAudits) -> None:
    """One warning per stored audit that could not be read (the rest still show)."""
    for line in stored.skipped:
        st.warning(md(line), icon=":material/warning:")


def withdraw_control(store: AuditStore, history: list[AuditRecord], who: str, key: str) -> None:
    """Withdraw a saved audit: pick it, say why, confirm. It stays in the history, marked."""
    counted = [r for r in history if r.withdrawn is None]
    if not counted:
        return
    with st.popover("Withdraw an audit…", icon=":material/undo:", key=f"{key}_withdraw"):
        st.caption("A withdrawn audit stays in the history, marked with who withdrew it, when "
                   "and why, and no longer counts on the scorecard or in trends. This cannot "
                   "be undone.")
        labels = {f"{r.audited_at} · v{r.model_version or '—'} · {r.auditor or '—'} · "
                  f"{r.id[:8]}": r for r in reversed(counted)}
        picked = st.selectbox("Audit", list(labels), key=f"{key}_wd_pick")
        by = st.text_input("Withdrawn by", value=who, key=f"{key}_wd_by")
        reason = st.text_input("Reason", key=f"{key}_wd_reason",
                               placeholder="e.g. scored against the wrong data set")
        sure = st.checkbox("Yes, withdraw this audit", key=f"{key}_wd_confirm")
        if st.button("Withdraw", type="primary", key=f"{key}_wd_go",
                     disabled=not (sure and reason.strip() and by.strip())):
            record = store.withdraw(labels[picked].id, by=by, reason=reason)
            st.session_state[f"{key}_wd_done"] = withdrawn_text(record)
            st.rerun()
