"""Admins manage people on the pages; the people they make sign in with their passwords."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.e2e.api.conftest import OSKEMEN
from tests.e2e.web.conftest import Site
from tests.e2e.web.forms import PASSWORD, csrf_of, english, give_password, session_cookie, sign_in
from workflow import users
from workflow.schema import users as users_table
from workflow.schema import web_sessions

NEW = {
    "id": "coord-new", "name": "Coordinator Newcomer", "role": "coordinator", "region": "VKO",
    "centre": OSKEMEN, "language": "ru", "email": "new@example.kz", "phone": "+77011112233",
    "iin_bin": "", "password": "a first password for her",
}  # fmt: skip


@pytest.fixture(autouse=True)
def in_english(site: Site) -> None:
    """The texts checked here are the English ones, whatever the users' languages."""
    english(site.client)


def as_admin(site: Site) -> TestClient:
    give_password(site, "root")
    assert sign_in(site.client, "root").status_code == 303
    return site.client


def test_an_admin_creates_a_person_who_then_signs_in(site: Site) -> None:
    admin = as_admin(site)
    form = admin.get("/web/people/new")
    assert form.status_code == 200 and 'name="password"' in form.text
    made = admin.post(
        "/web/people/new", data={**NEW, "csrf": csrf_of(form.text)}, follow_redirects=False
    )
    assert made.status_code == 303
    assert made.headers["location"] == "/web/people?done=created&id=coord-new"
    listed = admin.get(made.headers["location"])
    assert 'href="/web/people/coord-new"' in listed.text and "Coordinator Newcomer" in listed.text
    with site.wired.store.reading() as conn:
        person = users.by_id(conn, "coord-new")
    assert person is not None and (person.role, person.centre, person.language) == (
        "coordinator", OSKEMEN, "ru")  # fmt: skip
    newcomer = english(TestClient(site.client.app, client=("10.0.0.5", 5000)))
    assert sign_in(newcomer, "coord-new", "a first password for her").status_code == 303
    assert newcomer.get("/web/cases", follow_redirects=False).status_code == 200


def test_a_wrong_field_is_named_at_the_top_and_nothing_is_created(site: Site) -> None:
    admin = as_admin(site)
    token = csrf_of(admin.get("/web/people/new").text)
    for field, value in (("centre", ""), ("phone", "12345"), ("password", "short"),
                         ("id", "")):  # fmt: skip
        answer = admin.post("/web/people/new", data={**NEW, field: value, "csrf": token})
        assert answer.status_code == 422, field
        assert f'<a href="#{field}">{field}:' in answer.text
        assert 'value="Coordinator Newcomer"' in answer.text  # what was typed stays
        assert NEW["password"] not in answer.text
    with site.wired.store.reading() as conn:
        assert users.by_id(conn, "coord-new") is None


def test_an_admin_resets_a_password_the_old_sessions_end_the_new_one_works(site: Site) -> None:
    give_password(site, "sup-vko")
    supervisor = english(TestClient(site.client.app, client=("10.0.0.7", 5000)))
    assert sign_in(supervisor, "sup-vko").status_code == 303
    admin = as_admin(site)
    page = admin.get("/web/people/sup-vko")
    reset = admin.post(
        "/web/people/sup-vko/password",
        data={"password": "a brand new password", "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert reset.status_code == 303 and reset.headers["location"].endswith(
        "done=password&id=sup-vko"
    )
    assert supervisor.get("/web/cases", follow_redirects=False).status_code == 303
    assert sign_in(supervisor, "sup-vko", PASSWORD).status_code == 401
    assert sign_in(supervisor, "sup-vko", "a brand new password").status_code == 303


def test_an_admin_deactivates_a_person_and_his_session_ends(site: Site) -> None:
    give_password(site, "coord-vko")
    coordinator = english(TestClient(site.client.app, client=("10.0.0.8", 5000)))
    sign_in(coordinator, "coord-vko")
    admin = as_admin(site)
    page = admin.get("/web/people/coord-vko")
    done = admin.post(
        "/web/people/coord-vko/deactivate", data={"csrf": csrf_of(page.text)},
        follow_redirects=False,
    )  # fmt: skip
    assert done.status_code == 303
    assert coordinator.get("/web/cases", follow_redirects=False).status_code == 303
    assert sign_in(coordinator, "coord-vko").status_code == 401
    own = admin.get("/web/people/root").text
    assert "/deactivate" not in own  # no button to lock oneself out


def test_changes_without_the_csrf_token_are_refused_and_change_nothing(site: Site) -> None:
    give_password(site, "sup-vko")
    admin = as_admin(site)
    before_sessions = count(site, web_sessions)
    with site.wired.store.reading() as conn:
        before = conn.execute(sa.select(users_table).order_by(users_table.c.id)).all()
    for token in ({}, {"csrf": ""}, {"csrf": "not-the-token"}):
        for url, data in (("/web/people/new", NEW),
                          ("/web/people/sup-vko/password", {"password": "hijacked password!"}),
                          ("/web/people/sup-vko/deactivate", {})):  # fmt: skip
            answer = admin.post(url, data={**data, **token}, follow_redirects=False)
            assert answer.status_code == 403, (url, token)
            assert "This form was refused" in answer.text
    with site.wired.store.reading() as conn:
        assert conn.execute(sa.select(users_table).order_by(users_table.c.id)).all() == before
    assert count(site, web_sessions) == before_sessions
    assert session_cookie(admin) is not None


def count(site: Site, table: sa.Table) -> int:
    with site.wired.store.reading() as conn:
        return int(conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


def test_only_admins_manage_people(site: Site) -> None:
    give_password(site, "sup-vko")
    supervisor = site.client
    sign_in(supervisor, "sup-vko")
    token = csrf_of(supervisor.get("/web/cases").text)
    for url in ("/web/people", "/web/people/new", "/web/people/root"):
        assert supervisor.get(url, follow_redirects=False).status_code == 403, url
    made = supervisor.post("/web/people/new", data={**NEW, "csrf": token})
    assert made.status_code == 403 and "the role &#39;supervisor&#39; may not" in made.text
    reset = supervisor.post("/web/people/root/password", data={"password": "x" * 20, "csrf": token})
    assert reset.status_code == 403
    with site.wired.store.reading() as conn:
        assert users.by_id(conn, "coord-new") is None
