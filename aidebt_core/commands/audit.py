"""`aidebt audit`: score a filled questionnaire, print the questionnaire, manage the store.

    aidebt audit --answers answers.yaml [--report out.html|out.md] [--fail-below X] [--save]
    aidebt audit --questions
    aidebt audit --scorecard [--report scorecard.html]
    aidebt audit --export audits.json | --import audits.json
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import pandas as pd

from aidebt_core.commands._common import add_format_option, emit
from aidebt_core.errors import AidebtError


def register(sub) -> None:
    parser = sub.add_parser("audit", help="score an AI-technical-debt audit questionnaire")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--answers", metavar="FILE", help="answers file (YAML or JSON) to score")
    mode.add_argument("--questions", action="store_true", help="print the questionnaire")
    mode.add_argument("--scorecard", action="store_true",
                      help="latest audit of every model in the store")
    mode.add_argument("--export", metavar="FILE", help="write every saved audit to a JSON file")
    mode.add_argument("--import", dest="import_file", metavar="FILE",
                      help="add the audits of an exported JSON file to the store")
    parser.add_argument("--report", metavar="OUT", help="write an .html or .md report")
    parser.add_argument("--fail-below", type=float, metavar="X",
                        help="exit 1 when the headline (minimum dimension) is below X")
    parser.add_argument("--save", action="store_true", help="save the scored audit to the store")
    parser.add_argument("--store", metavar="PATH",
                        help="audit store file (default: $AIDEBT_AUDIT_STORE or ./audits.sqlite)")
    parser.add_argument("--auditor", default="", help="who ran the audit (with --save)")
    parser.add_argument("--date", default="", help="audit date YYYY-MM-DD (default: today)")
    add_format_option(parser)
    parser.set_defaults(handler=run)


def _store(args):
    from aidebt_core.audit.store import AuditStore, default_store_path

    path = Path(args.store).expanduser() if args.store else default_store_path(Path.cwd())
    return AuditStore(path)


def _write_report(report, out: str) -> None:
    path = Path(out).expanduser()
    if path.suffix.lower() not in (".html", ".htm", ".md", ".markdown"):
        raise AidebtError(f"--report '{out}': use a .html or .md file name.")
    text = report.to_markdown() if path.suffix.lower() in (".md", ".markdown") \
        else report.to_html()
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)


def run(args) -> int:
    from aidebt_core.audit.questions import load_questionnaire

    questionnaire = load_questionnaire()
    if args.questions:
        rows = questionnaire.to_list()
        emit(args, rows, pd.DataFrame(rows)[["id", "dimension", "weight", "title"]])
        return 0
    if args.scorecard:
        return _scorecard(args)
    if args.export:
        document = _store(args).export_json()
        Path(args.export).expanduser().write_text(json.dumps(document, indent=2) + "\n")
        emit(args, {"exported": len(document["audits"]), "file": args.export},
             f"exported {len(document['audits'])} audit(s) to {args.export}")
        return 0
    if args.import_file:
        try:
            document = json.loads(Path(args.import_file).expanduser().read_text())
        except json.JSONDecodeError as exc:
            raise AidebtError(f"'{args.import_file}' is not JSON: {exc}.") from exc
        added, present = _store(args).import_json(document, origin=args.import_file)
        emit(args, {"added": added, "already_present": present},
             f"added {added} audit(s); {present} already present")
        return 0
    return _score(args, questionnaire)


def _score(args, questionnaire) -> int:
    from aidebt_core.audit.questions import read_answer_file
    from aidebt_core.audit.report import audit_report
    from aidebt_core.audit.scoring import score_audit
    from aidebt_core.audit.store import AuditRecord

    answers = read_answer_file(args.answers, questionnaire)
    questionnaire = questionnaire.with_tiers(answers.tiers)
    day = args.date or date.today().isoformat()
    score = score_audit(questionnaire, answers.answers, audit_date=day)
    payload = score.to_dict()
    record = AuditRecord(model=answers.model or Path(args.answers).stem,
                         model_version=answers.model_version, audited_at=day,
                         questionnaire_version=questionnaire.version, auditor=args.auditor,
                         answers=answers.answers, scores=payload,
                         notes={"tiers": ", ".join(f"{k}={v}" for k, v in answers.tiers.items())}
                         if answers.tiers else {})
    if args.save:
        record = _store(args).save_audit(record)
        payload = {**payload, "saved_id": record.id}
    if args.report:
        _write_report(audit_report(record, questionnaire), args.report)
    table = pd.DataFrame([{"dimension": d, "health": v} for d, v in score.dimensions.items()])
    lines = [table.to_string(index=False, float_format="{:.2f}".format), "",
             f"overall (minimum dimension): {_num(score.headline)}  ({score.band})",
             f"weighted mean: {_num(score.weighted_mean)}",
             f"ML Test Score view: {score.mts.final:g} ({score.mts.band})",
             f"red flags: {len(score.red_flags)}", *[f"  - {f}" for f in score.red_flags],
             "top actions:", *[f"  - {a.question_id} {a.title} (level {a.current_level} → "
                               f"{a.target_level}, +{a.gain:.2f})" for a in score.actions[:5]]]
    emit(args, payload, "\n".join(lines))
    if args.fail_below is not None and (score.headline is None
                                        or score.headline < args.fail_below):
        print(f"overall {_num(score.headline)} is below --fail-below {args.fail_below:g}",
              file=sys.stderr)
        return 1
    return 0


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _scorecard(args) -> int:
    from aidebt_core.audit.history import build_scorecard
    from aidebt_core.audit.report import scorecard_report

    scorecard = build_scorecard(_store(args).list_audits())
    if args.report:
        _write_report(scorecard_report(scorecard), args.report)
    frame = scorecard.to_frame()
    emit(args, scorecard.to_dict(),
         frame.drop(columns=["top_actions", "auditor"]) if not frame.empty else "no audits saved")
    return 0
