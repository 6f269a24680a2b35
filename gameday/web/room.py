"""The control room's library face: who may do what, over the conductor's thread-safe inputs.

Every action goes through a :class:`~gameday.drill.conductor.Conductor` method, which journals
it (``ActionRecorded`` with author and role, ``RoleAssigned``, ``FaultSkipped``,
``ClockPaused``...); the room itself writes only ``ResponderJoined`` and
``ResponderRevoked``. It keeps no drill state: the page state is
:func:`gameday.web.state.room_state` of the journal. Two things are held in memory: the
token registry (security material, never journaled) and, before the drill starts, the
*lobby* — role assignments and joins made before there is a journal to hold them, which
are journaled the moment the drill starts (right after ``DrillStarted``).

Errors are :class:`RoomError` with an HTTP status (the API turns them into 4xx).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gameday.analysis.timeline import TimelineRow, timeline_rows
from gameday.model.events import (
    ActionDetails,
    DrillAborted,
    DrillEnded,
    DrillStarted,
    Event,
    InjectPublished,
    Payload,
    ResponderJoined,
    ResponderRevoked,
)
from gameday.model.names import NameRefused, check_name
from gameday.model.policy import SeverityPolicy
from gameday.model.roles import RoleBook, role_holders, roles_of
from gameday.model.scenario import Scenario
from gameday.model.terms import IC
from gameday.model.terms import ROLE_PATTERN as MODEL_ROLE_PATTERN
from gameday.web.auth import FACILITATOR, Principal, TokenRegistry
from gameday.web.live import LiveHub, default_audience
from gameday.web.state import fault_status, player_numbers, renumber_for_player, room_state, visible

if TYPE_CHECKING:  # a tabletop's: the desk is built only when there is an exercise; a training's likewise
    from gameday.sim.msel import MselPlayer
    from gameday.sim.training import TrainingDesk
    from gameday.web.desk import ExerciseDesk
    from gameday.web.training_desk import TrainingRoomDesk

ROLE_PATTERN = re.compile(MODEL_ROLE_PATTERN)  # the scenario model's own rule: every scenario role is assignable
#: Actions a responder may record through the room (``runbook`` and ``assign_role`` have their own methods).
RESPONDER_ACTIONS = ("acknowledge", "declare_incident", "set_severity", "notify_executives", "post_update",
                     "mark_detected", "note", "resolved")  # fmt: skip


class RoomError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class ControlRoom:
    """One drill's control room. Thread-safe (HTTP handlers run on the server's threads)."""

    def __init__(self, *, scenario: Scenario, policy: SeverityPolicy, conductor: Any, journal: Any, drill_id: str,
                 mode: str, registry: TokenRegistry | None = None, gate: threading.Event | None = None,
                 bind_host: str = "127.0.0.1", base_url: str = "", draft: Callable[..., str] | None = None,
                 draft_options: dict[str, Any] | None = None, exercise: MselPlayer | None = None,
                 training: TrainingDesk | None = None):
        self.scenario, self.policy, self.conductor, self.journal = scenario, policy, conductor, journal
        self.drill_id, self.mode, self.bind_host, self.base_url = drill_id, mode, bind_host, base_url
        self.registry = registry or TokenRegistry()
        self.gate = gate or threading.Event()
        self.hub = LiveHub(self._audience)
        self.exercise = exercise
        self._desk: ExerciseDesk | None = None
        if exercise is not None and mode == "tabletop":  # a simulated training has a player too, but no console
            from gameday.web.desk import ExerciseDesk

            self._desk = ExerciseDesk(self, exercise)
        self.training = training
        self._training_desk: TrainingRoomDesk | None = None
        if training is not None:
            from gameday.web.training_desk import TrainingRoomDesk

            self._training_desk = TrainingRoomDesk(self, training)
        self.draft, self.draft_options = draft, dict(draft_options or {})
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[int, Any]] = {}  # per journal length: timeline rows, a player's numbers
        self._staged_roles: list[tuple[str, str, str]] = []  # (person, role, by), before start
        self._staged_joins: list[tuple[str, str | None]] = []  # (person, role)
        self._flushed = False
        self.hub.number = self.player_seq  # a player's stream carries their numbers, not the journal's
        journal.listeners.append(self.hub.on_event)
        conductor.phase_listeners.append(self._on_phase)

    # -------------------------------------------------------------- drill status
    @property
    def events(self) -> list[Event[Payload]]:
        return list(self.journal.events)

    def started(self) -> bool:
        ev = self.journal.events
        return bool(ev) and isinstance(ev[0].data, DrillStarted)

    def over(self) -> bool:
        return any(isinstance(e.data, (DrillAborted, DrillEnded)) for e in self.journal.events)

    @property
    def desk(self) -> ExerciseDesk:
        """The tabletop's console (404 when the drill has no exercise)."""
        if self._desk is None:
            raise RoomError(404, f"this drill has no exercise ({self.mode} mode): the console is a tabletop's")
        return self._desk

    @property
    def training_desk(self) -> TrainingRoomDesk:
        """The trainee's desk (404 when the drill is not a training)."""
        if self._training_desk is None:
            raise RoomError(404, f"this drill is not a training ({self.mode} mode): the trainee's desk is a training's")
        return self._training_desk

    def require_live(self) -> None:
        """409 unless the drill has started and is not over."""
        self._require_live()

    def _require_live(self) -> None:
        if self.over():
            raise RoomError(409, "the drill is over")
        if not self.started():
            raise RoomError(409, "the drill has not started yet (the facilitator starts it)")

    def now_t(self) -> float:
        return round(self.conductor.now_t(), 3) if self.started() else 0.0

    def state(self, who: Principal) -> dict[str, Any]:
        with self._lock:
            staged = [(p, r) for p, r, _ in self._staged_roles] if not self._flushed else []
        events = list(self.events)  # this request's snapshot: the journal grows meanwhile
        state = room_state(self.scenario, self.policy, events, None if self.over() else self.now_t(),
                           viewer=who.name, facilitator=who.facilitator, drill_id=self.drill_id, mode=self.mode,
                           invited=self.registry.people(), staged_roles=staged, all_rows=self._rows(events))
        if not who.facilitator:  # a player's numbers have no gaps where hidden events were journaled
            renumber_for_player(state, self._numbers(events))
        ex = state.get("exercise")
        if ex is not None and ex["pace"] is None and self.exercise is not None:  # the lobby: journaled at start
            ex["pace"] = {"label": self.exercise.pace.label, "factor": self.exercise.pace.factor}
        tr = state.get("training")
        if tr is not None and tr["pace"] is None and self.exercise is not None:
            tr["pace"] = {"label": self.exercise.pace.label, "factor": self.exercise.pace.factor}
        if tr is not None and tr["trainee"] is None and self.training is not None:  # the lobby: journaled at start
            tr["trainee"] = self.training.trainee
            tr["you_are_trainee"] = who.name == self.training.trainee and not who.facilitator
        return state

    def player_seq(self, seq: int) -> int | None:
        """The number a player knows the event ``seq`` by (see :func:`gameday.web.state.player_numbers`)."""
        return self._numbers(self.events).get(seq)

    def _numbers(self, events: list[Event[Payload]]) -> dict[int, int]:
        training = self.mode == "training"
        return self._per_journal("numbers", lambda evs: player_numbers(evs, training=training), events)

    def _rows(self, events: list[Event[Payload]]) -> list[TimelineRow]:
        return self._per_journal("rows", timeline_rows, events)

    def _per_journal[T](self, key: str, build: Callable[[list[Event[Payload]]], T], events: list[Event[Payload]]) -> T:
        """``build(events)``, built once per new event for every viewer of the room (fifty pages refetching
        their state after each event would each rebuild the timeline rows and a player's numbers otherwise);
        the journal only grows, so its length says which events a value was built from."""
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and cached[0] == len(events):
                return cached[1]
        value = build(events)
        with self._lock:
            if key not in self._cache or self._cache[key][0] < len(events):
                self._cache[key] = (len(events), value)
        return value

    def _audience(self, event: Event[Payload]) -> Callable[[Principal], bool]:
        """Who hears of ``event`` on the live stream: an inject addressed to a role, only its holder now
        (and the facilitator); anything else as :func:`~gameday.web.live.default_audience` says."""
        d = event.data
        if isinstance(d, InjectPublished):
            roles = role_holders(self.journal.events)
            return lambda p: p.facilitator or visible(event, False, {r for r, h in roles.items() if h == p.name})
        base = default_audience(event)
        if self.mode == "training":  # the trainee hears of the simulation's alerts too
            return lambda p: base(p) or (not p.facilitator and visible(event, False, training=True))
        return base

    # -------------------------------------------------------------- lobby
    def _on_phase(self, phase: str) -> None:
        """At ``preflight`` (just after DrillStarted): journal what the lobby staged."""
        if phase != "preflight":
            return
        with self._lock:
            if self._flushed:
                return
            self._flushed = True
            joins, roles = list(self._staged_joins), list(self._staged_roles)
        for person, role in joins:
            if self.registry.has(person):
                self.journal.append(ResponderJoined(person=person, role=role), person)
        for person, role, by in roles:
            self.conductor.assign_role(person, role, by=by)

    def _lobby(self) -> bool:
        with self._lock:
            return not self._flushed

    def start(self, who: Principal) -> None:
        self._facilitator(who)
        if self.gate.is_set():
            raise RoomError(409, "the drill has already been started")
        self.gate.set()

    def joined(self, who: Principal, token: str) -> None:
        """First use of a responder's link: journal ResponderJoined (staged in the lobby)."""
        if who.facilitator or not self.registry.first_use(token):
            return
        role = ", ".join(sorted(r for r, p in self._holders().items() if p == who.name)) or None
        with self._lock:
            if not self._flushed:
                self._staged_joins.append((who.name, role))
                return
        if not self.over():
            self.journal.append(ResponderJoined(person=who.name, role=role), who.name)

    def _holders(self) -> dict[str, str]:
        with self._lock:
            if not self._flushed:
                return {r: p for p, r, _ in self._staged_roles}
        return role_holders(self.journal.events)

    # -------------------------------------------------------------- people and roles
    def invite(self, who: Principal, person: str, role: str | None = None) -> tuple[str, str]:
        """Facilitator: a join link for ``person`` (a new one replaces theirs). Returns (name, token)."""
        self._facilitator(who)
        if self.over():
            raise RoomError(409, "the drill is over")
        name = _name(person)
        token = self.registry.issue(name)
        if role:
            self.assign_role(who, name, role)
        return name, token

    def revoke(self, who: Principal, person: str) -> None:
        self._facilitator(who)
        if not self.registry.revoke(person):
            raise RoomError(404, f"no join link for {person!r}")
        self.hub.drop(person)
        with self._lock:
            if not self._flushed:
                self._staged_joins = [j for j in self._staged_joins if j[0] != person]
                return
        if not self.over():
            self.journal.append(ResponderRevoked(person=person, by=who.name), who.name)

    def assign_role(self, who: Principal, person: str, role: str, author: str | None = None) -> Event[Payload] | None:
        """Assign or hand over a role. The facilitator and the incident commander assign any role;
        anyone may hand over a role they hold, or take one nobody holds."""
        name, role = _name(person), _role(role)
        by = self._author(who, author)
        current = self._holders()
        if not who.facilitator:
            allowed = current.get(IC) == by or current.get(role) == by or (role not in current and name == by)
            if not allowed:
                raise RoomError(403, f"{by} cannot assign {role}: only the facilitator, the incident commander, "
                                     "the role's holder (handing it over), or someone taking a free role can")
        with self._lock:
            if not self._flushed:
                if not who.facilitator:
                    raise RoomError(409, "the drill has not started yet (the facilitator starts it)")
                self._staged_roles = [s for s in self._staged_roles if s[1] != role] + [(name, role, by)]
                return None
        self._require_live()
        return self.conductor.assign_role(name, role, by=by)

    # -------------------------------------------------------------- responder actions
    def act(self, who: Principal, action: str, details: ActionDetails | None = None, author: str | None = None,
            role: str | None = None) -> Event[Payload]:
        """Record one responder action through the conductor (journaled with author and role)."""
        if action not in RESPONDER_ACTIONS:
            raise RoomError(404, f"unknown action {action!r}")
        self._require_live()
        name = self._author(who, author)
        return self.conductor.record_action(name, action, details or ActionDetails(), role=self._role_for(who, name, role))

    def run_runbook(self, who: Principal, runbook: str, author: str | None = None,
                    role: str | None = None) -> Event[Payload]:
        if runbook not in self.scenario.runbooks:
            known = ", ".join(sorted(self.scenario.runbooks)) or "none"
            raise RoomError(404, f"no runbook named {runbook!r} (this scenario's: {known})")
        self._require_live()
        name = self._author(who, author)
        return self.conductor.start_runbook(runbook, name, self._role_for(who, name, role))

    def draft_update(self, audience: str, who: Principal | None = None) -> tuple[str, str | None]:
        """(text, note): the comms template's draft for ``audience``, prefilled with the drill's facts
        (a tabletop's player: only the facts a player knows, see :func:`player_draft`)."""
        if self.draft is None:
            return "", "communication templates are not available in this build"
        try:
            if who is not None and not who.facilitator and self.mode in ("tabletop", "training"):
                return player_draft(self, audience, who), None
            text = self.draft(audience, self.events, scenario=self.scenario, policy=self.policy, now_t=self.now_t(),
                              **self.draft_options)
            return str(text), None
        except Exception as exc:  # a template problem never breaks the room  # noqa: BLE001
            return "", f"could not draft the update: {type(exc).__name__}: {exc}"

    def _author(self, who: Principal, author: str | None) -> str:
        if who.facilitator:
            return _name(author) if author and author != FACILITATOR else FACILITATOR
        if author and author != who.name:
            raise RoomError(403, f"this link belongs to {who.name}; it cannot act as {author}")
        return who.name

    def _role_for(self, who: Principal, name: str, role: str | None) -> str | None:
        """The role an action is recorded with: the one asked for (a responder must hold it), else
        the role the author holds (the most recently assigned if several)."""
        events = list(self.journal.events)
        if role:
            role = _role(role)
            held = RoleBook.from_events(events).held_by(name)
            if not who.facilitator and role not in held:
                raise RoomError(403, f"{name} does not hold the role {role}" + (f" (holds: {', '.join(held)})" if held else ""))
            return role
        return roles_of(events).get(name)

    # -------------------------------------------------------------- facilitator controls
    def _facilitator(self, who: Principal) -> None:
        if not who.facilitator:
            raise RoomError(403, "only the facilitator can do this")

    def pause(self, who: Principal) -> None:
        self._facilitator(who)
        self._require_live()
        if not self.conductor.pause(by=FACILITATOR):
            live = [st.fault.id for st in self.conductor.faults if st.open]
            if live:
                raise RoomError(409, f"cannot pause while a live fault is in ({', '.join(live)}): its dead-man limit "
                                     "runs in real time; pause before injecting or after rollback")
            raise RoomError(409, "the drill clock is already paused (or cannot pause in this drill)")

    def resume(self, who: Principal) -> None:
        self._facilitator(who)
        self._require_live()
        if not self.conductor.resume(by=FACILITATOR):
            raise RoomError(409, "the drill clock is not paused")

    def inject(self, who: Principal, fault: str) -> None:
        self._facilitator(who)
        self._fault(fault, "inject")
        self.conductor.inject_now(fault, by=FACILITATOR)

    def skip(self, who: Principal, fault: str) -> Event[Payload]:
        self._facilitator(who)
        self._fault(fault, "skip")
        ev = self.conductor.skip_fault(fault, by=FACILITATOR)
        if ev is None:
            raise RoomError(409, f"fault {fault} is no longer scheduled")
        return ev

    def _fault(self, fault: str, verb: str) -> None:
        status = fault_status(self.scenario, self.journal.events, fault)
        if status is None:
            raise RoomError(404, f"no fault named {fault!r}")
        self._require_live()
        if status != "scheduled":
            raise RoomError(409, f"cannot {verb} fault {fault}: it is {status.replace('_', ' ')}")

    def abort(self, who: Principal, reason: str) -> None:
        """Stop now and roll everything back (in the lobby: end before anything is injected)."""
        self._facilitator(who)
        if self.over():
            raise RoomError(409, "the drill is over")
        self.conductor.abort(f"aborted by the facilitator: {reason}" if reason else "aborted by the facilitator")
        self.gate.set()

    def end(self, who: Principal, reason: str) -> None:
        self._facilitator(who)
        if self.over():
            raise RoomError(409, "the drill is over")
        if not self.gate.is_set():  # nothing to end normally yet
            self.conductor.abort(f"ended by the facilitator before the drill started{': ' + reason if reason else ''}")
            self.gate.set()
            return
        self.conductor.end(f"ended by the facilitator: {reason}" if reason else "ended by the facilitator")


def player_draft(room: ControlRoom, audience: str, who: Principal) -> str:
    """A tabletop player's draft: the comms facts of the events the player sees, with none of the
    scenario's secrets (its title, the symptom it scripts, the severity it expects, the drill id)."""
    import dataclasses

    from gameday.comms.drafts import render_update
    from gameday.comms.facts import comms_facts

    events = room.events
    roles = {r for r, p in role_holders(events).items() if p == who.name}
    seen = [e for e in events if visible(e, False, roles)]
    opts = {k: v for k, v in room.draft_options.items() if k == "business"}
    facts = comms_facts(seen, room.scenario, room.policy, room.now_t(), **opts)
    neutral: dict[str, Any] = {"title": f"Game day: {room.scenario.service}", "symptom": "", "drill_id": None,
                               "severity_expected": "SEV?", "detected_signal": None}
    if not facts.severity_declared:  # else the severity (and its policy's cadence) would be the expected one
        neutral |= {"severity": "SEV?", "severity_description": None, "update_every": None, "next_update_t": None,
                    "next_update_at": None, "next_update_in": None, "update_overdue": False}
    facts = dataclasses.replace(facts, **neutral)
    return render_update(audience, facts, room.draft_options.get("templates_dir"))


def _name(value: str | None) -> str:
    """A person's name by the one rule (:func:`gameday.model.names.check_name`); 400 if refused."""
    try:
        return check_name(value or "")
    except NameRefused as exc:
        raise RoomError(400, str(exc)) from None


def _role(value: str) -> str:
    if not ROLE_PATTERN.match(value or ""):
        raise RoomError(400, f"a role is lower-case letters, digits, - _ . (at most 40), got {value[:60]!r}")
    return value
