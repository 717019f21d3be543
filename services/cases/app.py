"""The cases service: the workflow's RPC methods and consumed events, in one process."""

from services.cases.deps import CasesDeps
from services.cases.handlers import applicant, printing, queries, reference, workflow
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
    rpc.method("ref.save_department", reference.SaveDepartment)(reference.save_department)
    rpc.method("ref.save_series", reference.SaveSeries)(reference.save_series)
    rpc.method("ref.save_qualification", reference.SaveQualification)(reference.save_qualification)
    rpc.method("case.open", applicant.OpenCase)(applicant.open_case)
    rpc.method("case.save_section", applicant.SaveSection)(applicant.save_section)
    rpc.method("case.check_upload", applicant.UploadCheck)(applicant.check_upload)
    rpc.method("case.attach", applicant.Attach)(applicant.attach)
    rpc.method("case.remove_attachment", applicant.RemoveAttachment)(applicant.remove_attachment)
    rpc.method("case.mine", queries.MyCases)(queries.my_cases)
    rpc.method("case.get", queries.CaseRef)(queries.get_case)
    rpc.method("case.get_many", queries.GetMany)(queries.get_many)
    rpc.method("case.can_view", queries.CaseRef)(queries.can_view)
    rpc.method("case.applicant_case_count", queries.ApplicantRef)(queries.applicant_case_count)
    rpc.method("case.can_view_many", queries.CanViewMany)(queries.can_view_many)
    rpc.method("case.list", queries.ListCases)(queries.list_cases)
    rpc.method("case.list_ids", queries.ListedCases)(queries.list_ids)
    rpc.method("case.home", None)(queries.home_counts)
    rpc.method("case.act", workflow.Act)(workflow.act)
    rpc.method("case.batch", workflow.BatchAct)(workflow.batch)
    return rpc


def build_events(deps: CasesDeps) -> EventConsumer:
    events = EventConsumer("cases")
    events.on("declaration_form.printed", printing.DeclarationFormPrinted)(
        printing.declaration_form_printed_handler(deps)
    )
    return events


def build_service(settings: Settings | None = None, deps: CasesDeps | None = None) -> Service:
    deps = deps or CasesDeps()
    return Service("cases", build_rpc(deps), build_events(deps), settings=settings)
