"""The drill service of real monitoring: Prometheus + Alertmanager for the drill, PromQL checks, silences.

Started by the composition root (:mod:`gameday.drill.assemble`) after the conductor exists and
before it runs; stopped, whatever happened, when the drill is over.

* ``monitoring.kind: prometheus`` — start a Prometheus scraping the target's ``/metrics``
  (the demo's checkout and database nodes, and ``monitoring.scrape``) with the scenario's
  rule files (default: the shipped ``gameday/monitoring/rules/demo.rules.yml``), and an Alertmanager
  whose receiver is the drill's webhook intake. If ``gameday demo up --monitoring
  prometheus`` already runs a stack for this project, the drill uses that one instead:
  its Alertmanager is pointed at the drill's intake for the drill and restored after.
* PromQL checks without their own ``url`` are bound to the drill's Prometheus (or to
  ``monitoring.prometheus_url``).
* ``silence_other_alerts`` — one Alertmanager silence (API v2) for every alert in
  ``silence_matchers`` that no detection signal names, created before the drill starts
  (journaled as ``SilenceCreated`` once the journal opens) and removed when the drill
  ends — at the rollback phase, also after an abort — and again in :meth:`stop` if that
  failed (``SilenceRemoved``). It expires on its own after ``abort.max_duration`` + 5 min,
  so even a ``kill -9`` of gameday cannot leave people unpaged for long; a drill that starts
  later than 30 s after it was made (a control-room lobby) renews it as it starts.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gameday.errors import ConfigError, InfrastructureError
from gameday.model.events import Payload, SilenceCreated, SilenceMatcher, SilenceRemoved
from gameday.monitoring.config import (
    DEMO_RULES,
    SHIPPED_RULES,
    ScrapeTarget,
    SilenceError,
    alertmanager_config,
    demo_targets,
    describe_matchers,
    prom_checks,
    silence_matchers,
)
from gameday.monitoring.stack import Alertmanager, MonitoringStack, http

if TYPE_CHECKING:
    from gameday.drill.context import DrillContext

SILENCE_MARGIN = 300.0  # seconds a silence outlives the drill's guardrail, in case gameday dies
SILENCE_RENEW_AFTER = 30.0  # a drill starting later than this after its silence was made renews it
SILENCE_LIFT_WAIT = 20.0  # at most this long after rollback for the silenced alerts to resolve


def check_scenario(sc) -> None:
    """What the model cannot see alone: PromQL checks need a Prometheus; Alertmanager signs no HMAC."""
    mon = sc.monitoring
    if mon.kind != "prometheus" and not mon.prometheus_url:
        orphans = [c.label for c in prom_checks(sc) if c.prometheus is not None and not c.prometheus.url]
        if orphans:
            raise ConfigError(f"PromQL check(s) {', '.join(map(repr, orphans))} name no Prometheus: give prometheus.url, "
                              "monitoring.prometheus_url, or monitoring.kind: prometheus")
    if mon.kind == "prometheus" and mon.auth is not None and not mon.auth.bearer_token_env:
        raise ConfigError("monitoring.auth: the drill's Alertmanager cannot sign webhooks with HMAC; add "
                          "bearer_token_env (it is sent as 'Authorization: Bearer ...')")
    if mon.silence_other_alerts:
        try:
            silence_matchers(sc.detection.signals, mon.silence_matchers)
        except SilenceError as exc:
            raise ConfigError(f"monitoring.silence_other_alerts: {exc}") from None


def resolve_rules(ctx: DrillContext) -> list[Path]:
    """The scenario's rule files (scenario folder first, then the project root), or the shipped demo rules."""
    mon = ctx.scenario.monitoring
    if not mon.rules:
        return [SHIPPED_RULES / DEMO_RULES] if ctx.scenario.on_demo() else []
    found = []
    for name in mon.rules:
        bases = [Path(ctx.loaded.base_dir), Path(ctx.project.root)] if not Path(name).is_absolute() else [Path("/")]
        path = next((b / name for b in bases if (b / name).is_file()), None)
        if path is None:
            raise ConfigError(f"monitoring.rules: {name}: no such file (looked in the scenario's folder and the project root)")
        found.append(path.resolve())
    return found


def scrape_targets(ctx: DrillContext) -> list[ScrapeTarget]:
    mon, sc = ctx.scenario.monitoring, ctx.scenario
    targets: list[ScrapeTarget] = []
    if sc.on_demo():
        from gameday.demo.control import read_state

        state = read_state(ctx.state_dir)
        if state is None:
            raise InfrastructureError("monitoring: the demo is not running (no state.json) — nothing to scrape")
        targets += demo_targets(state)
    elif not mon.scrape and ctx.target_url:
        targets.append(ScrapeTarget.from_url(f"{ctx.target_url.rstrip('/')}/metrics", "target"))
    for url in mon.scrape:
        try:
            targets.append(ScrapeTarget.from_url(url))
        except ValueError as exc:
            raise ConfigError(f"monitoring.scrape: {exc}") from None
    return targets


class MonitoringService:
    """One drill's monitoring (see the module docstring). ``start()`` then ``stop()``; stop is idempotent."""

    def __init__(self, ctx: DrillContext):
        self.ctx = ctx
        self.sc = ctx.scenario
        self.mon = ctx.scenario.monitoring
        self.stack: MonitoringStack | None = None
        self.prometheus_url: str | None = self.mon.prometheus_url
        self.alertmanager_url: str | None = self.mon.alertmanager_url
        self._restore: tuple[Path, str] | None = None  # a reused stack's Alertmanager config to put back
        self.silence_id: str | None = None
        self.matchers: list[dict[str, Any]] = []
        self._silenced_at = 0.0
        self._silence_journaled = False
        self._silence_removed = False
        self._lift: threading.Thread | None = None

    # ------------------------------------------------------------------------- start
    def start(self) -> None:
        """Start (or attach to) the monitoring, bind PromQL checks, create the silence. Cleans up if any step fails."""
        check_scenario(self.sc)
        try:
            if self.mon.kind == "prometheus":
                self._start_prometheus()
            self._bind_probes()
            if self.mon.silence_other_alerts:
                self._create_silence()
        except BaseException:
            self.stop()  # at once; the composition root's stop() later finds nothing left
            raise
        conductor = self.ctx.conductor
        if conductor is not None:
            conductor.phase_listeners.append(self._on_phase)

    def _token(self) -> str | None:
        auth = self.mon.auth
        if auth is None or not auth.bearer_token_env:
            return None
        token = os.environ.get(auth.bearer_token_env)
        if not token:
            raise ConfigError(f"monitoring.auth.bearer_token_env: environment variable {auth.bearer_token_env} is not set")
        return token

    def _start_prometheus(self) -> None:
        webhook = self.ctx.webhook_url
        if not webhook:
            raise InfrastructureError("monitoring: the drill has no webhook URL for Alertmanager")
        token = self._token()
        started = time.monotonic()
        if self.sc.on_demo() and not self.mon.rules and not self.mon.scrape and self._reuse_keeper(webhook, token):
            how = "the running demo monitoring"
        else:
            self.stack = MonitoringStack(scrape_targets(self.ctx), resolve_rules(self.ctx), webhook, token=token).start()
            self.prometheus_url, self.alertmanager_url = self.stack.prometheus_url, self.stack.alertmanager_url
            how = "started"
        self.ctx.echo(f"monitoring: Prometheus {self.prometheus_url}, Alertmanager {self.alertmanager_url} "
                      f"({how} in {time.monotonic() - started:.2f}s) -> {webhook}")

    def _reuse_keeper(self, webhook: str, token: str | None) -> bool:
        """Point the stack of ``gameday demo up --monitoring prometheus`` at the drill (restored in stop())."""
        from gameday.monitoring.keeper import attach_keeper

        info = attach_keeper(self.ctx.state_dir)
        if info is None:
            return False
        config = Path(info["alertmanager_config"])
        original = config.read_text()
        token_file = None
        if token:
            token_file = config.parent / "drill-webhook-token"
            fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(token)
        self._restore = (config, original)
        tmp = config.with_suffix(".tmp")
        tmp.write_text(alertmanager_config(webhook, receiver=f"gameday-{self.ctx.drill_id}", token_file=token_file))
        os.replace(tmp, config)
        self.prometheus_url, self.alertmanager_url = info["prometheus_url"], info["alertmanager_url"]
        Alertmanager(self.alertmanager_url).reload()
        _wait_targets_up(self.prometheus_url, 5.0)  # the drill's set-up just reset the demo
        return True

    def _bind_probes(self) -> None:
        if self.prometheus_url:
            self.ctx.probes.bind_prometheus(self.prometheus_url)

    # ------------------------------------------------------------------------ silences
    def _create_silence(self) -> None:
        assert self.alertmanager_url
        self.matchers = silence_matchers(self.sc.detection.signals, self.mon.silence_matchers)
        duration = self.sc.abort.max_duration + SILENCE_MARGIN
        self.silence_id = Alertmanager(self.alertmanager_url).create_silence(
            self.matchers, duration, f"gameday drill {self.ctx.drill_id}: non-drill alerts silenced for the drill")
        self._silenced_at = time.monotonic()
        self.ctx.echo(f"monitoring: silenced {describe_matchers(self.matchers)} in {self.alertmanager_url} "
                      f"(silence {self.silence_id})")

    def _renew_silence(self) -> None:
        """The drill starts long after the silence was made (a control-room lobby): give it its full length again."""
        old = self.silence_id
        self._create_silence()
        assert self.alertmanager_url and old
        Alertmanager(self.alertmanager_url).delete_silence(old)

    def _on_phase(self, phase: str) -> None:
        if phase == "preflight" and self.silence_id and not self._silence_journaled:
            if time.monotonic() - self._silenced_at > SILENCE_RENEW_AFTER:
                try:
                    self._renew_silence()
                except Exception as exc:  # nothing is injected yet: better no drill than paging the wrong people  # noqa: BLE001
                    self.ctx.conductor.abort(f"monitoring: could not renew the silence of non-drill alerts: {exc}")
            self._silence_journaled = True
            self._journal(SilenceCreated(id=self.silence_id, matchers=self._matchers(), alertmanager=self.alertmanager_url,
                                         text=describe_matchers(self.matchers)))
        elif phase == "rollback" and self.silence_id and self._lift is None:
            # not at once: lifted while a silenced alert still fires, Alertmanager would page it right away
            self._lift = threading.Thread(target=self._lift_when_quiet, name="silence-lift", daemon=True)
            self._lift.start()

    def _lift_when_quiet(self) -> None:
        """Remove the silence once no alert it covers is still firing (the faults are rolled back by then)."""
        deadline = time.monotonic() + SILENCE_LIFT_WAIT
        assert self.alertmanager_url  # a silence was made there
        am = Alertmanager(self.alertmanager_url)
        while time.monotonic() < deadline:
            try:
                muted = [a for a in am.alerts() if self.silence_id in (a.get("status", {}).get("silencedBy") or [])]
            except (InfrastructureError, OSError):
                muted = []
            if not muted:
                break
            time.sleep(0.25)
        self._remove_silence(journal=True)

    def _remove_silence(self, journal: bool) -> None:
        if not self.silence_id or self._silence_removed or not self.alertmanager_url:
            return
        try:
            Alertmanager(self.alertmanager_url).delete_silence(self.silence_id)
        except (InfrastructureError, OSError) as exc:
            self.ctx.echo(f"monitoring: could not remove silence {self.silence_id} yet: {exc}")
            return
        self._silence_removed = True
        if journal and self._silence_journaled:
            self._journal(SilenceRemoved(id=self.silence_id, matchers=self._matchers(), alertmanager=self.alertmanager_url))
        else:
            self.ctx.echo(f"monitoring: removed silence {self.silence_id}")

    def _matchers(self) -> list[SilenceMatcher]:
        """The silence's matchers as the journal records them (Alertmanager API v2 matchers)."""
        return [SilenceMatcher.model_validate(m) for m in self.matchers]

    def _journal(self, payload: Payload) -> None:
        journal = self.ctx.journal
        if journal is None:
            return
        try:
            journal.append(payload, "monitoring")
        except Exception as exc:  # never break the drill for a journal line about a silence  # noqa: BLE001
            self.ctx.echo(f"monitoring: could not journal {payload.KIND}: {exc}")

    # -------------------------------------------------------------------------- stop
    def stop(self) -> None:
        if self._lift is not None:
            self._lift.join(SILENCE_LIFT_WAIT + 5)
        errors = []
        for step in (lambda: self._remove_silence(journal=False), self._restore_keeper):
            try:
                step()
            except Exception as exc:  # every step runs, whatever the one before did  # noqa: BLE001
                errors.append(str(exc))
        if self.stack is not None:
            self.stack.stop()
        for e in errors:
            self.ctx.echo(f"monitoring: {e}")

    def _restore_keeper(self) -> None:
        if self._restore is None:
            return
        config, original = self._restore
        self._restore = None
        tmp = config.with_suffix(".tmp")
        tmp.write_text(original)
        os.replace(tmp, config)
        (config.parent / "drill-webhook-token").unlink(missing_ok=True)
        if self.alertmanager_url:
            Alertmanager(self.alertmanager_url).reload()


def _wait_targets_up(prometheus_url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            status, body = http("GET", f"{prometheus_url}/api/v1/targets?state=active", timeout=1.0)
            active = body["data"]["activeTargets"] if status == 200 else []
            if active and all(t.get("health") == "up" for t in active):
                return True
        except (OSError, KeyError, TypeError, ValueError):
            pass
        time.sleep(0.1)
    return False
