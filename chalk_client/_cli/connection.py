"""The connection options (``--client-id``, ``--api-server``, ...) resolved into a configuration."""

from __future__ import annotations

import argparse
from typing import Final

from chalk_client import ChalkClientConfig

# How the command line spells the options that set configuration fields: messages name them.
_OPTIONS: Final = {
    "client_id": "--client-id",
    "api_server": "--api-server",
    "environment": "--environment",
    "branch": "--branch",
    "allow_insecure_http": "--allow-insecure-http",
}


def _resolve(args: argparse.Namespace, *, require_credentials: bool) -> ChalkClientConfig:
    """The configuration, with the options' own names as their sources (and in its messages)."""
    return ChalkClientConfig.resolve_command_line(
        {
            "client_id": args.client_id,
            "api_server": args.api_server,
            "environment": args.environment,
            "branch": args.branch,
        },
        options=_OPTIONS,
        allow_insecure_http=args.allow_insecure_http,
        require_credentials=require_credentials,
    )
