"""How accounts are shown to other services and the gateway."""


def mask_id_number(id_number: str | None) -> str | None:
    if not id_number:
        return None
    return id_number[:6] + "********" + id_number[-4:]


def user_view(row, unit_name: str | None = None, full: bool = False) -> dict:
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
        "mobile": row["mobile"],
        "email": row["email"],
        "id_number": row["id_number"] if full else mask_id_number(row["id_number"]),
        "created_at": row["created_at"].isoformat(),
    }
    return view
