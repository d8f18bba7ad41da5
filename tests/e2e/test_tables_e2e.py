"""No table on any page shows "None", "nan" or "-0.000" on the sample scenario (issue 17).

How the cells are read: Streamlit draws `st.dataframe` on a canvas (glide-data-grid). Its
accessible DOM copy holds the *raw* values (a missing value is an empty cell there, while the
canvas paints "None"), so the DOM cannot tell what a reader sees. Instead the test records the
messages the server sends the browser over the websocket, decodes every dataframe/table
element with Streamlit's own protobuf classes and its Arrow payload, and works out each
cell's text the way the frontend does: the Styler's display text when the page formatted the
cell, the element's placeholder (or "None" when it has none) for a missing value, a printf
column format applied to the number, or the value itself.
"""

from __future__ import annotations

import io
import json
import math
import re
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pytest

from aidebt_core.pages import PAGES
from tests.e2e.conftest import screenshot, wait_for_app

pytestmark = pytest.mark.e2e

BAD_TEXT = re.compile(r"^(None|nan|NaN|<NA>|NaT)$|^[-−]0(\.0+)?%?$")


@dataclass(frozen=True)
class Shown:
    element: int
    column: str
    text: str


def _arrow_frame(data: bytes) -> pd.DataFrame:
    with pa.ipc.open_stream(io.BytesIO(data)) as reader:
        return reader.read_all().to_pandas()


def _printf(fmt: str | None, value) -> str | None:
    if not fmt or "%" not in fmt or fmt in ("percent",):
        return None
    try:
        return fmt % value
    except (TypeError, ValueError):
        return None


def shown_cells(element, index: int) -> list[Shown]:
    """The text of every cell of one dataframe/table element as the frontend draws it."""
    arrow = element.arrow_data
    if not arrow.data:
        return []
    frame = _arrow_frame(arrow.data)
    display = _arrow_frame(arrow.styler.display_values) if arrow.styler.display_values \
        else None
    has_placeholder = hasattr(element, "placeholder") and element.HasField("placeholder")
    missing_text = element.placeholder if has_placeholder else "None"
    try:
        config = json.loads(element.columns) if getattr(element, "columns", "") else {}
    except ValueError:
        config = {}
    cells = []
    for j, column in enumerate(frame.columns):
        column_config = config.get(str(column)) or config.get(f"_pos:{j}") or {}
        fmt = (column_config.get("type_config") or {}).get("format")
        for i, value in enumerate(frame[column]):
            if value is None or (isinstance(value, float) and math.isnan(value)) \
                    or value is pd.NA or value is pd.NaT:
                text = missing_text
            elif display is not None and str(display.iat[i, j]) not in ("", "None"):
                text = str(display.iat[i, j])
            else:
                text = _printf(fmt, value) or str(value)
            cells.append(Shown(index, str(column), text))
    return cells


def tables_in(frames: list[bytes]) -> list[list[Shown]]:
    """Every dataframe/table element in the recorded websocket frames, as shown cells."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    tables = []
    for frame in frames:
        msg = ForwardMsg()
        try:
            msg.ParseFromString(frame)
        except Exception:  # noqa: BLE001 - a frame that is not a ForwardMsg holds no table
            continue
        if msg.WhichOneof("type") != "delta" or msg.delta.WhichOneof("type") != "new_element":
            continue
        element = msg.delta.new_element
        kind = element.WhichOneof("type")
        if kind in ("dataframe", "table"):
            tables.append(shown_cells(getattr(element, kind), len(tables)))
    return tables


def finished_runs(frames: list[bytes]) -> int:
    """How many script runs the server reported finished in the recorded frames."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    count = 0
    for frame in frames:
        msg = ForwardMsg()
        try:
            msg.ParseFromString(frame)
        except Exception:  # noqa: BLE001 - not a ForwardMsg
            continue
        count += msg.WhichOneof("type") == "script_finished"
    return count


def wait_for_script_finished(page, frames: list[bytes], timeout_s: float = 90) -> None:
    """Until the server says the page's script run is over (the status widget alone can look
    idle while a cached computation runs, before its spinner shows)."""
    for _ in range(int(timeout_s / 0.2)):
        if finished_runs(frames):
            return
        page.wait_for_timeout(200)
    pytest.fail(f"the page's script did not finish within {timeout_s:.0f} s")


def test_reading_cells_the_way_the_frontend_draws_them() -> None:
    """The decoder itself: a missing value without placeholder reads "None"; with one, the
    placeholder; a Styler's text wins; a printf format is applied."""
    from streamlit.proto.Dataframe_pb2 import Dataframe

    from aidebt_app.tables import prepare_table

    raw = pd.DataFrame({"a": [1.5, None], "b": [-0.00001, 2.0]})
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, pa.Schema.from_pandas(raw, preserve_index=False)) as writer:
        writer.write_table(pa.Table.from_pandas(raw, preserve_index=False))
    element = Dataframe()
    element.arrow_data.data = sink.getvalue()
    element.columns = json.dumps({"b": {"type_config": {"format": "%.3f"}}})
    texts = [c.text for c in shown_cells(element, 0)]
    assert texts == ["1.5", "None", "-0.000", "2.000"]
    element.placeholder = "—"
    table = prepare_table(raw)
    disp = io.BytesIO()
    with pa.ipc.new_stream(disp, pa.Schema.from_pandas(table.display)) as writer:
        writer.write_table(pa.Table.from_pandas(table.display, preserve_index=False))
    element.arrow_data.styler.display_values = disp.getvalue()
    texts = [c.text for c in shown_cells(element, 0)]
    assert not [t for t in texts if BAD_TEXT.search(t)], texts


def test_no_none_nan_or_negative_zero_in_any_table(server, browser) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    problems: dict[str, list[str]] = {}
    seen = 0
    try:
        for spec in PAGES:
            page = context.new_page()
            frames: list[bytes] = []
            page.on("websocket", lambda ws, frames=frames: ws.on(
                "framereceived",
                lambda payload: frames.append(payload) if isinstance(payload, bytes) else None))
            page.goto(f"{server}/{spec.url_path}", wait_until="domcontentloaded")
            wait_for_app(page)
            wait_for_script_finished(page, frames)  # every table of the run has been sent
            wait_for_app(page)
            screenshot(page, f"tables-{spec.url_path}")
            boxes = page.locator('[data-testid="stException"]')
            if boxes.count():  # reported with the tables, the tour goes on
                problems[spec.url_path] = ["exception shown: "
                                           + boxes.first.inner_text().splitlines()[0]]
            tables = tables_in(frames)
            seen += len(tables)
            bad = [f"table {c.element + 1}, column {c.column!r}: {c.text!r}"
                   for cells in tables for c in cells if BAD_TEXT.search(c.text)]
            if bad:
                problems.setdefault(spec.url_path, []).extend(sorted(set(bad)))
            page.close()
    finally:
        context.close()
    assert seen >= 5, f"only {seen} tables were seen on the tour: the recorder is broken"
    report = "\n".join(f"/{path}: {len(rows)} cells, e.g. " + "; ".join(rows[:6])
                       for path, rows in problems.items())
    assert not problems, "tables showing None/nan/-0.000:\n" + report
