"""Stakeholder communications: facts from the journal, drafts from templates.

Public API::

    comms_facts(events, scenario=None, policy=None, now_t=None, *, business=None) -> CommsFacts
    draft_update(audience, events, scenario=None, policy=None, now_t=None, templates_dir=None, *, business=None) -> str
    render_update(audience, facts, templates_dir=None) -> str

``audience`` is ``internal``, ``external`` or ``executive`` (:data:`gameday.model.terms.AUDIENCES`).
Delivery to chat webhooks is :mod:`gameday.notify.service`. Importing this package imports no jinja2.
"""

from __future__ import annotations

from gameday.comms.drafts import TEMPLATE_NAMES, draft_update, render_update, update_context
from gameday.comms.facts import CommsFacts, comms_facts
from gameday.comms.loadfacts import load_interval

__all__ = [
    "TEMPLATE_NAMES",
    "CommsFacts",
    "comms_facts",
    "draft_update",
    "load_interval",
    "render_update",
    "update_context",
]
