// netarith's page: an editor that analyses as you type, through the local JSON API.
// Every piece of text from the server or the user is put in the page with textContent,
// never as markup; the diagrams are SVG built by the server with every name escaped,
// parsed as XML and stripped of anything active before they are shown.
"use strict";

const STARTER = `# AlexNet as published (Krizhevsky et al., NIPS 2012, section 3.5):
# 224x224 input and cuda-convnet's rounding give conv1 its 55x55 maps.
model alexnet-paper
convention cuda-convnet
input 3x224x224
conv1: conv 96 k11 s4
relu
norm1: lrn 5 alpha=0.0001 beta=0.75 k=2.0
pool1: maxpool k3 s2
conv2: conv 256 k5 p2 g2
relu
norm2: lrn 5 alpha=0.0001 beta=0.75 k=2.0
pool2: maxpool k3 s2
conv3: conv 384 k3 p1
relu
conv4: conv 384 k3 p1 g2
relu
conv5: conv 256 k3 p1 g2
relu
pool5: maxpool k3 s2
flatten
fc6: linear 4096
relu
dropout 0.5
fc7: linear 4096
relu
dropout 0.5
fc8: linear 1000
`;

const $ = (id) => document.getElementById(id);
const state = { report: null, selected: null, view: "volumes", model: null, modelText: null, seq: 0, ok: false };

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

async function api(path, body) {
  const response = await fetch(path, body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  let data = null;
  try { data = await response.json(); } catch (e) { data = { error: { message: `HTTP ${response.status}` } }; }
  return { status: response.status, data };
}

function request(extra) {
  const body = { source: $("source").value, ...extra };
  const convention = $("convention").value;
  if (convention) body.convention = convention;
  return body;
}

// ---------------------------------------------------------------- the editor

function renderEditor(bad) {
  const text = $("source").value;
  const lines = text.split("\n");
  const gutter = $("gutter");
  const backdrop = $("backdrop");
  gutter.replaceChildren();
  backdrop.replaceChildren();
  lines.forEach((line, i) => {
    const number = el("span", i + 1);
    const isBad = bad && bad.line === i + 1;
    if (isBad) number.className = "bad";
    gutter.appendChild(number);
    if (isBad) {
      const mark = el("span", null, "bad-line");
      const col = Math.max(0, Math.min((bad.column || 1) - 1, line.length));
      mark.appendChild(document.createTextNode(line.slice(0, col)));
      mark.appendChild(el("span", line.slice(col, col + 1) || " ", "bad-col"));
      mark.appendChild(document.createTextNode(line.slice(col + 1)));
      backdrop.appendChild(mark);
    } else {
      backdrop.appendChild(document.createTextNode(line));
    }
    backdrop.appendChild(document.createTextNode("\n"));
  });
  syncScroll();
}

function syncScroll() {
  const source = $("source");
  $("backdrop").scrollTop = source.scrollTop;
  $("backdrop").scrollLeft = source.scrollLeft;
  $("gutter").scrollTop = source.scrollTop;
}

function showError(error) {
  const box = $("error");
  if (!error) { box.hidden = true; box.textContent = ""; renderEditor(null); return; }
  // Notation errors already start with "line:column:"; others get the location added.
  const located = error.line && !String(error.message).startsWith(`${error.line}:`) && !/^line \d+/.test(error.message);
  const where = located ? `line ${error.line}` + (error.column ? `, column ${error.column}` : "") + ": " : "";
  box.textContent = where + error.message;
  box.hidden = false;
  renderEditor(error.line ? error : null);
}

// ---------------------------------------------------------------- results

function renderTable(report) {
  const body = $("table").querySelector("tbody");
  body.replaceChildren();
  report.rows.forEach((cells) => {
    const tr = el("tr");
    tr.dataset.layer = cells[0];
    tr.tabIndex = 0;
    cells.forEach((cell) => tr.appendChild(el("td", cell)));
    tr.addEventListener("click", () => select(cells[0]));
    tr.addEventListener("keydown", (e) => { if (e.key === "Enter") select(cells[0]); });
    body.appendChild(tr);
  });
  const t = report.totals;
  const foot = $("table").querySelector("tfoot");
  foot.replaceChildren();
  const tr = el("tr");
  ["total", "", "", t.neurons, t.params, t.macs, ""].forEach((v) =>
    tr.appendChild(el("td", typeof v === "number" ? v.toLocaleString("en-US") : v)));
  foot.appendChild(tr);
  $("table").classList.remove("stale");
  $("summary").textContent = `${report.model}: input ${JSON.stringify(report.input)}, convention ${report.convention}\n`
    + report.summary.join("\n");
  const warnings = $("warnings");
  warnings.replaceChildren();
  report.layers.forEach((layer) => layer.warnings.forEach((w) => warnings.appendChild(el("li", `${layer.name}: ${w}`))));
}

// The server escapes every name; this parses the SVG as XML and drops anything active anyway.
function safeSvg(text) {
  const doc = new DOMParser().parseFromString(text, "image/svg+xml");
  const root = doc.documentElement;
  if (!root || root.nodeName !== "svg") return null;
  root.querySelectorAll("script, foreignObject, iframe, a").forEach((n) => n.remove());
  root.querySelectorAll("*").forEach((n) => {
    for (const attr of Array.from(n.attributes)) {
      const name = attr.name.toLowerCase();
      if (name.startsWith("on") || ((name === "href" || name.endsWith(":href")) && !attr.value.startsWith("#"))) {
        n.removeAttribute(attr.name);
      }
    }
  });
  return document.importNode(root, true);
}

async function renderDiagram(seq) {
  const path = state.view === "chart" ? "/api/chart" : "/api/draw";
  const extra = state.view === "chart" ? { log: true } : { style: state.view };
  const { status, data } = await api(path, request(extra));
  if (seq !== state.seq) return;
  const box = $("diagram");
  if (status !== 200) { box.replaceChildren(el("p", data.error.message, "notice")); return; }
  box.classList.remove("stale");
  const svg = safeSvg(data.svg);
  box.replaceChildren(...(svg ? [svg] : []));
  box.querySelectorAll("[data-layer]").forEach((g) => g.addEventListener("click", () => select(g.getAttribute("data-layer"))));
  highlight();
}

async function analyze() {
  const seq = ++state.seq;
  renderEditor(null);
  const { status, data } = await api("/api/analyze", request({}));
  if (seq !== state.seq) return;
  if (status !== 200) {
    state.ok = false;
    showError(data.error || { message: `HTTP ${status}` });
    $("table").classList.add("stale");
    $("diagram").classList.add("stale");
    return;
  }
  state.ok = true;
  state.report = data;
  showError(null);
  renderTable(data);
  if (state.selected && !data.layers.some((l) => l.name === state.selected)) state.selected = null;
  await renderDiagram(seq);
  if (state.selected) select(state.selected);
}

let timer = null;
function schedule() {
  clearTimeout(timer);
  timer = setTimeout(analyze, 250);
}

// ---------------------------------------------------------------- one layer

function highlight() {
  document.querySelectorAll(".selected").forEach((n) => n.classList.remove("selected"));
  if (!state.selected) return;
  document.querySelectorAll("[data-layer]").forEach((n) => {
    if (n.getAttribute("data-layer") === state.selected) n.classList.add("selected");
  });
}

function renderValue(value) {
  // Derivations, sizes and audits are shown whatever their shape: steps as a table, text as text.
  if (value === null || value === undefined) return el("p", "(nothing)", "notice");
  if (typeof value !== "object") return el("pre", value, "text");
  const steps = Array.isArray(value) ? value : (Array.isArray(value.steps) ? value.steps : null);
  if (steps && steps.every((s) => s && typeof s === "object" && !Array.isArray(s))) {
    const table = el("table", null, "steps");
    steps.forEach((s) => {
      const tr = el("tr");
      const parts = ("formula" in s || "result" in s)
        ? [s.quantity, s.formula, s.numbers, s.result, s.note]
        : Object.values(s).map((v) => typeof v === "object" ? JSON.stringify(v) : v);
      parts.forEach((p) => tr.appendChild(el("td", p === undefined || p === null ? "" : p)));
      table.appendChild(tr);
    });
    const wrap = el("div");
    if (!Array.isArray(value)) {
      Object.entries(value).filter(([k]) => k !== "steps").forEach(([k, v]) =>
        wrap.appendChild(el("p", `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`)));
    }
    wrap.appendChild(table);
    return wrap;
  }
  if (typeof value.text === "string") return el("pre", value.text, "text");
  return el("pre", JSON.stringify(value, null, 2), "text");
}

async function select(name) {
  if (!state.report) return;
  const layer = state.report.layers.find((l) => l.name === name);
  if (!layer) return;
  state.selected = name;
  highlight();
  $("table").querySelectorAll("tbody tr").forEach((tr) => tr.classList.toggle("selected", tr.dataset.layer === name));
  $("detail").hidden = false;
  $("detail-title").textContent = `${layer.name} (${layer.kind})`;
  const numbers = $("detail-numbers");
  numbers.replaceChildren();
  const rf = layer.receptive_field ? layer.receptive_field.size.join("x") : "-";
  [["inputs", layer.inputs.join(", ") || "-"], ["output", layer.output_shape.join("x")],
   ["neurons", layer.neurons.toLocaleString("en-US")], ["params", layer.params.toLocaleString("en-US")],
   ["MACs", layer.macs.toLocaleString("en-US")], ["receptive field", rf]].forEach(([k, v]) => {
    numbers.appendChild(el("dt", k));
    numbers.appendChild(el("dd", v));
  });
  const box = $("derivation");
  box.replaceChildren(el("p", "deriving...", "notice"));
  const seq = state.seq;
  const { status, data } = await api("/api/explain", request({ layer: name }));
  if (seq !== state.seq || state.selected !== name) return;
  if (status === 200) box.replaceChildren(el("h3", "derivation"), renderValue(data.explanation));
  else box.replaceChildren(el("p", data.error.message, "notice"));
}

// ---------------------------------------------------------------- zoo, audit, downloads, sharing

async function loadZoo() {
  const { status, data } = await api("/api/zoo");
  if (status !== 200) return;
  const select = $("zoo");
  data.models.forEach((m) => {
    const option = el("option", `${m.name} (${m.family})`);
    option.value = m.name;
    select.appendChild(option);
  });
  if (!data.models.length) select.appendChild(Object.assign(el("option", "(no zoo models in this build)"), { disabled: true }));
}

async function pickModel() {
  const name = $("zoo").value;
  if (!name) return;
  const { status, data } = await api(`/api/zoo/${encodeURIComponent(name)}`);
  if (status !== 200) { showError(data.error); return; }
  $("source").value = data.notation;
  state.model = name;
  state.modelText = data.notation;
  updateAuditPanel();
  analyze();
}

function updateAuditPanel() {
  const onModel = state.model && $("source").value === state.modelText;
  $("audit-panel").hidden = !onModel;
  if (!onModel) $("audit-result").replaceChildren();
}

async function runAudit() {
  const box = $("audit-result");
  box.replaceChildren(el("p", "auditing...", "notice"));
  const { status, data } = await api("/api/audit", { model: state.model });
  if (status === 200) box.replaceChildren(renderValue(data.audit));
  else box.replaceChildren(el("p", data.error.message, "notice"));
}

async function download(format) {
  const response = await fetch("/api/export", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(request({ format })),
  });
  if (!response.ok) {
    const data = await response.json().catch(() => ({ error: { message: `HTTP ${response.status}` } }));
    showError(data.error);
    return;
  }
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = /filename="([^"]+)"/.exec(disposition);
  const url = URL.createObjectURL(await response.blob());
  const a = el("a");
  a.href = url;
  a.download = match ? match[1] : `network.${format}`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function shareLink() {
  const url = `${location.origin}/#src=${encodeURIComponent($("source").value)}`;
  history.replaceState(null, "", url);
  const field = $("share-url");
  field.value = url;
  field.hidden = false;
  field.select();
  if (navigator.clipboard) navigator.clipboard.writeText(url).catch(() => {});
}

function fromHash() {
  const hash = location.hash.slice(1);
  if (!hash.startsWith("src=")) return false;
  let text;
  try { text = decodeURIComponent(hash.slice(4)); } catch (e) { return false; }
  $("source").value = text;
  state.model = null;
  updateAuditPanel();
  return true;
}

function setView(view) {
  state.view = view;
  document.querySelectorAll(".tabs button").forEach((b) => b.setAttribute("aria-selected", String(b.dataset.view === view)));
  if (state.ok) renderDiagram(state.seq);
}

function init() {
  const source = $("source");
  if (!fromHash()) source.value = STARTER;
  source.addEventListener("input", () => { updateAuditPanel(); renderEditor(null); schedule(); });
  source.addEventListener("scroll", syncScroll);
  $("convention").addEventListener("change", analyze);
  $("zoo").addEventListener("change", pickModel);
  $("audit").addEventListener("click", runAudit);
  $("share").addEventListener("click", shareLink);
  document.querySelectorAll(".downloads button").forEach((b) => b.addEventListener("click", () => download(b.dataset.format)));
  document.querySelectorAll(".tabs button").forEach((b) => b.addEventListener("click", () => setView(b.dataset.view)));
  window.addEventListener("hashchange", () => { if (fromHash()) analyze(); });
  renderEditor(null);
  loadZoo();
  analyze();
}

document.addEventListener("DOMContentLoaded", init);
