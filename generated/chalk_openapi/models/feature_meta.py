from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="FeatureMeta")


@_attrs_define
class FeatureMeta:
    """
    Attributes:
        chosen_resolver_fqn (None | str | Unset):
        cache_hit (bool | None | Unset):
        primitive_type (None | str | Unset):
        version (int | None | Unset):
    """

    chosen_resolver_fqn: None | str | Unset = UNSET
    cache_hit: bool | None | Unset = UNSET
    primitive_type: None | str | Unset = UNSET
    version: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        chosen_resolver_fqn: None | str | Unset
        if isinstance(self.chosen_resolver_fqn, Unset):
            chosen_resolver_fqn = UNSET
        else:
            chosen_resolver_fqn = self.chosen_resolver_fqn

        cache_hit: bool | None | Unset
        if isinstance(self.cache_hit, Unset):
            cache_hit = UNSET
        else:
            cache_hit = self.cache_hit

        primitive_type: None | str | Unset
        if isinstance(self.primitive_type, Unset):
            primitive_type = UNSET
        else:
            primitive_type = self.primitive_type

        version: int | None | Unset
        if isinstance(self.version, Unset):
            version = UNSET
        else:
            version = self.version

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if chosen_resolver_fqn is not UNSET:
            field_dict["chosen_resolver_fqn"] = chosen_resolver_fqn
        if cache_hit is not UNSET:
            field_dict["cache_hit"] = cache_hit
        if primitive_type is not UNSET:
            field_dict["primitive_type"] = primitive_type
        if version is not UNSET:
            field_dict["version"] = version

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_chosen_resolver_fqn(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        chosen_resolver_fqn = _parse_chosen_resolver_fqn(
            d.pop("chosen_resolver_fqn", UNSET)
        )

        def _parse_cache_hit(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        cache_hit = _parse_cache_hit(d.pop("cache_hit", UNSET))

        def _parse_primitive_type(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        primitive_type = _parse_primitive_type(d.pop("primitive_type", UNSET))

        def _parse_version(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        version = _parse_version(d.pop("version", UNSET))

        feature_meta = cls(
            chosen_resolver_fqn=chosen_resolver_fqn,
            cache_hit=cache_hit,
            primitive_type=primitive_type,
            version=version,
        )

        feature_meta.additional_properties = d
        return feature_meta

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
