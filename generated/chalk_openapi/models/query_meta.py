from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="QueryMeta")


@_attrs_define
class QueryMeta:
    """
    Attributes:
        execution_duration_s (float | None | Unset):
        deployment_id (None | str | Unset):
        environment_id (None | str | Unset):
        environment_name (None | str | Unset):
        query_id (None | str | Unset):
        query_timestamp (None | str | Unset):
        query_hash (None | str | Unset):
        explain_output (Any | Unset): The query plan, when `explain` was asked for (any JSON).
    """

    execution_duration_s: float | None | Unset = UNSET
    deployment_id: None | str | Unset = UNSET
    environment_id: None | str | Unset = UNSET
    environment_name: None | str | Unset = UNSET
    query_id: None | str | Unset = UNSET
    query_timestamp: None | str | Unset = UNSET
    query_hash: None | str | Unset = UNSET
    explain_output: Any | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        execution_duration_s: float | None | Unset
        if isinstance(self.execution_duration_s, Unset):
            execution_duration_s = UNSET
        else:
            execution_duration_s = self.execution_duration_s

        deployment_id: None | str | Unset
        if isinstance(self.deployment_id, Unset):
            deployment_id = UNSET
        else:
            deployment_id = self.deployment_id

        environment_id: None | str | Unset
        if isinstance(self.environment_id, Unset):
            environment_id = UNSET
        else:
            environment_id = self.environment_id

        environment_name: None | str | Unset
        if isinstance(self.environment_name, Unset):
            environment_name = UNSET
        else:
            environment_name = self.environment_name

        query_id: None | str | Unset
        if isinstance(self.query_id, Unset):
            query_id = UNSET
        else:
            query_id = self.query_id

        query_timestamp: None | str | Unset
        if isinstance(self.query_timestamp, Unset):
            query_timestamp = UNSET
        else:
            query_timestamp = self.query_timestamp

        query_hash: None | str | Unset
        if isinstance(self.query_hash, Unset):
            query_hash = UNSET
        else:
            query_hash = self.query_hash

        explain_output = self.explain_output

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if execution_duration_s is not UNSET:
            field_dict["execution_duration_s"] = execution_duration_s
        if deployment_id is not UNSET:
            field_dict["deployment_id"] = deployment_id
        if environment_id is not UNSET:
            field_dict["environment_id"] = environment_id
        if environment_name is not UNSET:
            field_dict["environment_name"] = environment_name
        if query_id is not UNSET:
            field_dict["query_id"] = query_id
        if query_timestamp is not UNSET:
            field_dict["query_timestamp"] = query_timestamp
        if query_hash is not UNSET:
            field_dict["query_hash"] = query_hash
        if explain_output is not UNSET:
            field_dict["explain_output"] = explain_output

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_execution_duration_s(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        execution_duration_s = _parse_execution_duration_s(
            d.pop("execution_duration_s", UNSET)
        )

        def _parse_deployment_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        deployment_id = _parse_deployment_id(d.pop("deployment_id", UNSET))

        def _parse_environment_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        environment_id = _parse_environment_id(d.pop("environment_id", UNSET))

        def _parse_environment_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        environment_name = _parse_environment_name(d.pop("environment_name", UNSET))

        def _parse_query_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        query_id = _parse_query_id(d.pop("query_id", UNSET))

        def _parse_query_timestamp(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        query_timestamp = _parse_query_timestamp(d.pop("query_timestamp", UNSET))

        def _parse_query_hash(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        query_hash = _parse_query_hash(d.pop("query_hash", UNSET))

        explain_output = d.pop("explain_output", UNSET)

        query_meta = cls(
            execution_duration_s=execution_duration_s,
            deployment_id=deployment_id,
            environment_id=environment_id,
            environment_name=environment_name,
            query_id=query_id,
            query_timestamp=query_timestamp,
            query_hash=query_hash,
            explain_output=explain_output,
        )

        query_meta.additional_properties = d
        return query_meta

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
