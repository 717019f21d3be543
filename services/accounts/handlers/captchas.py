"""Image captchas for the login page."""

import base64
import uuid
from datetime import timedelta

from services.accounts.domain.captcha import render_captcha
from services.accounts.domain.credentials import keyed_hash, same
from shared.contracts.accounts.rpc import NewCaptcha
from shared.rpc import CallContext


async def new_captcha(params: NewCaptcha, ctx: CallContext) -> dict:
    """A captcha for a login form; per client address they are rate-limited, and the sweep
    (services/accounts/sweep.py) drops them once expired."""
    deps = ctx.deps
    text = deps.captcha_text()
    captcha_id = uuid.uuid4()
    now = deps.clock.now()
    async with ctx.pool.acquire() as conn:
        await deps.rate_limits.hit(conn, "captcha", params.client_ip, now)
        await conn.execute(
            "INSERT INTO captchas (id, answer_hash, expires_at) VALUES ($1, $2, $3)",
            captcha_id,
            keyed_hash(deps.settings.secret_key, str(captcha_id), text).encode(),
            now + timedelta(seconds=deps.settings.captcha_ttl_seconds),
        )
    png = render_captcha(text)
    return {"captcha_id": str(captcha_id), "image": base64.b64encode(png).decode()}


async def check_captcha(conn, deps, captcha_id: str | None, answer: str | None) -> str | None:
    """None when the answer is right; else the message for the captcha field. Single use."""
    answer = (answer or "").strip().upper()
    if not answer:
        return "请填写图片验证码"
    try:
        key = uuid.UUID(str(captcha_id))
    except ValueError:
        return "图片验证码已失效，请刷新后重新输入"
    row = await conn.fetchrow(
        "UPDATE captchas SET used = true WHERE id = $1 AND NOT used RETURNING answer_hash,"
        " expires_at",
        key,
    )
    if row is None or row["expires_at"] < deps.clock.now():
        return "图片验证码已失效，请刷新后重新输入"
    expected = keyed_hash(deps.settings.secret_key, str(key), answer)
    if not same(row["answer_hash"].decode(), expected):
        return "图片验证码错误"
    return None
