"""The contract every registered analysis keeps (aidebt_core/analyses.py), on generated data.

For each analysis that reads data: its result is a frozen dataclass (hashable where the
registry says so), JSON-safe, round-trips through `from_dict` (equal dict, same fingerprint,
and the fingerprint follows the inputs), `to_frame` has the documented columns, its figures
and its report (HTML and Markdown) build with the DuckDB connection closed, and the registry's
`run` gives what the analysis's own CLI command prints. Then a toy analysis registered here, at
run time, gets a CLI command, a JSON result and a report without any other file changing.
(The statistical tests' registry has its own contract suite: test_drift_methods.py.)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
from dataclasses import dataclass, replace
from html import escape
from pathlib import Path

import duckdb
import pandas as pd
import plotly.graph_objects as go
import pytest

from aidebt_core import analyses, cli
from aidebt_core.commands._common import add_data_arguments, open_inputs
from aidebt_core.jsonsafe import jsonable
from aidebt_core.pages import PAGES
from aidebt_core.report import Report
from tests.generated import car_loans, census, write

DATA_ANALYSES = [a.name for a in analyses.all_analyses(analyses.DATA)]
CAR_ROLES = ["--timestamp", "timestamp", "--reference-end", "2019-01-01", "--target", "repaid",
             "--score", "y_pred_proba", "--prediction", "y_pred", "--id", "id"]
CENSUS_ROLES = ["--reference-rows", "1200", "--target", "employed", "--id", "person_id",
                "--role", "year=feature"]
# (data set, role flags, analyses it can serve): census has no model outputs; unsplit, it has
# no current side (the analyses that need none then report on the reference alone).
CASES = [("car_loans", CAR_ROLES, DATA_ANALYSES),
         ("census", CENSUS_ROLES, ["drift", "entanglement"]),
         ("census_alone", CENSUS_ROLES[2:], [a.name for a in analyses.all_analyses(
             analyses.DATA) if not a.need_current and a.name != "slices"])]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("contract")
    # 12,000 loans over two years: ~500 rows a month, enough for monthly performance bands.
    loans = car_loans(n=12_000, seed=3, shift_at="2019-06-01", shift=1.0)
    survey = write(census(n=2400, seed=4), folder / "census.csv")
    return {"car_loans": write(loans, folder / "car_loans.parquet"), "census": survey,
            "census_alone": survey}


def opened(path: str, roles: list[str], need_current: bool = True):
    parser = argparse.ArgumentParser()
    add_data_arguments(parser)
    return open_inputs(parser.parse_args([path, *roles]), need_current=need_current)


@pytest.fixture(scope="module")
def results(files) -> dict[tuple[str, str], tuple[object, object]]:
    """(data set, analysis) -> (result, the opened inputs, already closed)."""
    out = {}
    for dataset, roles, names in CASES:
        for name in names:
            entry = analyses.get(name)
            inputs = opened(files[dataset], roles, entry.need_current)
            with inputs:
                out[dataset, name] = (entry.run_on(inputs), inputs)
    return out


def contract_cases():
    return [pytest.param(d, n, id=f"{n}-{d}") for d, _, names in CASES for n in names]


def test_every_data_analysis_is_covered():
    covered = {n for _, _, names in CASES for n in names}
    alone = {n for d, _, names in CASES if d == "census_alone" for n in names}
    assert "entanglement" in alone
    # Every registered data analysis runs on the car loans (a new one joins automatically).
    assert covered == set(DATA_ANALYSES) >= {"drift", "performance", "entanglement", "slices"}


def test_one_unsplit_source_has_no_current_side(results):
    result, inputs = results["census_alone", "entanglement"]
    assert inputs.current is None and result.current is None and result.change is None
    assert results["census", "entanglement"][0].change is not None


@pytest.mark.parametrize(("dataset", "name"), contract_cases())
def test_result_is_frozen_hashable_where_claimed_and_json_safe(results, dataset, name):
    entry = analyses.get(name)
    result, _ = results[dataset, name]
    params = type(result).__dataclass_params__
    assert dataclasses.is_dataclass(result) and params.frozen
    first = dataclasses.fields(result)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(result, first, None)
    if entry.hashable:
        assert hash(result) == hash(replace(result))
        assert len({result, replace(result)}) == 1
    document = result.to_dict()
    text = json.dumps(document, allow_nan=False)   # no NaN/inf, only JSON types
    assert json.loads(text) == document == jsonable(document)


@pytest.mark.parametrize(("dataset", "name"), contract_cases())
def test_result_round_trips_and_fingerprints_its_inputs(results, files, dataset, name):
    result, _ = results[dataset, name]
    document = json.loads(json.dumps(result.to_dict()))
    back = type(result).from_dict(document)
    assert back.to_dict() == document
    assert back.fingerprint == result.fingerprint == document["fingerprint"]
    # The input identity is the file's path, size and modification time: a rewrite changes it.
    paths = [item[0] for item in result.inputs]
    assert str(Path(files[dataset]).resolve()) in paths
    touched = tuple((p, s, str(int(m) + 1)) if p in paths else (p, s, m)
                    for p, s, m in result.inputs)
    assert result.with_inputs(touched).fingerprint != result.fingerprint
    assert result.with_inputs(result.inputs).fingerprint == result.fingerprint


@pytest.mark.parametrize(("dataset", "name"), contract_cases())
def test_to_frame_has_the_documented_columns(results, dataset, name):
    result, _ = results[dataset, name]
    frame = result.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert tuple(frame.columns) == analyses.get(name).frame_columns


@pytest.mark.parametrize(("dataset", "name"), contract_cases())
def test_figures_and_report_need_no_data(results, dataset, name):
    entry = analyses.get(name)
    result, inputs = results[dataset, name]
    with pytest.raises(duckdb.Error):   # the connection is closed: any query fails
        inputs.con.execute("SELECT 1")
    for source in (result, type(result).from_dict(result.to_dict())):  # also from JSON alone
        figures = entry.make_figures(source)
        assert figures and all(isinstance(f, go.Figure) for f in figures)
        report = entry.make_report(source)
        assert isinstance(report, Report)
        html, markdown = report.to_html(), report.to_markdown()
        assert html.lstrip().lower().startswith("<!doctype html")
        assert escape(report.title, quote=False) in html
        assert markdown.startswith(f"# {report.title}")
        assert html.count("plotly-graph-div") >= len(figures) > 0


@pytest.mark.parametrize("method", __import__("aidebt_core.drift.methods",
                                             fromlist=["choices"]).choices())
def test_drift_keeps_the_contract_under_every_registered_test(files, method):
    """The statistical tests' registry: each method's result round-trips, names the method
    per column, and its figures and report build from the result alone."""
    from aidebt_core.drift.methods import get
    from aidebt_core.drift.options import DriftOptions

    entry = analyses.get("drift")
    with opened(files["car_loans"], CAR_ROLES) as inputs:
        result = entry.run_on(inputs, DriftOptions(method=method))
    used = {c.method for c in result.columns if c.status == "ok"}
    if method == "auto":
        assert used <= {m for m in __import__("aidebt_core.drift.methods",
                                              fromlist=["choices"]).choices()} - {"auto"}
    else:  # the chosen method, or the registry's counterpart where it cannot take the kind
        assert method in used
        assert all(c.kind in get(c.method).kinds for c in result.columns if c.status == "ok")
    document = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    back = type(result).from_dict(document)
    assert back.to_dict() == document
    assert back.fingerprint == result.fingerprint
    assert entry.make_figures(back) and "plotly-graph-div" in entry.make_report(back).to_html()


def test_registry_runs_what_each_command_prints(results, files, capsys):
    """`entry.run_on(data)` (the pages' and the audit's way in) and the CLI's own command
    module give the same result document on the same data and default options."""
    for name in DATA_ANALYSES:
        assert cli.main([name, files["car_loans"], *CAR_ROLES, "--format", "json"]) in (0, 1)
        printed = json.loads(capsys.readouterr().out)
        mine = results["car_loans", name][0].to_dict()
        ignore = {"inputs", "fingerprint", "roles", "excluded"}
        assert {k: v for k, v in printed.items() if k not in ignore and k in mine} == \
            {k: v for k, v in mine.items() if k not in ignore}, name


def test_options_defaults_match_the_commands():
    parser = cli.build_parser()
    path = "data.parquet"
    pairs = {"performance": {"chunk": "chunk", "decision_threshold": "decision_threshold",
                             "k": "k"},
             "slices": {"max_order": "max_order", "top_k": "top_k", "alpha": "alpha",
                        "bins": "bins", "metric": "metric", "min_size": "min_size"},
             "entanglement": {"method": "method", "threshold": "threshold",
                              "change_threshold": "change_threshold", "top_k": "top_k",
                              "max_rows": "max_rows"},
             "drift": {"drift_share": "drift_share", "method": "method"}}
    for name, fields in pairs.items():
        args = parser.parse_args([name, path])
        options = analyses.get(name).default_options()
        for option, dest in fields.items():
            assert getattr(options, option) == getattr(args, dest), (name, option)


def test_pages_and_audit_links_come_from_the_registry():
    from aidebt_core.audit.evidence import PROVIDERS, registered_providers

    shown = {p.analysis: f"/{p.url_path}" for p in PAGES if p.analysis}
    root = Path(__file__).resolve().parents[2]
    for entry in analyses.all_analyses():
        assert entry.page_link == shown[entry.name]
        assert (root / entry.page.file).is_file()
        assert PROVIDERS[entry.name].page == entry.page_link
        assert PROVIDERS[entry.name].measurements == entry.measurements
    assert set(PROVIDERS) == set(registered_providers()) == {a.name for a in
                                                             analyses.all_analyses()}


def test_cli_start_up_imports_no_analysis_module():
    # The registry is read as import-path strings: no entry module, report, plot or audit
    # provider is imported to build the parser (command modules import what they did before).
    code = ("import sys\nfrom aidebt_core.cli import build_parser\nbuild_parser()\n"
            "heavy = [m for m in sys.modules if m.startswith(('plotly', 'sklearn', "
            "'aidebt_core.reports', 'aidebt_core.plots', 'aidebt_core.audit')) or "
            "(m.startswith('aidebt_core') and m.endswith('.entry'))]\n"
            "assert not heavy, heavy\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr


# ------------------------------------------------------------------ a toy analysis, at run time

@dataclass(frozen=True)
class CountOptions:
    include_current: bool = False   # also count the current side
    at_least: int = 0               # only columns with at least this many non-missing values
    label: str = "non-missing"


@dataclass(frozen=True)
class RowCounts:
    counts: tuple[tuple[str, int], ...]
    rows: int
    options: CountOptions
    inputs: tuple[tuple[str, ...], ...] = ()

    @property
    def fingerprint(self) -> str:
        from aidebt_core.drift.identity import fingerprint

        return fingerprint("row_counts", dataclasses.asdict(self.options), self.inputs)

    def with_inputs(self, inputs) -> RowCounts:
        return replace(self, inputs=tuple(inputs))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.counts, columns=["column", "count"])

    def to_dict(self) -> dict:
        return jsonable({"rows": self.rows, "counts": dict(self.counts),
                         "options": dataclasses.asdict(self.options),
                         "inputs": self.inputs, "fingerprint": self.fingerprint})

    @classmethod
    def from_dict(cls, data) -> RowCounts:
        return cls(tuple((k, int(v)) for k, v in data["counts"].items()), int(data["rows"]),
                   CountOptions(**data["options"]),
                   tuple(tuple(i) for i in data["inputs"]))


def count_rows(data, options: CountOptions) -> RowCounts:
    from aidebt_core.data import ROWS, quote_ident

    tables = [data.reference] + ([data.current] if options.include_current and
                                 data.current is not None else [])
    totals: dict[str, int] = {}
    rows = 0
    for table in tables:
        rows += int(table.execute(f"SELECT count(*) FROM {ROWS}").fetchone()[0])
        for column in table.columns:
            n = table.execute(f"SELECT count({quote_ident(column)}) FROM {ROWS}").fetchone()[0]
            totals[column] = totals.get(column, 0) + int(n)
    return RowCounts(tuple((c, n) for c, n in totals.items() if n >= options.at_least), rows,
                     options)


def count_report(result: RowCounts) -> Report:
    import plotly.express as px

    frame = result.to_frame()
    return (Report("Row counts", f"{result.rows:,} rows").table(frame)
            .figure(px.bar(frame, x="column", y="count")))


@pytest.fixture
def toy():
    entry = analyses.register(analyses.Analysis(
        "row_counts", "Row counts per column", CountOptions, count_rows, count_report,
        need_current=False, frame_columns=("column", "count"), hashable=True))
    try:
        yield entry
    finally:
        analyses.unregister("row_counts")


def test_toy_analysis_registered_at_run_time_gets_a_command_json_and_report(
        toy, tmp_path, capsys):
    frame = census(n=500, seed=9)
    frame.loc[frame.index[:37], "hours_per_week"] = None  # 37 missing in the first 100 rows
    path = write(frame, tmp_path / "survey.parquet")
    report_path = tmp_path / "counts.md"
    code = cli.main(["row_counts", path, "--reference-rows", "100", "--at-least", "70",
                     "--include-current", "--format", "json", "--report", str(report_path)])
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    # pandas counts, independently: all 500 rows (reference and current), non-missing values.
    expected = {c: int(n) for c, n in frame.count().items() if n >= 70}
    assert document["counts"] == expected and document["rows"] == 500
    assert document["counts"]["hours_per_week"] == 500 - 37
    assert document["options"] == {"include_current": True, "at_least": 70,
                                   "label": "non-missing"}
    assert document["roles"]["id"] == ["person_id"] and "excluded" in document
    assert RowCounts.from_dict(document).to_dict() == {
        k: v for k, v in document.items() if k not in ("roles", "excluded")}
    markdown = report_path.read_text()
    assert markdown.startswith("# Row counts") and "hours_per_week" in markdown
    # Defaults come from the options dataclass: reference side only, every column.
    assert cli.main(["row_counts", path, "--reference-rows", "100", "--format", "json"]) == 0
    alone = json.loads(capsys.readouterr().out)
    assert alone["rows"] == 100 and alone["counts"]["hours_per_week"] == 100 - 37
    # A typed option refuses a bad value with the usual one-line usage error.
    with pytest.raises(SystemExit) as exc:
        cli.main(["row_counts", path, "--reference-rows", "100", "--at-least", "x"])
    assert exc.value.code == 2
    assert "--at-least" in capsys.readouterr().err


def test_toy_analysis_keeps_the_contract(toy, tmp_path):
    path = write(census(n=300, seed=5), tmp_path / "survey.csv")
    inputs = opened(path, ["--reference-rows", "100"], need_current=False)
    with inputs:
        result = toy.run_on(inputs, CountOptions(include_current=True))
    assert hash(result) == hash(replace(result))
    back = RowCounts.from_dict(json.loads(json.dumps(result.to_dict(), allow_nan=False)))
    assert back == result and back.fingerprint == result.fingerprint
    assert tuple(result.to_frame().columns) == toy.frame_columns
    with pytest.raises(duckdb.Error):
        inputs.con.execute("SELECT 1")
    assert len(toy.make_figures(result)) == 1
    assert "<!doctype html" in toy.make_report(result).to_html().lower()
    assert "row_counts" in cli.build_parser().format_help()
    assert toy.page is None and toy.page_link is None   # no dashboard page (yet)


def test_a_runtime_analysis_with_evidence_serves_the_audit():
    from aidebt_core.audit.evidence import provider_for
    from aidebt_core.audit.providers import Measured

    def items(context):
        return {"column_counts": Measured(2, "every column counted")}

    analyses.register(analyses.Analysis(
        "row_counts", "Row counts per column", CountOptions, count_rows, count_report,
        evidence=items, measurements=("column_counts",)))
    try:
        provider = provider_for("column_counts")
        assert provider.name == "row_counts" and provider.run is items
        assert provider.page == ""   # no page shows it: no link
    finally:
        analyses.unregister("row_counts")
    assert provider_for("column_counts") is None


def test_a_registered_name_cannot_shadow_a_command():
    entry = analyses.register(analyses.Analysis("audit", "Not the audit", CountOptions,
                                                count_rows, count_report))
    try:
        with pytest.raises(ValueError, match="existing command"):
            cli.build_parser()
        with pytest.raises(ValueError, match="already registered"):
            analyses.register(entry)
    finally:
        analyses.unregister("audit")
