"""The CLI opens, moves and shows cases; mistakes are one line on stderr and change nothing."""

from __future__ import annotations

from tests.e2e.conftest import CLAIMANT, RESPONDENT, Run, as_json, today_in_almaty


def test_init_twice_is_harmless(initialised: Run) -> None:
    again = initialised("init")
    assert again.exit_code == 0, again.stderr
    assert again.stdout == ""


def test_refer_fire_show_history_round_trip(initialised: Run, opened_case: int) -> None:
    run, case = initialised, str(opened_case)
    started = as_json(
        run("fire", case, "start_mediation", "--actor", "med-7", "--role", "mediator",
            "--field", f"contract_signed_on={today_in_almaty().isoformat()}",
            "--expected-version", "3", "--json")
    )  # fmt: skip
    assert (started["from_state"], started["to_state"], started["seq"]) == (
        "pre_trial",
        "in_mediation",
        4,
    )

    shown = as_json(run("show", case, "--json"))
    assert shown["state"] == "in_mediation"
    assert shown["mediator"] == "med-7"
    assert shown["timezone"] == "Asia/Almaty"
    assert "reach_agreement" in shown["allowed_events"]
    assert "remind" not in shown["allowed_events"]  # the system's own events are not offered
    assert {t["event"] for t in shown["open_terms"]} >= {"remind", "fail"}
    assert shown["term_name"] == "mediation"

    as_mediator = as_json(run("show", case, "--role", "court", "--json"))
    assert "reach_agreement" in as_mediator["allowed_events"]
    assert "extend" not in as_mediator["allowed_events"]

    records = as_json(run("history", case, "--json"))
    assert [r["seq"] for r in records] == [1, 2, 3, 4]
    assert [r["event"] for r in records] == [
        "refer",
        "accept",
        "assign_mediator",
        "start_mediation",
    ]
    assert records[1]["prev_hash"] == records[0]["hash"]


def test_personal_data_is_masked_unless_asked(initialised: Run, opened_case: int) -> None:
    run, case = initialised, str(opened_case)
    masked = as_json(run("show", case, "--json"))
    claimant, respondent = masked["parties"]
    assert claimant["iin_bin"] == "0612******12"
    assert claimant["name"] == "A. S."
    assert claimant["email"] == "a******@example.kz"
    assert respondent["name"] == "A. LLP"  # masked alike; the legal form stays
    assert respondent["phone"] == "+7701*****67"
    full = as_json(run("show", case, "--unmasked", "--reason", "check", "--json"))
    assert full["parties"][0]["iin_bin"] == "061211600012"

    history = run("history", case, "--json")
    assert "061211600012" not in history.stdout
    assert "aigerim@example.kz" not in history.stdout
    assert "061211600012" in run("history", case, "--json", "--unmasked", "--reason", "x").stdout
    assert "061211600012" not in run("show", case).stdout


def test_bad_iin_exits_2_names_the_field_and_changes_nothing(initialised: Run) -> None:
    run = initialised
    bad = run(
        "refer", "--actor", "aigerim", "--role", "party", "--region", "VKO", "--centre", "Oskemen",
        "--party", "claimant:Aigerim Serikova:061211600013", "--party", RESPONDENT,
    )  # fmt: skip
    assert bad.exit_code == 2
    assert "parties[0].iin_bin" in bad.stderr
    assert "check digit" in bad.stderr
    assert "Traceback" not in bad.stderr + bad.stdout
    assert bad.stdout == ""
    assert as_json(run("list", "--json")) == []
    assert as_json(run("audit", "verify", "--json"))["events"] == 0


def test_a_malformed_party_names_the_option(initialised: Run) -> None:
    bad = initialised("refer", "--actor", "a", "--region", "VKO", "--centre", "C", "--party", "x")
    assert bad.exit_code == 2
    assert "--party[0]" in bad.stderr


def test_unknown_region_is_refused_with_the_field(initialised: Run) -> None:
    bad = initialised(
        "refer", "--actor", "a", "--role", "party", "--region", "XXX", "--centre", "C",
        "--party", CLAIMANT,
    )  # fmt: skip
    assert bad.exit_code == 2
    assert "region" in bad.stderr


def test_exit_codes_say_what_to_do_next(initialised: Run, opened_case: int) -> None:
    run, case = initialised, str(opened_case)
    missing = run("show", "999")
    assert (missing.exit_code, missing.stderr.strip()) == (4, "error: no case 999")
    not_allowed = run("fire", case, "judge", "--actor", "j", "--role", "court")
    assert not_allowed.exit_code == 3
    assert "not allowed in state 'pre_trial'" in not_allowed.stderr
    wrong_role = run("fire", case, "withdraw", "--actor", "m", "--role", "mediator",
                     "--field", "reason=debt_paid")  # fmt: skip
    assert wrong_role.exit_code == 3
    stale = run("fire", case, "withdraw", "--actor", "a", "--role", "party",
                "--field", "reason=debt_paid", "--expected-version", "1")  # fmt: skip
    assert stale.exit_code == 3
    assert "version 3, not 1" in stale.stderr
    bad_reason = run("fire", case, "withdraw", "--actor", "a", "--role", "party",
                     "--field", "reason=bored")  # fmt: skip
    assert bad_reason.exit_code == 2
    assert "payload.reason" in bad_reason.stderr
    bad_field = run("fire", case, "withdraw", "--actor", "a", "--role", "party", "--field", "x")
    assert bad_field.exit_code == 2
    assert "--field" in bad_field.stderr
    assert as_json(run("show", case, "--json"))["version"] == 3  # nothing was written


def test_repeated_idempotency_key_returns_the_first_result(initialised: Run) -> None:
    run = initialised
    args = ("refer", "--actor", "a", "--role", "party", "--region", "VKO", "--centre", "C",
            "--party", CLAIMANT, "--idempotency-key", "k-1", "--json")  # fmt: skip
    first, second = as_json(run(*args)), as_json(run(*args))
    assert first == second
    assert len(as_json(run("list", "--json"))) == 1


def test_commands_refuse_a_database_that_was_not_initialised(run: Run) -> None:
    result = run("list")
    assert result.exit_code == 2
    assert "tatulasu init" in result.stderr


def test_list_filters_and_sweep_once(initialised: Run, opened_case: int) -> None:
    run = initialised
    rows = as_json(run("list", "--state", "pre_trial", "--region", "VKO", "--json"))
    assert [r["id"] for r in rows] == [opened_case]
    assert as_json(run("list", "--state", "settled", "--json")) == []
    assert run("list", "--limit", "0").exit_code == 2
    swept = as_json(run("sweep", "--once", "--json"))
    assert swept["fired"] == 0


def test_report_counts_the_open_case(initialised: Run, opened_case: int) -> None:
    report = as_json(initialised("report", "--region", "VKO", "--json"))
    assert (report["cases"], report["open"], report["closed"]) == (1, 1, 0)
    assert report["reconciled_share"] is None
    assert report["by_origin"] == {"party": 1}
    assert initialised("report", "--since", "yesterday").exit_code == 2


def test_an_unknown_event_is_bad_input_with_the_closest_names(
    initialised: Run, opened_case: int
) -> None:
    typo = initialised("fire", str(opened_case), "acept", "--actor", "c", "--role", "coordinator")
    assert typo.exit_code == 2
    assert typo.stderr.strip() == (
        "error: event: 'acept' is not an event of the lifecycle; did you mean accept?"
    )


def test_a_refused_event_lists_only_what_the_callers_role_may_fire(
    initialised: Run, opened_case: int
) -> None:
    refused = initialised("fire", str(opened_case), "judge", "--actor", "j", "--role", "court")
    assert refused.exit_code == 3
    assert refused.stderr.strip() == (
        "error: event 'judge' is not allowed in state 'pre_trial'; allowed: suspend, withdraw"
    )  # not the system's events, the mediator's, nor assign_mediator: the court assigns
    # mediators in court conciliation only


def test_a_failing_guard_is_explained_in_the_words_of_the_lifecycle(initialised: Run) -> None:
    run = initialised
    opened = as_json(run("refer", "--actor", "a", "--role", "party", "--region", "VKO",
                         "--centre", "C", "--party", CLAIMANT, "--json"))  # fmt: skip
    case = str(opened["case_id"])
    as_json(run("fire", case, "accept", "--actor", "c", "--role", "coordinator", "--json"))
    early = run("fire", case, "start_mediation", "--actor", "c", "--role", "coordinator",
                "--field", f"contract_signed_on={today_in_almaty().isoformat()}")  # fmt: skip
    assert early.exit_code == 3
    assert early.stderr.strip() == (
        "error: start_mediation in state 'pre_trial' needs a mediator assigned first"
        " (guard has_mediator): fire assign_mediator"
    )


def test_an_unregistered_mediator_is_refused_with_exit_2(initialised: Run) -> None:
    run = initialised
    opened = as_json(run("refer", "--actor", "a", "--role", "party", "--region", "VKO",
                         "--centre", "C", "--party", CLAIMANT, "--json"))  # fmt: skip
    case = str(opened["case_id"])
    refused = run("fire", case, "assign_mediator", "--actor", "c", "--role", "coordinator",
                  "--field", "mediator=med-9")  # fmt: skip
    assert refused.exit_code == 2
    assert refused.stderr.startswith("error: payload.mediator: 'med-9' is not a registered user")
    assert as_json(run("show", case, "--json"))["version"] == 1
