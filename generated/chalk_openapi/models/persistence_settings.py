from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="PersistenceSettings")


@_attrs_define
class PersistenceSettings:
    """
    Attributes:
        persist_online_storage (bool | None | Unset):
        persist_offline_storage (bool | None | Unset):
    """

    persist_online_storage: bool | None | Unset = UNSET
    persist_offline_storage: bool | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        persist_online_storage: bool | None | Unset
        if isinstance(self.persist_online_storage, Unset):
            persist_online_storage = UNSET
        else:
            persist_online_storage = self.persist_online_storage

        persist_offline_storage: bool | None | Unset
        if isinstance(self.persist_offline_storage, Unset):
            persist_offline_storage = UNSET
        else:
            persist_offline_storage = self.persist_offline_storage

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if persist_online_storage is not UNSET:
            field_dict["persist_online_storage"] = persist_online_storage
        if persist_offline_storage is not UNSET:
            field_dict["persist_offline_storage"] = persist_offline_storage

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)

        def _parse_persist_online_storage(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        persist_online_storage = _parse_persist_online_storage(
            d.pop("persist_online_storage", UNSET)
        )

        def _parse_persist_offline_storage(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        persist_offline_storage = _parse_persist_offline_storage(
            d.pop("persist_offline_storage", UNSET)
        )

        persistence_settings = cls(
            persist_online_storage=persist_online_storage,
            persist_offline_storage=persist_offline_storage,
        )

        persistence_settings.additional_properties = d
        return persistence_settings

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
