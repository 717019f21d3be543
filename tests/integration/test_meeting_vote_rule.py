"""The vote statement writes a vote exactly when the domain's rule allows it: cast_vote's
single statement (services/cases/handlers/meeting_vote.py, VOTE) repeats ballot_problem's
rule in SQL, so that the check and the write are one round trip; here the two meet on every
combination of the facts they read."""

import itertools
import re
import uuid

import asyncpg

from services.cases.domain.meetings import ballot_problem
from services.cases.handlers.meeting_vote import VOTE
from shared.contracts.cases.meetings import MeetingPhase

ALLOWED = re.search(r"allowed AS \(SELECT expert_id FROM voter WHERE (.*?)\),", VOTE).group(1)


async def test_the_statement_allows_a_vote_exactly_when_ballot_problem_does(settings):
    conn = await asyncpg.connect(settings.database_url)
    try:
        for phase, present, in_meeting, excluded in itertools.product(
            MeetingPhase, (None, False, True), (False, True), (None, "conflict")
        ):
            expert_id = None if present is None else uuid.uuid4()  # None: not a member
            allowed = await conn.fetchval(
                "SELECT count(*) = 1 FROM (VALUES ($1::text, $2::uuid, $3::bool, $4::bool,"
                f" $5::text)) AS voter (phase, expert_id, present, in_meeting, excluded)"
                f" WHERE {ALLOWED}",
                phase.value,
                expert_id,
                present,
                in_meeting,
                excluded,
            )
            expected = ballot_problem(phase, present, in_meeting, excluded) is None
            assert allowed == expected, (phase, present, in_meeting, excluded)
    finally:
        await conn.close()
