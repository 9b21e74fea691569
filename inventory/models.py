"""Every table, imported in one place so that SQLModel.metadata contains them all."""

from inventory.accounts.models import ApiToken, LoginFailure, User, UserSite, WebSession
from inventory.devices.models import (
    Device,
    DeviceEvent,
    DeviceModel,
    IdempotencyRecord,
    TagReservation,
)
from inventory.escalations.models import (
    Escalation,
    ExportBatch,
    ExportBatchRow,
    WarrantyCoverage,
)
from inventory.plans.models import (
    ClosedDay,
    PlanChange,
    RateCard,
    ServicePlan,
    TechnicianAssignment,
    Visit,
)
from inventory.reports.models import (
    ReportDeviceCount,
    ReportOpenRepair,
    ReportOpenRepairCount,
    ReportOutcomeCount,
    ReportRegionTurnaround,
    ReportRepairTurnaround,
    ReportSiteModelCount,
    ReportSiteYear,
    ReportStepCount,
)
from inventory.salvage.models import (
    DeviceEndOfSupport,
    HarvestedPart,
    RecyclingBatch,
    RecyclingBatchDevice,
    SalvageAssessment,
    Sanitization,
)
from inventory.sites.models import Site
from inventory.technicians.models import Technician
from inventory.tickets.models import Ticket
from inventory.vendors.models import Vendor

__all__ = [
    "ApiToken",
    "ClosedDay",
    "Device",
    "DeviceEndOfSupport",
    "DeviceEvent",
    "DeviceModel",
    "Escalation",
    "ExportBatch",
    "ExportBatchRow",
    "HarvestedPart",
    "IdempotencyRecord",
    "LoginFailure",
    "PlanChange",
    "RateCard",
    "RecyclingBatch",
    "RecyclingBatchDevice",
    "ReportDeviceCount",
    "ReportOpenRepair",
    "ReportOpenRepairCount",
    "ReportOutcomeCount",
    "ReportRegionTurnaround",
    "ReportRepairTurnaround",
    "ReportSiteModelCount",
    "ReportSiteYear",
    "ReportStepCount",
    "SalvageAssessment",
    "Sanitization",
    "ServicePlan",
    "Site",
    "TagReservation",
    "Technician",
    "TechnicianAssignment",
    "Ticket",
    "User",
    "UserSite",
    "Vendor",
    "Visit",
    "WarrantyCoverage",
    "WebSession",
]
