"""The certification lifecycle of a batch (DESIGN.md §3), in one place.

No Flask and no database here: views and services ask these functions what is allowed,
and the tests walk every (status, action) pair.

    draft → submitted → approved | rejected
    rejected → submitted            (after edits)
    approved → suspended → approved (reinstate)
    approved | suspended → revoked  (final)
    approved past its validity reads as expired
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class Action(StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    REVOKE = "revoke"


# Status an exporter or an officer may see, including the derived one.
class Display(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    EXPIRED = "expired"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (Status.DRAFT, Action.SUBMIT): Status.SUBMITTED,
    (Status.REJECTED, Action.SUBMIT): Status.SUBMITTED,
    (Status.SUBMITTED, Action.APPROVE): Status.APPROVED,
    (Status.SUBMITTED, Action.REJECT): Status.REJECTED,
    (Status.APPROVED, Action.SUSPEND): Status.SUSPENDED,
    (Status.SUSPENDED, Action.REINSTATE): Status.APPROVED,
    (Status.APPROVED, Action.REVOKE): Status.REVOKED,
    (Status.SUSPENDED, Action.REVOKE): Status.REVOKED,
}

# Who may perform an action: the exporter owns submission, the trade office decides.
EXPORTER_ACTIONS = frozenset({Action.SUBMIT})
OFFICER_ACTIONS = frozenset(
    {Action.APPROVE, Action.REJECT, Action.SUSPEND, Action.REINSTATE, Action.REVOKE}
)
REASON_REQUIRED = frozenset({Action.REJECT, Action.REVOKE, Action.SUSPEND})
EDITABLE = frozenset({Status.DRAFT, Status.REJECTED})
MAX_VALIDITY = dt.timedelta(days=3 * 366)


class TransitionError(ValueError):
    """An action that the lifecycle does not allow from the current status."""

    def __init__(self, status: Status, action: Action) -> None:
        super().__init__(f"cannot {action.value} a batch that is {status.value}")
        self.status = status
        self.action = action


class DecisionError(ValueError):
    """A decision whose details (reason, validity) are missing or wrong."""


def allowed_actions(status: Status) -> list[Action]:
    return [action for (source, action) in TRANSITIONS if source == status]


def next_status(status: Status, action: Action) -> Status:
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise TransitionError(status, action) from None


def check_decision(
    action: Action,
    *,
    reason: str | None,
    valid_until: dt.date | None,
    today: dt.date,
) -> None:
    """Validate what a decision must carry beyond the transition itself."""
    if action in REASON_REQUIRED and not (reason and reason.strip()):
        raise DecisionError(f"a reason is required to {action.value}")
    if action is Action.APPROVE:
        if valid_until is None:
            raise DecisionError("an approval needs a validity end date")
        if valid_until <= today:
            raise DecisionError("the validity end date must be in the future")
        if valid_until - today > MAX_VALIDITY:
            raise DecisionError("the validity may not exceed three years")


def display_status(status: Status, valid_until: dt.date | None, today: dt.date) -> Display:
    if status is Status.APPROVED and valid_until is not None and valid_until < today:
        return Display.EXPIRED
    return Display(status.value)


def is_editable(status: Status) -> bool:
    """A batch is frozen from submission on; rejected ones may be corrected and resubmitted."""
    return status in EDITABLE


def may_issue_labels(status: Status, valid_until: dt.date | None, today: dt.date) -> bool:
    return display_status(status, valid_until, today) is Display.APPROVED
