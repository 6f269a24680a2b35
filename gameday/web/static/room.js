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

  // ------------------------------------------------------------ helpers
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") node.textContent = String(v);
      else if (k === "class") node.className = v;
      else if (k.startsWith("data-")) node.setAttribute(k, String(v));
      else if (k === "disabled" || k === "hidden") node[k] = Boolean(v);
      else node.setAttribute(k, String(v));
    }
    for (const c of children) if (c) node.append(c);
    return node;
  }

  function offset(t) {
    if (typeof t !== "number") return "—";
    t = Math.max(0, t);
    if (t < 60) return "+" + t.toFixed(1).replace(/\.0$/, "") + "s";
    const m = Math.floor(t / 60), s = Math.floor(t % 60);
    if (m < 60) return "+" + m + "m" + String(s).padStart(2, "0") + "s";
    return "+" + Math.floor(m / 60) + "h" + String(m % 60).padStart(2, "0") + "m";
  }

  function dur(t) {
    return offset(t).replace(/^\+/, "");
  }

  function clock(seconds) {
    const neg = seconds < 0, s = Math.floor(Math.abs(seconds));
    return (neg ? "-" : "") + Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  function nowT() {
    if (state.status !== "running") return state.now_t;
    return state.now_t + (performance.now() - fetchedAt) / 1000;
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
    document.querySelectorAll("[data-action], [data-runbook], #btn-send-update, #btn-note, #btn-draft").forEach((b) => { b.disabled = !live; });
    if (state.status === "ended") banner("The drill is over (" + (state.outcome || "") + "). The scorecard and postmortem are written when the drill process ends.");
    renderIncident();
    renderRoles();
    renderRunbooks();
    renderTimeline();
    if (state.viewer.facilitator) renderFacilitator();
    tick();
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

  function tick() {
    const now = nowT();
    $("#clock").textContent = offset(now) + (state.status === "paused" ? " (paused)" : "");
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
      flash("could not refresh: " + err.message, true);
    }
  }

  function scheduleRefresh() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(() => { refreshTimer = null; refresh(); }, 100);
  }

  function connect() {
    source = new EventSource("/api/stream");
    source.addEventListener("hello", scheduleRefresh);
    source.addEventListener("journal", scheduleRefresh);
    source.addEventListener("resync", scheduleRefresh);
    source.addEventListener("bye", (ev) => {
      source.close();
      let reason = "closed";
      try { reason = JSON.parse(ev.data).reason || reason; } catch (e) { /* keep */ }
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
    }
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
