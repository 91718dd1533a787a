// The practice page (matcalc serve --practice): the folder's problems; an answer or a derivation
// is checked (/api/problems/NAME/verify, /derivation) and gets a verdict, a hint, the rubric's
// feedback and a counterexample; the reference shows only when the server sends it (after the
// rubric's number of attempts).  The chosen problem lives in the URL's hash.
"use strict";

let problems = [];
let checked = null;   // what the verdict on screen was given for

function current() {
  return problems.find((problem) => problem.name === $("problems").value);
}

function question() {
  const problem = current();
  return problem ? problem.questions[Number($("question").value) || 0] : null;
}

function status(state, text) {
  $("status").textContent = text;
  $("status").className = `status ${state}`;
  $("status").dataset.state = state;
}

function attemptsText(problem, made) {
  const after = problem.reveal_after;
  if (!after) return `${made} attempt${made === 1 ? "" : "s"}`;
  const left = Math.max(0, after - made);
  return `${made} attempt${made === 1 ? "" : "s"}` +
    (left ? `; the answer can be shown after ${left} more` : "");
}

function showProblem() {
  const problem = current();
  if (!problem) return;
  $("problem-text").textContent = problem.source;
  const picker = $("question");
  picker.replaceChildren();
  problem.questions.forEach((item, index) => {
    const option = document.createElement("option");
    option.value = String(index);
    option.textContent = `${item.kind} of ${item.of} wrt ${item.wrt}`;
    picker.append(option);
  });
  $("practice-verdict").replaceChildren();
  $("reference").hidden = true;
  checked = null;
  status("", `${problem.title}: ${attemptsText(problem, problem.attempts)}`);
  writeHash({ problem: problem.name });
}

function inputs() {
  return JSON.stringify([$("problems").value, $("question").value, $("answer").value,
    $("derivation").value, $("layout").value]);
}

function refresh() {
  const stale = checked !== null && checked !== inputs();
  markStale($("practice-verdict"), stale);
  if (stale) status("stale", "stale: the text changed since this check; check again");
}

function showCounterexample(out, counterexample) {
  if (!counterexample) return;
  const box = document.createElement("details");
  const summary = document.createElement("summary");
  summary.textContent = "a counterexample (the point where your answer differs)";
  const text = document.createElement("pre");
  text.textContent = JSON.stringify(counterexample, null, 1);
  box.append(summary, text);
  out.append(box);
}

async function check(endpoint, fields) {
  const problem = current();
  const asked = question();
  if (!problem || !asked) return;
  const out = $("practice-verdict");
  status("working", "working: checking");
  const given = inputs();
  const answer = await post(`problems/${encodeURIComponent(problem.name)}/${endpoint}`,
    { ...fields, wrt: asked.wrt, kind: asked.kind });
  out.replaceChildren();
  checked = given;
  if (answer.error) {
    appendError(out, answer.error, endpoint === "verify" ? $("answer").value :
      $("derivation").value);
    status("error", `error: ${place(answer.error)}${answer.error.message}`);
    return;
  }
  if (endpoint === "verify") showAnswerVerdict(out, answer);
  else showDerivationVerdict(out, answer);
  if (answer.feedback) out.append(paragraph("hint", answer.feedback));
  if (answer.max_points !== undefined) {
    out.append(paragraph("caption", `${answer.points} of ${answer.max_points} points`));
  }
  showCounterexample(out, answer.counterexample);
  problem.attempts = answer.attempts;
  if (answer.reference_latex) {
    const box = $("reference");
    box.replaceChildren(paragraph("caption", "the reference answer:"));
    const maths = document.createElement("div");
    render(answer.reference_latex, maths);
    box.append(maths);
    box.hidden = false;
  }
  status(answer.ok ? "derived" : "wrong", `${answer.ok ? "correct" : "wrong"}; ` +
    attemptsText(problem, answer.attempts));
}

async function load() {
  const response = await fetch("/api/problems");
  problems = (await response.json()).problems || [];
  const picker = $("problems");
  for (const problem of problems) {
    const option = document.createElement("option");
    option.value = problem.name;
    option.textContent = problem.title;
    picker.append(option);
  }
  const wanted = readHash().problem;
  if (wanted && problems.some((problem) => problem.name === wanted)) picker.value = wanted;
  showProblem();
}

document.addEventListener("DOMContentLoaded", () => {
  $("problems").addEventListener("change", showProblem);
  $("question").addEventListener("change", refresh);
  for (const id of ["answer", "derivation"]) $(id).addEventListener("input", refresh);
  $("layout").addEventListener("change", refresh);
  $("check-answer").addEventListener("click", () => check("verify",
    { answer: $("answer").value }));
  $("check-derivation").addEventListener("click", () => check("derivation",
    { derivation: $("derivation").value, layout: $("layout").value }));
  window.addEventListener("hashchange", () => {
    const wanted = readHash().problem;
    if (wanted && wanted !== $("problems").value) {
      $("problems").value = wanted;
      showProblem();
    }
  });
  load();
});
