"""The lifecycle in words, for lawyers and supervisors: generated from the file, never kept.

For each state: who may do what there and where it leads, its term (how long, counted
how and from when, under which law), the extension, the reminders, and what happens
when the term runs out. It is written from the `Lifecycle` the engine runs, in Kazakh,
Russian or English (the lifecycle's titles, and the catalogues' words for the rest), so
`docs/lifecycle*.md`, made by `tatulasu lifecycle describe`, says what the engine does;
a test holds the committed files equal to what this module writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from states import Lifecycle
from states.definition import EventSpec, Expiry, StateSpec, Term
from tatulasu.web.i18n import translations
from tatulasu.web.words import word

SYSTEM = "system"


class _Words:
    """The catalogue's words and the lifecycle's titles in one language."""

    def __init__(self, lc: Lifecycle, language: str) -> None:
        self.lc, self.language = lc, language
        self.catalogue = translations(language)

    def __call__(self, message: str, **values: object) -> str:
        text = self.catalogue.gettext(message)
        return text % values if values else text

    def days(self, term: Term | int, counted_in: str) -> str:
        n = term if isinstance(term, int) else term.days
        if counted_in == "working":
            text = self.catalogue.ngettext("%(num)d working day", "%(num)d working days", n)
        else:
            text = self.catalogue.ngettext("%(num)d calendar day", "%(num)d calendar days", n)
        return text % {"num": n}

    def state(self, name: str) -> str:
        return self.lc.states[name].titles[self.language]

    def event(self, name: str) -> str:
        return self.lc.events[name].titles[self.language]

    def roles(self, names: Iterable[str]) -> str:
        return ", ".join(word("role", r, self.language) for r in sorted(names))


def describe(lc: Lifecycle, language: str) -> str:
    """The whole lifecycle as Markdown in `language`."""
    _ = _Words(lc, language)
    lines = [
        f"# {lc.titles[language]}",
        "",
        _("Lifecycle version %(version)d, written from `%(file)s` by `tatulasu lifecycle"
            " describe`: what the engine does, in words. Do not edit it by hand.",
            version=lc.version, file="states/" + lc.source),
    ]  # fmt: skip
    for spec in lc.states.values():
        if spec.name == lc.initial:
            continue
        lines += ["", f"## {spec.titles[language]}", "", f"`{spec.name}`", ""]
        lines += list(_state(lc, spec, _))
    return "\n".join(lines) + "\n"


def _state(lc: Lifecycle, spec: StateSpec, _: _Words) -> Iterator[str]:
    if spec.terminal:
        yield _("The case ends here.")
    # The clock's own events (reminders, escalations, receipts) are told under the term.
    moves = [
        e for e in lc.events.values() if e.name in lc.events_from(spec.name) and e.roles != {SYSTEM}
    ]
    if moves:
        yield "**" + _("Who may do what here") + "**"
        yield ""
        for event in moves:
            yield from _moves(lc, event, spec.name, _)
        yield ""
    if spec.term is not None:
        yield from _term(spec.term, _)


def _moves(lc: Lifecycle, event: EventSpec, state: str, _: _Words) -> Iterator[str]:
    for route in lc.table[(state, event.name)]:
        moves = route.target is not None and route.target != state
        where = _.state(route.target) if route.target is not None and moves else None
        line = f"- {_.event(event.name)} ({_.roles(route.roles or event.roles)})"
        line += " → " + (where or _("stays at this stage"))
        if event.reasons is not None:
            named = {
                c: lc.title_of("reason", c, _.language) or c for c in lc.reasons[event.reasons]
            }
            ordered = sorted(named, key=lambda c: (c == "other", named[c]))  # "other" last
            titles = "; ".join(named[c] for c in ordered)
            line += "; " + _("with one of the reasons: %(reasons)s", reasons=titles)
        yield line


def _term(term: Term, _: _Words) -> Iterator[str]:
    yield "**" + _("Term: %(term)s", term=term.titles[_.language]) + "**"
    yield ""
    start = (
        _("from the date given as “%(field)s”", field=term.starts_from)
        if term.starts_from
        else _("from the day the case comes to this stage")
    )
    yield f"- {_.days(term, term.counted_in)}, {start}."
    if term.ends_on_working_day and term.counted_in != "working":
        yield "- " + _("A last day that falls on a day off moves to the next working day.")
    if not term.deadline:
        yield "- " + _("A waiting period, not a deadline: when it ends, no term is missed.")
    yield "- " + _("Source: %(source)s", source=term.source or "—")
    if term.extension is not None:
        ext = term.extension
        times = _("at most %(times)d times", times=ext.times) if ext.times > 1 else _("once")
        extension = f"{_.days(ext.days, term.counted_in)}, {times}. {ext.source}"
        yield "- " + _("Extension: %(extension)s", extension=extension.rstrip())
    if term.reminders:
        before = ", ".join(str(d) for d in term.reminders)
        yield "- " + _(
            "Reminders, days before it runs out: %(days)s; to: %(who)s",
            days=before,
            who=_.roles(term.remind),
        )
    yield "- " + _("When it runs out:")
    for step in term.on_expiry:
        yield f"  - {_expiry(step, term, _)}"


def _expiry(step: Expiry, term: Term, _: _Words) -> str:
    later = _("%(days)s later", days=_.days(step.after, term.counted_in))
    when = _("at once") if step.after == 0 else later
    text = f"{when}: {_.event(step.event)}"
    reason = step.payload.get("reason")
    if reason:
        text += f" ({_.lc.title_of('reason', reason, _.language) or reason})"
    if step.notify:
        text += "; " + _("told: %(who)s", who=_.roles(step.notify))
    return text
