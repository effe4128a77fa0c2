"""Contains all the data models used in inputs/outputs"""

from .chalk_error import ChalkError
from .chalk_exception import ChalkException
from .error_category import ErrorCategory
from .error_code import ErrorCode
from .error_response import ErrorResponse
from .token_request import TokenRequest
from .token_response import TokenResponse
from .token_response_engines_type_0 import TokenResponseEnginesType0
from .token_response_environment_id_to_name_type_0 import (
    TokenResponseEnvironmentIdToNameType0,
)
from .token_response_grpc_engines_type_0 import TokenResponseGrpcEnginesType0

__all__ = (
    "ChalkError",
    "ChalkException",
    "ErrorCategory",
    "ErrorCode",
    "ErrorResponse",
    "TokenRequest",
    "TokenResponse",
    "TokenResponseEnginesType0",
    "TokenResponseEnvironmentIdToNameType0",
    "TokenResponseGrpcEnginesType0",
)
