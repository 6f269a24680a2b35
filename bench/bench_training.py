"""Training benchmark (issue 13): a scripted training drill on a compressed clock, its speed and its fidelity.

The drill is the shipped one: ``scenarios/training-3-checkout-cascade.yaml`` played by its scripted trainee
(``scenarios/responders/training-3-checkout-cascade.yaml``, trainee ``dana``, seed 3): about 26 minutes of
scenario time (``DrillEnded.t`` of its journal, 1574 s), ~95 journal events. Every run is the real CLI in a
subprocess, in a scratch folder of its own (its own project root and ``.gameday/``)::

    gameday run SCENARIO --mode training --trainee dana --seed 3 --responders SCRIPT --out DIR --pace P

so what is timed is what a user waits for: interpreter start-up, imports, loading, the drill on the scenario
clock, the reports (scorecard, postmortem, JUnit, ``training.md``/``.html``), interpreter exit.

**1. The compressed run** (target: wall ≤ scenario time / 100). ``--pace 30m:9s`` (×200): wall time of the
process (``perf_counter`` from just before it starts to its exit), median of 5 (2 with ``--quick``).
Baseline, the same drill at ``--pace instant`` (it jumps to each next deadline at once: what the drill costs
without any waiting), interleaved run by run with the ×200 ones (the order alternating), after one warm-up at
instant. Printed: each run, the spread (min, max), the ideal wall at ×200 (scenario time / 200: the sleeping
alone) and where the rest goes — from the journal's lines as this process sees them appear (a ``stat`` every
10 ms; not the journal's ``wall``, which a paced simulated drill moves back by scenario seconds): process start
→ DrillStarted, DrillStarted → DrillEnded, DrillEnded → exit (the reports) — and how late the events come
against their scenario offsets: ``seen − (DrillStarted seen + t / 200)``.

**2. Fidelity** (target: 0 differences). The same drill at 1/10 speed (``--pace 10m:1m``, ×10, ~2.6 minutes;
``--quick`` plays it at ×50, ``--pace 50m:1m``, ~32 s, and says so) — started first and left running in the
background while the timed runs go (it sleeps nearly all the time; its start-up is over before they begin,
its reports are written after they end) — against every ×200 run:

* ``training.md`` byte for byte, and the rubric (``score_training(read_journal(path).events).model_dump()``
  without ``drill_id`` and ``started_wall``, the run's identity): same verdicts, same why, same evidence
  (seqs, times, texts), same hints and score. A differing field or line is listed.
* the journals as (t, kind, source, data) sequences, without wall and seq, without the run's identity in
  ``DrillStarted`` (``drill_id``, made from the wall clock; ``webhook_url``, the intake's free port) and
  without ``PaceSet``'s ``pace``/``factor`` (the pace itself); counted as events differing (difflib opcodes,
  the first few listed field by field).

The instant runs are compared the same way (printed, in the JSON, not a row).

    .venv/bin/python bench/bench_training.py [--quick] [--runs N] [--slow-pace P]
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import GAMEDAY, ROOT, Result, failed, read_events, report, tmpdir

SCENARIO = ROOT / "scenarios" / "training-3-checkout-cascade.yaml"
SCRIPT = ROOT / "scenarios" / "responders" / "training-3-checkout-cascade.yaml"
TRAINEE, SEED = "dana", 3
SHARE = 100  # the target: wall <= scenario time / SHARE
FAST = "30m:9s"  # x200
SLOW, QUICK_SLOW = "10m:1m", "50m:1m"  # x10; x50 with --quick
RUN_TIMEOUT = 120.0  # s, an instant or x200 run
OK_CODES = (0, 1)  # 1: expectations not met (the scripted trainee restarts the database first, on purpose)
NOMINAL_TARGET = 1574.007 / SHARE  # s, for a row when the drill could not run (else measured: DrillEnded.t / SHARE)


def _factor(pace: str) -> float | None:
    from gameday.sim.pace import parse_pace

    return parse_pace(pace).factor


def _label(pace: str) -> str:
    f = _factor(pace)
    return pace if f is None else f"x{f:g}"


# ------------------------------------------------------------------- one run
@dataclass
class Run:
    """One ``gameday run`` of the drill: its process times and what it left (copied out of its scratch folder)."""

    pace: str
    wall: float = 0.0  # s, perf_counter from just before the process started to its exit seen
    seen: dict[int, float] = field(default_factory=dict)  # seq -> when its line appeared (s from process start)
    code: int | None = None
    stderr: str = ""
    journal: list[dict[str, Any]] = field(default_factory=list)
    training_md: bytes | None = None
    rubric: dict[str, Any] | None = None
    rubric_error: str | None = None

    @property
    def scenario_time(self) -> float:
        ended = [e for e in self.journal if e.get("kind") == "DrillEnded"]
        if not ended:
            raise RuntimeError(f"pace {self.pace}: the journal has no DrillEnded")
        return float(ended[-1]["t"])

    def components(self) -> dict[str, float]:
        """From the journal's lines as this process saw them appear (polled every POLL s; the journal's own
        ``wall`` is not used): process start -> DrillStarted, DrillStarted -> DrillEnded, DrillEnded ->
        process exit (the reports), s; at a paced pace, each event's lateness against its scenario offset:
        seen − (DrillStarted seen + t / factor), its median and max."""
        if not self.seen:
            return {}
        end = next(e["seq"] for e in reversed(self.journal) if e["kind"] == "DrillEnded")
        first = self.seen[0]
        out = {"start_to_drill": first, "drill": self.seen[end] - first, "ended_to_exit": self.wall - self.seen[end]}
        factor = _factor(self.pace)
        if factor:
            late = [self.seen[e["seq"]] - (first + e["t"] / factor) for e in self.journal if e["seq"] in self.seen]
            out["event_lateness_max"] = max(late)
            out["event_lateness_median"] = statistics.median(late)
        return out


POLL = 0.01  # s: how often a timed run's journal is looked at (a stat; new lines read when it grew)


class _Watcher:
    """When each journal line appeared (perf_counter − ``t0``), by seq: the journal's ``wall`` is not used
    for timing (in a paced simulated drill an event journaled at its scenario offset has a ``wall`` moved back
    by scenario seconds, not wall seconds: see the README)."""

    def __init__(self, path: Path, t0: float):
        self.path, self.t0, self.size, self.buf, self.seen = path, t0, 0, b"", {}

    def poll(self) -> None:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        if size == self.size:
            return
        now = time.perf_counter() - self.t0
        with self.path.open("rb") as f:
            f.seek(self.size)
            data = f.read()
        self.size += len(data)
        *lines, self.buf = (self.buf + data).split(b"\n")
        for line in lines:
            with contextlib.suppress(ValueError, KeyError):
                self.seen.setdefault(int(json.loads(line)["seq"]), now)


def _argv(pace: str, out: Path) -> list[str]:
    return [GAMEDAY, "run", str(SCENARIO), "--mode", "training", "--trainee", TRAINEE, "--seed", str(SEED),
            "--responders", str(SCRIPT), "--out", str(out), "--pace", pace]


def _finish(run: Run, out: Path) -> Run:
    if run.code not in OK_CODES or "Traceback" in run.stderr:
        raise RuntimeError(f"pace {run.pace}: gameday run exited {run.code}: {run.stderr.strip()[-600:]}")
    run.journal = read_events(out / "journal.jsonl")
    md = out / "training.md"
    run.training_md = md.read_bytes() if md.exists() else None
    try:
        from gameday.analysis.rubric import score_training
        from gameday.journal import read_journal

        run.rubric = score_training(read_journal(out / "journal.jsonl").events).model_dump(mode="json")
    except Exception as exc:  # noqa: BLE001 - reported as a difference, not a crash
        run.rubric_error = f"{type(exc).__name__}: {exc}"
    return run


def play(pace: str) -> Run:
    """One run of the drill at ``pace``, timed, in a scratch folder (removed afterwards); its journal watched."""
    with tmpdir("training") as work:
        out = work / "out"
        run = Run(pace)
        with (work / "stdout.txt").open("w") as so, (work / "stderr.txt").open("w") as se:
            t0 = time.perf_counter()
            proc = subprocess.Popen(_argv(pace, out), cwd=work, stdout=so, stderr=se)
            watch = _Watcher(out / "journal.jsonl", t0)
            try:
                while proc.poll() is None:
                    if time.perf_counter() - t0 > RUN_TIMEOUT:
                        raise TimeoutError(f"pace {pace}: gameday run did not end within {RUN_TIMEOUT:g}s")
                    watch.poll()
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        proc.wait(POLL)  # returns at the exit
                run.wall = time.perf_counter() - t0
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(10)
        watch.poll()
        run.seen = watch.seen
        run.code, run.stderr = proc.returncode, (work / "stderr.txt").read_text()
        return _finish(run, out)


class Background:
    """The slow run, in its own process and scratch folder, left playing while the timed runs go; always
    stopped (killed when it outlives its deadline) and its folder removed."""

    def __init__(self, pace: str):
        self.pace = pace
        self._tmp = tmpdir("training-slow")
        self.work = self._tmp.__enter__()
        self.out = self.work / "out"
        self.run = Run(pace)
        self._t0 = time.perf_counter()
        self.proc = subprocess.Popen(_argv(pace, self.out), cwd=self.work, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)

    def started(self, timeout: float) -> None:
        """Returns once the drill's DrillStarted is journaled (its start-up is over)."""
        deadline = time.monotonic() + timeout
        while not read_events(self.out / "journal.jsonl"):
            if self.proc.poll() is not None:
                raise RuntimeError(f"the {self.pace} run ended at once ({self.proc.returncode}): "
                                   f"{(self.proc.stderr.read() if self.proc.stderr else '')[-600:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the {self.pace} run did not start within {timeout:g}s")
            time.sleep(0.05)

    def finish(self, timeout: float) -> Run:
        try:
            _, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"the {self.pace} run did not end within {timeout:g}s") from None
        self.run.wall = time.perf_counter() - self._t0
        self.run.code, self.run.stderr = self.proc.returncode, err
        return _finish(self.run, self.out)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._tmp.__exit__(None, None, None)


# ----------------------------------------------------------------- comparing
_RUN_IDENTITY = ("drill_id", "started_wall")


# left out of the journal comparison: each run's identity, and the pace itself
_NOT_COMPARED = {"DrillStarted": ("drill_id", "webhook_url"),  # the id (wall clock), the intake's free port
                 "PaceSet": ("pace", "factor")}


def _journal_key(e: dict[str, Any]) -> str:
    data = {k: v for k, v in (e.get("data") or {}).items() if k not in _NOT_COMPARED.get(e.get("kind", ""), ())}
    return json.dumps([e.get("t"), e.get("kind"), e.get("source"), data], sort_keys=True)


def journal_diff(a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]]) -> tuple[int, list[str]]:
    """Events differing between two journals as (t, kind, source, data) sequences, and the first few, named."""
    ka, kb = [_journal_key(e) for e in a], [_journal_key(e) for e in b]
    count, shown = 0, []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ka, kb, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        count += max(i2 - i1, j2 - j1)
        for k in range(max(i2 - i1, j2 - j1)):
            if len(shown) >= 12:
                break
            x = a[i1 + k] if i1 + k < i2 else None
            y = b[j1 + k] if j1 + k < j2 else None
            shown.append(_brief(x, y))
    return count, shown


def _brief(x: dict[str, Any] | None, y: dict[str, Any] | None) -> str:
    """Two events that differ: their seq, t and kind, and the fields that differ (both values)."""
    def head(e: dict[str, Any] | None) -> str:
        return "(none)" if e is None else f"#{e.get('seq')} t={e.get('t')} {e.get('kind')}"

    if x is None or y is None:
        return f"{head(x)}  <>  {head(y)}"
    fx, fy = _flat({k: x.get(k) for k in ("t", "kind", "source", "data")}), _flat(
        {k: y.get(k) for k in ("t", "kind", "source", "data")})
    fields = [f"{k}: {fx.get(k)!r:.80} != {fy.get(k)!r:.80}" for k in sorted(set(fx) | set(fy)) if fx.get(k) != fy.get(k)]
    return f"{head(x)}  <>  {head(y)}: " + "; ".join(fields[:4])


def _flat(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flat(v, f"{path}.{k}" if path else str(k)))
        return out
    if isinstance(value, list):
        out = {f"{path}.#len": len(value)}
        for i, v in enumerate(value):
            out.update(_flat(v, f"{path}[{i}]"))
        return out
    return {path: value}


def rubric_diff(a: Run, b: Run) -> list[str]:
    """The rubric's fields that differ (without the run's identity), as 'path: a != b'."""
    if a.rubric is None or b.rubric is None:
        return [f"rubric not scored: {a.rubric_error or b.rubric_error}"]
    fa = {k: v for k, v in _flat(a.rubric).items() if k not in _RUN_IDENTITY}
    fb = {k: v for k, v in _flat(b.rubric).items() if k not in _RUN_IDENTITY}
    return [f"{k}: {fa.get(k)!r} != {fb.get(k)!r}" for k in sorted(set(fa) | set(fb)) if fa.get(k) != fb.get(k)]


def md_diff(a: Run, b: Run) -> list[str] | None:
    """The lines of training.md that differ (unified diff, changed lines only), None when either has none."""
    if a.training_md is None or b.training_md is None:
        return None
    if a.training_md == b.training_md:
        return []
    lines = difflib.unified_diff(a.training_md.decode().splitlines(), b.training_md.decode().splitlines(),
                                 a.pace, b.pace, lineterm="", n=0)
    return [ln for ln in lines if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]


def compare(slow: Run, other: Run) -> dict[str, Any]:
    md = md_diff(slow, other)
    rub = rubric_diff(slow, other)
    events, shown = journal_diff(slow.journal, other.journal)
    return {"pace": other.pace, "training_md_compared": md is not None, "training_md_equal": md == [],
            "training_md_bytes": [len(slow.training_md or b""), len(other.training_md or b"")],
            "training_md_diff": (md or [])[:40], "rubric_equal": not rub, "rubric_diff": rub[:40],
            "journal_events": [len(slow.journal), len(other.journal)], "journal_events_differing": events,
            "journal_diff": shown}


# --------------------------------------------------------------------- run
def _spread(values: Sequence[float]) -> str:
    return (f"median {statistics.median(values):.3f} s, min {min(values):.3f}, max {max(values):.3f} "
            f"({', '.join(f'{v:.3f}' for v in values)})")


def _med(runs: Sequence[Run], key: str) -> float:
    return statistics.median(r.components()[key] for r in runs)


def figures(runs: int, slow_pace: str, quick: bool) -> list[Result]:
    fast_f, slow_f = _factor(FAST), _factor(slow_pace)
    assert fast_f and slow_f
    warm = play("instant")  # warm-up (and the scenario time, for the deadlines)
    scenario_time = warm.scenario_time
    bg = Background(slow_pace)
    try:
        bg.started(60)
        fast: list[Run] = []
        instant: list[Run] = []
        for i in range(runs):  # interleaved, the order alternating
            for pace in (("instant", FAST) if i % 2 == 0 else (FAST, "instant")):
                r = play(pace)
                (instant if pace == "instant" else fast).append(r)
                print(f"  run {i + 1}/{runs} {_label(pace):>8}: {r.wall:7.3f} s (exit {r.code})", flush=True)
        print(f"  waiting for the {_label(slow_pace)} run (scenario time {scenario_time:.0f} s / {slow_f:g} "
              f"= {scenario_time / slow_f:.0f} s of wall)...", flush=True)
        slow = bg.finish(scenario_time / slow_f + 180)
    finally:
        bg.close()

    times = {r.scenario_time for r in [*fast, *instant, slow]}
    if len(times) != 1:
        print(f"  ! the runs' scenario times differ: {sorted(times)}")
    target = scenario_time / SHARE
    fw, iw = [r.wall for r in fast], [r.wall for r in instant]
    ideal = scenario_time / fast_f
    print(f"drill: {SCENARIO.relative_to(ROOT)}, trainee {TRAINEE}, seed {SEED}; scenario time "
          f"(DrillEnded.t) {scenario_time:.3f} s ({scenario_time / 60:.1f} min), {len(slow.journal)} events")
    print(f"  target: wall <= scenario time / {SHARE} = {target:.3f} s")
    print(f"  {_label(FAST)} (--pace {FAST}) process wall: {_spread(fw)}")
    print(f"    ideal (scenario time / {fast_f:g}, the sleeping alone): {ideal:.3f} s; median above it "
          f"{statistics.median(fw) - ideal:.3f} s (the whole instant run: {statistics.median(r.wall for r in instant):.3f} s)")
    print(f"    process start -> DrillStarted {_med(fast, 'start_to_drill'):.3f} s, DrillStarted -> DrillEnded "
          f"{_med(fast, 'drill'):.3f} s, DrillEnded -> exit (reports) {_med(fast, 'ended_to_exit'):.3f} s (medians)")
    print(f"    event lateness against its scenario offset (seen - (DrillStarted seen + t/{fast_f:g})): median "
          f"{_med(fast, 'event_lateness_median') * 1e3:.1f} ms, "
          f"max {max(r.components()['event_lateness_max'] for r in fast) * 1e3:.1f} ms")
    print(f"  baseline, --pace instant process wall: {_spread(iw)}")
    print(f"    process start -> DrillStarted {_med(instant, 'start_to_drill'):.3f} s, DrillStarted -> DrillEnded "
          f"{_med(instant, 'drill'):.3f} s, DrillEnded -> exit {_med(instant, 'ended_to_exit'):.3f} s (medians)")
    print(f"  {_label(slow_pace)} (--pace {slow_pace}) process wall {slow.wall:.3f} s (ideal {scenario_time / slow_f:.3f}, "
          f"started before the timed runs, ran beside them)" + ("  [--quick: x50 instead of x10]" if quick else ""))

    comparisons = [compare(slow, r) for r in fast]
    vs_instant = [compare(slow, r) for r in instant]
    md_compared = all(c["training_md_compared"] for c in comparisons)
    md_lines = sum(len(c["training_md_diff"]) for c in comparisons)
    rub_fields = sum(len(c["rubric_diff"]) for c in comparisons)
    ev_max = max(c["journal_events_differing"] for c in comparisons)
    slow_name = _label(slow_pace)
    print(f"fidelity: the {slow_name} run against each of the {len(fast)} {_label(FAST)} runs"
          f" (and, printed only, the {len(instant)} instant runs):")
    for c in [*comparisons, *vs_instant]:
        md = ("training.md equal" if c["training_md_equal"] else
              (f"training.md DIFFERS ({len(c['training_md_diff'])} lines)" if c["training_md_compared"]
               else "training.md not written"))
        print(f"  {_label(c['pace']):>8}: {md}; rubric {'equal' if c['rubric_equal'] else 'DIFFERS'}; "
              f"journal events differing {c['journal_events_differing']} (of {c['journal_events'][0]})")
        for line in [*c["training_md_diff"][:8], *c["rubric_diff"][:8], *c["journal_diff"][:8]]:
            print(f"      {line}")
    if slow.training_md is not None:
        print(f"  training.md: {len(slow.training_md)} bytes; rubric verdicts "
              f"{', '.join(i['id'] + '=' + i['verdict'] for i in (slow.rubric or {}).get('items', []))}")

    details = {"scenario": str(SCENARIO.relative_to(ROOT)), "script": str(SCRIPT.relative_to(ROOT)), "seed": SEED,
               "scenario_time_s": scenario_time, "fast_pace": FAST, "fast_factor": fast_f, "walls_fast_s": fw,
               "walls_instant_s": iw, "warmup_instant_s": warm.wall, "ideal_fast_s": ideal,
               "above_ideal_median_s": statistics.median(fw) - ideal,
               "components_fast": [r.components() for r in fast], "components_instant": [r.components() for r in instant],
               "exit_codes": sorted({r.code for r in [*fast, *instant, slow]}), "subprocess": True}
    fid = {"slow_pace": slow_pace, "slow_factor": slow_f, "slow_wall_s": slow.wall,
           "quick_x50": quick, "vs_fast": comparisons, "vs_instant": vs_instant,
           "training_md_compared": md_compared}
    what = "report equal" if md_compared else "report equal (rubric only: training.md not written)"
    return [
        Result(f"training: {_label(FAST)} run wall (s, median of {len(fw)})", statistics.median(fw), "s", target,
               baseline=statistics.median(iw), baseline_label="same drill at --pace instant", details=details),
        Result(f"training: {what} at {slow_name} and {_label(FAST)} (lines+fields differing)",
               float(md_lines + rub_fields if md_compared else rub_fields), "", 0.0, details=fid),
        Result(f"training: journal events differing, {slow_name} vs {_label(FAST)} (max of {len(fast)})",
               float(ev_max), "", 0.0, details={"per_run": [c["journal_events_differing"] for c in comparisons]}),
    ]


def run(quick: bool = False, runs: int | None = None, slow_pace: str | None = None) -> list[Result]:
    runs = runs or (2 if quick else 5)
    slow_pace = slow_pace or (QUICK_SLOW if quick else SLOW)
    try:
        return figures(runs, slow_pace, quick)
    except Exception as exc:  # noqa: BLE001 - a broken benchmark is a FAIL row, not a crash
        return [failed(f"training: {_label(FAST)} run wall (s)", "s", NOMINAL_TARGET, exc)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help=f"2 runs of each, the slow run at x50 ({QUICK_SLOW})")
    ap.add_argument("--runs", type=int, help="timed runs of each pace (default 5; 2 with --quick)")
    ap.add_argument("--slow-pace", help=f"the pace to compare with (default {SLOW}; {QUICK_SLOW} with --quick)")
    args = ap.parse_args()
    report(run(args.quick, args.runs, args.slow_pace), name="training")


if __name__ == "__main__":
    sys.exit(main())
