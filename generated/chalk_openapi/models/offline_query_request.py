from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.offline_query_input import OfflineQueryInput


T = TypeVar("T", bound="OfflineQueryRequest")


@_attrs_define
class OfflineQueryRequest:
    """
    Attributes:
        output (list[str]): Features to compute; a row missing one of them still appears, with null.
        required_output (list[str] | Unset): Features every row must have; rows missing one are dropped.
        input_ (None | OfflineQueryInput | Unset):
        dataset_name (None | str | Unset):
        branch (None | str | Unset):
        max_samples (int | None | Unset):
        recompute_features (bool | None | Unset):
        observed_at_lower_bound (None | str | Unset): ISO 8601 time; only values observed at or after it.
        observed_at_upper_bound (None | str | Unset): ISO 8601 time; only values observed before it.
        tags (list[str] | None | Unset):
        correlation_id (None | str | Unset):
        destination_format (None | str | Unset): `PARQUET`, the only format the SDK asks for.
    """

    output: list[str]
    required_output: list[str] | Unset = UNSET
    input_: None | OfflineQueryInput | Unset = UNSET
    dataset_name: None | str | Unset = UNSET
    branch: None | str | Unset = UNSET
    max_samples: int | None | Unset = UNSET
    recompute_features: bool | None | Unset = UNSET
    observed_at_lower_bound: None | str | Unset = UNSET
    observed_at_upper_bound: None | str | Unset = UNSET
    tags: list[str] | None | Unset = UNSET
    correlation_id: None | str | Unset = UNSET
    destination_format: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.offline_query_input import OfflineQueryInput

        output = self.output

        required_output: list[str] | Unset = UNSET
        if not isinstance(self.required_output, Unset):
            required_output = self.required_output

        input_: dict[str, Any] | None | Unset
        if isinstance(self.input_, Unset):
            input_ = UNSET
        elif isinstance(self.input_, OfflineQueryInput):
            input_ = self.input_.to_dict()
        else:
            input_ = self.input_

        dataset_name: None | str | Unset
        if isinstance(self.dataset_name, Unset):
            dataset_name = UNSET
        else:
            dataset_name = self.dataset_name

        branch: None | str | Unset
        if isinstance(self.branch, Unset):
            branch = UNSET
        else:
            branch = self.branch

        max_samples: int | None | Unset
        if isinstance(self.max_samples, Unset):
            max_samples = UNSET
        else:
            max_samples = self.max_samples

        recompute_features: bool | None | Unset
        if isinstance(self.recompute_features, Unset):
            recompute_features = UNSET
        else:
            recompute_features = self.recompute_features

        observed_at_lower_bound: None | str | Unset
        if isinstance(self.observed_at_lower_bound, Unset):
            observed_at_lower_bound = UNSET
        else:
            observed_at_lower_bound = self.observed_at_lower_bound

        observed_at_upper_bound: None | str | Unset
        if isinstance(self.observed_at_upper_bound, Unset):
            observed_at_upper_bound = UNSET
        else:
            observed_at_upper_bound = self.observed_at_upper_bound

        tags: list[str] | None | Unset
        if isinstance(self.tags, Unset):
            tags = UNSET
        elif isinstance(self.tags, list):
            tags = self.tags

        else:
            tags = self.tags

        correlation_id: None | str | Unset
        if isinstance(self.correlation_id, Unset):
            correlation_id = UNSET
        else:
            correlation_id = self.correlation_id

        destination_format: None | str | Unset
        if isinstance(self.destination_format, Unset):
            destination_format = UNSET
        else:
            destination_format = self.destination_format

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "output": output,
            }
        )
        if required_output is not UNSET:
            field_dict["required_output"] = required_output
        if input_ is not UNSET:
            field_dict["input"] = input_
        if dataset_name is not UNSET:
            field_dict["dataset_name"] = dataset_name
        if branch is not UNSET:
            field_dict["branch"] = branch
        if max_samples is not UNSET:
            field_dict["max_samples"] = max_samples
        if recompute_features is not UNSET:
            field_dict["recompute_features"] = recompute_features
        if observed_at_lower_bound is not UNSET:
            field_dict["observed_at_lower_bound"] = observed_at_lower_bound
        if observed_at_upper_bound is not UNSET:
            field_dict["observed_at_upper_bound"] = observed_at_upper_bound
        if tags is not UNSET:
            field_dict["tags"] = tags
        if correlation_id is not UNSET:
            field_dict["correlation_id"] = correlation_id
        if destination_format is not UNSET:
            field_dict["destination_format"] = destination_format

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.offline_query_input import OfflineQueryInput

        d = dict(src_dict)
        output = cast(list[str], d.pop("output"))

        required_output = cast(list[str], d.pop("required_output", UNSET))

        def _parse_input_(data: object) -> None | OfflineQueryInput | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                input_type_0 = OfflineQueryInput.from_dict(data)

                return input_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | OfflineQueryInput | Unset, data)

        input_ = _parse_input_(d.pop("input", UNSET))

        def _parse_dataset_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        dataset_name = _parse_dataset_name(d.pop("dataset_name", UNSET))

        def _parse_branch(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        branch = _parse_branch(d.pop("branch", UNSET))

        def _parse_max_samples(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        max_samples = _parse_max_samples(d.pop("max_samples", UNSET))

        def _parse_recompute_features(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        recompute_features = _parse_recompute_features(
            d.pop("recompute_features", UNSET)
        )

        def _parse_observed_at_lower_bound(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        observed_at_lower_bound = _parse_observed_at_lower_bound(
            d.pop("observed_at_lower_bound", UNSET)
        )

        def _parse_observed_at_upper_bound(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        observed_at_upper_bound = _parse_observed_at_upper_bound(
            d.pop("observed_at_upper_bound", UNSET)
        )

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

        def _parse_correlation_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        correlation_id = _parse_correlation_id(d.pop("correlation_id", UNSET))

        def _parse_destination_format(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        destination_format = _parse_destination_format(
            d.pop("destination_format", UNSET)
        )

        offline_query_request = cls(
            output=output,
            required_output=required_output,
            input_=input_,
            dataset_name=dataset_name,
            branch=branch,
            max_samples=max_samples,
            recompute_features=recompute_features,
            observed_at_lower_bound=observed_at_lower_bound,
            observed_at_upper_bound=observed_at_upper_bound,
            tags=tags,
            correlation_id=correlation_id,
            destination_format=destination_format,
        )

        offline_query_request.additional_properties = d
        return offline_query_request

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
