"""The sync and async twins cannot drift: the same public methods, signatures and documented sections.

``ChalkClient``/``AsyncChalkClient`` and ``OfflineQuery``/``AsyncOfflineQuery`` must offer the same
methods with the same parameters (names, kinds, defaults, annotations) and docstrings with the same
sections and the same documented arguments. The one exemption: ``AsyncChalkClient.close()``, a
coroutine alias of ``aclose()`` (the twin of ``ChalkClient.close()``).
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest

from chalk_client import AsyncChalkClient, AsyncOfflineQuery, ChalkClient, OfflineQuery

TWINS = [(ChalkClient, AsyncChalkClient), (OfflineQuery, AsyncOfflineQuery)]
# The sync name -> the async name, where they differ.
RENAMED = {"close": "aclose", "__enter__": "__aenter__", "__exit__": "__aexit__"}
EXEMPT_ASYNC = {"close"}  # AsyncChalkClient.close(): the alias of aclose()
_SECTION = re.compile(r"^\s*(Args|Returns|Raises|Example|Examples|Attributes|Yields):{1,2}\s*$", re.M)


def _public(cls: type) -> dict[str, Any]:
    """The public methods of `cls`, its own and those of its bases (the bulk methods' mixin)."""
    members: dict[str, Any] = {}
    for klass in reversed(cls.__mro__[:-1]):  # not object's
        members.update(vars(klass))
    return {
        name: member
        for name, member in members.items()
        if callable(member) and (not name.startswith("_") or name in RENAMED.values() or name in RENAMED)
    }


def _parameters(function: Any) -> list[tuple[str, Any, Any, str]]:
    signature = inspect.signature(function)
    return [(p.name, p.kind, p.default, str(p.annotation)) for p in signature.parameters.values()]


def _sections(function: Any) -> tuple[list[str], list[str]]:
    """The docstring's section headers, and the argument names its ``Args:`` section documents."""
    doc = inspect.getdoc(function) or ""
    sections = _SECTION.findall(doc)
    args: list[str] = []
    inside = False
    for line in doc.splitlines():
        if _SECTION.match(line):
            inside = line.strip().startswith("Args:")
            continue
        match = re.match(r"^    (\w+):", line)
        if inside and match:
            args.append(match.group(1))
    return sections, args


@pytest.mark.parametrize(("sync", "async_"), TWINS, ids=["clients", "job handles"])
def test_the_twins_offer_the_same_methods(sync: type, async_: type) -> None:
    sync_names = {RENAMED.get(name, name) for name in _public(sync)}
    async_names = set(_public(async_)) - (EXEMPT_ASYNC if async_ is AsyncChalkClient else set())
    assert sync_names == async_names


@pytest.mark.parametrize(("sync", "async_"), TWINS, ids=["clients", "job handles"])
def test_each_method_has_the_same_signature_and_documented_sections(sync: type, async_: type) -> None:
    async_methods = _public(async_)
    drift = []
    for name, method in _public(sync).items():
        twin = async_methods[RENAMED.get(name, name)]
        if _parameters(method) != _parameters(twin):
            drift.append(f"{name}: parameters {_parameters(method)} != {_parameters(twin)}")
        if _sections(method) != _sections(twin):
            drift.append(f"{name}: docstring sections {_sections(method)} != {_sections(twin)}")
    assert drift == []
