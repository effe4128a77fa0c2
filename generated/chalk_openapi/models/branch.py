from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.branch_deployment import BranchDeployment


T = TypeVar("T", bound="Branch")


@_attrs_define
class Branch:
    """
    Attributes:
        name (str):
        latest_deployment (None | str | Unset):
        latest_deployment_time (None | str | Unset):
        deployments (list[BranchDeployment] | None | Unset):
    """

    name: str
    latest_deployment: None | str | Unset = UNSET
    latest_deployment_time: None | str | Unset = UNSET
    deployments: list[BranchDeployment] | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        latest_deployment: None | str | Unset
        if isinstance(self.latest_deployment, Unset):
            latest_deployment = UNSET
        else:
            latest_deployment = self.latest_deployment

        latest_deployment_time: None | str | Unset
        if isinstance(self.latest_deployment_time, Unset):
            latest_deployment_time = UNSET
        else:
            latest_deployment_time = self.latest_deployment_time

        deployments: list[dict[str, Any]] | None | Unset
        if isinstance(self.deployments, Unset):
            deployments = UNSET
        elif isinstance(self.deployments, list):
            deployments = []
            for deployments_type_0_item_data in self.deployments:
                deployments_type_0_item = deployments_type_0_item_data.to_dict()
                deployments.append(deployments_type_0_item)

        else:
            deployments = self.deployments

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
            }
        )
        if latest_deployment is not UNSET:
            field_dict["latest_deployment"] = latest_deployment
        if latest_deployment_time is not UNSET:
            field_dict["latest_deployment_time"] = latest_deployment_time
        if deployments is not UNSET:
            field_dict["deployments"] = deployments

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.branch_deployment import BranchDeployment

        d = dict(src_dict)
        name = d.pop("name")

        def _parse_latest_deployment(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        latest_deployment = _parse_latest_deployment(d.pop("latest_deployment", UNSET))

        def _parse_latest_deployment_time(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        latest_deployment_time = _parse_latest_deployment_time(
            d.pop("latest_deployment_time", UNSET)
        )

        def _parse_deployments(data: object) -> list[BranchDeployment] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                deployments_type_0 = []
                _deployments_type_0 = data
                for deployments_type_0_item_data in _deployments_type_0:
                    deployments_type_0_item = BranchDeployment.from_dict(
                        deployments_type_0_item_data
                    )

                    deployments_type_0.append(deployments_type_0_item)

                return deployments_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[BranchDeployment] | None | Unset, data)

        deployments = _parse_deployments(d.pop("deployments", UNSET))

        branch = cls(
            name=name,
            latest_deployment=latest_deployment,
            latest_deployment_time=latest_deployment_time,
            deployments=deployments,
        )

        branch.additional_properties = d
        return branch

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
