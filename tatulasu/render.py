"""Showing the read side to people (Rich tables) and to programs (JSON on stdout).

Every instant is stored in UTC and shown in the centre's time zone (`07.12.2026 14:05`).
A term runs out at the end of its last day, which is the next day's midnight; a clerk
reading "08.12.2026 00:00" would think the 8th is still free, so a term's end is said as
the pages say it, through `workflow.dates.until`: "until 07.12.2026 inclusive".
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from workflow import dates
from workflow.audit import canonical_json, format_instant
from workflow.queries import CaseView, HistoryRecord
from workflow.regions import REGIONS
from workflow.search import Found
from workflow.summary import Summary

PAYLOAD_WIDTH = 60


def console() -> Console:
    """Rich's 80 columns are for terminals; piped into a file or a pager, use wide lines."""
    width = None if sys.stdout.isatty() else 200
    return Console(highlight=False, soft_wrap=True, width=width)


def jsonable(value: Any) -> Any:
    """Dataclasses, datetimes and tuples as JSON values (instants in UTC, ISO 8601)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def print_json(value: Any) -> None:
    """Machine-readable output: one JSON document on stdout and nothing else."""
    sys.stdout.write(json.dumps(jsonable(value), ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


def local(moment: datetime | None, tz: ZoneInfo) -> str:
    """An instant in local time, `07.12.2026 14:05`."""
    return "-" if moment is None else dates.instant(moment, tz)


def until(moment: datetime | None, tz: ZoneInfo) -> str:
    """When a term ends: "until 07.12.2026 inclusive"."""
    return "-" if moment is None else dates.until(moment, tz)


def until_iso(text: str | None, tz: ZoneInfo) -> str:
    """A term's end as the engine returns it (ISO 8601, UTC), said as `until` says it."""
    return until(datetime.fromisoformat(text) if text else None, tz)


def show_case(case: CaseView, allowed: Iterable[str], tz: ZoneInfo) -> None:
    out = console()
    suspended = " [yellow](terms suspended)[/]" if case.suspended else ""
    title = f"[bold]Case {case.id}[/] — [cyan]{case.state}[/] (version {case.version})"
    out.print(title + suspended)
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="dim")
    facts.add_column()
    rows = [
        ("origin", case.origin),
        ("procedure", case.procedure),
        ("region", f"{case.region} ({REGIONS.get(case.region, '?')})"),
        ("centre", case.centre),
        ("subject", case.subject or "-"),
        ("mediator", case.mediator or "-"),
        ("court", case.court or "-"),
        ("bailiff", case.bailiff or "-"),
        ("enforcement proceeding", case.enforcement_proceeding or "-"),
        ("enforcement suspended", "yes" if case.enforcement_suspended else "no"),
        ("opened", local(case.opened_at, tz)),
        ("closed", local(case.closed_at, tz)),
    ]
    if case.term_name:
        due = until(case.term_due_at, tz)
        left = f", {case.term_days_left} days left" if case.term_days_left is not None else ""
        rows.append(("term", f"{case.term_name}: runs {due}{left}"))
    for name, value in rows:
        facts.add_row(name, escape(str(value)))
    out.print(facts)
    parties = Table("role", "name", "IIN/BIN", "contact", "lang", title="Parties")
    for p in case.parties:
        contact = p.email or p.phone or "-"
        parties.add_row(p.role, escape(p.name), p.iin_bin, escape(contact), p.language)
    out.print(parties)
    if case.open_terms:
        terms = Table("kind", "term", "event", f"due ({tz.key})", title="Open terms")
        for t in case.open_terms:
            due = until(t.due_at, tz) if t.kind != "reminder" else local(t.due_at, tz)
            terms.add_row(t.kind, t.term, t.event, due)
        out.print(terms)
    names = list(allowed)
    out.print(f"[bold]Allowed next events:[/] {', '.join(names) if names else 'none'}")


def show_history(case_id: int, records: list[HistoryRecord], tz: ZoneInfo) -> None:
    table = Table(
        "seq",
        f"at ({tz.key})",
        "event",
        "actor (role)",
        "from → to",
        "payload",
        "hash",
        title=f"History of case {case_id}",
    )
    for r in records:
        payload = canonical_json(r.payload) if r.payload else ""
        if len(payload) > PAYLOAD_WIDTH:
            payload = payload[: PAYLOAD_WIDTH - 1] + "…"  # in full with --json
        table.add_row(
            str(r.seq),
            local(r.at, tz),
            r.event,
            escape(f"{r.actor} ({r.role})"),
            f"{r.from_state} → {r.to_state}",
            escape(payload),
            r.hash[:12],
        )
    console().print(table)


def show_list(rows: list[Found], tz: ZoneInfo) -> None:
    table = Table(
        "id", "state", "origin", "region", "centre", "subject", f"running term ({tz.key})"
    )
    for r in rows:
        term = f"{r.term_name} {until(r.term_due_at, tz)}" if r.term_name else "-"
        if r.suspended:
            term += " (suspended)"
        table.add_row(
            str(r.id), r.state, r.origin, r.region, escape(r.centre), escape(r.subject), term
        )
    console().print(table)
    if not rows:
        console().print("no cases")


def reconciled_line(s: Summary) -> str:
    if s.reconciled_share is None:
        return "reconciled: no case closed yet"
    line = f"reconciled: {s.reconciled} of {s.closed} ({s.reconciled_share * 100:.1f} %)"
    return line + (f"; {s.open} still open" if s.open else "")


def _days(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def show_summary(s: Summary) -> None:
    out = console()
    by_origin = Table("origin", "cases", title="Cases by origin")
    for origin, n in s.by_origin.items():
        by_origin.add_row(origin, str(n))
    by_origin.add_row("[bold]total[/]", f"[bold]{s.cases}[/]")
    out.print(by_origin)
    outcomes = Table("state", "cases", title="Cases by state")
    for state, n in s.by_state.items():
        mark = "" if state in s.outcomes else " (open)"
        outcomes.add_row(state + mark, str(n))
    out.print(outcomes)
    d = s.days_to_agreement
    for line in (
        reconciled_line(s),
        f"consultations: {s.consultations}; mediation sessions: {s.sessions}",
        f"days from opening to agreement: median {_days(d.median)}, "
        f"90th percentile {_days(d.p90)} (over {d.count} agreements)",
        f"terms missed: {s.terms_missed} ({s.escalations} escalations)",
        f"reminders sent: {s.reminders_sent}",
    ):
        out.print(line)


def outbox_table(
    rows: list[dict[str, Any]], counts: Mapping[str, int], waiting: Mapping[str, int]
) -> None:
    """Notifications for an operator: who, how, status, attempts, receipt or error."""
    table = Table(title="Outbox")
    for column in ("id", "case", "event", "recipient", "channel", "status", "tries", "detail"):
        table.add_column(column)
    for m in rows:
        detail = m["receipt"] if m["status"] == "sent" else (m["last_error"] or "")
        table.add_row(
            str(m["id"]),
            str(m["case_id"]),
            m["event"],
            m["recipient"],
            m["channel"],
            "waiting for a sink" if m["waiting_for_sink"] else m["status"],
            str(m["attempts"]),
            escape(str(detail)[:PAYLOAD_WIDTH]),
        )
    out = console()
    out.print(table)
    out.print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "no messages")
    if waiting:
        lacking = ", ".join(f"{channel} {n}" for channel, n in waiting.items())
        out.print(f"waiting for a sink (none configured): {lacking}")
