"""A short readable name for a User-Agent header, as 登录设备 shows it: "Chrome 120 / Windows".

Pure. A handful of patterns rather than a parsing library: the page needs the browser's
family, its major version and the system, and a person recognises their own device from
that; the full header stays beside it. The order matters: most browsers also claim to be
Chrome and Safari, so the specific ones come first.
"""

import re

# (name shown, pattern whose group 1 is the version)
BROWSERS: tuple[tuple[str, str], ...] = (
    ("微信", r"MicroMessenger/([\d.]+)"),
    ("QQ浏览器", r"MQQBrowser/([\d.]+)|QQBrowser/([\d.]+)"),
    ("UC浏览器", r"UCBrowser/([\d.]+)"),
    ("搜狗浏览器", r"MetaSr ([\d.]+)"),
    ("Edge", r"Edg(?:e|A|iOS)?/([\d.]+)"),
    ("Opera", r"OPR/([\d.]+)"),
    ("Firefox", r"(?:Firefox|FxiOS)/([\d.]+)"),
    ("Chrome", r"(?:HeadlessChrome|Chrome|CriOS)/([\d.]+)"),
    ("Safari", r"Version/([\d.]+)(?: Mobile/\w+)? Safari/"),
    ("Internet Explorer", r"MSIE ([\d.]+)|Trident/.*rv:([\d.]+)"),
)

WINDOWS_VERSIONS = {"10.0": "", "6.3": " 8.1", "6.2": " 8", "6.1": " 7", "6.0": " Vista"}


def browser_name(user_agent: str | None) -> str:
    ua = user_agent or ""
    browser, system = _browser(ua), _system(ua)
    if browser and system:
        return f"{browser} / {system}"
    return browser or (f"未知浏览器 / {system}" if system else "未知浏览器")


def _browser(ua: str) -> str:
    for name, pattern in BROWSERS:
        match = re.search(pattern, ua)
        if match:
            version = next(v for v in match.groups() if v)
            return f"{name} {version.split('.')[0]}"
    return ""


def _system(ua: str) -> str:
    if match := re.search(r"HarmonyOS(?:[ /]([\d.]+))?", ua):
        return "HarmonyOS" + (f" {_major(match.group(1))}" if match.group(1) else "")
    if match := re.search(r"Windows NT ([\d.]+)", ua):
        return "Windows" + WINDOWS_VERSIONS.get(match.group(1), "")
    if match := re.search(r"(iPhone|iPad|iPod).*? OS (\d+)", ua):
        return ("iPadOS" if match.group(1) == "iPad" else "iOS") + f" {match.group(2)}"
    if match := re.search(r"Android ([\d.]+)", ua):
        return f"Android {_major(match.group(1))}"
    for marker, name in (("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux")):
        if marker in ua:
            return name
    return ""


def _major(version: str) -> str:
    return version.split(".")[0]
