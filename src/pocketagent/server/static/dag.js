// The plan as a DAG in SVG: one node per action, edges from its `$N` dependencies.
//
// Layered layout of our own (no library): an action's depth is 1 + the deepest of its
// dependencies. Wide containers get one column per depth; narrow ones (a phone) one row per
// action, ordered by depth and indented by it, so the text stays readable instead of shrinking.
// Node elements are kept across updates (only their position and status change), so a node
// that has the keyboard focus keeps it while events arrive.

const SVG = "http://www.w3.org/2000/svg";
const NODE_W = 190; // the narrowest column; columns widen to fill the room, up to NODE_MAX_W
const NODE_MAX_W = 280;
const NODE_H = 54;
const GAP_X = 46;
const GAP_Y = 16;
const PAD = 12;
const ROW_INDENT = 26;
const ROW_NODE_MIN_W = 220;

export const STATUS_LABELS = {
  planned: "planned",
  waiting: "waiting for your OK",
  running: "running",
  done: "done",
  failed: "failed",
  skipped: "skipped",
};
const STATUS_MARKS = { planned: "○", waiting: "?", running: "…", done: "✓", failed: "✗", skipped: "–" };

function svg(name, attrs = {}) {
  const el = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  return el;
}

/** A call's arguments as the plan language writes them: "Sid", ["$1"], None. */
export function formatArgs(args) {
  return (args || []).map(formatValue).join(", ");
}

export function formatValue(value) {
  if (value === null || value === undefined) return "None";
  if (Array.isArray(value)) return `[${value.map(formatValue).join(", ")}]`;
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}

/** Put `text` in an SVG <text>, cut with "…" to fit `width` (measured: fonts differ per system). */
function fitText(node, text, width) {
  node.textContent = text;
  if (!node.getComputedTextLength || node.getComputedTextLength() <= width) return;
  let low = 0;
  let high = text.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    node.textContent = `${text.slice(0, middle)}…`;
    if (node.getComputedTextLength() <= width) low = middle;
    else high = middle - 1;
  }
  node.textContent = `${text.slice(0, low)}…`;
}

/** Depth of every action: 0 without dependencies, else 1 + the deepest dependency in the plan. */
export function depths(actions) {
  const depth = new Map();
  const visit = (id, seen) => {
    if (depth.has(id)) return depth.get(id);
    const action = actions.get(id);
    if (!action || seen.has(id)) return 0; // a dependency not (yet) planned, or a cycle: no depth from it
    seen.add(id);
    const deps = action.dependencies.filter((dep) => actions.has(dep));
    const value = deps.length ? 1 + Math.max(...deps.map((dep) => visit(dep, seen))) : 0;
    depth.set(id, value);
    return value;
  };
  for (const id of actions.keys()) visit(id, new Set());
  return depth;
}

/** Positions {x, y, w, h} of every node, and the drawing's size, for `mode` "columns" or "rows". */
export function layout(actions, mode, availableWidth) {
  const depth = depths(actions);
  const ids = [...actions.keys()].sort((a, b) => depth.get(a) - depth.get(b) || a - b);
  const boxes = new Map();
  let width = 0;
  let height = 0;
  if (mode === "columns") {
    const columns = 1 + Math.max(0, ...depth.values());
    const roomy = Math.floor((availableWidth - 2 * PAD - (columns - 1) * GAP_X) / columns);
    const w = Math.max(NODE_W, Math.min(NODE_MAX_W, roomy));
    const rows = new Map(); // depth -> nodes placed in that column so far
    for (const id of ids) {
      const d = depth.get(id);
      const row = rows.get(d) || 0;
      rows.set(d, row + 1);
      const box = { x: PAD + d * (w + GAP_X), y: PAD + row * (NODE_H + GAP_Y), w, h: NODE_H };
      boxes.set(id, box);
      width = Math.max(width, box.x + box.w + PAD);
      height = Math.max(height, box.y + box.h + PAD);
    }
  } else {
    const maxDepth = Math.max(0, ...depth.values());
    const w = Math.max(ROW_NODE_MIN_W, availableWidth - 2 * PAD - maxDepth * ROW_INDENT - 24);
    ids.forEach((id, row) => {
      const box = { x: PAD + 24 + depth.get(id) * ROW_INDENT, y: PAD + row * (NODE_H + GAP_Y), w, h: NODE_H };
      boxes.set(id, box);
      width = Math.max(width, box.x + box.w + PAD);
      height = Math.max(height, box.y + box.h + PAD);
    });
  }
  return { boxes, width: Math.max(width, 1), height: Math.max(height, 1) };
}

/** Width the columns layout needs (to choose between columns and rows). */
export function columnsWidth(actions) {
  const depth = depths(actions);
  const columns = 1 + Math.max(0, ...depth.values());
  return 2 * PAD + columns * NODE_W + (columns - 1) * GAP_X;
}

function edgePath(from, to, mode) {
  if (mode === "columns") {
    const x1 = from.x + from.w;
    const y1 = from.y + from.h / 2;
    const x2 = to.x;
    const y2 = to.y + to.h / 2;
    const bend = Math.max(20, (x2 - x1) / 2);
    return `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2 - 2},${y2}`;
  }
  // Rows: both ends on the left side, bowing further left the further apart they are.
  const x1 = from.x;
  const y1 = from.y + from.h / 2;
  const x2 = to.x;
  const y2 = to.y + to.h / 2;
  const bow = Math.min(from.x - 4, 10 + (y2 - y1) / 8);
  return `M${x1},${y1} C${x1 - bow},${y1} ${x2 - bow - ROW_INDENT},${y2} ${x2 - 2},${y2}`;
}

/**
 * The DAG view in `container`. `onSelect(id)` is called when a node is clicked or chosen
 * with Enter / Space.
 */
export class DagView {
  constructor(container, onSelect) {
    this.container = container;
    this.onSelect = onSelect;
    this.actions = new Map();
    this.selected = null;
    this.svg = svg("svg", { role: "group", "aria-label": "The plan: actions and their dependencies" });
    const defs = svg("defs");
    const marker = svg("marker", {
      id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse",
    });
    marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z", class: "arrow-head" }));
    defs.append(marker);
    this.edges = svg("g", { class: "edges", "aria-hidden": "true" });
    this.nodes = svg("g", { class: "nodes" });
    this.svg.append(defs, this.edges, this.nodes);
    container.append(this.svg);
    this.nodeEls = new Map();
    this.observer = new ResizeObserver(() => this.render());
    this.observer.observe(container);
  }

  /** Forget every action (a new run, or a replan: action ids restart at 1). */
  clear() {
    this.actions.clear();
    this.nodeEls.forEach((el) => el.remove());
    this.nodeEls.clear();
    this.selected = null;
    this.render();
  }

  /** Add or update an action: {id, tool, args, dependencies, status, ...}. */
  upsert(id, fields) {
    const current = this.actions.get(id) || { id, tool: "", args: [], dependencies: [], status: "planned" };
    this.actions.set(id, { ...current, ...fields });
    this.render();
  }

  get(id) {
    return this.actions.get(id);
  }

  select(id) {
    this.selected = id;
    this.render();
    this.onSelect(id);
  }

  focus(id) {
    const el = this.nodeEls.get(id);
    if (el) el.focus();
  }

  mode() {
    const available = this.container.clientWidth || 800;
    return columnsWidth(this.actions) <= available ? "columns" : "rows";
  }

  render() {
    const mode = this.mode();
    const available = this.container.clientWidth || 800;
    const { boxes, width, height } = layout(this.actions, mode, available);
    this.container.dataset.layout = mode;
    this.svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    this.svg.setAttribute("width", String(width));
    this.svg.setAttribute("height", String(height));
    this.svg.style.display = this.actions.size ? "" : "none";

    this.edges.replaceChildren();
    for (const action of this.actions.values()) {
      for (const dep of action.dependencies) {
        const from = boxes.get(dep);
        const to = boxes.get(action.id);
        if (!from || !to) continue;
        const source = this.actions.get(dep);
        const path = svg("path", {
          d: edgePath(from, to, mode),
          class: `edge from-${source.status}`,
          "marker-end": "url(#arrow)",
          "data-from": dep,
          "data-to": action.id,
        });
        this.edges.append(path);
      }
    }

    const order = [...boxes.keys()];
    for (const id of order) {
      const action = this.actions.get(id);
      const box = boxes.get(id);
      let el = this.nodeEls.get(id);
      if (!el) {
        el = this.createNode(id);
        this.nodeEls.set(id, el);
      }
      this.nodes.append(el); // keeps tab order = layout order (depth, then id)
      el.setAttribute("transform", `translate(${box.x},${box.y})`);
      el.querySelector("rect").setAttribute("width", String(box.w));
      el.querySelector("rect").setAttribute("height", String(box.h));
      el.setAttribute("class", `node status-${action.status}${this.selected === id ? " selected" : ""}`);
      el.dataset.status = action.status;
      el.dataset.tool = action.tool;
      const room = box.w - 20;
      fitText(el.querySelector(".title"), `${STATUS_MARKS[action.status] || ""} ${id}. ${action.tool}`, room);
      fitText(el.querySelector(".args"), formatArgs(action.shownArgs || action.args), room);
      const deps = action.dependencies.length ? `, needs ${action.dependencies.map((d) => `$${d}`).join(" ")}` : "";
      el.setAttribute("aria-label", `Action ${id}: ${action.tool}, ${STATUS_LABELS[action.status] || action.status}${deps}`);
      el.setAttribute("aria-pressed", this.selected === id ? "true" : "false");
    }
  }

  createNode(id) {
    const el = svg("g", { tabindex: 0, role: "button", "data-action-id": id });
    el.append(
      svg("rect", { rx: 9, ry: 9 }),
      svg("text", { class: "title", x: 10, y: 21 }),
      svg("text", { class: "args", x: 10, y: 41 }),
    );
    el.addEventListener("click", () => this.select(id));
    el.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        this.select(id);
      }
    });
    return el;
  }
}
