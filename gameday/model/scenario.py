"""The scenario: a frozen, validated description of one game day.

Validators here check only what one document can check by itself: each model its own fields,
and the checks between sections (ids, references, timing) in :mod:`gameday.model.crosscheck`.
Whether referenced files exist is the loader's job.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from gameday.model.abort import Abort
from gameday.model.abort import StopCondition as StopCondition  # re-exported with the scenario
from gameday.model.containers import ContainerCheck, DockerFault
from gameday.model.duration import Duration
from gameday.model.exercise import Inject, Objective
from gameday.model.load import Business, Load
from gameday.model.monitoring import Monitoring, PromCheck
from gameday.model.network import NetworkFault
from gameday.model.scenario_base import Strict, check_label_regexes
from gameday.model.target import ProcessSelector as ProcessSelector  # re-exported with the scenario
from gameday.model.target import Target as Target
from gameday.model.terms import DEFAULT_ROLES, SEVERITIES, Audience, Mode, Role, Severity
from gameday.model.training import Simulation, Training

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$", description="lower-case id: letters, digits, - _ .")]

ActionName = Literal[
    "acknowledge",
    "declare_incident",
    "set_severity",
    "assign_role",
    "notify_executives",
    "post_update",
    "runbook",
    "mark_detected",
    "note",
    "resolved",
]
#: Actions a responder (person or automation) can record; steps expect one of these.
ACTIONS: tuple[str, ...] = ActionName.__args__  # type: ignore[attr-defined]
#: Anchors a step deadline may count from, besides another step's id.
BUILTIN_ANCHORS = ("start", "injection", "detection", "recovery")



class HttpCheck(Strict):
    """An HTTP probe: healthy when the status matches (and the body contains ``body_contains``)."""

    url: str = Field(description="URL; '{target.url}' is replaced by the target's base URL")

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        from urllib.parse import urlsplit

        probe = url.replace("{target.url}", "http://target.invalid", 1)
        try:
            parts = urlsplit(probe)
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError as exc:
            raise ValueError(f"not a valid URL: {exc}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("expected an http:// or https:// URL, or one starting with {target.url}")
        return url
    method: Literal["GET", "HEAD", "POST"] = "GET"
    expect_status: int = Field(200, ge=100, le=599)
    body_contains: str | None = None
    timeout: Duration = Field(1.0, description="per probe")


class ProcessCheck(Strict):
    """Healthy while the named target process is running."""

    process: str = Field(description="a name from target.processes")


class Check(Strict):
    """One steady-state check; exactly one of ``http``, ``process``, ``container`` or ``prometheus``."""

    name: str | None = Field(None, description="shown in the journal; defaults to the URL, process or query")
    http: HttpCheck | None = None
    process: ProcessCheck | None = None
    container: ContainerCheck | None = None
    prometheus: PromCheck | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Check:
        kinds = [k for k in ("http", "process", "container", "prometheus") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("a check needs exactly one of 'http', 'process', 'container' or 'prometheus'")
        return self

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if self.http:
            return f"{self.http.method} {self.http.url}"
        if self.prometheus:
            return f"promql {self.prometheus.query} {self.prometheus.op} {self.prometheus.value:g}"
        if self.container:
            return f"container {self.container.container}"
        assert self.process
        return f"process {self.process.process}"


class ProcessFault(Strict):
    """A built-in injector acting on a local process."""

    target: str = Field(description="a name from target.processes")
    action: Literal["kill", "stop"] = Field(
        description="kill: signal and restart on rollback; stop: SIGSTOP, SIGCONT on rollback"
    )
    signal: Literal["SIGKILL", "SIGTERM", "SIGINT"] = "SIGKILL"


class FaultRollback(Strict):
    """A fault's rollback given in the scenario: exactly one of ``activities`` (Chaos Toolkit
    activities, run in the scenario's folder), ``experiment`` (another experiment: its ``method`` is
    the rollback, run in that experiment's folder) or ``none`` (nothing is to be undone: why).

    It pairs an experiment that has no ``rollbacks`` (most community experiments) with one, so the
    experiment is used as it is; on an experiment that has ``rollbacks``, it replaces them.
    """

    activities: list[dict[str, Any]] | None = Field(None, description="Chaos Toolkit activities that undo the fault")
    experiment: str | None = Field(
        None, description="a Chaos Toolkit experiment whose method undoes the fault: relative to the scenario's folder, "
        "else the project root")
    none: str | None = Field(
        None, description="nothing is to be undone, and why (e.g. 'the service recreates the file itself'); "
        "the postmortem says so")

    @model_validator(mode="after")
    def _one_way(self) -> FaultRollback:
        ways = [k for k in ("activities", "experiment", "none") if getattr(self, k) is not None]
        if len(ways) != 1:
            raise ValueError("a rollback needs exactly one of 'activities', 'experiment' or 'none' (with the reason)")
        if self.activities is not None and not self.activities:
            raise ValueError("'activities' must not be empty")
        if self.none is not None and not self.none.strip():
            raise ValueError("'none' takes the reason nothing is to be undone, e.g. 'the service recreates the file itself'")
        return self


class Fault(Strict):
    """Something injected at ``at``; always paired with its rollback.

    Exactly one of: ``experiment`` (a Chaos Toolkit experiment: its method injects, its
    rollbacks repair), ``activities`` (inline Chaos Toolkit activities, with
    ``rollbacks``), ``process`` (a built-in process injector), ``docker`` (a built-in
    container injector, see :mod:`gameday.model.containers`) or ``network`` (rules in a network
    namespace, see :mod:`gameday.model.network`).

    ``rollback`` pairs a Chaos Toolkit fault with a rollback of the scenario's own (see
    :class:`FaultRollback`): an experiment without ``rollbacks`` needs one; ``rollback: {none:
    REASON}`` says honestly that nothing is to be undone.
    """

    id: Id
    description: str | None = None
    at: Duration = Field(description="offset from drill start")
    max_duration: Duration | None = Field(None, description="dead-man limit: rolled back no later than this after injection")
    experiment: str | None = Field(
        None, description="path of a Chaos Toolkit experiment: relative to the scenario's folder, else the project root"
    )
    activities: list[dict[str, Any]] | None = Field(None, description="inline Chaos Toolkit activities (the method)")
    rollbacks: list[dict[str, Any]] | None = Field(None, description="inline Chaos Toolkit rollbacks")
    rollback: FaultRollback | None = Field(
        None, description="the fault's rollback, given here: activities, another experiment, or none (with the reason); "
        "for an experiment, replaces its own rollbacks")
    process: ProcessFault | None = None
    docker: DockerFault | None = None
    network: NetworkFault | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Fault:
        kinds = [k for k in ("experiment", "activities", "process", "docker", "network") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("a fault needs exactly one of 'experiment', 'activities', 'process', 'docker' or 'network'")
        if self.rollbacks is not None and self.activities is None:
            raise ValueError("'rollbacks' go with inline 'activities'; pair an experiment with a rollback of the "
                             "scenario's own with 'rollback:' (activities, experiment, or none with the reason)")
        if self.rollback is not None and (self.process is not None or self.docker is not None or self.network is not None):
            raise ValueError("a process, docker or network fault's rollback is built in: 'rollback' goes with "
                             "'experiment' or 'activities'")
        if self.rollback is not None and self.rollbacks is not None:
            raise ValueError("give 'rollbacks' or 'rollback', not both")
        if self.activities is not None and not self.activities:
            raise ValueError("'activities' must not be empty")
        if self.activities is not None and not self.rollbacks and self.rollback is None:
            raise ValueError("inline 'activities' need 'rollbacks' (or 'rollback: {none: REASON}' when nothing is to be "
                             "undone): every fault is paired with its rollback")
        return self

    @property
    def no_rollback(self) -> str | None:
        """Why nothing is to be undone (``rollback: {none: ...}``), or None: the fault has a rollback."""
        return self.rollback.none if self.rollback is not None else None


class AlertMatcher(Strict):
    """Matches an alert by name, labels (equality, or regex with ``~``) and status."""

    alertname: str | None = Field(None, description="equality, or '~regex' (full match)")
    labels: dict[str, str] = Field(default_factory=dict, description="value is equality; '~regex' matches fully")
    status: Literal["firing", "resolved", "any"] = "firing"

    @field_validator("alertname")
    @classmethod
    def _name_regex_compiles(cls, name: str | None) -> str | None:
        if name is not None:
            check_label_regexes({"alertname": name})
        return name

    @field_validator("labels")
    @classmethod
    def _regexes_compile(cls, labels: dict[str, str]) -> dict[str, str]:
        return check_label_regexes(labels)


class Signal(Strict):
    """What counts as the team's monitoring noticing."""

    name: str | None = None
    alert: AlertMatcher


class Detection(Strict):
    within: Duration = Field(description="deadline from first injection")
    signals: list[Signal] = Field(default_factory=list)
    people_count: bool = Field(True, description="a responder's 'mark detected' counts as detection")


class Step(Strict):
    """An expected responder action with a deadline, matched against recorded actions."""

    id: Id
    action: ActionName
    role: Role | None = Field(None, description="role expected to do it (any role when absent)")
    within: Duration = Field(description="deadline from the anchor")
    after: str = Field("detection", description="anchor: start, injection, detection, recovery or a step id")
    expect: str | None = Field(None, description="expected value, e.g. SEV1 for set_severity")
    audience: Audience | None = Field(None, description="for post_update")
    runbook: str | None = Field(None, description="for action runbook: the runbook's name")
    every: Duration | None = Field(None, description="repeat: the action is due again this often while the incident is open")

    @model_validator(mode="after")
    def _consistent(self) -> Step:
        if self.action == "runbook" and not self.runbook:
            raise ValueError("a 'runbook' step names its runbook")
        if self.runbook and self.action != "runbook":
            raise ValueError("'runbook' goes with action 'runbook'")
        if self.audience and self.action != "post_update":
            raise ValueError("'audience' goes with action 'post_update'")
        if self.action == "set_severity" and self.expect and self.expect not in SEVERITIES:
            raise ValueError(f"'expect' of set_severity is SEV1..SEV4, got {self.expect!r}")
        if self.every is not None and self.every <= 0:
            raise ValueError("'every' must be positive")
        return self


class Runbook(Strict):
    """One-click or automated remediation: a Chaos Toolkit experiment, inline activities, or a process restart."""

    description: str | None = None
    experiment: str | None = None
    activities: list[dict[str, Any]] | None = None
    restart: str | None = Field(None, description="a name from target.processes or target.containers to restart")
    automated_in: list[Mode] = Field(default_factory=list, description="modes where automation runs it when its step is due")

    @model_validator(mode="after")
    def _one_kind(self) -> Runbook:
        kinds = [k for k in ("experiment", "activities", "restart") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("a runbook needs exactly one of 'experiment', 'activities' or 'restart'")
        return self


class Recovery(Strict):
    within: Duration = Field(description="deadline from first injection for the steady state to hold again")


class Timing(Strict):
    baseline: Duration = Field(0.0, description="observe before the first fault")
    cooldown: Duration = Field(0.0, description="keep observing after recovery before ending")
    probe_interval: Duration = Field(0.25, description="impact probe period (<= 250ms means >= 4 Hz)")


class Weights(Strict):
    """Score weights; each component earns 0..1 of its weight. See README 'Scoring'."""

    detection: float = Field(25, ge=0)
    steps: float = Field(30, ge=0)
    recovery: float = Field(20, ge=0)
    severity: float = Field(10, ge=0)
    comms: float = Field(10, ge=0)
    roles: float = Field(5, ge=0)


class PolicyOverride(Strict):
    """The drill's clock: ``scale`` declares that 1 s of this drill stands for 1/scale s of an incident (the
    incident clock). Every duration of the severity policy is multiplied by it (a 30-minute update cadence
    becomes 30 s at 0.0167); the scorecard, the postmortem and the updates price the revenue lost on the
    incident clock and show it beside the drill's times (:mod:`gameday.analysis.clocks`). 1: one clock."""

    scale: float = Field(1.0, gt=0, le=1.0, description="the drill's clock: 1 s of this drill stands for 1/scale s of "
                         "an incident; the severity policy's durations are multiplied by it, the revenue lost is priced "
                         "on the incident clock (1: the drill runs in real incident time)")


class Scenario(Strict):
    """A game-day scenario, format ``gameday/v1``."""

    api_version: Literal["gameday/v1"] = Field(alias="apiVersion")
    id: Id
    title: str = Field(min_length=1)
    description: str = ""
    severity: Severity = Field(description="ground truth: what responders should declare")
    tags: list[str] = Field(default_factory=list)
    roles: list[Role] = Field(default_factory=lambda: list(DEFAULT_ROLES))
    service: str = Field("the service", description="customer-facing name used in comms and postmortems")
    symptom: str = Field("", description="what customers see, for comms templates")
    target: Literal["demo"] | Target = "demo"
    steady_state: list[Check] = Field(min_length=1)
    faults: list[Fault] = Field(min_length=1)
    detection: Detection
    response: list[Step] = Field(default_factory=list)
    runbooks: dict[str, Runbook] = Field(default_factory=dict)
    recovery: Recovery
    abort: Abort
    timing: Timing = Timing()
    scoring: Weights = Weights()
    policy: PolicyOverride = PolicyOverride()
    responders: str | None = Field(
        None, description="scripted responder file for ci drills: relative to the scenario's folder, else the project root"
    )
    load: Load | None = Field(None, description="traffic from locust during the drill")
    business: Business | None = Field(None, description="what an outage costs (overrides gameday.yaml's)")
    monitoring: Monitoring = Field(default_factory=Monitoring, description="where detection comes from")
    injects: list[Inject] = Field(
        default_factory=list, description="the MSEL for tabletop and training drills: timed messages to the players; "
        "none: derived from the faults' simulated shadows")
    objectives: list[Objective] = Field(default_factory=list, description="what an exercise tests, rated P/S/M/U")
    difficulty: int | None = Field(None, ge=1, le=5, description="for training: 1 (a first session) to 5 (for seasoned "
                                   "incident commanders); 'gameday train next' draws by it")
    simulation: Simulation | None = Field(None, description="for training (and tabletop): the system's states and "
                                          "what moves it between them")
    training: Training = Field(default_factory=Training, description="for training drills: the simulated responders, "
                               "a handover, what a hint costs")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)

    @model_validator(mode="after")
    def _references_and_timing(self) -> Scenario:
        from gameday.model.crosscheck import CrossCheckError, cross_check  # it reads these models: imported late

        problems = cross_check(self)
        if problems:
            raise CrossCheckError(problems)
        return self

    @classmethod
    def check_partial(cls, data: dict[Any, Any]) -> list[tuple[tuple[str | int, ...], str]]:
        """The cross checks over what validates of ``data``, a document that failed validation (so
        the validator above never ran): :func:`~gameday.yamlio.modelerrors.validate_data` reports
        their problems together with the type errors (see :mod:`gameday.model.crosscheck`)."""
        from gameday.model.crosscheck import partial_problems

        return partial_problems(data)

    def on_demo(self) -> bool:
        """The drill runs against the embedded demo (as processes or containers: ``target: demo``), or against its
        containers (``target: {demo: docker}``)."""
        return self.target == "demo" or (isinstance(self.target, Target) and self.target.demo is not None)

    def production_parts(self) -> list[str]:
        """What the scenario declares as production (``target``, ``target.containers.NAME``): a drill of it needs
        ``--allow-production``."""
        if not isinstance(self.target, Target):
            return []
        parts = ["target"] if self.target.production else []
        parts += [f"target.containers.{name}" for name, sel in self.target.containers.items() if sel.production]
        parts += [f"target.networks.{name}" for name, net in self.target.networks.items() if net.production]
        kube = self.target.kubernetes
        if kube is not None:
            parts += ["target.kubernetes"] if kube.production else []
            parts += [f"target.kubernetes.selections.{n}" for n, s in kube.selections.items() if s.production]
        return parts

    def first_injection_at(self) -> float:
        return min(f.at for f in self.faults)
