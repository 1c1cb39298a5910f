"""The lifecycle of DESIGN.md §3, walked exhaustively: every (status, action) pair."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from registry.catalog.certification import (
    EXPORTER_ACTIONS,
    MAX_VALIDITY,
    OFFICER_ACTIONS,
    TRANSITIONS,
    Action,
    DecisionError,
    Display,
    Status,
    TransitionError,
    allowed_actions,
    check_decision,
    display_status,
    is_editable,
    may_issue_labels,
    next_status,
)

TODAY = dt.date(2026, 11, 25)

EXPECTED = {
    (Status.DRAFT, Action.SUBMIT): Status.SUBMITTED,
    (Status.REJECTED, Action.SUBMIT): Status.SUBMITTED,
    (Status.SUBMITTED, Action.APPROVE): Status.APPROVED,
    (Status.SUBMITTED, Action.REJECT): Status.REJECTED,
    (Status.APPROVED, Action.SUSPEND): Status.SUSPENDED,
    (Status.SUSPENDED, Action.REINSTATE): Status.APPROVED,
    (Status.APPROVED, Action.REVOKE): Status.REVOKED,
    (Status.SUSPENDED, Action.REVOKE): Status.REVOKED,
}


@pytest.mark.parametrize(("status", "action"), list(itertools.product(Status, Action)))
def test_every_pair_is_allowed_exactly_as_designed(status: Status, action: Action) -> None:
    if (status, action) in EXPECTED:
        assert next_status(status, action) is EXPECTED[(status, action)]
        assert action in allowed_actions(status)
    else:
        with pytest.raises(TransitionError, match=f"cannot {action.value}"):
            next_status(status, action)
        assert action not in allowed_actions(status)


def test_table_has_no_extra_transitions() -> None:
    assert TRANSITIONS == EXPECTED


def test_revoked_is_final() -> None:
    assert allowed_actions(Status.REVOKED) == []


@pytest.mark.parametrize("status", list(Status))
def test_only_draft_and_rejected_are_editable(status: Status) -> None:
    assert is_editable(status) is (status in (Status.DRAFT, Status.REJECTED))


def test_approved_past_validity_reads_expired() -> None:
    assert display_status(Status.APPROVED, TODAY, TODAY) is Display.APPROVED
    assert display_status(Status.APPROVED, TODAY - dt.timedelta(days=1), TODAY) is Display.EXPIRED
    # Only an approval expires; a suspended or revoked batch keeps saying so.
    assert display_status(Status.SUSPENDED, TODAY - dt.timedelta(days=1), TODAY) is (
        Display.SUSPENDED
    )


@pytest.mark.parametrize("status", list(Status))
def test_labels_only_for_approved_unexpired(status: Status) -> None:
    future = TODAY + dt.timedelta(days=30)
    assert may_issue_labels(status, future, TODAY) is (status is Status.APPROVED)
    assert not may_issue_labels(status, TODAY - dt.timedelta(days=1), TODAY)


@pytest.mark.parametrize("action", [Action.REJECT, Action.REVOKE, Action.SUSPEND])
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_reason_required(action: Action, reason: str | None) -> None:
    with pytest.raises(DecisionError, match="reason"):
        check_decision(action, reason=reason, valid_until=None, today=TODAY)
    check_decision(action, reason="lab results missing", valid_until=None, today=TODAY)


@pytest.mark.parametrize(
    ("valid_until", "ok"),
    [
        (None, False),
        (TODAY, False),
        (TODAY - dt.timedelta(days=1), False),
        (TODAY + dt.timedelta(days=1), True),
        (TODAY + dt.timedelta(days=3 * 366), True),
        (TODAY + dt.timedelta(days=3 * 366 + 1), False),
    ],
)
def test_approval_validity(valid_until: dt.date | None, ok: bool) -> None:
    if ok:
        check_decision(Action.APPROVE, reason=None, valid_until=valid_until, today=TODAY)
    else:
        with pytest.raises(DecisionError):
            check_decision(Action.APPROVE, reason=None, valid_until=valid_until, today=TODAY)


@pytest.mark.parametrize(("status", "actions"), [
    (Status.DRAFT, [Action.SUBMIT]),
    (Status.SUBMITTED, [Action.APPROVE, Action.REJECT]),
    (Status.APPROVED, [Action.SUSPEND, Action.REVOKE]),
    (Status.REJECTED, [Action.SUBMIT]),
    (Status.SUSPENDED, [Action.REINSTATE, Action.REVOKE]),
    (Status.REVOKED, []),
])
def test_allowed_actions_in_the_order_the_page_offers_them(status: Status,
                                                           actions: list[Action]) -> None:
    assert allowed_actions(status) == actions


def test_a_refused_transition_names_what_was_tried() -> None:
    with pytest.raises(TransitionError) as refused:
        next_status(Status.REVOKED, Action.REINSTATE)
    assert (refused.value.status, refused.value.action) == (Status.REVOKED, Action.REINSTATE)
    assert str(refused.value) == "cannot reinstate a batch that is revoked"
    assert isinstance(refused.value, ValueError)


# Who does what, pinned by meaning rather than by listing the sets again: an exporter only
# hands in its own editable batch for review; every decision on it is the trade office's.
# Adding REVOKE (or any decision) to EXPORTER_ACTIONS fails here.
def test_exporters_only_submit_their_editable_batches() -> None:
    for (source, action), target in TRANSITIONS.items():
        if action in EXPORTER_ACTIONS:
            assert is_editable(source), (source, action)
            assert target is Status.SUBMITTED, (source, action)
    assert {Action.SUBMIT} == EXPORTER_ACTIONS


def test_every_decision_is_the_trade_offices() -> None:
    for (source, action), _target in TRANSITIONS.items():
        if not is_editable(source):
            assert action in OFFICER_ACTIONS, (source, action)
            assert action not in EXPORTER_ACTIONS, (source, action)
    assert not EXPORTER_ACTIONS & OFFICER_ACTIONS
    assert set(Action) == EXPORTER_ACTIONS | OFFICER_ACTIONS


@pytest.mark.parametrize("action", [Action.SUBMIT, Action.REINSTATE])
def test_giving_back_needs_no_reason(action: Action) -> None:
    check_decision(action, reason=None, valid_until=None, today=TODAY)
    check_decision(action, reason="", valid_until=None, today=TODAY)


@pytest.mark.parametrize("action", [Action.REJECT, Action.REVOKE, Action.SUSPEND])
def test_a_missing_reason_names_the_action(action: Action) -> None:
    with pytest.raises(DecisionError) as refused:
        check_decision(action, reason=" \n ", valid_until=None, today=TODAY)
    assert str(refused.value) == f"a reason is required to {action.value}"


def test_a_reason_does_not_excuse_a_bad_validity() -> None:
    with pytest.raises(DecisionError, match="validity end date"):
        check_decision(Action.APPROVE, reason="fine", valid_until=None, today=TODAY)
    with pytest.raises(DecisionError, match="in the future"):
        check_decision(Action.APPROVE, reason="fine", valid_until=TODAY, today=TODAY)
    with pytest.raises(DecisionError, match="three years"):
        check_decision(Action.APPROVE, reason="fine", valid_until=TODAY + MAX_VALIDITY
                       + dt.timedelta(days=1), today=TODAY)


def test_the_decision_details_are_named_never_positional() -> None:
    # Two dates side by side: by position, the end of validity and today could be swapped.
    future = TODAY + dt.timedelta(days=30)
    with pytest.raises(TypeError):
        check_decision(Action.APPROVE, None, future, TODAY)  # type: ignore[misc]


def test_validity_is_at_most_three_years_of_leap_years() -> None:
    assert dt.timedelta(days=3 * 365 + 1) < MAX_VALIDITY == dt.timedelta(days=1098)


@pytest.mark.parametrize("status", list(Status))
def test_display_follows_the_status_within_validity(status: Status) -> None:
    assert display_status(status, TODAY, TODAY) == Display(status.value)
    assert display_status(status, None, TODAY) == Display(status.value)


def test_an_approval_without_an_end_date_never_expires() -> None:
    assert display_status(Status.APPROVED, None, TODAY) is Display.APPROVED
    assert may_issue_labels(Status.APPROVED, None, TODAY)


def test_labels_on_the_last_valid_day_but_not_the_day_after() -> None:
    assert may_issue_labels(Status.APPROVED, TODAY, TODAY)
    assert not may_issue_labels(Status.APPROVED, TODAY, TODAY + dt.timedelta(days=1))


def test_rules_module_imports_neither_flask_nor_the_database() -> None:
    import ast
    from pathlib import Path

    import registry.catalog.certification as module

    tree = ast.parse(Path(module.__file__).read_text())
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not {name for name in imported if name.split(".")[0] in {"flask", "sqlalchemy",
                                                                     "sqlmodel", "registry"}}
