"""The lifecycle of DESIGN.md §3, walked exhaustively: every (status, action) pair."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from registry.certification import (
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


def test_rules_module_imports_neither_flask_nor_the_database() -> None:
    import ast
    from pathlib import Path

    import registry.certification as module

    tree = ast.parse(Path(module.__file__).read_text())
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not {name for name in imported if name.split(".")[0] in {"flask", "sqlalchemy",
                                                                     "sqlmodel", "registry"}}
