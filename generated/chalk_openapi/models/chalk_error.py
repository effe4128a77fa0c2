from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.error_category import ErrorCategory
from ..models.error_code import ErrorCode
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.chalk_exception import ChalkException


T = TypeVar("T", bound="ChalkError")


@_attrs_define
class ChalkError:
    """One error reported by the server, in an error answer or inside a successful one.

    Attributes:
        code (ErrorCode | str): Open set; a code that this spec does not list still parses, as a string.
        message (str):
        category (ErrorCategory | str | Unset): Open set; a category that this spec does not list still parses, as a
            string.
        feature (None | str | Unset):
        resolver (None | str | Unset):
        display_primary_key (None | str | Unset):
        exception (ChalkException | None | Unset):
    """

    code: ErrorCode | str
    message: str
    category: ErrorCategory | str | Unset = UNSET
    feature: None | str | Unset = UNSET
    resolver: None | str | Unset = UNSET
    display_primary_key: None | str | Unset = UNSET
    exception: ChalkException | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.chalk_exception import ChalkException

        code: str
        if isinstance(self.code, ErrorCode):
            code = self.code.value
        else:
            code = self.code

        message = self.message

        category: str | Unset
        if isinstance(self.category, Unset):
            category = UNSET
        elif isinstance(self.category, ErrorCategory):
            category = self.category.value
        else:
            category = self.category

        feature: None | str | Unset
        if isinstance(self.feature, Unset):
            feature = UNSET
        else:
            feature = self.feature

        resolver: None | str | Unset
        if isinstance(self.resolver, Unset):
            resolver = UNSET
        else:
            resolver = self.resolver

        display_primary_key: None | str | Unset
        if isinstance(self.display_primary_key, Unset):
            display_primary_key = UNSET
        else:
            display_primary_key = self.display_primary_key

        exception: dict[str, Any] | None | Unset
        if isinstance(self.exception, Unset):
            exception = UNSET
        elif isinstance(self.exception, ChalkException):
            exception = self.exception.to_dict()
        else:
            exception = self.exception

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "code": code,
                "message": message,
            }
        )
        if category is not UNSET:
            field_dict["category"] = category
        if feature is not UNSET:
            field_dict["feature"] = feature
        if resolver is not UNSET:
            field_dict["resolver"] = resolver
        if display_primary_key is not UNSET:
            field_dict["display_primary_key"] = display_primary_key
        if exception is not UNSET:
            field_dict["exception"] = exception

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.chalk_exception import ChalkException

        d = dict(src_dict)

        def _parse_code(data: object) -> ErrorCode | str:
            try:
                if not isinstance(data, str):
                    raise TypeError()
                code_type_0 = ErrorCode(data)

                return code_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ErrorCode | str, data)

        code = _parse_code(d.pop("code"))

        message = d.pop("message")

        def _parse_category(data: object) -> ErrorCategory | str | Unset:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                category_type_0 = ErrorCategory(data)

                return category_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ErrorCategory | str | Unset, data)

        category = _parse_category(d.pop("category", UNSET))

        def _parse_feature(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        feature = _parse_feature(d.pop("feature", UNSET))

        def _parse_resolver(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        resolver = _parse_resolver(d.pop("resolver", UNSET))

        def _parse_display_primary_key(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        display_primary_key = _parse_display_primary_key(
            d.pop("display_primary_key", UNSET)
        )

        def _parse_exception(data: object) -> ChalkException | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                exception_type_0 = ChalkException.from_dict(data)

                return exception_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ChalkException | None | Unset, data)

        exception = _parse_exception(d.pop("exception", UNSET))

        chalk_error = cls(
            code=code,
            message=message,
            category=category,
            feature=feature,
            resolver=resolver,
            display_primary_key=display_primary_key,
            exception=exception,
        )

        chalk_error.additional_properties = d
        return chalk_error

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
