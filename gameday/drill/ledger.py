"""The fault ledger: every fault is written down before it is injected, and struck off when rolled back.

The ledger is one JSON file, ``<state_dir>/ledger.json`` (mode 0600, replaced atomically
and fsynced on every change)::

    {
      "version": 1,
      "entries": [
        {
          "drill_id": "checkout-db-primary-failure-20261128T101500Z",
          "fault_id": "kill-primary",
          "status": "injecting" | "injected" | "rollback_failed",
          "spec": {"kind": "chaostoolkit" | "process" | "none", ...},  # a gameday.ports.LedgerSpec, as JSON
          "journal": "/abs/path/journal.jsonl" | null,
          "recorded_at": "2026-11-28T10:15:04.000000Z",
          "injected_at": "2026-11-28T10:15:04.120000Z" | null,
          "error": null | "last rollback error",
          "pid": 1234                                          # the conductor's process
        }
      ]
    }

Writers take an ``fcntl`` lock on ``<state_dir>/ledger.lock`` around each
read-modify-write, so two processes never interleave. :func:`acquire_drill_lock` holds
``<state_dir>/drill.lock`` for the length of a drill (and of ``gameday recover``), so a
second drill is refused before it writes anything.

:func:`recover_open_faults` is ``gameday recover``: it rolls back every open entry; it and
``gameday recover --forget`` live in :mod:`gameday.drill.recover`.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, JsonValue, TypeAdapter, ValidationError

from gameday.clock import iso
from gameday.errors import ConfigError, LedgerBusyError
from gameday.fsutil import atomic_write
from gameday.ports import LedgerSpec

LEDGER_FILE = "ledger.json"
LOCK_FILE = "ledger.lock"
DRILL_LOCK_FILE = "drill.lock"
VERSION = 1


def now_iso() -> str:
    """The UTC wall time now, as the ledger and the recover log write it."""
    return iso(datetime.now(UTC))


def shown_path(path: Path) -> str:
    """``path`` relative to the working folder when it is inside it (for messages), else as it is."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@contextmanager
def _flock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextmanager
def acquire_drill_lock(state_dir: Path) -> Iterator[None]:
    """Hold the drill lock: a second drill (or ``recover``) meanwhile gets :class:`LedgerBusyError`."""
    path = Path(state_dir) / DRILL_LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            raise LedgerBusyError(
                f"another drill or 'gameday recover' is running in {shown_path(Path(state_dir))}"
                f"{f' (pid {holder})' if holder else ''}; wait for it to end"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing releases the lock


class LedgerEntry(BaseModel):
    """One open fault. ``spec`` stays the JSON the file holds until ``gameday recover`` reads it
    (:func:`read_spec`): a damaged spec must not hide the rest of the ledger."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    drill_id: str
    fault_id: str
    status: Literal["injecting", "injected", "rollback_failed"] = "injecting"
    spec: dict[str, JsonValue]
    journal: str | None = None
    recorded_at: str | None = None
    injected_at: str | None = None
    error: str | None = None
    pid: int | None = None

    def is_of(self, drill_id: str, fault_id: str) -> bool:
        return (self.drill_id, self.fault_id) == (drill_id, fault_id)


class _LedgerFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = VERSION
    entries: list[LedgerEntry]


class FaultLedger:
    """Open faults, on disk. Every method is safe across threads and processes."""

    def __init__(self, state_dir: Path):
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / LEDGER_FILE
        self.lock_path = self.state_dir / LOCK_FILE

    def _read(self) -> list[LedgerEntry]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ConfigError(f"cannot read the fault ledger {shown_path(self.path)}: {exc.strerror}") from None
        try:
            return _LedgerFile.model_validate_json(text).entries
        except ValidationError as exc:
            err = exc.errors()[0]
            if err["type"] == "json_invalid":
                why = f"not JSON: {err['msg']}"
            else:
                where = ".".join(str(p) for p in err["loc"])
                why = (f"not a ledger: {where}: {err['msg']}; "
                       "expected {'version': 1, 'entries': [{drill_id, fault_id, spec, ...}]}")
            raise ConfigError(
                f"the fault ledger {shown_path(self.path)} is corrupt ({why}); check by hand that no fault is still "
                "injected, then move the file away"
            ) from None

    def _write(self, entries: list[LedgerEntry]) -> None:
        text = _LedgerFile(entries=entries).model_dump_json(indent=2) + "\n"
        atomic_write(self.path, text, mode=0o600)
        os.chmod(self.path, 0o600)

    def _update(self, change: Callable[[list[LedgerEntry]], list[LedgerEntry]]) -> None:
        with _flock(self.lock_path):
            self._write(change(self._read()))

    def record(self, drill_id: str, fault_id: str, spec: LedgerSpec, journal_path: str | None = None) -> None:
        """Write the fault down (status ``injecting``) BEFORE injecting it."""
        entry = LedgerEntry(
            drill_id=drill_id, fault_id=fault_id, spec=_spec_json(spec),  # only a spec: refused before anything is injected
            journal=str(Path(journal_path).resolve()) if journal_path else None, recorded_at=now_iso(), pid=os.getpid(),
        )
        self._update(lambda es: [e for e in es if not e.is_of(drill_id, fault_id)] + [entry])

    def mark_injected(self, drill_id: str, fault_id: str, spec: LedgerSpec | None = None) -> None:
        """The fault is in place; ``spec`` (e.g. with the pid now known) replaces the recorded one."""
        new_spec = _spec_json(spec) if spec is not None else None

        def injected(e: LedgerEntry) -> None:
            e.status, e.injected_at = "injected", now_iso()
            if new_spec is not None:
                e.spec = new_spec

        self._set(drill_id, fault_id, injected)

    def mark_rollback_failed(self, drill_id: str, fault_id: str, error: str) -> None:
        """A rollback failed: the entry stays open, with the error, for ``gameday recover``."""

        def failed(e: LedgerEntry) -> None:
            e.status, e.error = "rollback_failed", error

        self._set(drill_id, fault_id, failed)

    def _set(self, drill_id: str, fault_id: str, change: Callable[[LedgerEntry], None]) -> None:
        def apply(entries: list[LedgerEntry]) -> list[LedgerEntry]:
            for e in entries:
                if e.is_of(drill_id, fault_id):
                    change(e)
            return entries

        self._update(apply)

    def clear(self, drill_id: str, fault_id: str) -> None:
        """Strike the fault off once rolled back. Clearing an absent entry is harmless."""
        self._update(lambda es: [e for e in es if not e.is_of(drill_id, fault_id)])

    def open_entries(self) -> list[LedgerEntry]:
        """Every open fault, oldest first."""
        with _flock(self.lock_path):
            return self._read()

    def ensure_clear(self) -> None:
        """:class:`LedgerBusyError` if any fault is open (a new drill must not start)."""
        entries = self.open_entries()
        if not entries:
            return
        held = f"the fault ledger ({shown_path(self.path)}) holds {describe_open(entries)}"
        failed = [e for e in entries if e.status == "rollback_failed"]
        if not failed:
            raise LedgerBusyError(f"{held}; run 'gameday recover' first")
        names = " ".join(sorted({e.fault_id for e in failed}))
        raise LedgerBusyError(
            f"{held}; run 'gameday recover' to retry the rollback, or, if you have restored "
            f"{'it' if len(failed) == 1 else 'them'} by hand, strike {'it' if len(failed) == 1 else 'each'} off with "
            f"'gameday recover --forget FAULT --reason TEXT' (FAULT: {names})"
        )


def describe_open(entries: list[LedgerEntry]) -> str:
    """'1 open fault from drill X: kill-primary (injected 2026-…)' and so on."""
    by_drill: dict[str, list[str]] = {}
    for e in entries:
        when = f"injected {e.injected_at}" if e.injected_at else f"recorded {e.recorded_at}, maybe injected"
        if e.status == "rollback_failed":
            error = " ".join((e.error or "").split())
            when += f", rollback failed: {error[:200] + ('…' if len(error) > 200 else '')}" if error else ", rollback failed"
        by_drill.setdefault(e.drill_id, []).append(f"{e.fault_id} ({when})")
    n = len(entries)
    drills = "; ".join(f"drill {d}: {', '.join(fs)}" for d, fs in by_drill.items())
    return f"{n} open fault{'s' if n != 1 else ''} from {drills}"


@cache
def _spec_adapter() -> TypeAdapter[LedgerSpec]:
    return TypeAdapter(LedgerSpec)


def _spec_json(spec: LedgerSpec) -> dict[str, JsonValue]:
    """A spec as the ledger file holds it (JSON); TypeError for anything that is not a spec."""
    if not isinstance(spec, BaseModel):
        raise TypeError(f"a fault ledger spec is a LedgerSpec model, not {type(spec).__name__}")
    data: dict[str, JsonValue] = spec.model_dump(mode="json", exclude_none=True)  # absent fields read back as None
    return data


def read_spec(data: dict[str, JsonValue]) -> LedgerSpec:
    """The spec of a ledger entry; :class:`ConfigError` if it is not one (a damaged or foreign ledger)."""
    try:
        return _spec_adapter().validate_python(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "spec"
        raise ConfigError(f"fault ledger spec is invalid: {where}: {err['msg']}") from None


def recover_open_faults(state_dir: Path) -> list[str]:
    """``gameday recover``: roll back every open fault (see :func:`gameday.drill.recover.recover_open_faults`)."""
    from gameday.drill.recover import recover_open_faults as recover

    return recover(state_dir)
