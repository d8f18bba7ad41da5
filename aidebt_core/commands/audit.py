"""`aidebt audit`: score a filled questionnaire, print the questionnaire, manage the store.

    aidebt audit --answers answers.yaml [--report out.html|out.md] [--fail-below X] [--save]
    aidebt audit --model NAME --prefill [--data D --timestamp T --reference-end DATE
                 | --data REF CUR | --data D --reference-rows N] [--target C --score C ...]
                 [--tracking-uri URI] [--answers answers.yaml] [...the scoring options]
    aidebt audit --questions
    aidebt audit --scorecard [--report scorecard.html]
    aidebt audit --export audits.json [--force] | --import audits.json
    aidebt audit --withdraw ID --reason TEXT [--auditor NAME]
    aidebt audit --sign-off ID --reviewer NAME
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from aidebt_core.commands import _types as types
from aidebt_core.commands._args import add_data_arguments, add_format_option
from aidebt_core.errors import AidebtError

# Light at import time (`aidebt audit -h`): _common (duckdb, pandas), the audit modules and
# the reports are imported inside the handlers.


def register(sub) -> None:
    parser = sub.add_parser("audit", help="score an AI-technical-debt audit questionnaire")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--answers", metavar="FILE", help="answers file (YAML or JSON) to score")
    mode.add_argument("--questions", action="store_true", help="print the questionnaire")
    mode.add_argument("--scorecard", action="store_true",
                      help="latest audit of every model in the store")
    mode.add_argument("--export", metavar="FILE", help="write every saved audit to a JSON file")
    mode.add_argument("--import", dest="import_file", metavar="FILE",
                      help="add the audits of an exported JSON file to the store (every audit "
                           "is checked before anything is written)")
    mode.add_argument("--withdraw", metavar="ID",
                      help="withdraw a saved audit (needs --reason): it stays in the history, "
                           "marked, and leaves the scorecard")
    mode.add_argument("--sign-off", dest="sign_off", metavar="ID",
                      help="sign a saved audit off (needs --reviewer): it becomes final and can "
                           "only be superseded by a new audit")
    prefill = parser.add_argument_group(
        "pre-fill from measurements", "answer the measurable questions from the data and the "
        "MLflow store, as the Audit page does; answers from --answers override them")
    prefill.add_argument("--prefill", action="store_true",
                         help="pre-fill answers from measurements")
    prefill.add_argument("--model", default="", help="model name (registered in MLflow)")
    # --data REF CUR, or --data D split by --timestamp/--reference-end or --reference-rows,
    # and the role options, as every data command takes them.
    add_data_arguments(prefill, option=True)
    prefill.add_argument("--tracking-uri", metavar="URI",
                         help="MLflow store, e.g. sqlite:///path/mlflow.db")
    parser.add_argument("--report", metavar="OUT", help="write an .html or .md report")
    parser.add_argument("--fail-below", type=types.number(0.0, 10.0), metavar="X",
                        help="exit 1 when the headline (minimum dimension) is below X")
    parser.add_argument("--save", action="store_true", help="save the scored audit to the store")
    parser.add_argument("--store", metavar="PATH",
                        help="audit store file (default: $AIDEBT_AUDIT_STORE or "
                             "./.aidebt/audits.sqlite; created by the first save)")
    parser.add_argument("--force", action="store_true",
                        help="with --export: replace an existing file")
    parser.add_argument("--partial", action="store_true",
                        help="with --save: save as a partial audit (kept off the scorecard)")
    parser.add_argument("--reviewer", default="", help="who signs the audit off (--sign-off)")
    parser.add_argument("--reason", default="", help="why the audit is withdrawn (--withdraw)")
    parser.add_argument("--auditor", default="",
                        help="who ran the audit (with --save) or withdraws it (--withdraw)")
    parser.add_argument("--date", default="", help="audit date YYYY-MM-DD (default: today)")
    add_format_option(parser)
    parser.set_defaults(handler=run)


def _store(args):
    from aidebt_core.audit.store import AuditStore, default_store_path

    path = Path(args.store).expanduser() if args.store else default_store_path(Path.cwd())
    return AuditStore(path)


def _write_report(report, out: str) -> None:
    from aidebt_core.commands._common import write_report

    path = Path(out).expanduser()
    if path.suffix.lower() not in (".html", ".htm", ".md", ".markdown"):
        raise AidebtError(f"--report '{out}': use a .html or .md file name.")
    write_report(report, path)


def run(args) -> int:
    from aidebt_core.audit.questions import load_questionnaire
    from aidebt_core.commands._common import emit

    questionnaire = load_questionnaire()
    modes = [args.questions, args.scorecard, args.export, args.import_file, args.withdraw,
             args.sign_off]
    if args.prefill and any(modes):
        raise AidebtError("--prefill goes with scoring an audit, not with --questions, "
                          "--scorecard, --export, --import, --withdraw or --sign-off.")
    if not args.prefill and not args.answers and not any(modes):
        raise AidebtError("give --answers FILE and/or --prefill (or --questions, --scorecard, "
                          "--export, --import, --withdraw, --sign-off).")
    if args.questions:
        import pandas as pd

        rows = questionnaire.to_list()
        emit(args, rows, pd.DataFrame(rows)[["id", "dimension", "weight", "title"]])
        return 0
    if args.scorecard:
        return _scorecard(args)
    if args.force and not args.export:
        raise AidebtError("--force goes with --export FILE.")
    if args.reason and not args.withdraw:
        raise AidebtError("--reason goes with --withdraw ID.")
    if args.export:
        count = _store(args).write_export(args.export, force=args.force)
        emit(args, {"exported": count, "file": args.export},
             f"exported {count} audit(s) to {args.export}")
        return 0
    if args.import_file:
        from aidebt_core.safeload import load_document

        document = load_document(Path(args.import_file).expanduser())
        added, present = _store(args).import_json(document, origin=args.import_file)
        emit(args, {"added": added, "already_present": present},
             f"added {added} audit(s); {present} already present")
        return 0
    if args.reviewer and not args.sign_off:
        raise AidebtError("--reviewer goes with --sign-off ID.")
    if args.partial and not args.save:
        raise AidebtError("--partial goes with --save.")
    if args.withdraw:
        return _withdraw(args)
    if args.sign_off:
        record = _store(args).sign_off(args.sign_off, by=args.reviewer)
        emit(args, {"signed": record.id, "model": record.model,
                    "audited_at": record.audited_at, "by": record.signed_by,
                    "at": record.signed_at},
             f"signed off the audit {record.id} of {record.model} ({record.audited_at}) as "
             f"{record.signed_by}; it is final and can only be superseded by a new audit")
        return 0
    return _score(args, questionnaire)


def _score(args, questionnaire) -> int:
    from aidebt_core.audit.questions import AnswerFile, read_answer_file
    from aidebt_core.audit.session import make_record
    from aidebt_core.commands._common import emit
    from aidebt_core.reports.audit import audit_report

    answers = read_answer_file(args.answers, questionnaire) if args.answers \
        else AnswerFile(model="", model_version="")
    model = args.model or answers.model or (Path(args.answers).stem if args.answers else "")
    if args.model and answers.model and args.model != answers.model:
        raise AidebtError(f"--model '{args.model}' but '{args.answers}' is about "
                          f"'{answers.model}'.")
    evidence, problems, scored, data = None, [], answers.answers, None
    if args.prefill:
        data = _CliData(args) if args.sources else None
        # The person's answers may attest a level (with an evidence link) the rules weigh.
        evidence = _prefill(args, model, questionnaire, data).attested(answers.answers)
        scored, problems = evidence.merge(answers.answers)
    day = args.date or date.today().isoformat()
    meta = {"model": model, "model_version": answers.model_version, "auditor": args.auditor,
            "audited_at": day}
    record, score = make_record(questionnaire, meta, scored, evidence, {}, answers.tiers,
                                partial=args.partial)
    payload = score.to_dict()
    if evidence is not None:
        # `findings`: one row per measured question (what was measured, the proposed level,
        # the link); the open problems found stay listed as `open_findings`.
        payload = {**payload, "model": model, "open_findings": payload["findings"],
                   "findings": [f.to_dict() for f in evidence.finding_rows()],
                   "prefilled": evidence.prefilled(scored),
                   "not_measured": evidence.unmeasured(), "problems": problems}
    if data is not None and data.roles is not None:
        payload = {**payload, **data.roles}
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    if args.save:
        if problems:
            raise AidebtError("not saved: " + " ".join(problems))
        if not score.complete and not args.partial:
            print(f"warning: saving an {score.headline_text} audit as complete: it shows on "
                  "the scorecard; --partial keeps it off", file=sys.stderr)
        record = _store(args).save_audit(record)
        payload = {**payload, "saved_id": record.id, "partial": record.partial}
    if args.report:
        _write_report(audit_report(record, questionnaire.with_tiers(answers.tiers)), args.report)
    emit(args, payload, "\n".join(_lines(score, payload)))
    if args.fail_below is not None and (score.headline is None
                                        or score.headline < args.fail_below):
        print(f"overall {_num(score.headline)} is below --fail-below {args.fail_below:g}",
              file=sys.stderr)
        return 1
    return 0


def _prefill(args, model: str, questionnaire, data):
    """Measured answers for `model` from --data and --tracking-uri; bad input raises."""
    from aidebt_core.audit.evidence import strict_evidence

    if not model:
        raise AidebtError("--prefill needs --model NAME (or a 'model' in the answers file).")
    if data is None and not args.tracking_uri:
        raise AidebtError("--prefill needs --data (REF CUR, or one source with --timestamp "
                          "and --reference-end or --reference-rows) and/or --tracking-uri.")
    return strict_evidence(model, args.tracking_uri or "", data, questionnaire)


class _CliData:
    """--data as the evidence providers open a sidebar selection (`.open()` -> OpenedData),
    with the roles the command line resolved; `roles` holds the result's roles/excluded."""

    def __init__(self, args) -> None:
        self.args = args
        self.roles: dict | None = None

    def open(self):
        from aidebt_core.commands._common import open_inputs
        from aidebt_core.selection import OpenedData

        inputs = open_inputs(self.args)
        schema = inputs.schema
        used = [*schema.features, *schema.with_role("target", "prediction", "score"),
                inputs.timestamp]
        self.roles = inputs.payload(used)
        return OpenedData(None, inputs.workspace, inputs.con, inputs.reference, inputs.current,
                          inputs.combined, schema, inputs.timestamp)


def _lines(score, payload: dict) -> list[str]:
    from aidebt_core.audit.scoring import MIN_ANSWERED_SHARE, format_score
    from aidebt_core.roles import excluded_line

    width = max(len(d) for d in score.dimensions)
    lines = [f"{'dimension':<{width}}  health",
             *[f"{d:<{width}}  {format_score(v)}" for d, v in score.dimensions.items()], "",
             f"headline (minimum dimension): {score.headline_text}"
             + ("" if not score.complete else f"  ({score.band})"),
             f"answered: {score.answered} of {len(score.items)} ({score.unanswered} unanswered, "
             f"scored as level 0; the headline needs {MIN_ANSWERED_SHARE:.0%} answered)",
             f"overall (minimum dimension): {format_score(score.headline)}",
             f"weighted mean: {format_score(score.weighted_mean)}",
             f"ML Test Score view: {score.mts.final:g} ({score.mts.band})",
             f"red flags: {len(score.red_flags)}", *[f"  - {f}" for f in score.red_flags],
             "top actions:", *[f"  - {a.question_id} {a.title} (level {a.current_level} → "
                               f"{a.target_level}, +{a.gain:.2f})" for a in score.actions[:5]]]
    if "prefilled" in payload:
        days = sorted({f["measured_on"] for f in payload["findings"] if f["measured_on"]})
        lines += [f"findings (levels proposed from measurement on {', '.join(days) or '—'} by "
                  "each measured question's rule; what was measured is listed below):",
                  *[f"  - {f['question']} {f['title']}: "
                    + (f"proposed level {f['proposed_level']}"
                       + (f" (at most {f['cap']})" if f["cap"] is not None else "")
                       + f": {f['reason']}" if f["proposed_level"] is not None
                       else f["measured"])
                    + (f" [{f['link']}]" if f["link"] else "")
                    for f in payload["findings"]],
                  "pre-filled from measurements:",
                  *[f"  - {p['question']} level {p['level']} ({p['source']}"
                    + (f" → {p['answer_level']}" if p["source"] == "override" else "")
                    + f"): {p['figure']}" for p in payload["prefilled"]],
                  *[f"  - {u['question']} not measured: {u['note']}"
                    for u in payload["not_measured"]]]
    if "excluded" in payload:
        lines.append(excluded_line(payload["excluded"]))
    return lines


def _num(value: float | None) -> str:
    from aidebt_core.audit.scoring import format_score

    return format_score(value)


def _scorecard(args) -> int:
    from aidebt_core.audit.history import build_scorecard
    from aidebt_core.commands._common import emit
    from aidebt_core.reports.audit import scorecard_report

    stored = _store(args).read()
    for skipped in stored.skipped:
        print(f"warning: {skipped}", file=sys.stderr)
    scorecard = build_scorecard(list(stored.records))
    if args.report:
        _write_report(scorecard_report(scorecard), args.report)
    frame = scorecard.to_frame()
    emit(args, scorecard.to_dict(),
         frame.drop(columns=["top_actions", "auditor"]) if not frame.empty else "no audits saved")
    return 0


def _withdraw(args) -> int:
    import getpass

    from aidebt_core.commands._common import emit

    by = args.auditor or getpass.getuser()
    record = _store(args).withdraw(args.withdraw, by=by, reason=args.reason)
    w = record.withdrawn
    emit(args, {"withdrawn": record.id, "model": record.model, "audited_at": record.audited_at,
                "by": w.by, "at": w.at, "reason": w.reason},
         f"withdrew the audit {record.id} of {record.model} ({record.audited_at}); it stays in "
         "the history, off the scorecard")
    return 0
