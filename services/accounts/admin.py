"""Create the first system administrator from the command line.

    python -m services.accounts.admin create-sysadmin USERNAME --mobile MOBILE [--name NAME]

The mobile receives the login codes (the second factor, docs/security.md): without one the
account cannot sign in while ZC_SECOND_FACTOR is on.

The password is read from the terminal (twice), or from ZC_SYSADMIN_PASSWORD when set; with
--generate a random one is made and printed once.
"""

import argparse
import asyncio
import getpass
import os
import sys

import asyncpg

from services.accounts.domain.credentials import generate_password
from services.accounts.domain.validation import (
    FieldError,
    validate_mobile,
    validate_password,
    validate_username,
)
from services.accounts.handlers.reviewers import create_sysadmin
from shared.db import create_pool
from shared.migrations import migrate_service
from shared.settings import get_settings


def read_password(generate: bool) -> str:
    if generate:
        password = generate_password()
        print(f"生成的密码（只显示这一次）：{password}")
        return password
    if os.environ.get("ZC_SYSADMIN_PASSWORD"):
        return os.environ["ZC_SYSADMIN_PASSWORD"]
    first = getpass.getpass("密码（8-12位，含数字、大写和小写字母）：")
    if first != getpass.getpass("再次输入密码："):
        raise FieldError("两次输入的密码不一致")
    return first


async def main(username: str, name: str, password: str, mobile: str | None) -> int:
    settings = get_settings()
    await migrate_service(settings.database_url, "accounts")
    pool = await create_pool(settings.database_url, "accounts")
    try:
        await create_sysadmin(pool, username, password, name, mobile)
    except asyncpg.UniqueViolationError:
        print(f"用户名 {username} 已存在", file=sys.stderr)
        return 1
    finally:
        await pool.close()
    print(f"已创建系统管理员 {username}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["create-sysadmin"])
    parser.add_argument("username")
    parser.add_argument("--name", default="系统管理员")
    parser.add_argument("--generate", action="store_true", help="make a random password")
    parser.add_argument("--mobile", default="", help="the mobile that gets the login codes")
    args = parser.parse_args()
    try:
        username = validate_username(args.username)
        mobile = validate_mobile(args.mobile) if args.mobile else None
        password = validate_password(read_password(args.generate))
    except FieldError as error:
        print(error.message, file=sys.stderr)
        sys.exit(2)
    if mobile is None:
        print("未填写 --mobile：开启登录短信验证时该账户无法登录", file=sys.stderr)
    sys.exit(asyncio.run(main(username, args.name, password, mobile)))
