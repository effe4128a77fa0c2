from enum import StrEnum


class ErrorCategory(StrEnum):
    FIELD = "FIELD"
    NETWORK = "NETWORK"
    REQUEST = "REQUEST"

    def __str__(self) -> str:
        return str(self.value)
