"""Contains all the data models used in inputs/outputs"""

from .branch import Branch
from .branch_deployment import BranchDeployment
from .branches_response import BranchesResponse
from .chalk_error import ChalkError
from .chalk_exception import ChalkException
from .dataset_response import DatasetResponse
from .dataset_revision import DatasetRevision
from .dataset_revision_filters_type_0 import DatasetRevisionFiltersType0
from .error_category import ErrorCategory
from .error_code import ErrorCode
from .error_response import ErrorResponse
from .feature_deletion_request import FeatureDeletionRequest
from .feature_deletion_response import FeatureDeletionResponse
from .feature_drop_request import FeatureDropRequest
from .feature_meta import FeatureMeta
from .feature_result import FeatureResult
from .job_progress_response import JobProgressResponse
from .job_report import JobReport
from .job_status import JobStatus
from .multi_upload_features_response import MultiUploadFeaturesResponse
from .offline_query_input import OfflineQueryInput
from .offline_query_request import OfflineQueryRequest
from .offline_query_status_request import OfflineQueryStatusRequest
from .offline_query_status_response import OfflineQueryStatusResponse
from .online_query_context import OnlineQueryContext
from .online_query_request import OnlineQueryRequest
from .online_query_request_inputs import OnlineQueryRequestInputs
from .online_query_request_meta_type_0 import OnlineQueryRequestMetaType0
from .online_query_request_staleness_type_0 import OnlineQueryRequestStalenessType0
from .online_query_response import OnlineQueryResponse
from .persistence_settings import PersistenceSettings
from .ping_request import PingRequest
from .ping_response import PingResponse
from .query_meta import QueryMeta
from .run_response import RunResponse
from .run_status import RunStatus
from .token_request import TokenRequest
from .token_response import TokenResponse
from .token_response_engines_type_0 import TokenResponseEnginesType0
from .token_response_environment_id_to_name_type_0 import (
    TokenResponseEnvironmentIdToNameType0,
)
from .token_response_grpc_engines_type_0 import TokenResponseGrpcEnginesType0
from .trigger_run_request import TriggerRunRequest
from .upload_features_request import UploadFeaturesRequest
from .upload_features_request_input import UploadFeaturesRequestInput
from .upload_features_request_meta_type_0 import UploadFeaturesRequestMetaType0
from .upload_features_response import UploadFeaturesResponse
from .who_am_i_response import WhoAmIResponse

__all__ = (
    "Branch",
    "BranchDeployment",
    "BranchesResponse",
    "ChalkError",
    "ChalkException",
    "DatasetResponse",
    "DatasetRevision",
    "DatasetRevisionFiltersType0",
    "ErrorCategory",
    "ErrorCode",
    "ErrorResponse",
    "FeatureDeletionRequest",
    "FeatureDeletionResponse",
    "FeatureDropRequest",
    "FeatureMeta",
    "FeatureResult",
    "JobProgressResponse",
    "JobReport",
    "JobStatus",
    "MultiUploadFeaturesResponse",
    "OfflineQueryInput",
    "OfflineQueryRequest",
    "OfflineQueryStatusRequest",
    "OfflineQueryStatusResponse",
    "OnlineQueryContext",
    "OnlineQueryRequest",
    "OnlineQueryRequestInputs",
    "OnlineQueryRequestMetaType0",
    "OnlineQueryRequestStalenessType0",
    "OnlineQueryResponse",
    "PersistenceSettings",
    "PingRequest",
    "PingResponse",
    "QueryMeta",
    "RunResponse",
    "RunStatus",
    "TokenRequest",
    "TokenResponse",
    "TokenResponseEnginesType0",
    "TokenResponseEnvironmentIdToNameType0",
    "TokenResponseGrpcEnginesType0",
    "TriggerRunRequest",
    "UploadFeaturesRequest",
    "UploadFeaturesRequestInput",
    "UploadFeaturesRequestMetaType0",
    "UploadFeaturesResponse",
    "WhoAmIResponse",
)
