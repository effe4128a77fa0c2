"""The commands ``query``, ``upload``, ``whoami``, ``token`` and ``config``.

The secret and the token are never printed unless ``--show-token`` asks for the token. ``query``
exits 2 when the server answered but reported errors (they are printed with the values). With
``--input-file`` it runs one bulk query over the file's rows (:mod:`chalk_client._cli.commands_bulk`),
and ``upload`` one multi-upload of the file's rows (:mod:`chalk_client._cli.commands_writes`, where
``delete`` is too). An upload the server answered with errors exits 1, one ``error:`` line each.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final, TextIO

import attrs

from chalk_client import (
    ChalkClient,
    ChalkClientConfig,
    ChalkConfigError,
    ChalkInputError,
    ChalkResultError,
    OnlineQueryResult,
    Token,
    describe_network,
)
from chalk_client._cli.commands_bulk import _query_bulk
from chalk_client._cli.commands_writes import _upload_file, answer_errors
from chalk_client._cli.connection import _resolve
from chalk_client._cli.errors import EXIT_ANSWER_ERRORS, EXIT_OK, EXIT_USAGE, CommandError
from chalk_client._cli.format import describe_result

# The settings `config` shows, in this order: every text field of ChalkClientConfig.
CONFIG_FIELDS: Final = tuple(
    field.name
    for field in attrs.fields(ChalkClientConfig)
    if field.name not in ("allow_insecure_http", "sources")
)


def _token(args: argparse.Namespace, out: TextIO) -> int:
    with ChalkClient(config=_resolve(args, require_credentials=True)) as client:
        token = client.get_token()
        out.write(describe_token(token, show_token=args.show_token))
    return 0


def _query(args: argparse.Namespace, out: TextIO) -> int:
    if args.input_file is not None:
        return _query_bulk(args, out)
    if args.out_file is not None:  # before anything is sent
        raise CommandError(
            "--out needs --input-file: a single query (--input) prints its values "
            "(see `chalk-client query --help`)",
            EXIT_USAGE,
        )
    inputs = {name: values[-1] for name, values in _pairs(args.input).items()}
    with ChalkClient(config=_resolve(args, require_credentials=True)) as client:
        result = client.query(inputs, args.output, include_meta=args.include_meta, query_name=args.query_name)
    out.write(_json_answer(result) if args.json else describe_result(result))
    return EXIT_ANSWER_ERRORS if result.errors else EXIT_OK


def _json_answer(result: OnlineQueryResult) -> str:
    errors = [error.to_dict() for error in result.errors]
    return json.dumps({"data": result.to_dict(), "errors": errors}, indent=2, default=str) + "\n"


def _upload(args: argparse.Namespace, out: TextIO) -> int:
    if args.input_file is not None:
        return _upload_file(args, out)
    columns = _pairs(args.input)
    with ChalkClient(config=_resolve(args, require_credentials=True)) as client:
        try:
            result = client.upload_features(columns)
        except ChalkResultError as err:
            raise answer_errors(err, "nothing was stored") from None
    trace = f" (trace {result.trace_id})" if result.trace_id else ""
    out.write(f"uploaded {result.rows} row(s) of {', '.join(result.features)}{trace}\n")
    return 0


def _whoami(args: argparse.Namespace, out: TextIO) -> int:
    with ChalkClient(config=_resolve(args, require_credentials=True)) as client:
        me = client.whoami()
    out.write(
        f"user:         {me.user}\nteam:         {me.team_id or '-'}\nenvironment:  {me.environment_id or '-'}\n"
    )
    return 0


def _pairs(items: Sequence[str]) -> dict[str, list[Any]]:
    """``["user.id=1", "user.id=2"]`` -> ``{"user.id": [1, 2]}``; values are JSON when they parse."""
    columns: dict[str, list[Any]] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise ChalkInputError(f"--input {item!r} is not FEATURE=VALUE (e.g. user.id=1)")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw  # a bare word is a string: user.name=Ada
        columns.setdefault(name.strip(), []).append(value)
    return columns


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
    width = max(len(f) for f in CONFIG_FIELDS)
    for field in CONFIG_FIELDS:
        value = getattr(config, field)
        shown = "-" if value is None else ("********" if field == "client_secret" else value)
        source = config.sources.get(field, "not set")
        out.write(f"{field:<{width}}  {shown}  ({source})\n")
    # The network settings the command line's client uses (proxy credentials masked).
    try:
        network = describe_network(config.api_server)
    except ChalkConfigError as err:
        out.write(f"{'network':<{width}}  error: {err}\n")
        return 0
    out.write(f"{'proxy':<{width}}  {network['proxy']}\n")
    out.write(f"{'ca':<{width}}  {network['ca']}\n")
    return 0
