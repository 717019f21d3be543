"""Unit accounts owned by the talent-introduction system (人才引进系统).

Contract (shared/contracts/external.py, in /api/asyncapi.json): the talent system publishes
to the events exchange with routing keys talent.unit.registered / talent.unit.updated /
talent.unit.deactivated, in our envelope. Every event carries the whole unit as of its
`unit_version`, so applying "the highest version wins" makes the outcome independent of
delivery order and of redelivery. The payload's shape is the contract's; the checks below
(argon2 hash, e-mail, organisation code, the input rule) are ours on top.
"""

import logging
import uuid

from pydantic import field_validator, model_validator

from services.accounts.domain.credentials import is_argon2_hash
from services.accounts.domain.validation import (
    FieldError,
    is_valid_org_code,
    normalize_org_code,
    validate_email,
)
from services.accounts.personal import sealed_user
from shared.audit import Entry, record
from shared.contracts import external
from shared.rpc import Actor
from shared.text import InputRefused, clean_tree

log = logging.getLogger(__name__)

TALENT_SYSTEM = Actor(role="talent", name="人才引进系统")  # who its changes are recorded as


class TalentAdmin(external.TalentAdmin):
    """The contract's admin, with our checks of what it carries."""

    @field_validator("password_hash")
    @classmethod
    def standard_hash(cls, value: str) -> str:
        if not is_argon2_hash(value):
            raise ValueError("password_hash must be an argon2 PHC string ($argon2id$...)")
        return value

    @field_validator("email")
    @classmethod
    def real_email(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            return validate_email(value)
        except FieldError:
            raise ValueError("email is not a valid e-mail address") from None


class TalentUnit(external.TalentUnit):
    """The contract's unit, with our checks of what it carries."""

    admin: TalentAdmin

    @model_validator(mode="before")
    @classmethod
    def input_rule(cls, data):
        """The texts of another system obey our input rule too (shared/text.py): a payload
        with a control character is dead-lettered with the fields named."""
        try:
            return clean_tree(data)
        except InputRefused as refused:
            raise ValueError(f"text refused by the input rule: {refused.fields}") from None

    @field_validator("org_code")
    @classmethod
    def valid_org_code(cls, value: str) -> str:
        code = normalize_org_code(value)
        if not is_valid_org_code(code):
            raise ValueError("org_code is not a valid organisation code")
        return code


async def apply_talent_unit(conn, envelope, unit: TalentUnit) -> None:
    active = envelope.type != "talent.unit.deactivated"
    row = await conn.fetchrow(
        "SELECT id, talent_version FROM units WHERE talent_unit_id = $1 OR org_code = $2"
        " ORDER BY (talent_unit_id = $1) DESC NULLS LAST LIMIT 1 FOR UPDATE",
        unit.talent_unit_id,
        unit.org_code,
    )
    if row is not None and (row["talent_version"] or 0) >= unit.unit_version:
        log.info(
            "talent unit %s v%s is older than v%s: ignored",
            unit.talent_unit_id,
            unit.unit_version,
            row["talent_version"],
        )
        return
    unit_id = row["id"] if row else uuid.uuid4()
    await conn.execute(
        """
        INSERT INTO units (id, org_code, name, si_unit_no, source, talent_unit_id,
                           talent_version, active)
        VALUES ($1, $2, $3, $4, 'talent', $5, $6, $7)
        ON CONFLICT (id) DO UPDATE SET
            org_code = EXCLUDED.org_code, name = EXCLUDED.name,
            si_unit_no = EXCLUDED.si_unit_no, talent_unit_id = EXCLUDED.talent_unit_id,
            talent_version = EXCLUDED.talent_version, active = EXCLUDED.active,
            updated_at = now()
        """,
        unit_id,
        unit.org_code,
        unit.name,
        unit.si_unit_no,
        unit.talent_unit_id,
        unit.unit_version,
        active,
    )
    await _apply_admin(conn, unit_id, unit.admin)
    details = {"event": envelope.type, "unit_version": unit.unit_version, "active": active}
    entry = Entry("unit.talent_sync", "unit", unit_id, unit.name, details=details)
    await record(conn, TALENT_SYSTEM, entry)


async def _apply_admin(conn, unit_id, admin: TalentAdmin) -> None:
    existing = await conn.fetchval(
        "SELECT id FROM users WHERE unit_id = $1 AND role = 'unit_admin'", unit_id
    )
    sealed = sealed_user({"id_number": admin.id_number, "mobile": admin.mobile})
    if existing is None:
        await conn.execute(
            "INSERT INTO users (id, username, password_hash, role, unit_id, name, mobile,"
            " mobile_index, email, id_number, id_number_index)"
            " VALUES ($1, $2, $3, 'unit_admin', $4, $5, $6, $7, $8, $9, $10)",
            uuid.uuid4(),
            admin.username,
            admin.password_hash,
            unit_id,
            admin.name,
            sealed["mobile"],
            sealed["mobile_index"],
            admin.email,
            sealed["id_number"],
            sealed["id_number_index"],
        )
        return
    await conn.execute(
        "UPDATE users SET username = $2, password_hash = $3, name = $4, mobile = $5,"
        " mobile_index = $6, email = $7, updated_at = now() WHERE id = $1",
        existing,
        admin.username,
        admin.password_hash,
        admin.name,
        sealed["mobile"],
        sealed["mobile_index"],
        admin.email,
    )
