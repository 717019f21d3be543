"""导出Excel of the accounts service's lists: a unit's people (经办人, 申报人员) and the
sysadmin's reviewer accounts, with each list's own WHERE and ORDER BY (users.py,
reviewers.py). Numbers are in full for whoever may see them (handlers/unmask.py: the unit's
admin, the sysadmin) and masked for the others (a unit operator)."""

from services.accounts.handlers.reviewers import REVIEWERS_ORDER, reviewers_query
from services.accounts.handlers.users import PEOPLE_ORDER, people_query
from services.accounts.personal import unseal
from shared.contracts.accounts.rpc import ListReviewers, ListUsers
from shared.contracts.accounts.vocabulary import ROLE_LABELS
from shared.exports import Column, Source, SourceOf, excel_time, export_methods
from shared.masks import mask_id_number, mask_mobile
from shared.rpc import Actor, CallContext

NOUNS = {"unit_operator": "经办人", "applicant": "申报人员"}
STATUS = {True: "正常", False: "已停用"}


def sees_numbers(actor: Actor) -> bool:
    return actor.role in ("unit_admin", "sysadmin")


def _opened(row, field: str, full: bool) -> str | None:
    value = unseal(row[field], "users", field)
    return value if full else {"id_number": mask_id_number, "mobile": mask_mobile}[field](value)


def people_source(filters: dict, ctx: CallContext) -> Source:
    params = ListUsers.model_validate(filters)
    clause, args = people_query(params, ctx.actor)
    full = sees_numbers(ctx.actor)
    applicants = params.role == "applicant"
    columns = [Column("姓名", width=10), Column("用户名", width=16)]
    if applicants:
        columns += [Column("性别", width=6), Column("身份证号", width=20)]
    columns += [
        Column("手机号码", width=13),
        Column("电子邮箱", width=24),
        Column("状态", width=8),
        Column("创建时间", "datetime", 17),
    ]

    def convert(r) -> tuple:
        person = (r["name"], r["username"])
        if applicants:
            person += (r["gender"], _opened(r, "id_number", full))
        return (
            *person,
            _opened(r, "mobile", full),
            r["email"],
            STATUS[r["active"]],
            excel_time(r["created_at"]),
        )

    return Source(
        title=f"{NOUNS[params.role]}名单",
        columns=columns,
        sql=f"SELECT * FROM users WHERE {clause} ORDER BY {PEOPLE_ORDER}",
        args=args,
        convert=convert,
        full_fields=(["id_number", "mobile"] if applicants else ["mobile"]) if full else [],
        count_sql=f"SELECT count(*) FROM users WHERE {clause}",
    )


REVIEWER_COLUMNS = (
    Column("机构类型", width=10),
    Column("机构名称", width=30),
    Column("机构编号", width=16),
    Column("联系人", width=10),
    Column("用户名", width=16),
    Column("手机号码", width=13),
    Column("状态", width=8),
    Column("创建时间", "datetime", 17),
)


def reviewers_source(filters: dict, ctx: CallContext) -> Source:
    clause, args = reviewers_query(ListReviewers.model_validate(filters), ctx.actor)
    full = sees_numbers(ctx.actor)

    def convert(r) -> tuple:
        return (
            ROLE_LABELS.get(r["role"], r["role"]),
            r["org_name"],
            r["org_id"],
            r["name"],
            r["username"],
            _opened(r, "mobile", full),
            STATUS[r["active"]],
            excel_time(r["created_at"]),
        )

    return Source(
        title="评审机构账户",
        columns=REVIEWER_COLUMNS,
        sql=f"SELECT * FROM users WHERE {clause} ORDER BY {REVIEWERS_ORDER}",
        args=args,
        convert=convert,
        full_fields=["mobile"] if full else [],
        count_sql=f"SELECT count(*) FROM users WHERE {clause}",
    )


SOURCES: dict[str, SourceOf] = {"people": people_source, "reviewers": reviewers_source}
count, build_export = export_methods("accounts", SOURCES, lambda ctx: ctx.deps.notify)
