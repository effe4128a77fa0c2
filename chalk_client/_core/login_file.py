"""The file ``chalk login`` writes (``~/.chalk.yml``): where it is, which ``tokens`` entry applies, and
its values. A YAML error never quotes the file, because the line it would quote may hold a secret.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import attrs

from chalk_client._core.errors import ChalkConfigError
from chalk_client._core.sources import _clean

# Key in a ``tokens`` entry of the login file -> field. Other keys (``name``, ...) are ignored.
_FILE_KEYS: Final[Mapping[str, str]] = {
    "clientId": "client_id",
    "clientSecret": "client_secret",
    "apiServer": "api_server",
    "activeEnvironment": "environment",
    "queryServer": "query_server",
    "branch": "branch",
    "deploymentTag": "deployment_tag",
}
_FIELD_FILE_KEYS: Final[Mapping[str, str]] = {field: key for key, field in _FILE_KEYS.items()}

_LOGIN_FILE_NAMES: Final = (".chalk.yml", ".chalk.yaml")  # the second only when the first is absent
_PROJECT_FILE_NAMES: Final = ("chalk.yaml", "chalk.yml")  # a folder holding one is a project root
_DEFAULT_ENTRY: Final = "default"


@attrs.frozen
class _LoginLookup:
    """What reading the login file found, and what it tried: the missing-credentials message uses both."""

    path: Path  # the file read, or the first name tried when none exists
    exists: bool
    also_tried: Path | None  # the .chalk.yaml tried because the .chalk.yml did not exist
    keys_tried: tuple[str, ...]  # the tokens[...] keys looked for, in order
    key: str | None  # the entry used
    values: Mapping[str, str]

    @property
    def source(self) -> str:
        return f"{self.path} (tokens[{self.key}])"

    def describe(self, name: str) -> str:
        """Why this file gave no value for field `name`."""
        if not self.exists:
            text = f"the file {self.path} (does not exist"
            if self.also_tried is not None:
                text += f"; nor does {self.also_tried}"
            return text + ")"
        if self.key is None:
            keys = " nor ".join(f"tokens[{key}]" for key in self.keys_tried)
            return f"the file {self.path} (exists, but has no entry {keys})"
        return f"the file {self.path}, entry tokens[{self.key}] (has no {_FIELD_FILE_KEYS[name]})"


def _login_folder(env: Mapping[str, str]) -> Path:
    xdg = (env.get("XDG_CONFIG_HOME") or "").strip()
    # The XDG spec says a relative path is invalid and must be ignored.
    if xdg and os.path.isabs(xdg):
        return Path(xdg)
    home = (env.get("HOME") or "").strip()
    if home:
        return Path(home)
    try:
        return Path.home()
    except RuntimeError:  # no HOME and no password entry: then no file, as if ~ did not exist
        return Path("~")


def _read_login_file(env: Mapping[str, str], cwd: str | os.PathLike[str] | None) -> _LoginLookup:
    folder = _login_folder(env)
    first = folder / _LOGIN_FILE_NAMES[0]
    path, also_tried = first, None
    if not _exists(first):
        also_tried = folder / _LOGIN_FILE_NAMES[1]
        if not _exists(also_tried):
            return _LoginLookup(first, False, also_tried, (), None, {})
        path = also_tried
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ChalkConfigError(f"Cannot read the Chalk login file {path}: {err.strerror or err}") from err
    tokens = _parse_tokens(path, data)
    keys = (*_project_keys(cwd), _DEFAULT_ENTRY)
    for key in keys:
        entry = tokens.get(key)
        if entry is None:
            continue
        if not isinstance(entry, Mapping):
            raise ChalkConfigError(
                f"In {path}, tokens[{key}] must be a mapping of clientId, clientSecret, ...; "
                f"got {type(entry).__name__}"
            )
        values: dict[str, str] = {}
        for file_key, name in _FILE_KEYS.items():
            value = _clean(entry.get(file_key), f"In {path}, tokens[{key}].{file_key}")
            if value is not None:
                values[name] = value
        return _LoginLookup(path, True, also_tried, keys, key, values)
    return _LoginLookup(path, True, also_tried, keys, None, {})


def _exists(path: Path) -> bool:
    try:
        path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as err:
        raise ChalkConfigError(f"Cannot read the Chalk login file {path}: {err.strerror or err}") from err
    return True


def _parse_tokens(path: Path, data: bytes) -> Mapping[object, object]:
    """The file's ``tokens`` mapping (empty when absent or null). Errors never quote the file."""
    import yaml  # here, not at the top: most clients never read a login file

    try:
        document = yaml.safe_load(data)
    # Any failure to parse is the file's fault, whatever yaml raised: a scanner error, a bad encoding,
    # or a ValueError from an impossible date such as 2024-13-45. `from None`: yaml's own message
    # quotes the offending line, which may hold the secret, and a chained cause would print it.
    except Exception as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if isinstance(mark, yaml.Mark) else ""
        raise ChalkConfigError(
            f"The Chalk login file {path} is not valid YAML{at}. Fix it, or run `chalk login` again."
        ) from None
    if document is None:
        return {}
    if not isinstance(document, Mapping):
        raise ChalkConfigError(
            f"The Chalk login file {path} must be a mapping with a `tokens` key; "
            f"got {type(document).__name__}"
        )
    tokens = document.get("tokens")
    if tokens is None:
        return {}
    if not isinstance(tokens, Mapping):
        raise ChalkConfigError(
            f"In {path}, tokens must be a mapping from project folder to credentials; "
            f"got {type(tokens).__name__}"
        )
    return tokens


def _project_keys(cwd: str | os.PathLike[str] | None) -> tuple[str, ...]:
    """The ``tokens`` keys for the project root above `cwd`: its absolute path, then its real path."""
    try:
        start = Path(os.path.abspath(os.getcwd() if cwd is None else cwd))
        for folder in (start, *start.parents):
            if any((folder / name).is_file() for name in _PROJECT_FILE_NAMES):
                keys = [str(folder)]
                real = os.path.realpath(folder)
                if real != keys[0]:
                    keys.append(real)
                return tuple(keys)
    except OSError:
        pass  # an unreadable or deleted folder: no project root, so the default entry
    return ()
