"""The `tatulasu` command: open and move cases, read them, verify the history, report.

Each command is a thin order to the engine or a read of `workflow.queries`; printing is
in `tatulasu.render`, exit codes in `tatulasu.exits`. With `--json` a command writes one
JSON document on stdout and nothing else, so its output can be piped; messages for
people go to stderr. Heavy parts (the web server, Celery, Alembic, the diagram's
graphviz) are imported by the commands that use them, so --help starts fast.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import typer
from rich.markup import escape

import states
from tatulasu import (
    access_commands,
    calendar_command,
    clock_commands,
    db_commands,
    import_command,
    lifecycle_commands,
    render,
    user_commands,
)
from tatulasu import diagram as diagrams
from tatulasu.exits import BAD_INPUT, PROBLEM_FOUND, fail, reports_errors
from tatulasu.options import (
    DatabaseUrl,
    Json,
    Unmasked,
    info,
    opened,
)
from tatulasu.parsing import local_midnight, parse_day, parse_fields, parse_party
from workflow import audit, errors, queries, search, timers
from workflow.commands import FireEvent, OpenCase
from workflow.errors import InvalidField

app = typer.Typer(
    name="tatulasu",
    help="Dispute reconciliation workflow: cases, terms, tamper-evident history.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
audit_app = typer.Typer(
    help="Verify the hash-chained history, export its signed head hashes, make the key."
)
app.add_typer(audit_app, name="audit")


def _opening_role(event: str) -> str:
    """The role `refer` acts in when --role is not given: the official who fires `event`."""
    spec = states.current().events.get(event)
    officials = sorted(spec.roles - {"party"}) if spec is not None else []
    return officials[0] if officials else "party"


def _term_note(due: str | None, tz: ZoneInfo) -> str:
    return f"; term runs {render.until_iso(due, tz)} ({tz.key})" if due else ""


# ---------------------------------------------------------------------- setup


@app.command()
@reports_errors
def init(database_url: DatabaseUrl = None) -> None:
    """Create the database, or migrate it to the newest schema."""
    with opened(database_url, must_exist=False) as wired:
        wired.store.migrate()
        info(f"database ready: {wired.store.engine.url.render_as_string(hide_password=True)}")


@app.command()
@reports_errors
def demo(
    cases: Annotated[int, typer.Option(min=1, max=5000, help="Disputes to simulate.")] = 134,
    seed: Annotated[int, typer.Option(help="Seed of the simulation (same seed, same year).")] = 1,
    database_url: Annotated[
        str, typer.Option("--database-url", help="A SQLite URL; the file is replaced.")
    ] = "sqlite:///tatulasu-demo.db",
    json_out: Json = False,
) -> None:
    """Simulate a year of a reconciliation centre in East Kazakhstan, in a fresh SQLite file."""
    from tatulasu.demo import run_demo
    from tatulasu.demo.accounts import add_accounts

    result = run_demo(database_url, cases=cases, seed=seed, progress=not json_out)
    accounts = add_accounts(database_url)
    if json_out:
        render.print_json(
            {"database_url": database_url, **result.to_dict(),
             "sign_in": [a.to_dict() for a in accounts]}
        )  # fmt: skip
        return
    render.show_summary(result.summary)
    render.console().print(f"audit chain verified: {result.verified_events} events")
    info(f"demo database: {database_url}")
    render.console().print("\nSign in to the pages (passwords shown once):")
    for account in accounts:
        render.console().print(f"  {account.role:<12} {account.id:<18} {account.password}")
    info(
        f"open the pages: tatulasu serve --database-url {database_url}, then"
        " http://127.0.0.1:8000/web/login (every role but party has pages)"
    )


# ---------------------------------------------------------------------- writing


@app.command()
@reports_errors
def refer(
    actor: Annotated[str, typer.Option(help="Who refers the dispute.")],
    region: Annotated[str, typer.Option(help="Region code, e.g. VKO.")],
    centre: Annotated[str, typer.Option(help="The reconciliation centre or office.")],
    party: Annotated[
        list[str] | None,
        typer.Option(help="role:name:IIN[:email or phone[:lang]] (repeat for each party)."),
    ] = None,
    event: Annotated[
        str | None,
        typer.Option(help="The opening event (default: the one the role opens cases by)."),
    ] = None,
    role: Annotated[
        str | None, typer.Option(help="Role of the actor (default: by the event).")
    ] = None,
    subject: Annotated[str, typer.Option(help="What the dispute is about.")] = "",
    enforcement_proceeding: Annotated[str | None, typer.Option()] = None,
    procedure: Annotated[str | None, typer.Option()] = None,
    language: Annotated[str, typer.Option(help="kk, ru or en.")] = "kk",
    court: Annotated[str | None, typer.Option()] = None,
    bailiff: Annotated[str | None, typer.Option()] = None,
    proposed_mediator: Annotated[
        str | None,
        typer.Option(help="A mediator to propose (recorded; the coordinator assigns one)."),
    ] = None,
    idempotency_key: Annotated[str | None, typer.Option()] = None,
    database_url: DatabaseUrl = None,
    json_out: Json = False,
) -> None:
    """Open a case: a party, a court or a bailiff refers a dispute."""
    role = role or (_opening_role(event) if event else "coordinator")
    event = event or states.current().opening_event_for(role) or ""
    command = OpenCase(
        event=event,
        actor=actor,
        role=role,
        region=region,
        centre=centre,
        parties=tuple(parse_party(text, i) for i, text in enumerate(party or [])),
        subject=subject,
        language=language,
        procedure=procedure,
        enforcement_proceeding=enforcement_proceeding,
        court=court,
        bailiff=bailiff,
        proposed_mediator=proposed_mediator,
        idempotency_key=idempotency_key,
    )
    with opened(database_url) as wired:
        result = wired.engine.open_case(command)
        tz = wired.calendar.tz
    if json_out:
        render.print_json(result.to_dict())
        return
    term = _term_note(result.term_due_at, tz)
    render.console().print(f"opened case {result.case_id}: {result.to_state}{term}")


@app.command()
@reports_errors
def fire(
    case_id: Annotated[int, typer.Argument(metavar="CASE")],
    event: Annotated[str, typer.Argument()],
    actor: Annotated[str, typer.Option(help="Who fires the event.")],
    role: Annotated[str, typer.Option(help="The actor's role.")],
    field: Annotated[
        list[str] | None, typer.Option("--field", "-f", help="key=value of the payload.")
    ] = None,
    expected_version: Annotated[int | None, typer.Option()] = None,
    idempotency_key: Annotated[str | None, typer.Option()] = None,
    database_url: DatabaseUrl = None,
    json_out: Json = False,
) -> None:
    """Fire one event on one case (accept, assign_mediator, reach_agreement, ...)."""
    command = FireEvent(
        case_id=case_id,
        event=event,
        actor=actor,
        role=role,
        payload=parse_fields(field or []),
        expected_version=expected_version,
        idempotency_key=idempotency_key,
    )
    with opened(database_url) as wired:
        result = wired.engine.fire(command)
        tz = wired.calendar.tz
    if json_out:
        render.print_json(result.to_dict())
        return
    term = _term_note(result.term_due_at, tz)
    render.console().print(
        f"case {result.case_id}: {result.event}: {result.from_state} → {result.to_state}"
        f" (version {result.seq}){term}"
    )


@app.command()
@reports_errors
def sweep(
    once: Annotated[bool, typer.Option("--once", help="Sweep once and stop.")] = False,
    limit: Annotated[int, typer.Option(min=1, help="Timers per sweep.")] = 200,
    database_url: DatabaseUrl = None,
    json_out: Json = False,
) -> None:
    """Fire the reminders and escalations that have fallen due (in a loop unless --once)."""
    with opened(database_url) as wired:
        while True:
            result = timers.sweep(wired.engine, limit=limit)
            if once:
                break
            if result.fired:
                info(f"fired {result.fired} timers")
            try:
                time.sleep(wired.settings.sweep_interval_seconds)
            except KeyboardInterrupt:
                return
    if json_out:
        render.print_json(result)
        return
    render.console().print(f"fired {result.fired} timers, skipped {result.skipped}")
    for line in result.refused:
        info(f"refused: {line}")


# ---------------------------------------------------------------------- reading


@app.command()
@reports_errors
def show(
    case_id: Annotated[int, typer.Argument(metavar="CASE")],
    role: Annotated[
        str | None, typer.Option(help="List only the events this role may fire.")
    ] = None,
    unmasked: Unmasked = False,
    reason: access_commands.Reason = None,
    actor: access_commands.Reader = None,
    database_url: DatabaseUrl = None,
    json_out: Json = False,
) -> None:
    """A case: its state, parties, open terms and the events allowed next."""
    why = access_commands.reason_for(unmasked, reason)
    with opened(database_url) as wired:
        with wired.store.reading() as conn:
            case = queries.get_case(conn, case_id)
            allowed = queries.allowed_events(wired.engine, case, role)
            tz = wired.calendar.tz
        if why is not None:
            access_commands.record(wired, why, actor, "show", case_id)
    if not unmasked:
        case = case.masked()
    if json_out:
        render.print_json({**render.jsonable(case), "allowed_events": allowed, "timezone": tz.key})
        return
    render.show_case(case, allowed, tz)


@app.command()
@reports_errors
def history(
    case_id: Annotated[int, typer.Argument(metavar="CASE")],
    unmasked: Unmasked = False,
    reason: access_commands.Reason = None,
    actor: access_commands.Reader = None,
    database_url: DatabaseUrl = None,
    json_out: Json = False,
) -> None:
    """A case's history, oldest first, as the audit chain holds it."""
    why = access_commands.reason_for(unmasked, reason)
    with opened(database_url) as wired:
        with wired.store.reading() as conn:
            records = queries.history(conn, case_id)
            names = [name for _, name in queries.party_names(conn, [case_id])[case_id]]
            tz = wired.calendar.tz
        if why is not None:
            access_commands.record(wired, why, actor, "history", case_id)
    if not unmasked:
        records = [r.masked(names) for r in records]
    if json_out:
        render.print_json(records)
        return
    render.show_history(case_id, records, tz)


@app.command("list")
@reports_errors
def list_(
    state: Annotated[str | None, typer.Option()] = None,
    region: Annotated[str | None, typer.Option()] = None,
    centre: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option()] = 50,
    offset: Annotated[int, typer.Option()] = 0,
    database_url: DatabaseUrl = None,
    json_out: Json = False,
) -> None:
    """Cases by state, region and centre, oldest first."""
    with opened(database_url) as wired, wired.store.reading() as conn:
        filters = search.Filters(state=state, region=region, centre=centre)
        rows = search.search(conn, sa.true(), filters, limit, offset).items
        parties = queries.party_names(conn, [r.id for r in rows])
        rows = [r.masked(name for _, name in parties[r.id]) for r in rows]
        tz = wired.calendar.tz
    if json_out:
        render.print_json(rows)
        return
    render.show_list(rows, tz)


@app.command()
@reports_errors
def report(
    since: Annotated[str | None, typer.Option(help="Opened on or after (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="Opened before (YYYY-MM-DD).")] = None,
    region: Annotated[str | None, typer.Option()] = None,
    centre: Annotated[str | None, typer.Option()] = None,
    database_url: DatabaseUrl = None,
    json_out: Json = False,
) -> None:
    """Statistics of the cases opened in a period: outcomes, share reconciled, terms."""
    with opened(database_url) as wired, wired.store.reading() as conn:
        tz = wired.calendar.tz
        result = queries.summary(
            conn,
            since=local_midnight(parse_day(since, "--since"), tz),
            until=local_midnight(parse_day(until, "--until"), tz),
            region=region,
            centre=centre,
        )
    if json_out:
        render.print_json(result)
        return
    render.show_summary(result)


@app.command()
@reports_errors
def diagram(
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="mermaid, svg or png. Default: the one --output's suffix names (.mmd,"
            " .svg, .png), else mermaid; a suffix naming another format is refused.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[Path | None, typer.Option(help="Write to this file.")] = None,
    version: Annotated[
        int | None, typer.Option("--lifecycle-version", help="Default: the newest.")
    ] = None,
) -> None:
    """The lifecycle as a state diagram (Mermaid text, or SVG/PNG through Graphviz).

    SVG and PNG need Graphviz's `dot` and the `tatulasu[graphviz]` extra; without them
    the command says so (exit 5) instead of writing Mermaid text under an image's name.
    """
    lc = states.get(version) if version is not None else states.current()
    chosen = diagrams.format_for(format, output)
    if chosen == "png" and output is None:
        raise InvalidField("--output", "a PNG is written to a file: give --output")
    if chosen == "mermaid":
        data = diagrams.mermaid(lc).encode("utf-8")
    else:
        data = diagrams.image(lc, chosen)
    if output is None:
        typer.echo(data.decode("utf-8"), nl=False)
        return
    output.write_bytes(data)
    info(f"wrote {output}")


# ---------------------------------------------------------------------- audit


@audit_app.command("verify")
@reports_errors
def audit_verify(
    heads: Annotated[
        Path | None, typer.Option(help="Signed head hashes exported earlier (export-heads).")
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--public-key",
            envvar="TATULASU_AUDIT_PUBLIC_KEY_FILE",
            help="The Ed25519 public key (PEM) that checks the signature of --heads.",
            show_default=False,
        ),
    ] = None,
    database_url: DatabaseUrl = None,
    json_out: Json = False,
) -> None:
    """Walk every case's hash chain; name the first bad record of each broken chain.

    Each intact chain is replayed: every column of the case row, its parties and its
    open timers that differs from what the history says is named (exit 1).
    """
    exported = _read_heads(heads, public_key) if heads is not None else None
    with opened(database_url) as wired, wired.store.reading() as conn:
        result = audit.verify(conn, heads=exported, decider=wired.engine)
    if json_out:
        render.print_json(
            {
                "ok": result.ok,
                "cases": result.cases,
                "events": result.events,
                "breaks": [{**render.jsonable(b), "message": str(b)} for b in result.breaks],
            }
        )
    elif result.ok:
        render.console().print(
            f"audit chain verified: {result.events} events in {result.cases} cases"
        )
    else:
        for found in result.breaks:
            info(f"[bold red]broken:[/] {escape(str(found))}")
        info(
            f"{result.cases_broken} of {result.cases} cases with a broken chain"
            " or a difference from their history"
        )
    if not result.ok:
        raise typer.Exit(PROBLEM_FOUND)


def _read_heads(path: Path, public_key: Path | None) -> dict[int, tuple[int, str]]:
    """The heads of `path`, their signature checked first; refused with one line."""
    from workflow.audit_keys import load_public

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise fail(f"--heads: cannot read {path}: {exc.strerror}", BAD_INPUT) from None
    except ValueError as exc:
        raise fail(f"--heads: {path} is not a valid heads file: {exc}", BAD_INPUT) from None
    try:
        key = load_public(public_key) if public_key is not None else None
        return audit.parse_heads(doc, key)
    except errors.KeyFileError as exc:
        raise fail(f"--public-key: {exc}", BAD_INPUT) from None
    except errors.PublicKeyMissing:
        raise fail(
            f"--public-key: needed to check the signature of {path}"
            " (or set TATULASU_AUDIT_PUBLIC_KEY_FILE)",
            BAD_INPUT,
        ) from None
    except errors.SignatureMismatch as exc:
        raise fail(f"--heads: {path} refused: {exc}", PROBLEM_FOUND) from None
    except errors.HeadsMalformed as exc:
        raise fail(f"--heads: {path} is not a valid heads file: {exc}", BAD_INPUT) from None
    except errors.HeadsRefused as exc:
        raise fail(f"--heads: {path} refused: {exc}", BAD_INPUT) from None


@audit_app.command("export-heads")
@reports_errors
def audit_export_heads(
    key: Annotated[
        Path | None,
        typer.Option(
            "--key",
            envvar="TATULASU_AUDIT_SIGNING_KEY_FILE",
            help="The Ed25519 private key (PEM) that signs the heads (audit keygen).",
            show_default=False,
        ),
    ] = None,
    output: Annotated[Path | None, typer.Option(help="Write here (default: stdout).")] = None,
    database_url: DatabaseUrl = None,
) -> None:
    """Export each chain's head hash, signed, to keep outside the database."""
    from workflow.audit_keys import load_private, write_atomically

    if key is None:
        raise fail(
            "--key: the heads are signed: give --key PRIVATE.pem or set"
            " TATULASU_AUDIT_SIGNING_KEY_FILE (make a key pair with `tatulasu audit keygen`)",
            BAD_INPUT,
        )
    try:
        private = load_private(key)
    except errors.KeyFileError as exc:
        raise fail(f"--key: {exc}", BAD_INPUT) from None
    with opened(database_url) as wired, wired.store.reading() as conn:
        doc = audit.export_heads(conn, private, wired.engine.clock.now())
    text = json.dumps(doc, indent=2, sort_keys=True) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        write_atomically(output, text.encode("utf-8"))
    except OSError as exc:
        raise fail(f"--output: cannot write {output}: {exc.strerror}", BAD_INPUT) from None
    info(f"exported the signed heads of {len(doc['cases'])} cases to {output}")


@audit_app.command("keygen")
@reports_errors
def audit_keygen(
    private_key: Annotated[
        Path, typer.Option("--private-key", help="Write the private key here (mode 0600).")
    ],
    public_key: Annotated[Path, typer.Option("--public-key", help="Write the public key here.")],
) -> None:
    """Make the Ed25519 key pair that signs exported heads; never overwrites a key."""
    from workflow.audit_keys import generate

    try:
        key_id = generate(private_key, public_key)
    except errors.KeyFileError as exc:
        raise fail(f"keygen: {exc}", BAD_INPUT) from None
    info(
        f"wrote the private key {private_key} (keep it off the database server) and the"
        f" public key {public_key}; key id {key_id}"
    )


clock_commands.register(app)
user_commands.register(app)
import_command.register(app)
db_commands.register(app)
calendar_command.register(app)
lifecycle_commands.register(app)
access_commands.register(audit_app)
