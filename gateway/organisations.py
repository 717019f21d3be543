"""The organisations a reviewer account can belong to, taken from the reference data.

A department or committee account sees the cases of its organisation (the cases service
matches its org_id), so the org_id must be one the cases service knows: the sysadmin picks
the organisation from a list rather than typing its id, and its name comes with it.
"""

from dataclasses import dataclass

from aiohttp import web

from gateway.web import call
from shared.contracts.accounts.vocabulary import REVIEWER_ROLES
from shared.contracts.cases import rpc as cases_rpc
from shared.organisations import OFFICE_ID, OFFICE_NAME
from shared.rpc import RpcError

ROLES = {role.value: role.label for role in REVIEWER_ROLES}


@dataclass(frozen=True)
class Organisation:
    role: str
    id: str
    name: str
    active: bool = True

    @property
    def key(self) -> str:
        """Role and id in one form value."""
        return f"{self.role}:{self.id}"


async def organisations(request: web.Request) -> list[Organisation]:
    reference = await call(request, cases_rpc.REF_ALL)
    return [
        *(Organisation("department", d["id"], d["name"]) for d in reference["departments"]),
        Organisation("office", OFFICE_ID, OFFICE_NAME),
        *(
            Organisation("committee", c["id"], c["name"], c["active"])
            for c in reference["committees"]
        ),
    ]


def find(known: list[Organisation], role: str, org_id: str, field: str = "org_id") -> Organisation:
    """The organisation of that role and id; a 422 on `field` if there is none."""
    if not org_id:
        message = "请选择所属机构"
    else:
        for organisation in known:
            if (organisation.role, organisation.id) == (role, org_id):
                return organisation
        message = f"没有编号为 {org_id} 的{ROLES.get(role, '机构')}，请从基础数据中选择"
    raise RpcError("invalid_input", "信息有误，请按提示修改", 422, {field: message})
