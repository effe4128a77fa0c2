from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.upload_features_request_input import UploadFeaturesRequestInput
    from ..models.upload_features_request_meta_type_0 import (
        UploadFeaturesRequestMetaType0,
    )


T = TypeVar("T", bound="UploadFeaturesRequest")


@_attrs_define
class UploadFeaturesRequest:
    """
    Attributes:
        input_ (UploadFeaturesRequestInput): Feature name to a column of values; every column has the same length.
        preview_deployment_id (None | str | Unset):
        correlation_id (None | str | Unset):
        query_name (None | str | Unset):
        meta (None | Unset | UploadFeaturesRequestMetaType0):
    """

    input_: UploadFeaturesRequestInput
    preview_deployment_id: None | str | Unset = UNSET
    correlation_id: None | str | Unset = UNSET
    query_name: None | str | Unset = UNSET
    meta: None | Unset | UploadFeaturesRequestMetaType0 = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.upload_features_request_meta_type_0 import (
            UploadFeaturesRequestMetaType0,
        )

        input_ = self.input_.to_dict()

        preview_deployment_id: None | str | Unset
        if isinstance(self.preview_deployment_id, Unset):
            preview_deployment_id = UNSET
        else:
            preview_deployment_id = self.preview_deployment_id

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

        meta: dict[str, Any] | None | Unset
        if isinstance(self.meta, Unset):
            meta = UNSET
        elif isinstance(self.meta, UploadFeaturesRequestMetaType0):
            meta = self.meta.to_dict()
        else:
            meta = self.meta

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "input": input_,
            }
        )
        if preview_deployment_id is not UNSET:
            field_dict["preview_deployment_id"] = preview_deployment_id
        if correlation_id is not UNSET:
            field_dict["correlation_id"] = correlation_id
        if query_name is not UNSET:
            field_dict["query_name"] = query_name
        if meta is not UNSET:
            field_dict["meta"] = meta

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.upload_features_request_input import UploadFeaturesRequestInput
        from ..models.upload_features_request_meta_type_0 import (
            UploadFeaturesRequestMetaType0,
        )

        d = dict(src_dict)
        input_ = UploadFeaturesRequestInput.from_dict(d.pop("input"))

        def _parse_preview_deployment_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        preview_deployment_id = _parse_preview_deployment_id(
            d.pop("preview_deployment_id", UNSET)
        )

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

        def _parse_meta(data: object) -> None | Unset | UploadFeaturesRequestMetaType0:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                meta_type_0 = UploadFeaturesRequestMetaType0.from_dict(data)

                return meta_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UploadFeaturesRequestMetaType0, data)

        meta = _parse_meta(d.pop("meta", UNSET))

        upload_features_request = cls(
            input_=input_,
            preview_deployment_id=preview_deployment_id,
            correlation_id=correlation_id,
            query_name=query_name,
            meta=meta,
        )

        upload_features_request.additional_properties = d
        return upload_features_request

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
