"""Revenue assurance's read-back at scale: ConnectWise calls, wall time and peak memory of reading every agreement
holding our records back and comparing it with what was pushed.

    python benchmarks/assurance.py [--agreements 2000] [--records 50000] [--drift 0.05] [--latency-ms 50]
        [--concurrency 8]

A ConnectWise sandbox in its own process over real HTTP on 127.0.0.1 holds ``--agreements`` monthly agreements
(one company each) and ``--records`` additions carrying our references, spread evenly; ``--drift`` of them are
changed as a person would: a third deleted, a third with another quantity, a third joined by a line without our
reference for the same product and period (possible double billing). ``--latency-ms`` is injected on every
request. A child process (the worker's place) runs the read-back's PSA reading
(``ReadBackCommand.read``: pages of 1,000 additions and of adjustments per agreement, concurrently, and the
agreements in batched reads) and the comparison (``msphub_psa.domain.assurance.compare``) over the ledger's rows
built in memory; it prints the calls (from the sandbox's request log), the findings by kind, the wall time and
its own peak RSS. What it leaves out: loading the outbox rows from the database (one query per 5,000 rows) and
writing the findings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MARK = "ASSURANCE-RESULT "
START, END = dt.date(2026, 11, 1), dt.date(2026, 11, 30)


def layout(agreements: int, records: int, drift: float) -> tuple[list[tuple[int, int, int]], dict[str, set[int]]]:
    """Our records as (transaction id, agreement id, product id), and which are drifted how."""
    rows = [(tx, 1 + (tx - 1) % agreements, 1 + (tx - 1) % 3) for tx in range(1, records + 1)]
    step = max(1, round(1 / drift)) if drift else 0
    drifted = [tx for tx in range(1, records + 1) if step and tx % step == 0]
    kinds = {"missing": set(drifted[0::3]), "edited": set(drifted[1::3]), "double_billing": set(drifted[2::3])}
    return rows, kinds


def seed(agreements: int, records: int, drift: float) -> dict:
    """The sandbox's demo account: the agreements, our additions as drifted, the foreign lines."""
    from msphub_psa.connectwise.sandbox import seed as cw_seed

    demo, other = cw_seed.default_seed()["accounts"]
    rows, kinds = layout(agreements, records, drift)
    products = sorted(item["id"] for item in demo["catalogItems"])[:3]
    additions = []
    for tx, agreement, product in rows:
        if tx in kinds["missing"]:
            continue
        line = addition(agreement, products[product - 1], 5 if tx in kinds["edited"] else 2, f"MSPHUB-T{tx}")
        additions.append(line)
        if tx in kinds["double_billing"]:
            additions.append(addition(agreement, products[product - 1], 1, None))
    companies = [cw_seed.company(i, f"Benchmark Customer {i:05d}") for i in range(1, agreements + 1)]
    agreement_rows = [cw_seed._agreement(i, i, "Microsoft CSP - Monthly", 1) for i in range(1, agreements + 1)]
    demo = {**demo, "companies": companies, "agreements": agreement_rows, "additions": additions, "adjustments": []}
    return {"accounts": [demo, other]}


def addition(agreement: int, product: int, quantity: int, serial: str | None) -> dict:
    """One seed addition for November 2026."""
    line = {
        "agreementId": agreement,
        "product": {"id": product},
        "billCustomer": "Billable",
        "quantity": quantity,
        "unitPrice": 7.2,
        "unitCost": 6,
        "effectiveDate": f"{START.isoformat()}T00:00:00Z",
        "cancelledDate": f"{END.isoformat()}T00:00:00Z",
    }
    return {**line, "serialNumber": serial} if serial else line


def peak_rss_mb() -> float:
    """This process's own peak RSS (``VmHWM``: ``ru_maxrss`` carries the parent's peak across fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def child(args: argparse.Namespace) -> None:
    """The read-back's reading and comparison against the running sandbox; one JSON line on stdout."""
    from msphub_psa.commands.billing.assurance import ReadBackCommand
    from msphub_psa.connectwise.adapter import ConnectWisePsa
    from msphub_psa.connectwise.client import ConnectWiseClient, Credentials
    from msphub_psa.connectwise.sandbox import seed as cw_seed
    from msphub_psa.connectwise.urls import ApiUrlPolicy
    from msphub_psa.domain.assurance import Line, Sent, compare

    started = time.perf_counter()
    products = json.loads(args.products)
    sent = [
        Sent(
            tx,
            tx,
            f"MSPHUB-T{tx}",
            agreement,
            None,
            Line(
                "charge",
                agreement,
                tx,
                None,
                products[product - 1],
                Decimal(2),
                Decimal("7.2"),
                Decimal(6),
                None,
                START,
                END,
            ),
        )
        for tx, agreement, product in layout(args.agreements, args.records, args.drift)[0]
    ]
    client = ConnectWiseClient(
        Credentials(cw_seed.DEMO_COMPANY_ID, cw_seed.DEMO_PUBLIC_KEY, cw_seed.DEMO_PRIVATE_KEY, cw_seed.DEMO_CLIENT_ID),
        args.base_url,
        url_policy=ApiUrlPolicy(allow_loopback_http=True),
    )
    with ConnectWisePsa(client) as psa:
        reading = ReadBackCommand(0, client=psa, concurrency=args.concurrency).read(
            sorted({s.agreement_id for s in sent})
        )
    read_s = time.perf_counter() - started
    findings = compare(sent, reading.held, reading.states, {}, {s.transaction_id for s in sent})
    result = {
        "calls": reading.calls,
        "records_read": reading.records,
        "findings": dict(Counter(f.code.value for f in findings)),
        "read_s": round(read_s, 2),
        "wall_s": round(time.perf_counter() - started, 2),
        "peak_rss_mb": peak_rss_mb(),
    }
    print(MARK + json.dumps(result), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agreements", type=int, default=2000)
    parser.add_argument("--records", type=int, default=50000)
    parser.add_argument("--drift", type=float, default=0.05)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=8, help="the default PSA_PUSH_CONCURRENCY")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--products", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    from benchmarks.sync import SandboxProcess

    data = seed(args.agreements, args.records, args.drift)
    products = sorted(item["id"] for item in data["accounts"][0]["catalogItems"])[:3]
    sandbox = SandboxProcess(data)
    try:
        sandbox.latency(args.latency_ms)
        sandbox.clear_log()
        out = subprocess.run(
            [sys.executable, __file__, "--child", "--base-url", sandbox.base_url, "--products", json.dumps(products)]
            + [f"--{k}={v}" for k, v in (("agreements", args.agreements), ("records", args.records))]
            + [f"--drift={args.drift}", f"--concurrency={args.concurrency}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        result = json.loads(next(line for line in out.splitlines() if line.startswith(MARK))[len(MARK) :])
        log = sandbox.requests(0)
        logged = len(log)
        served = sorted(float(e.get("durationMs") or 0) for e in log)
    finally:
        sandbox.stop()
    pages = args.agreements * 2  # one page of additions and one of adjustments per agreement (< 1,000 each)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs; Python {platform.python_version()}")
    print(
        f"{args.agreements} agreements, {args.records} records, {args.drift:.0%} drifted, "
        f"{args.latency_ms} ms latency, concurrency {args.concurrency}"
    )
    print(
        f"calls: {result['calls']} (sandbox log: {logged}; agreement pages: {pages}, "
        "the rest batched reads of the agreements and of their invoices)"
    )
    print(f"records read: {result['records_read']}; findings: {result['findings']}")
    print(f"wall: {result['wall_s']} s (reading {result['read_s']} s); child peak RSS: {result['peak_rss_mb']} MB")
    if served:
        median, p95 = served[len(served) // 2], served[int(len(served) * 0.95)]
        print(f"sandbox time per request (latency included): median {median:.0f} ms, p95 {p95:.0f} ms")


if __name__ == "__main__":
    main()
