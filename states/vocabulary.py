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

# The languages a lifecycle's words for people (guard explanations) are written in.
LANGUAGES: tuple[str, ...] = ("en", "ru", "kk")
