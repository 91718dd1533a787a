// The workbench page: sends the problem to /api/derive as the user types (debounced) and shows
// the results rendered by KaTeX; checks an answer (/api/verify) and a derivation (/api/derivation).
// Results that no longer match the editor are marked stale, the status line always says what is
// shown (working, derived, error, stale), and the problem lives in the URL's hash.
"use strict";

let sequence = 0;       // answers to older requests are dropped
let timer = null;
let working = false;    // a derivation of the editor's problem is on its way
let shown = null;       // the request whose results are on screen
let derivedText = "";   // what the status line says of them
let failed = null;      // the request whose error is shown, and the error
let answerChecked = null, derivationChecked = null;

function derivePayload() {
  const fields = { problem: $("problem").value, steps: true,
                   code: [$("backend").value] };
  if ($("wrt").value.trim()) fields.wrt = $("wrt").value.trim();
  if ($("kind").value) fields.kind = $("kind").value;
  return fields;
}

function setStatus(state, text) {
  $("status").textContent = text;
  $("status").className = `status ${state}`;
  $("status").dataset.state = state;
}

// Marks what no longer matches the editor as stale and says on the status line what is shown.
function refresh() {
  const current = JSON.stringify(derivePayload());
  const stale = shown !== null && shown !== current;
  $("results-pane").classList.toggle("stale", stale);
  $("stale-note").hidden = !stale;
  const staleNote = stale ? "; the results below are stale (for an earlier problem)" : "";
  if (working) {
    setStatus("working", `working: deriving${staleNote}`);
  } else if (failed && failed.request === current) {
    setStatus("error", `error: ${place(failed.error)}${failed.error.message}${staleNote}`);
  } else if (stale) {
    setStatus("stale", "stale: the problem changed since these results were derived; " +
      ($("live").checked ? "they update in a moment" : "press Derive"));
  } else if (shown !== null) {
    setStatus(derivedText.startsWith("derived: a result failed") ? "wrong" : "derived",
              derivedText);
  } else {
    setStatus("", "");
  }
  const problem = $("problem").value;
  markStale($("answer-verdict"), answerChecked !== JSON.stringify(
    [problem, $("answer-wrt").value, $("answer-kind").value, $("answer").value]));
  markStale($("derivation-verdict"), derivationChecked !== JSON.stringify(
    [problem, $("wrt").value, $("derivation").value, $("layout").value]));
}

async function derive() {
  clearTimeout(timer);
  const mine = ++sequence;
  const payload = derivePayload();
  const request = JSON.stringify(payload);
  writeHash({ problem: payload.problem, wrt: payload.wrt, kind: payload.kind });
  working = true;
  refresh();
  const answer = await post("derive", payload);
  if (mine !== sequence) return;
  working = false;
  const box = $("problem-error");
  if (answer.error) {
    failed = { request, error: answer.error };
    showError(box, answer.error, payload.problem, $("problem"));
  } else {
    failed = null;
    box.hidden = true;
    shown = request;
    showResults(answer);
  }
  refresh();
}

function checkText(entry) {
  const check = entry.check || entry.quick_check;
  if (!check) return "not checked";
  const error = check.max_rel_error === null ? "no finite error" :
    `max relative error ${check.max_rel_error.toExponential(1)}`;
  return `${check.ok ? "proven" : "FAILED"} by finite differences (${error})`;
}

function showResults(answer) {
  const results = $("results");
  results.replaceChildren();
  const latex = [], steps = [];
  let proven = true;
  for (const entry of answer.results) {
    const block = document.createElement("div");
    block.className = "result";
    const maths = document.createElement("div");
    render(entry.latex, maths);
    const caption = document.createElement("div");
    caption.className = "caption";
    caption.textContent = `${entry.kind} of ${entry.of} wrt ${entry.wrt}: ${entry.type}; ` +
      checkText(entry);
    block.append(maths, caption);
    results.append(block);
    latex.push(entry.latex);
    const check = entry.check || entry.quick_check;
    proven = proven && (!check || check.ok);
    for (const step of entry.steps || []) {
      steps.push([step.frobenius, step.definition, step.differential, step.vec]
        .filter(Boolean).join("\n"));
    }
  }
  derivedText = proven ? "derived: every result proven numerically" :
    "derived: a result failed its numeric check";
  $("latex-source").textContent = latex.join("\n\n");
  $("steps").textContent = steps.join("\n\n");
  $("code").textContent = (answer.code || {})[$("backend").value] || "";
  if (!$("answer-wrt").value && answer.results.length) $("answer-wrt").placeholder =
    answer.results[0].wrt;
}

function schedule() {
  refresh();
  if (!$("live").checked) return;
  clearTimeout(timer);
  timer = setTimeout(derive, 500);
}

async function checkAnswer() {
  const out = $("answer-verdict");
  const wrt = $("answer-wrt").value.trim() || $("answer-wrt").placeholder;
  const checked = JSON.stringify([$("problem").value, $("answer-wrt").value,
    $("answer-kind").value, $("answer").value]);
  const answer = await post("verify", { problem: $("problem").value, wrt,
    kind: $("answer-kind").value, answer: $("answer").value });
  out.replaceChildren();
  answerChecked = checked;
  if (answer.error) appendError(out, answer.error, $("answer").value);
  else showAnswerVerdict(out, answer);
  refresh();
}

async function checkDerivation() {
  const out = $("derivation-verdict");
  const fields = { problem: $("problem").value, derivation: $("derivation").value,
                   layout: $("layout").value };
  if ($("wrt").value.trim()) fields.wrt = $("wrt").value.trim();
  const checked = JSON.stringify([$("problem").value, $("wrt").value, $("derivation").value,
    $("layout").value]);
  const answer = await post("derivation", fields);
  out.replaceChildren();
  derivationChecked = checked;
  if (answer.error) appendError(out, answer.error, $("derivation").value);
  else showDerivationVerdict(out, answer);
  refresh();
}

async function loadExamples() {
  const answer = await (await fetch("/api/examples")).json();
  const picker = $("examples");
  for (const example of answer.examples) {
    const option = document.createElement("option");
    option.value = example.name;
    option.textContent = example.title;
    option.dataset.source = example.source;
    picker.append(option);
  }
  picker.addEventListener("change", () => {
    const chosen = picker.selectedOptions[0];
    if (chosen && chosen.dataset.source) {
      $("problem").value = chosen.dataset.source;
      derive();
    }
  });
}

function copy(targetId) {
  navigator.clipboard.writeText($(targetId).textContent).catch(() => {});
}

function download() {
  const backend = $("backend").value;
  const blob = new Blob([$("code").textContent], { type: "text/x-python" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = `gradients_${backend}.py`;
  link.click();
  URL.revokeObjectURL(link.href);
}

// The problem of the URL's hash, if it names one, replaces the editor's.
function fromHash() {
  const state = readHash();
  if (state.problem === undefined) return false;
  $("problem").value = state.problem;
  $("wrt").value = state.wrt || "";
  $("kind").value = state.kind || "";
  return true;
}

document.addEventListener("DOMContentLoaded", () => {
  for (const id of ["problem", "wrt"]) $(id).addEventListener("input", schedule);
  for (const id of ["answer", "answer-wrt", "derivation"]) $(id).addEventListener("input", refresh);
  for (const id of ["answer-kind", "layout"]) $(id).addEventListener("change", refresh);
  $("kind").addEventListener("change", derive);
  $("backend").addEventListener("change", derive);
  $("derive").addEventListener("click", derive);
  $("check-answer").addEventListener("click", checkAnswer);
  $("check-derivation").addEventListener("click", checkDerivation);
  $("download").addEventListener("click", download);
  for (const button of document.querySelectorAll("button.copy")) {
    button.addEventListener("click", () => copy(button.dataset.target));
  }
  window.addEventListener("hashchange", () => { if (fromHash()) derive(); });
  loadExamples();
  fromHash();
  derive();
});
