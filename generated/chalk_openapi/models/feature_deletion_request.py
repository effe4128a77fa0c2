from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="FeatureDeletionRequest")


@_attrs_define
class FeatureDeletionRequest:
    """
    Attributes:
        namespace (str): The feature class, e.g. `user`.
        primary_keys (list[str]):
        features (list[str] | None | Unset): Names within the namespace (`email`, not `user.email`); null for all.
        tags (list[str] | None | Unset):
        retain_offline (bool | Unset):
        retain_online (bool | Unset):
    """

    namespace: str
    primary_keys: list[str]
    features: list[str] | None | Unset = UNSET
    tags: list[str] | None | Unset = UNSET
    retain_offline: bool | Unset = UNSET
    retain_online: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        namespace = self.namespace

        primary_keys = self.primary_keys

        features: list[str] | None | Unset
        if isinstance(self.features, Unset):
            features = UNSET
        elif isinstance(self.features, list):
            features = self.features

        else:
            features = self.features

        tags: list[str] | None | Unset
        if isinstance(self.tags, Unset):
            tags = UNSET
        elif isinstance(self.tags, list):
            tags = self.tags

        else:
            tags = self.tags

        retain_offline = self.retain_offline

        retain_online = self.retain_online

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "namespace": namespace,
                "primary_keys": primary_keys,
            }
        )
        if features is not UNSET:
            field_dict["features"] = features
        if tags is not UNSET:
            field_dict["tags"] = tags
        if retain_offline is not UNSET:
            field_dict["retain_offline"] = retain_offline
        if retain_online is not UNSET:
            field_dict["retain_online"] = retain_online

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        namespace = d.pop("namespace")

        primary_keys = cast(list[str], d.pop("primary_keys"))

        def _parse_features(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                features_type_0 = cast(list[str], data)

                return features_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        features = _parse_features(d.pop("features", UNSET))

        def _parse_tags(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                tags_type_0 = cast(list[str], data)

                return tags_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        tags = _parse_tags(d.pop("tags", UNSET))

        retain_offline = d.pop("retain_offline", UNSET)

        retain_online = d.pop("retain_online", UNSET)

        feature_deletion_request = cls(
            namespace=namespace,
            primary_keys=primary_keys,
            features=features,
            tags=tags,
            retain_offline=retain_offline,
            retain_online=retain_online,
        )

        feature_deletion_request.additional_properties = d
        return feature_deletion_request

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
