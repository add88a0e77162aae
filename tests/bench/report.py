"""Results of `./noos bench`: one Result per table row, the Markdown table, the
JSON file and the machine they were measured on."""

import dataclasses
import datetime
import json
import os
import platform
import statistics
import subprocess

SUBJECTS = ("noos", "linux", "floor")
LABELS = {"noos": "noos", "linux": "Linux", "floor": "floor"}

OK, NOT_AVAILABLE, FAILED = "ok", "not available", "failed"


@dataclasses.dataclass
class Result:
    """One row of the table: samples per subject (noos, linux, floor)."""

    id: str  # stable key for tracking: "boot-exit", "size-hello", ...
    title: str
    arch: str
    machine: str = "—"
    unit: str = "s"  # s, bytes, MiB, req/s, MB/s
    samples: dict = dataclasses.field(default_factory=dict)  # subject -> [numbers]
    errors: dict = dataclasses.field(default_factory=dict)  # subject -> why it has no number
    expect: tuple = SUBJECTS  # the subjects this row measures
    status: str = OK
    note: str = ""
    target: str = "—"
    met: bool = None  # the target reached? None: no target or cannot tell
    extra: dict = dataclasses.field(default_factory=dict)  # more machine-readable detail

    def stat(self, subject, fn):
        s = self.samples.get(subject)
        return fn(s) if s else None

    def minimum(self, subject):
        return self.stat(subject, min)

    def median(self, subject):
        return self.stat(subject, statistics.median)

    def ratio(self):
        """noos / Linux, of the medians."""
        n, lx = self.median("noos"), self.median("linux")
        return n / lx if n is not None and lx else None

    def over_floor(self):
        """noos − floor, of the medians."""
        n, f = self.median("noos"), self.median("floor")
        return n - f if n is not None and f is not None else None

    def missing(self):
        """The subjects this row measures that have no number."""
        return [s for s in self.expect if not self.samples.get(s)]

    def to_json(self):
        d = dataclasses.asdict(self)
        d["stats"] = {s: {"min": self.minimum(s), "median": self.median(s)}
                      for s in SUBJECTS if self.samples.get(s)}
        d["ratio_noos_linux"] = self.ratio()
        d["noos_minus_floor"] = self.over_floor()
        return d


def not_available(id, title, arch, reason, machine="—", unit="", target="—"):
    return Result(id, title, arch, machine, unit, status=NOT_AVAILABLE,
                  note=f"not available yet ({reason})", target=target)


# ---------------------------------------------------------------- formatting

def fmt(value, unit, signed=False):
    if value is None:
        return "—"
    sign = "+" if signed and value >= 0 else ""
    if unit == "s":
        return f"{sign}{value * 1000:.0f} ms"
    if unit == "bytes":
        return f"{sign}{value / 1024:.1f} KiB" if abs(value) >= 1024 else f"{sign}{value:.0f} B"
    if unit == "MiB":
        return f"{sign}{value:.0f} MiB"
    return f"{sign}{value:.4g} {unit}"


def fmt_ratio(r):
    if r is None:
        return "—"
    return f"{r:.3f}×" if r < 0.1 else f"{r:.2f}×"


def cells(r):
    """The value cells of a row, in column order."""
    if r.status == NOT_AVAILABLE:
        return ["n/a"] * 8
    out = []
    for s in SUBJECTS:
        if r.samples.get(s):
            out += [fmt(r.minimum(s), r.unit), fmt(r.median(s), r.unit)]
        else:
            out += ["—", "—"]
    return out + [fmt_ratio(r.ratio()), fmt(r.over_floor(), r.unit, signed=True)]


def met_mark(r):
    return {True: "yes", False: "no", None: "—"}[r.met]


def markdown_table(results):
    head = ["Row", "Arch", "Machine", "noos min", "noos median", "Linux min", "Linux median",
            "floor min", "floor median", "noos/Linux", "noos − floor", "Target", "Met", "Note"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        note = r.note
        for s, why in r.errors.items():
            note += ("; " if note else "") + f"{LABELS[s]}: {why}"
        row = [r.title, r.arch, r.machine] + cells(r) + [r.target, met_mark(r), note or ""]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |")
    return "\n".join(lines)


def markdown(info, results):
    load = info["load_average"]
    text = [
        "# noos bench results",
        "",
        f"- Date: {info['date']}",
        f"- Host: {info['cpu']}, {info['cores']} cores, Linux {info['host_kernel']}",
        f"- QEMU: {', '.join(sorted(set(info['qemu'].values())))}; accelerator: {info['accel']}",
        f"- Load average (1 min) before / after: {load['before']} / {load['after']}",
        f"- Runs per subject: {info['runs']}, alternating noos, Linux and the floor"
        + (" (smoke: one short run of each row)" if info.get("smoke") else ""),
    ] + [f"- Linux guest ({arch}): {what}" for arch, what in info["linux"].items()] + [
        "",
        "Ratios and differences are of the medians. The floor is the least a kernel can "
        "do under the same QEMU flags (print a line and exit): what QEMU itself costs.",
        "",
        markdown_table(results),
        "",
    ]
    return "\n".join(text)


def write(out_dir, info, results):
    """results.md and results.json in out_dir; returns the Markdown."""
    os.makedirs(out_dir, exist_ok=True)
    md = markdown(info, results)
    with open(os.path.join(out_dir, "results.md"), "w") as f:
        f.write(md)
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump({"machine": info, "rows": [r.to_json() for r in results]}, f, indent=1)
        f.write("\n")
    return md


# ---------------------------------------------------------------- the machine

def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("model name", "Model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def qemu_version(binary="qemu-system-x86_64"):
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
        return out.splitlines()[0].replace("QEMU emulator version ", "") if out else "unknown"
    except OSError:
        return "not installed"


def load_average():
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def machine_info(runs, smoke=False):
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "host_kernel": platform.release(),
        "qemu": {},  # arch -> QEMU version
        "accel": "TCG",
        "runs": runs,
        "smoke": smoke,
        "load_average": {"before": load_average(), "after": None},
        "linux": {},  # arch -> the guest's packages, or why there is none
    }
