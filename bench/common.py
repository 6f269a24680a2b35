"""Shared helpers of the live-drill benchmarks: results, statistics, the table, tmp dirs, the demo.

Every benchmark module exposes ``run(quick: bool = False) -> list[Result]`` and a
``main()`` that prints its own figures; :mod:`run_all` runs them all and prints one table.
Everything runs on 127.0.0.1 and is bounded in time (each wait has a deadline).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
VENV_BIN = Path(sys.executable).parent  # run with .venv/bin/python: the venv's scripts sit beside it
PY = sys.executable
GAMEDAY = str(VENV_BIN / "gameday")
CHAOS = str(VENV_BIN / "chaos")


def _warm_bytecode_for_children() -> str | None:
    """Let the processes the benchmarks start keep compiled bytecode, as an installed gameday does.

    With PYTHONDONTWRITEBYTECODE set (some sandboxes and CI images), gameday — installed
    editable, its sources in the repository without .pyc — would compile every module from
    source in every `gameday run` (~70 ms), while chaos, from site-packages, has its .pyc from
    installation: the warm-ups would not warm what they are meant to. The children therefore
    write and read .pyc in a private cache folder in the system tmp (PYTHONPYCACHEPREFIX: the
    repository gets no __pycache__; kept across runs, like any cache). Returns that folder,
    or None when nothing needed changing. Not applied with GAMEDAY_BENCH_NO_PYC_CACHE=1.
    """
    if not os.environ.get("PYTHONDONTWRITEBYTECODE") or os.environ.get("GAMEDAY_BENCH_NO_PYC_CACHE") == "1":
        return None
    folder = os.environ.get("PYTHONPYCACHEPREFIX") or os.path.join(
        tempfile.gettempdir(), f"gameday-bench-pycache-{os.getuid() if hasattr(os, 'getuid') else 'user'}")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = folder
    return folder


PYC_CACHE = _warm_bytecode_for_children()  # children inherit os.environ


@dataclass
class Result:
    """One row of the table.

    ``target_on`` says what the target bounds: the ``value`` itself (e.g. p99 ≤ 5 ms) or
    the ``ratio`` value / baseline (e.g. ≤ 0.6). ``ratio`` is always value / baseline.
    """

    measure: str
    value: float | None
    unit: str
    target: float
    target_on: str = "value"  # value | ratio | ratio_near_1 (|ratio - 1| <= target)
    baseline: float | None = None
    baseline_label: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    @property
    def passed(self) -> bool:
        if self.error is not None or self.value is None:
            return False
        if self.target_on == "ratio_near_1":  # both ways: |ratio - 1| <= target
            return self.ratio is not None and abs(self.ratio - 1.0) <= self.target
        bound = self.ratio if self.target_on == "ratio" else self.value
        return bound is not None and bound <= self.target

    def as_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["ratio"] = self.ratio
        d["passed"] = self.passed
        return d


def failed(measure: str, unit: str, target: float, exc: BaseException, target_on: str = "value") -> Result:
    """A row for a benchmark that could not run (shown as FAIL with the error; traceback on stderr)."""
    import traceback

    traceback.print_exception(exc, file=sys.stderr)
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    at = f" (at {Path(where.filename).name}:{where.lineno})" if where else ""
    return Result(measure, None, unit, target, target_on, error=f"{type(exc).__name__}: {exc}{at}"[:400])


# ------------------------------------------------------------------ statistics
def pct(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0..100), nearest-rank on the sorted values (p99 of 300 = 297th value)."""
    if not values:
        return math.nan
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p / 100.0 * len(s)) - 1))
    return s[k]


def summary(values: Sequence[float], scale: float = 1.0) -> dict[str, float]:
    """n, p50, p90, p99, max, mean of ``values`` (multiplied by ``scale``, e.g. 1e3 for ms)."""
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50": pct(values, 50) * scale, "p90": pct(values, 90) * scale,
            "p99": pct(values, 99) * scale, "max": max(values) * scale, "min": min(values) * scale,
            "mean": statistics.fmean(values) * scale}


def fmt_summary(name: str, s: dict[str, float], unit: str = "ms") -> str:
    if not s.get("n"):
        return f"  {name:<48} (no samples)"
    return (f"  {name:<48} n={s['n']:<4} p50={s['p50']:8.3f} p90={s['p90']:8.3f} p99={s['p99']:8.3f} "
            f"max={s['max']:8.3f} {unit}")


# ----------------------------------------------------------------------- table
def _num(v: float | None, unit: str = "") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    text = f"{v:.3f}" if abs(v) < 10 else (f"{v:.2f}" if abs(v) < 100 else f"{v:.1f}")
    return f"{text} {unit}".strip()


def table(results: Sequence[Result]) -> str:
    rows = [("measure", "value", "target", "baseline (same run)", "ratio", "result")]
    for r in results:
        target = (f"ratio <= {r.target:g}" if r.target_on == "ratio" else f"ratio 1 ± {r.target:g}"
                  if r.target_on == "ratio_near_1" else f"<= {r.target:g} {r.unit}".strip())
        base = f"{_num(r.baseline, r.unit)} ({r.baseline_label})" if r.baseline is not None else "-"
        ratio = (f"{r.ratio:.4f}" if r.target_on == "ratio_near_1" else f"{r.ratio:.2f}") if r.ratio is not None else "-"
        verdict = "PASS" if r.passed else ("FAIL (error)" if r.error else "FAIL")
        rows.append((r.measure, _num(r.value, r.unit), target, base, ratio, verdict))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for i, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    for r in results:
        if r.error:
            lines.append(f"! {r.measure}: {r.error}")
    return "\n".join(lines)


def write_json(results: Sequence[Result], path: Path | None = None, extra: dict[str, Any] | None = None) -> Path:
    path = path or RESULTS / "latest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"when": datetime.now().astimezone().isoformat(timespec="seconds"), "python": sys.version.split()[0],
           "cpus": os.cpu_count(), "loadavg": os.getloadavg(), "children_pyc_cache": PYC_CACHE, **(extra or {}),
           "results": [r.as_json() for r in results]}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    os.replace(tmp, path)
    return path


def report(results: Sequence[Result], *, name: str) -> None:
    """What a benchmark run alone prints at its end (and saves as results/<name>.json)."""
    print()
    print(table(results))
    print(f"(saved {write_json(results, RESULTS / f'{name}.json').relative_to(ROOT)})")


# ------------------------------------------------------------ helper servers
@contextmanager
def port_process(argv: Sequence[str], what: str) -> Iterator[tuple[str, int]]:
    """A helper server in its own process that prints ``PORT N`` once it listens and quits when its
    stdin closes; yields (its ``http://127.0.0.1:N`` URL, its pid). Always stopped (killed after 5 s)."""
    proc = subprocess.Popen(list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if not line.startswith("PORT "):
            raise RuntimeError(f"{what} did not start (said {line!r})")
        yield f"http://127.0.0.1:{int(line.split()[1])}", proc.pid
    finally:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


# -------------------------------------------------------------------- tmp dirs
@contextmanager
def tmpdir(prefix: str) -> Iterator[Path]:
    """A scratch folder in the system tmp (outside /work/main: no gameday.yaml above it, so a
    `gameday run` there has its own project root and state; never the repository's .gameday)."""
    path = Path(tempfile.mkdtemp(prefix=f"gameday-bench-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def iso_to_epoch(text: str) -> float:
    """A journal ``wall`` (``2026-11-28T00:45:21.429318Z``) as POSIX seconds."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


# ------------------------------------------------------------------------ demo
@dataclass
class Demo:
    cwd: Path
    url: str
    control_url: str

    def env(self) -> dict[str, str]:
        """The environment a `chaos run` of the repository's experiments needs to find this demo."""
        return {**os.environ, "GAMEDAY_DEMO_CONTROL_URL": self.control_url, "GAMEDAY_CHECKOUT_URL": self.url}


@contextmanager
def demo(cwd: Path) -> Iterator[Demo]:
    """`gameday demo up` in ``cwd`` (its own .gameday state), `gameday demo down` at the end, always."""
    up = subprocess.run([GAMEDAY, "demo", "up"], cwd=cwd, capture_output=True, text=True, timeout=60)
    try:
        if up.returncode != 0:
            raise RuntimeError(f"gameday demo up failed ({up.returncode}): {up.stderr.strip() or up.stdout.strip()}")
        state = json.loads((cwd / ".gameday" / "demo" / "state.json").read_text())
        yield Demo(cwd, state["url"], state["control_url"])
    finally:
        subprocess.run([GAMEDAY, "demo", "down"], cwd=cwd, capture_output=True, text=True, timeout=60)


def wait_for(predicate, timeout: float, interval: float = 0.005, what: str = "condition"):
    """Poll ``predicate`` until it returns something truthy (returned), or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


def read_events(path: Path) -> list[dict[str, Any]]:
    """Journal lines parsed leniently (a drill still writing may have a torn last line)."""
    out = []
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return out
    for line in data.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            break
    return out
