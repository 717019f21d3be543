"""Security headers on every answer the gateway gives: pages, the API, files, errors, 404s.

A strict Content-Security-Policy (the pages have no inline script, style or event handler:
everything comes from /static/), no framing by other sites, no MIME sniffing, no referrer to
other sites, the browser features the pages do not use turned off, and no software version in
`Server`. Over HTTPS (setting `https`) browsers are also told to come back only over HTTPS.

Stored files (scans, PDFs) may be framed by our own pages (the case page shows a scanned PDF
in a frame); everything else may not be framed at all.

Nothing but the static assets is kept by a browser or a proxy (`Cache-Control: no-store`,
ASVS 8.2.1): pages, API answers and files carry personal data, and a shared office computer
must not give them to the next person from its cache.
"""

from aiohttp import web

from gateway.keys import settings_key

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",  # the login captcha is a data: PNG
        "font-src 'self'",
        "connect-src 'self'",
        "frame-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
FILE_CSP = CSP.replace("frame-ancestors 'none'", "frame-ancestors 'self'")
PERMISSIONS = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
        "interest-cohort",
    )
)
HSTS = "max-age=31536000; includeSubDomains"
FILE_TYPES = ("application/pdf", "image/")
STATIC_PREFIX = "/static/"


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    is_file = (response.content_type or "").startswith(FILE_TYPES)
    headers["Content-Security-Policy"] = FILE_CSP if is_file else CSP
    headers["X-Frame-Options"] = "SAMEORIGIN" if is_file else "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["Permissions-Policy"] = PERMISSIONS
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Server"] = "zhicheng"  # not the aiohttp and Python versions
    if not request.path.startswith(STATIC_PREFIX):
        headers["Cache-Control"] = "no-store"
    if request.app[settings_key].https:
        headers["Strict-Transport-Security"] = HSTS
