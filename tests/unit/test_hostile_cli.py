"""Every bad input is exit 2 with one `error:` line naming the problem, never a traceback and
never exit 1 (1 means "a --fail-on-* gate failed", so CI must not read a crash as drift).

The cases run `cli.main` in-process (fast), each with its expected exit code and a fragment
of the message; a few also run as a subprocess to prove no traceback reaches stderr. The data
is generated here: other names and types than the sample's (`repaid`, `p_repaid`, integer
`age`, a `city` string), plus corrupt, empty, hostile and extreme files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from aidebt_core.cli import main

HOSTILE_NAMES = ("![x](http://127.0.0.1:9/p.png)", "[click](http://evil.example)",
                 "<img src=x onerror=alert(1)>")
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens


def _loans(n: int, seed: int, shift: float = 0.0, start: str = "2021-01-01") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    repaid = (rng.uniform(size=n) < 0.7).astype(np.int64)
    p = np.clip(0.5 + 0.35 * (2 * repaid - 1) + rng.normal(0, 0.2, n), 0, 1)
    return pd.DataFrame({
        "loan_ref": np.arange(n, dtype=np.int64) + 10_000 * seed,
        "booked": pd.date_range(start, periods=n, freq="6h").astype("datetime64[us]"),
        "age": rng.integers(18, 80, n).astype(np.int64),
        "salary": rng.normal(40_000 + 8_000 * shift, 9_000, n).round(2),
        "city": rng.choice(["lyon", "lille", "nice"], n),
        "p_repaid": p,
        "pred": (p >= 0.5).astype(np.int64),
        "repaid": repaid,
    })


@pytest.fixture(scope="module")
def d(tmp_path_factory) -> Path:
    """A folder of good, broken and hostile inputs."""
    root = tmp_path_factory.mktemp("hostile")
    good = _loans(800, 1)
    good.to_parquet(root / "good.parquet")
    _loans(800, 2, shift=1.0, start="2021-07-01").to_parquet(root / "shifted.parquet")
    good.to_csv(root / "good.csv", index=False)
    (root / "empty.csv").write_bytes(b"")
    (root / "header.csv").write_text("age,salary,repaid\n")
    (root / "corrupt.parquet").write_bytes(b"PAR1" + os.urandom(200))
    (root / "corrupt.duckdb").write_bytes(b"not a database at all" * 50)
    pd.DataFrame({"colour": ["red", "blue"] * 50}).to_parquet(root / "other.parquet")
    typed = _loans(800, 2)
    typed["age"] = typed["age"].astype(str) + "y"  # same column, text instead of integers
    typed.to_parquet(root / "typed.parquet")
    odd = good.copy()
    odd["all_null"] = pd.Series([None] * len(odd), dtype="float64")
    odd["constant"] = 7.0
    odd.to_parquet(root / "odd.parquet")
    good.head(1).to_parquet(root / "one_row.parquet")
    rng = np.random.default_rng(5)
    pd.DataFrame({"token": [f"t{i}" for i in rng.permutation(50_000)],
                  "amount": rng.normal(size=50_000)}).to_parquet(root / "many_a.parquet")
    pd.DataFrame({"token": [f"t{i}" for i in rng.permutation(50_000) + 25_000],
                  "amount": rng.normal(size=50_000)}).to_parquet(root / "many_b.parquet")
    for name, frame in (("hostile", good), ("hostile_shifted", _loans(800, 2, shift=1.0))):
        hostile = frame.rename(columns={"city": HOSTILE_NAMES[0], "salary": HOSTILE_NAMES[1],
                                        "age": HOSTILE_NAMES[2]})
        hostile[HOSTILE_NAMES[0]] = np.where(np.arange(len(hostile)) % 2, HOSTILE_NAMES[1],
                                             HOSTILE_NAMES[2])
        hostile.to_parquet(root / f"{name}.parquet")
    naninf = good.copy()
    naninf.loc[::7, "salary"] = np.nan
    naninf.loc[::11, "salary"] = np.inf
    naninf.loc[::13, "salary"] = -np.inf
    naninf.to_parquet(root / "naninf.parquet")
    extreme_a, extreme_b = good.copy(), _loans(800, 3)
    extreme_a["salary"] = np.random.default_rng(1).uniform(-1, 1, 800) * 1.7e308
    extreme_b["salary"] = np.random.default_rng(2).uniform(-0.2, 1, 800) * 1.7e308
    extreme_a.to_parquet(root / "extreme_a.parquet")
    extreme_b.to_parquet(root / "extreme_b.parquet")
    badts = good.copy()
    badts["booked"] = badts["booked"].astype(str)
    badts.loc[::5, "booked"] = "not a date"
    badts.to_csv(root / "badts.csv", index=False)
    nolabels = good.copy()
    nolabels["repaid"] = pd.Series([None] * len(good), dtype="Int64")
    nolabels.to_parquet(root / "nolabels.parquet")
    nested = pa.table({"age": pa.array(good["age"]), "repaid": pa.array(good["repaid"]),
                       "salary": pa.array(good["salary"]), "city": pa.array(good["city"]),
                       "tags": pa.array([["a", "b"]] * len(good)),
                       "meta": pa.array([{"k": 1, "v": "x"}] * len(good))})
    pq.write_table(nested, root / "nested.parquet")
    # A .duckdb whose views read a file outside the data folder: absolute and relative paths.
    (root / "secret").mkdir()
    (root / "secret" / "id_rsa.csv").write_text("key\nBEGIN-PRIVATE-KEY-SECRET\n")
    (root / "data").mkdir()
    here = os.getcwd()
    os.chdir(root)
    try:
        con = duckdb.connect(str(root / "data" / "views.duckdb"))
        con.execute(f"CREATE VIEW absolute AS SELECT * FROM "
                    f"read_csv('{root / 'secret' / 'id_rsa.csv'}')")
        con.execute("CREATE VIEW relative AS SELECT * FROM read_csv('secret/id_rsa.csv')")
        con.execute("CREATE TABLE fine AS SELECT 1 AS x")
        con.close()
    finally:
        os.chdir(here)
    # Answers files
    (root / "latin1.yaml").write_bytes("model: modèle\nanswers: {}\n".encode("latin-1"))
    laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    laughs += [f'{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]'
               for p, c in zip("abcdefgh", "bcdefghi", strict=True)]
    (root / "laughs.yaml").write_text("\n".join(laughs) + "\n")
    (root / "brackets.yaml").write_text("[" * 100_000 + "]" * 100_000)
    (root / "brackets.json").write_text("[" * 100_000 + "]" * 100_000)
    (root / "level7.yaml").write_text("answers:\n  D1: {level: 7}\n")
    (root / "measured.yaml").write_text("answers:\n  D1: {level: 2, measured_level: abc}\n")
    (root / "baddate.yaml").write_text("answers:\n  D1: {level: 2, evidence_date: 2025-13-45}\n")
    (root / "alist.yaml").write_text("- 1\n- 2\n")
    (root / "unknownq.yaml").write_text("answers:\n  ZZ99: {level: 2}\n")
    (root / "good_answers.yaml").write_text("model: m\nanswers:\n  D1: {level: 3}\n")
    (root / "malformed_audits.json").write_text(json.dumps(
        {"audits": [{"model": "m", "audited_at": "not-a-date", "answers": "nope"}]}))
    (root / "not_json.json").write_text("{nope")
    # A folder with a foreign MLflow store, for `aidebt sample`
    (root / "project").mkdir()
    (root / "project" / "mlflow.db").write_bytes(b"SQLite format 3\x00 someone's runs")
    (root / "a_file").write_text("not a folder")
    return root


@dataclass(frozen=True)
class Case:
    argv: tuple[str, ...]
    code: int
    fragment: str


def c(argv: str, code: int, fragment: str) -> Case:
    return Case(tuple(argv.split()), code, fragment)


LOANS = "--target repaid --prediction pred --score p_repaid --timestamp booked"
SPLIT = f"{LOANS} --reference-end 2021-03-01"
SL = "slices {d}/good.parquet --target repaid --prediction pred --columns age,city --max-order 1"
EN = "entanglement {d}/good.parquet --target repaid"

CASES = {
    # --- no command, unknown command and option -------------------------------------------
    "no-command": c("", 2, "no command given"),
    "unknown-command": c("frobnicate", 2, "invalid choice"),
    "unknown-option": c("drift {d}/good.parquet {d}/shifted.parquet --colour red", 2,
                        "unrecognized arguments"),
    # --- drift ------------------------------------------------------------------------------
    "drift-missing-file": c("drift {d}/nope.parquet {d}/good.parquet", 2, "nope.parquet"),
    "drift-empty-file": c("drift {d}/empty.csv {d}/good.csv", 2, "empty"),
    "drift-header-only": c("drift {d}/header.csv {d}/header.csv", 2, "no data rows"),
    "drift-corrupt-parquet": c("drift {d}/corrupt.parquet {d}/good.parquet", 2, "corrupt.parquet"),
    "drift-corrupt-duckdb": c("drift {d}/corrupt.duckdb::t {d}/good.parquet", 2, "corrupt.duckdb"),
    "drift-disjoint-schemas": c("drift {d}/good.parquet {d}/other.parquet", 2, "no column"),
    "drift-duckdb-view-outside": c("drift {d}/data/views.duckdb::absolute "
                                   "{d}/data/views.duckdb::absolute", 2, "outside"),
    "drift-duckdb-no-table": c("drift {d}/data/views.duckdb::nope {d}/good.parquet", 2,
                               "no table 'nope'"),
    "drift-threshold-nan": c("drift {d}/good.parquet {d}/shifted.parquet --threshold nan", 2,
                             "--threshold"),
    "drift-threshold-negative": c("drift {d}/good.parquet {d}/shifted.parquet --threshold -0.1",
                                  2, "--threshold"),
    "drift-share-2": c("drift {d}/good.parquet {d}/shifted.parquet --drift-share 2", 2,
                       "--drift-share"),
    "drift-share-inf": c("drift {d}/good.parquet {d}/shifted.parquet --drift-share inf", 2,
                         "--drift-share"),
    "drift-column-threshold-nan": c("drift {d}/good.parquet {d}/shifted.parquet "
                                    "--column-threshold salary=nan", 2, "threshold"),
    "drift-unknown-column": c("drift {d}/good.parquet {d}/shifted.parquet --columns nope", 2,
                              "'nope'"),
    "drift-bad-method": c("drift {d}/good.parquet {d}/shifted.parquet --method magic", 2,
                          "invalid choice"),
    "drift-bad-format": c("drift {d}/good.parquet {d}/shifted.parquet --format xml", 2,
                          "invalid choice"),
    "drift-all-null-and-constant": c("drift {d}/odd.parquet {d}/odd.parquet --format json", 0,
                                     '"constant"'),
    "drift-one-row": c("drift {d}/one_row.parquet {d}/one_row.parquet --format json", 0,
                       '"columns"'),
    "drift-50k-categories": c("drift {d}/many_a.parquet {d}/many_b.parquet --format json", 0,
                              '"token"'),
    "drift-hostile-names": c("drift {d}/hostile.parquet {d}/hostile_shifted.parquet --format "
                             "json", 0, "evil.example"),
    "drift-nan-inf": c("drift {d}/naninf.parquet {d}/good.parquet --format json", 0,
                       "infinite value(s) left out"),
    "drift-extreme-values": c("drift {d}/extreme_a.parquet {d}/extreme_b.parquet --columns "
                              "salary --fail-on-drift=any", 1, "1 of 1 columns drifted"),
    "drift-nested-columns": c("drift {d}/nested.parquet {d}/nested.parquet --format json", 0,
                              '"tags"'),
    "drift-type-changed": c("drift {d}/good.parquet {d}/typed.parquet --columns age --format "
                            "json", 0, "type changed"),
    "drift-one-source-no-split": c("drift {d}/good.parquet", 2, "no split"),
    "drift-two-sources-and-split": c("drift {d}/good.parquet {d}/shifted.parquet "
                                     "--reference-end 2021-03-01", 2, "nothing to split"),
    "drift-impossible-date": c("drift {d}/good.parquet --timestamp booked --reference-end "
                               "2021-13-40", 2, "2021-13-40"),
    "drift-reference-rows-0": c("drift {d}/good.parquet --reference-rows 0", 2,
                                "--reference-rows"),
    "drift-reference-rows-all": c("drift {d}/good.parquet --reference-rows 100000", 2, "800 rows"),
    "drift-unknown-role": c("drift {d}/good.parquet {d}/shifted.parquet --role age=boss", 2,
                            "'boss'"),
    "drift-role-unknown-column": c("drift {d}/good.parquet {d}/shifted.parquet --role "
                                   "nope=target", 2, "'nope'"),
    "drift-role-on-nested-column": c("drift {d}/nested.parquet {d}/nested.parquet --role "
                                     "tags=target", 2, "nested"),
    "drift-recent-0": c("drift {d}/good.parquet --timestamp booked --reference-end 2021-03-01 "
                        "--recent 0", 2, "--recent"),
    "drift-chunk-0": c("drift {d}/good.parquet --timestamp booked --reference-end 2021-03-01 "
                       "--chunk 0", 2, "positive whole size"),
    "drift-min-chunk-rows-0": c("drift {d}/good.parquet --timestamp booked --reference-end "
                                "2021-03-01 --min-chunk-rows 0", 2, "--min-chunk-rows"),
    "drift-extreme-values-over-time": c("drift {d}/extreme_a.parquet {d}/extreme_b.parquet "
                                        "--columns salary --timestamp booked --chunk 200 "
                                        "--format json", 0, '"over_time"'),
    "drift-report-unwritable": c("drift {d}/good.parquet {d}/shifted.parquet --report "
                                 "{d}/a_file/out.html", 2, "out.html"),
    # --- performance ------------------------------------------------------------------------
    "perf-k-nan": c(f"performance {{d}}/good.parquet {SPLIT} --k nan --fail-on-alert", 2,
                    "--k"),
    "perf-k-negative": c(f"performance {{d}}/good.parquet {SPLIT} --k -1", 2, "--k"),
    "perf-k-inf": c(f"performance {{d}}/good.parquet {SPLIT} --k inf", 2, "--k"),
    "perf-decision-threshold-1.5": c(f"performance {{d}}/good.parquet {SPLIT} "
                                     "--decision-threshold 1.5", 2, "--decision-threshold"),
    "perf-decision-threshold-nan": c(f"performance {{d}}/good.parquet {SPLIT} "
                                     "--decision-threshold nan", 2, "--decision-threshold"),
    "perf-unknown-target": c("performance {d}/good.parquet --target nope --score p_repaid "
                             "--timestamp booked --reference-end 2021-03-01", 2, "nope"),
    "perf-bad-reference-end": c("performance {d}/good.parquet --target repaid --score "
                                "p_repaid --timestamp booked --reference-end not-a-date", 2,
                                "not-a-date"),
    "perf-reference-end-after-data": c("performance {d}/good.parquet --target repaid --score "
                                       "p_repaid --timestamp booked --reference-end 2030-01-01",
                                       2, "no rows"),
    "perf-bad-timestamps": c("performance {d}/badts.csv --target repaid --score p_repaid "
                             "--timestamp booked --reference-end 2021-03-01", 2, "booked"),
    "perf-timestamp-not-time": c("performance {d}/good.parquet --target repaid --score "
                                 "p_repaid --timestamp city --reference-end 2021-03-01", 2,
                                 "city"),
    "perf-chunk-zero": c(f"performance {{d}}/good.parquet {SPLIT} --chunk 0", 2, "chunk"),
    "perf-chunk-word": c(f"performance {{d}}/good.parquet {SPLIT} --chunk fortnight", 2,
                         "fortnight"),
    "perf-chunk-negative": c(f"performance {{d}}/good.parquet {SPLIT} --chunk -5", 2,
                             "positive whole size"),
    "perf-no-labels": c("performance {d}/nolabels.parquet --target repaid --score p_repaid "
                        "--timestamp booked --reference-end 2021-03-01", 2, "labelled rows"),
    "perf-header-only": c("performance {d}/header.csv --target repaid --timestamp age "
                          "--reference-end 2021-03-01", 2, "no data rows"),
    # --- slices -----------------------------------------------------------------------------
    "slices-fail-on-slice-nan": c(SL + " --fail-on-slice nan", 2, "--fail-on-slice"),
    "slices-fail-on-slice-inf": c(SL + " --fail-on-slice inf", 2, "--fail-on-slice"),
    "slices-max-order-0": c(SL.replace("--max-order 1", "--max-order 0"), 2, "--max-order"),
    "slices-min-size-0": c(SL + " --min-size 0", 2, "--min-size"),
    "slices-min-size-negative": c(SL + " --min-size -3", 2, "--min-size"),
    "slices-top-k-0": c(SL + " --top-k 0", 2, "--top-k"),
    "slices-alpha-0": c(SL + " --alpha 0", 2, "--alpha"),
    "slices-alpha-nan": c(SL + " --alpha nan", 2, "--alpha"),
    "slices-bins-1": c(SL + " --bins 1", 2, "--bins"),
    "slices-edges-unknown-column": c(SL + " --edges nope=1", 2, "'nope'"),
    "slices-edges-not-numbers": c(SL + " --edges age=abc", 2, "--edges"),
    "slices-edges-text-column": c(SL + " --edges city=1", 2, "not numeric"),
    "slices-unknown-target": c("slices {d}/good.parquet --target nope --prediction pred", 2,
                               "nope"),
    "slices-unknown-columns": c("slices {d}/good.parquet --target repaid --prediction pred "
                                "--columns nope", 2, "nope"),
    "slices-bad-metric": c(SL + " --metric magic", 2, "invalid choice"),
    "slices-one-row": c("slices {d}/one_row.parquet --target repaid --prediction pred "
                        "--columns age,city --format json", 0, '"slices"'),
    "slices-hostile-names": c("slices {d}/hostile.parquet --target repaid --prediction pred "
                              "--max-order 1 --min-size 30 --format json", 0, "evil.example"),
    # --- entanglement -----------------------------------------------------------------------
    "ent-threshold-nan": c(EN + " --threshold nan", 2, "--threshold"),
    "ent-threshold-1.5": c(EN + " --threshold 1.5", 2, "--threshold"),
    "ent-change-threshold-negative": c(EN + " --change-threshold -1", 2, "--change-threshold"),
    "ent-top-k-0": c(EN + " --top-k 0", 2, "--top-k"),
    "ent-max-rows-negative": c(EN + " --max-rows -1", 2, "--max-rows"),
    "ent-unknown-target": c("entanglement {d}/good.parquet --target nope", 2, "nope"),
    "ent-bad-method": c(EN + " --method magic", 2, "invalid choice"),
    "ent-all-null-and-constant": c("entanglement {d}/odd.parquet --target repaid --format json",
                                   0, '"matrix"'),
    "ent-nested-columns": c("entanglement {d}/nested.parquet --target repaid --format json", 0,
                            '"excluded"'),
    "ent-hostile-names": c("entanglement {d}/hostile.parquet --target repaid --format json", 0,
                           "evil.example"),
    "ent-one-row": c("entanglement {d}/one_row.parquet --target repaid --format json", 2,
                     "one_row.parquet"),
    # --- runs -------------------------------------------------------------------------------
    "runs-unreachable-mlflow": c(f"runs --tracking-uri {UNREACHABLE}", 2, "127.0.0.1:9"),
    "runs-missing-store": c("runs --tracking-uri {d}/none.db", 2, "none.db"),
    "runs-sqlite-without-path": c("runs --tracking-uri sqlite://", 2, "sqlite://"),
    "runs-fail-below-nan": c("runs --tracking-uri {sample} --fail-below nan", 2, "--fail-below"),
    "runs-fail-below-1.5": c("runs --tracking-uri {sample} --fail-below 1.5", 2, "--fail-below"),
    "runs-unknown-alias": c("runs --tracking-uri {sample} --alias typo --fail-below 0.5", 2,
                            "aliases in use: challenger, production"),
    "runs-diff-unknown-run": c("runs --tracking-uri {sample} --diff nope1 nope2", 2, "nope1"),
    # --- audit ------------------------------------------------------------------------------
    "audit-not-utf8": c("audit --answers {d}/latin1.yaml", 2, "not UTF-8"),
    "audit-billion-laughs": c("audit --answers {d}/laughs.yaml", 2, "aliases"),
    "audit-nested-brackets-yaml": c("audit --answers {d}/brackets.yaml", 2, "nests"),
    "audit-nested-brackets-json": c("audit --answers {d}/brackets.json", 2, "nests"),
    "audit-level-7": c("audit --answers {d}/level7.yaml", 2, "D1"),
    "audit-measured-level-abc": c("audit --answers {d}/measured.yaml", 2, "measured_level"),
    "audit-evidence-date-2025-13-45": c("audit --answers {d}/baddate.yaml", 2, "real date"),
    "audit-answers-a-list": c("audit --answers {d}/alist.yaml", 2, "alist.yaml"),
    "audit-unknown-question": c("audit --answers {d}/unknownq.yaml", 2, "ZZ99"),
    "audit-missing-answers": c("audit --answers {d}/nope.yaml", 2, "nope.yaml"),
    "audit-fail-below-nan": c("audit --answers {d}/good_answers.yaml --fail-below nan", 2,
                              "--fail-below"),
    "audit-fail-below-11": c("audit --answers {d}/good_answers.yaml --fail-below 11", 2,
                             "--fail-below"),
    "audit-import-malformed": c("audit --import {d}/malformed_audits.json --store "
                                "{tmp}/store.sqlite", 2, "malformed_audits.json"),
    "audit-import-not-json": c("audit --import {d}/not_json.json --store {tmp}/store.sqlite", 2,
                               "not_json.json"),
    "audit-export-onto-store": c("audit --export {tmp}/store.sqlite --store {tmp}/store.sqlite",
                                 2, "store"),
    "audit-prefill-unreachable-mlflow": c(f"audit --model m --prefill --tracking-uri "
                                          f"{UNREACHABLE}", 2, "127.0.0.1:9"),
    "audit-prefill-without-model": c("audit --prefill --tracking-uri {sample}", 2, "--model"),
    # --- sample -----------------------------------------------------------------------------
    "sample-into-a-file": c("sample {d}/a_file/sub --no-mlflow", 2, "a_file"),
    "sample-over-foreign-mlflow": c("sample {d}/project", 2, "project"),
    # --- serve (argument checks only: a valid start would be refused by the test) ------------
    "serve-port-negative": c("serve --port -1", 2, "--port"),
    "serve-port-70000": c("serve --port 70000", 2, "--port"),
    "serve-port-word": c("serve --port http", 2, "--port"),
    "serve-missing-workspace": c("serve --workspace {d}/nonexistent", 2, "nonexistent"),
    "serve-root-workspace": c("serve --workspace /", 2, "/"),
    "serve-etc-workspace": c("serve --workspace /etc", 2, "/etc"),
}


class WouldServe(BaseException):
    """Raised instead of starting Streamlit: a serve case that gets that far has failed."""


def _argv(case: Case, d: Path, sample: Path, tmp: Path) -> list[str]:
    return [part.format(d=d, sample=sample, tmp=tmp) for part in case.argv if part]


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse refuses bad usage itself
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_input(name, d, sample_dir, tmp_path, capsys, monkeypatch):
    case = CASES[name]
    monkeypatch.setattr(os, "execve", lambda *a: (_ for _ in ()).throw(WouldServe(a)))
    monkeypatch.chdir(tmp_path)  # nothing may be read from or written to the working folder
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("AIDEBT_AUDIT_STORE", str(tmp_path / "default_store.sqlite"))
    code, out, err = _run(_argv(case, d, sample_dir, tmp_path), capsys)
    assert "Traceback" not in err
    assert "internal error" not in err, err
    if case.code == 2:
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and err.strip().splitlines()[-1] == errors[0], err
        assert case.fragment in errors[0], errors[0]
        assert out == ""  # nothing half-written on stdout
    else:
        assert case.fragment in out + err
    assert code == case.code, err


def test_the_suite_is_big_enough():
    assert len(CASES) >= 60
    assert {name.split("-")[0] for name in CASES} >= {
        "drift", "perf", "slices", "ent", "runs", "audit", "sample", "serve"}


def test_a_relative_duckdb_view_does_not_read_under_the_working_folder(d, capsys,
                                                                        monkeypatch):
    # The view reads 'secret/id_rsa.csv' relative to where the command runs; the CLI reads
    # only under the data arguments' folders, so it is refused, and the key never printed.
    monkeypatch.chdir(d)
    code, out, err = _run(["drift", "data/views.duckdb::relative", "data/views.duckdb::relative",
                           "--format", "json"], capsys)
    assert code == 2 and "SECRET" not in out + err
    assert err.startswith("error:") and "Traceback" not in err


def test_hostile_names_are_reported_verbatim_in_json(d, capsys):
    code, out, err = _run(["drift", str(d / "hostile.parquet"), str(d / "hostile_shifted.parquet"),
                           "--format", "json"], capsys)
    assert code == 0, err
    columns = {c["name"]: c for c in json.loads(out)["columns"]}
    assert set(HOSTILE_NAMES) <= set(columns)
    assert columns[HOSTILE_NAMES[1]]["drifted"]  # the salary shift, under its hostile name


SUBPROCESS_CASES = ["audit-billion-laughs", "audit-nested-brackets-yaml", "perf-k-nan",
                    "drift-corrupt-parquet", "drift-duckdb-view-outside", "serve-port-70000",
                    "no-command"]


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_no_traceback_reaches_stderr_of_the_real_command(name, d, sample_dir, tmp_path):
    case = CASES[name]
    proc = subprocess.run([sys.executable, "-m", "aidebt_core.cli",
                           *_argv(case, d, sample_dir, tmp_path)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == case.code
    lines = proc.stderr.strip().splitlines()
    assert lines == [lines[0]] and lines[0].startswith("error:") and case.fragment in lines[0]
    assert proc.stdout == ""


@pytest.mark.parametrize("name", ["drift-extreme-values", "drift-extreme-values-over-time",
                                  "drift-nan-inf"])
def test_extreme_values_leave_no_numpy_warning_on_stderr(name, d, sample_dir, tmp_path):
    # in-process, pytest collects warnings itself; the real command shows what a user sees
    case = CASES[name]
    proc = subprocess.run([sys.executable, "-m", "aidebt_core.cli",
                           *_argv(case, d, sample_dir, tmp_path)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == case.code, proc.stderr
    assert "Warning" not in proc.stderr and "overflow" not in proc.stderr, proc.stderr


@pytest.mark.parametrize("text", ["[" * 100_000, "{" * 100_000, '{"a": "' + "x" * 6_000_000])
def test_link_values_that_nest_or_grow_without_bound_are_user_errors(text):
    # ?slice= and ?roles= come from any link: past the recursion limit or the size cap they
    # are refused with a message, never an exception box
    from aidebt_core.errors import AidebtError
    from aidebt_core.selection import decode_roles
    from aidebt_core.slices import parse_slice

    with pytest.raises(AidebtError) as refused:
        parse_slice(text)
    assert len(str(refused.value)) < 300  # the message quotes the start only
    with pytest.raises(AidebtError):
        decode_roles(text)
