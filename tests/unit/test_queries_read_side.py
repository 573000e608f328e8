"""The read side against a real store (SQLite and PostgreSQL): cases, history, statistics."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import Desk
from workflow import queries, search, timers
from workflow.errors import InvalidField, NotFound


def test_unknown_case_is_not_found(desk: Desk) -> None:
    with desk.store.reading() as conn:
        with pytest.raises(NotFound):
            queries.get_case(conn, 404)
        with pytest.raises(NotFound):
            queries.history(conn, 404)


def test_case_view_has_parties_open_terms_and_allowed_events(desk: Desk) -> None:
    case_id = desk.to_state("in_mediation")
    with desk.store.reading() as conn:
        case = queries.get_case(conn, case_id)
        records = queries.history(conn, case_id)
    assert case.state == "in_mediation" and case.mediator == "med-1"
    assert [p.role for p in case.parties] == ["claimant", "respondent"]
    assert [t.event for t in case.open_terms] == ["remind", "remind", "fail"]
    assert case.open_terms[-1].due_at == case.term_due_at
    assert case.opened_at.tzinfo is not None
    assert "reach_agreement" in queries.allowed_events(desk.engine, case)
    assert queries.allowed_events(desk.engine, case, "party") == ["withdraw", "refuse"]
    claimant, respondent = (p.iin_bin for p in case.parties)
    assert queries.allowed_events(desk.engine, case, "party", claimant) == ["withdraw"]
    assert queries.allowed_events(desk.engine, case, "party", respondent) == ["refuse"]
    assert "fail" in queries.allowed_events(desk.engine, case, "system")
    assert [r.seq for r in records] == [1, 2, 3, 4]
    assert records[0].payload["parties"][0]["iin_bin"] == case.parties[0].iin_bin
    assert case.masked().parties[0].iin_bin.count("*") == 6


def test_list_pages_and_filters(desk: Desk) -> None:
    first = desk.to_state("referred")
    second = desk.to_state("court_conciliation")

    def ids(filters: search.Filters | None = None, limit: int = 50, offset: int = 0) -> list[int]:
        page = search.search(conn, sa.true(), filters or search.Filters(), limit, offset)
        return [c.id for c in page.items]

    with desk.store.reading() as conn:
        assert ids() == [first, second]
        assert ids(search.Filters(state="referred")) == [first]
        assert ids(search.Filters(region="KAR")) == [second]
        assert ids(limit=1, offset=1) == [second]
        with pytest.raises(InvalidField):
            ids(limit=0)


def test_summary_counts_outcomes_terms_and_days_to_agreement(desk: Desk) -> None:
    settled = desk.to_state("in_mediation")
    desk.advance(days=6)
    desk.fire(settled, "record_consultation", "mediator")
    desk.fire(settled, "reach_agreement", "mediator", agreement_ref="MA-1")
    judged = desk.to_state("court")
    desk.fire(judged, "judge", "court", ruling_ref="R-1")
    late = desk.to_state("referred")  # nobody accepts it: two escalations of one term
    desk.advance(days=14)
    while timers.sweep(desk.engine).fired:
        pass
    with desk.store.reading() as conn:
        s = queries.summary(conn)
        scoped = queries.summary(conn, region="KAR")
        future = queries.summary(conn, since=desk.clock.now() + timedelta(days=1))
        still_open = queries.get_case(conn, late)
    assert (s.cases, s.closed, s.open) == (3, 2, 1)
    assert s.outcomes == {"judgment": 1, "settled": 1}
    assert s.reconciled == 1 and s.reconciled_share == 0.5
    assert s.by_origin == {"party": 2, "court": 1}
    assert s.consultations == 1
    assert s.days_to_agreement.count == 1
    assert s.days_to_agreement.median == pytest.approx(6.0, abs=0.1)
    assert s.escalations == 2
    assert s.terms_missed == 1  # one acceptance term, escalated twice
    assert s.reminders_sent >= 1
    assert (scoped.cases, scoped.outcomes) == (1, {"judgment": 1})  # the court case, KAR
    assert future.cases == 0
    assert still_open.state == "referred"
    assert still_open.open_terms == ()  # both escalation steps have fired
