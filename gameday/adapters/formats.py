"""Webhook formats other than Alertmanager's: each a small pure function from a parsed JSON body to alerts.

Registered in :data:`gameday.adapters.webhooks.PARSERS`, served at ``POST /webhooks/<name>``.
Each raises :class:`~gameday.adapters.alerts.PayloadError` naming the field when the body is
not of its shape. Matching then works on :class:`~gameday.model.alerts.Alert`'s labels
(``alertname`` first), whatever the vendor called things.

``grafana`` — Grafana unified alerting's webhook contact point. Same alert objects as
Alertmanager's v4 body (``status``, ``labels``, ``annotations``, ``startsAt``, ``fingerprint``),
plus ``orgId``, ``title``, ``state``, ``message``, ``values``...: parsed like Alertmanager's.

``pagerduty`` — PagerDuty v3 webhooks (``{"event": {event_type, occurred_at, agent, data}}``).
Incident events become one alert: ``alertname`` = the incident title, labels ``service``,
``urgency``, ``priority``, ``incident_id``, ``incident_number``, ``incident_key``,
``escalation_policy``, ``teams``, ``event_type``, ``source=pagerduty``.
``incident.triggered`` / ``reopened`` / ``escalated`` / ``reassigned`` / ``delegated`` /
``priority_updated`` / ``unacknowledged`` → firing; ``incident.acknowledged`` → firing with
action ``acknowledge``; ``incident.resolved`` → resolved with action ``resolved``. The
action's actor is the event's agent (``agent.summary``, a user's name) when a user acted.
Other events (notes, status updates, responders) carry no alert: journaled, never matched.
The alert's start is the incident's ``created_at`` (a trigger's ``occurred_at`` without one), its end a
resolve's ``occurred_at``, its source URL ``html_url``.

``opsgenie`` — Opsgenie's outgoing webhook integration (``{"action", "alert": {...}, "source",
"integrationName"}``). ``alertname`` = ``alert.message``; labels ``alias``, ``entity``,
``priority`` (``P1`` … ``P5``, whether sent as ``"P3"`` or ``3``), ``tags`` (comma-joined),
``tag_<name>=true`` per tag, ``team``, ``source`` (``alert.source``), ``opsgenie_action``,
``alert_id``, ``tiny_id``, and each of ``alert.details`` (as ``detail_<key>`` when the key is one of
those, or begins with ``tag_`` or ``detail_``: every one is kept).
``Create`` and every other action on an open alert → firing; ``Acknowledge`` → firing with
action ``acknowledge``; ``Close`` → resolved with action ``resolved``; ``Delete`` → resolved.
The alert's start is ``alert.createdAt`` (milliseconds since the epoch); a ``Close``'s or ``Delete``'s
end is ``alert.updatedAt`` (nanoseconds since the epoch, every digit kept).
The actor is ``alert.username``, unless it is Opsgenie's ``System`` or the action has an empty
``alert.userId`` (an integration's or a policy's action, named after the integration: no person). Notes
and the like → firing, no action; an action whose ``alert`` has no ``message`` (a real ``Escalate``
carries only ``alertId``) → no alert (journaled; a ``Create`` without one is refused).

Every format's times (``startsAt``/``endsAt``, ``created_at``, ``createdAt``) are kept in UTC with the
sender's fraction digits (:func:`gameday.model.instants.utc_instant`), journaled with each alert
(:class:`~gameday.model.events.AlertRow`) beside its fingerprint and source URL.

An action with no person behind it (PagerDuty's agent a service, Opsgenie's ``System``, a refused
name) is journaled under the format's name, which no person may take; the analysis counts it for no
step, acknowledgement or resolution (:data:`gameday.analysis.matching.VENDOR_ACTORS`).

``generic`` — for anything else (a script, a home-made monitor). See :func:`parse_generic`.

**Actors' names** follow the one rule for names (:func:`gameday.model.names.check_name`: one
line, no control or formatting characters, at most 60 characters, not a name the tool uses
itself such as ``automation`` or ``webhook``). What a delivery with a refused name gets:

* ``generic`` (our own format: whoever sends it can fix it): the delivery is refused, 400
  ``body.actor: <why>`` (``alerts[2].actor`` in a list), journaled with that error like any malformed delivery;
* ``pagerduty``, ``opsgenie`` (the vendor's user names, which the sender cannot change): the
  alert is kept (it still counts as detection) and its action is still recorded, but as the
  format's (``pagerduty``), as when no user acted; the label ``actor_refused`` on the journaled
  alert says why.
"""

from __future__ import annotations

from typing import Any

from gameday.adapters.alerts import PayloadError, _str_map, parse_alertmanager
from gameday.model.alerts import Alert
from gameday.model.instants import is_zero_time, utc_instant
from gameday.model.names import name_problem

#: The label a vendor alert carries when its actor's name was refused (the reason).
ACTOR_REFUSED = "actor_refused"

# PagerDuty v3 incident event types → (status, responder action)
PAGERDUTY_EVENTS: dict[str, tuple[str, str | None]] = {
    "incident.triggered": ("firing", None),
    "incident.reopened": ("firing", None),
    "incident.escalated": ("firing", None),
    "incident.reassigned": ("firing", None),
    "incident.delegated": ("firing", None),
    "incident.priority_updated": ("firing", None),
    "incident.unacknowledged": ("firing", None),
    "incident.acknowledged": ("firing", "acknowledge"),
    "incident.resolved": ("resolved", "resolved"),
}

# Opsgenie webhook actions with a status or a responder action of their own (others: firing, no action)
OPSGENIE_ACTIONS: dict[str, tuple[str, str | None]] = {
    "Create": ("firing", None),
    "Acknowledge": ("firing", "acknowledge"),
    "Close": ("resolved", "resolved"),
    "Delete": ("resolved", None),
}

#: Responder actions a generic delivery may carry (never runbooks: a webhook does not start automation).
GENERIC_ACTIONS = ("acknowledge", "resolved")
GENERIC_STATUS = {"firing": "firing", "resolved": "resolved"}


def _shown(value: Any) -> str:
    """A sender's value quoted in an error: short (the refusal is journaled and answered, not the payload)."""
    text = repr(value) if isinstance(value, (str, int, float, bool)) or value is None else f"a {type(value).__name__}"
    return text if len(text) <= 80 else text[:77] + "..."


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"{where}: expected an object")
    return value


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _vendor_actor(name: str | None, labels: dict[str, str]) -> str | None:
    """A vendor's user name if the names rule takes it; else None (the action is the format's) and
    the reason in ``labels[ACTOR_REFUSED]``."""
    if name is None:
        return None
    problem = name_problem(name)
    if problem is None:
        return " ".join(name.split())
    labels[ACTOR_REFUSED] = problem
    return None


def _scalar_labels(value: Any, where: str) -> dict[str, str]:
    """Label values must be scalars (a nested object as a label is a mistake worth a 400)."""
    if value is None:
        return {}
    obj = _obj(value, where)
    out = {}
    for k, v in obj.items():
        if isinstance(v, (dict, list)):
            raise PayloadError(f"{where}.{k}: expected a string, number or boolean")
        out[str(k)] = "" if v is None else (str(v).lower() if isinstance(v, bool) else str(v))
    return out


# --------------------------------------------------------------------------------- Grafana
def parse_grafana(body: Any) -> list[Alert]:
    """Grafana unified alerting's webhook body: Alertmanager's alert objects plus Grafana's extras (ignored)."""
    return parse_alertmanager(body)


# ------------------------------------------------------------------------------- PagerDuty
def _ref(value: Any) -> str | None:
    """A PagerDuty reference object's human name (``summary``)."""
    return _text(value.get("summary")) if isinstance(value, dict) else None


def parse_pagerduty(body: Any) -> list[Alert]:
    """A PagerDuty v3 webhook: one incident event → at most one alert (plus acknowledge/resolve actions)."""
    event = _obj(_obj(body, "body").get("event"), "event")
    event_type = event.get("event_type")
    if not isinstance(event_type, str):
        raise PayloadError("event.event_type: expected a string")
    if event_type not in PAGERDUTY_EVENTS:
        return []  # notes, status updates, responders: journaled with the delivery, not alerts
    data = _obj(event.get("data"), "event.data")
    if data.get("type") not in (None, "incident"):
        raise PayloadError(f"event.data.type: expected 'incident' for {event_type}, got {_shown(data.get('type'))}")
    title = _text(data.get("title")) or _text(data.get("summary"))
    if title is None:
        raise PayloadError("event.data.title: expected a non-empty string")
    status, action = PAGERDUTY_EVENTS[event_type]
    raw_teams = data.get("teams")
    teams = raw_teams if isinstance(raw_teams, list) else []
    labels = {"alertname": title, "source": "pagerduty", "event_type": event_type}
    optional = {
        "service": _ref(data.get("service")),
        "urgency": _text(data.get("urgency")),
        "priority": _ref(data.get("priority")),
        "incident_id": _text(data.get("id")),
        "incident_number": str(data["number"]) if isinstance(data.get("number"), int) else None,
        "incident_key": _text(data.get("incident_key")),
        "escalation_policy": _ref(data.get("escalation_policy")),
        "teams": ",".join(t for t in map(_ref, teams) if t) or None,
        "pd_status": _text(data.get("status")),
    }
    labels.update({k: v for k, v in optional.items() if v})
    annotations = {k: v for k, v in {"html_url": _text(data.get("html_url")),
                                     "resolve_reason": _text(data.get("resolve_reason"))}.items() if v}
    agent = event.get("agent")
    user = _ref(agent) if isinstance(agent, dict) and agent.get("type") == "user_reference" else None
    actor = _vendor_actor(user, labels) if action else None
    # the incident's own start: created_at; a trigger's occurred_at is its start too, not another event's (a
    # resolve's occurred_at is when it was resolved)
    started = utc_instant(data.get("created_at")) or (utc_instant(event.get("occurred_at"))
                                                      if event_type == "incident.triggered" else None)
    ended = utc_instant(event.get("occurred_at")) if status == "resolved" else None
    return [Alert(status, labels, annotations, started, _text(data.get("id")), action=action, actor=actor,
                  ends_at=ended, source_url=_text(data.get("html_url")))]


# -------------------------------------------------------------------------------- Opsgenie
def parse_opsgenie(body: Any) -> list[Alert]:
    """An Opsgenie outgoing-webhook body: one alert action → one alert (plus acknowledge/close actions)."""
    obj = _obj(body, "body")
    action_name = obj.get("action")
    if not isinstance(action_name, str) or not action_name:
        raise PayloadError("action: expected a non-empty string")
    alert = _obj(obj.get("alert"), "alert")
    message = _text(alert.get("message"))
    if message is None:
        if action_name == "Create":
            raise PayloadError("alert.message: expected a non-empty string")
        return []  # e.g. a real Escalate delivery carries only alert.alertId: journaled, no alert
    status, action = OPSGENIE_ACTIONS.get(action_name, ("firing", None))
    tags = alert.get("tags") or []
    if not isinstance(tags, list):
        raise PayloadError("alert.tags: expected a list")
    labels = {f"tag_{t}": "true" for t in tags if isinstance(t, str) and t}
    for key, value in _scalar_labels(alert.get("details"), "alert.details").items():
        own = key in OPSGENIE_OWN_LABELS or key.startswith(("tag_", "detail_"))  # detail_x too: never overwritten
        labels[f"detail_{key}" if own else key] = value  # a detail named like one of the alert's own: both kept
    teams = alert.get("teams")
    optional = {
        "alias": _text(alert.get("alias")),
        "entity": _text(alert.get("entity")),
        "priority": _opsgenie_priority(alert.get("priority")),
        "tags": ",".join(t for t in tags if isinstance(t, str) and t) or None,
        "team": _text(alert.get("team")) or (",".join(str(t) for t in teams) if isinstance(teams, list) and teams else None),
        "source": _text(alert.get("source")),
        "alert_id": _text(alert.get("alertId")),
        "tiny_id": str(alert["tinyId"]) if alert.get("tinyId") not in (None, "") else None,
    }
    labels.update({k: v for k, v in optional.items() if v})
    labels.update({"alertname": message, "opsgenie_action": action_name})
    annotations = {"description": d} if (d := _text(alert.get("description"))) else {}
    created = alert.get("createdAt")
    username = _text(alert.get("username"))
    integration = "userId" in alert and not _text(alert.get("userId"))  # an integration's action: its name, no user id
    person = None if username is None or integration or username.strip().casefold() in OPSGENIE_SYSTEM_USERS \
        else username
    actor = _vendor_actor(person, labels) if action else None
    ended = _epoch_ns(alert.get("updatedAt")) if status == "resolved" else None  # Close/Delete: when it was closed
    return [Alert(status, labels, annotations, _epoch_ms(created), _text(alert.get("alertId")), action=action,
                  actor=actor, ends_at=ended)]


#: The ``alert.username`` Opsgenie gives an action no user did (an integration's, a policy's): no person.
OPSGENIE_SYSTEM_USERS = frozenset({"system"})
#: The labels an Opsgenie alert gets from its own fields: a detail of the same name is kept as ``detail_<name>``.
OPSGENIE_OWN_LABELS = frozenset({"alertname", "alias", "entity", "priority", "tags", "team", "source", "alert_id",
                                 "tiny_id", "opsgenie_action", ACTOR_REFUSED})


def _opsgenie_priority(value: Any) -> str | None:
    """Opsgenie's priority as its UI names it (``P1`` … ``P5``): the documentation sends ``"P3"``, real
    deliveries also ``3`` (and ``"3"``, ``"p3"``). Another number or text is kept as it came (as text); anything
    else is no priority."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    if not isinstance(value, str):  # compared before any float(): an integer of 400 digits is just text
        return f"P{int(value)}" if 1 <= value <= 5 and value == int(value) else str(value)
    text = _text(value)
    if text is None:
        return None
    folded = text.strip().upper()
    return f"P{folded[-1]}" if folded in ("1", "2", "3", "4", "5") or folded in ("P1", "P2", "P3", "P4", "P5") else text


def _epoch_ms(value: Any) -> str | None:
    """Opsgenie's ``createdAt`` (milliseconds since the epoch) as RFC 3339."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        return None
    from datetime import UTC, datetime

    try:
        when = datetime.fromtimestamp(value / 1000.0, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _epoch_ns(value: Any) -> str | None:
    """Opsgenie's ``updatedAt`` (nanoseconds since the epoch: ``1502709956288000110``) as RFC 3339 UTC, every digit
    kept (``'2017-08-14T11:25:56.288000110Z'``, as :func:`gameday.model.instants.utc_instant` writes instants); None
    for anything else (not a positive integer, or past year 9999)."""
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return None  # a float has lost the nanoseconds already: not guessed at
    from datetime import UTC, datetime, timedelta

    seconds, nanos = divmod(value, 1_000_000_000)
    try:
        when = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
    except OverflowError:
        return None
    return when.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"


# --------------------------------------------------------------------------------- generic
def parse_generic(body: Any) -> list[Alert]:
    """The generic JSON form: one alert object, or ``{"alerts": [alert, ...]}``.

    An alert object::

        {"name": "CatalogErrors",           # -> label alertname (or give labels.alertname)
         "status": "firing",                # firing (default) | resolved
         "labels": {"service": "catalog", "severity": "page"},   # scalars, compared as strings
         "annotations": {"summary": "..."},
         "starts_at": "2026-11-28T10:00:00Z",   # optional, when the monitoring saw it start (any offset)
         "ends_at": "2026-11-28T10:05:00Z",     # optional, when it saw it end
         "source_url": "https://...",           # optional, where the monitoring shows it
         "fingerprint": "catalog-1",            # optional, identifies the alert across deliveries
         "action": "acknowledge",               # optional responder action: acknowledge | resolved
         "actor": "alice"}                      # who did it (required with action; a person's name)

    An ``actor`` the names rule refuses (``automation``, a control character...) refuses the
    delivery: :class:`PayloadError` naming the field and why (400, journaled with the error).
    """
    obj = _obj(body, "body")
    if "alerts" in obj:
        items = obj["alerts"]
        if not isinstance(items, list):
            raise PayloadError("alerts: expected a list")
        return [_generic_one(item, f"alerts[{i}]") for i, item in enumerate(items)]
    return [_generic_one(obj, "body")]


def _generic_one(raw: Any, where: str) -> Alert:
    obj = _obj(raw, where)
    known = {"name", "alertname", "status", "labels", "annotations", "starts_at", "startsAt", "ends_at", "endsAt",
             "source_url", "fingerprint", "action", "actor"}
    unknown = sorted(set(obj) - known)
    if unknown:
        raise PayloadError(f"{where}: unknown field(s) {', '.join(map(repr, unknown))}; known: {', '.join(sorted(known))}")
    labels = _scalar_labels(obj.get("labels"), f"{where}.labels")
    name = obj.get("name", obj.get("alertname"))
    if name is not None:
        if not isinstance(name, str) or not name:
            raise PayloadError(f"{where}.name: expected a non-empty string")
        labels["alertname"] = name
    if not labels.get("alertname"):
        raise PayloadError(f"{where}: needs 'name' (or labels.alertname)")
    status = obj.get("status", "firing")
    if not isinstance(status, str) or status not in GENERIC_STATUS:
        raise PayloadError(f"{where}.status: expected 'firing' or 'resolved', got {_shown(status)}")
    action, raw_actor = obj.get("action"), obj.get("actor")
    if action is not None and (not isinstance(action, str) or action not in GENERIC_ACTIONS):
        raise PayloadError(f"{where}.action: expected one of {', '.join(GENERIC_ACTIONS)}, got {_shown(action)}")
    actor = None
    if action is not None:
        if not isinstance(raw_actor, str) or not raw_actor:
            raise PayloadError(f"{where}.actor: who did {action!r} (a non-empty string)")
        if (problem := name_problem(raw_actor)) is not None:
            raise PayloadError(f"{where}.actor: {problem}")
        actor = " ".join(raw_actor.split())
    starts, ends = _generic_time(obj, where, "starts_at", "startsAt"), _generic_time(obj, where, "ends_at", "endsAt")
    source_url = obj.get("source_url")
    if source_url is not None and not isinstance(source_url, str):
        raise PayloadError(f"{where}.source_url: expected a string")
    fingerprint = obj.get("fingerprint")
    if fingerprint is not None and not isinstance(fingerprint, (str, int)):
        raise PayloadError(f"{where}.fingerprint: expected a string")
    return Alert(GENERIC_STATUS[status], labels, _str_map(obj.get("annotations"), f"{where}.annotations"), starts,
                 None if fingerprint is None else str(fingerprint), action=action, actor=actor, ends_at=ends,
                 source_url=source_url or None)


def _generic_time(obj: dict[str, Any], where: str, key: str, alias: str) -> str | None:
    """An optional RFC 3339 time of the generic form, in UTC (Go's zero time: none); a value that is not one
    refuses the delivery, and so does giving both spellings."""
    if key in obj and alias in obj:
        raise PayloadError(f"{where}: give {key!r} or {alias!r}, not both")
    raw = obj.get(key, obj.get(alias))
    if raw is None or is_zero_time(raw):
        return None
    when = utc_instant(raw)
    if when is None:
        raise PayloadError(f"{where}.{key}: expected an RFC 3339 time such as 2026-11-28T10:00:00Z, got {_shown(raw)}")
    return when


#: name → parser, merged into the intake's registry
FORMATS = {"grafana": parse_grafana, "pagerduty": parse_pagerduty, "opsgenie": parse_opsgenie, "generic": parse_generic}
