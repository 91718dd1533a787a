// The workbench page: sends the problem to /api/derive as the user types (debounced) and shows
// the results rendered by KaTeX; checks an answer (/api/verify) and a derivation (/api/derivation).
"use strict";

const $ = (id) => document.getElementById(id);
let latest = null;      // the last /api/derive answer
let sequence = 0;       // answers to older requests are dropped
let timer = null;

async function post(endpoint, fields) {
  const response = await fetch(`/api/${endpoint}`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify(fields),
  });
  try {
    return await response.json();
  } catch (error) {
    return { error: { type: "ServerError", message: `the server answered ${response.status}` } };
  }
}

function render(latex, element) {
  try {
    katex.render(latex, element, { displayMode: true, throwOnError: false });
  } catch (error) {
    element.textContent = latex;
  }
}

function place(error) {
  return error.line ? `line ${error.line}, column ${error.column}: ` : "";
}

// The error under the editor, with the offending line and a caret at its column; the editor's
// selection moves to the place.
function showError(box, error, source, editor) {
  let text = `${place(error)}${error.message}`;
  if (error.line && source) {
    const line = source.split("\n")[error.line - 1];
    if (line !== undefined) {
      const width = Math.max(1, Math.min(error.length || 1, line.length - error.column + 1));
      text += `\n  ${line}\n  ${" ".repeat(Math.max(0, error.column - 1))}${"^".repeat(width)}`;
      if (editor && document.activeElement !== editor) {
        const lines = source.split("\n").slice(0, error.line - 1);
        const start = lines.reduce((total, item) => total + item.length + 1, 0) + error.column - 1;
        editor.setSelectionRange(start, start + width);
      }
    }
  }
  box.textContent = text;
  box.hidden = false;
}

// An error box under a verdict (the answer's or the derivation's text is the source).
function appendError(out, error, source) {
  const box = document.createElement("div");
  box.className = "error";
  showError(box, error, source, null);
  out.append(box);
}

function derivePayload() {
  const fields = { problem: $("problem").value, steps: true,
                   code: [$("backend").value] };
  if ($("wrt").value.trim()) fields.wrt = $("wrt").value.trim();
  if ($("kind").value) fields.kind = $("kind").value;
  return fields;
}

async function derive() {
  const mine = ++sequence;
  $("status").textContent = "deriving...";
  const answer = await post("derive", derivePayload());
  if (mine !== sequence) return;
  const box = $("problem-error");
  if (answer.error) {
    $("status").textContent = "";
    showError(box, answer.error, $("problem").value, $("problem"));
    return;
  }
  box.hidden = true;
  latest = answer;
  showResults(answer);
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
  $("status").textContent = proven ? "every result proven numerically" :
    "a result failed its numeric check";
  $("status").className = `status ${proven ? "ok" : "wrong"}`;
  $("latex-source").textContent = latex.join("\n\n");
  $("steps").textContent = steps.join("\n\n");
  $("code").textContent = (answer.code || {})[$("backend").value] || "";
  if (!$("answer-wrt").value && answer.results.length) $("answer-wrt").placeholder =
    answer.results[0].wrt;
}

function schedule() {
  if (!$("live").checked) return;
  clearTimeout(timer);
  timer = setTimeout(derive, 500);
}

async function checkAnswer() {
  const out = $("answer-verdict");
  const wrt = $("answer-wrt").value.trim() || $("answer-wrt").placeholder;
  const answer = await post("verify", { problem: $("problem").value, wrt,
    kind: $("answer-kind").value, answer: $("answer").value });
  out.replaceChildren();
  if (answer.error) return appendError(out, answer.error, $("answer").value);
  const verdict = document.createElement("p");
  verdict.className = answer.ok ? "ok" : "wrong";
  verdict.textContent = answer.ok ? "correct" : "wrong";
  const hint = document.createElement("p");
  hint.className = "hint";
  hint.textContent = answer.ok ? answer.verdict : answer.hint;
  const read = document.createElement("div");
  read.className = "caption";
  read.textContent = "read as:";
  const readMaths = document.createElement("div");
  render(answer.read_as_latex || answer.read_as, readMaths);
  out.append(verdict, hint, read, readMaths);
}

async function checkDerivation() {
  const out = $("derivation-verdict");
  const fields = { problem: $("problem").value, derivation: $("derivation").value,
                   layout: $("layout").value };
  if ($("wrt").value.trim()) fields.wrt = $("wrt").value.trim();
  const answer = await post("derivation", fields);
  out.replaceChildren();
  if (answer.error) return appendError(out, answer.error, $("derivation").value);
  for (const step of answer.steps) {
    const item = document.createElement("div");
    item.className = `step ${step.ok ? "ok" : "wrong"}`;
    item.textContent = `line ${step.line}: ${step.ok ? "ok" : "wrong"}: ${step.text}`;
    if (step.hint) {
      const hint = document.createElement("div");
      hint.className = "hint";
      hint.textContent = step.hint;
      item.append(hint);
    }
    out.append(item);
  }
  const summary = document.createElement("p");
  summary.className = answer.ok ? "ok" : "wrong";
  summary.textContent = answer.ok ? `every step holds (${answer.layout} layout)` :
    `the first false step is on line ${answer.first_error_line} (${answer.layout} layout)`;
  out.append(summary);
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

document.addEventListener("DOMContentLoaded", () => {
  $("problem").addEventListener("input", schedule);
  $("wrt").addEventListener("input", schedule);
  $("kind").addEventListener("change", derive);
  $("backend").addEventListener("change", derive);
  $("derive").addEventListener("click", derive);
  $("check-answer").addEventListener("click", checkAnswer);
  $("check-derivation").addEventListener("click", checkDerivation);
  $("download").addEventListener("click", download);
  for (const button of document.querySelectorAll("button.copy")) {
    button.addEventListener("click", () => copy(button.dataset.target));
  }
  loadExamples();
  derive();
});
