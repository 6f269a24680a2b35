// A training drill's panel of the control room: the incident commander's instructions (take command,
// tasks with a time box, calls for strong objections, decisions, the handover, hints) and what the
// simulated responders answered. room.js owns the page state: it sends each new one as the
// "gameday:state" event; a change here asks it to refetch with "gameday:refresh".
// Untrusted text (names, tasks, answers, hints) only ever goes through textContent.
"use strict";

(function () {
  const $ = (sel) => document.querySelector(sel);
  if (!$("#training")) return;
  let state = JSON.parse($("#initial-state").textContent);

  const { el, offset, dur } = window.gamedayDom;  // dom.js

  function flash(text, bad) {
    const f = $("#flash");
    f.textContent = text;
    f.className = "flash " + (bad ? "bad" : "good");
  }

  async function post(label, path, body) {
    try {
      const resp = await fetch(path, { method: "POST", credentials: "same-origin",
        headers: { "X-Requested-With": "gameday", "Accept": "application/json", "Content-Type": "application/json" },
        body: JSON.stringify(body || {}) });
      let data = null;
      try { data = await resp.json(); } catch (e) { data = null; }
      if (!resp.ok) throw new Error((data && data.error) || resp.status + " " + resp.statusText);
      flash(label + (data && data.seq !== undefined && data.seq !== null ? " (journaled #" + data.seq + ")" : ""), false);
      document.dispatchEvent(new CustomEvent("gameday:refresh"));
      return data || {};
    } catch (err) {
      flash(label + " refused: " + err.message, true);
      return null;
    }
  }

  function fill(target, items, empty) {
    target.replaceChildren(...(items.length || !empty ? items : [el("li", { class: "muted", text: empty })]));
  }

  function options(target, values) {
    const chosen = target.value;
    target.replaceChildren(...values.map((v) => el("option", { value: v, text: v })));
    if (values.includes(chosen)) target.value = chosen;
  }

  // ------------------------------------------------------------ rendering
  function render() {
    const tr = state.training;
    if (!tr) return;
    const fac = state.viewer.facilitator;
    const live = state.status === "running" || state.status === "paused";
    $("#training-trainee").textContent = tr.trainee || "—";
    $("#training-commander").textContent = tr.commander || "—";
    $("#training-you").textContent = fac ? "You record instructions for the incident commander" + (tr.commander ? " (" + tr.commander + ")." : ".")
      : tr.can_instruct ? "You hold the incident commander's role: give the instructions here."
        : "Only the incident commander" + (tr.commander ? " (" + tr.commander + ")" : "") + " gives instructions.";
    const start = $("#btn-training-start");
    if (start) start.disabled = state.status !== "lobby";
    for (const id of ["#btn-command", "#btn-task", "#btn-objections", "#btn-training-decision", "#btn-handover"]) {
      $(id).disabled = !live || !tr.can_instruct;
    }
    $("#btn-hint").disabled = !live || !(tr.you_are_trainee || fac);
    $("#btn-hint").textContent = "Ask for a hint (costs " + tr.hint_cost + " points)";
    renderPeople(tr);
    renderTasks(tr);
    renderCalls(tr);
    fill($("#training-decisions"), tr.decisions.slice().reverse().map((d) => el("li", { "data-seq": d.seq },
      el("span", { class: "t", text: offset(d.t) }), " ", el("strong", { text: d.decision }),
      el("div", { class: "muted", text: "decided by " + d.decided_by + (d.author !== d.decided_by ? " (recorded by " + d.author + ")" : "") }),
      d.rationale ? el("div", { class: "message", text: "why: " + d.rationale }) : null)));
    fill($("#handovers"), tr.handovers.map((h) => el("li", { "data-seq": h.seq },
      el("span", { class: "t", text: offset(h.t) }), " ", el("strong", { text: h.outgoing + " → " + h.incoming }),
      el("div", { class: "message", text: h.briefing }))));
    fill($("#hints"), tr.hints.slice().reverse().map((h) => el("li", { "data-seq": h.seq },
      el("span", { class: "t", text: offset(h.t) }), " ", el("span", { class: "muted", text: "(−" + h.cost + " points" + (h.source ? ", " + h.source : "") + ") " }),
      el("span", { class: "message", text: h.text }))));
    $("#hints-cost").textContent = tr.hints.length ? "hints so far cost " + tr.hints_cost + " points" : "";
    if (fac) renderSimulation(tr.simulation);
  }

  function renderPeople(tr) {
    fill($("#training-responders tbody"), tr.responders.map((r) => el("tr", { "data-responder": r.name },
      el("td", { text: r.name }), el("td", { text: r.role + (typeof r.delay === "number" ? " (about " + dur(r.delay) + " a task)" : "") }),
      el("td", { class: "holds", text: r.holds.length ? r.holds.join(", ") : "—" }))));
    const names = tr.responders.map((r) => r.name);
    for (const p of state.people || []) if (!names.includes(p.name) && p.name !== tr.commander) names.push(p.name);
    options($("#task-to"), names);
    const incoming = names.filter((n) => n !== tr.commander);
    if (tr.handover_to && !incoming.includes(tr.handover_to)) incoming.push(tr.handover_to);
    options($("#handover-to"), incoming);
    kindFields();
  }

  function renderTasks(tr) {
    fill($("#tasks"), tr.tasks.slice().reverse().map((t) => {
      const what = t.kind === "runbook" && t.runbook ? "run the " + t.runbook + " runbook"
        : t.kind === "update" && t.audience ? "post an " + t.audience + " update" : t.kind.replace("_", " ");
      const box = t.within === null ? "no time box" : "within " + dur(t.within) + ", due " + offset(t.due_t);
      const status = t.overdue && t.open ? "overdue" : t.status + (t.overdue ? " (late)" : "");
      return el("li", { "data-task": t.id, "data-seq": t.seq, class: (t.open ? "open" : "closed") + (t.overdue ? " overdue" : "") },
        el("span", { class: "t", text: offset(t.t) }), " ", el("strong", { text: t.id + " → " + t.to }),
        t.role ? el("span", { class: "muted", text: " (" + t.role + ")" }) : null, ": ", el("span", { text: what }), " · ",
        el("span", { class: "box", text: box }), " · ", el("span", { class: "status", text: status }),
        t.text ? el("div", { class: "message", text: t.text }) : null,
        t.reports.length ? el("ul", { class: "reports" }, ...t.reports.map((r) => el("li", { "data-seq": r.seq, "data-status": r.status },
          el("span", { class: "t", text: offset(r.t) }), " ", el("strong", { text: r.by }), " ",
          el("span", { text: "(" + r.status + ") " }), el("span", { class: "message", text: r.text })))) : null);
    }), "no task given yet");
  }

  function renderCalls(tr) {
    fill($("#calls"), tr.calls.slice().reverse().map((c) => el("li", { "data-call": c.id, "data-seq": c.seq },
      el("span", { class: "t", text: offset(c.t) }), " ", el("strong", { text: c.id + ": " + c.proposal }),
      el("div", { class: "muted", text: (c.within === null ? "no time box" : "time box " + dur(c.within) + " (until " + offset(c.due_t) + ")")
        + " · " + (c.strong ? c.strong + " strong objection" + (c.strong > 1 ? "s" : "") : "no strong objection so far") }),
      c.answers.length ? el("ul", { class: "answers" }, ...c.answers.map((a) => el("li", { "data-seq": a.seq, class: a.strong ? "strong" : "" },
        el("strong", { text: a.by + (a.role ? " (" + a.role + ")" : "") }), " ",
        el("span", { text: a.strong ? "objects: " + a.text : "no objection" })))) : null)));
  }

  function renderSimulation(sim) {
    const name = $("#sim-state");
    if (!name) return;
    name.textContent = sim && sim.state ? sim.state : "—";
    const bits = [];
    if (sim && sim.since_t !== null && sim.since_t !== undefined) bits.push("since " + offset(sim.since_t));
    if (sim && sim.severity) bits.push("right severity " + sim.severity);
    if (sim && sim.impact !== null) bits.push(sim.impact ? "customers affected" : "no customer impact");
    if (sim && sim.recovered) bits.push("recovered");
    if (sim && sim.description) bits.push(sim.description);
    $("#sim-detail").textContent = bits.join(" · ");
    fill($("#sim-changes"), (sim ? sim.changes : []).map((c) => el("li", { "data-seq": c.seq },
      el("span", { class: "t", text: offset(c.t) }), " ", el("span", { text: (c.from || "start") + " → " + c.to + " (" + c.trigger + ")" }))));
  }

  function kindFields() {
    const kind = $("#task-kind").value;
    $("#task-runbook").hidden = kind !== "runbook";
    $("#task-audience").hidden = kind !== "update";
  }

  // ------------------------------------------------------------ instructions
  function onSubmit(id, handler) {
    $(id).addEventListener("submit", (ev) => { ev.preventDefault(); handler(); });
  }

  function clear(...ids) {
    for (const id of ids) $(id).value = "";
  }

  $("#task-kind").addEventListener("change", kindFields);

  onSubmit("#command-form", async () => {
    if (await post("Command taken", "/api/training/command", { text: $("#command-text").value.trim() })) clear("#command-text");
  });

  onSubmit("#task-form", async () => {
    const kind = $("#task-kind").value;
    const body = { to: $("#task-to").value, kind, text: $("#task-text").value.trim() };
    const within = $("#task-within").value.trim();
    if (within) body.within = within;
    if (kind === "runbook") body.runbook = $("#task-runbook").value;
    if (kind === "update") body.audience = $("#task-audience").value;
    if (!body.to) { flash("choose who does it", true); return; }
    if (await post("Task given to " + body.to, "/api/training/task", body)) clear("#task-text", "#task-within");
  });

  onSubmit("#objections-form", async () => {
    const proposal = $("#objection-proposal").value.trim();
    if (!proposal) { flash("write the proposal first", true); return; }
    const body = { proposal };
    const within = $("#objection-within").value.trim();
    if (within) body.within = within;
    if (await post("Asked for strong objections", "/api/training/objections", body)) clear("#objection-proposal", "#objection-within");
  });

  onSubmit("#training-decision-form", async () => {
    const decision = $("#training-decision").value.trim();
    if (!decision) { flash("write the decision first", true); return; }
    const body = { decision, rationale: $("#training-rationale").value.trim() };
    if (await post("Decision recorded", "/api/training/decision", body)) clear("#training-decision", "#training-rationale");
  });

  onSubmit("#handover-form", async () => {
    const briefing = $("#handover-briefing").value.trim();
    if (!briefing) { flash("brief the incoming incident commander first", true); return; }
    if (await post("Command handed over", "/api/training/handover", { to: $("#handover-to").value, briefing })) clear("#handover-briefing");
  });

  $("#btn-hint").addEventListener("click", () => post("Hint given", "/api/training/hint", {}));
  const start = $("#btn-training-start");
  if (start) start.addEventListener("click", () => post("Starting", "/api/training/start", {}));

  document.addEventListener("gameday:state", (ev) => { state = ev.detail; render(); });
  render();
})();
