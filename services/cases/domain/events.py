"""Events the case aggregate returns from a transition. Pure data; no I/O.

Every action produces exactly one `CaseTransitioned`: it is the case-history row (who, when,
from-state, to-state, inputs, reason) and what the service publishes as `case.transitioned`
(shared/contracts/cases/events.py). `name` is the past-tense name of what happened
(CaseSubmitted, PrePublicityStarted, …), so subscribers can dispatch on it without knowing
the state table.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.contracts.accounts.vocabulary import Role
from shared.contracts.cases.vocabulary import Action, CaseState, Outcome


@dataclass(frozen=True)
class CaseTransitioned:
    name: str  # past tense, e.g. "CaseApproved"
    case_id: str
    action: Action
    actor_role: Role
    actor_id: str | None
    from_state: CaseState
    to_state: CaseState
    outcome: Outcome | None  # set when to_state is closed
    status_label: str  # the 业务状态 after the move, e.g. "单位审核同意-->待打印评前公示"
    reason: str | None  # what the 原因 column shows after the move
    at: datetime
    version: int  # the case version after the move
    inputs: dict[str, Any] = field(default_factory=dict)  # JSON-ready, incl. computed dates
    applicant_notice: str | None = None  # SMS text for the applicant, if this move concerns them

    @property
    def notifies_applicant(self) -> bool:
        return self.applicant_notice is not None
