"""A bailiff's CSV file: real-world spellings accepted, every bad row named, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tatulasu.cli import app as cli
from tests.conftest import BIN_A, make_iin
from tests.e2e.api.conftest import OSKEMEN, Api

ENGLISH = (
    "enforcement_proceeding,proceeding_opened_on,centre,debtor_name,debtor_iin_bin,"
    "debtor_phone,creditor_name,creditor_iin_bin,creditor_email"
)
RUSSIAN = (
    "№ ИП;Дата возбуждения;Центр примирения;ФИО должника;ИИН/БИН должника;Телефон должника;"
    "Взыскатель;ИИН/БИН взыскателя;Сумма долга"
)
KAZAKH = (
    "Атқарушылық іс жүргізу нөмірі;Қозғалған күні;Татуласу орталығы;Борышкер;"
    "Борышкердің ЖСН/БСН;Өндіріп алушы;Өндіріп алушының ЖСН/БСН"
)


def row(n: int, sep: str = ",", iin: str | None = None, proceeding: str | None = None) -> str:
    cells = [
        proceeding or f"EP-{n}", "01.03.2024", "Oskemen Tatulasu centre", f"Debtor {n}",
        iin or make_iin(100 + 3 * n), "8 701 123 45 67", "Altai LLP", BIN_A, "debt@altai.kz",
    ]  # fmt: skip
    return sep.join(cells)


def upload(
    api: Api,
    text: str | bytes,
    partial: bool = False,
    user: str = "bailiff-vko",
    background: bool | None = None,
) -> Any:
    data = text.encode("utf-8") if isinstance(text, str) else text
    query = {"partial": "true" if partial else None, "background": background}
    given = "&".join(f"{k}={str(v).lower()}" for k, v in query.items() if v is not None)
    url = "/referrals/import" + (f"?{given}" if given else "")
    return api.post(user, url, files={"file": ("referrals.csv", data, "text/csv")})


def good_file(rows: int = 3) -> str:
    return "\n".join([ENGLISH, *(row(n) for n in range(rows))]) + "\n"


def count_cases(api: Api) -> int:
    return int(api.get("root", "/cases").json()["total"])


def test_a_good_file_opens_one_case_per_row_and_the_bailiff_sees_them(api: Api) -> None:
    report = upload(api, good_file(3)).json()
    assert (report["rows"], report["imported"], report["rejected"]) == (3, 3, 0)
    opened = {o["case_id"] for o in report["outcomes"]}
    mine = api.get("bailiff-vko", "/cases?origin=bailiff").json()
    assert {c["id"] for c in mine["items"]} == opened
    assert {c["state"] for c in mine["items"]} == {"enforcement_reconciliation"}
    assert api.get("bailiff-2", "/cases").json()["total"] == 0
    case = api.get("bailiff-vko", f"/cases/{min(opened)}").json()
    assert case["parties"][0]["phone"] == "+77011234567"  # tidied from "8 701 123 45 67"
    assert "proceeding opened 2024-03-01" in case["subject"]


def test_russian_headers_semicolons_and_a_bom_are_read(api: Api) -> None:
    lines = [RUSSIAN, *(";".join([*row(n, ";").split(";")[:8], "1000"]) for n in range(2))]
    report = upload(api, ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")).json()
    assert report["imported"] == 2
    assert report["delimiter"] == ";"
    assert report["ignored_columns"] == ["Сумма долга"]


def test_kazakh_headers_are_read(api: Api) -> None:
    cells = ["EP-K1", "2024-03-01", "Oskemen Tatulasu centre", "Дана М.", make_iin(7)]
    lines = [KAZAKH, ";".join([*cells, "ТОО Алтай", BIN_A])]
    assert upload(api, "\n".join(lines)).json()["imported"] == 1


def test_a_windows_1251_file_is_refused_naming_the_encoding(api: Api) -> None:
    text = RUSSIAN + "\n" + ";".join([*row(0, ";").split(";")[:8], "1"]) + "\n"
    answer = upload(api, text.encode("cp1251"))
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["field"] == "file"
    assert "cp1251" in problem["detail"] and "UTF-8" in problem["detail"]
    assert count_cases(api) == 0


def test_a_missing_column_is_named(api: Api) -> None:
    header = ENGLISH.replace("debtor_iin_bin,", "")
    lines = [header, "EP-1,01.03.2024,Oskemen,Dana,8 701 123 45 67,Altai LLP,940140000385,a@b.kz"]
    problem = upload(api, "\n".join(lines)).json()
    assert problem["status"] == 422
    assert "debtor_iin_bin" in problem["detail"]


def test_one_bad_row_imports_nothing_and_every_bad_row_is_listed(api: Api) -> None:
    lines = [
        ENGLISH,
        row(0),
        row(1, iin="061211600013"),  # line 3: bad check digit
        row(2, proceeding="EP-0"),  # line 4: same proceeding as line 2
        row(3).replace("01.03.2024", "31.02.2024"),  # line 5: no such date
        row(4).replace("01.03.2024", "01.03.2099"),  # line 6: in the future
        row(5).replace("Debtor 5", ""),  # line 7: no name
    ]
    answer = upload(api, "\n".join(lines))
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    errors = {(e["line"], e["field"]) for e in answer.json()["errors"]}
    assert errors == {
        (3, "debtor_iin_bin"),
        (4, "enforcement_proceeding"),
        (5, "proceeding_opened_on"),
        (6, "proceeding_opened_on"),
        (7, "debtor_name"),
    }
    reasons = {e["line"]: e["reason"] for e in answer.json()["errors"]}
    assert "check digit" in reasons[3]
    assert reasons[4] == "duplicates line 2 of this file"
    assert "in the future" in reasons[6]
    assert count_cases(api) == 0


def test_with_partial_the_good_rows_are_imported_and_the_bad_reported(api: Api) -> None:
    lines = [ENGLISH, row(0), row(1, iin="061211600013"), row(2)]
    answer = upload(api, "\n".join(lines), partial=True)
    assert answer.status_code == 200
    report = answer.json()
    assert (report["imported"], report["rejected"]) == (2, 1)
    assert [o["status"] for o in report["outcomes"]] == ["imported", "rejected", "imported"]
    assert count_cases(api) == 2


def test_a_proceeding_with_an_open_case_is_a_bad_row(api: Api) -> None:
    upload(api, good_file(1))
    problem = upload(api, good_file(2)).json()
    assert problem["errors"] == [
        {"line": 2, "field": "enforcement_proceeding",
         "reason": "case 1 is already open for 'EP-0'"}
    ]  # fmt: skip


def test_rows_outside_the_bailiffs_region_are_refused(api: Api) -> None:
    lines = [ENGLISH + ",region", row(0) + ",KAR"]
    problem = upload(api, "\n".join(lines)).json()
    assert problem["errors"][0]["field"] == "region"


@pytest.mark.slow
def test_the_cli_imports_ten_thousand_rows_with_a_progress_bar(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'import.db'}"
    runner = CliRunner()
    env = {"TATULASU_DATABASE_URL": url, "COLUMNS": "120"}
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    for ident, centre in (("bailiff-vko", []), ("b-1", ["--centre", OSKEMEN])):
        made = runner.invoke(cli, ["users", "create", "--id", ident, "--name", "Bailiff",
                                   "--role", "bailiff", "--region", "VKO", *centre],
                             env=env)  # fmt: skip
        assert made.exit_code == 0, made.output
    lines = [ENGLISH, *(row(n, iin=make_iin(n % 5000)) for n in range(10_000))]
    # Two debtors may share an IIN across proceedings; one proceeding, one row.
    path = tmp_path / "big.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = runner.invoke(cli, ["import", str(path), "--actor", "bailiff-vko", "--region", "VKO"],
                         env=env)  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "10000/10000" in done.stdout
    assert "imported 10000 of 10000 rows" in done.stdout
    again = runner.invoke(
        cli, ["import", str(path), "--actor", "b-1", "--region", "VKO", "--json"], env=env
    )
    assert again.exit_code == 2
    report = json.loads(again.stdout)
    assert (report["imported"], report["rejected"]) == (0, 10_000)


def test_the_cli_imports_only_as_a_registered_bailiff_of_his_region(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'import.db'}"
    runner = CliRunner()
    env = {"TATULASU_DATABASE_URL": url, "COLUMNS": "200"}
    assert runner.invoke(cli, ["init"], env=env).exit_code == 0
    for ident, role in (("bailiff-vko", "bailiff"), ("coord-1", "coordinator")):
        create = ["users", "create", "--id", ident, "--name", "N", "--role", role]
        made = runner.invoke(cli, [*create, "--region", "VKO", "--centre", OSKEMEN], env=env)
        assert made.exit_code == 0, made.output
    path = tmp_path / "one.csv"
    path.write_text(f"{ENGLISH}\n{row(0)}\n", encoding="utf-8")

    def run(*options: str) -> Any:
        return runner.invoke(cli, ["import", str(path), *options], env=env)

    for options, field in (
        (["--actor", "nobody"], "--actor"),
        (["--actor", "coord-1"], "--actor"),
        (["--actor", "bailiff-vko", "--region", "KAR"], "--region"),
    ):
        refused = run(*options)
        assert refused.exit_code == 2 and field in refused.output, refused.output
    done = run("--actor", "bailiff-vko", "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["imported"] == 1
