"""A Python client of lts, the License Tracking Server: the same semantics
as the Swift `LicenseClient` (failover between main and standby, one request
ID and numbered attempts per call, verified TLS, lease renewal, an offline
report buffer). Standard library only."""

from .client import Authorization, LicenseClient, Settings, new_request_id
from .client_key import ClientKey, MalformedKey
from .errors import LicenseError, Refused, Unavailable
from .identity import load_client_uuid
from .lease_keeper import LeaseKeeper
from .report_buffer import BufferedReport, BufferFull, ReportBuffer
from .retry_schedule import RetrySchedule
from .transport import Server

__all__ = ["Authorization", "BufferFull", "BufferedReport", "ClientKey", "LeaseKeeper", "LicenseClient",
           "LicenseError", "MalformedKey", "Refused", "ReportBuffer", "RetrySchedule", "Server", "Settings",
           "Unavailable", "load_client_uuid", "new_request_id"]
