"""How accounts are shown to other services and the gateway."""

from services.accounts.personal import unseal
from shared.masks import mask_id_number, mask_mobile


def user_view(row, unit_name: str | None = None, full: bool = False) -> dict:
    """An account; its ID number and mobile masked unless `full` (the person themself)."""
    id_number = unseal(row["id_number"], "users", "id_number")
    mobile = unseal(row["mobile"], "users", "mobile")
    view = {
        "id": str(row["id"]),
        "username": row["username"],
        "role": row["role"],
        "name": row["name"],
        "unit_id": str(row["unit_id"]) if row["unit_id"] else None,
        "unit_name": unit_name,
        "org_id": row["org_id"],
        "org_name": row["org_name"],
        "active": row["active"],
        "gender": row["gender"],
        "mobile": mobile if full else mask_mobile(mobile),
        "email": row["email"],
        "id_number": id_number if full else mask_id_number(id_number),
        "created_at": row["created_at"].isoformat(),
    }
    return view
