"""Every table, imported in one place so that SQLModel.metadata holds them all."""

from inventory.devices.models import Device, DeviceEvent, DeviceModel, IdempotencyRecord
from inventory.sites.models import Site
from inventory.technicians.models import Technician
from inventory.vendors.models import Vendor

__all__ = [
    "Device",
    "DeviceEvent",
    "DeviceModel",
    "IdempotencyRecord",
    "Site",
    "Technician",
    "Vendor",
]
