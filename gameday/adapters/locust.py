"""locust as a subprocess: command lines, the stats it reports, the request names a locustfile uses.

Nothing here imports locust (it monkey-patches the whole process with gevent on import):
locust always runs as its own process (``locust -f USER_FILE,PLUGIN --headless ...``), with
:mod:`gameday.adapters.locust_plugin` loaded beside the user's locustfile to write exact
per-interval stats as JSON Lines (see that module for why not ``--csv-full-history``).
locust's own ``--csv`` files and ``--json-file`` totals are kept beside them for people.

* :func:`plan` — the processes to start (one, or a master and N workers on loopback), at the
  CPU priority (:func:`priority_prefix`) and on the CPUs (:func:`placement`, :func:`cpu_prefix`)
  of ``load.priority`` and ``load.cpus``.
* :func:`parse_stats_line` / :func:`journal_stats` — a plugin line, and the ``LoadStats``
  payload it becomes (offsets on the drill's clock).
* :func:`read_totals` — locust's final ``--json-file`` figures, per request name.
* :func:`request_names` — the request names a locustfile uses (an AST scan, no import).
"""

from __future__ import annotations

import ast
import json
import math
import os
import shutil
import socket
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gameday.model import cpus as _cpus
from gameday.model.events import Figures, LoadStats, Totals

PLUGIN = Path(__file__).resolve().with_name("locust_plugin.py")
DEMO_LOCUSTFILE = Path(__file__).resolve().parent.parent / "demo" / "locustfile.py"
HTTP_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request", "rest"})
WORKER_WAIT = 15  # seconds the master waits for its workers before giving up (never a hung drill)


class LocustNotFound(RuntimeError):
    """No ``locust`` executable beside this Python nor on PATH."""


def locust_executable() -> str:
    """The ``locust`` script of this environment (beside ``sys.executable``), else one on PATH."""
    beside = Path(sys.executable).parent / "locust"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("locust")
    if found:
        return found
    raise LocustNotFound("locust is not installed in this environment (pip install 'gameday[load]')")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def priority_prefix(priority: str) -> list[str]:
    """The command prefix giving locust its CPU priority; the program execs locust, so the pid is locust's.

    ``idle``: ``chrt --idle 0`` (SCHED_IDLE: locust runs only on CPU nothing else wants, so the
    conductor's timers and journal never wait behind it; ``nice -n 19`` where chrt is missing);
    ``low``: ``nice -n 10``; ``normal``: nothing.
    """
    if priority == "idle":
        chrt = shutil.which("chrt")
        if chrt:
            return [chrt, "--idle", "0"]
        priority, level = "low", "19"
    else:
        level = "10"
    nice = shutil.which("nice") if priority == "low" else None
    return [nice, "-n", level] if nice else []


def available_cpus() -> frozenset[int] | None:
    """The CPUs the calling thread may run on (``os.sched_getaffinity(0)`` is that thread's mask, which
    a process's threads normally share); None where the platform cannot tell.

    Called from the load thread, it is that thread's mask, and locust, started from that thread,
    inherits that mask (tests/integration/test_load_affinity.py confines it on purpose).
    """
    getaffinity = getattr(os, "sched_getaffinity", None)
    if getaffinity is None:
        return None
    try:
        return frozenset(getaffinity(0))
    except OSError:
        return None


def placement(setting: str, available: frozenset[int] | None = None) -> _cpus.Placement:
    """Where locust runs for ``load.cpus`` = ``setting``, on a conductor that may use ``available`` CPUs
    (default: the calling thread's own, :func:`available_cpus`). See :mod:`gameday.model.cpus`.

    Why ``auto`` leaves a CPU to the conductor: on 2 cores, locust at full rate (even at
    SCHED_IDLE) and the demo serving it, left free to use both CPUs, put the conductor's p99
    detection error at 4-6x its quiet value; with both off CPU 0 it stays within 2x
    (bench/bench_load.py).
    """
    return _cpus.resolve(setting, available if available is not None else available_cpus(), who="locust")


# Sets the affinity, then execs the rest of its command line. If the kernel refuses (a seccomp
# filter, a cgroup without those CPUs), locust still starts, on every CPU, and says why in its log.
_AFFINITY_SHIM = """\
import os, sys
try:
    os.sched_setaffinity(0, %(cpus)s)
except OSError as exc:
    print("gameday: could not confine locust to %(label)s (" + str(exc) + "); it runs on every CPU it may use",
          file=sys.stderr, flush=True)
os.execvp(sys.argv[1], sys.argv[1:])
"""


def cpu_prefix(cpus: frozenset[int] | None) -> list[str]:
    """The command prefix confining locust to ``cpus`` (None: nothing); the program execs locust, so the pid is locust's.

    A short Python (this interpreter, ``-I -S``: no site, no user environment) that sets the
    affinity and execs the rest of the command line. Threads and processes locust starts
    inherit the affinity. Not ``taskset``: when the kernel refuses the affinity (seccomp, a
    cgroup's cpuset), taskset exits and locust never starts; the shim notes it on stderr
    (locust's log) and execs anyway — a drill's load matters more than its placement. One
    code path on every machine, for a few milliseconds of interpreter start before locust's
    own second or so.
    """
    if not cpus:
        return []
    ordered = sorted(cpus)
    code = _AFFINITY_SHIM % {"cpus": "{" + ", ".join(str(c) for c in ordered) + "}",
                             "label": ("CPU " if len(ordered) == 1 else "CPUs ") + _cpus.format_cpu_list(ordered)}
    return [sys.executable, "-I", "-S", "-c", code]


@dataclass(frozen=True)
class Proc:
    """One locust process to start: its role (``standalone``, or ``master``, ``worker-1``...), argv and log file."""

    role: str
    argv: list[str]
    log: Path


@dataclass(frozen=True)
class Plan:
    """Everything needed to run locust for one drill."""

    procs: list[Proc]
    env: dict[str, str]
    stats_path: Path  # the plugin's JSON Lines
    csv_prefix: Path
    json_path: Path  # locust writes ``--json-file X`` to ``X.json``
    master_port: int | None = None
    files: dict[str, str] = field(default_factory=dict)
    placement: _cpus.Placement | None = None  # where the processes run (``load.cpus``)


def plan(*, locustfile: Path, host: str, users: int, spawn_rate: float, out_dir: Path, workers: int = 0,
         stages: Sequence[tuple[float, int, float | None]] = (), run_time: float | None = None,
         parent_pid: int | None = None, interval: float = 1.0, executable: str | None = None,
         base_env: Mapping[str, str] | None = None, master_port: int | None = None, priority: str = "normal",
         cpus: str = "all", available: frozenset[int] | None = None) -> Plan:
    """The locust processes of one load: standalone, or a master and ``workers`` workers on 127.0.0.1.

    ``run_time`` (seconds) is locust's own ``-t`` limit, a safety net: gameday stops it
    earlier. ``parent_pid``: the plugin quits locust when that process is no longer its parent.
    ``priority``: see :func:`priority_prefix`. ``cpus`` (``load.cpus``: ``auto``, ``all``, a CPU
    list) on a conductor that may use ``available`` CPUs (default: its own): see
    :func:`placement`; the result is ``Plan.placement``, every process gets the same.
    """
    exe = executable or locust_executable()
    placed = placement(cpus, available)
    prefix = cpu_prefix(placed.cpus) + priority_prefix(priority)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = f"{locustfile},{PLUGIN}"
    stats, csv_prefix, json_base = out_dir / "stats.jsonl", out_dir / "locust", out_dir / "totals"
    common = ["-f", files, "--only-summary", "--loglevel", "INFO"]
    head = [*prefix, exe, *common, "--headless", "-u", str(users), "-r", f"{spawn_rate:g}", "-H", host,
            "--csv", str(csv_prefix), "--csv-full-history", "--json-file", str(json_base)]
    if run_time is not None:
        head += ["-t", f"{max(1, math.ceil(run_time))}s"]
    env = {**(base_env if base_env is not None else os.environ), "GAMEDAY_LOAD_STATS": str(stats),
           "GAMEDAY_LOAD_INTERVAL": f"{interval:g}", "GAMEDAY_LOAD_STAGES": json.dumps([list(s) for s in stages])}
    if parent_pid:
        env["GAMEDAY_LOAD_PARENT"] = str(parent_pid)
    if workers <= 0:
        procs = [Proc("standalone", head, out_dir / "locust.log")]
        port = None
    else:
        port = master_port or free_port()
        master = [*head, "--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
                         "--expect-workers", str(workers), "--expect-workers-max-wait", str(WORKER_WAIT)]
        procs = [Proc("master", master, out_dir / "locust-master.log")]
        worker = [*prefix, exe, *common, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
        procs += [Proc(f"worker-{i}", worker, out_dir / f"locust-worker-{i}.log") for i in range(1, workers + 1)]
    return Plan(procs, env, stats, csv_prefix, json_base.with_name(json_base.name + ".json"), port,
                {"stats": str(stats), "csv": f"{csv_prefix}_stats_history.csv", "totals": str(json_base) + ".json",
                 "logs": ", ".join(str(p.log) for p in procs)}, placed)


# ---------------------------------------------------------------------------------------- stats


def parse_stats_line(line: str) -> dict[str, Any] | None:
    """One line of the plugin's output as a dict, or None if it is not a complete, known record."""
    try:
        rec = json.loads(line)
    except ValueError:
        return None
    if not isinstance(rec, dict) or rec.get("type") not in ("interval", "final", "error"):
        return None
    if rec["type"] == "interval":
        if not all(isinstance(rec.get(k), (int, float)) for k in ("mono_from", "mono_to")):
            return None
        if not isinstance(rec.get("names"), dict) or not isinstance(rec.get("total"), dict):
            return None
    return rec


def _ms(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _figures(d: Mapping[str, Any], hist: bool) -> Figures:
    return Figures(
        requests=int(d.get("requests") or 0), failures=int(d.get("failures") or 0),
        p50=_ms(d.get("p50")), p95=_ms(d.get("p95")), p99=_ms(d.get("p99")), max=_ms(d.get("max")),
        hist={str(k): int(v) for k, v in (d.get("hist") or {}).items()} if hist else None,
    )  # fmt: skip


def journal_stats(rec: Mapping[str, Any], t0: float) -> LoadStats:
    """The ``LoadStats`` payload of one plugin interval; ``t0`` is the drill's monotonic start.

    ``users_from``/``users``: running users at the start and end of the interval, so a
    reader can tell ramp-up seconds from steady ones.
    """
    users = int(rec.get("users") or 0)
    return LoadStats(
        t_from=round(float(rec["mono_from"]) - t0, 3),
        t_to=round(float(rec["mono_to"]) - t0, 3),
        users_from=int(rec.get("users_from", users) or 0),
        users=users,
        names={str(n): _figures(d, True) for n, d in sorted(rec["names"].items()) if isinstance(d, Mapping)},
        total=_figures(rec["total"], False),
    )


def read_totals(path: Path) -> dict[str, Totals] | None:
    """locust's final ``--json-file`` figures per request name (methods merged); None if absent."""
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(rows, list):
        return None
    out: dict[str, tuple[int, int]] = {}
    for row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("name"), str):
            continue
        requests, failures = out.get(row["name"], (0, 0))
        out[row["name"]] = (requests + int(row.get("num_requests") or 0), failures + int(row.get("num_failures") or 0))
    return {name: Totals(requests=r, failures=f) for name, (r, f) in sorted(out.items())}


# ---------------------------------------------------------------------------------- locustfiles


@dataclass(frozen=True)
class RequestNames:
    """The request names an AST scan of a locustfile found; ``complete`` is False when some are computed."""

    names: frozenset[str]
    complete: bool


def request_names(source: str, filename: str = "<locustfile>") -> RequestNames:
    """Request names used in a locustfile, without importing it: ``name="..."`` arguments of
    ``self.client.<method>(...)`` calls, else their literal URL path (locust's default name).

    Raises SyntaxError (from :func:`compile`) if the file does not parse.
    """
    tree = ast.parse(source, filename)
    names: set[str] = set()
    complete = True
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in HTTP_METHODS):
            continue
        if not _on_client(node.func.value):
            continue
        named = next((kw.value for kw in node.keywords if kw.arg == "name"), None)
        url_at = 1 if node.func.attr in ("request", "rest") else 0
        target = named if named is not None else (node.args[url_at] if len(node.args) > url_at else
                                                  next((kw.value for kw in node.keywords if kw.arg in ("url", "path")), None))
        if isinstance(target, ast.Constant) and isinstance(target.value, str):
            names.add(target.value)
        else:
            complete = False
    return RequestNames(frozenset(names), complete)


def _on_client(node: ast.AST) -> bool:
    """``self.client``, ``client``, ``self.rest_client``...: anything whose last name mentions client or session."""
    name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""
    return "client" in name.lower() or "session" in name.lower()
