"""What the data-plane calls return: typed, read-only results built from the server's JSON.

:class:`OnlineQueryResult` keeps the decoded answer as it came and builds a
:class:`FeatureResult` only for the features a caller reads, so parsing a large answer costs
little more than decoding its JSON. Per-feature and request-level errors are parsed at once (they
are few), so ``errors`` and ``raise_for_errors()`` never meet a malformed entry late.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Self

import attrs

from chalk_client._core.errors import ChalkResultError, ChalkSDKError
from chalk_client._core.token import parse_rfc3339

if TYPE_CHECKING:
    from chalk_client._core.server_errors import ChalkServerErrorInfo

__all__ = [
    "Branch",
    "ChalkMissingFeatureError",
    "FeatureResult",
    "OnlineQueryResult",
    "QueryMeta",
    "ResolverRun",
    "UploadResult",
    "WhoAmI",
]

_MISSING: Final = object()
_FINISHED_RUN_STATUSES: Final = frozenset({"succeeded", "failed"})


class ChalkMissingFeatureError(ChalkSDKError, KeyError):
    """The result holds no value for this feature (it was not asked for, or the server left it out).

    The message says why when the answer does (a ``RESOLVER_NOT_FOUND`` for the feature), and
    suggests close names from the answer and the query's outputs.

    Attributes:
        feature: The feature that was asked for, when known.
        error: The server's error about that feature (e.g. ``RESOLVER_NOT_FOUND``), if it sent one.
        suggestions: Close names from the answer and the query's outputs, closest first.
    """

    def __init__(
        self,
        message: str,
        *,
        feature: str | None = None,
        error: ChalkServerErrorInfo | None = None,
        suggestions: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.feature = feature
        self.error = error
        self.suggestions = list(suggestions)

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@attrs.frozen
class FeatureResult:
    """One feature of an online query answer.

    Attributes:
        feature: The feature name, e.g. ``"user.credit_score"``.
        value: The value (any JSON); None when the feature failed.
        primary_key: The primary key of the entity the value belongs to.
        error: The server's error for this feature, or None.
        timestamp: When the value was observed, if the server said (aware).
        cache_hit: Whether it came from the online store, when the query asked for ``include_meta``.
        resolver: The resolver that computed it, when the query asked for ``include_meta``.
        valid: The server's validity flag, if it sent one.
    """

    feature: str
    value: Any
    primary_key: Any = None
    error: ChalkServerErrorInfo | None = None
    timestamp: datetime | None = None
    cache_hit: bool | None = None
    resolver: str | None = None
    valid: bool | None = None


@attrs.frozen
class QueryMeta:
    """Facts about how the server ran a query (sent when ``include_meta=True``).

    Attributes:
        execution_duration_s: Seconds the server spent.
        deployment_id: The deployment that answered.
        environment_id: The environment id.
        environment_name: The environment name.
        query_id: The query's id, to quote to support.
        query_timestamp: The query's time, as the server sent it.
        query_hash: A hash of the query plan.
        explain_output: The plan, when ``explain=True`` (any JSON).
    """

    execution_duration_s: float | None = None
    deployment_id: str | None = None
    environment_id: str | None = None
    environment_name: str | None = None
    query_id: str | None = None
    query_timestamp: str | None = None
    query_hash: str | None = None
    explain_output: Any = None


class OnlineQueryResult:
    """The answer to :meth:`ChalkClient.query`.

    Errors inside a 200 answer (a resolver that failed for this entity) are kept here, not raised:
    read ``errors``, or call :meth:`raise_for_errors`.

    Example::

        result = client.query(input={"user.id": 1}, output=["user.name", "user.credit_score"])
        result.get_value("user.name")           # 'Ada Lovelace'
        result.get("user.credit_score").error   # None, or the server's ChalkServerErrorInfo
        {f.feature: f.value for f in result}    # iteration yields FeatureResult
        result.raise_for_errors().to_dict()     # {'user.name': ..., 'user.credit_score': ...}
    """

    __slots__ = ("_data", "_feature_errors", "_index", "_meta", "_outputs", "_request_errors", "_trace")

    def __init__(
        self,
        data: Sequence[Mapping[str, Any]],
        *,
        feature_errors: Mapping[int, ChalkServerErrorInfo] | None = None,
        request_errors: Sequence[ChalkServerErrorInfo] = (),
        meta: QueryMeta | None = None,
        trace: str | None = None,
        outputs: Sequence[str] = (),
    ) -> None:
        self._data = data
        self._outputs = tuple(outputs)  # what the query asked for: close names for a missing one
        self._feature_errors: Mapping[int, ChalkServerErrorInfo] = feature_errors or {}
        self._request_errors = list(request_errors)
        self._meta = meta
        self._trace = trace
        self._index: dict[str, int] | None = None

    # -- reading values ------------------------------------------------------------------------

    def get(self, feature: str) -> FeatureResult:
        """The value of `feature` with its primary key, error, timestamp, cache hit and resolver.

        Raises:
            ChalkMissingFeatureError: the answer has no entry for `feature` (also a KeyError).
        """
        position = self._position(feature)
        if position is None:
            raise self._missing(feature)
        return self._feature(position)

    def get_value(self, feature: str, default: Any = _MISSING) -> Any:  # noqa: ANN401 - any JSON value
        """The value of `feature` (None when it failed); `default` if the answer has no entry for it.

        Raises:
            ChalkMissingFeatureError: no entry for `feature`, and no `default` given.
        """
        position = self._position(feature)
        if position is None:
            if default is not _MISSING:
                return default
            raise self._missing(feature)
        return self._data[position].get("value")

    def __iter__(self) -> Iterator[FeatureResult]:
        """Each feature of the answer, in the server's order."""
        return (self._feature(i) for i in range(len(self._data)))

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, feature: object) -> bool:
        return isinstance(feature, str) and self._position(feature) is not None

    @property
    def features(self) -> list[str]:
        """The feature names in the answer, in the server's order."""
        return [item["field"] for item in self._data]

    def to_dict(self) -> dict[str, Any]:
        """``{feature name: value}`` for every feature in the answer."""
        return {item["field"]: item.get("value") for item in self._data}

    # -- errors and facts ----------------------------------------------------------------------

    @property
    def errors(self) -> list[ChalkServerErrorInfo]:
        """Every error the answer reported: request-level ones first, then one per failed feature."""
        return [*self._request_errors, *(self._feature_errors[i] for i in sorted(self._feature_errors))]

    @property
    def meta(self) -> QueryMeta | None:
        """How the server ran the query, when it was asked with ``include_meta=True``."""
        return self._meta

    @property
    def trace(self) -> str | None:
        """The trace id of the answer, when the server sent one."""
        return self._trace

    def raise_for_errors(self) -> Self:
        """Raise :class:`ChalkResultError` if the answer reported any error; else return self."""
        errors = self.errors
        if errors:
            raise ChalkResultError("the online query", errors, trace=self._trace)
        return self

    def __repr__(self) -> str:
        return f"<OnlineQueryResult features={len(self._data)} errors={len(self.errors)}>"

    # -- helpers -------------------------------------------------------------------------------

    def _position(self, feature: str) -> int | None:
        index = self._index
        if index is None:
            index = {}
            for i, item in enumerate(self._data):
                index.setdefault(item["field"], i)  # the first entry wins if a name repeats
            self._index = index
        return index.get(feature)

    def _feature(self, position: int) -> FeatureResult:
        item = self._data[position]
        meta = item.get("meta")
        meta = meta if isinstance(meta, Mapping) else {}
        cache_hit = meta.get("cache_hit")
        resolver = meta.get("chosen_resolver_fqn")
        valid = item.get("valid")
        return FeatureResult(
            feature=item["field"],
            value=item.get("value"),
            primary_key=item.get("pkey"),
            error=self._feature_errors.get(position),
            timestamp=parse_rfc3339(item.get("ts")),
            cache_hit=cache_hit if isinstance(cache_hit, bool) else None,
            resolver=resolver if isinstance(resolver, str) else None,
            valid=valid if isinstance(valid, bool) else None,
        )

    def _missing(self, feature: str) -> ChalkMissingFeatureError:
        """The error for a feature the answer has no entry for: why, when the answer says, and
        close names from the answer and the query's outputs."""
        names = self.features
        error = next((e for e in self.errors if isinstance(e.feature, str) and e.feature == feature), None)
        if error is not None:
            code = str(getattr(error.code, "value", error.code))
            text = f"the answer has no feature {feature!r}: the server reported {code} for it ({error.message!s})"
        elif self._outputs and feature not in self._outputs:
            text = f"the answer has no feature {feature!r}: the query did not ask for it"
        else:
            text = f"the answer has no feature {feature!r}"
        known = [name for name in dict.fromkeys((*names, *self._outputs)) if name != feature]
        suggestions = _close_names(feature, known)
        sentences = [f"{text}."]
        if suggestions:
            sentences.append(f"Did you mean {' or '.join(repr(name) for name in suggestions)}?")
        shown = ", ".join(names[:10]) + (f", and {len(names) - 10} more" if len(names) > 10 else "")
        sentences.append(f"The answer has: {shown or 'no features'}.")
        text = " ".join(sentences)
        return ChalkMissingFeatureError(text, feature=feature, error=error, suggestions=suggestions)


def _close_names(feature: str, known: Sequence[str], *, limit: int = 3) -> list[str]:
    """The names in `known` that look like `feature`, closest first (:mod:`difflib`'s ratio).

    Names of the same namespace are compared by their last part: every ``user.*`` name shares
    ``user.``, which would make ``user.age`` look close to ``user.nmae``.
    """
    namespace, _, attribute = feature.rpartition(".")
    matcher = difflib.SequenceMatcher(autojunk=False)
    scored: list[tuple[float, int, str]] = []
    for order, name in enumerate(known):
        other_namespace, _, other_attribute = name.rpartition(".")
        if namespace and namespace == other_namespace:
            matcher.set_seqs(attribute, other_attribute)
        else:
            matcher.set_seqs(feature, name)
        ratio = matcher.ratio()
        if ratio >= _CLOSE_ENOUGH:
            scored.append((-ratio, order, name))
    return [name for _, _, name in sorted(scored)[:limit]]


_CLOSE_ENOUGH: Final = 0.6  # difflib.get_close_matches' default cutoff


@attrs.frozen
class UploadResult:
    """What the server reported for :meth:`ChalkClient.upload_features`.

    Attributes:
        rows: How many rows were sent (the length of each column).
        features: The feature names that were sent.
        trace_id: The server's trace id for the upload, when it sent one.
        operation_ids: ``multi_upload_features``: the server's id for each table it stored, in the
            order sent (empty for ``upload_features``).
    """

    rows: int
    features: tuple[str, ...]
    trace_id: str | None = None
    operation_ids: tuple[str, ...] = ()


@attrs.frozen
class Branch:
    """A branch of the environment (:meth:`ChalkClient.get_branches`).

    Attributes:
        name: The branch's name, as ``branch=`` takes it.
        latest_deployment: The id of its newest deployment, when it has one.
        latest_deployment_time: When that deployment was made (aware), when known.
        deployment_ids: Its deployments' ids, as the server listed them.
    """

    name: str
    latest_deployment: str | None = None
    latest_deployment_time: datetime | None = None
    deployment_ids: tuple[str, ...] = ()


@attrs.frozen
class WhoAmI:
    """The identity behind the client's credentials (:meth:`ChalkClient.whoami`).

    Attributes:
        user: The user or service-token id.
        environment_id: The environment the call ran in.
        team_id: The team.
    """

    user: str
    environment_id: str | None = None
    team_id: str | None = None


@attrs.frozen
class ResolverRun:
    """A resolver run (:meth:`ChalkClient.trigger_resolver_run`, :meth:`ChalkClient.get_run_status`).

    Attributes:
        id: The run id.
        status: ``"received"``, ``"succeeded"`` or ``"failed"`` (newer servers may send others).
        idempotency_key: The key the run was triggered with, when this client triggered it.
    """

    id: str
    status: str
    idempotency_key: str | None = None

    @property
    def finished(self) -> bool:
        """Whether the run has ended (succeeded or failed)."""
        return self.status in _FINISHED_RUN_STATUSES
