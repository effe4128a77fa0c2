from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.persistence_settings import PersistenceSettings


T = TypeVar("T", bound="TriggerRunRequest")


@_attrs_define
class TriggerRunRequest:
    """
    Attributes:
        resolver_fqn (str):
        lower_bound (None | str | Unset): ISO 8601 time; only rows observed at or after it.
        upper_bound (None | str | Unset): ISO 8601 time; only rows observed before it.
        timestamping_mode (None | str | Unset): `feature_time` or `online_store_write_time`.
        persistence_settings (None | PersistenceSettings | Unset):
        idempotency_key (None | str | Unset): Triggers with the same key start one run.
    """

    resolver_fqn: str
    lower_bound: None | str | Unset = UNSET
    upper_bound: None | str | Unset = UNSET
    timestamping_mode: None | str | Unset = UNSET
    persistence_settings: None | PersistenceSettings | Unset = UNSET
    idempotency_key: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.persistence_settings import PersistenceSettings

        resolver_fqn = self.resolver_fqn

        lower_bound: None | str | Unset
        if isinstance(self.lower_bound, Unset):
            lower_bound = UNSET
        else:
            lower_bound = self.lower_bound

        upper_bound: None | str | Unset
        if isinstance(self.upper_bound, Unset):
            upper_bound = UNSET
        else:
            upper_bound = self.upper_bound

        timestamping_mode: None | str | Unset
        if isinstance(self.timestamping_mode, Unset):
            timestamping_mode = UNSET
        else:
            timestamping_mode = self.timestamping_mode

        persistence_settings: dict[str, Any] | None | Unset
        if isinstance(self.persistence_settings, Unset):
            persistence_settings = UNSET
        elif isinstance(self.persistence_settings, PersistenceSettings):
            persistence_settings = self.persistence_settings.to_dict()
        else:
            persistence_settings = self.persistence_settings

        idempotency_key: None | str | Unset
        if isinstance(self.idempotency_key, Unset):
            idempotency_key = UNSET
        else:
            idempotency_key = self.idempotency_key

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "resolver_fqn": resolver_fqn,
            }
        )
        if lower_bound is not UNSET:
            field_dict["lower_bound"] = lower_bound
        if upper_bound is not UNSET:
            field_dict["upper_bound"] = upper_bound
        if timestamping_mode is not UNSET:
            field_dict["timestamping_mode"] = timestamping_mode
        if persistence_settings is not UNSET:
            field_dict["persistence_settings"] = persistence_settings
        if idempotency_key is not UNSET:
            field_dict["idempotency_key"] = idempotency_key

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.persistence_settings import PersistenceSettings

        d = dict(src_dict)
        resolver_fqn = d.pop("resolver_fqn")

        def _parse_lower_bound(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        lower_bound = _parse_lower_bound(d.pop("lower_bound", UNSET))

        def _parse_upper_bound(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        upper_bound = _parse_upper_bound(d.pop("upper_bound", UNSET))

        def _parse_timestamping_mode(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        timestamping_mode = _parse_timestamping_mode(d.pop("timestamping_mode", UNSET))

        def _parse_persistence_settings(
            data: object,
        ) -> None | PersistenceSettings | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                persistence_settings_type_0 = PersistenceSettings.from_dict(data)

                return persistence_settings_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PersistenceSettings | Unset, data)

        persistence_settings = _parse_persistence_settings(
            d.pop("persistence_settings", UNSET)
        )

        def _parse_idempotency_key(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        idempotency_key = _parse_idempotency_key(d.pop("idempotency_key", UNSET))

        trigger_run_request = cls(
            resolver_fqn=resolver_fqn,
            lower_bound=lower_bound,
            upper_bound=upper_bound,
            timestamping_mode=timestamping_mode,
            persistence_settings=persistence_settings,
            idempotency_key=idempotency_key,
        )

        trigger_run_request.additional_properties = d
        return trigger_run_request

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
