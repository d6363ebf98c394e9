"""What a browser test listens to on every page: Content Security Policy violations (the
``securitypolicyviolation`` event, reported from each document as it happens), console errors and uncaught
exceptions; and whether a page scrolls sideways."""

from __future__ import annotations

REPORT = """
document.addEventListener('securitypolicyviolation', function (e) {
  window.__psaViolation([e.violatedDirective, e.blockedURI, e.sourceFile + ':' + e.lineNumber].join(' '));
});
"""


class PageWatch:
    """Collects violations and errors of ``page`` from now on (across navigations)."""

    def __init__(self, page):
        self.page = page
        self.violations: list[str] = []
        self.errors: list[str] = []
        page.expose_function("__psaViolation", lambda text: self.violations.append(f"{page.url}: {text}"))
        page.add_init_script(REPORT)
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: uncaught {exc}"))

    def _console(self, message) -> None:
        if message.type != "error":
            return
        if (message.location or {}).get("url", "").endswith("/favicon.ico"):
            return  # the host application has no icon; Chromium asks for one once per context
        self.errors.append(f"{self.page.url}: {message.text}")

    def assert_clean(self) -> None:
        """No violation and no error so far."""
        assert not self.violations, "CSP violations:\n" + "\n".join(self.violations)
        assert not self.errors, "console errors:\n" + "\n".join(self.errors)


def horizontal_overflow(page) -> int:
    """How many pixels the page scrolls sideways (0: none)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


SIZES = ((1440, 900), (1024, 768))
