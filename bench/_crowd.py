"""bench.load's driver: simulated people, each a browser of its own, in one asyncio process.

A person thinks (a random pause, seeded per person), then does one thing as the pages do it:
opens a page, or fills a form and sends it and follows the redirect to the next page. Every
HTTP request is timed and recorded under its page type; a request is

- `ok`: 2xx, or a redirect that is not to the login page and carries no error message;
- `refused`: an expected business refusal: a status the action may answer when someone
  else moved the case first or the input was refused (409, 422), or a redirect carrying an
  error message (the pages' flash, e.g. "业务状态为…，不能进行…操作");
- `error`: anything else: any other status (5xx, 4xx, 429), a redirect to the login page (a
  session lost), an exception or a timeout.

People: applicants fill their draft's four sections and upload scans; unit operators open
their home and work lists, read cases, approve one case (its form) or a page of cases at
once (the JSON API), and now and then print a 评审（申报）表 and follow the job to its PDF;
department reviewers open their acceptance list and accept cases. Applicants and operators
log out at the end of a visit and log in again, for real (the login page's captcha, whose
answer the bench sets in the database as the tests do, and the password).
"""

import asyncio
import base64
import html
import json
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp

from bench._load_data import PASSWORD, Person, Session
from bench._workflow_data import approval_inputs

USER_AGENT = "Mozilla/5.0 (bench.load)"
CAPTCHA = "AB12"  # what the bench makes every captcha's answer (solve_captcha)
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
SECTIONS = ("basic", "work_history", "achievements", "education")
SCANS = ("id_card", "diploma", "achievement", "current_title", "other")
PRINT_POLL_LIMIT = 120.0  # seconds a person waits for a print job before calling it failed


def now() -> float:
    return time.clock_gettime(time.CLOCK_MONOTONIC)


# --- what was measured ---------------------------------------------------------------------


@dataclass
class Record:
    started: float
    kind: str
    seconds: float
    outcome: str  # ok | refused | error


@dataclass
class Recorder:
    records: list[Record] = field(default_factory=list)
    in_flight: dict[int, tuple[float, str]] = field(default_factory=dict)
    errors: list[tuple[float, str, str]] = field(default_factory=list)  # started, what, why
    refusals: list[tuple[float, str]] = field(default_factory=list)  # (started, why)
    print_jobs: list[tuple[float, float, str]] = field(default_factory=list)  # started, s, status
    batch_cases: list[tuple[float, int, int]] = field(default_factory=list)  # started, asked, done
    _serial: int = 0

    def begin(self, kind: str) -> tuple[int, float]:
        self._serial += 1
        started = now()
        self.in_flight[self._serial] = (started, kind)
        return self._serial, started

    def end(
        self, token: tuple[int, float], kind: str, outcome: str, what: str = "", why: str = ""
    ) -> None:
        """`why`: for an error, its sort (the status, the exception's name, ...)."""
        serial, started = token
        self.in_flight.pop(serial, None)
        self.records.append(Record(started, kind, now() - started, outcome))
        if outcome == "error":
            self.errors.append((started, what[:400], why))
        elif outcome == "refused":
            self.refusals.append((started, what[:100]))

    def unfinished(self, since: float, until: float) -> int:
        return sum(1 for started, _ in self.in_flight.values() if since <= started < until)


# --- one browser ---------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    text: str
    location: str
    outcome: str

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


HIDDEN = re.compile(r'<input type="hidden" name="([\w.]+)" value="([^"]*)"')
META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]*)">')
UNAVAILABLE = re.compile(r"服务暂时不可用（([\w-]+)：([^）]+)）")


def hidden_fields(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in HIDDEN.findall(page)}


def flash_error(cookie: str | None) -> str | None:
    """The error message a redirect carries in the pages' flash cookie, if any."""
    if not cookie:
        return None
    try:
        items = json.loads(base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4)))
    except ValueError:
        return None
    errors = [i.get("text", "") for i in items if isinstance(i, dict) and i.get("kind") == "error"]
    return errors[0] if errors else None


def text_of(page: str, limit: int = 200) -> str:
    body = page.split("<main", 1)[-1]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())[:limit]


def page_kind(path: str) -> str:
    """The page type a GET is counted under."""
    parts = urlsplit(path)
    p, query = parts.path, parse_qs(parts.query)
    if p == "/home":
        return "home"
    if p == "/login":
        return "login_page"
    if p == "/my/cases":
        return "my_cases"
    if re.fullmatch(rf"/my/cases/{UUID}", p):
        return "my_case"
    if re.fullmatch(rf"/my/cases/{UUID}/sections/\w+", p):
        return "section_form"
    if p.startswith("/work/"):
        if query.get("tab", ["todo"])[0] == "done":
            return "list_done"
        return "list_page" if query.get("page", ["1"])[0] != "1" else "list_todo"
    if re.fullmatch(rf"/cases/{UUID}", p):
        return "case_view"
    if re.fullmatch(rf"/cases/{UUID}/act/\w+", p):
        return "action_form"
    if p.startswith("/print/"):
        return "print_job_page"
    if p.startswith("/api/print-jobs/"):
        return "print_job_poll"
    if p.startswith("/api/documents/"):
        return "pdf"
    return "other"


class Browser:
    """One person's browser: its cookies, the page's CSRF token and its address (the gateway
    trusts 127.0.0.1 as its proxy, so each person has an address of its own in
    X-Forwarded-For, as behind the real proxy: per-address limits count per person)."""

    def __init__(self, http: aiohttp.ClientSession, address: str, recorder: Recorder) -> None:
        self.http = http
        self.address = address
        self.recorder = recorder
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def sign_in_with(self, session: Session) -> None:
        self.cookies = {"zc_session": session.token}
        self.csrf = session.csrf

    def _headers(self, extra: dict | None = None) -> dict[str, str]:
        headers = {"X-Forwarded-For": self.address, "User-Agent": USER_AGENT}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers | (extra or {})

    def _keep_cookies(self, response: aiohttp.ClientResponse) -> str | None:
        flash = None
        for name, morsel in response.cookies.items():
            if name == "zc_flash":
                flash = morsel.value
                continue  # shown by the next page; the bench reads it here instead
            if morsel.value == "" or morsel["max-age"] == "0":
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = morsel.value
        return flash

    async def request(
        self, method: str, path: str, kind: str, refusals: tuple[int, ...] = (), **kwargs
    ) -> Answer:
        token = self.recorder.begin(kind)
        try:
            async with self.http.request(
                method, path, headers=self._headers(kwargs.pop("headers", None)),
                allow_redirects=False, **kwargs,
            ) as response:  # fmt: skip
                body = await response.read()
                flash = self._keep_cookies(response)
                status, location = response.status, response.headers.get("Location", "")
                is_html = response.content_type == "text/html"
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            what = f"{kind}: {method} {path}: {type(error).__name__} {error}"
            self.recorder.end(token, kind, "error", what, type(error).__name__)
            return Answer(0, "", "", "error")
        readable = is_html or response.content_type == "application/json" or status >= 400
        text = body.decode(errors="replace") if readable else ""
        if is_html and (match := META_CSRF.search(text)):
            self.csrf = html.unescape(match.group(1))
        outcome, what, why = "ok", "", str(status)
        if 300 <= status < 400:
            problem = flash_error(flash)
            if location.startswith("/login") and kind != "logout":
                outcome, what = "error", f"{kind}: {method} {path}: {status} to {location}"
                why = "sent to the login page"
            elif problem:
                outcome, what = "refused", f"{kind}: {problem}"
        elif status in refusals:
            outcome, what = "refused", f"{kind}: {status} {text_of(text, 60)}"
        elif status >= 400:
            shown = text_of(text) if is_html else text[:200]
            outcome, what = "error", f"{kind}: {method} {path}: {status} {shown}"
            if unavailable := UNAVAILABLE.search(text):  # 服务暂时不可用（cases：5 秒内无应答）
                why = f"{status} {unavailable.group(1)}: {unavailable.group(2)}"
        self.recorder.end(token, kind, outcome, what, why)
        return Answer(status, text, location, outcome)

    async def get(self, path: str, kind: str | None = None, **kwargs) -> Answer:
        return await self.request("GET", path, kind or page_kind(path), **kwargs)

    async def post_form(
        self, path: str, kind: str, form: dict | list, refusals=(409, 422), follow=True
    ) -> Answer:
        """A form as the page sends it (its CSRF token in _csrf); then, as a browser does,
        the page it is sent on to."""
        data = [("_csrf", self.csrf), *(form.items() if isinstance(form, dict) else form)]
        answer = await self.request("POST", path, kind, refusals, data=data)
        if follow and answer.status in (302, 303) and answer.location.startswith("/"):
            return await self.get(answer.location.split("#")[0])  # a fragment is not sent
        return answer

    async def post_json(self, path: str, kind: str, body: dict, refusals=(409, 422)) -> Answer:
        headers = {"X-CSRF-Token": self.csrf, "Content-Type": "application/json"}
        data = json.dumps(body, ensure_ascii=False).encode()
        return await self.request("POST", path, kind, refusals, data=data, headers=headers)


# --- the people ----------------------------------------------------------------------------


@dataclass
class Setting:
    """What every person of a run shares."""

    http: aiohttp.ClientSession
    recorder: Recorder
    solve_captcha: Callable  # async (captcha_id) -> None
    think: tuple[float, float]
    visit: tuple[int, int]  # actions between a login and the logout
    seed: int
    today: date = field(default_factory=date.today)


def pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


class Visitor:
    """A person: think, act, and so on until told to stop."""

    weights: dict[str, float] = {}

    can_log_in = True

    def __init__(self, index: int, generation: int, person: Person | None, setting: Setting):
        self.index = index
        self.person = person
        self.setting = setting
        self.rng = random.Random(f"{setting.seed}-{index}-{generation}")
        address = f"10.{index >> 16 & 255}.{index >> 8 & 255}.{index & 255}"
        self.browser = Browser(setting.http, address, setting.recorder)
        self.visit_left = self.rng.randint(0, setting.visit[1])  # met mid-visit
        self.stop = asyncio.Event()

    async def think(self) -> None:
        try:
            await asyncio.wait_for(self.stop.wait(), self.rng.uniform(*self.setting.think))
        except TimeoutError:
            pass

    async def run(self) -> None:
        await self.think_first()
        while not self.stop.is_set():
            await self.act()
            await self.think()

    async def think_first(self) -> None:
        """Arrivals do not all start at once: somewhere within one think time."""
        try:
            await asyncio.wait_for(self.stop.wait(), self.rng.uniform(0, self.setting.think[1]))
        except TimeoutError:
            pass

    async def act(self) -> None:
        if self.can_log_in and self.visit_left <= 0:
            await self.log_in_again()
            self.visit_left = self.rng.randint(*self.setting.visit)
            return
        self.visit_left -= 1
        await getattr(self, pick(self.rng, self.weights))()

    async def log_in_again(self) -> None:
        """The visit ends (退出) and a new one starts at the login page."""
        b = self.browser
        await b.post_form("/logout", "logout", {}, follow=False)
        page = await b.get("/login")
        if not page.ok:
            return
        fields = hidden_fields(page.text)
        await self.setting.solve_captcha(fields.get("captcha_id", ""))
        await self.think()  # reading the captcha, typing
        if self.stop.is_set():
            return
        form = {**fields, "username": self.person.username, "password": PASSWORD,
                "captcha_answer": CAPTCHA}  # fmt: skip
        form.pop("_csrf", None)
        await b.post_form("/login", "login", form, refusals=())

    async def home(self) -> None:
        await self.browser.get("/home")


class Applicant(Visitor):
    weights = {"home": 12, "my_cases": 6, "my_case": 22, "fill_section": 50, "upload": 10}

    def __init__(self, index: int, generation: int, person: Person, setting: Setting) -> None:
        super().__init__(index, generation, person, setting)
        self.case = f"/my/cases/{person.case_id}"

    async def my_cases(self) -> None:
        await self.browser.get("/my/cases")

    async def my_case(self) -> None:
        await self.browser.get(self.case)

    async def fill_section(self) -> None:
        section = self.rng.choice(SECTIONS)
        path = f"{self.case}/sections/{section}"
        if not (await self.browser.get(path)).ok:
            return
        await self.think()  # typing
        if not self.stop.is_set():
            await self.browser.post_form(path, "section_save", self.section_form(section))

    def section_form(self, section: str) -> dict:
        rng, number = self.rng, self.person.id_number
        year = self.setting.today.year
        if section == "basic":
            born = int(number[6:10])
            return {
                "name": "申报人", "gender": "男" if int(number[16]) % 2 else "女",
                "birth_date": f"{born}-{number[10:12]}-{number[12:14]}", "id_number": number,
                "education": rng.choice(("大学本科", "硕士研究生", "大学专科")),
                "school": rng.choice(("深圳大学", "南方科技大学", "华南理工大学")),
                "major": rng.choice(("档案学", "机械工程", "计算机科学与技术")),
                "graduated_on": f"{born + 22}-07-01", "current_title": "", "current_title_on": "",
                "position": rng.choice(("工程师", "档案管理员", "技术员")),
                "work_started_on": f"{born + 22}-08-01",
                "years_in_field": str(min(40, year - born - 22)),
            }  # fmt: skip
        if section == "work_history":
            start = rng.randrange(2008, 2016)
            return {
                "entries.0.start": f"{start}-08", "entries.0.end": f"{start + 5}-06",
                "entries.0.employer": "深圳市测试科技有限公司", "entries.0.role": "技术员",
                "entries.1.start": f"{start + 5}-07", "entries.1.end": "至今",
                "entries.1.employer": "深圳市基准测试单位", "entries.1.role": "工程师",
            }  # fmt: skip
        if section == "achievements":
            return {
                f"entries.{i}.{k}": v
                for i in range(rng.randrange(1, 4))
                for k, v in (("kind", rng.choice(("论文", "项目", "获奖", "专利"))),
                             ("title", f"企业档案数字化管理实践（{i + 1}）"),
                             ("year", str(rng.randrange(2016, year))), ("note", "第一作者"))
            }  # fmt: skip
        return {f"hours_by_year.{y}": str(rng.randrange(72, 121)) for y in range(year - 5, year)}

    async def upload(self) -> None:
        category = self.rng.choice(SCANS)
        size = self.rng.randrange(100_000, 800_000)  # a scanned page or two
        content = b"\xff\xd8\xff\xe0" + self.rng.randbytes(size)
        data = aiohttp.FormData(quote_fields=False)
        data.add_field("_csrf", self.browser.csrf)
        data.add_field("category", category)
        data.add_field("file", content, filename=f"{category}.jpg", content_type="image/jpeg")
        answer = await self.browser.request(
            "POST", f"{self.case}/scans", "upload", (409, 422), data=data
        )
        if answer.status == 303 and answer.location.startswith("/"):
            await self.browser.get(answer.location.split("#")[0])


LIST_RE = re.compile(rf'<tr data-case="({UUID})"')
PAGE_RE = re.compile(r"(?:\?|&amp;)page=(\d+)")


class Reviewer(Visitor):
    """Opens lists and cases; remembers what the last list showed."""

    todo_list = ""

    def __init__(self, index: int, generation: int, person: Person, setting: Setting) -> None:
        super().__init__(index, generation, person, setting)
        self.todo: list[str] = []  # the ids on the last 待办 page shown
        self.done: list[str] = []
        self.pages = 1

    async def open_list(self, path: str) -> Answer:
        answer = await self.browser.get(path)
        if answer.ok:
            ids = LIST_RE.findall(answer.text)
            if "tab=done" in path:
                self.done = ids
            elif path.split("?")[0] == self.todo_list:
                self.todo = ids
                self.pages = max([1, *map(int, PAGE_RE.findall(answer.text))])
        return answer

    async def list_todo(self) -> None:
        await self.open_list(self.todo_list)

    async def list_done(self) -> None:
        await self.open_list(f"{self.todo_list}?tab=done")

    async def list_page(self) -> None:
        page = self.rng.randint(2, self.pages) if self.pages > 1 else 1
        await self.open_list(f"{self.todo_list}?page={page}")

    async def case_view(self) -> None:
        ids = self.todo + self.done
        if not ids:
            return await self.list_todo()
        back = urlencode({"back": self.todo_list})
        await self.browser.get(f"/cases/{self.rng.choice(ids)}?{back}")


class Operator(Reviewer):
    todo_list = "/work/unit-3"  # 材料审核
    weights = {
        "home": 14, "list_todo": 24, "list_done": 8, "list_page": 6, "other_step": 6,
        "case_view": 14, "approve": 22, "approve_page": 4, "print_form": 2,
    }  # fmt: skip

    async def other_step(self) -> None:
        step = self.rng.choice((2, 4, 5, 6, 7, 8, 9, 10))
        await self.browser.get(f"/work/unit-{step}")

    async def approve(self) -> None:
        """审核同意 one case: its form, typed, sent; the list again."""
        if not self.todo:
            return await self.list_todo()
        case_id = self.todo.pop(self.rng.randrange(len(self.todo)))
        path = f"/cases/{case_id}/act/approve"
        form = await self.browser.get(f"{path}?{urlencode({'back': self.todo_list})}")
        if not form.ok:
            return
        await self.think()
        if self.stop.is_set():
            return
        values = hidden_fields(form.text)
        values.pop("_csrf", None)
        values |= {name: "合格" for name in set(re.findall(r'name="(year_\d{4})"', form.text))}
        values |= approval_inputs(self.setting.today) | {"negative_situation": "无负面情况"}
        values.pop("annual_assessments")
        answer = await self.browser.post_form(path, "approve", values)
        if answer.ok:  # the list it was sent back to
            self.todo = LIST_RE.findall(answer.text)

    async def approve_page(self) -> None:
        """The ticked page approved at once through the JSON API (POST /api/cases/batch)."""
        if not self.todo:
            return await self.list_todo()
        ids, self.todo = self.todo[:20], []
        body = {"case_ids": ids, "action": "approve",
                "inputs": approval_inputs(self.setting.today)}  # fmt: skip
        started = now()
        answer = await self.browser.post_json("/api/cases/batch", "approve_batch", body)
        if answer.ok:  # cases another operator moved first are reported, not refused
            done = json.loads(answer.text)["done"]
            self.setting.recorder.batch_cases.append((started, len(ids), done))
        await self.list_todo()

    async def print_form(self) -> None:
        """打印评审(申报)表 of a case waiting at step 7 (the case moves on once printed), or,
        when none waits, a reprint of one from its 已办 tab; the job followed to its PDF."""
        step = await self.browser.get("/work/unit-7")
        if not step.ok:
            return
        waiting = LIST_RE.findall(step.text)
        back = "/work/unit-7"
        if waiting:
            form = [("action", "print_declaration_form"), ("back", back),
                    ("case_id", self.rng.choice(waiting))]  # fmt: skip
            answer = await self.browser.post_form("/work/unit-7/batch", "print", form, follow=False)
        else:
            done = await self.browser.get("/work/unit-7?tab=done")
            printed = LIST_RE.findall(done.text) if done.ok else []
            if not printed:
                return
            query = urlencode({"case": self.rng.choice(printed)})
            form = {"kind": "declaration_form", "back": back}
            answer = await self.browser.post_form(f"/print?{query}", "print", form, follow=False)
        if answer.ok and answer.location.startswith("/print/"):
            await self.follow_job(answer.location)

    async def follow_job(self, page: str) -> None:
        """As print.js: the job page, then its JSON every 0.3 s (x1.25, at most 1 s) until
        done, the finished page, and the PDF."""
        started = now()
        first = await self.browser.get(page)
        if not first.ok:
            return
        job_id = re.search(rf"/print/({UUID})", page).group(1)
        delay, status = 0.3, "running"
        while now() - started < PRINT_POLL_LIMIT and not self.stop.is_set():
            await asyncio.sleep(delay)
            polled = await self.browser.get(f"/api/print-jobs/{job_id}")
            status = json.loads(polled.text).get("status") if polled.ok else "unknown"
            if status in ("done", "failed"):
                break
            delay = min(1.0, delay * 1.25)
        self.setting.recorder.print_jobs.append((started, now() - started, status))
        if status != "done":
            return
        finished = await self.browser.get(page)
        pdf = re.search(rf'href="(/api/documents/{UUID})"', finished.text)
        if pdf:
            await self.browser.get(pdf.group(1))


class Department(Reviewer):
    todo_list = "/work/department-acceptance"  # 预受理
    weights = {"home": 15, "list_todo": 30, "list_done": 8, "list_page": 4, "case_view": 23,
               "accept": 20}  # fmt: skip
    can_log_in = False  # a reviewer's login needs an SMS code: sessions made by the bench only

    async def accept(self) -> None:
        """预受理通过, the row's button (no form)."""
        if not self.todo:
            return await self.list_todo()
        case_id = self.todo.pop(self.rng.randrange(len(self.todo)))
        form = {"back": self.todo_list}
        answer = await self.browser.post_form(f"/cases/{case_id}/act/accept", "accept", form)
        if answer.ok:  # the list it was sent back to
            self.todo = LIST_RE.findall(answer.text)


ROLES = {"applicant": Applicant, "unit_operator": Operator, "department": Department}


class HelloVisitor(Visitor):
    """The same driver against the bare hello server: think, GET /."""

    can_log_in = False

    async def act(self) -> None:
        await self.browser.get("/", "hello")


# --- the crowd -------------------------------------------------------------------------------


class Crowd:
    """The people running now, in the order they came; grows over a ramp, shrinks at once
    (the last to come leave first, each after what it is doing). One who comes back is the
    same person (the same account) in a new browser, with a new session."""

    def __init__(self, make: Callable[[int], Visitor], arrive: Callable) -> None:
        self.make = make  # index -> a new Visitor for the index-th person
        self.arrive = arrive  # async (visitors) -> None: before they start (their sessions)
        self.running: list[tuple[Visitor, asyncio.Task]] = []
        self.left: list[asyncio.Task] = []

    def __len__(self) -> int:
        return len(self.running)

    async def resize(self, target: int, ramp: float) -> None:
        while len(self.running) > target:
            visitor, task = self.running.pop()
            visitor.stop.set()
            self.left.append(task)
        fresh = [self.make(i) for i in range(len(self.running), target)]
        if fresh:
            await self.arrive(fresh)
        for n, visitor in enumerate(fresh):
            self.running.append((visitor, asyncio.create_task(visitor.run())))
            if n + 1 < len(fresh):
                await asyncio.sleep(ramp / len(fresh))

    async def stop(self) -> None:
        await self.resize(0, 0)
        await asyncio.gather(*self.left, return_exceptions=True)
        self.left.clear()


def role_pattern(shares: dict[str, int], seed: int) -> list[str]:
    """The roles of every len(pattern) people who come, in a seeded order."""
    pattern = [role for role, n in shares.items() for _ in range(n)]
    random.Random(seed).shuffle(pattern)
    return pattern


def person_of(index: int, pattern: list[str], people: dict[str, list[Person]]) -> Person:
    """The index-th person of the crowd: the pattern's role, and the next one of that role
    (shared once the crowd outgrows the people loaded)."""
    role = pattern[index % len(pattern)]
    nth = index // len(pattern) * pattern.count(role) + pattern[: index % len(pattern)].count(role)
    of_role = people[role]
    return of_role[nth % len(of_role)]
