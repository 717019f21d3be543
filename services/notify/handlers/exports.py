"""导出Excel of the sysadmin's SMS page (短信发送情况): the unsettled deliveries, with the
page's query and order (operator.py). Only the sysadmin sees the page, and may see a
delivery's full mobile (handlers/personal.py): the file has it in full."""

from services.notify.handlers.operator import UNSETTLED, require_sysadmin, unsettled_args
from services.notify.sealed import DELIVERY_MOBILE, opened
from shared.contracts.notify.rpc import UnsettledQuery
from shared.exports import Column, Source, SourceOf, excel_time, export_methods
from shared.rpc import CallContext

KINDS = {"code": "验证码"}
COLUMNS = (
    Column("类型", width=10),
    Column("手机号码", width=13),
    Column("状态", width=16),
    Column("第几次发送", "number", 10),
    Column("核对次数", "number", 8),
    Column("最后更新", "datetime", 17),
    Column("创建时间", "datetime", 17),
    Column("最近的问题", width=40),
)


def deliveries_source(filters: dict, ctx: CallContext) -> Source:
    require_sysadmin(ctx)
    settings = ctx.deps.settings
    args = unsettled_args(UnsettledQuery.model_validate(filters), ctx.deps.clock.now())

    def status(r) -> str:
        if r["status"] == "sending" and r["reconciliations"] > settings.sms_reconcile_alert_after:
            return "多次核对未完成"
        return "发送中" if r["status"] == "sending" else "已交服务商"

    def convert(r) -> tuple:
        return (
            KINDS.get(r["kind"], "业务通知"),
            opened(r["mobile"], DELIVERY_MOBILE),
            status(r),
            r["attempts"],
            r["reconciliations"],
            excel_time(r["updated_at"]),
            excel_time(r["created_at"]),
            r["last_error"],
        )

    return Source(
        title="短信发送情况",
        columns=COLUMNS,
        sql=UNSETTLED,
        args=args,
        convert=convert,
        full_fields=["mobile"],
        count_sql=f"SELECT count(*) FROM ({UNSETTLED}) unsettled",
    )


SOURCES: dict[str, SourceOf] = {"sms": deliveries_source}
count, build_export = export_methods("notify", SOURCES, lambda ctx: ctx.deps.peers)
