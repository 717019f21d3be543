"""Drive the accounts service over RPC the way the gateway does, with test-known secrets."""

import json
import random
import re
from datetime import date, timedelta
from pathlib import Path

from services.accounts.domain.validation import (
    id_check_char,
    org_code_check_char,
    uscc_check_char,
)
from services.accounts.enrolment import Enrolment, upsert_enrolment
from shared.rpc import Actor, RpcClient
from tests.support.probes import wait_until

CAPTCHA = "AB12"
PASSWORD = "Zc7Shenpi"


def org_code() -> str:
    body = "".join(random.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
    return body + org_code_check_char(body)


def uscc() -> str:
    first17 = "91440300" + org_code()
    return first17 + uscc_check_char(first17)


def id_number(birth: str | None = None) -> str:
    """A valid ID number; random birth date and sequence, so reruns on one database never clash."""
    if birth is None:
        day = date(1960, 1, 1) + timedelta(days=random.randint(0, 14_000))
        birth = day.strftime("%Y%m%d")
    else:
        birth = birth[:6] + f"{random.randint(1, 28):02d}"
    first17 = f"440305{birth}{random.randint(0, 999):03d}"
    return first17 + id_check_char(first17)


def mobile() -> str:
    return f"13{random.randint(0, 999_999_999):09d}"


def username(prefix: str = "u") -> str:
    return f"{prefix}{random.randint(0, 10**9):09d}"[:14]


def si_number() -> str:
    return str(random.randint(10**7, 10**8 - 1))


class AccountsDriver:
    def __init__(self, client: RpcClient, accounts_service, sms_log: Path) -> None:
        self.client = client
        self.service = accounts_service
        self.sms_log = sms_log

    async def call(self, method: str, params=None, actor: Actor | None = None, attachment=None):
        return await self.client.call(
            "accounts", method, params, actor=actor, attachment=attachment
        )

    async def enrol(
        self,
        person_name: str,
        id_no: str,
        si_unit_no: str,
        si_no: str,
        unit_name: str = "深圳市测试科技有限公司",
        active: bool = True,
    ) -> None:
        async with self.service.pool.acquire() as conn:
            await upsert_enrolment(
                conn, Enrolment(id_no, si_unit_no, si_no, unit_name, person_name, active)
            )

    def last_code(self, to: str) -> str:
        for line in reversed(self.sms_log.read_text(encoding="utf-8").splitlines()):
            sms = json.loads(line)
            if sms["mobile"] == to:
                return re.search(r"验证码 (\d{6})", sms["body"]).group(1)
        raise AssertionError(f"no SMS to {to}")

    def sms_to(self, to: str, containing: str) -> dict | None:
        for line in reversed(self.sms_log.read_text(encoding="utf-8").splitlines()):
            sms = json.loads(line)
            if sms["mobile"] == to and containing in sms["body"]:
                return sms
        return None

    async def wait_for_sms(self, to: str, containing: str, timeout: float = 15.0) -> dict:
        return await wait_until(lambda: self.sms_to(to, containing), timeout)

    def registration_form(self, **overrides) -> dict:
        form = {
            "org_code": org_code(),
            "si_unit_no": si_number(),
            "admin_name": "王小明",
            "admin_id_number": id_number(),
            "admin_si_no": si_number(),
            "email": "admin@example.cn",
            "username": username("adm"),
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "phone": "0755-83000000",
            "mobile": mobile(),
            "sms_code": "",
        }
        form.update(overrides)
        return form

    async def register(self, **overrides) -> tuple[dict, dict]:
        """An enrolled admin registers with a code read from the provider; (form, result)."""
        form = self.registration_form(**overrides)
        await self.enrol(
            form["admin_name"], form["admin_id_number"], form["si_unit_no"], form["admin_si_no"]
        )
        await self.call("sms.request_code", {"mobile": form["mobile"], "purpose": "register"})
        form["sms_code"] = await self._code_when_delivered(form["mobile"])
        return form, await self.call("unit.register", {"form": form})

    async def _code_when_delivered(self, to: str) -> str:
        from tests.support.probes import wait_until

        def read():
            try:
                return self.last_code(to)
            except (AssertionError, FileNotFoundError):
                return None

        return await wait_until(read)

    async def login(
        self, name: str, password: str = PASSWORD, client_ip: str = "", **extra
    ) -> dict:
        """extra: what else the gateway adds (user_agent)."""
        captcha = await self.call("captcha.new", {"client_ip": client_ip})
        return await self.call(
            "auth.login",
            {
                "username": name,
                "password": password,
                "captcha_id": captcha["captcha_id"],
                "captcha_answer": CAPTCHA,
                "client_ip": client_ip,
                **extra,
            },
        )

    @staticmethod
    def session_actor(session: dict) -> Actor:
        """The actor the gateway sends for calls made in this session (a login's answer)."""
        user = session["user"]
        return Actor(
            user_id=user["id"],
            role=user["role"],
            unit_id=user["unit_id"],
            session_id=session["session_id"],
        )

    async def actor(self, name: str, password: str = PASSWORD) -> Actor:
        user = (await self.login(name, password))["user"]
        return Actor(user_id=user["id"], role=user["role"], unit_id=user["unit_id"])

    async def new_unit_admin(self) -> tuple[dict, Actor]:
        form, _ = await self.register()
        return form, await self.actor(form["username"])

    async def new_person(self, admin: Actor, role: str = "applicant", **overrides) -> dict:
        fields = {
            "name": "李四",
            "id_number": id_number("19900101"),
            "gender": "",
            "mobile": mobile(),
            "email": "person@example.cn",
            "username": username("p"),
            "password": PASSWORD,
        }
        fields.update(overrides)
        if role == "applicant" and not fields["gender"]:
            fields["gender"] = "男" if int(fields["id_number"][16]) % 2 else "女"
        result = await self.call("users.create", {"role": role, "fields": fields}, actor=admin)
        return {**fields, "id": result["user_id"]}
