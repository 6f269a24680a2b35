"""``gameday recover``: settle what the fault ledger still holds open after a drill.

:func:`recover_open_faults` rolls back every open entry (the ledger's spec says how and in which
folder): entries rolled back are cleared, failed ones stay open (status ``rollback_failed``). An
entry with nothing to undo (``rollback: {none: ...}``) is cleared, saying why; one written ahead
that its journal shows never went in is cleared without rollback.

:func:`forget_fault` is ``gameday recover --forget FAULT --reason TEXT``: for a fault a person
restored by hand (its rollback cannot succeed), the entry is struck off **without** rolling back.

Both are journaled:

* the **recover log**, ``<state_dir>/recover-log.jsonl`` (mode 0600, append-only, each line
  fsynced before the ledger changes): one :class:`RecoverRecord` per entry settled or attempted —
  when, who (``--by``, else the login name), on which host, what was done, why (for a forget,
  the reason given), and the whole ledger entry as it was;
* the **drill's journal**, when it is reachable and safe to append to (see
  :func:`append_to_journal`): the rollback's ``ActivityRan`` events and ``FaultRolledBack``
  (reason ``recover``), ``FaultNotRolledBack``, or ``FaultForgotten``.

Both hold the drill lock: they refuse to run while a drill runs.
"""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from gameday.drill.ledger import FaultLedger, LedgerEntry, acquire_drill_lock, now_iso, read_spec, shown_path
from gameday.errors import ConfigError, GamedayError, InjectionError
from gameday.model.events import Payload
from gameday.ports import ActivityRun, NoRollback

__all__ = ["RECOVER_LOG", "RecoverRecord", "append_to_journal", "forget_fault", "read_recover_log", "recover_open_faults"]

RECOVER_LOG = "recover-log.jsonl"
FORGET_HINT = "gameday recover --forget FAULT --reason TEXT"

Outcome = Literal["rolled_back", "rollback_failed", "nothing_to_undo", "never_injected", "forgotten"]


class RecoverRecord(BaseModel):
    """One line of the recover log: what ``gameday recover`` did to one ledger entry, by whom, why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: str
    outcome: Outcome
    drill_id: str
    fault_id: str
    by: str
    host: str
    pid: int
    reason: str | None = None
    error: str | None = None
    entry: LedgerEntry


def _login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        return f"uid {os.getuid()}"


def _log(state_dir: Path, record: RecoverRecord) -> None:
    """Append one record to the recover log, fsynced (the ledger changes only after it is on disk)."""
    path = Path(state_dir) / RECOVER_LOG
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (record.model_dump_json() + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def read_recover_log(state_dir: Path) -> list[RecoverRecord]:
    """The recover log's records, oldest first (none if there is no log)."""
    path = Path(state_dir) / RECOVER_LOG
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    return [RecoverRecord.model_validate_json(line) for line in lines if line.strip()]


def _record(ledger: FaultLedger, entry: LedgerEntry, outcome: Outcome, by: str, *, reason: str | None = None,
            error: str | None = None) -> None:
    _log(ledger.state_dir, RecoverRecord(at=now_iso(), outcome=outcome, drill_id=entry.drill_id, fault_id=entry.fault_id,
                                         by=by, host=socket.gethostname(), pid=os.getpid(), reason=reason, error=error,
                                         entry=entry))


def recover_open_faults(state_dir: Path, *, by: str | None = None) -> list[str]:
    """Roll back every open fault of the ledger; one line per fault settled.

    Failed ones stay open (status ``rollback_failed``) and, after all were attempted,
    :class:`InjectionError` lists them (after the lines of those that were settled), saying how to
    strike off one restored by hand.
    """
    from gameday.drill.injectors import injector_from_spec

    ledger = FaultLedger(Path(state_dir))
    who = by or _login()
    lines: list[str] = []
    failures: list[str] = []
    if not ledger.path.exists():
        return lines  # nothing recorded, ever: do not even create the state folder
    with acquire_drill_lock(ledger.state_dir):
        for entry in ledger.open_entries():
            fault, drill = entry.fault_id, entry.drill_id
            if entry.status == "injecting" and _never_injected(entry.journal, fault):
                _record(ledger, entry, "never_injected", who)
                ledger.clear(drill, fault)  # written ahead after preflight, the drill died before its time
                lines.append(f"cleared {fault} of drill {drill}: its journal shows it was never injected")
                continue
            runs: list[ActivityRun] = []
            error: str | None
            try:
                spec = read_spec(entry.spec)
                if isinstance(spec, NoRollback):
                    _record(ledger, entry, "nothing_to_undo", who, reason=spec.reason)
                    ledger.clear(drill, fault)
                    lines.append(f"cleared {fault} of drill {drill}: nothing to undo ({spec.reason})")
                    lines += _note(append_to_journal(entry.journal, _not_rolled_back(fault, spec.reason)))
                    continue
                result = injector_from_spec(spec).rollback()
            except GamedayError as exc:
                ok, error = False, str(exc)
            except Exception as exc:  # noqa: BLE001 - keep going: every open fault gets its attempt
                ok, error = False, f"{type(exc).__name__}: {exc}"
            else:
                ok, runs, error = result.ok, result.runs, result.error
            done = ", ".join(f"{r.name} {r.status}" + (f" ({r.output})" if r.output else "") for r in runs) or "nothing to do"
            if ok:
                _record(ledger, entry, "rolled_back", who)
                ledger.clear(drill, fault)
                lines.append(f"rolled back {fault} of drill {drill}: {done}")
                lines += _note(append_to_journal(entry.journal, _rolled_back(fault, runs)))
            else:
                _record(ledger, entry, "rollback_failed", who, error=error or done)
                ledger.mark_rollback_failed(drill, fault, error or "rollback failed")
                failures.append(f"{fault} of drill {drill} ({error or done})")
    if failures:
        head = "\n".join(lines + [""]) if lines else ""  # noqa: RUF005
        raise InjectionError(
            f"{head}could not roll back {len(failures)} fault{'s' if len(failures) != 1 else ''}; still open in the ledger "
            f"({shown_path(ledger.path)}): {'; '.join(failures)}. Retry with 'gameday recover'; once a fault is restored "
            f"by hand, strike it off with '{FORGET_HINT}'"
        )
    return lines


def forget_fault(state_dir: Path, fault: str, reason: str, *, drill: str | None = None, by: str | None = None) -> list[str]:
    """Strike ``fault`` off the ledger without rolling it back (a person restored it by hand).

    Journaled first in the recover log (fsynced), then cleared from the ledger, then appended to
    the drill's journal as ``FaultForgotten`` when that is reachable. :class:`ConfigError` (exit 2)
    for a blank reason, a fault the ledger does not hold, or one held for several drills without
    ``drill``.
    """
    from gameday.model.events import FaultForgotten

    if not reason.strip():
        raise ConfigError("--reason: say why the fault can be forgotten (e.g. 'restored the config file by hand')")
    ledger = FaultLedger(Path(state_dir))
    who = (by or "").strip() or _login()
    if not ledger.path.exists():
        raise ConfigError(f"no open fault {fault!r}: the fault ledger is clear")
    with acquire_drill_lock(ledger.state_dir):
        entries = ledger.open_entries()
        found = [e for e in entries if e.fault_id == fault and (drill is None or e.drill_id == drill)]
        if not found:
            held = ", ".join(f"{e.fault_id} (drill {e.drill_id})" for e in entries) or "none: the ledger is clear"
            of = f" of drill {drill}" if drill else ""
            raise ConfigError(f"no open fault {fault!r}{of} in the fault ledger ({shown_path(ledger.path)}); open: {held}")
        if len(found) > 1:
            drills = ", ".join(e.drill_id for e in found)
            raise ConfigError(f"fault {fault!r} is open for {len(found)} drills ({drills}): add --drill DRILL")
        (entry,) = found
        _record(ledger, entry, "forgotten", who, reason=reason, error=entry.error)
        ledger.clear(entry.drill_id, fault)
    lines = [f"forgot {fault} of drill {entry.drill_id} (it was {entry.status.replace('_', ' ')}"
             + (f": {entry.error}" if entry.error else "") + f"), not rolled back, by {who}: {reason}",
             f"  logged in {shown_path(ledger.state_dir / RECOVER_LOG)}"]
    event = FaultForgotten(fault=fault, by=who, reason=reason, status=entry.status, error=entry.error)
    return lines + _note(append_to_journal(entry.journal, lambda _t: [event]))


def _note(note: str | None) -> list[str]:
    return [f"  {note}"] if note else []


def _rolled_back(fault: str, runs: list[ActivityRun]) -> Callable[[float], list[Payload]]:
    """A rollback's ActivityRan events (started at the journal's last offset) and FaultRolledBack."""
    from gameday.model.events import FaultRolledBack

    def events(last_t: float) -> list[Payload]:
        items: list[Payload] = [run.event(fault, run.started - last_t) for run in runs]
        return [*items, FaultRolledBack(fault=fault, reason="recover")]

    return events


def _not_rolled_back(fault: str, why: str) -> Callable[[float], list[Payload]]:
    from gameday.model.events import FaultNotRolledBack

    return lambda _t: [FaultNotRolledBack(fault=fault, reason="recover", why=why)]


def _never_injected(journal: str | None, fault: str) -> bool:
    """True only when the drill's journal is readable and has no FaultInjected for ``fault``.

    FaultInjected is fsynced before the injector runs, so its absence proves the fault never
    went in. An unreadable or missing journal proves nothing: then the rollback runs.
    """
    if not journal:
        return False
    from gameday.errors import JournalError
    from gameday.journal import read_journal
    from gameday.model.events import FaultInjected

    try:
        events = read_journal(journal).events
    except JournalError:
        return False
    return not any(isinstance(e.data, FaultInjected) and e.data.fault == fault for e in events)


def append_to_journal(journal: str | None, payloads: Callable[[float], list[Payload]]) -> str | None:
    """Append events to a finished (or crashed) drill's journal; a note saying what was done or why not.

    ``payloads`` makes the events, given the journal's last offset. The journal stays append-only
    and valid: events are added only if its last line is a complete event; ``seq`` continues, ``t``
    repeats the last offset (the drill's monotonic clock is gone), ``source`` is ``recover``.
    """
    if not journal:
        return None
    from gameday.model.eventio import decode_line, encode_event, make_event

    path = Path(journal)
    try:
        data = path.read_bytes()
    except OSError:
        return f"journal {journal} not readable: not appended"
    if not data.endswith(b"\n"):
        return f"journal {journal} ends with a torn line: not appended"
    try:
        last = decode_line(data.rstrip(b"\n").rsplit(b"\n", 1)[-1].decode("utf-8"))
    except ValueError:  # not UTF-8, not JSON within the limits, or not an event (all ValueErrors)
        return f"journal {journal} ends with an invalid line: not appended"
    items = payloads(last.t)
    wall = now_iso()
    try:
        lines = [encode_event(make_event(payload, seq=last.seq + 1 + i, wall=wall, t=last.t, source="recover"))
                 for i, payload in enumerate(items)]
    except ValueError as exc:  # EventError: e.g. a reason no reader could take back; nothing is written
        return f"journal {journal}: not appended ({exc})"
    try:
        with open(path, "ab") as fh:
            fh.write(b"".join(lines))
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        return f"journal {journal} not writable ({exc.strerror}): not appended"
    return f"journal {shown_path(path)}: {', '.join(dict.fromkeys(p.KIND for p in items if p.KIND != 'ActivityRan'))} appended"
