"""Chaos Toolkit activities against the demo (python provider functions).

Each takes the experiment's ``configuration`` and finds the supervisor's control API at
``configuration["demo_control_url"]``. Each returns a dict and raises
``chaoslib.exceptions.ActivityFailed`` when the demo refuses or does not answer.
chaoslib is imported only when a failure must be raised.

Rolling back a primary kill: ``kill_service("db-primary")`` returns ``{"killed": "db-a", ...}``
(the alias is resolved at kill time); :func:`restore_primary` then restarts whichever
database node is dead and waits until the cluster's primary is up and healthy, whichever
node that is by then.
"""

from __future__ import annotations

import time
from typing import Any

from gameday.demo.httpkit import HTTPFailure, request_json

Configuration = dict[str, Any] | None
DB_NODES = ("db-a", "db-b")


def _fail(message: str) -> Exception:
    from chaoslib.exceptions import ActivityFailed

    return ActivityFailed(message)


def _call(configuration: Configuration, method: str, path: str, body: Any = None, timeout: float = 20.0) -> dict[str, Any]:
    url = (configuration or {}).get("demo_control_url")
    if not url:
        raise _fail("configuration has no demo_control_url: is the gameday demo running?")
    try:
        status, result = request_json(method, f"{str(url).rstrip('/')}{path}", body, timeout=timeout)
    except HTTPFailure as exc:
        raise _fail(f"demo control API did not answer: {exc}") from None
    if status >= 300:
        message = result.get("error") if isinstance(result, dict) else result
        raise _fail(f"demo: {method} {path} failed ({status}): {message}")
    return result if isinstance(result, dict) else {"result": result}


def kill_service(name: str, signal: str = "SIGKILL", configuration: Configuration = None) -> dict[str, Any]:
    """Send ``signal`` (SIGKILL by default) to a demo process (``db-primary``/``db-replica`` allowed)."""
    return _call(configuration, "POST", f"/kill/{name}", {"signal": signal})


def stop_service(name: str, configuration: Configuration = None) -> dict[str, Any]:
    """SIGSTOP a demo process: it hangs, its port still accepts connections."""
    return _call(configuration, "POST", f"/stop/{name}")


def continue_service(name: str, configuration: Configuration = None) -> dict[str, Any]:
    """SIGCONT a stopped demo process."""
    return _call(configuration, "POST", f"/cont/{name}")


def restart_service(name: str, configuration: Configuration = None) -> dict[str, Any]:
    """Restart a demo process (killed, hung or healthy) and wait until it answers."""
    return _call(configuration, "POST", f"/restart/{name}")


def promote_replica(configuration: Configuration = None) -> dict[str, Any]:
    """Fail over: promote the replica to primary, then check the new primary reports so."""
    result = _call(configuration, "POST", "/promote")
    _wait_primary_healthy(configuration, timeout=5.0)
    return result


def break_catalog(configuration: Configuration = None) -> dict[str, Any]:
    """Deploy a corrupt product catalog: ``/products`` answers 500 and no alert fires."""
    return _call(configuration, "POST", "/catalog/break")


def restore_catalog(configuration: Configuration = None) -> dict[str, Any]:
    """Put the good product catalog back."""
    return _call(configuration, "POST", "/catalog/restore")


def restore_primary(configuration: Configuration = None) -> dict[str, Any]:
    """Rollback of a database kill: restart every dead (or continue every stopped) db node,
    then wait until the cluster's primary is up and healthy. The primary may by now be the
    other node (after a failover): that is fine."""
    status = _call(configuration, "GET", "/status")
    restarted, continued = [], []
    for name in DB_NODES:
        state = status["processes"][name]["state"]
        if state == "dead":
            _call(configuration, "POST", f"/restart/{name}")
            restarted.append(name)
        elif state == "stopped":
            _call(configuration, "POST", f"/cont/{name}")
            continued.append(name)
    primary = _wait_primary_healthy(configuration, timeout=10.0)
    return {"restarted": restarted, "continued": continued, "primary": primary}


def reset(configuration: Configuration = None) -> dict[str, Any]:
    """A clean slate: everything running, catalog restored, db-a primary again."""
    return _call(configuration, "POST", "/reset", timeout=30.0)


def _wait_primary_healthy(configuration: Configuration, timeout: float) -> str:
    """Wait until the primary named by the cluster runs and answers as primary; its name."""
    deadline = time.monotonic() + timeout
    last = "no status yet"
    while True:
        status = _call(configuration, "GET", "/status")
        primary = status.get("primary")
        proc = status["processes"].get(primary or "", {})
        if proc.get("state") == "running" and proc.get("url"):
            try:
                code, health = request_json("GET", f"{proc['url']}/health", timeout=0.5)
                if code == 200 and isinstance(health, dict) and health.get("role") == "primary":
                    return str(primary)
                last = f"{primary} answered {code}: {health}"
            except HTTPFailure as exc:
                last = f"{primary} did not answer: {exc}"
        else:
            last = f"primary {primary} is {proc.get('state', 'unknown')}"
        if time.monotonic() >= deadline:
            raise _fail(f"no healthy primary after {timeout:g}s: {last}")
        time.sleep(0.1)
