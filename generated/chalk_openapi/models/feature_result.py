from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.chalk_error import ChalkError
    from ..models.feature_meta import FeatureMeta


T = TypeVar("T", bound="FeatureResult")


@_attrs_define
class FeatureResult:
    """
    Attributes:
        field (str): The feature name.
        value (Any | Unset): Any JSON value (null when the feature failed).
        pkey (Any | Unset): The primary key of the entity the value belongs to.
        error (ChalkError | None | Unset):
        ts (None | str | Unset): ISO 8601 time the value was observed at.
        valid (bool | None | Unset):
        meta (FeatureMeta | None | Unset):
    """

    field: str
    value: Any | Unset = UNSET
    pkey: Any | Unset = UNSET
    error: ChalkError | None | Unset = UNSET
    ts: None | str | Unset = UNSET
    valid: bool | None | Unset = UNSET
    meta: FeatureMeta | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.chalk_error import ChalkError
        from ..models.feature_meta import FeatureMeta

        field = self.field

        value = self.value

        pkey = self.pkey

        error: dict[str, Any] | None | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        elif isinstance(self.error, ChalkError):
            error = self.error.to_dict()
        else:
            error = self.error

        ts: None | str | Unset
        if isinstance(self.ts, Unset):
            ts = UNSET
        else:
            ts = self.ts

        valid: bool | None | Unset
        if isinstance(self.valid, Unset):
            valid = UNSET
        else:
            valid = self.valid

        meta: dict[str, Any] | None | Unset
        if isinstance(self.meta, Unset):
            meta = UNSET
        elif isinstance(self.meta, FeatureMeta):
            meta = self.meta.to_dict()
        else:
            meta = self.meta

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "field": field,
            }
        )
        if value is not UNSET:
            field_dict["value"] = value
        if pkey is not UNSET:
            field_dict["pkey"] = pkey
        if error is not UNSET:
            field_dict["error"] = error
        if ts is not UNSET:
            field_dict["ts"] = ts
        if valid is not UNSET:
            field_dict["valid"] = valid
        if meta is not UNSET:
            field_dict["meta"] = meta

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.chalk_error import ChalkError
        from ..models.feature_meta import FeatureMeta

        d = dict(src_dict)
        field = d.pop("field")

        value = d.pop("value", UNSET)

        pkey = d.pop("pkey", UNSET)

        def _parse_error(data: object) -> ChalkError | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                error_type_0 = ChalkError.from_dict(data)

                return error_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ChalkError | None | Unset, data)

        error = _parse_error(d.pop("error", UNSET))

        def _parse_ts(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        ts = _parse_ts(d.pop("ts", UNSET))

        def _parse_valid(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        valid = _parse_valid(d.pop("valid", UNSET))

        def _parse_meta(data: object) -> FeatureMeta | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                meta_type_0 = FeatureMeta.from_dict(data)

                return meta_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FeatureMeta | None | Unset, data)

        meta = _parse_meta(d.pop("meta", UNSET))

        feature_result = cls(
            field=field,
            value=value,
            pkey=pkey,
            error=error,
            ts=ts,
            valid=valid,
            meta=meta,
        )

        feature_result.additional_properties = d
        return feature_result

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
