// DOM and time helpers the control room's scripts share (room.js, training.js): loaded first.
// el() builds an element; untrusted text only ever goes through textContent ("text").
"use strict";

window.gamedayDom = (function () {
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

  return { el, offset, dur };
})();
