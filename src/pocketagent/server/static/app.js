// The page of `pocketagent serve`: ask (type or speak), watch the plan run as a DAG, approve or
// reject side effects, read the answer, the drafts and the recent runs.
//
// Every run asks before side effects (`"confirm": "side_effects"` in the run request): a person
// watching the page is there to say yes or no.

import { Api, ApiError } from "./api.js";
import { DagView, formatArgs, STATUS_LABELS } from "./dag.js";
import * as voice from "./voice.js";

const $ = (id) => document.getElementById(id);

/** A DOM element: el("li", {class: "x", dataset: {id: 1}}, "text", child, ...). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "on") Object.entries(value).forEach(([name, handler]) => node.addEventListener(name, handler));
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  node.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

function call(tool, args) {
  return `${tool}(${formatArgs(args)})`;
}

function seconds(value) {
  return typeof value === "number" ? `${value.toFixed(value < 1 ? 2 : 1)} s` : "";
}

function shortDate(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString([], { dateStyle: "short", timeStyle: "short" });
}

// -- the token dialog ------------------------------------------------------------------

function askToken() {
  const dialog = $("token-dialog");
  const input = $("token");
  input.value = "";
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => resolve(dialog.returnValue === "ok" && input.value.trim() ? input.value.trim() : null),
      { once: true },
    );
    dialog.returnValue = "";
    dialog.showModal();
    input.focus();
  });
}

const api = new Api(askToken);

// -- status lines ------------------------------------------------------------------------

function setStatus(id, text, kind = "") {
  const line = $(id);
  line.textContent = text;
  line.className = `status-line ${kind}`.trim();
}

// -- the run -----------------------------------------------------------------------------

const run = {
  controller: null,
  planText: "",
  request: "", // the text of the run in progress
  cards: new Map(), // confirmation id -> card element
  draftsBefore: null, // draft ids that existed when the run started
};

const dag = new DagView($("dag"), showDetails);

function showDetails(id) {
  const action = dag.get(id);
  const box = $("node-details");
  if (!action) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  box.dataset.actionId = String(id);
  const rows = [
    ["Status", STATUS_LABELS[action.status] || action.status],
    ["Planned", call(action.tool, action.args)],
  ];
  if (action.dependencies.length) rows.push(["Needs", action.dependencies.map((dep) => `$${dep}`).join(", ")]);
  if (action.shownArgs) rows.push(["Ran with", call(action.tool, action.shownArgs)]);
  if (action.duration_s !== undefined) rows.push(["Took", seconds(action.duration_s)]);
  const list = el("dl");
  for (const [term, value] of rows) list.append(el("dt", {}, term), el("dd", {}, el("code", {}, value)));
  const parts = [el("h3", {}, `Action ${id}: ${action.tool}`), list];
  if (action.result !== undefined) parts.push(el("h4", {}, "Result"), el("pre", { class: "result" }, action.result));
  if (action.error) parts.push(el("h4", {}, "Error"), el("pre", { class: "result error" }, action.error));
  if (action.reason) parts.push(el("h4", {}, "Skipped because"), el("p", {}, action.reason));
  box.replaceChildren(...parts);
}

function updateAction(id, fields) {
  dag.upsert(id, fields);
  if (dag.selected === id) showDetails(id);
}

function resetRun() {
  dag.clear();
  run.planText = "";
  $("plan-text").textContent = "";
  $("node-details").hidden = true;
  $("answer").textContent = "";
  $("answer").className = "answer";
  clearCards();
}

function clearCards() {
  run.cards.forEach((card) => card.remove());
  run.cards.clear();
  $("confirmations").hidden = true;
}

function removeCardOfAction(actionId) {
  for (const [id, card] of run.cards) {
    if (card.dataset.actionId === String(actionId)) dropCard(id);
  }
}

/** Remove a card; if it had the focus, the focus moves on to the next waiting card (or the plan). */
function dropCard(id) {
  const card = run.cards.get(id);
  if (!card) return;
  const hadFocus = card.dataset.hadFocus === "1" || card.contains(document.activeElement);
  card.remove();
  run.cards.delete(id);
  const next = run.cards.values().next().value;
  if (next) {
    if (hadFocus) next.querySelector(".approve").focus();
  } else {
    $("confirmations").hidden = true;
    if (hadFocus) $("dag").focus();
  }
}

async function answerConfirmation(id, approve) {
  const card = run.cards.get(id);
  if (!card || card.dataset.answering) return;
  card.dataset.answering = "1";
  // Disabling the buttons drops the focus; the card remembers it had it (its action_started may
  // remove it before the answer's response arrives).
  if (card.contains(document.activeElement)) card.dataset.hadFocus = "1";
  card.querySelectorAll("button").forEach((button) => {
    button.disabled = true;
  });
  try {
    await api.post("/v1/agent/confirm", { id, approve });
    dropCard(id);
  } catch (error) {
    card.querySelector(".card-status").textContent =
      error instanceof ApiError && error.status === 404 ? "This is no longer waiting (timed out or the run ended)." : error.message;
    setTimeout(() => dropCard(id), 4000);
  }
}

function addConfirmation(event) {
  const title = `Action ${event.action_id}: ${event.tool}`;
  const approve = el("button", { type: "button", class: "approve primary-button" }, "Approve");
  const reject = el("button", { type: "button", class: "reject danger-button" }, "Reject");
  approve.addEventListener("click", () => answerConfirmation(event.id, true));
  reject.addEventListener("click", () => answerConfirmation(event.id, false));
  const card = el(
    "div",
    { class: "confirm-card", role: "group", "aria-label": `Approve ${title}?`, dataset: { confirmId: event.id, actionId: event.action_id } },
    el("p", { class: "card-title" }, el("strong", {}, title)),
    el("pre", { class: "card-call" }, call(event.tool, event.args)),
    el("div", { class: "controls" }, approve, reject),
    el("p", { class: "card-status", role: "status" }),
  );
  card.addEventListener("keydown", (key) => {
    if (key.altKey || key.ctrlKey || key.metaKey) return;
    if (key.key === "a" || key.key === "A") {
      key.preventDefault();
      answerConfirmation(event.id, true);
    } else if (key.key === "r" || key.key === "R" || key.key === "Escape") {
      key.preventDefault();
      answerConfirmation(event.id, false);
    }
  });
  // A new card takes the focus unless another card has it or the user has started typing a new request.
  const typing = document.activeElement === $("request") && $("request").value.trim() !== run.request;
  const onACard = [...run.cards.values()].some((other) => other.contains(document.activeElement));
  run.cards.set(event.id, card);
  $("confirm-list").append(card);
  $("confirmations").hidden = false;
  if (!typing && !onACard) approve.focus();
}

function onEvent(event) {
  switch (event.kind) {
    case "run_started":
      setStatus("run-status", "Planning…", "busy");
      break;
    case "planning_started":
      if (event.attempt > 0) setStatus("run-status", `Planning again (attempt ${event.attempt + 1})…`, "busy");
      break;
    case "plan_token":
      run.planText += event.text;
      $("plan-text").textContent = run.planText;
      break;
    case "action_planned":
      updateAction(event.id, { tool: event.tool, args: event.args, dependencies: event.dependencies, status: "planned" });
      setStatus("run-status", "Running…", "busy");
      break;
    case "confirmation_requested":
      updateAction(event.action_id, { status: "waiting", shownArgs: event.args });
      addConfirmation(event);
      break;
    case "action_started":
      removeCardOfAction(event.id);
      updateAction(event.id, { status: "running", shownArgs: event.args });
      break;
    case "action_finished":
      updateAction(event.id, { status: "done", shownArgs: event.args, result: event.result, duration_s: event.duration_s });
      break;
    case "action_failed":
      updateAction(event.id, { status: "failed", shownArgs: event.args, error: event.error, duration_s: event.duration_s });
      break;
    case "action_skipped":
      removeCardOfAction(event.id);
      updateAction(event.id, { status: "skipped", reason: event.reason });
      break;
    case "plan_ready":
      run.planText = event.text;
      $("plan-text").textContent = event.text;
      if (event.error) setStatus("run-status", `The plan is not valid: ${event.error}`, "error");
      break;
    case "replanning":
      dag.clear();
      clearCards();
      run.planText = "";
      $("node-details").hidden = true;
      setStatus("run-status", `Replanning: ${event.reason}`, "busy");
      break;
    case "answer":
      $("answer").textContent = event.answer;
      $("answer").className = `answer ${event.ok ? "ok" : "not-ok"}`;
      setStatus("run-status", event.ok ? "Done." : "Done, but not everything went through.", event.ok ? "ok" : "error");
      break;
    case "error":
      setStatus("run-status", `The run stopped: ${event.message}`, "error");
      break;
    default:
      break;
  }
}

function setRunning(running) {
  $("run").disabled = running;
  $("stop").disabled = !running;
  document.body.classList.toggle("running", running);
}

async function startRun(text) {
  if (run.controller) return;
  resetRun();
  setStatus("run-status", "Starting…", "busy");
  run.controller = new AbortController();
  run.request = text;
  setRunning(true);
  run.draftsBefore = await draftIds();
  const body = { request: text, confirm: "side_effects", dry_run: $("dry-run").checked };
  try {
    await api.runStream(body, onEvent, run.controller.signal);
  } catch (error) {
    if (error.name === "AbortError") setStatus("run-status", "Stopped: the run was cancelled.", "error");
    else setStatus("run-status", error.message, "error");
  } finally {
    run.controller = null;
    setRunning(false);
    clearCards();
    refreshDrafts();
    refreshHistory(true);
  }
}

$("request-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("request").value.trim();
  if (!text) {
    setStatus("run-status", "Say what you want done first.", "error");
    $("request").focus();
    return;
  }
  startRun(text);
});

$("request").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $("request-form").requestSubmit();
  }
});

$("stop").addEventListener("click", () => {
  if (run.controller) run.controller.abort();
});

// -- drafts ------------------------------------------------------------------------------

async function draftIds() {
  try {
    const listing = await api.json("/v1/drafts");
    return new Set(listing.data.map((draft) => draft.id));
  } catch {
    return null;
  }
}

function draftLabel(draft) {
  if (draft.kind === "sms") return `Text to ${draft.to}: ${draft.preview}`;
  return `Email to ${draft.to || "(nobody)"}: ${draft.subject || "(no subject)"}`;
}

async function refreshDrafts() {
  const list = $("drafts");
  let listing;
  try {
    listing = await api.json("/v1/drafts");
  } catch (error) {
    list.replaceChildren(el("li", { class: "empty" }, `Drafts cannot be read: ${error.message}`));
    return;
  }
  const made = run.draftsBefore;
  const items = listing.data.map((draft) => {
    const isNew = made !== null && made !== undefined && !made.has(draft.id);
    return el(
      "li",
      { class: isNew ? "new" : "" },
      el(
        "button",
        { type: "button", class: "list-button", dataset: { draftId: draft.id }, on: { click: () => openDraft(draft.id) } },
        el("span", { class: "item-title" }, draftLabel(draft)),
        el("span", { class: "item-meta" }, `${isNew ? "new · " : ""}${shortDate(draft.date)}`),
      ),
    );
  });
  const problems = Object.entries(listing.sources || {}).filter(([, problem]) => problem);
  $("drafts-note").textContent = problems.length
    ? `Not shown: ${problems.map(([kind, problem]) => `${kind} (${problem})`).join("; ")}.`
    : "Emails in Drafts and texts in the SMS outbox: made, not sent.";
  list.replaceChildren(...(items.length ? items : [el("li", { class: "empty" }, "No drafts.")]));
}

async function openDraft(id) {
  const view = $("draft-view");
  try {
    const draft = await api.json(`/v1/drafts/${encodeURIComponent(id)}`);
    const rows = draft.kind === "email"
      ? [["To", draft.to], ["Cc", draft.cc], ["Subject", draft.subject], ["Date", draft.date], ["Attachments", (draft.attachments || []).join(", ")]]
      : [["To", draft.to], ["Created", draft.date], ["Status", draft.status]];
    const list = el("dl");
    rows.filter(([, value]) => value).forEach(([term, value]) => list.append(el("dt", {}, term), el("dd", {}, value)));
    view.replaceChildren(
      el("div", { class: "panel-head" },
        el("h3", {}, draft.kind === "email" ? "Email draft" : "Text in the outbox"),
        el("button", { type: "button", class: "small", on: { click: () => { view.hidden = true; } } }, "Close")),
      list,
      el("pre", { class: "draft-text" }, draft.text),
    );
    view.dataset.draftId = id;
  } catch (error) {
    view.replaceChildren(el("p", { class: "error" }, error.message));
  }
  view.hidden = false;
  view.focus();
}

$("refresh-drafts").addEventListener("click", () => refreshDrafts());

// -- history -----------------------------------------------------------------------------

const HISTORY_RETRIES = 20;
const HISTORY_RETRY_MS = 250;
let newestRunId = null; // the newest logged run shown

/**
 * Show the recent runs. `afterRun`: a run just ended, and the server logs it in the background
 * a moment after its stream closes, so ask again (a few times) until a newer run is listed.
 */
async function refreshHistory(afterRun = false) {
  const list = $("history");
  let listing;
  try {
    for (let attempt = 0; ; attempt++) {
      listing = await api.json("/v1/runs?limit=20");
      const newest = listing.data.length ? listing.data[0].id : null;
      const logged = !afterRun || !listing.history || (newest !== null && newest !== newestRunId);
      if (logged || attempt >= HISTORY_RETRIES) break;
      await new Promise((resolve) => setTimeout(resolve, HISTORY_RETRY_MS));
    }
  } catch (error) {
    list.replaceChildren(el("li", { class: "empty" }, `The run history cannot be read: ${error.message}`));
    return;
  }
  newestRunId = listing.data.length ? listing.data[0].id : null;
  if (!listing.history) {
    list.replaceChildren(el("li", { class: "empty" }, "The run history is off (history = false)."));
    return;
  }
  const items = listing.data.map((entry) =>
    el(
      "li",
      {},
      el(
        "button",
        { type: "button", class: "list-button", dataset: { runId: entry.id }, on: { click: () => openRun(entry.id) } },
        el("span", { class: "item-title" }, `${entry.ok ? "✓" : "✗"} ${entry.request}`),
        el("span", { class: "item-meta" },
          `${shortDate(entry.started_at)} · ${entry.actions} action${entry.actions === 1 ? "" : "s"}` +
          `${entry.dry_run ? " · dry run" : ""} · ${entry.source}`),
      ),
    ),
  );
  list.replaceChildren(...(items.length ? items : [el("li", { class: "empty" }, "No runs yet.")]));
}

async function openRun(id) {
  const view = $("run-view");
  try {
    const record = await api.json(`/v1/runs/${id}`);
    const actions = el("ol", { class: "actions" });
    for (const action of record.actions) {
      const outcome = action.result ?? action.error ?? "";
      actions.append(el("li", { class: `status-${action.status}` },
        el("code", {}, call(action.tool, action.args)), el("span", { class: "item-meta" }, ` ${action.status}`),
        outcome ? el("div", { class: "outcome" }, outcome) : null));
    }
    view.replaceChildren(
      el("div", { class: "panel-head" },
        el("h3", {}, `Run ${record.id}`),
        el("button", { type: "button", class: "small", on: { click: () => { view.hidden = true; } } }, "Close")),
      el("p", {}, el("strong", {}, record.request)),
      el("p", { class: "item-meta" }, `${shortDate(record.started_at)} · ${record.model || "given plan"} · ${seconds(record.timings.total_s)}`),
      actions,
      el("p", { class: record.ok ? "ok" : "error" }, record.answer || record.error || ""),
      el("button", {
        type: "button",
        class: "small",
        on: { click: () => { $("request").value = record.request; $("request").focus(); } },
      }, "Ask this again"),
    );
  } catch (error) {
    view.replaceChildren(el("p", { class: "error" }, error.message));
  }
  view.hidden = false;
  view.focus();
}

$("refresh-history").addEventListener("click", () => refreshHistory());

// -- speaking ----------------------------------------------------------------------------

const recorder = new voice.Recorder();

function disableMic(reason) {
  const mic = $("mic");
  mic.disabled = true;
  mic.title = reason;
  mic.setAttribute("aria-label", `Speak (unavailable: ${reason})`);
}

async function toggleRecording() {
  const mic = $("mic");
  if (recorder.recording) {
    mic.setAttribute("aria-pressed", "false");
    mic.querySelector(".mic-label").textContent = "Speak";
    setStatus("voice-status", "Transcribing…", "busy");
    try {
      const wav = await voice.recordingToWav(await recorder.stop());
      const text = await voice.transcribe(api, wav);
      $("request").value = text;
      $("request").focus();
      setStatus("voice-status", text ? "Check the text, then press Enter to run it." : "Nothing was heard; try again.", text ? "ok" : "error");
    } catch (error) {
      if (error instanceof ApiError && (error.status === 404 || error.status === 501)) disableMic(error.message);
      const what = error instanceof ApiError && error.status === 400 ? "Could not transcribe it" : "Speech input failed";
      setStatus("voice-status", `${what}: ${error.message}`, "error");
    }
    return;
  }
  try {
    await recorder.start();
  } catch (error) {
    setStatus("voice-status", `The microphone cannot be used: ${error.message}`, "error");
    return;
  }
  mic.setAttribute("aria-pressed", "true");
  mic.querySelector(".mic-label").textContent = "Stop recording";
  setStatus("voice-status", "Listening… press the button again (or Escape) when you are done.", "busy");
}

$("mic").addEventListener("click", toggleRecording);
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && recorder.recording) {
    event.preventDefault();
    toggleRecording();
  }
});

async function setUpMic() {
  const problem = voice.microphoneProblem() || (await voice.transcriptionProblem(api));
  if (problem) disableMic(problem);
  else $("mic").dataset.ready = "1";
}

// -- start -------------------------------------------------------------------------------

async function boot() {
  try {
    const models = await api.json("/v1/models");
    $("model").textContent = models.data.length ? models.data[0].id : "no model";
  } catch (error) {
    $("model").textContent = error.message;
  }
  await Promise.all([refreshDrafts(), refreshHistory(), setUpMic()]);
  document.body.dataset.ready = "1";
}

$("dag").tabIndex = -1; // focus lands here after the last confirmation is answered
boot();
