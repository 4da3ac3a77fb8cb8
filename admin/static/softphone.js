// The agent's browser softphone (SIP.js over WebSocket to the hotline's registrar).
// A module: evaluated once per page; the console's boosted navigations replace the panel, so
// every settle re-binds the new panel to the one user agent, which keeps registered and keeps
// its call. Texts come from the panel's data-t-* attributes (the console's catalogs).
import {
  Inviter,
  Registerer,
  RegistererState,
  SessionState,
  UserAgent,
} from "/static/console/vendor/sip.js-0.21.2/lib/index.js";

const phone = {
  state: "off", // off, registering, ready, ringing, calling, talking, failed
  caller: "",
  muted: false,
  held: false, // the caller hears the music on hold instead of the agent, and is not heard
  consult: null, // talking to another agent first: calling, talking, conference
  asked: false, // this call is another agent's, asking before a transfer
  answeredAt: null, // performance.now() when the agent answered
  establishedAt: null, // ... when the call was set up (the browser's answer sent)
  firstAudioAt: null, // ... and when the caller was first heard
  remote: null, // AnalyserNode on what the agent hears
  local: null, // AnalyserNode on what the agent says
};
window.hotlineSoftphone = phone; // read by the level meter, and by the end-to-end test

let ua = null;
let registerer = null;
let session = null;
let audio = null;
let context = null;
let meterTimer = null;
let ringer = null;
let clock = null;
let music = null; // while on hold: the music's element and the track sent instead of the mic

// The ring the agent hears while a call rings: 450 Hz, one second in five (the Chinese
// network's ringing tone). The browser lets it sound once the agent has used the page.
function ring(on) {
  if (ringer) {
    clearInterval(ringer.timer);
    ringer.gain.disconnect();
    ringer.osc.stop();
    ringer = null;
  }
  if (!on) return;
  try {
    context = context || new AudioContext();
    context.resume();
  } catch (_err) {
    return;
  }
  const osc = context.createOscillator();
  const gain = context.createGain();
  osc.frequency.value = 450;
  gain.gain.value = 0;
  osc.connect(gain).connect(context.destination);
  osc.start();
  const burst = () => {
    const t = context.currentTime;
    gain.gain.setValueAtTime(0.2, t);
    gain.gain.setValueAtTime(0, t + 1);
  };
  burst();
  ringer = { osc, gain, timer: setInterval(burst, 5000) };
}

function panel() {
  return document.getElementById("softphone");
}

function text(key) {
  const p = panel();
  return (p && p.dataset["t" + key[0].toUpperCase() + key.slice(1)]) || key;
}

function render() {
  const p = panel();
  if (!p) return;
  p.dataset.state = phone.state;
  p.querySelector("[data-sp=status]").textContent =
    phone.state === "talking" && phone.held ? text("held") : text(phone.state);
  p.querySelector("[data-sp=caller]").textContent = phone.caller;
  const timer = p.querySelector("[data-sp=timer]");
  if (timer) {
    const secs = phone.state === "talking" ? Math.floor((performance.now() - phone.establishedAt) / 1000) : -1;
    timer.hidden = secs < 0;
    timer.textContent = secs < 0 ? "" : `${Math.floor(secs / 60)}:${String(secs % 60).padStart(2, "0")}`;
  }
  p.querySelector("[data-sp=answer]").hidden = phone.state !== "ringing";
  p.querySelector("[data-sp=decline]").hidden = phone.state !== "ringing";
  p.querySelector("[data-sp=hangup]").hidden = !["talking", "calling"].includes(phone.state);
  const mute = p.querySelector("[data-sp=mute]");
  mute.hidden = phone.state !== "talking";
  mute.setAttribute("aria-pressed", phone.muted ? "true" : "false");
  mute.textContent = phone.muted ? text("unmute") : text("mute");
  const transfer = p.querySelector("[data-sp=transfer]");
  transfer.hidden = phone.state !== "talking" || Boolean(phone.consult) || phone.asked;
  if (phone.state !== "talking" || phone.consult) {
    p.querySelector("[data-sp=transfer-form]").hidden = true;
    transfer.setAttribute("aria-expanded", "false");
  }
  const held = p.querySelector("[data-sp=hold]");
  held.hidden = phone.state !== "talking" || Boolean(phone.consult) || phone.asked;
  renderConsult(p);
  held.setAttribute("aria-pressed", phone.held ? "true" : "false");
  held.textContent = phone.held ? text("unhold") : text("hold");
  p.querySelector("[data-sp=connect]").hidden = !(phone.state === "off" || phone.state === "failed");
}

function renderConsult(p) {
  const bar = p.querySelector("[data-sp=consult-bar]");
  bar.hidden = !phone.consult || phone.state !== "talking";
  if (bar.hidden) return;
  const name = consulting ? consulting.name : "";
  p.querySelector("[data-sp=consult-status]").textContent = text(
    { calling: "consultCalling", talking: "consultTalking", conference: "conferenceOn" }[phone.consult],
  ).replace("%(agent)s", name);
  p.querySelector("[data-sp=hand-over]").hidden = phone.consult === "calling";
  p.querySelector("[data-sp=conference]").hidden = phone.consult !== "talking";
}

function set(state) {
  phone.state = state;
  ring(state === "ringing");
  render();
}

let renewal = null;

async function stopAgent() {
  const old = ua;
  ua = null;
  registerer = null;
  if (old) {
    try {
      await old.stop(); // unregisters first
    } catch (_err) {
      // gone already
    }
  }
}

// How the browser reaches the relay: directly (no STUN: the relay's address is reachable from
// the agents' network), or through the site's TURN servers (agents behind NAT), whose
// allocation may take longer than a direct address to gather.
function media(ice) {
  const config = ice || { iceServers: [] };
  return {
    peerConnectionConfiguration: config,
    iceGatheringTimeout: config.iceServers.length ? 3000 : 500,
  };
}

// The credential lasts a shift: a page left open longer fetches a new one before it ends,
// between calls.
function renewIn(seconds) {
  clearTimeout(renewal);
  renewal = setTimeout(async () => {
    if (session) {
      renewIn(60);
      return;
    }
    await stopAgent();
    start();
  }, seconds * 1000);
}

async function start() {
  if (ua && phone.state !== "failed") return;
  await stopAgent();
  set("registering");
  let given;
  try {
    const answer = await fetch(panel().dataset.credentials, { credentials: "same-origin" });
    if (!answer.ok) throw new Error(String(answer.status));
    given = await answer.json();
  } catch (_err) {
    set("failed");
    return;
  }
  ua = new UserAgent({
    uri: UserAgent.makeURI(given.aor),
    authorizationUsername: given.username,
    authorizationPassword: given.password,
    transportOptions: { server: given.url, traceSip: false },
    logLevel: "warn",
    sessionDescriptionHandlerFactoryOptions: media(given.ice),
    delegate: {
      onInvite: ringing,
      onDisconnect: () => {
        set("failed");
        ua = null;
        registerer = null;
        setTimeout(() => ua || start(), 5000); // the registrar back: register again
      },
    },
  });
  try {
    await ua.start();
    registerer = new Registerer(ua, { expires: 300 });
    registerer.stateChange.addListener((s) => {
      if (s === RegistererState.Registered) set(session ? phone.state : "ready");
      else if (s === RegistererState.Unregistered && phone.state === "ready") set("failed");
    });
    await registerer.register();
    renewIn(Math.max(60, given.ttl - 600));
  } catch (_err) {
    set("failed");
    ua = null;
  }
}

// After this agent talked to another about a caller, that caller's call when handed over is
// answered without a click (they agreed to take it), once, within two minutes.
const HANDED_OVER_MS = 120000;
let handedOver = null;

function ringing(invitation) {
  const mode = invitation.request.getHeader("X-Hotline-Monitor");
  if (mode) {
    monitored(invitation, mode);
    return;
  }
  if (session) {
    invitation.reject({ statusCode: 486 }); // busy: one call at a time
    return;
  }
  session = invitation;
  // another agent asking before a transfer: no caller of this agent's to hold or transfer
  const about = invitation.request.getHeader("X-Hotline-Consult");
  phone.asked = Boolean(about);
  invitation.hotlineAbout = about; // remembered once this agent answers
  phone.caller = phone.asked
    ? text("consultFrom").replace("%(agent)s", invitation.remoteIdentity.displayName || "")
    : invitation.remoteIdentity.uri.user || "";
  phone.muted = false;
  follow(invitation);
  set("ringing");
  // the caller an agent just talked to this agent about, handed over: answered at once
  const item = invitation.request.getHeader("X-Hotline-Item");
  if (!about && item && handedOver && handedOver.item === item && performance.now() < handedOver.until) {
    handedOver = null;
    answer();
  }
}

function follow(call) {
  call.stateChange.addListener((s) => {
    if (s === SessionState.Established) {
      if (call.hotlineAbout) handedOver = { item: call.hotlineAbout, until: performance.now() + HANDED_OVER_MS };
      phone.establishedAt = performance.now();
      connectAudio(call);
      clearInterval(clock);
      clock = setInterval(render, 1000); // the call's timer
      set("talking");
    } else if (s === SessionState.Terminated) {
      ended();
    }
  });
}

// Click-to-call: a [data-dial-case] button (the case's citizen) asks the hotline for the
// address and the one-minute ticket Kamailio wants, then the softphone dials through the trunk.
async function dialFrom(button) {
  if (!ua || session || phone.state !== "ready") return;
  let answer;
  try {
    const sent = await post(panel().dataset.dial, {
      case: button.dataset.dialCase,
      contact: button.dataset.dialContact,
    });
    answer = await sent.json();
  } catch (_err) {
    answer = {};
  }
  if (!answer.uri) {
    panel().querySelector("[data-sp=status]").textContent = answer.error || text("failed");
    return;
  }
  const call = new Inviter(ua, UserAgent.makeURI(answer.uri), {
    extraHeaders: answer.headers,
    sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } },
  });
  session = call;
  phone.asked = false;
  phone.caller = button.dataset.dialLabel || "";
  phone.muted = false;
  phone.answeredAt = performance.now();
  phone.firstAudioAt = null;
  context = context || new AudioContext(); // made in the click: the browser lets it play
  follow(call);
  set("calling");
  call.invite().catch(() => ended());
}

function connectAudio(s) {
  const pc = s.sessionDescriptionHandler.peerConnection;
  const remote = new MediaStream();
  pc.getReceivers().forEach((r) => r.track && remote.addTrack(r.track));
  audio = audio || new Audio();
  audio.autoplay = true;
  audio.srcObject = remote;
  audio.play().catch(() => {});
  context = context || new AudioContext();
  context.resume();
  phone.remote = context.createAnalyser();
  phone.remote.fftSize = 4096;
  context.createMediaStreamSource(remote).connect(phone.remote);
  const sender = pc.getSenders().find((x) => x.track);
  if (sender) {
    phone.local = context.createAnalyser();
    phone.local.fftSize = 4096;
    context.createMediaStreamSource(new MediaStream([sender.track])).connect(phone.local);
  }
  const samples = new Float32Array(phone.remote.fftSize);
  clearInterval(meterTimer);
  meterTimer = setInterval(() => {
    if (!phone.remote) return;
    phone.remote.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const v of samples) sum += v * v;
    const level = Math.sqrt(sum / samples.length);
    if (level > 0.01 && phone.firstAudioAt === null) phone.firstAudioAt = performance.now();
    const bar = panel() && panel().querySelector("[data-sp=level]");
    if (bar) bar.value = Math.min(1, level * 4);
  }, 20);
}

function ended() {
  if (consulting) endConsult(false);
  if (monitor && monitor.session.state === SessionState.Established) {
    monitor.session.bye().catch(() => {});
  }
  unwireMonitor();
  session = null;
  stopMusic();
  phone.held = false;
  clearInterval(clock);
  clearInterval(meterTimer);
  phone.remote = null;
  phone.local = null;
  phone.caller = "";
  phone.muted = false;
  if (audio) audio.srcObject = null;
  set(registerer && registerer.state === RegistererState.Registered ? "ready" : "failed");
}

function answer() {
  if (!session || phone.state !== "ringing") return;
  phone.answeredAt = performance.now();
  phone.firstAudioAt = null;
  context = context || new AudioContext(); // made in the click: the browser lets it play
  session.accept({
    sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } },
  });
}

function hangup() {
  if (!session) return;
  if (session.state === SessionState.Established) session.bye();
  else if (phone.state === "ringing") session.reject();
  else if (phone.state === "calling") session.cancel();
}

function mute() {
  if (!session || !session.sessionDescriptionHandler) return;
  phone.muted = !phone.muted;
  session.sessionDescriptionHandler.enableSenderTracks(!phone.muted);
  render();
}

function stopMusic() {
  if (!music) return;
  music.element.pause();
  music.source.disconnect();
  music = null;
}

// Hold: the browser sends the line's music on hold instead of the agent's microphone (no
// re-INVITE: the call, its relay and its recording go on), and the agent stops hearing the
// caller; the hotline counts the time on the call's record.
async function hold() {
  if (!session || phone.state !== "talking" || !session.sessionDescriptionHandler) return;
  const pc = session.sessionDescriptionHandler.peerConnection;
  const sender = pc.getSenders().find((x) => x.track && x.track.kind === "audio");
  if (!sender) return;
  const p = panel();
  if (!phone.held) {
    context = context || new AudioContext();
    context.resume();
    const element = new Audio(p.dataset.holdMusic);
    element.loop = true;
    const source = context.createMediaElementSource(element);
    const out = context.createMediaStreamDestination();
    source.connect(out);
    music = { element, source, mic: sender.track };
    await element.play().catch(() => {});
    await sender.replaceTrack(out.stream.getAudioTracks()[0]);
    phone.held = true;
  } else {
    const mic = music ? music.mic : null;
    if (mic) await sender.replaceTrack(mic);
    stopMusic();
    phone.held = false;
  }
  if (audio) audio.muted = phone.held;
  render();
  post(p.dataset.hold, { on: phone.held ? "1" : "0" }).catch(() => {});
}

function post(url, fields) {
  const body = new FormData();
  Object.entries(fields).forEach(([k, v]) => [].concat(v).forEach((one) => body.append(k, one)));
  return fetch(url, {
    method: "POST",
    body,
    credentials: "same-origin",
    headers: { "x-csrftoken": panel().dataset.csrf },
  });
}

function option(select, value, label) {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = label;
  select.appendChild(o);
}

// Transfer: the agent chooses a queue, an agent available now or an outside number; the
// hotline answers with the line's address for it, and the softphone refers the caller there
// (SIP REFER); the caller's phone follows and leaves this call.
async function openTransfer() {
  const p = panel();
  const form = p.querySelector("[data-sp=transfer-form]");
  const button = p.querySelector("[data-sp=transfer]");
  form.hidden = !form.hidden;
  button.setAttribute("aria-expanded", form.hidden ? "false" : "true");
  if (form.hidden) return;
  p.querySelector("[data-sp=transfer-error]").textContent = "";
  const select = p.querySelector("[data-sp=transfer-to]");
  select.replaceChildren();
  let targets = { queues: [], agents: [], outside: false };
  try {
    const answer = await fetch(p.dataset.transfer, { credentials: "same-origin" });
    if (answer.ok) targets = await answer.json();
  } catch (_err) {
    // offered nothing: the agent sees an empty list
  }
  for (const [key, list] of [["queues", targets.queues], ["agents", targets.agents]]) {
    if (!list.length) continue;
    const group = document.createElement("optgroup");
    group.label = text(key);
    select.appendChild(group);
    list.forEach(([value, label]) => option(group, `${key === "queues" ? "queue" : "agent"}:${value}`, label));
  }
  if (targets.outside) option(select, "number:", text("outside"));
  showNumber();
  select.focus();
}

function showNumber() {
  const p = panel();
  const outside = p.querySelector("[data-sp=transfer-to]").value === "number:";
  p.querySelector("[data-sp=transfer-number]").hidden = !outside;
  p.querySelector("[data-sp=number-label]").hidden = !outside;
  const agent = p.querySelector("[data-sp=transfer-to]").value.startsWith("agent:");
  p.querySelector("[data-sp=consult]").hidden = !agent;
}

// The hotline writes the transfer and answers with the line's address for it; null (the
// reason shown) when it refuses.
async function askTransfer(kind, target, attended) {
  const error = panel().querySelector("[data-sp=transfer-error]");
  error.textContent = text("transferring");
  let answer;
  try {
    answer = await (await post(panel().dataset.transfer, { kind, target, attended: attended ? "1" : "" })).json();
  } catch (_err) {
    answer = { error: text("notTransferred") };
  }
  if (!answer.refer) error.textContent = answer.error || text("notTransferred");
  return answer.refer || null;
}

async function referCaller(refer) {
  const error = panel().querySelector("[data-sp=transfer-error]");
  if (phone.held) await hold(); // the caller hears ringing or the line, not the music
  const call = session;
  call.refer(UserAgent.makeURI(refer), {
    requestDelegate: {
      onReject: () => {
        error.textContent = text("notTransferred");
      },
    },
    // the caller's phone tells how its call to the line goes (a sipfrag): once it is
    // answered, this call is over; a failure leaves the agent on the call
    onNotify: (notification) => {
      notification.accept();
      const status = /SIP\/2\.0 (\d{3})/.exec(notification.request.body || "");
      if (!status) return;
      const code = Number(status[1]);
      if (code >= 200 && code < 300 && call.state === SessionState.Established) call.bye();
      else if (code >= 300) error.textContent = text("notTransferred");
    },
  });
  phone.transferredAt = performance.now();
}

async function transfer(event) {
  event.preventDefault();
  const p = panel();
  if (!session || phone.state !== "talking" || consulting) return;
  const [kind, chosen] = p.querySelector("[data-sp=transfer-to]").value.split(":");
  const target = kind === "number" ? p.querySelector("[data-sp=transfer-number]").value : chosen;
  const refer = await askTransfer(kind, target, false);
  if (refer) await referCaller(refer);
}

// --- talking to another agent first -----------------------------------------------------
// The agent calls another agent's softphone (a ticket from the hotline), the caller on hold
// hearing the music. Once the other agent answers, the agent hands the caller over (an
// attended transfer: the consultation ends, the line's transfer puts the caller through to
// the other agent), brings all three together (this browser is the bridge: each party hears
// the other two), or goes back to the caller.
let consulting = null; // the other agent's call, who they are, what was rewired for three

async function consultFirst() {
  const p = panel();
  const error = p.querySelector("[data-sp=transfer-error]");
  const [kind, chosen] = p.querySelector("[data-sp=transfer-to]").value.split(":");
  if (!session || phone.state !== "talking" || consulting || kind !== "agent") return;
  error.textContent = "";
  p.querySelector("[data-sp=consult-error]").textContent = "";
  let answer;
  try {
    answer = await (await post(p.dataset.consult, { agent: chosen })).json();
  } catch (_err) {
    answer = {};
  }
  if (!answer.uri) {
    error.textContent = answer.error || text("notConsulted");
    return;
  }
  if (!phone.held) await hold();
  const call = new Inviter(ua, UserAgent.makeURI(answer.uri), {
    extraHeaders: answer.headers,
    params: { fromDisplayName: answer.caller },
    sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } },
  });
  consulting = { session: call, agent: answer.agent, name: answer.name, nodes: [], restore: [] };
  phone.consult = "calling";
  p.querySelector("[data-sp=transfer-form]").hidden = true;
  call.stateChange.addListener((s) => {
    if (s === SessionState.Established && consulting && consulting.session === call) {
      const pc = call.sessionDescriptionHandler.peerConnection;
      const heard = new MediaStream(pc.getReceivers().map((r) => r.track).filter(Boolean));
      consulting.element = new Audio();
      consulting.element.autoplay = true;
      consulting.element.srcObject = heard;
      consulting.element.play().catch(() => {});
      context = context || new AudioContext();
      context.resume();
      phone.consultIn = context.createAnalyser(); // what the other agent says, for the tests
      phone.consultIn.fftSize = 4096;
      context.createMediaStreamSource(heard).connect(phone.consultIn);
      phone.consult = "talking";
      render();
    } else if (s === SessionState.Terminated) {
      consultEnded(call);
    }
  });
  render();
  call.invite().catch(() => consultEnded(call));
}

function unmix() {
  if (!consulting) return;
  consulting.nodes.forEach((n) => n.disconnect());
  consulting.restore.forEach(([sender, track]) => sender.replaceTrack(track).catch(() => {}));
  consulting.nodes = [];
  consulting.restore = [];
}

function consultEnded(call) {
  if (!consulting || consulting.session !== call) return;
  const state = phone.consult;
  const resume = consulting.resume; // undefined: the other side ended it
  unmix();
  if (consulting.element) consulting.element.srcObject = null;
  consulting = null;
  phone.consult = null;
  phone.consultIn = null;
  if (state === "calling" && resume === undefined) {
    panel().querySelector("[data-sp=consult-error]").textContent = text("notConsulted");
  }
  if (resume && phone.held) hold(); // back to the caller
  render();
}

function endConsult(resume) {
  if (!consulting) return Promise.resolve();
  const call = consulting.session;
  consulting.resume = resume;
  return new Promise((done) => {
    call.stateChange.addListener((s) => s === SessionState.Terminated && done());
    if (call.state === SessionState.Established) call.bye().catch(done);
    else if (call.state === SessionState.Terminated) done();
    else call.cancel().catch(done);
  });
}

// All three: the caller hears the agent and the other agent, the other agent hears the agent
// and the caller, the agent hears both (the caller no longer on hold).
function conference() {
  if (!consulting || phone.consult !== "talking" || !session) return;
  const call = session.sessionDescriptionHandler.peerConnection;
  const link = consulting.session.sessionDescriptionHandler.peerConnection;
  const callSender = call.getSenders().find((x) => x.track && x.track.kind === "audio");
  const linkSender = link.getSenders().find((x) => x.track && x.track.kind === "audio");
  if (!callSender || !linkSender) return;
  const mic = music ? music.mic : callSender.track;
  if (phone.held) {
    stopMusic();
    phone.held = false;
    if (audio) audio.muted = false;
    post(panel().dataset.hold, { on: "0" }).catch(() => {});
  }
  context = context || new AudioContext();
  context.resume();
  const fromCaller = context.createMediaStreamSource(
    new MediaStream(call.getReceivers().map((r) => r.track).filter(Boolean)),
  );
  const fromOther = context.createMediaStreamSource(consulting.element.srcObject);
  const fromAgent = context.createMediaStreamSource(new MediaStream([mic]));
  const toCaller = context.createMediaStreamDestination();
  const toOther = context.createMediaStreamDestination();
  fromAgent.connect(toCaller);
  fromOther.connect(toCaller);
  fromAgent.connect(toOther);
  fromCaller.connect(toOther);
  consulting.nodes.push(fromCaller, fromOther, fromAgent);
  consulting.restore.push([callSender, mic], [linkSender, linkSender.track]);
  callSender.replaceTrack(toCaller.stream.getAudioTracks()[0]);
  linkSender.replaceTrack(toOther.stream.getAudioTracks()[0]);
  phone.consult = "conference";
  render();
}

// Hand over: the transfer is written first (a refusal keeps the agent with both), then the
// other agent's phone is freed for the caller, who goes to the line's transfer number.
async function handOver() {
  if (!consulting || !["talking", "conference"].includes(phone.consult) || !session) return;
  const refer = await askTransfer("agent", consulting.agent, true);
  if (!refer) return;
  await endConsult(false);
  await referCaller(refer);
}

// --- listening in -----------------------------------------------------------------------
// The agent's softphone is the bridge: a supervisor's browser calls it with a ticket (Kamailio
// tells it the mode); it answers at once, unseen, and sends the supervisor what the caller says
// mixed with what the agent says; the supervisor's voice goes to the agent's ear (whisper) and
// to the caller as well (barge), never in silent listening.
let monitor = null; // on the agent's side: the supervisor's call and what was rewired for it
let listening = null; // on the supervisor's side: their user agent and call

function played(stream) {
  // Chrome feeds WebAudio from a remote WebRTC stream only while a media element plays it
  const element = new Audio();
  element.muted = true;
  element.srcObject = stream;
  element.play().catch(() => {});
  return element;
}

function monitored(invitation, mode) {
  if (!session || phone.state !== "talking" || monitor) {
    invitation.reject({ statusCode: 480 });
    return;
  }
  monitor = { session: invitation, mode, nodes: [] };
  phone.monitored = mode;
  invitation.stateChange.addListener((s) => {
    if (s === SessionState.Established) wireMonitor();
    else if (s === SessionState.Terminated) unwireMonitor();
  });
  invitation.accept({
    sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } },
  });
}

function wireMonitor() {
  if (!monitor || !session) return;
  context = context || new AudioContext();
  context.resume();
  const call = session.sessionDescriptionHandler.peerConnection;
  const link = monitor.session.sessionDescriptionHandler.peerConnection;
  const callSender = call.getSenders().find((x) => x.track && x.track.kind === "audio");
  const mic = music ? music.mic : callSender.track;
  const caller = new MediaStream(call.getReceivers().map((r) => r.track).filter(Boolean));
  const supervisor = new MediaStream(link.getReceivers().map((r) => r.track).filter(Boolean));
  monitor.element = played(supervisor);
  const toSupervisor = context.createMediaStreamDestination();
  const fromCaller = context.createMediaStreamSource(caller);
  const fromAgent = context.createMediaStreamSource(new MediaStream([mic]));
  const fromSupervisor = context.createMediaStreamSource(supervisor);
  fromCaller.connect(toSupervisor);
  fromAgent.connect(toSupervisor);
  monitor.nodes.push(fromCaller, fromAgent, fromSupervisor);
  const linkSender = link.getSenders().find((x) => x.track && x.track.kind === "audio");
  if (linkSender) linkSender.replaceTrack(toSupervisor.stream.getAudioTracks()[0]);
  phone.monitorIn = context.createAnalyser(); // what the supervisor says, for the tests
  phone.monitorIn.fftSize = 4096;
  fromSupervisor.connect(phone.monitorIn);
  if (monitor.mode === "whisper" || monitor.mode === "barge") fromSupervisor.connect(context.destination);
  if (monitor.mode === "barge") {
    const toCaller = context.createMediaStreamDestination();
    fromAgent.connect(toCaller);
    fromSupervisor.connect(toCaller);
    monitor.restore = { sender: callSender, track: callSender.track };
    callSender.replaceTrack(toCaller.stream.getAudioTracks()[0]);
  }
}

function unwireMonitor() {
  if (!monitor) return;
  monitor.nodes.forEach((n) => n.disconnect());
  if (monitor.restore) monitor.restore.sender.replaceTrack(monitor.restore.track).catch(() => {});
  if (monitor.element) monitor.element.srcObject = null;
  monitor = null;
  phone.monitored = null;
  phone.monitorIn = null;
}

function monitorStatus(message) {
  const box = document.getElementById("monitor");
  if (!box) return;
  box.hidden = !message;
  box.querySelector("[data-monitor-status]").textContent = message || "";
}

async function listenIn(button) {
  if (listening && listening.call) return;
  const p = panel();
  let answer;
  try {
    const sent = await post(p.dataset.monitor, {
      agent: button.dataset.monitorAgent,
      item: button.dataset.monitorItem,
      mode: button.dataset.monitorMode,
    });
    answer = await sent.json();
  } catch (_err) {
    answer = {};
  }
  const agent = button.closest("tr").querySelector("[data-label]:nth-child(5)");
  const who = agent ? agent.textContent.trim() : "";
  if (answer.sdps) {
    listenToDesk(answer, button.dataset.monitorMode, who);
    return;
  }
  if (!answer.uri) {
    monitorStatus(answer.error || text("monitorFailed"));
    return;
  }
  if (!listening || !listening.ua) {
    const ua = new UserAgent({
      uri: UserAgent.makeURI(answer.aor),
      transportOptions: { server: answer.url, traceSip: false },
      logLevel: "warn",
      sessionDescriptionHandlerFactoryOptions: media(answer.ice),
    });
    await ua.start();
    listening = { ua, call: null };
  }
  const call = new Inviter(listening.ua, UserAgent.makeURI(answer.uri), {
    extraHeaders: answer.headers,
    sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } },
  });
  listening.call = call;
  call.stateChange.addListener((s) => {
    if (s === SessionState.Established) {
      hear([call.sessionDescriptionHandler.peerConnection], button.dataset.monitorMode, who);
    } else if (s === SessionState.Terminated) {
      heardNoMore(call);
    }
  });
  window.hotlineMonitor.failed = false;
  call.invite({
    requestDelegate: {
      onReject: () => {
        window.hotlineMonitor.failed = true;
      },
    },
  }).catch(() => monitorStatus(text("monitorFailed")));
}

// What the supervisor hears (both parties), played and measured (for the tests).
function hear(pcs, mode, who) {
  const tracks = pcs.flatMap((pc) => pc.getReceivers().map((r) => r.track).filter(Boolean));
  const heard = new MediaStream(tracks);
  listening.element = new Audio();
  listening.element.autoplay = true;
  listening.element.srcObject = heard;
  listening.element.play().catch(() => {});
  context = context || new AudioContext();
  context.resume();
  window.hotlineMonitor.heard = context.createAnalyser();
  window.hotlineMonitor.heard.fftSize = 4096;
  // a source per party (a desk phone's call has two): a stream's source takes its first track only
  heard.getAudioTracks().forEach((track) => {
    context.createMediaStreamSource(new MediaStream([track])).connect(window.hotlineMonitor.heard);
  });
  window.hotlineMonitor.state = mode;
  monitorStatus(text(mode).replace("%(agent)s", who));
}

function heardNoMore(call) {
  if (listening && listening.call === call) listening.call = null;
  if (listening && listening.element) listening.element.srcObject = null;
  window.hotlineMonitor.state = "off";
  window.hotlineMonitor.heard = null;
  monitorStatus(window.hotlineMonitor.failed ? text("monitorFailed") : "");
}

// A call on a desk phone: the relay offers each party's audio, send-only, one connection per
// party; the browser's answers go back through the console (no SIP), and nothing of the
// supervisor is sent anywhere.
async function listenToDesk(offer, mode, who) {
  const config = offer.ice || { iceServers: [] };
  const pcs = offer.sdps.map(() => new RTCPeerConnection(config));
  const desk = { pcs, over: false };
  listening = listening || { ua: null, call: null };
  listening.call = desk;
  window.hotlineMonitor.failed = false;
  const over = () => {
    if (desk.over) return;
    desk.over = true;
    pcs.forEach((pc) => pc.close());
    // the relay's copies end at once, whoever ended the listening (the line ends them at the
    // call's end anyway)
    post(panel().dataset.monitor + "/stop", { listening: offer.listening }).catch(() => {});
    heardNoMore(desk);
  };
  desk.end = over;
  pcs.forEach((pc) => {
    let silent = null;
    pc.addEventListener("connectionstatechange", () => {
      window.hotlineMonitor.seen.push(pc.connectionState);
      clearTimeout(silent);
      // the call ended (the relay forgot it and answers no more) or the network went: the
      // listening is over; a moment's loss may come back
      if (pc.connectionState === "disconnected") silent = setTimeout(over, 4000);
      else if (["failed", "closed"].includes(pc.connectionState)) over();
    });
  });
  try {
    const answers = await Promise.all(
      pcs.map(async (pc, n) => {
        await pc.setRemoteDescription({ type: "offer", sdp: offer.sdps[n] });
        await pc.setLocalDescription(await pc.createAnswer());
        await gathered(pc, config.iceServers.length ? 3000 : 500);
        return pc.localDescription.sdp;
      }),
    );
    const sent = await post(panel().dataset.monitor + "/answer", {
      listening: offer.listening,
      sdp: answers,
    });
    const said = await sent.json();
    if (!sent.ok) throw new Error(said.error || "");
  } catch (err) {
    window.hotlineMonitor.failed = true;
    over();
    monitorStatus((err && err.message) || text("monitorFailed"));
    return;
  }
  if (!desk.over) hear(pcs, mode, who);
}

function gathered(pc, within) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState === "complete") resolve();
    };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, within);
  });
}

function stopListening() {
  if (!listening || !listening.call) return;
  const call = listening.call;
  if (call.pcs) call.end();
  else if (call.state === SessionState.Established) call.bye();
  else call.cancel();
}

window.hotlineMonitor = { state: "off", heard: null, failed: false, seen: [] };

function bind() {
  const p = panel();
  if (!p) {
    // a page without the panel (signed out): this browser takes no more calls
    if (ua && !session) stopAgent();
    return;
  }
  if (p.dataset.bound) return;
  p.dataset.bound = "1";
  p.querySelector("[data-sp=connect]").addEventListener("click", start);
  p.querySelector("[data-sp=answer]").addEventListener("click", answer);
  p.querySelector("[data-sp=decline]").addEventListener("click", hangup);
  p.querySelector("[data-sp=hangup]").addEventListener("click", hangup);
  p.querySelector("[data-sp=mute]").addEventListener("click", mute);
  p.querySelector("[data-sp=hold]").addEventListener("click", hold);
  p.querySelector("[data-sp=transfer]").addEventListener("click", openTransfer);
  p.querySelector("[data-sp=transfer-to]").addEventListener("change", showNumber);
  p.querySelector("[data-sp=transfer-form]").addEventListener("submit", transfer);
  p.querySelector("[data-sp=consult]").addEventListener("click", consultFirst);
  p.querySelector("[data-sp=hand-over]").addEventListener("click", handOver);
  p.querySelector("[data-sp=conference]").addEventListener("click", conference);
  p.querySelector("[data-sp=back]").addEventListener("click", () => endConsult(true));
  render();
  if (!ua && p.dataset.autostart === "true") start();
}

document.addEventListener("htmx:afterSettle", bind);
document.addEventListener("click", (event) => {
  if (!event.target.closest) return;
  const dial = event.target.closest("[data-dial-case]");
  if (dial) dialFrom(dial);
  const listen = event.target.closest("[data-monitor-mode]");
  if (listen) listenIn(listen);
  if (event.target.closest("[data-monitor-stop]")) stopListening();
});
window.addEventListener("pagehide", () => {
  if (registerer) registerer.unregister().catch(() => {});
});
bind();
