from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.chalk_error import ChalkError
    from ..models.dataset_revision_filters_type_0 import DatasetRevisionFiltersType0


T = TypeVar("T", bound="DatasetRevision")


@_attrs_define
class DatasetRevision:
    """
    Attributes:
        revision_id (str): The job id, a UUID.
        status (int): 1 pending submission, 2 submitted, 3 running, 4 error, 5 expired, 6 cancelled,
            7 successful. Open set: another number still parses.
        outputs (list[str] | None | Unset):
        created_at (None | str | Unset):
        started_at (None | str | Unset):
        terminated_at (None | str | Unset):
        num_rows (int | None | Unset):
        output_uris (None | str | Unset): Where the revision's result files are (a prefix, not signed); the signed URLs
            come from `/v4/offline_query/status`.
        output_version (int | None | Unset): The result files' format; 6 is parquet with native column names.
        environment_id (None | str | Unset):
        creator_id (None | str | Unset):
        dataset_name (None | str | Unset):
        dataset_id (None | str | Unset): A UUID.
        filters (DatasetRevisionFiltersType0 | None | Unset): `{sample_filters: {lower_bound, upper_bound, max_samples},
            max_cache_age_secs}`.
        num_partitions (int | None | Unset):
        branch (None | str | Unset):
        query_has_errors (bool | None | Unset):
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
    output_uris: None | str | Unset = UNSET
    output_version: int | None | Unset = UNSET
    environment_id: None | str | Unset = UNSET
    creator_id: None | str | Unset = UNSET
    dataset_name: None | str | Unset = UNSET
    dataset_id: None | str | Unset = UNSET
    filters: DatasetRevisionFiltersType0 | None | Unset = UNSET
    num_partitions: int | None | Unset = UNSET
    branch: None | str | Unset = UNSET
    query_has_errors: bool | None | Unset = UNSET
    dashboard_url: None | str | Unset = UNSET
    errors: list[ChalkError] | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.dataset_revision_filters_type_0 import DatasetRevisionFiltersType0

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

        output_uris: None | str | Unset
        if isinstance(self.output_uris, Unset):
            output_uris = UNSET
        else:
            output_uris = self.output_uris

        output_version: int | None | Unset
        if isinstance(self.output_version, Unset):
            output_version = UNSET
        else:
            output_version = self.output_version

        environment_id: None | str | Unset
        if isinstance(self.environment_id, Unset):
            environment_id = UNSET
        else:
            environment_id = self.environment_id

        creator_id: None | str | Unset
        if isinstance(self.creator_id, Unset):
            creator_id = UNSET
        else:
            creator_id = self.creator_id

        dataset_name: None | str | Unset
        if isinstance(self.dataset_name, Unset):
            dataset_name = UNSET
        else:
            dataset_name = self.dataset_name

        dataset_id: None | str | Unset
        if isinstance(self.dataset_id, Unset):
            dataset_id = UNSET
        else:
            dataset_id = self.dataset_id

        filters: dict[str, Any] | None | Unset
        if isinstance(self.filters, Unset):
            filters = UNSET
        elif isinstance(self.filters, DatasetRevisionFiltersType0):
            filters = self.filters.to_dict()
        else:
            filters = self.filters

        num_partitions: int | None | Unset
        if isinstance(self.num_partitions, Unset):
            num_partitions = UNSET
        else:
            num_partitions = self.num_partitions

        branch: None | str | Unset
        if isinstance(self.branch, Unset):
            branch = UNSET
        else:
            branch = self.branch

        query_has_errors: bool | None | Unset
        if isinstance(self.query_has_errors, Unset):
            query_has_errors = UNSET
        else:
            query_has_errors = self.query_has_errors

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
        if output_version is not UNSET:
            field_dict["output_version"] = output_version
        if environment_id is not UNSET:
            field_dict["environment_id"] = environment_id
        if creator_id is not UNSET:
            field_dict["creator_id"] = creator_id
        if dataset_name is not UNSET:
            field_dict["dataset_name"] = dataset_name
        if dataset_id is not UNSET:
            field_dict["dataset_id"] = dataset_id
        if filters is not UNSET:
            field_dict["filters"] = filters
        if num_partitions is not UNSET:
            field_dict["num_partitions"] = num_partitions
        if branch is not UNSET:
            field_dict["branch"] = branch
        if query_has_errors is not UNSET:
            field_dict["query_has_errors"] = query_has_errors
        if dashboard_url is not UNSET:
            field_dict["dashboard_url"] = dashboard_url
        if errors is not UNSET:
            field_dict["errors"] = errors

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.chalk_error import ChalkError
        from ..models.dataset_revision_filters_type_0 import DatasetRevisionFiltersType0

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

        def _parse_output_uris(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        output_uris = _parse_output_uris(d.pop("output_uris", UNSET))

        def _parse_output_version(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        output_version = _parse_output_version(d.pop("output_version", UNSET))

        def _parse_environment_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        environment_id = _parse_environment_id(d.pop("environment_id", UNSET))

        def _parse_creator_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        creator_id = _parse_creator_id(d.pop("creator_id", UNSET))

        def _parse_dataset_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        dataset_name = _parse_dataset_name(d.pop("dataset_name", UNSET))

        def _parse_dataset_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        dataset_id = _parse_dataset_id(d.pop("dataset_id", UNSET))

        def _parse_filters(data: object) -> DatasetRevisionFiltersType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                filters_type_0 = DatasetRevisionFiltersType0.from_dict(data)

                return filters_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(DatasetRevisionFiltersType0 | None | Unset, data)

        filters = _parse_filters(d.pop("filters", UNSET))

        def _parse_num_partitions(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        num_partitions = _parse_num_partitions(d.pop("num_partitions", UNSET))

        def _parse_branch(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        branch = _parse_branch(d.pop("branch", UNSET))

        def _parse_query_has_errors(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        query_has_errors = _parse_query_has_errors(d.pop("query_has_errors", UNSET))

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
            output_version=output_version,
            environment_id=environment_id,
            creator_id=creator_id,
            dataset_name=dataset_name,
            dataset_id=dataset_id,
            filters=filters,
            num_partitions=num_partitions,
            branch=branch,
            query_has_errors=query_has_errors,
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
