"""The cases service: the workflow's RPC methods, wired into one process."""

from services.cases.deps import CasesDeps
from services.cases.handlers import applicant, queries, reference, workflow
from shared.consumer import EventConsumer
from shared.rpc import RpcRouter
from shared.service import Service
from shared.settings import Settings


def build_rpc(deps: CasesDeps) -> RpcRouter:
    rpc = RpcRouter("cases", deps=deps)
    rpc.method("ref.all")(reference.all_reference)
    rpc.method("ref.save_round", reference.SaveRound)(reference.save_round)
    rpc.method("ref.save_review_type", reference.SaveReviewType)(reference.save_review_type)
    rpc.method("ref.save_committee", reference.SaveCommittee)(reference.save_committee)
    rpc.method("case.open", applicant.OpenCase)(applicant.open_case)
    rpc.method("case.save_section", applicant.SaveSection)(applicant.save_section)
    rpc.method("case.check_upload", applicant.UploadCheck)(applicant.check_upload)
    rpc.method("case.attach", applicant.Attach)(applicant.attach)
    rpc.method("case.remove_attachment", applicant.RemoveAttachment)(applicant.remove_attachment)
    rpc.method("case.mine", queries.MyCases)(queries.my_cases)
    rpc.method("case.get", queries.CaseRef)(queries.get_case)
    rpc.method("case.can_view", queries.CaseRef)(queries.can_view)
    rpc.method("case.list", queries.ListCases)(queries.list_cases)
    rpc.method("case.home", None)(queries.home_counts)
    rpc.method("case.act", workflow.Act)(workflow.act)
    rpc.method("case.batch", workflow.BatchAct)(workflow.batch)
    return rpc


def build_service(settings: Settings | None = None, deps: CasesDeps | None = None) -> Service:
    deps = deps or CasesDeps()
    return Service("cases", build_rpc(deps), EventConsumer("cases"), settings=settings)
