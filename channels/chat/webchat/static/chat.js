// Live web chat, for the citizen's page and the agent's: lines arrive by server-sent events,
// a line is sent with fetch (the form posts normally without JavaScript). Text is set with
// textContent, never as HTML.
(function () {
  "use strict";
  var box = document.getElementById("chat");
  var list = document.getElementById("lines");
  if (!box || !list) return;
  var last = 0;
  list.querySelectorAll("li[data-id]").forEach(function (li) {
    last = Math.max(last, parseInt(li.dataset.id, 10) || 0);
  });

  function who(kind) {
    if (kind === "citizen") return box.dataset.you;  // "You" for the citizen, "Citizen" for the agent
    return kind === "agent" ? box.dataset.agent : box.dataset.hotline;
  }

  function add(line) {
    if (list.querySelector('li[data-id="' + line.id + '"]')) return;
    var li = document.createElement("li");
    li.className = "line line-" + line.who;
    li.dataset.id = line.id;
    var name = document.createElement("span");
    name.className = "who";
    name.textContent = who(line.who);
    var time = document.createElement("time");
    time.textContent = new Date(line.at).toLocaleTimeString();
    var p = document.createElement("p");
    p.textContent = line.text;
    li.append(name, " ", time, p);
    list.appendChild(li);
    last = Math.max(last, line.id);
    li.scrollIntoView({ block: "nearest" });
  }

  var stateBox = document.getElementById("chat-state");
  function setState(state) {
    if (!stateBox || stateBox.dataset.state === state) return;
    stateBox.dataset.state = state;
    if (state !== "waiting") window.location.reload();  // the page says what the state means
  }

  var source = null;
  function connect() {
    source = new EventSource(box.dataset.stream + "?after=" + last);
    source.addEventListener("line", function (e) { add(JSON.parse(e.data)); });
    source.addEventListener("state", function (e) { setState(e.data); });
  }
  connect();
  document.addEventListener("htmx:beforeRequest", function () { if (source) source.close(); });

  var form = document.getElementById("say");
  if (!form) return;
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var body = new FormData(form);
    fetch(box.dataset.say, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (r) {
      if (r.status === 201) { form.reset(); return r.json().then(add); }
      form.submit();  // let the server's page say what was wrong
    });
  });
})();
