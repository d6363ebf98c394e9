"""Run the sandbox: ``python -m msphub_psa.connectwise.sandbox --host 127.0.0.1 --port 8765 --data FILE``."""

from __future__ import annotations

import argparse
import json
import sys

from werkzeug.serving import make_server

from . import create_app
from .seed import default_seed


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m msphub_psa.connectwise.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--data", default=None, help="SQLite file (default: in memory)")
    parser.add_argument("--seed", default=None, help="seed JSON file (default: the built-in seed)")
    parser.add_argument("--extra-companies", type=int, default=0, help="add N generated companies to the default seed")
    parser.add_argument("--faults", default=None, help='fault rules as JSON, e.g. \'[{"kind": "latency", "ms": 50}]\'')
    parser.add_argument("--fault-seed", type=int, default=0, help="RNG seed for fault draws")
    parser.add_argument("--latency-ms", type=int, default=0, help="shorthand for a latency fault")
    parser.add_argument("--rate-429", type=float, default=0.0, help="share of requests answered 429")
    parser.add_argument("--rate-500", type=float, default=0.0, help="share of requests answered the timeout-500")
    parser.add_argument("--retry-after", type=float, default=1.0, help="Retry-After seconds of injected 429s")
    return parser.parse_args(argv)


def fault_rules(args: argparse.Namespace) -> list[dict]:
    """Fault rules from the options."""
    rules = json.loads(args.faults) if args.faults else []
    if args.latency_ms:
        rules.append({"kind": "latency", "ms": args.latency_ms})
    if args.rate_429:
        rules.append({"kind": "429", "rate": args.rate_429, "retry_after": args.retry_after})
    if args.rate_500:
        rules.append({"kind": "500", "rate": args.rate_500})
    return rules


def main(argv: list[str] | None = None) -> int:
    """Serve until interrupted."""
    args = parse_args(argv)
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        print("The sandbox serves loopback only.", file=sys.stderr)
        return 2
    seed = args.seed or (default_seed(args.extra_companies) if args.extra_companies else None)
    app = create_app(args.data, seed=seed, faults=fault_rules(args), fault_seed=args.fault_seed)
    server = make_server(args.host, args.port, app, threaded=True)
    print(f"ConnectWise sandbox on http://{args.host}:{server.port}/v4_6_release/apis/3.0", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
