"""The words a lifecycle file may use.

The engine implements each guard, effect and field type named here; a unit test checks
that the two lists agree, so a definition can be validated without importing the engine.
"""

from __future__ import annotations

ROLES: frozenset[str] = frozenset(
    {
        "party",
        "coordinator",
        "mediator",
        "court",
        "bailiff",
        "chamber",
        "supervisor",
        "admin",
        "system",
    }
)

# What a party is on a case (the parties rows): an event may be limited to some of them.
PARTY_ROLES: frozenset[str] = frozenset({"claimant", "respondent", "debtor", "creditor"})

GUARDS: frozenset[str] = frozenset(
    {
        "has_mediator",
        "extension_available",
        "from_enforcement",
        "not_from_enforcement",
        "from_court",
        "not_from_court",
        "is_suspended",
    }
)

EFFECTS: frozenset[str] = frozenset(
    {
        "set_mediator",
        "set_bailiff",
        "set_court",
        "set_procedure",
        "extend_term",
        "suspend_terms",
        "resume_terms",
        "suspend_enforcement",
        "resume_enforcement",
    }
)

# "receipts": a list of delivery receipts ({key, channel, status, reference}, and
# {retried_by, retried_at} for a notice an admin sent again).
FIELD_TYPES: frozenset[str] = frozenset({"text", "date", "procedure", "reason", "receipts"})

PROCEDURES: frozenset[str] = frozenset(
    {
        "mediation_professional",
        "mediation_public",
        "court_conciliation",
        "participatory",
        "settlement_agreement",
        "enforcement_reconciliation",
    }
)

# Who is told of an event: the case's parties, or an official attached to the case.
RECIPIENTS: frozenset[str] = frozenset(
    {"party", "coordinator", "mediator", "court", "bailiff", "supervisor"}
)

DAY_COUNTS: frozenset[str] = frozenset({"calendar", "working"})

# What the code needs to know of an event, declared by its `kind` in the file (the code
# never names an event): the tally column an event of the kind counts on the case, if any.
EVENT_KINDS: dict[str, str | None] = {
    "consultation": "consultations",  # the report counts them
    "session": "sessions",
    "reminder": "reminders",  # the clock fires it before a term runs out
    "escalation": "escalations",  # the clock fires it when a term has run out
    "agreement_signed": None,  # the parties signed: the report's first agreement and its days
    "delivery_receipt": None,  # the dispatcher records the notices' fates with it
    "notice_received": None,  # a party received the notice its state awaits (a report)
}
# Kinds the engine fires or reads by kind: a lifecycle has exactly one event of each.
SINGLE_EVENT_KINDS: frozenset[str] = frozenset(
    {"reminder", "escalation", "agreement_signed", "delivery_receipt"}
)
# Kinds a lifecycle may do without, but has at most one event of.
AT_MOST_ONE_EVENT_KINDS: frozenset[str] = frozenset({"notice_received"})

# What the reports and pages need to know of a state, declared by its `kind`; at most
# one state of a lifecycle has each.
STATE_KINDS: frozenset[str] = frozenset(
    {
        "reconciled",  # the share reconciled counts it ("107 of 134")
        "returned",  # back to the bailiff: first in the bailiff's list of his referrals
        "awaiting_approval",  # the court's work queue
        "awaiting_receipt",  # a notice's receipt starts the next term (a delivery report)
    }
)

# Who opened a case (an opening event's `opens.origin`); the guards read it.
ORIGINS: frozenset[str] = frozenset({"party", "centre", "court", "bailiff"})

# The languages a lifecycle's words for people (guard explanations) are written in.
LANGUAGES: tuple[str, ...] = ("en", "ru", "kk")
