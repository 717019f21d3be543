"""Events written before personal numbers were sealed in transit: seal them in the outbox.

Unsent rows are published after this with their numbers sealed, as the new contracts expect;
sent rows (kept a week) no longer hold a number in the clear. Every key that names a number
in an event payload, at any depth (a meeting's drawn experts are a list), is sealed with the
TRANSIT label (shared/personal_data.py).
"""

import json

from shared.personal_data import TRANSIT, is_sealed, keyring

NUMBER_KEYS = {"id_number", "mobile", "applicant_mobile", "applicant_id_number", "objector_mobile"}


def sealed(value):
    if isinstance(value, dict):
        return {
            key: keyring().seal(item, TRANSIT)
            if key in NUMBER_KEYS and isinstance(item, str) and item and not is_sealed(item)
            else sealed(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [sealed(item) for item in value]
    return value


async def apply(conn) -> None:
    rows = await conn.fetch("SELECT seq, envelope FROM outbox")
    for row in rows:
        envelope = row["envelope"]
        envelope = json.loads(envelope) if isinstance(envelope, str) else envelope
        changed = sealed(envelope)
        if changed != envelope:
            await conn.execute(
                "UPDATE outbox SET envelope = $1::text::jsonb WHERE seq = $2",
                json.dumps(changed, ensure_ascii=False),
                row["seq"],
            )
