from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.token_response_engines_type_0 import TokenResponseEnginesType0
    from ..models.token_response_environment_id_to_name_type_0 import (
        TokenResponseEnvironmentIdToNameType0,
    )
    from ..models.token_response_grpc_engines_type_0 import (
        TokenResponseGrpcEnginesType0,
    )


T = TypeVar("T", bound="TokenResponse")


@_attrs_define
class TokenResponse:
    """
    Attributes:
        access_token (str): The bearer token (a JWT).
        token_type (str | Unset): Usually `Bearer`.
        expires_in (int | Unset): Lifetime in seconds, counted from when the request was made.
        expires_at (str | Unset): RFC 3339 timestamp of the expiry. May be absent. Declared as a plain string so that a
            value that does not parse falls back to `expires_in` instead of failing the whole answer.
        api_server (None | str | Unset): The API server this token belongs to.
        primary_environment (None | str | Unset): The token's default environment id.
        engines (None | TokenResponseEnginesType0 | Unset): Environment id to the HTTP URL of its query engine.
        grpc_engines (None | TokenResponseGrpcEnginesType0 | Unset): Environment id to the gRPC URL of its query engine.
        environment_id_to_name (None | TokenResponseEnvironmentIdToNameType0 | Unset): Environment id to its name.
    """

    access_token: str
    token_type: str | Unset = UNSET
    expires_in: int | Unset = UNSET
    expires_at: str | Unset = UNSET
    api_server: None | str | Unset = UNSET
    primary_environment: None | str | Unset = UNSET
    engines: None | TokenResponseEnginesType0 | Unset = UNSET
    grpc_engines: None | TokenResponseGrpcEnginesType0 | Unset = UNSET
    environment_id_to_name: None | TokenResponseEnvironmentIdToNameType0 | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.token_response_engines_type_0 import TokenResponseEnginesType0
        from ..models.token_response_environment_id_to_name_type_0 import (
            TokenResponseEnvironmentIdToNameType0,
        )
        from ..models.token_response_grpc_engines_type_0 import (
            TokenResponseGrpcEnginesType0,
        )

        access_token = self.access_token

        token_type = self.token_type

        expires_in = self.expires_in

        expires_at = self.expires_at

        api_server: None | str | Unset
        if isinstance(self.api_server, Unset):
            api_server = UNSET
        else:
            api_server = self.api_server

        primary_environment: None | str | Unset
        if isinstance(self.primary_environment, Unset):
            primary_environment = UNSET
        else:
            primary_environment = self.primary_environment

        engines: dict[str, Any] | None | Unset
        if isinstance(self.engines, Unset):
            engines = UNSET
        elif isinstance(self.engines, TokenResponseEnginesType0):
            engines = self.engines.to_dict()
        else:
            engines = self.engines

        grpc_engines: dict[str, Any] | None | Unset
        if isinstance(self.grpc_engines, Unset):
            grpc_engines = UNSET
        elif isinstance(self.grpc_engines, TokenResponseGrpcEnginesType0):
            grpc_engines = self.grpc_engines.to_dict()
        else:
            grpc_engines = self.grpc_engines

        environment_id_to_name: dict[str, Any] | None | Unset
        if isinstance(self.environment_id_to_name, Unset):
            environment_id_to_name = UNSET
        elif isinstance(
            self.environment_id_to_name, TokenResponseEnvironmentIdToNameType0
        ):
            environment_id_to_name = self.environment_id_to_name.to_dict()
        else:
            environment_id_to_name = self.environment_id_to_name

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "access_token": access_token,
            }
        )
        if token_type is not UNSET:
            field_dict["token_type"] = token_type
        if expires_in is not UNSET:
            field_dict["expires_in"] = expires_in
        if expires_at is not UNSET:
            field_dict["expires_at"] = expires_at
        if api_server is not UNSET:
            field_dict["api_server"] = api_server
        if primary_environment is not UNSET:
            field_dict["primary_environment"] = primary_environment
        if engines is not UNSET:
            field_dict["engines"] = engines
        if grpc_engines is not UNSET:
            field_dict["grpc_engines"] = grpc_engines
        if environment_id_to_name is not UNSET:
            field_dict["environment_id_to_name"] = environment_id_to_name

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.token_response_engines_type_0 import TokenResponseEnginesType0
        from ..models.token_response_environment_id_to_name_type_0 import (
            TokenResponseEnvironmentIdToNameType0,
        )
        from ..models.token_response_grpc_engines_type_0 import (
            TokenResponseGrpcEnginesType0,
        )

        d = dict(src_dict)
        access_token = d.pop("access_token")

        token_type = d.pop("token_type", UNSET)

        expires_in = d.pop("expires_in", UNSET)

        expires_at = d.pop("expires_at", UNSET)

        def _parse_api_server(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        api_server = _parse_api_server(d.pop("api_server", UNSET))

        def _parse_primary_environment(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        primary_environment = _parse_primary_environment(
            d.pop("primary_environment", UNSET)
        )

        def _parse_engines(data: object) -> None | TokenResponseEnginesType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                engines_type_0 = TokenResponseEnginesType0.from_dict(data)

                return engines_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | TokenResponseEnginesType0 | Unset, data)

        engines = _parse_engines(d.pop("engines", UNSET))

        def _parse_grpc_engines(
            data: object,
        ) -> None | TokenResponseGrpcEnginesType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                grpc_engines_type_0 = TokenResponseGrpcEnginesType0.from_dict(data)

                return grpc_engines_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | TokenResponseGrpcEnginesType0 | Unset, data)

        grpc_engines = _parse_grpc_engines(d.pop("grpc_engines", UNSET))

        def _parse_environment_id_to_name(
            data: object,
        ) -> None | TokenResponseEnvironmentIdToNameType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                environment_id_to_name_type_0 = (
                    TokenResponseEnvironmentIdToNameType0.from_dict(data)
                )

                return environment_id_to_name_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | TokenResponseEnvironmentIdToNameType0 | Unset, data)

        environment_id_to_name = _parse_environment_id_to_name(
            d.pop("environment_id_to_name", UNSET)
        )

        token_response = cls(
            access_token=access_token,
            token_type=token_type,
            expires_in=expires_in,
            expires_at=expires_at,
            api_server=api_server,
            primary_environment=primary_environment,
            engines=engines,
            grpc_engines=grpc_engines,
            environment_id_to_name=environment_id_to_name,
        )

        token_response.additional_properties = d
        return token_response

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
