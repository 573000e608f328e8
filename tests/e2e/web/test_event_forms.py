"""The lifecycle's steps as forms on the case page: fired through the engine as the API
fires them, refused with the error beside its field, a lost race shown as what changed."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx2
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tatulasu.web.i18n import COOKIE as LANGUAGE_COOKIE
from tatulasu.web.session import COOKIE
from tests.e2e.web.conftest import Opened, Site
from tests.e2e.web.forms import csrf_of
from workflow import queries
from workflow.schema import audit_events, cases


def signed_in(site: Site, user: str, lang: str = "en") -> TestClient:
    """A browser of its own, signed in as `user`, reading the pages in `lang`."""
    client = TestClient(site.client.app)
    client.cookies.set(COOKIE, site.session(user).token)
    client.cookies.set(LANGUAGE_COOKIE, lang)
    return client


def form_version(page: str, event: str) -> str:
    found = re.search(rf'id="form-{event}".*?name="version" value="(\d+)"', page, re.S)
    assert found is not None, f"no form for {event} on the page"
    return found.group(1)


def step(client: TestClient, case_id: int, event: str, **fields: str) -> httpx2.Response:
    """Open the case page, fill in the step's form as shown (token, version) and send it."""
    page = client.get(f"/web/cases/{case_id}")
    assert page.status_code == 200, page.text
    data = {"csrf": csrf_of(page.text), "version": form_version(page.text, event), **fields}
    return client.post(f"/web/cases/{case_id}/events/{event}", data=data, follow_redirects=False)


def state_of(site: Site, case_id: int) -> tuple[str, int, str | None]:
    with site.wired.store.reading() as conn:
        row = conn.execute(
            sa.select(cases.c.state, cases.c.version, cases.c.mediator).where(cases.c.id == case_id)
        ).one()
    return row.state, row.version, row.mediator


def api_fire(site: Site, user: str, case_id: int, event: str, **payload: str) -> None:
    done = site.client.post(
        f"/cases/{case_id}/events", json={"event": event, "payload": payload},
        headers={"Authorization": f"Bearer {site.tokens[user]}"},
    )  # fmt: skip
    assert done.status_code == 200, done.text


def today(site: Site) -> str:
    return site.wired.calendar.local_date(site.clock.now()).isoformat()


def test_a_coordinator_accepts_and_assigns_a_mediator_through_the_forms(
    site: Site, opened: Opened
) -> None:
    coordinator = signed_in(site, "coord-vko")
    page = coordinator.get(f"/web/cases/{opened.party}").text
    assert 'id="form-accept"' in page and 'id="form-decline"' in page
    assert "Outside the centre&#39;s competence" in page  # a reason code by its title
    assert 'id="form-start_mediation"' not in page  # needs a mediator first
    accepted = step(coordinator, opened.party, "accept")
    assert accepted.status_code == 303
    assert accepted.headers["location"] == f"/web/cases/{opened.party}?done=accept#done"
    confirmed = coordinator.get(accepted.headers["location"]).text
    assert 'id="done"' in confirmed and "Recorded: The centre accepts the referral." in confirmed
    assert state_of(site, opened.party) == ("pre_trial", 2, None)

    page = coordinator.get(f"/web/cases/{opened.party}").text
    choices = page.split('id="assign_mediator-mediator"', 1)[1].split("</select>", 1)[0]
    assert '<option value="med-vko">Mediator East</option>' in choices
    assert "coord-vko" not in choices  # a coordinator is no mediator
    assigned = step(coordinator, opened.party, "assign_mediator", mediator="med-vko")
    assert assigned.status_code == 303
    assert state_of(site, opened.party) == ("pre_trial", 3, "med-vko")
    page = coordinator.get(f"/web/cases/{opened.party}").text
    assert 'Coordinator <span class="actor">Coordinator East</span>: ' in page
    assert "A mediator is assigned" in page and "<li>Mediator: Mediator East</li>" in page
    assert 'data-role="mediator" title="med-vko">Mediator East<' in page


def test_a_required_reason_left_out_is_named_beside_its_field(site: Site, opened: Opened) -> None:
    coordinator = signed_in(site, "coord-vko")
    refused = step(coordinator, opened.party, "decline", reason_text="no reason chosen")
    assert refused.status_code == 422
    assert 'id="decline-reason-error">Fill this in: the step needs it.<' in refused.text
    assert 'href="#decline-reason"' in refused.text  # the summary links to the field
    assert ">no reason chosen</textarea>" in refused.text  # what he wrote is kept
    assert state_of(site, opened.party) == ("referred", 1, None)


def test_a_guard_failure_shows_the_form_again_with_the_lifecycles_words(
    site: Site, opened: Opened
) -> None:
    api_fire(site, "coord-vko", opened.party, "accept")
    coordinator = signed_in(site, "coord-vko", lang="ru")
    page = coordinator.get(f"/web/cases/{opened.party}").text
    assert 'id="form-start_mediation"' not in page  # not offered without a mediator
    data = {"csrf": csrf_of(page), "version": "2", "contract_signed_on": today(site)}
    refused = coordinator.post(
        f"/web/cases/{opened.party}/events/start_mediation", data=data, follow_redirects=False
    )
    assert refused.status_code == 409
    assert 'id="form-start_mediation"' in refused.text  # the form again, open, its date kept
    assert f'value="{today(site)}"' in refused.text
    assert "Для этого действия требуется: сначала назначить медиатора." in refused.text
    assert "Сначала: Назначение медиатора." in refused.text
    assert state_of(site, opened.party) == ("pre_trial", 2, None)


def test_a_field_the_engine_refuses_is_shown_beside_it(site: Site, opened: Opened) -> None:
    api_fire(site, "coord-vko", opened.party, "accept")
    coordinator = signed_in(site, "coord-vko")
    refused = step(coordinator, opened.party, "assign_mediator", mediator="coord-vko")
    assert refused.status_code == 422
    assert (
        'id="assign_mediator-mediator-error">&#39;coord-vko&#39; is a coordinator' in refused.text
    )
    api_fire(site, "coord-vko", opened.party, "assign_mediator", mediator="med-vko")
    tomorrow = (site.wired.calendar.local_date(site.clock.now()) + timedelta(days=1)).isoformat()
    refused = step(coordinator, opened.party, "start_mediation", contract_signed_on=tomorrow)
    assert refused.status_code == 422
    assert 'id="start_mediation-contract_signed_on-error"' in refused.text
    assert "is in the future" in refused.text
    assert state_of(site, opened.party) == ("pre_trial", 3, "med-vko")


def test_a_stale_version_shows_what_changed_and_offers_the_form_again(
    site: Site, opened: Opened
) -> None:
    coordinator = signed_in(site, "coord-vko")
    page = coordinator.get(f"/web/cases/{opened.party}").text
    api_fire(site, "med-vko", opened.party, "record_consultation")  # meanwhile, version 2
    data = {"csrf": csrf_of(page), "version": form_version(page, "accept")}
    lost = coordinator.post(f"/web/cases/{opened.party}/events/accept", data=data)
    assert lost.status_code == 409 and 'id="changed"' in lost.text
    assert (
        "The case is now at version 2" in lost.text
        and "you filled in the form at version 1" in lost.text
    )
    assert 'Mediator <span class="actor">Mediator East</span>: ' in lost.text
    assert "A consultation was held" in lost.text
    assert form_version(lost.text, "accept") == "2"
    assert state_of(site, opened.party) == ("referred", 2, None)
    again = coordinator.post(
        f"/web/cases/{opened.party}/events/accept",
        data={"csrf": csrf_of(lost.text), "version": "2"}, follow_redirects=False,
    )  # fmt: skip
    assert again.status_code == 303
    assert state_of(site, opened.party) == ("pre_trial", 3, None)


def test_a_mediator_consults_starts_mediation_and_records_the_agreement(
    site: Site, opened: Opened
) -> None:
    api_fire(site, "coord-vko", opened.party, "accept")
    api_fire(site, "coord-vko", opened.party, "assign_mediator", mediator="med-vko")
    mediator = signed_in(site, "med-vko")
    held = today(site)
    assert step(mediator, opened.party, "record_consultation", held_on=held).status_code == 303
    signed = (site.wired.calendar.local_date(site.clock.now()) - timedelta(days=2)).isoformat()
    started = step(mediator, opened.party, "start_mediation", contract_signed_on=signed)
    assert started.status_code == 303
    with site.wired.store.reading() as conn:
        case = queries.get_case(conn, opened.party)
    assert case.state == "in_mediation" and case.term_name == "mediation"
    assert case.term_due_at is not None
    # 30 calendar days from the contract, not from today.
    assert (case.term_due_at - site.clock.now()) < timedelta(days=29)
    agreed = step(mediator, opened.party, "reach_agreement", agreement_ref="AG-2024/17")
    assert agreed.status_code == 303
    assert state_of(site, opened.party)[0] == "settled"
    page = mediator.get(f"/web/cases/{opened.party}").text
    day = f"{held[8:10]}.{held[5:7]}.{held[0:4]}"
    assert f"<li>Held on: {day}</li>" in page and "<li>Agreement number: AG-2024/17</li>" in page
    assert "Nothing: the case is closed." in page


def test_a_court_approves_an_agreement_reached_at_the_enforcement_stage(
    site: Site, opened: Opened
) -> None:
    coordinator = signed_in(site, "coord-vko")
    done = step(coordinator, opened.enforcement, "assign_mediator", mediator="med-vko")
    assert done.status_code == 303
    mediator = signed_in(site, "med-vko")
    done = step(mediator, opened.enforcement, "reach_agreement", agreement_ref="AG-EP-1")
    assert done.status_code == 303 and state_of(site, opened.enforcement)[0] == "agreement"
    court = signed_in(site, "court-vko")
    page = court.get(f"/web/cases/{opened.enforcement}").text
    assert 'id="form-approve"' in page and 'id="form-reject"' in page
    assert "The terms are unlawful" in page  # the rejection's reasons
    assert 'id="approve-ruling_prepared_on"' in page and 'type="date"' in page
    approved = step(
        court, opened.enforcement, "approve", ruling_ref="2-1234/2024",
        ruling_prepared_on=today(site),
    )  # fmt: skip
    assert approved.status_code == 303
    # Approved; settled when the ruling takes effect (lifecycle v2).
    assert state_of(site, opened.enforcement)[0] == "approved"
    page = court.get(f"/web/cases/{opened.enforcement}").text
    assert 'id="form-ruling_in_force"' in page and 'id="form-ruling_set_aside"' in page


@pytest.mark.parametrize(
    ("user", "status"),
    [("coord-kar", 403), ("court-kar", 403), ("sup-vko", 403), ("med-vko", 403),
     ("chamber-vko", 403)],
)  # fmt: skip
def test_someone_who_may_not_fire_it_is_refused_and_nothing_changes(
    site: Site, opened: Opened, user: str, status: int
) -> None:
    other = signed_in(site, user)
    token = csrf_of(other.get("/web/work").text)
    refused = other.post(
        f"/web/cases/{opened.party}/events/accept", data={"csrf": token, "version": "1"}
    )
    assert refused.status_code == status, refused.text
    assert state_of(site, opened.party) == ("referred", 1, None)
    missing = other.post("/web/cases/9999/events/accept", data={"csrf": token, "version": "1"})
    assert missing.status_code in (403, 404)


def test_a_case_outside_the_scope_is_not_shown_with_forms(site: Site, opened: Opened) -> None:
    outsider = signed_in(site, "coord-kar")
    assert outsider.get(f"/web/cases/{opened.party}").status_code == 403
    assert outsider.get("/web/cases/9999").status_code == 404
    supervisor = signed_in(site, "sup-vko").get(f"/web/cases/{opened.party}").text
    assert '<form class="event"' not in supervisor  # supervisors read
    assert 'data-event="accept">The centre accepts the referral' in supervisor


def test_a_form_without_its_csrf_token_is_refused(site: Site, opened: Opened) -> None:
    coordinator = signed_in(site, "coord-vko")
    refused = coordinator.post(f"/web/cases/{opened.party}/events/accept", data={"version": "1"})
    assert refused.status_code == 403 and "This form was refused" in refused.text
    wrong = coordinator.post(
        f"/web/cases/{opened.party}/events/accept", data={"version": "1", "csrf": "x" * 43}
    )
    assert wrong.status_code == 403
    assert state_of(site, opened.party) == ("referred", 1, None)
    with site.wired.store.reading() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(audit_events)).scalar() == 3


def test_a_step_the_pages_do_not_offer_is_refused(site: Site, opened: Opened) -> None:
    coordinator = signed_in(site, "coord-vko")
    token = csrf_of(coordinator.get(f"/web/cases/{opened.party}").text)
    for event in ("record_delivery", "escalate", "nonsense"):
        answer = coordinator.post(
            f"/web/cases/{opened.party}/events/{event}", data={"csrf": token, "version": "1"}
        )
        assert answer.status_code == 422, event
    no_version = coordinator.post(f"/web/cases/{opened.party}/events/accept", data={"csrf": token})
    assert no_version.status_code == 422 and "<code>version</code>" in no_version.text
    assert state_of(site, opened.party) == ("referred", 1, None)


def test_the_timeline_names_a_party_as_masked_as_the_readers_role_sees_parties(
    site: Site, opened: Opened
) -> None:
    site.client.post(
        f"/cases/{opened.party}/events",
        json={"event": "withdraw", "payload": {"reason": "settled_outside",
              "reason_text": "Aigerim Serikova, tel. +77011234567, was paid"}},
        headers={"Authorization": f"Bearer {site.tokens['party-aigerim']}"},
    ).raise_for_status()  # fmt: skip
    coordinator = site.page("coord-vko", f"/web/cases/{opened.party}").text
    assert 'Party <span class="actor">Aigerim Serikova</span>' in coordinator
    assert "+77011234567" in coordinator
    for reader in ("chamber-vko", "sup-vko"):
        page = site.page(reader, f"/web/cases/{opened.party}").text
        assert 'Party <span class="actor">A. S.</span>' in page, reader
        assert "Aigerim" not in page and "+77011234567" not in page, reader
        assert "<li>Reason: Settled outside the procedure</li>" in page
