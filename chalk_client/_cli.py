"""The ``chalk-client`` command: token, config, dev-server and demo.

Every subcommand prints SDK errors as one readable line (exit 1) instead of a traceback; the
secret and the token are never printed unless ``--show-token`` asks for the token.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TextIO

from chalk_client._client import ChalkClient
from chalk_client._config import _FIELDS, ChalkClientConfig
from chalk_client._errors import ChalkSDKError
from chalk_client._token import Token
from chalk_client._version import __version__

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    command: Callable[[argparse.Namespace, TextIO], int] = args.run
    try:
        return command(args, sys.stdout)
    except ChalkSDKError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chalk-client",
        description="The chalk-client SDK's command line: inspect configuration and tokens, run a local server.",
    )
    parser.add_argument("--version", action="version", version=f"chalk-client {__version__}")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    def connection_options(sub: argparse.ArgumentParser) -> None:
        # No --client-secret: a secret on the command line shows up in `ps` and shell history.
        sub.add_argument("--client-id", help="overrides CHALK_CLIENT_ID and the chalk login file")
        sub.add_argument("--api-server", help="overrides CHALK_API_SERVER (default https://api.chalk.ai)")
        sub.add_argument("--environment", help="an environment id or name")
        sub.add_argument(
            "--allow-insecure-http",
            action="store_true",
            help="allow credentials over plain http:// to a non-loopback host",
        )

    token = commands.add_parser(
        "token", help="exchange credentials and show the token's environments and expiry"
    )
    connection_options(token)
    token.add_argument("--show-token", action="store_true", help="print the access token itself")
    token.set_defaults(run=_token)

    config = commands.add_parser("config", help="show each resolved setting and where it came from")
    connection_options(config)
    config.set_defaults(run=_config)

    server = commands.add_parser("dev-server", help="run a Chalk-compatible server on 127.0.0.1 until Ctrl-C")
    server.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    server.add_argument("--token-lifetime", type=float, default=3600.0, help="seconds a token lives")
    server.set_defaults(run=_dev_server)

    demo = commands.add_parser("demo", help="a tour of the SDK against a local server")
    demo.add_argument("--token-lifetime", type=float, default=4.0, help="seconds a demo token lives")
    demo.set_defaults(run=_demo)
    return parser


def _resolve(args: argparse.Namespace, *, require_credentials: bool) -> ChalkClientConfig:
    return ChalkClientConfig.resolve(
        client_id=args.client_id,
        api_server=args.api_server,
        environment=args.environment,
        allow_insecure_http=args.allow_insecure_http,
        require_credentials=require_credentials,
    )


def _token(args: argparse.Namespace, out: TextIO) -> int:
    with ChalkClient(config=_resolve(args, require_credentials=True)) as client:
        token = client.get_token()
        out.write(describe_token(token, show_token=args.show_token))
    return 0


def describe_token(token: Token, *, show_token: bool = False, now: datetime | None = None) -> str:
    """A few lines about a token: environments, expiry, and the token only when asked."""
    now = now or datetime.now(UTC)
    left = (token.expires_at - now).total_seconds()
    lines = [
        f"token:        {token.access_token if show_token else '******** (--show-token to print it)'}",
        f"type:         {token.token_type}",
        f"expires at:   {token.expires_at.isoformat()} (in {left:.0f} s)",
        f"api server:   {token.api_server or '-'}",
        f"primary env:  {token.primary_environment or '-'}",
    ]
    if token.environment_id_to_name:
        lines.append("environments:")
        for env_id, name in sorted(token.environment_id_to_name.items()):
            engine = token.engines.get(env_id, "-")
            marker = " (primary)" if env_id == token.primary_environment else ""
            lines.append(f"  {env_id:<16} {name:<12} engine {engine}{marker}")
    return "\n".join(lines) + "\n"


def _config(args: argparse.Namespace, out: TextIO) -> int:
    config = _resolve(args, require_credentials=False)
    width = max(len(f) for f in _FIELDS)
    for field in _FIELDS:
        value = getattr(config, field)
        shown = "-" if value is None else ("********" if field == "client_secret" else value)
        source = config.sources.get(field, "not set")
        out.write(f"{field:<{width}}  {shown}  ({source})\n")
    return 0


def _dev_server(args: argparse.Namespace, out: TextIO) -> int:
    from chalk_client.testing import ChalkServer

    with ChalkServer(port=args.port, token_lifetime=args.token_lifetime) as server:
        # These are the throwaway credentials of a local test server, printed so you can use them.
        out.write(
            f"ChalkServer listening on {server.url} (Ctrl-C to stop)\n\n"
            f"export CHALK_API_SERVER={server.url}\n"
            f"export CHALK_CLIENT_ID={server.client_id}\n"
            f"export CHALK_CLIENT_SECRET={server.client_secret}\n"
        )
        out.flush()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            out.write("\nstopped\n")
    return 0


def _demo(args: argparse.Namespace, out: TextIO) -> int:
    from chalk_client._demo import run_demo

    return run_demo(out, token_lifetime=args.token_lifetime)


if __name__ == "__main__":
    raise SystemExit(main())
