"""Where the wall time of one ``gameday run`` goes: the drill run in-process, its stages timed.

    cd SOME_PROJECT && .../.venv/bin/python /work/main/bench/trace_run.py SCENARIO OUT [--json]

Runs ``gameday.drill.assemble.run_drill(SCENARIO, DrillOptions(mode="ci", out=OUT))`` exactly as
``gameday run`` does, with thin timing wrappers (the original is called unchanged) around the
composition root's stages and the calls inside them that matter (scenario loading, intake start/stop, demo
reset, preflight and final probes, conductor, report rendering). Untimed gaps between
stages are mostly imports done inside functions. Prints an indented timeline (ms since
this script started; ``--json``: one JSON document instead). A profiling aid used by
bench_overhead.py; it never changes what the drill does.
"""

from __future__ import annotations

import time

T0 = time.perf_counter()

import functools  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

SPANS: list[tuple[float, float, str, int]] = []  # start, end, label, depth
_depth = [0]


def span(label: str, start: float, end: float, depth: int) -> None:
    SPANS.append((start - T0, end - T0, label, depth))


def wrap(owner, name: str, label: str) -> None:
    fn = getattr(owner, name)

    @functools.wraps(fn)
    def timed(*args, **kwargs):
        import threading

        main = threading.current_thread() is threading.main_thread()
        depth = _depth[0] if main else 1
        if main:
            _depth[0] += 1
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            if main:
                _depth[0] -= 1
            span(label if main else f"{label} [thread]", t, time.perf_counter(), depth)

    setattr(owner, name, timed)


def main() -> int:
    argv = [a for a in sys.argv[1:] if a != "--json"]
    as_json = "--json" in sys.argv
    scenario, out = Path(argv[0]), Path(argv[1])
    t = time.perf_counter()
    import gameday.cli  # noqa: F401  (what `gameday` imports first)

    span("import gameday.cli", t, time.perf_counter(), 0)
    t = time.perf_counter()
    import gameday.drill.assemble as assemble
    from gameday.drill.context import DrillOptions

    span("import gameday.drill.assemble", t, time.perf_counter(), 0)
    t = time.perf_counter()
    import gameday.adapters.probes as probes_mod
    import gameday.analysis.junit as junit
    import gameday.analysis.postmortem as postmortem
    import gameday.analysis.render as render
    import gameday.analysis.scorecard as scorecard
    import gameday.demo.control as control
    import gameday.drill.conductor as conductor
    import gameday.drill.observing as observing
    import gameday.drill.play as play
    import gameday.drill.reports as reports
    import gameday.drill.targets as targets
    import gameday.loader as loader
    import gameday.web.server as server

    span("import the modules run_drill imports (to wrap them)", t, time.perf_counter(), 0)
    wrap(targets, "prepare_target", "prepare_target")  # assemble imports it when it runs
    wrap(play, "run_with_signals", "run_with_signals")
    wrap(reports, "write_reports", "write_reports")
    for name in ("_intake", "_effects", "_probes", "_journal", "_live_view"):  # the default Factories
        wrap(assemble, name, f"factory {name.lstrip('_')}")
    # the dataclass defaults were bound at import: hand the wrapped factories in explicitly
    defaults = {name.lstrip("_"): getattr(assemble, name) for name in ("_intake", "_effects", "_probes", "_journal",
                                                                          "_live_view")}
    wrap(loader, "load_scenario", "load_scenario")
    wrap(server.BackgroundServer, "start", "intake server start")
    wrap(server.BackgroundServer, "stop", "intake server stop")
    wrap(control.DemoHandle, "reset", "demo reset")
    wrap(control.DemoHandle, "set_webhooks", "demo set_webhooks")
    wrap(observing.ProbeSet, "check", "probes.check (preflight/final)")
    wrap(observing.ProbeSet, "stop", "probe loop stop")
    wrap(probes_mod.HttpProbe, "_get_client", "HttpProbe client (httpx import + Client())")
    if hasattr(probes_mod, "_HttpPool"):  # http:// probes: stdlib keep-alive connections
        wrap(probes_mod._HttpPool, "_connect", "HttpProbe new connection (http.client)")
    wrap(conductor.Conductor, "_finish", "conductor finish (rollback, final check)")
    wrap(scorecard, "score_journal", "score_journal")
    wrap(render, "render_scorecard", "render_scorecard")
    wrap(postmortem, "render_postmortem", "render_postmortem")
    wrap(junit, "junit_xml", "junit_xml")
    code = None
    t = time.perf_counter()
    try:
        factories = assemble.Factories(**defaults)  # type: ignore[arg-type]
        code = assemble.run_drill(scenario, DrillOptions(mode="ci", out=out), factories=factories, echo=lambda line: None)
    finally:
        span("run_drill (whole)", t, time.perf_counter(), -1)
        end = time.perf_counter() - T0
        spans = sorted(SPANS, key=lambda s: (s[0], s[3]))
        if as_json:
            print(json.dumps({"exit": code, "total_ms": end * 1e3, "spans": [
                {"label": lbl, "start_ms": a * 1e3, "ms": (b - a) * 1e3, "depth": d} for a, b, lbl, d in spans]}))
        else:
            for a, b, lbl, d in spans:
                print(f"{a * 1e3:8.1f} ms  {'  ' * max(d, 0)}{lbl}: {(b - a) * 1e3:.1f} ms")
            print(f"{end * 1e3:8.1f} ms  end (exit {code})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
