"""The statistics' CSV a person downloads opens in Excel as he reads it (ru/kk settings)."""

from __future__ import annotations

import csv
import io
from datetime import date

from tatulasu.api.reports import DurationsOut, SummaryOut
from tatulasu.web.report_pages import Asked, Figures, csv_rows, number
from workflow import spreadsheet
from workflow.trends import Centre, Month


def summary() -> SummaryOut:
    return SummaryOut(
        cases=134, open=2, closed=132, by_origin={"party": 134}, by_state={"settled": 107},
        outcomes={"settled": 107, "withdrawn": 25}, reconciled=107,
        reconciled_share=107 / 132, consultations=300, sessions=90,
        days_to_agreement=DurationsOut(count=107, median=12.25, p90=None), terms_missed=1,
        escalations=0, reminders_sent=4,
        scope={"since": None, "until": None, "region": "VKO", "centre": "=evil"},
    )  # fmt: skip


def test_the_file_has_a_bom_semicolons_and_neutral_formulas() -> None:
    text = spreadsheet.for_excel([["a", "=1+1"], ["b", 2]])
    assert text.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(text[1:]), delimiter=";")) == [["a", "'=1+1"], ["b", "2"]]


def test_shares_are_per_cent_with_one_decimal_in_the_readers_decimal_mark() -> None:
    assert number(107 / 132 * 100, "ru") == "81,1"
    assert number(107 / 132 * 100, "en") == "81.1"
    assert number(None, "kk") == ""


def test_the_rows_say_each_figure_in_the_readers_words() -> None:
    found = Figures(summary(), [Month("2025-03", 5, 2)], [Centre("=evil", "VKO", 134, 132, 107)])
    rows = csv_rows(found, Asked(date(2025, 1, 1), None, None, None), "ru")
    text = spreadsheet.for_excel(rows)
    table = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    as_dict = {(r[0], r[1]): r[2] for r in table}
    assert as_dict[("доля дел с примирением, %", "")] == "81,1"
    assert as_dict[("дней до соглашения", "медиана")] == "12,2"
    assert as_dict[("обращения по месяцам", "03.2025")] == "5"
    assert as_dict[("Центр", "")] == "'=evil"
    assert as_dict[("Открыты с", "")] == "01.01.2025"
    assert not any("0.8106" in cell for row in table for cell in row)
