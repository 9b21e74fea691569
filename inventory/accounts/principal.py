"""The signed-in user's role and scope. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # the district IT office: everything
    TECHNICIAN = "technician"  # linked to a technician record; acts on devices
    SITE = "site"  # reads its named sites; can report a problem with a device
    VENDOR = "vendor"  # one vendor: its escalations and exports only


ROLE_LABELS = {
    Role.ADMIN: "IT office (admin)",
    Role.TECHNICIAN: "Technician",
    Role.SITE: "Site staff",
    Role.VENDOR: "Vendor",
}


@dataclass(frozen=True)
class Principal:
    """The signed-in user a request acts for, with what the role may reach."""

    user_id: int
    username: str
    role: Role
    technician_id: int | None = None
    technician_number: str | None = None
    vendor_id: int | None = None
    site_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_staff(self) -> bool:
        """Admins and technicians: the people who handle devices and read everything."""
        return self.role in (Role.ADMIN, Role.TECHNICIAN)

    def may_see_device(self, site_id: int, escalation_vendor_id: int | None) -> bool:
        if self.is_staff:
            return True
        if self.role is Role.SITE:
            return site_id in self.site_ids
        return escalation_vendor_id is not None and escalation_vendor_id == self.vendor_id

    def may_see_site(self, site_id: int) -> bool:
        return self.is_staff or (self.role is Role.SITE and site_id in self.site_ids)
