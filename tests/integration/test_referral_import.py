"""A bailiff's file is opened all or nothing, even when the engine refuses a row late."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import BIN_A, Desk, make_iin
from workflow import referral_import
from workflow.referral_rows import Checked, Referrer
from workflow.schema import cases
from workflow.users import User

HEADER = (
    "enforcement_proceeding,proceeding_opened_on,centre,debtor_name,debtor_iin_bin,"
    "creditor_name,creditor_iin_bin"
)


def _file(proceedings: list[str]) -> bytes:
    rows = [
        f"{p},01.03.2024,Oskemen Tatulasu centre,Debtor {i},{make_iin(300 + i)},Altai LLP,{BIN_A}"
        for i, p in enumerate(proceedings)
    ]
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def _bailiff(desk: Desk) -> Referrer:
    """bailiff-7, registered with the Oskemen centre (so that the centre exists)."""
    desk.register("bailiff-7", role="bailiff")
    return Referrer(User("bailiff-7", "B", "bailiff", region="VKO"), "VKO")


def _count(desk: Desk) -> int:
    with desk.store.reading() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(cases)).scalar_one())


def test_a_row_refused_while_opening_rolls_the_whole_file_back(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A twin referral arrives between the check and the opening: nothing is opened."""
    desk.refer_enforcement("EP-77")

    def late(conn: object, checked: list[Checked]) -> list[Checked]:
        return checked  # the twin is not seen when checking: it "arrives meanwhile"

    monkeypatch.setattr(referral_import, "_refuse_open_twins", late)
    before = _count(desk)
    report = referral_import.import_referrals(
        desk.engine, _file(["EP-1", "EP-2", "EP-77", "EP-4"]), _bailiff(desk)
    )
    assert (report.imported, report.rejected) == (0, 1)
    refused = next(o for o in report.outcomes if o.status == "rejected")
    assert refused.line == 4 and refused.errors[0].field == "enforcement_proceeding"
    assert {o.status for o in report.outcomes if o is not refused} == {"not_imported"}
    assert _count(desk) == before


def test_with_partial_a_late_refusal_stops_only_its_row(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk.refer_enforcement("EP-77")
    monkeypatch.setattr(referral_import, "_refuse_open_twins", lambda conn, checked: checked)
    before = _count(desk)
    report = referral_import.import_referrals(
        desk.engine,
        _file(["EP-1", "EP-77", "EP-3"]),
        _bailiff(desk),
        partial=True,
    )
    assert (report.imported, report.rejected) == (2, 1)
    assert _count(desk) == before + 2
