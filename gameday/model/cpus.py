"""CPU placement settings — ``auto``, ``all`` or a CPU list like ``"1-3"`` — parsed and resolved, purely.

Two things are placed with them, and both keep off the conductor's CPU by default so that
its timing (journal timestamps, inject times) does not suffer under load:

* ``load.cpus`` — where the locust processes run (:mod:`gameday.adapters.locust`);
* the embedded demo shop (``--cpus`` of :mod:`gameday.demo.supervisor`, default
  ``$GAMEDAY_DEMO_CPUS``, :data:`DEMO_CPUS_ENV`) — where its checkout API and database nodes run.

Values: ``auto`` — every CPU this process may use but the lowest one, which is left to the
conductor (nothing changes when there is only one); ``all`` — no placement; a CPU list
(``"1-3"``, ``"1,3"``, ``"0-1,4"``, or a single number) — those CPUs, as far as this
process may use them (a list naming the lowest one shares it with the conductor: the note
says so).

In YAML, write a list as a quoted string (``cpus: "1-3"``): a bare number is read as an
int by YAML 1.1, where ``010`` is octal (CPU 8) and ``1_0`` is 10. :func:`check_setting`
takes an int as the CPU YAML made of it; it cannot tell what was written.

Standard library only and no OS calls: the caller reads the CPUs it may use
(``os.sched_getaffinity(0)``, None where the platform has no CPU affinity) and applies the
:class:`Placement` (the demo supervisor pins itself; locust starts under a short Python
shim that sets the affinity and execs it, :func:`gameday.adapters.locust.cpu_prefix`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

AUTO = "auto"
ALL = "all"
MAX_CPU = 8191  # the kernel's largest NR_CPUS; anything above is a typo
_LIST = re.compile(r"^\d+(-\d+)?(,\d+(-\d+)?)*$")
DEMO_CPUS_ENV = "GAMEDAY_DEMO_CPUS"  # the demo's setting when none is given (``--cpus``, ``start_demo(cpus=)``)
EXPECTED = "expected 'auto', 'all' or a CPU list like '1-3' or '1,3'"


def parse_cpu_list(text: str) -> frozenset[int]:
    """``"0-2,5"`` → ``{0, 1, 2, 5}``; ValueError (one line) for anything else."""
    compact = text.replace(" ", "")
    if not _LIST.match(compact):
        raise ValueError(f"{EXPECTED}, got {text!r}")
    cpus: set[int] = set()
    for part in compact.split(","):
        low, _, high = part.partition("-")
        first, last = int(low), int(high or low)
        if last < first:
            raise ValueError(f"CPU range {part!r} runs backwards (write '{last}-{first}')")
        if last > MAX_CPU:
            raise ValueError(f"CPU {last} is out of range (0-{MAX_CPU})")
        cpus.update(range(first, last + 1))
    return frozenset(cpus)


def format_cpu_list(cpus: Iterable[int]) -> str:
    """``{0, 1, 2, 5}`` → ``"0-2,5"`` (the kernel's own notation, as in ``Cpus_allowed_list``)."""
    ordered = sorted(set(cpus))
    runs: list[str] = []
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        runs.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(runs)


def check_setting(value: object) -> str:
    """A placement setting in canonical form (``auto``, ``all``, or a CPU list as the kernel writes it).

    Accepts a non-negative int (YAML ``cpus: 1``; beware ``cpus: 010``, which YAML 1.1 reads
    as octal 8: lists belong in quoted strings). ValueError with a one-line message otherwise.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"{EXPECTED}, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{EXPECTED}, got {value!r}")
        value = str(value)
    text = value.strip()
    if text in (AUTO, ALL):
        return text
    return format_cpu_list(parse_cpu_list(text))


@dataclass(frozen=True)
class Placement:
    """Where something runs: ``cpus`` (None: left alone, every CPU its parent may use) and a note for people.

    ``warning`` is True when what the setting is for could not be done (CPUs this machine lacks,
    no CPU affinity on this platform, ``auto`` on one CPU): the note is worth showing (a load
    drill prints it). The default ``auto`` on one CPU warns too, although it is nobody's
    mistake: the conductor then shares its only CPU with the load, so its timings are less
    trustworthy, and that is worth a line per drill; ``cpus: all`` says that this is accepted
    and is silent. A list that includes the conductor's CPU (the one ``auto`` leaves to it)
    is what was asked for: said in the note, no warning.
    """

    setting: str
    cpus: frozenset[int] | None
    note: str
    warning: bool = False

    @property
    def label(self) -> str:
        """``"1"``, ``"1-3"``..., or ``"all"`` when nothing is set."""
        return format_cpu_list(self.cpus) if self.cpus else ALL


def resolve(setting: str, available: Iterable[int] | None, who: str = "locust",
            keep_for: str = "the conductor") -> Placement:
    """The :class:`Placement` of ``setting`` (see the module docstring) on a process that may use ``available``.

    ``who`` and ``keep_for`` only word the note: ``"locust on CPU 1; CPU 0 left to the conductor"``.
    """
    setting = check_setting(setting)
    if available is None:
        return Placement(setting, None, f"CPU placement is not supported on this platform: {who} runs on every CPU",
                         warning=setting != ALL)
    have = frozenset(available)
    if not have:  # never from the kernel; a caller's mistake is no reason to pin nothing
        return Placement(setting, None, f"no CPU list to place {who} on: {who} runs on every CPU", warning=True)
    if setting == ALL:
        return Placement(setting, None, f"{who} may use every CPU ({format_cpu_list(have)})")
    if setting == AUTO:
        if len(have) < 2:
            return Placement(setting, None, f"only one CPU ({format_cpu_list(have)}): {who} shares it with {keep_for}, "
                             "whose timing may suffer under heavy load", warning=True)
        keep = min(have)
        chosen = have - {keep}
        return Placement(setting, chosen, f"{who} on {_cpus(chosen)}; CPU {keep} left to {keep_for}")
    wanted = parse_cpu_list(setting)
    chosen = wanted & have
    if not chosen:
        return Placement(setting, None, f"none of CPUs {setting} is available here (this process may use "
                         f"{format_cpu_list(have)}): {who} runs on every CPU", warning=True)
    missing = wanted - have
    keep = min(have)  # the CPU auto would leave to keep_for
    notes = [f"CPU {keep} shared with {keep_for}"] if keep in chosen else []
    if missing:
        notes.append(f"{_cpus(missing)} of {setting} {'is' if len(missing) == 1 else 'are'} not available here")
    if chosen == have:  # every CPU this process may use: nothing to set
        return Placement(setting, None, "; ".join([f"{who} may use every CPU ({format_cpu_list(have)})", *notes]),
                         warning=bool(missing))
    return Placement(setting, chosen, "; ".join([f"{who} on {_cpus(chosen)}", *notes]), warning=bool(missing))


def _cpus(cpus: frozenset[int]) -> str:
    return f"CPU {format_cpu_list(cpus)}" if len(cpus) == 1 else f"CPUs {format_cpu_list(cpus)}"
