"""Time a PDF sheet run of QR labels against encoding the same payloads with qrcode alone.

Run with `python -m bench.labels [--labels N] [--large N] [--repeat R] [--template NAME]`.
Both timings come from the same process and the same payloads, so the ratio carries across
machines better than the absolute times do. The two N-label timings alternate R times. The
ratio to qrcode compares the fastest of each, and the large run is compared with the mean of
the N-label runs, because a single long run averages over the machine's load rather than
catching its quietest moment. Everything runs on one thread.

Targets: N labels (1,000 by default) in at most 3 s and at most 2.5 x the bare qrcode time,
and the large run (10,000 by default) in at most 12 x the time of N labels.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import qrcode
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q

from labels import LabelSpec, build_payload, get_template, render_sheet

BASE_URL = "https://inventory.example-district.org"
ERROR_CORRECTION = {
    "L": ERROR_CORRECT_L,
    "M": ERROR_CORRECT_M,
    "Q": ERROR_CORRECT_Q,
    "H": ERROR_CORRECT_H,
}

TARGET_SECONDS = 3.0
TARGET_RATIO_TO_QRCODE = 2.5
TARGET_RATIO_LARGE = 12.0


def _specs(count: int) -> list[LabelSpec]:
    return [
        LabelSpec(asset_tag=f"A{number:07d}", site_code="K123", text="Room 204, cart B")
        for number in range(count)
    ]


def _time_bare_qrcode(specs: list[LabelSpec], error_correction: str) -> float:
    payloads = [build_payload(BASE_URL, spec.asset_tag) for spec in specs]
    level = ERROR_CORRECTION[error_correction]
    start = time.perf_counter()
    for payload in payloads:
        code = qrcode.QRCode(error_correction=level)
        code.add_data(payload)
        code.make()
    return time.perf_counter() - start


def _time_sheet(specs: list[LabelSpec], template: str) -> tuple[float, int, int]:
    start = time.perf_counter()
    sheet = render_sheet(specs, template, BASE_URL)
    elapsed = time.perf_counter() - start
    return elapsed, sheet.page_count, len(sheet.data)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--labels", type=int, default=1_000, help="number of labels in the timed run"
    )
    parser.add_argument(
        "--large", type=int, default=10_000, help="number of labels in the large run"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="number of alternating timed runs of N labels and of qrcode alone",
    )
    parser.add_argument("--template", default="avery-5160", help="label template name")
    args = parser.parse_args()
    template = get_template(args.template)

    print(f"machine: {_cpu_model()}, Python {platform.python_version()}, one thread")
    print(f"template: {template.name}, error correction {template.error_correction}")

    specs = _specs(args.labels)
    # One small warm-up run, so font registration and imports are not timed.
    render_sheet(specs[:3], template, BASE_URL)

    bare_runs: list[float] = []
    sheet_runs: list[float] = []
    for _ in range(max(1, args.repeat)):
        bare_runs.append(_time_bare_qrcode(specs, template.error_correction))
        elapsed, pages, size = _time_sheet(specs, template.name)
        sheet_runs.append(elapsed)
    bare, sheet = min(bare_runs), min(sheet_runs)
    sheet_mean = statistics.fmean(sheet_runs)
    ratio = sheet / bare
    print(
        f"qrcode alone, {args.labels:,} payloads: {bare:.2f} s "
        f"(mean of {len(bare_runs)}: {statistics.fmean(bare_runs):.2f} s)"
    )
    print(
        f"PDF, {args.labels:,} labels: {sheet:.2f} s (mean of {len(sheet_runs)}: "
        f"{sheet_mean:.2f} s; {pages} pages, {size / 1024:.0f} KiB); "
        f"ratio to qrcode alone {ratio:.2f}"
    )
    print(
        f"  target <= {TARGET_SECONDS:g} s: {_verdict(sheet <= TARGET_SECONDS)}; "
        f"target ratio <= {TARGET_RATIO_TO_QRCODE:g}: "
        f"{_verdict(ratio <= TARGET_RATIO_TO_QRCODE)}"
    )

    if args.large:
        large, pages, size = _time_sheet(_specs(args.large), template.name)
        large_ratio = large / sheet_mean
        print(
            f"PDF, {args.large:,} labels: {large:.2f} s ({pages} pages, {size / 1024:.0f} KiB); "
            f"ratio to the mean {args.labels:,}-label run {large_ratio:.2f}"
        )
        print(
            f"  target ratio <= {TARGET_RATIO_LARGE:g}: "
            f"{_verdict(large_ratio <= TARGET_RATIO_LARGE)}"
        )


if __name__ == "__main__":
    main()
