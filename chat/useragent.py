"""Browser and operating system from a User-Agent, for operators to read ("Chrome
120", "Windows 10/11"): the families that make nearly all traffic, in the order
that tells them apart (Edge and Opera say "Chrome", Chrome says "Safari"). Anything
else is shown as it came."""

from __future__ import annotations

import re
from functools import lru_cache

# (name, pattern whose group 1 is the version): the first that matches wins.
_BROWSERS = (
    ("Edge", re.compile(r"\b(?:Edg|EdgA|EdgiOS|Edge)/(\d+)")),
    ("Opera", re.compile(r"\b(?:OPR|OPiOS)/(\d+)")),
    ("Samsung Internet", re.compile(r"\bSamsungBrowser/(\d+)")),
    ("Yandex Browser", re.compile(r"\bYaBrowser/(\d+)")),
    ("Firefox", re.compile(r"\b(?:Firefox|FxiOS)/(\d+)")),
    ("Chrome", re.compile(r"\b(?:HeadlessChrome|Chrome|CriOS)/(\d+)")),
    ("Safari", re.compile(r"\bVersion/(\d+(?:\.\d+)?).*\bSafari/")),
)
_WINDOWS = {
    "10.0": "10/11",
    "6.3": "8.1",
    "6.2": "8",
    "6.1": "7",
}
_IOS = re.compile(r"\b(?:iPhone|iPad|iPod).*?\bOS (\d+)[_.](\d+)")
_ANDROID = re.compile(r"\bAndroid (\d+(?:\.\d+)?)")
_MACOS = re.compile(r"\bMac OS X (\d+)[_.](\d+)")
_WINDOWS_NT = re.compile(r"\bWindows NT (\d+\.\d+)")


@lru_cache(maxsize=512)
def describe(user_agent: str) -> tuple[str, str]:
    """(browser, operating system), each "" when not recognised."""
    return _browser(user_agent), _system(user_agent)


def _browser(ua: str) -> str:
    for name, pattern in _BROWSERS:
        found = pattern.search(ua)
        if found:
            return f"{name} {found.group(1)}"
    return ""


def _system(ua: str) -> str:
    found = _IOS.search(ua)
    if found:
        family = "iPadOS" if "iPad" in ua else "iOS"
        return f"{family} {found.group(1)}.{found.group(2)}"
    found = _ANDROID.search(ua)
    if found:
        return f"Android {found.group(1)}"
    found = _WINDOWS_NT.search(ua)
    if found:
        return "Windows " + _WINDOWS.get(found.group(1), found.group(1))
    if "CrOS" in ua:
        return "ChromeOS"
    found = _MACOS.search(ua)
    if found:
        # Browsers froze the reported version at 10.15 (macOS 11 and later).
        version = f"{found.group(1)}.{found.group(2)}"
        return "macOS" if version == "10.15" else f"macOS {version}"
    if "Linux" in ua:
        return "Linux"
    return ""
