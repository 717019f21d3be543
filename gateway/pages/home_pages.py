"""Each role's home page after login."""

from aiohttp import web

from gateway.auth import current_user, login_required
from gateway.web import render

TEMPLATES = {
    "unit_admin": "home/unit.html",
    "unit_operator": "home/unit.html",
    "applicant": "home/applicant.html",
    "department": "home/reviewer.html",
    "office": "home/reviewer.html",
    "committee": "home/reviewer.html",
    "sysadmin": "home/sysadmin.html",
}

# The ten steps of the unit home page (manual §2.1); the case workflow fills in the counts.
UNIT_STEPS = (
    ("新增申报人员", "增加、修改或停用业务申报人员"),
    ("个人申报材料", "申报个人填报材料（非单位环节）"),
    ("材料审核", "对申报人员的材料进行初核"),
    ("打印评前公示材料", "打印公示名单和资格评审登记表"),
    ("填写评前公示意见", "公示期满后录入评前公示意见"),
    ("提交日常工作部门", "提交日常工作部门审核"),
    ("打印评审（申报）表", "打印评审（申报）表，盖章递交"),
    ("评委会评审", "评委会评审（非单位环节）"),
    ("打印评后公示材料", "打印评审通过人员名单并公示"),
    ("填写评后公示意见", "公示期满后录入评后公示意见"),
)


@login_required()
async def home(request: web.Request) -> web.Response:
    user = current_user(request)
    return render(request, TEMPLATES[user["role"]], {"steps": UNIT_STEPS})
