from enum import StrEnum


class JobStatus(StrEnum):
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"
    COMPUTE_ENDED = "COMPUTE_ENDED"
    COMPUTE_STARTED = "COMPUTE_STARTED"
    FAILED = "FAILED"
    INIT = "INIT"

    def __str__(self) -> str:
        return str(self.value)
