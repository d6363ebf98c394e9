"""Fault injection for the sandbox, reproducible through a seeded RNG.

A fault rule is a dict::

    {"kind": "latency", "ms": 50}                    # add latency, request then served
    {"kind": "429", "rate": 0.3, "retry_after": 1}   # Too Many Requests, nothing applied
    {"kind": "500"}                                  # ConnectWise's timeout-500, nothing applied
    {"kind": "status", "status": 503, "body": {...}} # any status/body, nothing applied
    {"kind": "timeout", "ms": 3000}                  # sleep past the client's read timeout, then apply
    {"kind": "drop"}                                 # commit-then-drop: apply, then cut the connection
    {"kind": "hold"}                                 # wait until the test lets it through, then serve

A held request waits until :meth:`FaultInjector.release` lets it through (or the hold's ``ms``
passes, 60 s by default, so a forgotten gate cannot hang a test); :meth:`FaultInjector.held`
says how many wait. Replacing or clearing the rules lets every held request through. Tests
drive progress with it one step at a time, instead of by latency.

Optional on every rule: ``rate`` (0..1, default 1), ``methods`` (["POST"]), ``path`` (a regex
searched, case-insensitively, in the path after ``/apis/3.0``, e.g. ``/additions$``),
``account`` (company id) and ``count`` (fire at most N times). Latency rules all add up; a hold
rule holds every request it matches; of the other rules the first that matches and wins its draw fires.
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

KINDS = frozenset({"latency", "429", "500", "status", "timeout", "drop", "hold"})
HOLD_MS = 60_000
CW_TIMEOUT_BODY = {"code": "ConnectWiseApi", "message": "A timeout has occured. Please try again.", "errors": None}


class FaultConfigError(ValueError):
    """A fault rule that cannot be understood."""


@dataclass
class Fault:
    """One parsed fault rule."""

    kind: str
    rate: float = 1.0
    methods: frozenset[str] | None = None
    path: re.Pattern[str] | None = None
    account: str | None = None
    count: int | None = None
    ms: int = 0
    retry_after: float = 1
    status: int = 503
    body: Any = None
    spec: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, spec: dict[str, Any]) -> Fault:
        """Validate and parse a rule dict.

        :raises FaultConfigError: on an unknown kind or a malformed value.
        """
        kind = str(spec.get("kind", ""))
        if kind not in KINDS:
            raise FaultConfigError(f"Unknown fault kind {kind!r}; expected one of {sorted(KINDS)}")
        try:
            return cls(
                kind,
                float(spec.get("rate", 1.0)),
                frozenset(m.upper() for m in spec["methods"]) if spec.get("methods") else None,
                re.compile(spec["path"], re.IGNORECASE) if spec.get("path") else None,
                str(spec["account"]).lower() if spec.get("account") else None,
                int(spec["count"]) if spec.get("count") is not None else None,
                int(spec.get("ms", {"timeout": 3000, "hold": HOLD_MS}.get(kind, 0))),
                float(spec.get("retry_after", 1)),
                int(spec.get("status", 503)),
                spec.get("body"),
                dict(spec),
            )
        except (TypeError, ValueError, re.error) as exc:
            raise FaultConfigError(f"Invalid fault rule {spec!r}: {exc}") from None

    def matches(self, method: str, path: str, account: str | None) -> bool:
        """True when the rule applies to this request (and has firings left)."""
        return (
            (self.count is None or self.count > 0)
            and (self.methods is None or method in self.methods)
            and (self.path is None or bool(self.path.search(path)))
            and (self.account is None or (account or "").lower() == self.account)
        )


class FaultInjector:
    """Thread-safe set of fault rules with a seeded RNG."""

    def __init__(self, rules: Iterable[dict[str, Any]] = (), seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._gate = threading.Condition()
        self._waiting = self._permits = 0
        self.configure(rules, seed)

    def configure(self, rules: Iterable[dict[str, Any]], seed: int = 0) -> None:
        """Replace the rules and reseed the RNG.

        :raises FaultConfigError: when a rule is invalid (nothing changes then).
        """
        parsed = [Fault.parse(rule) for rule in rules]
        with self._lock:
            self._rules, self._rng, self.seed = parsed, random.Random(seed), seed
        with self._gate:  # what the old rules held goes through; no permit is left over for the new ones
            self._permits = self._waiting
            self._gate.notify_all()

    def held(self) -> int:
        """How many requests a hold rule is holding now (not counting those already let through)."""
        with self._gate:
            return max(0, self._waiting - self._permits)

    def release(self, count: int = 1) -> None:
        """Let ``count`` held (or next) requests through."""
        with self._gate:
            self._permits += max(0, count)
            self._gate.notify_all()

    def hold(self, ms: int) -> None:
        """Wait for a permit from :meth:`release` (at most ``ms``)."""
        with self._gate:
            self._waiting += 1
            self._gate.notify_all()
            got = self._gate.wait_for(lambda: self._permits > 0, timeout=ms / 1000)
            self._waiting -= 1
            if got:
                self._permits -= 1

    def describe(self) -> dict[str, Any]:
        """The current rules (with remaining counts) and seed."""
        with self._lock:
            rules = [{**r.spec, **({"count": r.count} if r.count is not None else {})} for r in self._rules]
        return {"seed": self.seed, "rules": rules, "held": self.held()}

    def draw(self, method: str, path: str, account: str | None) -> tuple[int, Fault | None, Fault | None]:
        """Total latency (ms), the hold rule, and the failure fault to inject, if any, for a request."""
        latency, hold, chosen = 0, None, None
        with self._lock:
            for rule in self._rules:
                if not rule.matches(method, path, account):
                    continue
                if rule.kind == "latency":
                    latency += rule.ms
                elif rule.kind == "hold":
                    hold = hold or rule
                elif chosen is None and self._rng.random() < rule.rate:
                    chosen = rule
                    if rule.count is not None:
                        rule.count -= 1
        return latency, hold, chosen
