"""How one Chaos Toolkit activity is run and judged: :class:`ActivityExecutor` (used by
:mod:`gameday.adapters.chaostoolkit`, whose docstring gives the rules: failures, timeouts, pauses,
and where activities run).

With a folder, the executor runs each activity in that folder's helper process
(:class:`~gameday.adapters.activity_host.ActivityHost`); without, in this process through
``chaoslib.activity.run_activity``. chaoslib is imported inside functions only.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gameday.clock import Clock
from gameday.model.events import CheckResult
from gameday.ports import ActivityPhase, ActivityRun, ActivityStatus

__all__ = ["DEFAULT_TIMEOUT", "OUTPUT_LIMIT", "Activities", "ActivityExecutor", "summarise"]

DEFAULT_TIMEOUT = 60.0
OUTPUT_LIMIT = 500


def _seconds(value: Any) -> float:
    try:
        return max(0.0, float(value or 0))
    except (TypeError, ValueError):
        return 0.0


def summarise(output: Any) -> str:
    """A short, readable string of a provider's raw output."""
    if isinstance(output, dict) and {"status", "stdout", "stderr"} <= output.keys():
        parts = [f"status {output['status']}"]
        parts += [f"{k}: {str(output[k]).strip()}" for k in ("stdout", "stderr") if str(output[k] or "").strip()]
        text = "; ".join(parts)
    elif isinstance(output, dict) and {"status", "body"} <= output.keys():
        body = output["body"] if isinstance(output["body"], str) else json.dumps(output["body"], default=str)
        text = f"HTTP {output['status']}: {body.strip()}"
    elif output is None:
        text = ""
    elif isinstance(output, str):
        text = output
    else:
        try:
            text = json.dumps(output, default=str)
        except (TypeError, ValueError):
            text = repr(output)
    return text if len(text) <= OUTPUT_LIMIT else text[: OUTPUT_LIMIT - 1] + "…"


@dataclass(frozen=True)
class Activities:
    """Chaos Toolkit activities with what they run with: configuration and secrets (unresolved, as
    written) and the folder they run in (None: gameday's own process and folder)."""

    activities: list[dict[str, Any]]
    configuration: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, Any] = field(default_factory=dict)
    folder: Path | None = None


def _error_text(type_name: str, message: str) -> str:
    error = message.strip() or type_name
    if type_name != "ActivityFailed":
        error = f"{type_name}: {error}"
    for prefix in ("chaoslib.exceptions.ActivityFailed: ", "ActivityFailed: "):  # re-wrapped by the python provider
        error = error.removeprefix(prefix)
    return error


class ActivityExecutor:
    """Runs single activities with resolved configuration and secrets; reports ActivityRuns.

    With a ``folder``, activities run in a helper process started there (see the module docstring);
    without, in this process.
    """

    def __init__(
        self, configuration: dict[str, Any], secrets: dict[str, Any], clock: Clock, default_timeout: float = DEFAULT_TIMEOUT,
        folder: Path | None = None,
    ):
        self.configuration, self.secrets = configuration, secrets
        self.clock, self.default_timeout = clock, default_timeout
        self.folder = folder
        if folder is not None:
            from gameday.adapters.activity_host import ActivityHost

            self._host: Any = ActivityHost(folder)
        else:
            self._host = None

    def timeout_of(self, activity: dict[str, Any]) -> tuple[float, float]:
        """(timeout, join timeout): process and http providers enforce theirs, so we wait a little longer."""
        provider = activity.get("provider") or {}
        for value, grace in ((activity.get("timeout"), 0.0), (provider.get("timeout"), 1.0)):
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
                return float(value), float(value) + (grace if provider.get("type") in ("process", "http") else 0.0)
        return self.default_timeout, self.default_timeout

    def _call(self, activity: dict[str, Any]) -> Any:
        if self._host is not None:
            return self._host.run(activity, self.configuration, self.secrets)
        from chaoslib.activity import run_activity

        return run_activity(copy.deepcopy(activity), self.configuration, self.secrets)

    def execute(self, activity: dict[str, Any]) -> tuple[Any, str | None, float, float]:
        """Run one activity: (output, error or None, started, duration). Never raises for the activity's sake."""
        from chaoslib import substitute

        pauses = substitute(activity.get("pauses") or {}, self.configuration, self.secrets) or {}
        if _seconds(pauses.get("before")):
            self.clock.sleep(_seconds(pauses.get("before")))
        timeout, join = self.timeout_of(activity)
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["output"] = self._call(activity)
            except BaseException as exc:  # noqa: BLE001 - reported as the activity's failure
                box["error"] = exc

        started = self.clock.now()
        name = str(activity.get("name", "?"))
        worker = threading.Thread(target=work, name=f"gameday-activity-{name}", daemon=True)
        worker.start()
        worker.join(join)
        duration = self.clock.now() - started
        output, error = box.get("output"), None
        if worker.is_alive():
            if self._host is not None:
                self._host.kill()
                error = f"timed out after {timeout:g}s (stopped: its process in {self.folder} was killed)"
            else:
                error = f"timed out after {timeout:g}s (it may still be running: a Python thread cannot be killed)"
        elif "error" in box:
            exc = box["error"]
            from gameday.adapters.activity_host import HostActivityError, HostError

            if isinstance(exc, HostActivityError):
                error = _error_text(exc.type_name, str(exc))
            elif isinstance(exc, HostError):
                error = f"not run: {exc}"
            else:
                error = _error_text(type(exc).__name__, str(exc))
        else:
            error = self.judge(activity, output)
        if error is None and _seconds(pauses.get("after")):
            self.clock.sleep(_seconds(pauses.get("after")))
        return output, error, started, duration

    def run(self, activity: dict[str, Any], phase: ActivityPhase) -> ActivityRun:
        """Run one activity to completion, failure or timeout. Never raises for the activity's sake."""
        name = str(activity.get("name", "?"))
        provider = str((activity.get("provider") or {}).get("type", "?"))
        output, error, started, duration = self.execute(activity)
        status: ActivityStatus = "failed" if error else "succeeded"
        return ActivityRun(name, phase, provider, status, started, duration, summarise(output), error)

    def check(self, probe: dict[str, Any]) -> CheckResult:
        """A hypothesis probe's verdict: held when it ran and its output is within its tolerance."""
        output, error, _, _ = self.execute(probe)
        shown = summarise(output)
        if error and shown and error.startswith("output not within"):
            error = f"{error}: got {shown}"
        return CheckResult(check=str(probe.get("name", "?")), ok=error is None, detail=error or shown)

    def close(self) -> None:
        """End the folder's helper process, if one was started (another starts if an activity follows)."""
        if self._host is not None:
            self._host.close()

    def warm(self, activities: Sequence[Any] = ()) -> None:
        """Start the folder's helper process in the background, ahead of the first activity, and have it
        import the modules of ``activities``' python providers."""
        if self._host is not None:
            modules = tuple(dict.fromkeys(
                str(a["provider"]["module"]) for a in activities
                if isinstance(a, dict) and isinstance(a.get("provider"), dict) and a["provider"].get("type") == "python"
                and isinstance(a["provider"].get("module"), str)))
            threading.Thread(target=self._host.warm, args=(modules,), name="gameday-activity-host", daemon=True).start()

    def judge(self, activity: dict[str, Any], output: Any) -> str | None:
        """Why a provider's output counts as a failure, or None."""
        if "tolerance" in activity:
            from chaoslib.hypothesis import within_tolerance

            try:
                ok = within_tolerance(copy.deepcopy(activity["tolerance"]), output, self.configuration, self.secrets)
            except Exception as exc:  # noqa: BLE001
                return f"tolerance check failed: {type(exc).__name__}: {exc}"
            return None if ok else f"output not within tolerance {activity['tolerance']!r}"
        provider = (activity.get("provider") or {}).get("type")
        if provider == "process" and isinstance(output, dict) and output.get("status") not in (0, None):
            stderr = str(output.get("stderr") or "").strip()
            return f"exit status {output['status']}" + (f": {stderr[-300:]}" if stderr else "")
        if provider == "http" and isinstance(output, dict) and isinstance(output.get("status"), int) and output["status"] >= 400:
            return f"HTTP status {output['status']}"
        return None
