"""A readable name for a signed-in device, from its User-Agent: "Firefox on Linux", "Safari on iPhone",
"locker CLI", "curl". Read once at sign-in and kept on the unlock session, so a user can tell their devices
apart in the settings page's list. A small parser of our own: the few browsers and clients people sign in
with, by the tokens their User-Agents are known to carry; anything else is "Unknown browser" or the
client's own product name.
"""

from __future__ import annotations

import re

MAX_LENGTH = 64

# Command-line and sync clients: (pattern at the start of the User-Agent, name).
_CLIENTS = [
    (r"locker(?:-cli)?/", "locker CLI"),
    (r"curl/", "curl"),
    (r"Wget/", "Wget"),
    (r"HTTPie/", "HTTPie"),
    (r"python-requests/", "Python requests"),
    (r"python-httpx/", "Python httpx"),
    (r"Python-urllib/", "Python urllib"),
    (r"aiohttp/", "Python aiohttp"),
    (r"Go-http-client/", "Go HTTP client"),
    (r"okhttp/", "OkHttp (Android app)"),
    (r"rclone/", "rclone"),
    (r"Microsoft-WebDAV-MiniRedir/", "Windows WebDAV"),
    (r"WebDAVFS/", "macOS Finder (WebDAV)"),
    (r"davfs2/", "davfs2 (WebDAV)"),
    (r"gvfs/", "GNOME Files (WebDAV)"),
    (r"Cyberduck/", "Cyberduck"),
    (r"Mountain Duck/", "Mountain Duck"),
    (r"PostmanRuntime/", "Postman"),
    (r"node-fetch|undici|axios/", "Node.js client"),
]

# Browsers, most specific first (Edge and Opera say "Chrome" too; Chrome says "Safari").
_BROWSERS = [
    (r"\bEdg(?:e|A|iOS)?/", "Edge"),
    (r"\bOPR/|\bOpera\b", "Opera"),
    (r"\bSamsungBrowser/", "Samsung Internet"),
    (r"\bVivaldi/", "Vivaldi"),
    (r"\bYaBrowser/", "Yandex Browser"),
    (r"\bFirefox/|\bFxiOS/", "Firefox"),
    (r"\bHeadlessChrome/", "Headless Chrome"),
    (r"\bChromium/", "Chromium"),
    (r"\bChrome/|\bCriOS/", "Chrome"),
    (r"\bVersion/[\d.]+.*\bSafari/|\bAppleWebKit/.*\b(?:iPhone|iPad)", "Safari"),
    (r"\bMSIE |\bTrident/", "Internet Explorer"),
]

# Operating systems, most specific first (iPhone and Android say "like Mac OS X" and "Linux").
_SYSTEMS = [
    (r"\biPhone\b", "iPhone"),
    (r"\biPad\b", "iPad"),
    (r"\bAndroid\b", "Android"),
    (r"\bCrOS\b", "ChromeOS"),
    (r"\bWindows\b", "Windows"),
    (r"\bMacintosh\b|\bMac OS X\b", "macOS"),
    (r"\bLinux\b|\bX11\b|\bUbuntu\b|\bFedora\b", "Linux"),
    (r"\bFreeBSD\b|\bOpenBSD\b", "BSD"),
]

_PRODUCT = re.compile(r"([A-Za-z][A-Za-z0-9 ._-]{0,39}?)/[0-9]")


def device_name(user_agent) -> str:
    """``Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0`` → ``"Firefox on Linux"``."""
    if not isinstance(user_agent, str) or not user_agent.strip():
        return "Unknown device"
    ua = user_agent.strip()
    for pattern, name in _CLIENTS:
        if re.match(pattern, ua, re.IGNORECASE):
            return name
    browser = next((name for pattern, name in _BROWSERS if re.search(pattern, ua)), None)
    system = next((name for pattern, name in _SYSTEMS if re.search(pattern, ua)), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser:
        return browser
    if ua.startswith("Mozilla/"):
        return f"Browser on {system}" if system else "Unknown browser"
    product = _PRODUCT.match(ua)
    if product:  # another client naming itself, "product/version": its name, without anything after it
        return product.group(1).strip()[:MAX_LENGTH]
    return "Unknown device"
