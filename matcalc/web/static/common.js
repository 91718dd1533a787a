// What the workbench page and the practice page share: posting JSON, rendering LaTeX with KaTeX,
// errors shown at their place, a verdict on an answer or a derivation, and a state in the URL.
"use strict";

const $ = (id) => document.getElementById(id);

async function post(endpoint, fields) {
  let response;
  try {
    response = await fetch(`/api/${endpoint}`, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify(fields),
    });
  } catch (error) {
    return { error: { type: "NetworkError", message: "the server cannot be reached" } };
  }
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

// The error under its text, with the offending line and a caret at its column; the editor's
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

function paragraph(className, text) {
  const item = document.createElement("p");
  item.className = className;
  item.textContent = text;
  return item;
}

// The verdict on an answer: correct or wrong, the hint, and the answer as matcalc read it.
function showAnswerVerdict(out, answer) {
  out.append(paragraph(answer.ok ? "ok" : "wrong", answer.ok ? "correct" : "wrong"),
             paragraph("hint", answer.ok ? answer.verdict : answer.hint));
  const read = document.createElement("div");
  read.className = "caption";
  read.textContent = "read as:";
  const readMaths = document.createElement("div");
  render(answer.read_as_latex || answer.read_as, readMaths);
  out.append(read, readMaths);
}

// The verdict on a derivation: every step, and where the first false one is.
function showDerivationVerdict(out, answer) {
  for (const step of answer.steps) {
    const item = document.createElement("div");
    item.className = `step ${step.ok ? "ok" : "wrong"}`;
    item.textContent = `line ${step.line}: ${step.mark}: ${step.text}`;
    if (step.hint) item.append(paragraph("hint", step.hint));
    out.append(item);
  }
  // every step holds, the first false step, or why the derivation is incomplete
  out.append(paragraph(answer.ok ? "ok" : "wrong", `${answer.summary} (${answer.layout} layout)`));
}

// A verdict box whose input changed since it was given is marked stale (and unmarked anew).
function markStale(out, stale) {
  out.classList.toggle("stale", stale && out.childElementCount > 0);
}

// The page's state in the URL's hash (#problem=...&wrt=...), so that a link reproduces it.
function readHash() {
  return Object.fromEntries(new URLSearchParams(location.hash.slice(1)));
}

function writeHash(fields) {
  const kept = Object.entries(fields).filter(([, value]) => value);
  const hash = new URLSearchParams(kept).toString();
  if (location.hash.slice(1) !== hash) history.replaceState(null, "", `#${hash}`);
}
