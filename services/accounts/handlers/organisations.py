"""reference.organisation_renamed: reviewer accounts show their organisation's new name.

The cases service owns departments and committees; each reviewer account keeps the name
it was created with, so a rename there reaches the accounts here as an event.
"""

import asyncpg

from shared.contracts.cases.events import OrganisationRenamed
from shared.envelope import Envelope


async def apply_organisation_renamed(
    conn: asyncpg.Connection, envelope: Envelope, renamed: OrganisationRenamed
) -> None:
    # Out of order, an older rename loses to the name already set after it.
    await conn.execute(
        "UPDATE users SET org_name = $3, org_named_at = $4"
        " WHERE role = $1 AND org_id = $2 AND (org_named_at IS NULL OR org_named_at < $4)",
        renamed.role,
        renamed.org_id,
        renamed.name,
        envelope.occurred_at,
    )
