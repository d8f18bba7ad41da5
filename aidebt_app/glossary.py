"""Plain-language help for the terms a manager meets on the dashboard, used as tooltips
(`st.metric(..., help=help_text("debt index"))`). One sentence or two, no formulas.

Pure data (no streamlit), so the CLI's reports can use the same words.
"""

from __future__ import annotations

import re

GLOSSARY: dict[str, str] = {
    "debt index": (
        "One number from 0 to 10 summing up how much technical debt a model carries: how far it "
        "is from the practices of a well-run production model (tests, monitoring, data checks, "
        "reproducibility). Higher means more debt, i.e. more risk and future rework."),
    "headline": (
        "The one-line verdict at the top of a page. It is worked out from the same numbers as "
        "the tables below it, so the details always back it up."),
    "ml test score": (
        "A checklist from Google's \"ML Test Score\" rubric: 28 tests of data, model, "
        "infrastructure and monitoring. Each passed test earns a point, half a point if done by "
        "hand; the lowest of the four sections is the score. 0 is research code, 5+ is strong."),
    "audit level": (
        "How far one practice is in place for this model, from 0 (not at all) to the top level "
        "(automated and checked). Measured answers are proposed by aidebt; people confirm them."),
    "red flag": (
        "An answer that caps the overall score on its own, whatever the rest looks like (for "
        "example: no one can retrain the model)."),
    "band": (
        "A name for a range of the debt index, e.g. \"research-grade\" or \"strong\", so a score "
        "can be read without knowing the scale."),
    "p-value": (
        "How surprising the difference would be if nothing had really changed. Small (below "
        "0.05) means the change is unlikely to be chance. With many rows even tiny, harmless "
        "changes get small p-values: look at the size of the change too."),
    "q-value": (
        "A p-value corrected for looking at many things at once (many columns or slices): the "
        "expected share of false alarms among the findings at least this strong. Below 0.05 "
        "means at most about 1 in 20 such findings is a false alarm."),
    "ripple risk": (
        "How much a change in one input would spread to others the model also relies on: an "
        "input strongly tied to several important inputs has a high ripple risk (\"changing "
        "anything changes everything\")."),
    "entanglement": (
        "Inputs that move together. A model built on tangled inputs is hard to change safely, "
        "because fixing or dropping one input silently changes what the others mean."),
    "association": (
        "How strongly two columns move together, from 0 (unrelated) to 1 (one determines the "
        "other). Pearson correlation also has a sign: -1 means one goes up as the other goes "
        "down."),
    "psi": (
        "Population Stability Index: how much a column's distribution moved between the "
        "reference and current periods. Below 0.1 is stable, 0.1-0.25 a moderate shift, above "
        "0.25 a large shift."),
    "drift": (
        "The data the model sees now differs from the data it was built on. Drifted inputs can "
        "make predictions less reliable even before any labels show it."),
    "concept drift": (
        "The link between inputs and the outcome has changed: the same kind of customer now "
        "behaves differently, so the model's quality drops even if the inputs look the same."),
    "reference": (
        "The period the model was built and checked on; everything else is compared with it."),
    "current": "The period being checked: what the model sees in production now.",
    "chunk": "One slice of time (a day, week or month) the charts show one point for.",
    "estimated performance": (
        "The quality the model should have if its own probability scores are right, computed "
        "without labels. When the real (labelled) quality falls below it, the world has "
        "changed in a way the model did not expect."),
    "roc auc": (
        "How well the model ranks positives above negatives: 0.5 is a coin toss, 1 is perfect. "
        "It ignores whether the probabilities themselves are right (see log loss / Brier)."),
    "log loss": (
        "How wrong the predicted probabilities are on average; lower is better. Unlike ROC AUC "
        "it punishes over-confident wrong predictions."),
    "brier score": (
        "The mean squared gap between predicted probability and what happened (0 or 1); lower "
        "is better, 0 is perfect."),
    "slice": (
        "A group of rows sharing some values (e.g. region = north and age < 25). A weak slice is "
        "one where the model does clearly worse than overall."),
    "staleness": (
        "How long ago the model was last trained, judged against the stated reference date "
        "(the end of the data or the latest run), not against today's date."),
    "budget": (
        "The longest a model may go without retraining before it counts as stale."),
    "alias": (
        "A name pointing to one model version in the registry (e.g. \"champion\" or "
        "\"production\"), so deployments need not know version numbers."),
    "lineage": (
        "Which data, code and run produced each model version: what you need to rebuild it."),
    "missing share": "The share of rows where the column has no value.",
    "role": (
        "What a column is for: an input (feature), the outcome (target), the model's prediction "
        "or score, a timestamp, an id, or ignored."),
    "confidence interval": (
        "The range the true value most likely lies in, given how many rows were measured; "
        "wider means less certain."),
    "cramér's v": (
        "Association between two categorical columns, 0 (unrelated) to 1 (one determines the "
        "other)."),
    "wasserstein": (
        "How far values had to move, on average, to turn the reference distribution into the "
        "current one, in the column's own units scaled by its spread."),
    "jensen-shannon": (
        "A 0-to-1 distance between two distributions: 0 same, 1 nothing in common."),
}

_ALIASES = {"ml test": "ml test score", "pvalue": "p-value", "p value": "p-value",
            "qvalue": "q-value", "q value": "q-value", "population stability index": "psi",
            "auc": "roc auc", "brier": "brier score", "level": "audit level",
            "cramers v": "cramér's v", "debt": "debt index", "js": "jensen-shannon",
            "estimate": "estimated performance", "ci": "confidence interval"}


def _key(term: str) -> str:
    key = re.sub(r"[\s_]+", " ", str(term).strip().lower())
    return _ALIASES.get(key, key)


def help_text(term: str) -> str:
    """The plain-language explanation of `term` (case, spaces and underscores ignored).

    Raises KeyError for a term the glossary does not have, so a typo in a page fails its test
    instead of showing an empty tooltip."""
    key = _key(term)
    if key not in GLOSSARY:
        known = ", ".join(sorted(GLOSSARY))
        raise KeyError(f"no glossary entry for {term!r}; known terms: {known}")
    return GLOSSARY[key]


def has_term(term: str) -> bool:
    """Whether the glossary explains `term`."""
    return _key(term) in GLOSSARY
