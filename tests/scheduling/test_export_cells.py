"""CSV cells from user text: kept as typed, formulas neutralised, any text survives a round trip."""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling.export import safe_cell


def test_formula_starts_get_a_quote():
    assert [safe_cell(v) for v in ("=1+1", "+x", "-2", "@SUM(A1)", "\tx", "Plain", "a=b")] == [
        "'=1+1", "'+x", "'-2", "'@SUM(A1)", "'\tx", "Plain", "a=b"]


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=200))
def test_any_text_round_trips(text):
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([safe_cell(text), "next"])
    [row] = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert row[1] == "next"
    assert row[0] in (text, "'" + text)
