"""Admins manage people on the pages: the list, a new person, a new password, deactivating.

The same rules as `tatulasu users` (`workflow.users.check`, `workflow.passwords`): a
person's role, scope and contacts are checked, naming the field; a new password or a
deactivation ends his sessions at once. Each change is a form (POST, with the CSRF
token the pages' router checks) that answers with a redirect, so reloading the page
that follows repeats nothing. Only admins get here.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request, Response
from starlette.responses import RedirectResponse

from tatulasu.api.auth import Wired, require_role
from tatulasu.errors import Forbidden
from tatulasu.web.errors import PageRoute
from tatulasu.web.session import Viewer
from tatulasu.web.templating import render
from tatulasu.wiring import App
from workflow import passwords, users
from workflow.commands import LANGUAGES
from workflow.errors import InvalidField, NotFound
from workflow.regions import REGIONS
from workflow.users import USER_ROLES, User

router = APIRouter(route_class=PageRoute)
PEOPLE = "/web/people"
UserId = Annotated[str, Path(min_length=1, max_length=80)]
Text = Annotated[str, Form(max_length=200)]
Password = Annotated[str, Form(max_length=passwords.MAX_LENGTH)]
DONE = ("created", "password", "deactivated")


def admin(user: Viewer) -> User:
    require_role(user, "admin")
    return user


Admin = Annotated[User, Depends(admin)]


def choices() -> dict[str, Any]:
    return {"roles": sorted(USER_ROLES), "regions": REGIONS, "languages": LANGUAGES}


@router.get("/people")
def people(
    request: Request,
    user: Admin,
    app: Wired,
    done: Annotated[str | None, Query(max_length=20)] = None,
    id: Annotated[str | None, Query(max_length=80)] = None,
) -> Response:
    """Everyone, by role, with whether he can sign in to the pages."""
    with app.store.reading() as conn:
        found = users.listing(conn)
        with_password = passwords.with_password(conn)
    return render(
        request, "people.html", user, people=found, with_password=with_password,
        done=done if done in DONE else None, done_id=id or "",
    )  # fmt: skip


@router.get("/people/new")
def new_person_form(request: Request, user: Admin) -> Response:
    return render(request, "person_new.html", user, form={}, error=None, **choices())


@router.post("/people/new")
def new_person(
    request: Request,
    user: Admin,
    app: Wired,
    id: Text = "",
    name: Text = "",
    role: Text = "",
    region: Text = "",
    centre: Text = "",
    language: Text = "kk",
    email: Text = "",
    phone: Text = "",
    iin_bin: Text = "",
    password: Password = "",
) -> Response:
    """Create a person with an initial password he signs in with (and should change)."""
    form = {
        "id": id.strip(), "name": name.strip(), "role": role, "region": region,
        "centre": centre.strip(), "language": language, "email": email.strip(),
        "phone": phone.strip(), "iin_bin": iin_bin.strip(),
    }  # fmt: skip
    person = User(
        id=form["id"], name=form["name"], role=role, region=region or None,
        centre=form["centre"] or None, email=form["email"] or None,
        phone=form["phone"] or None, language=language, iin_bin=form["iin_bin"] or None,
    )  # fmt: skip
    try:
        passwords.check_strength(password)
        with app.store.transaction() as conn:
            users.create(conn, person, app.engine.clock.now())
            passwords.set_password(conn, person.id, password)
    except InvalidField as error:
        return render(
            request, "person_new.html", user, status=422, form=form, error=error, **choices()
        )
    return done_redirect("created", person.id)


@router.get("/people/{user_id}")
def person(request: Request, user: Admin, app: Wired, user_id: UserId) -> Response:
    return person_page(request, user, app, user_id)


def person_page(
    request: Request, user: User, app: App, user_id: str, *, error: InvalidField | None = None
) -> Response:
    with app.store.reading() as conn:
        found = users.by_id(conn, user_id)
        has_password = user_id in passwords.with_password(conn)
    if found is None:
        raise NotFound("user", user_id)
    return render(
        request, "person.html", user, status=200 if error is None else 422,
        person=found, has_password=has_password, error=error,
    )  # fmt: skip


@router.post("/people/{user_id}/password")
def reset_password(
    request: Request, user: Admin, app: Wired, user_id: UserId, password: Password = ""
) -> Response:
    """A new password: the person's sessions end; he signs in with it."""
    try:
        with app.store.transaction() as conn:
            passwords.set_password(conn, user_id, password)
    except InvalidField as error:
        return person_page(request, user, app, user_id, error=error)
    return done_redirect("password", user_id)


@router.post("/people/{user_id}/deactivate")
def deactivate(user: Admin, app: Wired, user_id: UserId) -> Response:
    """Stop a person: his sessions and token end; his history stays."""
    if user_id == user.id:
        raise Forbidden("an admin cannot deactivate himself; ask another admin")
    with app.store.transaction() as conn:
        users.deactivate(conn, user_id)
    return done_redirect("deactivated", user_id)


def done_redirect(done: str, user_id: str) -> Response:
    return RedirectResponse(f"{PEOPLE}?{urlencode({'done': done, 'id': user_id})}", 303)
