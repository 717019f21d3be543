"""What the documents service tells cases about printing.

`declaration_form.printed`: a 评审（申报）表 was rendered for these cases by this actor.
Printing it is the unit's step 7, so each case still 待打印评审(申报)表 moves on to the
department's review exactly as the list's 打印 button would move it. A case past that step
was printed again, which changes nothing.
"""

import logging

from services.cases.deps import CasesDeps
from services.cases.domain.model import Action, IllegalTransition
from services.cases.handlers.workflow import Permit, Refused, RoleRefused, move_as
from shared.contracts.documents.events import DeclarationFormPrinted
from shared.envelope import Envelope
from shared.rpc import Actor, RpcError

log = logging.getLogger(__name__)


def declaration_form_printed_handler(deps: CasesDeps):
    async def on_declaration_form_printed(
        conn, envelope: Envelope, printed: DeclarationFormPrinted
    ) -> None:
        actor = Actor.model_validate(printed.actor.model_dump())
        case_ids = list(dict.fromkeys(printed.case_ids))
        try:
            permit = Permit.check(actor, Action.PRINT_DECLARATION_FORM)
            outcomes = await move_as(conn, permit, deps.clock.now(), case_ids, {})
        except (RoleRefused, RpcError) as refused:
            # a reviewer printed it to read (or the actor sees no cases): not the unit's step 7
            log.info(
                "declaration_form.printed %s: a %s may not print (%s); %d case(s) left as they are",
                envelope.id,
                actor.role,
                refused.message,
                len(case_ids),
            )
            return
        for outcome in outcomes:
            # a case no longer 待打印评审(申报)表 was printed again: an illegal transition
            if isinstance(outcome, Refused) and not isinstance(outcome.error, IllegalTransition):
                log.warning(
                    "declaration_form.printed %s: case %s not moved for %s %s: %s",
                    envelope.id,
                    outcome.case_id,
                    actor.role,
                    actor.user_id,
                    outcome.error.message,
                )

    return on_declaration_form_printed
