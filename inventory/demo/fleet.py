"""Generate the demo fleet: devices whose histories walk the real lifecycle.

Every generated step goes through `plan_transition`, the same check the device service runs
before it records an action, so every event is one the service would have accepted. The
device columns each action changes come from `field_changes` in inventory/lifecycle.py, as
in the service.
Nothing here touches the database, and one `random.Random` drives every choice, so the same
seed, reference instant and input files give the same fleet.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from inventory.demo.sources import FLEX_OPERATING_SYSTEM, CatalogModel, School
from inventory.devices.service import normalize_name
from inventory.lifecycle import (
    ACTIONS,
    TERMINAL_STATES,
    DeviceContext,
    State,
    field_changes,
    plan_transition,
    warranty_active,
)

# Invented names. Any likeness to a real person is chance.
_FIRST_NAMES = (
    "Adela", "Bram", "Corin", "Dalia", "Emeric", "Fenna", "Gideon", "Hana", "Ilario", "Jonna",
    "Kemal", "Liesel", "Mateo", "Nadira", "Oren", "Paloma", "Quill", "Rosalind", "Soren",
    "Talia", "Ulric", "Verena", "Wendell", "Xiomara", "Yusuf", "Zelda", "Anouk", "Basil",
    "Cleo", "Dmitri", "Elspeth", "Florian", "Greta", "Hollis", "Ines", "Jasper", "Kaia",
    "Lucan", "Mireille", "Nico",
)  # fmt: skip
_LAST_NAMES = (
    "Abernathy", "Brightwater", "Castellano", "Drummond", "Eskildsen", "Farrowby", "Galloway",
    "Holloway", "Ibarrola", "Jankowicz", "Kettleby", "Lindqvist", "Marchetti", "Nakashima",
    "Oyelaran", "Pemberton", "Quintero", "Rasmussen", "Szabo", "Thornquist", "Umberfield",
    "Valcourt", "Whitlock", "Yarborough", "Zoltanek", "Arkwright", "Bellweather", "Coldiron",
    "Dunmore", "Everhart", "Fairbrook", "Glenmore", "Hartigan", "Ironside", "Juniper",
    "Kilbride", "Larkspur", "Merriweather", "Northcott", "Oakhurst",
)  # fmt: skip

# Manufacturers whose laptops and desktops the district buys in bulk.
_BULK_MANUFACTURERS = frozenset({"hp", "dell", "lenovo", "acer", "asus"})

# Serial number shape per manufacturer: a fixed prefix and a number of random characters.
_SERIAL_SHAPES = {
    "dell": ("", 7),
    "hp": ("5CD", 7),
    "lenovo": ("PF", 6),
    "acer": ("NX", 20),
    "asus": ("N", 11),
    "apple": ("C02", 9),
}
_SERIAL_ALPHABET = string.digits + "ABCDEFGHJKLMNPQRSTUVWXYZ"

# Share of each school's devices bought in the last weeks and still being set up.
_RECENT_SHARE = 0.05
_COHORT_YEARS = 5
# A device older than this many years is retired at its next step, like one past its model's
# end of support (each with a probability of _RETIRE_CHANCE).
_RETIREMENT_AGE_YEARS = 6
_RETIRE_CHANCE = 0.6

# A device's generated steps happen on weekdays between these district times.
_DAY_START = time(7, 30)
_WORKDAY_MINUTES = 9 * 60

_PROFILES = {
    "student": "Students",
    "staff": "Staff",
    "shared": "Shared devices",
    "kiosk": "Kiosks",
}
_KIOSK_ROOMS = ("Main office", "Library", "Lobby", "Cafeteria", "Nurse's office")


@dataclass(frozen=True)
class _Problem:
    problem: str
    resolution: str
    parts: tuple[str, ...]
    # True for a manufacturing fault, which a warranty covers, and False for accidental damage.
    covered: bool
    laptop_only: bool = False


_PROBLEMS = (
    _Problem("Cracked screen", "Replaced the display panel", ("display panel",), False, True),
    _Problem("Keys missing from the keyboard", "Replaced the keyboard", ("keyboard",), False, True),
    _Problem("Does not power on", "Reseated the power connector", (), True),
    _Problem("Battery does not hold a charge", "Replaced the battery", ("battery",), True, True),
    _Problem("Broken hinge", "Replaced the hinge kit", ("hinge kit",), False, True),
    _Problem(
        "Liquid spilled on the device",
        "Dried the board, replaced the keyboard",
        ("keyboard",),
        covered=False,
    ),
    _Problem(
        "Charging port loose",
        "Replaced the charging port board",
        ("charging port board",),
        covered=True,
        laptop_only=True,
    ),
    _Problem(
        "Trackpad does not respond",
        "Replaced the trackpad cable",
        ("trackpad cable",),
        covered=True,
        laptop_only=True,
    ),
    _Problem("Wi-Fi keeps dropping", "Reset the network settings and updated the system", (), True),
    _Problem("Screen flickers", "Replaced the display cable", ("display cable",), True),
    _Problem("Fan is loud", "Cleaned the fan and heat sink", (), True),
)

_VENDOR_OUTCOMES = (
    "Repaired under warranty: mainboard replaced",
    "Repaired under warranty: display replaced",
    "Repaired under warranty: battery replaced",
    "No fault found; unit returned as is",
)
_VENDOR_DENIALS_COVERED = (
    "Warranty claim lacks proof of the fault",
    "No fault found by the vendor",
)
_VENDOR_DENIALS_DAMAGE = (
    "Accidental damage is not covered by the warranty",
    "Liquid damage voids the warranty",
    "Physical damage is not covered by the warranty",
)
_CARRIERS = ("UPS", "FedEx", "USPS")
_OVERRIDE_REASONS = (
    "Known defect in this model; the vendor agreed to extended coverage",
    "Fault reported before the warranty ended",
)


@dataclass(frozen=True)
class DemoTechnician:
    employee_number: str
    name: str
    email: str
    region: str


@dataclass(slots=True)
class PlannedEvent:
    sequence: int
    action: str
    from_state: str | None
    to_state: str
    technician: DemoTechnician | None
    site_code: str
    occurred_at: datetime
    notes: str | None
    data: dict[str, Any]


@dataclass
class PlannedDevice:
    """A device with its generated history; the loader turns it into rows."""

    asset_tag: str
    serial_number: str
    manufacturer_key: str
    model: CatalogModel
    site_code: str
    purchase_date: date
    warranty_start: date
    warranty_end: date
    state: State | None = None
    room: str | None = None
    assignee: str | None = None
    operating_system: str | None = None
    management_profile: str | None = None
    user_profile_kind: str | None = None
    repair_return_state: State | None = None
    # Vendor code of the open warranty escalation, as the service keeps it.
    escalation_vendor: str | None = None
    # Asset tags of the device this one replaced and of the device that replaced it.
    replaces: str | None = None
    replaced_by: str | None = None
    state_changed_at: datetime | None = None
    events: list[PlannedEvent] = field(default_factory=list)


@dataclass(frozen=True)
class _Purchase:
    """A model the district bought in one purchase year, with the warranty it came with."""

    model: CatalogModel
    warranty_years: int


@dataclass
class _Walk:
    """State the history generator keeps for one device between steps."""

    device: PlannedDevice
    at: datetime
    problem: _Problem | None = None
    # A problem site staff reported, which a technician has not yet opened a repair for.
    reported: _Problem | None = None
    vendor_denied: bool = False
    vendor_returned: bool = False
    # How far the open escalation has gone: "open", "acknowledged" or "shipped".
    vendor_stage: str = ""
    collected: bool = False
    salvage_reason: str = ""


@dataclass(frozen=True)
class _Step:
    action: str
    data: dict[str, Any]
    at: datetime
    notes: str | None = None


def warranty_end_for(start: date, years: int) -> date:
    """Return the last day of a warranty of whole years: the day before the anniversary.

    A warranty starting on February 29 has its anniversary on March 1 in a common year.
    """
    try:
        anniversary = start.replace(year=start.year + years)
    except ValueError:
        anniversary = date(start.year + years, 3, 1)
    return anniversary - timedelta(days=1)


def make_technicians(
    rng: random.Random, schools: Sequence[School], count: int, existing_numbers: set[str]
) -> list[DemoTechnician]:
    """Invent `count` technicians, spread over the regions in proportion to their schools.

    Every region gets at least two. Employee numbers are six digits with a leading zero and
    avoid `existing_numbers`.
    """
    by_region: dict[str, int] = {}
    for school in schools:
        by_region[school.region] = by_region.get(school.region, 0) + 1
    regions = sorted(by_region)
    if count < 2 * len(regions):
        raise ValueError(f"need at least {2 * len(regions)} technicians, got {count}")
    shares = {region: 2 for region in regions}
    spare = count - sum(shares.values())
    quotas = {region: spare * by_region[region] / len(schools) for region in regions}
    for region in regions:
        shares[region] += int(quotas[region])
    left = count - sum(shares.values())
    for region in sorted(regions, key=lambda name: int(quotas[name]) - quotas[name])[:left]:
        shares[region] += 1

    names = [(first, last) for first in _FIRST_NAMES for last in _LAST_NAMES]
    chosen = rng.sample(names, count)
    used = set(existing_numbers)
    technicians: list[DemoTechnician] = []
    for region in regions:
        for _ in range(shares[region]):
            first, last = chosen[len(technicians)]
            number = f"0{rng.randrange(10_000, 100_000)}"
            while number in used:
                number = f"0{rng.randrange(10_000, 100_000)}"
            used.add(number)
            technicians.append(
                DemoTechnician(
                    employee_number=number,
                    name=f"{first} {last}",
                    email=f"{first}.{last}@district.example.org".lower(),
                    region=region,
                )
            )
    return technicians


class FleetGenerator:
    """Generate devices for schools, school by school, in a deterministic order."""

    def __init__(
        self,
        *,
        rng: random.Random,
        now: datetime,
        zone: ZoneInfo,
        schools: Sequence[School],
        models: Sequence[CatalogModel],
        technicians: Sequence[DemoTechnician],
        vendor_codes: dict[str, str],
    ) -> None:
        """Choose each year's purchases and each school's technician.

        `now` ends every history. `vendor_codes` maps a manufacturer folded by
        `normalize_name` to its vendor code.
        """
        self.rng = rng
        self.now = now
        self.zone = zone
        self.today = now.astimezone(zone).date()
        self.vendor_codes = vendor_codes
        self.next_asset_number = 1
        self.serials: dict[str, set[str]] = {}
        self.day_starts: dict[date, datetime] = {}
        self.instant_days: dict[datetime, date] = {}
        self.schools = {school.code: school for school in schools}

        self.schools_by_region: dict[str, list[School]] = {}
        for school in schools:
            self.schools_by_region.setdefault(school.region, []).append(school)
        self.technicians_by_region: dict[str, list[DemoTechnician]] = {}
        for technician in technicians:
            self.technicians_by_region.setdefault(technician.region, []).append(technician)
        # Each school has one technician who handles most of its steps.
        self.school_technician: dict[str, DemoTechnician] = {}
        for region, region_schools in self.schools_by_region.items():
            staff = self.technicians_by_region.get(region)
            if not staff:
                raise ValueError(f"no demo technician works in region {region!r}")
            for index, school in enumerate(region_schools):
                self.school_technician[school.code] = staff[index % len(staff)]

        self.cohort_years = self._cohort_years()
        self.purchases = {year: self._choose_purchases(models, year) for year in self.cohort_years}

    def _cohort_years(self) -> list[int]:
        # Devices arrive in the weeks before school starts. The newest cohort is the latest
        # summer whose deliveries ended at least two weeks before `now`.
        last = self.today.year
        if date(last, 9, 10) > self.today - timedelta(days=14):
            last -= 1
        return list(range(last - _COHORT_YEARS + 1, last + 1))

    def _choose_purchases(
        self, models: Sequence[CatalogModel], year: int
    ) -> dict[str, list[_Purchase]]:
        """Pick the models bought in `year`: three laptops, one desktop, one all-in-one."""
        chosen: dict[str, list[_Purchase]] = {}
        for device_type, how_many, warranties in (
            ("laptop", 3, (3, 3, 4)),
            ("desktop", 1, (3, 5)),
            ("all_in_one", 1, (3, 5)),
        ):
            candidates = self._candidates(models, device_type, year)
            picks = self.rng.sample(candidates, min(how_many, len(candidates)))
            chosen[device_type] = [_Purchase(model, self.rng.choice(warranties)) for model in picks]
        return chosen

    @staticmethod
    def _candidates(
        models: Sequence[CatalogModel], device_type: str, year: int
    ) -> list[CatalogModel]:
        # Prefer a bulk manufacturer's model with three more years of support, and relax
        # step by step when the list has none.
        of_type = [model for model in models if model.device_type == device_type]
        bulk = [m for m in of_type if normalize_name(m.manufacturer) in _BULK_MANUFACTURERS]
        for pool, years_left in ((bulk, 3), (bulk, 0), (of_type, 0)):
            candidates = [m for m in pool if m.end_of_support_year >= year + years_left]
            if candidates:
                return candidates
        if of_type:
            return of_type
        raise ValueError(f"the model list has no {device_type} model")

    # Time

    # Time zone conversions were a large share of the generation time, so the district day of
    # each generated instant and the start of each working day in UTC are remembered.

    def _district_day(self, instant: datetime) -> date:
        day = self.instant_days.get(instant)
        if day is None:
            day = instant.astimezone(self.zone).date()
        return day

    def _instant_on(self, day: date) -> datetime:
        """Return a random working time on `day`, or on the Monday after a weekend day."""
        if day.weekday() >= 5:
            day += timedelta(days=7 - day.weekday())
        start = self.day_starts.get(day)
        if start is None:
            start = datetime.combine(day, _DAY_START, tzinfo=self.zone).astimezone(UTC)
            self.day_starts[day] = start
        # Adding minutes in UTC is safe because no working day spans a daylight saving change.
        instant = start + timedelta(minutes=self.rng.randrange(_WORKDAY_MINUTES))
        self.instant_days[instant] = day
        return instant

    def _later(self, after: datetime, days: float) -> datetime | None:
        """Return a working time `days` after `after` and later than it.

        Returns None when that time is not before `now`, which ends the history.
        """
        instant = self._instant_on(self._district_day(after) + timedelta(days=int(days)))
        if instant <= after:
            instant = after + timedelta(minutes=self.rng.randint(5, 90))
        return instant if instant < self.now else None

    def _gap(self, minimum: float, mean: float) -> float:
        return minimum + self.rng.expovariate(1 / mean)

    # Identifiers

    def _asset_tag(self) -> str:
        tag = f"{self.next_asset_number:07d}"
        self.next_asset_number += 1
        return tag

    def _serial(self, manufacturer_key: str) -> str:
        prefix, length = _SERIAL_SHAPES.get(manufacturer_key, ("", 0))
        if not length:
            letters = "".join(char for char in manufacturer_key.upper() if char.isalnum())
            prefix, length = (letters[:3] or "SN"), 9
        seen = self.serials.setdefault(manufacturer_key, set())
        while True:
            serial = prefix + "".join(self.rng.choices(_SERIAL_ALPHABET, k=length))
            if serial not in seen:
                seen.add(serial)
                return serial

    # Fleet

    def devices_per_school(self, school: School, devices_per_student: float) -> int:
        """Return enrollment times devices_per_student, its fraction rounded up at random."""
        expected = school.enrollment * devices_per_student
        whole = int(expected)
        return whole + (1 if self.rng.random() < expected - whole else 0)

    def generate(
        self, schools: Sequence[School], devices_per_student: float, chunk_size: int = 20_000
    ) -> Iterator[list[PlannedDevice]]:
        """Yield the devices of `schools` in lists of about `chunk_size` devices.

        A vendor replacement unit follows the device it replaced in the same list.
        """
        chunk: list[PlannedDevice] = []
        for school in schools:
            for _ in range(self.devices_per_school(school, devices_per_student)):
                chunk.extend(self._new_device(school))
            if len(chunk) >= chunk_size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def _new_device(self, school: School) -> list[PlannedDevice]:
        """Generate one purchased device and any units that replaced it."""
        self.instant_days.clear()
        roll = self.rng.random()
        if roll < 0.88:
            device_type = "laptop"
        elif roll < 0.96:
            device_type = "desktop"
        else:
            device_type = "all_in_one"
        recent = self.rng.random() < _RECENT_SHARE
        year = self.cohort_years[-1] if recent else self.rng.choice(self.cohort_years)
        purchases = self.purchases[year][device_type]
        purchase = self.rng.choices(purchases, weights=(5, 3, 2)[: len(purchases)])[0]

        if recent:
            received = self._instant_on(self.today - timedelta(days=self.rng.randint(2, 45)))
        else:
            received = self._instant_on(date(year, 7, 20) + timedelta(self.rng.randint(0, 47)))
        if received >= self.now:
            received = self.now - timedelta(days=self.rng.randint(1, 3))
        purchased = self._district_day(received) - timedelta(days=self.rng.randint(7, 45))
        manufacturer_key = normalize_name(purchase.model.manufacturer)
        device = PlannedDevice(
            asset_tag=self._asset_tag(),
            serial_number=self._serial(manufacturer_key),
            manufacturer_key=manufacturer_key,
            model=purchase.model,
            site_code=school.code,
            purchase_date=purchased,
            warranty_start=purchased,
            warranty_end=warranty_end_for(purchased, purchase.warranty_years),
        )
        return self._walk(device, received, replaces=None)

    def _walk(
        self, device: PlannedDevice, received: datetime, replaces: PlannedDevice | None
    ) -> list[PlannedDevice]:
        """Generate the device's history from its receipt until a terminal state or now."""
        data: dict[str, Any] = {
            "asset_tag": device.asset_tag,
            "serial_number": device.serial_number,
            "manufacturer": device.model.manufacturer,
            "model": device.model.model,
            "site": device.site_code,
        }
        if replaces is None:
            stored = {key: value for key, value in data.items() if key != "asset_tag"}
            notes = None
        else:
            # The service records a replacement unit's receipt with these data and notes.
            stored = {"serial_number": device.serial_number, "replaces": replaces.asset_tag}
            notes = f"Vendor replacement for {replaces.asset_tag}"
        self._apply(device, _Step("receive", data, received, notes), stored=stored)

        walk = _Walk(device=device, at=received)
        devices = [device]
        while device.state not in TERMINAL_STATES:
            step = self._next_step(walk)
            if step is None:
                break
            self._apply(device, step)
            walk.at = step.at
            if step.action == "vendor_replace":
                devices.extend(self._replacement(device, step))
        return devices

    def _replacement(self, old: PlannedDevice, step: _Step) -> list[PlannedDevice]:
        new = PlannedDevice(
            asset_tag=step.data["replacement_asset_tag"],
            serial_number=step.data["replacement_serial"],
            manufacturer_key=old.manufacturer_key,
            model=old.model,
            site_code=old.site_code,
            purchase_date=old.purchase_date,
            warranty_start=old.warranty_start,
            warranty_end=old.warranty_end,
            replaces=old.asset_tag,
        )
        old.replaced_by = new.asset_tag
        return self._walk(new, step.at, replaces=old)

    def _technician(self, site_code: str) -> DemoTechnician:
        if self.rng.random() < 0.75:
            return self.school_technician[site_code]
        region = self.schools[site_code].region
        return self.rng.choice(self.technicians_by_region[region])

    def _apply(
        self, device: PlannedDevice, step: _Step, *, stored: dict[str, Any] | None = None
    ) -> None:
        """Check one step against the lifecycle and record it on the device.

        Raises a LifecycleError if the generator produced a step the service would reject.
        """
        site_code = step.data["site"] if step.action == "transfer" else device.site_code
        needs_technician = ACTIONS[step.action].needs_technician
        technician = self._technician(site_code) if needs_technician else None
        context = DeviceContext(
            state=device.state,
            site_code=device.site_code,
            repair_return_state=device.repair_return_state,
            coverages=((device.warranty_start, device.warranty_end),),
        )
        to_state = plan_transition(
            step.action,
            context,
            step.data,
            has_technician=technician is not None,
            on=self._district_day(step.at),
        )
        from_state = device.state
        data = dict(step.data) if stored is None else stored
        for name, value in field_changes(step.action, data, from_state, to_state).items():
            if name == "repair_return_state" and value is not None:
                value = State(value)
            setattr(device, name, value)
        if step.action == "transfer":
            data["from_site"] = device.site_code
            device.site_code = site_code
        if step.action == "escalate":
            device.escalation_vendor = data["vendor"]
        elif from_state is State.WITH_VENDOR and to_state is not State.WITH_VENDOR:
            device.escalation_vendor = None

        device.events.append(
            PlannedEvent(
                sequence=len(device.events) + 1,
                action=step.action,
                from_state=from_state.value if from_state else None,
                to_state=to_state.value,
                technician=technician,
                site_code=device.site_code,
                occurred_at=step.at,
                notes=step.notes,
                data=data,
            )
        )
        if to_state != from_state:
            device.state_changed_at = step.at
        device.state = to_state

    # The policy: which step comes next, and when

    def _next_step(self, walk: _Walk) -> _Step | None:
        state = walk.device.state
        if state is State.RECEIVED:
            return self._after_received(walk)
        if state is State.ENROLLED:
            return self._after_enrolled(walk)
        if state is State.DEPLOYED:
            return self._after_deployed(walk)
        if state is State.IN_REPAIR:
            return self._after_in_repair(walk)
        if state is State.WITH_VENDOR:
            return self._after_with_vendor(walk)
        if state is State.AWAITING_SALVAGE:
            return self._after_awaiting_salvage(walk)
        if state is State.RECYCLE_PENDING:
            return self._after_recycle_pending(walk)
        if state is State.LOST:
            return self._after_lost(walk)
        return None

    def _retiring(self, device: PlannedDevice, at: datetime) -> bool:
        day = self._district_day(at)
        aged = day >= warranty_end_for(device.purchase_date, _RETIREMENT_AGE_YEARS)
        unsupported = day >= device.model.end_of_support
        return (aged or unsupported) and self.rng.random() < _RETIRE_CHANCE

    def _salvage(self, walk: _Walk, at: datetime, reason: str) -> _Step:
        walk.salvage_reason = reason
        return _Step("request_salvage", {"reason": reason}, at)

    def _after_received(self, walk: _Walk) -> _Step | None:
        at = self._later(walk.at, self._gap(1, 5))
        if at is None:
            return None
        roll = self.rng.random()
        found_again = len(walk.device.events) > 1
        if found_again and roll < 0.25:
            return self._salvage(walk, at, "Found damaged after being lost")
        if roll < 0.92:
            return self._enroll(walk.device, at)
        if roll < 0.96:
            return self._transfer(walk.device, at)
        if roll < 0.98:
            return self._salvage(walk, at, "Dead on arrival")
        return _Step("report_lost", {}, at, "Missing from the delivery")

    def _enroll(self, device: PlannedDevice, at: datetime) -> _Step:
        if device.model.device_type == "laptop":
            kinds, weights = ("student", "staff", "shared", "kiosk"), (75, 10, 13, 2)
        else:
            kinds, weights = ("student", "staff", "shared", "kiosk"), (0, 35, 50, 15)
        kind = self.rng.choices(kinds, weights=weights)[0]
        data = {
            "operating_system": FLEX_OPERATING_SYSTEM,
            "management_profile": _PROFILES[kind],
            "user_profile_kind": kind,
        }
        return _Step("enroll", data, at)

    def _transfer(self, device: PlannedDevice, at: datetime) -> _Step:
        region = self.schools[device.site_code].region
        choices = [s for s in self.schools_by_region[region] if s.code != device.site_code]
        destination = self.rng.choice(choices)
        return _Step("transfer", {"site": destination.code}, at)

    def _after_enrolled(self, walk: _Walk) -> _Step | None:
        # A collected device waits weeks for its next assignment, while a new one goes out
        # within days.
        gap = self._gap(20, 60) if walk.collected else self._gap(1, 6)
        at = self._later(walk.at, gap)
        if at is None:
            return None
        device = walk.device
        if self._retiring(device, at):
            return self._salvage(walk, at, "Past end of support")
        roll = self.rng.random()
        if roll < 0.88:
            walk.collected = False
            return self._deploy(device, at)
        if roll < 0.92:
            return self._open_repair(walk, at)
        if roll < 0.95:
            return self._transfer(device, at)
        if roll < 0.98:
            return self._salvage(walk, at, "Damaged beyond repair")
        return _Step("report_lost", {}, at, "Not found in the storage room")

    def _deploy(self, device: PlannedDevice, at: datetime) -> _Step:
        kind = device.user_profile_kind
        if kind == "student":
            data = {"assignee": f"Student {self.rng.randint(200_000_000, 299_999_999)}"}
        elif kind == "staff":
            data = {"assignee": f"Staff {self.rng.randint(1, 99_999):05d}"}
        elif kind == "shared":
            if self.rng.random() < 0.6:
                data = {"room": f"Cart {self.rng.randint(1, 12)}"}
            else:
                data = {"room": f"Room {self.rng.randint(1, 4)}{self.rng.randint(1, 30):02d}"}
        else:
            data = {"room": self.rng.choice(_KIOSK_ROOMS)}
        return _Step("deploy", data, at)

    def _after_deployed(self, walk: _Walk) -> _Step | None:
        if walk.reported is not None:
            at = self._later(walk.at, self._gap(1, 3))
            return None if at is None else self._open_repair(walk, at)
        at = self._later(walk.at, self._gap(30, 365))
        if at is None:
            return None
        device = walk.device
        if self._retiring(device, at):
            return self._salvage(walk, at, "Past end of support")
        roll = self.rng.random()
        if roll < 0.15:
            walk.reported = self._choose_problem(device)
            return _Step("report_problem", {"problem": walk.reported.problem}, at)
        if roll < 0.55:
            return self._open_repair(walk, at)
        if roll < 0.85:
            walk.collected = True
            return _Step("collect", {}, at, "Returned at the end of the assignment")
        if roll < 0.90:
            return self._transfer(device, at)
        if roll < 0.94:
            notes = self.rng.choice(("Not returned by the assignee", "Reported stolen"))
            return _Step("report_lost", {}, at, notes)
        if roll < 0.98:
            return _Step("audit_seen", {}, at, "Seen in the year-end inventory count")
        return self._salvage(walk, at, "Damaged beyond repair")

    def _choose_problem(self, device: PlannedDevice) -> _Problem:
        laptop = device.model.device_type == "laptop"
        return self.rng.choice([p for p in _PROBLEMS if laptop or not p.laptop_only])

    def _open_repair(self, walk: _Walk, at: datetime) -> _Step:
        walk.problem = walk.reported or self._choose_problem(walk.device)
        walk.reported = None
        walk.vendor_denied = False
        walk.vendor_returned = False
        return _Step("open_repair", {"problem": walk.problem.problem}, at)

    def _after_in_repair(self, walk: _Walk) -> _Step | None:
        at = self._later(walk.at, self._gap(1, 7))
        if at is None:
            return None
        device = walk.device
        problem = walk.problem or _PROBLEMS[0]
        if walk.vendor_returned:
            resolution = "Tested the unit the vendor returned; ready for use"
            data: dict[str, Any] = {"resolution": resolution, "parts_used": []}
            return _Step("complete_repair", data, at)
        roll = self.rng.random()
        if not walk.vendor_denied:
            context = DeviceContext(
                state=device.state,
                coverages=((device.warranty_start, device.warranty_end),),
            )
            covered = warranty_active(context, self._district_day(at))
            if not covered:
                chance = 0.02
            elif problem.covered:
                chance = 0.3
            else:
                chance = 0.05
            if roll < chance:
                data = {"vendor": self.vendor_codes[device.manufacturer_key]}
                data["problem"] = problem.problem
                if not covered:
                    data["warranty_override_reason"] = self.rng.choice(_OVERRIDE_REASONS)
                walk.vendor_stage = "open"
                return _Step("escalate", data, at)
            roll = self.rng.random()
        if roll < (0.25 if walk.vendor_denied else 0.08):
            return self._salvage(walk, at, "Repair would cost more than the device is worth")
        data = {"resolution": problem.resolution, "parts_used": list(problem.parts)}
        return _Step("complete_repair", data, at)

    def _after_with_vendor(self, walk: _Walk) -> _Step | None:
        # Most claims get an RMA number within days and the device ships under it; some are
        # repaired on site or refused before either.
        if walk.vendor_stage == "open" and self.rng.random() < 0.85:
            at = self._later(walk.at, self._gap(1, 2))
            if at is None:
                return None
            walk.vendor_stage = "acknowledged"
            rma = f"RMA{self.rng.randrange(10**8):08d}"
            return _Step("vendor_acknowledge", {"rma_number": rma}, at)
        if walk.vendor_stage == "acknowledged" and self.rng.random() < 0.8:
            at = self._later(walk.at, self._gap(1, 2))
            if at is None:
                return None
            walk.vendor_stage = "shipped"
            carrier = self.rng.choice(_CARRIERS)
            tracking = f"{carrier[:2].upper()}{self.rng.randrange(10**12):012d}"
            return _Step("ship_to_vendor", {"carrier": carrier, "tracking_number": tracking}, at)
        at = self._later(walk.at, self._gap(5, 12))
        if at is None:
            return None
        walk.vendor_stage = ""
        covered = walk.problem is not None and walk.problem.covered
        roll = self.rng.random()
        if roll < (0.7 if covered else 0.15):
            walk.vendor_returned = True
            return _Step("vendor_return", {"outcome": self.rng.choice(_VENDOR_OUTCOMES)}, at)
        if roll < (0.9 if covered else 0.25):
            old = walk.device
            data = {
                "replacement_serial": self._serial(old.manufacturer_key),
                "replacement_asset_tag": self._asset_tag(),
            }
            return _Step("vendor_replace", data, at)
        walk.vendor_denied = True
        reasons = _VENDOR_DENIALS_COVERED if covered else _VENDOR_DENIALS_DAMAGE
        return _Step("vendor_deny", {"reason": self.rng.choice(reasons)}, at)

    def _after_awaiting_salvage(self, walk: _Walk) -> _Step | None:
        at = self._later(walk.at, self._gap(3, 20))
        if at is None:
            return None
        roll = self.rng.random()
        reusable = walk.salvage_reason in ("Dead on arrival", "Found damaged after being lost")
        data: dict[str, Any]
        if reusable and roll < 0.4:
            data = {"decision": "reuse", "assessment": "Works after a reset; back to stock"}
        elif roll < 0.45:
            data = {
                "decision": "harvest",
                "assessment": "Keep the screen, battery and keyboard as spare parts",
                "sanitization_method": "purge",
            }
        else:
            method = self.rng.choices(("purge", "destroy", "clear"), weights=(6, 3, 1))[0]
            data = {
                "decision": "recycle",
                "assessment": "No usable parts; send to the recycler",
                "sanitization_method": method,
            }
        return _Step("assess_salvage", data, at)

    def _after_recycle_pending(self, walk: _Walk) -> _Step | None:
        # The recycler collects on the 15th of January, April, July and October.
        day = self._district_day(walk.at) + timedelta(days=7)
        pickup = date(day.year, ((day.month - 1) // 3) * 3 + 1, 15)
        while pickup < day:
            month = pickup.month + 3
            pickup = date(pickup.year + (month > 12), (month - 1) % 12 + 1, 15)
        at = self._later(walk.at, (pickup - self._district_day(walk.at)).days)
        if at is None:
            return None
        batch = f"RB-{pickup.year}-{pickup.month:02d}"
        return _Step("recycle", {"recycling_batch": batch}, at)

    def _after_lost(self, walk: _Walk) -> _Step | None:
        at = self._later(walk.at, self._gap(5, 40))
        if at is None or self.rng.random() >= 0.35:
            return None
        return _Step("found", {}, at, "Turned in at the main office")
