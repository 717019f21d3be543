"""登录设备 names each session's browser and system from its User-Agent header."""

import pytest

from services.accounts.domain.user_agent import browser_name

WIN = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko)"
)
ANDROID = "Mozilla/5.0 (Linux; Android 13; V2227A) AppleWebKit/537.36 (KHTML, like Gecko)"


@pytest.mark.parametrize(
    ("user_agent", "shown"),
    [
        (f"{WIN} Chrome/120.0.6099.130 Safari/537.36", "Chrome 120 / Windows"),
        (f"{WIN} Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91", "Edge 120 / Windows"),
        (
            "Mozilla/5.0 (Windows NT 6.1; rv:115.0) Gecko/20100101 Firefox/115.0",
            "Firefox 115 / Windows 7",
        ),
        (f"{MAC} Version/17.1 Safari/605.1.15", "Safari 17 / macOS"),
        (f"{IPHONE} Version/17.1 Mobile/15E148 Safari/604.1", "Safari 17 / iOS 17"),
        (f"{IPHONE} CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1", "Chrome 120 / iOS 17"),
        (
            f"{IPHONE} Mobile/15E148 MicroMessenger/8.0.44(0x18002c2d) NetType/WIFI Language/zh_CN",
            "微信 8 / iOS 17",
        ),
        (
            f"{ANDROID} Chrome/116.0.0.0 Mobile Safari/537.36 MQQBrowser/14.6",
            "QQ浏览器 14 / Android 13",
        ),
        (
            f"{ANDROID} Version/4.0 Chrome/78.0 UCBrowser/15.5.2.1222 Mobile Safari/537.36",
            "UC浏览器 15 / Android 13",
        ),
        (
            "Mozilla/5.0 (Linux; Android 12; HarmonyOS; NOH-AN00) AppleWebKit/537.36"
            " (KHTML, like Gecko) Chrome/99.0 Mobile Safari/537.36",
            "Chrome 99 / HarmonyOS",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
            " HeadlessChrome/120.0.6099.28 Safari/537.36",
            "Chrome 120 / Linux",
        ),
        (
            "Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko",
            "Internet Explorer 11 / Windows 7",
        ),
        ("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) Something", "未知浏览器 / ChromeOS"),
        ("Python/3.11 aiohttp/3.14.5", "未知浏览器"),
        ("", "未知浏览器"),
        (None, "未知浏览器"),
    ],
)
def test_a_user_agent_is_shown_as_browser_version_and_system(user_agent, shown):
    assert browser_name(user_agent) == shown
