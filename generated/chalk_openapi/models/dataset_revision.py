from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.chalk_error import ChalkError


T = TypeVar("T", bound="DatasetRevision")


@_attrs_define
class DatasetRevision:
    """
    Attributes:
        revision_id (str): The job id.
        status (int): 1 pending submission, 2 submitted, 3 running, 4 error, 5 expired, 6 cancelled,
            7 successful. Open set: another number still parses.
        outputs (list[str] | None | Unset):
        created_at (None | str | Unset):
        started_at (None | str | Unset):
        terminated_at (None | str | Unset):
        num_rows (int | None | Unset):
        output_uris (list[str] | None | Unset):
        dashboard_url (None | str | Unset):
        errors (list[ChalkError] | None | Unset):
    """

    revision_id: str
    status: int
    outputs: list[str] | None | Unset = UNSET
    created_at: None | str | Unset = UNSET
    started_at: None | str | Unset = UNSET
    terminated_at: None | str | Unset = UNSET
    num_rows: int | None | Unset = UNSET
    output_uris: list[str] | None | Unset = UNSET
    dashboard_url: None | str | Unset = UNSET
    errors: list[ChalkError] | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        revision_id = self.revision_id

        status = self.status

        outputs: list[str] | None | Unset
        if isinstance(self.outputs, Unset):
            outputs = UNSET
        elif isinstance(self.outputs, list):
            outputs = self.outputs

        else:
            outputs = self.outputs

        created_at: None | str | Unset
        if isinstance(self.created_at, Unset):
            created_at = UNSET
        else:
            created_at = self.created_at

        started_at: None | str | Unset
        if isinstance(self.started_at, Unset):
            started_at = UNSET
        else:
            started_at = self.started_at

        terminated_at: None | str | Unset
        if isinstance(self.terminated_at, Unset):
            terminated_at = UNSET
        else:
            terminated_at = self.terminated_at

        num_rows: int | None | Unset
        if isinstance(self.num_rows, Unset):
            num_rows = UNSET
        else:
            num_rows = self.num_rows

        output_uris: list[str] | None | Unset
        if isinstance(self.output_uris, Unset):
            output_uris = UNSET
        elif isinstance(self.output_uris, list):
            output_uris = self.output_uris

        else:
            output_uris = self.output_uris

        dashboard_url: None | str | Unset
        if isinstance(self.dashboard_url, Unset):
            dashboard_url = UNSET
        else:
            dashboard_url = self.dashboard_url

        errors: list[dict[str, Any]] | None | Unset
        if isinstance(self.errors, Unset):
            errors = UNSET
        elif isinstance(self.errors, list):
            errors = []
            for errors_type_0_item_data in self.errors:
                errors_type_0_item = errors_type_0_item_data.to_dict()
                errors.append(errors_type_0_item)

        else:
            errors = self.errors

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "revision_id": revision_id,
                "status": status,
            }
        )
        if outputs is not UNSET:
            field_dict["outputs"] = outputs
        if created_at is not UNSET:
            field_dict["created_at"] = created_at
        if started_at is not UNSET:
            field_dict["started_at"] = started_at
        if terminated_at is not UNSET:
            field_dict["terminated_at"] = terminated_at
        if num_rows is not UNSET:
            field_dict["num_rows"] = num_rows
        if output_uris is not UNSET:
            field_dict["output_uris"] = output_uris
        if dashboard_url is not UNSET:
            field_dict["dashboard_url"] = dashboard_url
        if errors is not UNSET:
            field_dict["errors"] = errors

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.chalk_error import ChalkError

        d = dict(src_dict)
        revision_id = d.pop("revision_id")

        status = d.pop("status")

        def _parse_outputs(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                outputs_type_0 = cast(list[str], data)

                return outputs_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        outputs = _parse_outputs(d.pop("outputs", UNSET))

        def _parse_created_at(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        created_at = _parse_created_at(d.pop("created_at", UNSET))

        def _parse_started_at(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        started_at = _parse_started_at(d.pop("started_at", UNSET))

        def _parse_terminated_at(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        terminated_at = _parse_terminated_at(d.pop("terminated_at", UNSET))

        def _parse_num_rows(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        num_rows = _parse_num_rows(d.pop("num_rows", UNSET))

        def _parse_output_uris(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                output_uris_type_0 = cast(list[str], data)

                return output_uris_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        output_uris = _parse_output_uris(d.pop("output_uris", UNSET))

        def _parse_dashboard_url(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        dashboard_url = _parse_dashboard_url(d.pop("dashboard_url", UNSET))

        def _parse_errors(data: object) -> list[ChalkError] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                errors_type_0 = []
                _errors_type_0 = data
                for errors_type_0_item_data in _errors_type_0:
                    errors_type_0_item = ChalkError.from_dict(errors_type_0_item_data)

                    errors_type_0.append(errors_type_0_item)

                return errors_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[ChalkError] | None | Unset, data)

        errors = _parse_errors(d.pop("errors", UNSET))

        dataset_revision = cls(
            revision_id=revision_id,
            status=status,
            outputs=outputs,
            created_at=created_at,
            started_at=started_at,
            terminated_at=terminated_at,
            num_rows=num_rows,
            output_uris=output_uris,
            dashboard_url=dashboard_url,
            errors=errors,
        )

        dataset_revision.additional_properties = d
        return dataset_revision

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
