#include "runtime/ballotd/status_page.hpp"

namespace ballot::ballotd {

namespace {

const char* const page = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Ballot node status</title>
<style>
body { font-family: sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.2em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
th { background: #f0f0f0; }
.ok { color: #176317; font-weight: bold; }
.bad { color: #a31515; font-weight: bold; }
.muted { color: #777; }
</style>
</head>
<body data-loaded="0">
<h1>Ballot node <span id="node">?</span></h1>
<p>Health: <span id="health" class="muted">loading...</span>
   <span id="updated" class="muted"></span></p>
<table id="summary">
<tr><th>Leader</th><td id="leader">?</td></tr>
<tr><th>Commit index (leader)</th><td id="commit">?</td></tr>
<tr><th>This node's lag</th><td id="lag">?</td></tr>
<tr><th>Sessions</th><td id="sessions">?</td></tr>
<tr><th>Locks (holds / waiters)</th><td id="lockcount">?</td></tr>
</table>
<h2>Members</h2>
<table><thead><tr><th>ID</th><th>State</th><th>Role</th><th>Commit index</th><th>Lag</th>
<th>Client endpoint</th></tr></thead><tbody id="members"></tbody></table>
<h2>Replicas in this process</h2>
<table><thead><tr><th>ID</th><th>Role</th><th>Follows</th><th>Ballot</th>
<th>Commit index</th><th>Proposals pending</th></tr></thead><tbody id="replicas"></tbody></table>
<h2>Locks</h2>
<p id="locknote" class="muted"></p>
<table><thead><tr><th>Name</th><th>Holders (session, mode)</th><th>Waiters, in order</th></tr>
</thead><tbody id="locks"></tbody></table>
<h2>Recent leadership changes</h2>
<ol id="changes"></ol>
<script>
"use strict";
function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = String(text);
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}
function set(id, text, cls) {
  const el = document.getElementById(id);
  el.textContent = String(text);
  if (cls !== undefined) el.className = cls;
}
function parties(list, more) {
  const parts = list.map(p => p.session + " (" + p.mode + ")");
  if (more > 0) parts.push("+" + more + " more");
  return parts.length ? parts.join(", ") : "-";
}
function render(s) {
  const st = s.status;
  set("node", s.node);
  set("health", s.health.ok ? "healthy" : "unhealthy: " + s.health.reason,
      s.health.ok ? "ok" : "bad");
  set("leader", st.leader ? st.leader : "none known", st.leader ? "" : "bad");
  set("commit", st.commit_index);
  set("lag", s.lag + " slot(s)");
  set("sessions", s.sessions);
  set("lockcount", s.locks.count + " (" + s.locks.holders + " / " + s.locks.waiters + ")");
  const members = document.getElementById("members");
  members.replaceChildren();
  for (const m of st.members) {
    const row = document.createElement("tr");
    row.dataset.member = m.id;
    cell(row, m.id);
    cell(row, m.up ? "up" : "down", m.up ? "ok" : "bad");
    cell(row, !m.up ? "-" : (m.leader ? "leader" : "follower"));
    cell(row, m.up ? m.commit_index : "-");
    cell(row, m.up && st.commit_index >= m.commit_index ? st.commit_index - m.commit_index : "-");
    cell(row, m.endpoint || "-");
    members.appendChild(row);
  }
  const replicas = document.getElementById("replicas");
  replicas.replaceChildren();
  for (const r of s.replicas) {
    const row = document.createElement("tr");
    cell(row, r.id);
    cell(row, r.role);
    cell(row, r.leader === null ? "none" : r.leader);
    cell(row, r.ballot);
    cell(row, r.commit_index);
    cell(row, r.proposals_pending);
    replicas.appendChild(row);
  }
  const locks = document.getElementById("locks");
  locks.replaceChildren();
  set("locknote", s.locks.hidden
      ? "Authentication is on: lock names and sessions are not shown here."
      : (s.locks.truncated ? "Only the first locks by name are shown." : ""));
  for (const l of s.locks.list) {
    const row = document.createElement("tr");
    cell(row, l.name);
    cell(row, parties(l.holders, l.more_holders));
    cell(row, parties(l.waiters, l.more_waiters));
    locks.appendChild(row);
  }
  const changes = document.getElementById("changes");
  changes.replaceChildren();
  for (const c of s.leader_changes.slice().reverse()) {
    const li = document.createElement("li");
    li.textContent = new Date(c.at_ms).toISOString() + ": leader " + c.leader;
    changes.appendChild(li);
  }
  set("updated", "(updated " + new Date().toLocaleTimeString() + ")");
  document.body.dataset.loaded = "1";
}
async function refresh() {
  try {
    const r = await fetch("/ui/state", {cache: "no-store"});
    if (!r.ok) throw new Error("HTTP " + r.status);
    render(await r.json());
  } catch (e) {
    set("health", "cannot reach the node: " + e.message, "bad");
  }
  setTimeout(refresh, 2000);
}
refresh();
</script>
</body>
</html>
)html";

}  // namespace

const std::string& status_page_html() {
  static const std::string html{page};
  return html;
}

}  // namespace ballot::ballotd
