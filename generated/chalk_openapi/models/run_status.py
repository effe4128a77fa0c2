from enum import StrEnum


class RunStatus(StrEnum):
    FAILED = "failed"
    RECEIVED = "received"
    SUCCEEDED = "succeeded"

    def __str__(self) -> str:
        return str(self.value)
