from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.online_query_context import OnlineQueryContext
    from ..models.online_query_request_inputs import OnlineQueryRequestInputs
    from ..models.online_query_request_meta_type_0 import OnlineQueryRequestMetaType0
    from ..models.online_query_request_staleness_type_0 import (
        OnlineQueryRequestStalenessType0,
    )


T = TypeVar("T", bound="OnlineQueryRequest")


@_attrs_define
class OnlineQueryRequest:
    """
    Attributes:
        inputs (OnlineQueryRequestInputs): Feature name (e.g. `user.id`) to its value; values are any JSON.
        outputs (list[str]): Feature names to compute.
        now (None | str | Unset): ISO 8601 time (UTC) to compute the features as of.
        staleness (None | OnlineQueryRequestStalenessType0 | Unset): Feature name to the maximum age of a cached value
            (`"1h"`, `"0s"`).
        context (None | OnlineQueryContext | Unset):
        include_meta (bool | Unset):
        explain (bool | Unset):
        correlation_id (None | str | Unset):
        query_name (None | str | Unset):
        query_name_version (None | str | Unset):
        deployment_id (None | str | Unset):
        branch_id (None | str | Unset):
        meta (None | OnlineQueryRequestMetaType0 | Unset):
        store_plan_stages (bool | Unset):
    """

    inputs: OnlineQueryRequestInputs
    outputs: list[str]
    now: None | str | Unset = UNSET
    staleness: None | OnlineQueryRequestStalenessType0 | Unset = UNSET
    context: None | OnlineQueryContext | Unset = UNSET
    include_meta: bool | Unset = UNSET
    explain: bool | Unset = UNSET
    correlation_id: None | str | Unset = UNSET
    query_name: None | str | Unset = UNSET
    query_name_version: None | str | Unset = UNSET
    deployment_id: None | str | Unset = UNSET
    branch_id: None | str | Unset = UNSET
    meta: None | OnlineQueryRequestMetaType0 | Unset = UNSET
    store_plan_stages: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.online_query_context import OnlineQueryContext
        from ..models.online_query_request_meta_type_0 import (
            OnlineQueryRequestMetaType0,
        )
        from ..models.online_query_request_staleness_type_0 import (
            OnlineQueryRequestStalenessType0,
        )

        inputs = self.inputs.to_dict()

        outputs = self.outputs

        now: None | str | Unset
        if isinstance(self.now, Unset):
            now = UNSET
        else:
            now = self.now

        staleness: dict[str, Any] | None | Unset
        if isinstance(self.staleness, Unset):
            staleness = UNSET
        elif isinstance(self.staleness, OnlineQueryRequestStalenessType0):
            staleness = self.staleness.to_dict()
        else:
            staleness = self.staleness

        context: dict[str, Any] | None | Unset
        if isinstance(self.context, Unset):
            context = UNSET
        elif isinstance(self.context, OnlineQueryContext):
            context = self.context.to_dict()
        else:
            context = self.context

        include_meta = self.include_meta

        explain = self.explain

        correlation_id: None | str | Unset
        if isinstance(self.correlation_id, Unset):
            correlation_id = UNSET
        else:
            correlation_id = self.correlation_id

        query_name: None | str | Unset
        if isinstance(self.query_name, Unset):
            query_name = UNSET
        else:
            query_name = self.query_name

        query_name_version: None | str | Unset
        if isinstance(self.query_name_version, Unset):
            query_name_version = UNSET
        else:
            query_name_version = self.query_name_version

        deployment_id: None | str | Unset
        if isinstance(self.deployment_id, Unset):
            deployment_id = UNSET
        else:
            deployment_id = self.deployment_id

        branch_id: None | str | Unset
        if isinstance(self.branch_id, Unset):
            branch_id = UNSET
        else:
            branch_id = self.branch_id

        meta: dict[str, Any] | None | Unset
        if isinstance(self.meta, Unset):
            meta = UNSET
        elif isinstance(self.meta, OnlineQueryRequestMetaType0):
            meta = self.meta.to_dict()
        else:
            meta = self.meta

        store_plan_stages = self.store_plan_stages

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "inputs": inputs,
                "outputs": outputs,
            }
        )
        if now is not UNSET:
            field_dict["now"] = now
        if staleness is not UNSET:
            field_dict["staleness"] = staleness
        if context is not UNSET:
            field_dict["context"] = context
        if include_meta is not UNSET:
            field_dict["include_meta"] = include_meta
        if explain is not UNSET:
            field_dict["explain"] = explain
        if correlation_id is not UNSET:
            field_dict["correlation_id"] = correlation_id
        if query_name is not UNSET:
            field_dict["query_name"] = query_name
        if query_name_version is not UNSET:
            field_dict["query_name_version"] = query_name_version
        if deployment_id is not UNSET:
            field_dict["deployment_id"] = deployment_id
        if branch_id is not UNSET:
            field_dict["branch_id"] = branch_id
        if meta is not UNSET:
            field_dict["meta"] = meta
        if store_plan_stages is not UNSET:
            field_dict["store_plan_stages"] = store_plan_stages

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.online_query_context import OnlineQueryContext
        from ..models.online_query_request_inputs import OnlineQueryRequestInputs
        from ..models.online_query_request_meta_type_0 import (
            OnlineQueryRequestMetaType0,
        )
        from ..models.online_query_request_staleness_type_0 import (
            OnlineQueryRequestStalenessType0,
        )

        d = dict(src_dict)
        inputs = OnlineQueryRequestInputs.from_dict(d.pop("inputs"))

        outputs = cast(list[str], d.pop("outputs"))

        def _parse_now(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        now = _parse_now(d.pop("now", UNSET))

        def _parse_staleness(
            data: object,
        ) -> None | OnlineQueryRequestStalenessType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                staleness_type_0 = OnlineQueryRequestStalenessType0.from_dict(data)

                return staleness_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | OnlineQueryRequestStalenessType0 | Unset, data)

        staleness = _parse_staleness(d.pop("staleness", UNSET))

        def _parse_context(data: object) -> None | OnlineQueryContext | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                context_type_0 = OnlineQueryContext.from_dict(data)

                return context_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | OnlineQueryContext | Unset, data)

        context = _parse_context(d.pop("context", UNSET))

        include_meta = d.pop("include_meta", UNSET)

        explain = d.pop("explain", UNSET)

        def _parse_correlation_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        correlation_id = _parse_correlation_id(d.pop("correlation_id", UNSET))

        def _parse_query_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        query_name = _parse_query_name(d.pop("query_name", UNSET))

        def _parse_query_name_version(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        query_name_version = _parse_query_name_version(
            d.pop("query_name_version", UNSET)
        )

        def _parse_deployment_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        deployment_id = _parse_deployment_id(d.pop("deployment_id", UNSET))

        def _parse_branch_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        branch_id = _parse_branch_id(d.pop("branch_id", UNSET))

        def _parse_meta(data: object) -> None | OnlineQueryRequestMetaType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                meta_type_0 = OnlineQueryRequestMetaType0.from_dict(data)

                return meta_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | OnlineQueryRequestMetaType0 | Unset, data)

        meta = _parse_meta(d.pop("meta", UNSET))

        store_plan_stages = d.pop("store_plan_stages", UNSET)

        online_query_request = cls(
            inputs=inputs,
            outputs=outputs,
            now=now,
            staleness=staleness,
            context=context,
            include_meta=include_meta,
            explain=explain,
            correlation_id=correlation_id,
            query_name=query_name,
            query_name_version=query_name_version,
            deployment_id=deployment_id,
            branch_id=branch_id,
            meta=meta,
            store_plan_stages=store_plan_stages,
        )

        online_query_request.additional_properties = d
        return online_query_request

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
