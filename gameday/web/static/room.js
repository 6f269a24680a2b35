// The control room page: renders the page state (GET /api/state, rebuilt from the journal)
// and re-fetches it whenever the server-sent event stream says the journal grew.
// Untrusted text (names, notes, updates, alerts) only ever goes through textContent.
"use strict";

(function () {
  const $ = (sel) => document.querySelector(sel);
  let state = JSON.parse($("#initial-state").textContent);
  let fetchedAt = performance.now();
  let refreshTimer = null;
  let source = null;
  let closed = false;  // the live feed said bye: the drill is over (or this link was revoked)

  // ------------------------------------------------------------ helpers
  const { el, offset, dur } = window.gamedayDom;  // dom.js

  function clock(seconds) {
    const neg = seconds < 0, s = Math.floor(Math.abs(seconds));
    return (neg ? "-" : "") + Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  // The drill clock runs at 1:1, a tabletop's game clock at its pace (scenario seconds per wall
  // second; manual: it stands still until the facilitator advances it).
  function rate() {
    const ex = state.exercise || (state.training && state.training.pace ? state.training : null);  // a simulated training's too
    if (!ex) return 1;
    return ex.pace && typeof ex.pace.factor === "number" ? ex.pace.factor : 0;
  }

  function nowT() {
    if (state.status !== "running") return state.now_t;
    return state.now_t + rate() * (performance.now() - fetchedAt) / 1000;
  }

  function flash(text, bad) {
    const f = $("#flash");
    f.textContent = text;
    f.className = "flash " + (bad ? "bad" : "good");
  }

  async function api(method, path, body) {
    const opts = { method, credentials: "same-origin", headers: { "X-Requested-With": "gameday", "Accept": "application/json" } };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    const resp = await fetch(path, opts);
    let data = null;
    try { data = await resp.json(); } catch (e) { data = null; }
    if (!resp.ok) throw new Error((data && data.error) || resp.status + " " + resp.statusText);
    return data;
  }

  // ------------------------------------------------------------ rendering
  function fill(target, items) {
    target.replaceChildren(...items);
  }

  function render() {
    $("#title").textContent = state.title;
    const st = $("#status");
    st.textContent = state.status;
    st.className = "badge badge-" + state.status;
    $("#phase").textContent = state.phase || "";
    const roles = state.viewer.roles || [];
    $("#viewer-roles").textContent = roles.length ? roles.join(", ") : (state.viewer.facilitator ? "facilitator" : "no role yet");
    const live = state.status === "running" || state.status === "paused";
    document.querySelectorAll("[data-action], [data-runbook], #btn-send-update, #btn-note, #btn-draft, #btn-decision, #btn-hotwash, "
      + "#btn-pace, #btn-rate, #btn-eval, [data-exercise]").forEach((b) => { b.disabled = !live; });
    if (state.status === "ended") banner("The drill is over" + (state.outcome ? " (" + state.outcome + ")" : "") + ". The scorecard and postmortem are written when the drill process ends.");
    renderIncident();
    renderRoles();
    renderRunbooks();
    renderTimeline();
    if (state.viewer.facilitator) renderFacilitator();
    if (state.exercise) renderExercise();
    tick();
    document.dispatchEvent(new CustomEvent("gameday:state", { detail: state }));  // a training's panel (training.js)
  }

  function renderIncident() {
    const i = state.incident || {};
    const rows = [["detected", offset(i.detected_t) + (i.detected_via ? " via " + i.detected_via : "")],
      ["acknowledged", offset(i.acknowledged_t) + (i.acknowledged_by ? " by " + i.acknowledged_by : "")],
      ["declared", offset(i.declared_t)], ["severity", i.severity || "—"], ["updates", String(i.updates || 0)],
      ["resolved", offset(i.resolved_t)]];
    fill($("#incident"), rows.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v, "data-field": k })]));
  }

  function renderRoles() {
    fill($("#roles tbody"), state.roles.map((r) => el("tr", { "data-role": r.role }, el("th", { text: r.role }), el("td", { text: r.holder || "—" }))));
    fill($("#people"), state.people.map((p) => el("li", { "data-person": p.name, text:
      p.name + (p.roles.length ? " (" + p.roles.join(", ") + ")" : "") + (p.joined ? " · joined" : "") + (p.revoked ? " · revoked" : "") })));
    fill($("#people-list"), state.people.map((p) => el("option", { value: p.name })));
    const actAs = $("#act-as");
    if (actAs) {
      const chosen = actAs.value;
      fill(actAs, [el("option", { value: "", text: "facilitator" }), ...state.people.map((p) => el("option", { value: p.name, text: p.name }))]);
      actAs.value = state.people.some((p) => p.name === chosen) ? chosen : "";
    }
  }

  function renderRunbooks() {
    const live = state.status === "running" || state.status === "paused";
    fill($("#runbooks"), state.runbooks.map((rb) => {
      const last = rb.runs.length ? rb.runs[rb.runs.length - 1] : null;
      let result = "not run yet";
      if (last) {
        result = last.finished_t === null ? "running (started by " + last.by + " at " + offset(last.started_t) + ")"
          : (last.ok ? "succeeded" : "did not succeed: " + (last.error || "")) + " (run by " + last.by + ", " + offset(last.started_t) + " → " + offset(last.finished_t) + ")";
      }
      const acts = last ? el("ul", { class: "activities" }, ...last.activities.map((a) =>
        el("li", { text: a.name + ": " + a.status + (a.error ? " — " + a.error : "") + (a.output ? " — " + a.output : "") }))) : null;
      return el("li", { "data-runbook-name": rb.name },
        el("button", { "data-runbook": rb.name, text: "Run " + rb.name, disabled: !live }), " ",
        el("span", { class: "muted", text: rb.description }), el("div", { class: "result", "data-result": rb.name, text: result }), acts);
    }));
  }

  function renderTimeline() {
    const rows = state.timeline.slice().reverse();
    fill($("#timeline"), rows.map((r) => el("li", { class: "cat-" + r.category + (r.human ? " human" : ""), "data-seq": r.seq, "data-kind": r.kind },
      el("span", { class: "t", text: r.offset }), " ",
      el("span", { class: "who", text: r.who + (r.role ? " (" + r.role + ")" : "") }), " ",
      el("span", { class: "text", text: r.text }))));
  }

  function renderFacilitator() {
    const lobby = state.status === "lobby";
    $("#btn-start").disabled = !lobby;
    $("#btn-pause").disabled = state.status !== "running";
    $("#btn-resume").disabled = state.status !== "paused";
    $("#btn-end").disabled = state.status === "ended";
    $("#btn-abort").disabled = state.status === "ended";
    fill($("#faults tbody"), state.faults.map((f) => el("tr", { "data-fault": f.id },
      el("td", { text: f.id + (f.description ? " — " + f.description : "") }), el("td", { text: offset(f.at) }),
      el("td", { text: f.status.replace("_", " ") + (f.injected_t !== null ? " at " + offset(f.injected_t) : "") }),
      el("td", {}, el("button", { "data-fault-inject": f.id, text: "Inject now", disabled: f.status !== "scheduled" || lobby }), " ",
        el("button", { "data-fault-skip": f.id, text: "Skip", disabled: f.status !== "scheduled" || lobby })))));
    const e = state.expectations;
    $("#expected-severity").textContent = e.severity;
    fill($("#expectations tbody"), e.steps.map((s) => el("tr", { "data-step": s.id, class: "verdict-" + (s.verdict || "pending") },
      el("td", { text: s.id }), el("td", { text: s.action }), el("td", { text: s.role || "any" }),
      el("td", { text: "within " + dur(s.within) + " of " + s.after + (s.every ? ", then every " + dur(s.every) : "") }),
      el("td", { text: offset(s.deadline_t) }), el("td", { class: "verdict", text: (s.verdict || "pending").replace("_", " ") }),
      el("td", { text: (s.author || "") + (s.note ? " — " + s.note : "") }))));
  }

  // ------------------------------------------------------------ tabletop
  const injectNodes = new Map();  // seq -> its <li>: a published inject never changes (its panel is fetched once)

  function injectItem(i) {
    let node = injectNodes.get(i.seq);
    if (node) return node;
    const why = state.viewer.facilitator && i.by ? (i.by === "contingency" ? "contingency of " + i.contingency_of : i.by) : null;
    node = el("li", { "data-inject": i.id, "data-seq": i.seq, class: "ch-" + i.channel },
      el("span", { class: "t", text: offset(i.t) }), " ",
      el("span", { class: "channel", text: i.channel.replace("_", " ") }), " ",
      el("span", { class: "who", text: i.from + " → " + i.to }), " ",
      why ? el("span", { class: "muted", text: "(" + why + ")" }) : null,
      el("div", { class: "subject", text: i.subject }),
      i.message ? el("p", { class: "message", text: i.message }) : null,
      i.panel ? el("img", { class: "panel", alt: i.panel, src: "/api/exercise/injects/" + encodeURIComponent(i.id) + "/panel.svg" }) : null,
      i.alert ? el("div", { class: "muted", text: "alert delivered (" + i.alert + ")" }) : null);
    injectNodes.set(i.seq, node);
    return node;
  }

  function options(target, items, keep) {
    const chosen = target.value;
    fill(target, items.map(([value, label]) => el("option", { value, text: label })));
    if (keep && items.some(([v]) => v === chosen)) target.value = chosen;
  }

  function renderExercise() {
    const ex = state.exercise;
    const pace = ex.pace ? ex.pace.label : "—";
    $("#pace-label").textContent = pace;
    const items = ex.injects.slice().reverse().map(injectItem);
    fill($("#injects"), items.length ? items : [el("li", { class: "muted", text: "nothing published yet" })]);
    options($("#decision-inject"), [["", "(no inject)"], ...ex.injects.map((i) => [i.id, offset(i.t) + " " + i.subject])], true);
    fill($("#decisions"), ex.decisions.slice().reverse().map((d) => el("li", { "data-seq": d.seq },
      el("span", { class: "t", text: offset(d.t) }), " ", el("strong", { text: d.decision }),
      el("div", { class: "muted", text: "decided by " + d.decided_by + (d.author !== d.decided_by ? " (recorded by " + d.author + ")" : "") }),
      d.options.length ? el("div", { text: "options weighed: " + d.options.join("; ") }) : null,
      d.rationale ? el("div", { class: "message", text: "rationale: " + d.rationale }) : null)));
    fill($("#hotwash-list"), ex.hot_wash.map((h) => el("li", { "data-seq": h.seq, "data-person": h.person },
      el("strong", { text: h.person }), h.author !== h.person ? el("span", { class: "muted", text: " (written by " + h.author + ")" }) : null,
      h.went_well ? el("div", { class: "message", text: "went well: " + h.went_well }) : null,
      h.to_improve ? el("div", { class: "message", text: "to improve: " + h.to_improve }) : null)));
    if (state.viewer.facilitator) renderConsole(ex);
  }

  function renderConsole(ex) {
    const live = state.status === "running" || state.status === "paused";
    $("#pace-current").textContent = ex.pace ? ex.pace.label + (ex.pace.factor === null ? " (advance with Next inject)" : "") : "—";
    fill($("#msel tbody"), ex.msel.map((i) => {
      const open = i.state === "upcoming" || i.state === "held";
      const expect = i.expect.map((x) => x.label + (x.description ? ": " + x.description : "")).join("; ");
      const cont = i.contingency ? "if not done within " + dur(i.contingency.after) + ": " + i.contingency.publish : "";
      const when = i.state === "published" ? "published at " + offset(i.published_t) + " (" + (i.by === "contingency" ? "contingency of " + i.contingency_of : i.by) + ")"
        : i.state + (i.by ? " by " + i.by : "");
      return el("tr", { "data-inject": i.id, class: "state-" + i.state },
        el("td", { text: i.id }), el("td", { text: i.at === null ? "unscheduled" : offset(i.at) }), el("td", { text: i.channel.replace("_", " ") }),
        el("td", { text: i.from + " → " + i.to }),
        el("td", {}, el("strong", { text: i.subject }), i.message ? el("div", { class: "message", text: i.message }) : null,
          i.synopsis ? el("div", { class: "muted", text: "synopsis: " + i.synopsis }) : null,
          i.panel ? el("div", { class: "muted", text: "panel: " + i.panel }) : null, i.alert ? el("div", { class: "muted", text: "alert: " + i.alert }) : null),
        el("td", { text: expect }), el("td", { text: i.objective || "" }), el("td", { text: cont }), el("td", { text: i.notes || "" }),
        el("td", { class: "state", text: when }),
        el("td", { class: "buttons" },
          el("button", { type: "button", "data-inject-publish": i.id, text: "Publish now", disabled: !open || !live }), " ",
          el("button", { type: "button", "data-inject-hold": i.id, text: "Hold", disabled: i.state !== "upcoming" || !live }), " ",
          el("button", { type: "button", "data-inject-skip": i.id, text: "Skip", disabled: !open || !live })));
    }));
    fill($("#objectives tbody"), ex.objectives.map((o) => el("tr", { "data-objective": o.id },
      el("td", {}, el("strong", { text: o.id }), el("div", { text: o.title })),
      el("td", { text: o.steps.map((s) => s + ": " + (o.step_verdicts[s] || "pending").replace("_", " ")).join(", ") }),
      el("td", { class: "derived", text: o.derived ? o.derived + " (" + ex.ratings[o.derived] + ")" : "not rated yet", title: o.derived_rule }),
      el("td", { class: "override", text: o.override ? o.override.rating + " by " + o.override.by + ": " + o.override.note : "—" }))));
    options($("#eval-objective"), [["", "the exercise as a whole"], ...ex.objectives.map((o) => [o.id, o.id])], true);
    options($("#rate-objective"), ex.objectives.map((o) => [o.id, o.id]), true);
    fill($("#eval-notes"), ex.notes.slice().reverse().map((n) => el("li", { "data-seq": n.seq },
      el("span", { class: "t", text: offset(n.t) }), " ", el("strong", { text: n.objective || "exercise" }), " ", el("span", { class: "message", text: n.text }))));
  }

  function tick() {
    const now = nowT();
    $("#clock").textContent = offset(now) + (state.status === "paused" ? " (paused)" : "");
    const wall = $("#wall-clock");
    if (wall) wall.textContent = new Date().toISOString().slice(11, 19) + " UTC";
    const items = (state.countdowns || []).map((c) => {
      const left = c.due_t - now;
      return el("li", { class: left < 0 ? "overdue" : (left < 10 ? "soon" : ""), "data-countdown": c.id },
        el("span", { class: "due", text: left < 0 ? "overdue " + clock(-left) : clock(left) }), " ", el("span", { text: c.label }));
    });
    fill($("#countdowns"), items.length ? items : [el("li", { class: "muted", text: state.status === "lobby" ? "the drill has not started" : "nothing due" })]);
  }

  function banner(text) {
    const b = $("#banner");
    b.textContent = text;
    b.hidden = false;
  }

  // ------------------------------------------------------------ live
  async function refresh() {
    try {
      const next = await api("GET", "/api/state");
      state = next;
      fetchedAt = performance.now();
      render();
    } catch (err) {
      if (!closed) flash("could not refresh: " + err.message, true);  // once the drill is over its server goes away
    }
  }

  function scheduleRefresh() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(() => { refreshTimer = null; refresh(); }, 100);
  }
  document.addEventListener("gameday:refresh", scheduleRefresh);

  function connect() {
    source = new EventSource("/api/stream");
    source.addEventListener("hello", scheduleRefresh);
    source.addEventListener("journal", (ev) => {
      let kind = "", msg = {};
      try { msg = JSON.parse(ev.data); kind = msg.kind || ""; } catch (e) { /* keep */ }
      if (msg.inject && state && state.exercise && !state.exercise.injects.some((i) => i.seq === msg.inject.seq)) {
        state.exercise.injects.push(msg.inject);  // shown at once; the state refresh below fills in the rest
        renderExercise();
      }
      if (kind === "DrillEnded" || kind === "DrillAborted") refresh();  // at once: the server stops soon after
      else scheduleRefresh();
    });
    source.addEventListener("resync", scheduleRefresh);
    source.addEventListener("bye", (ev) => {
      source.close();
      let reason = "closed";
      try { reason = JSON.parse(ev.data).reason || reason; } catch (e) { /* keep */ }
      closed = true;
      if (reason !== "revoked" && state.status !== "ended") { state.status = "ended"; render(); }
      banner(reason === "revoked" ? "Your join link was revoked." : "The control room closed the live feed (the drill is over).");
      refresh();
    });
  }

  // ------------------------------------------------------------ actions
  function actor() {
    const actAs = $("#act-as");
    return actAs && actAs.value ? { as: actAs.value } : {};
  }

  async function run(label, method, path, body) {
    try {
      const res = await api(method, path, body);
      flash(label + (res && res.seq !== undefined && res.seq !== null ? " (journaled #" + res.seq + ")" : ""), false);
      scheduleRefresh();
      return res;
    } catch (err) {
      flash(label + " refused: " + err.message, true);
      return null;
    }
  }

  document.addEventListener("click", (ev) => {
    const b = ev.target.closest("button");
    if (!b || b.disabled) return;
    if (b.dataset.action) {
      const name = b.dataset.action, body = actor();
      if (name === "declare_incident" || name === "set_severity") body.severity = $("#severity").value;
      run(b.textContent, "POST", "/api/actions/" + name, body);
    } else if (b.dataset.runbook) {
      run("Runbook " + b.dataset.runbook + " started", "POST", "/api/actions/runbook", { ...actor(), runbook: b.dataset.runbook });
    } else if (b.dataset.control) {
      const c = b.dataset.control;
      if (c === "abort" && !window.confirm("Abort the drill and roll every fault back?")) return;
      const body = (c === "end" || c === "abort") ? { reason: $("#control-reason").value } : {};
      run(b.textContent, "POST", "/api/drill/" + c, body);
    } else if (b.dataset.faultInject) {
      run("Injecting " + b.dataset.faultInject, "POST", "/api/faults/" + encodeURIComponent(b.dataset.faultInject) + "/inject", {});
    } else if (b.dataset.faultSkip) {
      run("Skipped " + b.dataset.faultSkip, "POST", "/api/faults/" + encodeURIComponent(b.dataset.faultSkip) + "/skip", {});
    } else if (b.dataset.revoke) {
      run("Revoked " + b.dataset.revoke, "DELETE", "/api/responders/" + encodeURIComponent(b.dataset.revoke));
    } else if (b.dataset.injectPublish || b.dataset.injectHold || b.dataset.injectSkip) {
      const [verb, id] = b.dataset.injectPublish ? ["publish", b.dataset.injectPublish]
        : b.dataset.injectHold ? ["hold", b.dataset.injectHold] : ["skip", b.dataset.injectSkip];
      run(b.textContent + ": " + id, "POST", "/api/exercise/injects/" + encodeURIComponent(id) + "/" + verb, {});
    } else if (b.dataset.exercise) {
      run(b.textContent, "POST", "/api/exercise/" + b.dataset.exercise, {});
    }
  });

  function onSubmit(id, handler) {
    const form = $(id);
    if (form) form.addEventListener("submit", (ev) => { ev.preventDefault(); handler(); });
  }

  const paceButton = $("#btn-pace");
  if (paceButton) {
    paceButton.addEventListener("click", async () => {
      const pace = $("#pace-input").value.trim();
      if (!pace) { flash("write a pace first: 4h:45m, real or manual", true); return; }
      if (await run("Pace set", "POST", "/api/exercise/pace", { pace })) $("#pace-input").value = "";
    });
  }

  onSubmit("#decision-form", async () => {
    const decision = $("#decision-text").value.trim();
    if (!decision) { flash("write the decision first", true); return; }
    const body = { decision, decided_by: $("#decision-by").value.trim(), rationale: $("#decision-rationale").value.trim(),
      options: $("#decision-options").value.split("\n").map((o) => o.trim()).filter((o) => o) };
    if ($("#decision-inject").value) body.inject = $("#decision-inject").value;
    if (await run("Decision recorded", "POST", "/api/exercise/decisions", body)) {
      for (const f of ["#decision-text", "#decision-options", "#decision-rationale"]) $(f).value = "";
    }
  });

  onSubmit("#hotwash-form", async () => {
    const body = { went_well: $("#hw-well").value.trim(), to_improve: $("#hw-improve").value.trim() };
    const person = $("#hw-person");
    if (person && person.value.trim()) body.person = person.value.trim();
    if (!body.went_well && !body.to_improve) { flash("write what went well or what could improve", true); return; }
    if (await run("Added to the hot wash", "POST", "/api/exercise/hotwash", body)) {
      for (const f of ["#hw-well", "#hw-improve"]) $(f).value = "";
      if (person) person.value = "";
    }
  });

  onSubmit("#eval-form", async () => {
    const text = $("#eval-text").value.trim();
    if (!text) return;
    const body = { text };
    if ($("#eval-objective").value) body.objective = $("#eval-objective").value;
    if (await run("Evaluator note added", "POST", "/api/exercise/notes", body)) $("#eval-text").value = "";
  });

  onSubmit("#rate-form", async () => {
    const note = $("#rate-note").value.trim();
    if (!note) { flash("say why you override the derived rating", true); return; }
    const objective = $("#rate-objective").value;
    if (await run("Rating set", "POST", "/api/exercise/objectives/" + encodeURIComponent(objective) + "/rating",
      { rating: $("#rate-rating").value, note })) $("#rate-note").value = "";
  });

  const draftButton = $("#btn-draft");
  draftButton.addEventListener("click", async () => {
    try {
      const d = await api("GET", "/api/drafts/" + encodeURIComponent($("#update-audience").value));
      $("#update-text").value = d.text;
      $("#draft-note").textContent = d.note || "drafted from the template: edit, then send";
    } catch (err) {
      flash("no draft: " + err.message, true);
    }
  });

  $("#update-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = $("#update-text").value.trim();
    if (!text) { flash("write the update first (or draft it from the template)", true); return; }
    const res = await run("Update sent", "POST", "/api/actions/post_update", { ...actor(), audience: $("#update-audience").value, text });
    if (res) { $("#update-text").value = ""; $("#draft-note").textContent = ""; }
  });

  $("#note-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = $("#note-text").value.trim();
    if (!text) return;
    if (await run("Note added", "POST", "/api/actions/note", { ...actor(), text })) $("#note-text").value = "";
  });

  $("#assign-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    run("Role assigned", "POST", "/api/actions/assign_role", { ...actor(), person: $("#assign-person").value.trim(), role: $("#assign-role").value });
  });

  const invite = $("#invite-form");
  if (invite) {
    invite.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const body = { person: $("#invite-person").value.trim() };
      if ($("#invite-role").value) body.role = $("#invite-role").value;
      const res = await run("Join link issued", "POST", "/api/responders", body);
      if (res) {
        $("#links").prepend(el("li", { "data-link-for": res.person }, el("span", { class: "who", text: res.person + ": " }),
          el("input", { class: "link", readonly: "readonly", value: res.join_url, "data-join-url": res.person }), " ",
          el("button", { type: "button", "data-revoke": res.person, text: "Revoke" })));
        $("#invite-person").value = "";
      }
    });
  }

  render();
  connect();
  setInterval(tick, 250);
})();
