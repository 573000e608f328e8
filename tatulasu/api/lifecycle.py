"""Moving open cases to a newer lifecycle version, for admins (`workflow/moves.py` holds
the rules; `tatulasu lifecycle migrate` is the same from the command line).

The answer says, per rule, how many cases moved (or would, with `dry_run`), lists the
cases moved (at most `CASES_LISTED`) and every case no rule places, by id and state.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import Field

from tatulasu.api.auth import CurrentUser, Wired, require_role
from tatulasu.api.problems import responses
from tatulasu.api.schemas import Input, Model
from workflow import moves

router = APIRouter(prefix="/lifecycle", tags=["lifecycle"])
CASES_LISTED = 1000
MAX_ID = 2_147_483_647
FIELDS = moves.Fields("from_version", "to_version", "case_ids")


class MoveIn(Input):
    from_version: int = Field(ge=1, le=1000, examples=[1])
    to_version: int = Field(ge=1, le=1000, examples=[2])
    dry_run: bool = Field(description="True: say what would change, write nothing.")
    case_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(
        default=None, min_length=1, max_length=1000, description="Only these cases."
    )


class RuleOut(Model):
    rule: str
    from_state: str
    to_state: str
    terms: str = Field(examples=["kept", "replanned", "restarted", ""])
    cases: int


class MovedOut(Model):
    case_id: int
    rule: str
    from_state: str
    to_state: str
    terms: str


class UnplacedOut(Model):
    case_id: int
    state: str
    reason: str


class MoveOut(Model):
    from_version: int
    to_version: int
    dry_run: bool
    moved: int
    rules: list[RuleOut]
    cases: list[MovedOut] = Field(description=f"The first {CASES_LISTED} cases moved.")
    unplaced: list[UnplacedOut]
    closed: int = Field(description="Cases asked for by id that are closed: left as they are.")


@router.post("/migrations", response_model=MoveOut, responses=responses(401, 403, 404, 422, 503))
def migrate(body: MoveIn, user: CurrentUser, app: Wired) -> MoveOut:
    """Move open cases to a newer lifecycle version by the rules its file declares (admins).

    One transaction per case, recorded in its history as the migration's event; closed
    cases stay on their version; a case no rule places is listed and left as it is.
    """
    require_role(user, "admin")
    report = moves.move_cases(
        app.engine,
        body.from_version,
        body.to_version,
        user.id,
        case_ids=body.case_ids,
        dry_run=body.dry_run,
        fields=FIELDS,
    )
    return MoveOut.model_validate(report.to_dict(CASES_LISTED))
