"""``forewarn api``: the HTTP API and the live dashboard over the topics.

    forewarn api                                   # http://127.0.0.1:8080/ (loopback, open)
    FOREWARN_API_TOKENS='ops:write:s3cret-ops,graf:read:s3cret-graf' \\
        forewarn api --host 0.0.0.0 --port 8080    # tokens needed off loopback

The OpenAPI document is served at /openapi.json (browse it at /docs); docs/api.md says more.
"""

from __future__ import annotations

import argparse
import contextlib


def cmd_api(args: argparse.Namespace) -> int:
    from streams.api.auth import parse_tokens
    from streams.api.server import ApiServer
    from streams.cli.commands import settings_of
    from streams.topics import ensure_topics

    settings = settings_of(args)
    ensure_topics(settings)
    server = ApiServer(settings, host=args.host or settings.api_host,
                       port=settings.api_port if args.port is None else args.port,
                       tokens=parse_tokens(settings.api_tokens),
                       max_series=settings.api_max_series,
                       follow_metrics=not args.no_metrics)
    if server.notice:
        print(f"forewarn: {server.notice}")
    print(f"forewarn api on {server.url} (dashboard), {server.url}docs (OpenAPI); "
          f"topics on {settings.bootstrap_servers}; Ctrl-C stops it", flush=True)
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises Ctrl-C once it stopped
        server.serve()
    print("forewarn api stopped")
    return 0


def add_subcommand(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from streams.cli.commands import documented_parser

    p = documented_parser(sub, "api", "the HTTP API and live dashboard", __doc__ or "")
    p.add_argument("--host", help="bind address (FOREWARN_API_HOST, default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (FOREWARN_API_PORT, default 8080)")
    p.add_argument("--no-metrics", action="store_true",
                   help="do not follow forewarn.metrics (no metric series in the charts; for "
                        "fleets whose metrics topic is too busy for one reader)")
    p.set_defaults(func=cmd_api, needs_broker=True)
