from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="FeatureDropRequest")


@_attrs_define
class FeatureDropRequest:
    """
    Attributes:
        namespace (str):
        features (list[str]): Names within the namespace.
        retain_offline (bool | Unset):
        retain_online (bool | Unset):
    """

    namespace: str
    features: list[str]
    retain_offline: bool | Unset = UNSET
    retain_online: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        namespace = self.namespace

        features = self.features

        retain_offline = self.retain_offline

        retain_online = self.retain_online

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "namespace": namespace,
                "features": features,
            }
        )
        if retain_offline is not UNSET:
            field_dict["retain_offline"] = retain_offline
        if retain_online is not UNSET:
            field_dict["retain_online"] = retain_online

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        namespace = d.pop("namespace")

        features = cast(list[str], d.pop("features"))

        retain_offline = d.pop("retain_offline", UNSET)

        retain_online = d.pop("retain_online", UNSET)

        feature_drop_request = cls(
            namespace=namespace,
            features=features,
            retain_offline=retain_offline,
            retain_online=retain_online,
        )

        feature_drop_request.additional_properties = d
        return feature_drop_request

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
