"""The writes that take a file or delete: ``upload --input-file FILE`` and ``delete``.

- ``upload --input-file FILE`` reads FILE by its suffix (:func:`~chalk_client._cli.tables.read_table_file`,
  before anything is sent; a JSON list of row objects stays rows, one table per set of keys) and
  sends it with ``multi_upload_features``; it prints the rows, the features and the server's
  operation id of each stored table.
- ``delete --namespace NS --primary-key KEY ...`` runs ``delete_features`` (of the ``--feature``
  values, or of the features with a ``--tag``, or of every feature), and ``delete --namespace NS
  --feature F --all-rows`` runs ``drop_features`` (F of every entity). Each prints one line: what
  was deleted, and from which store.

An answer with errors (:class:`~chalk_client.ChalkResultError`, ``upload --input`` too) is one
``error:`` line saying what was not done, then one per error of the server's, and exit status 1.
An upload that fails after some of its tables were stored prints their operation ids on stdout
first, so that they are not uploaded twice.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Final, TextIO

from chalk_client import ChalkClient, ChalkResultError, ChalkSDKError, describe_chalk_error
from chalk_client._cli.connection import _resolve
from chalk_client._cli.errors import EXIT_ERROR, EXIT_OK, EXIT_USAGE, CommandError
from chalk_client._cli.tables import read_table_file

__all__: list[str] = []

_SHOWN_KEYS: Final = 10
"""The primary keys a deletion's line names; it counts the rest."""


# ---------------------------------------------------------------------------------------------------
# upload --input-file


def _upload_file(args: argparse.Namespace, out: TextIO) -> int:
    rows = read_table_file(args.input_file, keep_rows=True)  # before any call
    with ChalkClient(config=_resolve(args, require_credentials=True)) as client:
        try:
            result = client.multi_upload_features(rows)
        except ChalkResultError as err:  # that table was not stored
            _print_stored(err.operation_ids, out)
            raise answer_errors(err, _failed_table(err.operation_ids, "was not stored")) from None
        except ChalkSDKError as err:
            if not err.operation_ids:
                raise
            _print_stored(err.operation_ids, out)  # whether the failed table was stored is not known
            raise CommandError(f"{err}; {_failed_table(err.operation_ids, 'failed')}") from None
    tables = len(result.operation_ids)
    out.write(
        f"uploaded {_count(result.rows, 'row')} of {', '.join(result.features)} in "
        f"{_count(tables, 'table')} ({_ids(result.operation_ids)})\n"
    )
    return EXIT_OK


def _print_stored(stored: Sequence[str], out: TextIO) -> None:
    """On stdout, where a success prints what it stored: the tables stored before a failure, so
    that they are not uploaded again."""
    if stored:
        out.write(f"stored {_count(len(stored), 'table')} before the failure: {_ids(stored)}\n")


def _failed_table(stored: Sequence[str], what: str) -> str:
    """``table 2 of the upload failed (the table before it was stored: operation id ...)``."""
    if not stored:
        return "nothing was stored"
    if len(stored) == 1:
        before = f"the table before it was stored: {_ids(stored)}"
    else:
        before = f"the {len(stored)} tables before it were stored: {_ids(stored)}"
    return f"table {len(stored) + 1} of the upload {what} ({before})"


def answer_errors(err: ChalkResultError, what: str) -> CommandError:
    """The command's failure for a write the server answered with errors: a line saying `what`
    happened, then one line per error."""
    trace = f" (trace {err.trace})" if err.trace else ""
    count = _count(len(err.errors), "error")
    return CommandError(
        f"{what}: the server reported {count}{trace}",
        EXIT_ERROR,
        details=[describe_chalk_error(error) for error in err.errors],
    )


def _ids(ids: Sequence[str]) -> str:
    return f"operation id{'' if len(ids) == 1 else 's'} {', '.join(ids) or '-'}"


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}{'' if number == 1 else 's'}"


# ---------------------------------------------------------------------------------------------------
# delete


def _delete(args: argparse.Namespace, out: TextIO) -> int:
    if args.all_rows:
        return _drop(args, out)
    namespace: str = args.namespace
    with ChalkClient(config=_resolve(args, require_credentials=True)) as client:
        try:
            client.delete_features(
                namespace,
                args.primary_keys,
                features=args.features,
                tags=args.tags,
                retain_offline=args.retain_offline,
                retain_online=args.retain_online,
            )
        except ChalkResultError as err:
            what = f"the deletion of {namespace} {_keys(args.primary_keys)} may be partial"
            raise answer_errors(err, what) from None
    if args.features:
        what = _names(namespace, args.features)
    elif args.tags:
        what = f"the features tagged {', '.join(args.tags)}"
    else:
        what = "every feature"
    stores = _stores(args.retain_offline, args.retain_online)
    out.write(f"deleted {what} of {namespace} {_keys(args.primary_keys)} {stores}\n")
    return EXIT_OK


def _drop(args: argparse.Namespace, out: TextIO) -> int:
    """``delete --all-rows``: the --feature values of every entity."""
    namespace: str = args.namespace
    features: list[str] | None = args.features
    if args.tags:  # before anything is sent
        raise CommandError(
            "--all-rows drops the --feature columns of every entity: --tag works only with "
            "--primary-key (see `chalk-client delete --help`)",
            EXIT_USAGE,
        )
    if not features:
        raise CommandError(
            "--all-rows needs a --feature to drop, e.g. --feature age (see `chalk-client delete --help`)",
            EXIT_USAGE,
        )
    with ChalkClient(config=_resolve(args, require_credentials=True)) as client:
        try:
            client.drop_features(
                namespace, features, retain_offline=args.retain_offline, retain_online=args.retain_online
            )
        except ChalkResultError as err:
            raise answer_errors(err, f"the drop of {_names(namespace, features)} may be partial") from None
    stores = _stores(args.retain_offline, args.retain_online)
    out.write(f"dropped {_names(namespace, features)} of every {namespace} {stores}\n")
    return EXIT_OK


def _names(namespace: str, features: Sequence[str]) -> str:
    """The features as full names: ``age`` of ``user`` is ``user.age``."""
    prefix = namespace + "."
    return ", ".join(name if name.startswith(prefix) else prefix + name for name in features)


def _keys(keys: Sequence[str]) -> str:
    shown = ", ".join(keys[:_SHOWN_KEYS])
    return shown if len(keys) <= _SHOWN_KEYS else f"{shown}, ... ({len(keys)} in all)"


def _stores(retain_offline: bool, retain_online: bool) -> str:
    if retain_offline:
        return "from the online store (the offline store keeps them)"
    if retain_online:
        return "from the offline store (the online store keeps them)"
    return "from the online and offline stores"
