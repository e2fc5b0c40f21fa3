// The faceid web console: plain browser JavaScript over the public GraphQL API, nothing else.
// HTTP for queries and uploads (the GraphQL multipart request spec), graphql-ws for live recognition.

const $ = (selector) => document.querySelector(selector);
const KEY = "faceid:key"; // sessionStorage: forgotten when the tab closes
const COLLECTION = "faceid:collection"; // the collection every tab works in; none: the key's default
const PAGE = 12;
const FRAMES_IN_FLIGHT = 2; // one being answered, one waiting: the server drops older ones anyway

// ------------------------------------------------------------------ API

class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.code = code || "ERROR";
  }
}

function headers() {
  const key = sessionStorage.getItem(KEY);
  // Without a key (AUTH=off) a multipart upload needs this header (cross-site request protection).
  return key ? { Authorization: `Bearer ${key}` } : { "GraphQL-Require-Preflight": "1" };
}

function firstError(body, status) {
  const error = body && body.errors && body.errors[0];
  if (error) return new ApiError(error.message, error.extensions && error.extensions.code);
  return new ApiError(`HTTP ${status}`, "HTTP");
}

async function gql(query, variables = {}) {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers() },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json().catch(() => null);
  if (!response.ok || !body || body.errors) {
    const error = firstError(body, response.status);
    if (error.code === "UNAUTHENTICATED") askForKey("That key was refused.");
    throw error;
  }
  return body.data;
}

// One file as the variable `file`, with upload progress (fetch cannot report it).
function gqlUpload(query, variables, file, onProgress) {
  const form = new FormData();
  form.append("operations", JSON.stringify({ query, variables: { ...variables, file: null } }));
  form.append("map", JSON.stringify({ 0: ["variables.file"] }));
  form.append("0", file, file.name || "photo.jpg");
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", "/graphql");
    for (const [name, value] of Object.entries(headers())) request.setRequestHeader(name, value);
    request.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
    request.onerror = () => reject(new ApiError("the network failed", "NETWORK"));
    request.onload = () => {
      let body = null;
      try {
        body = JSON.parse(request.responseText);
      } catch {}
      if (request.status >= 400 || !body || body.errors) reject(firstError(body, request.status));
      else resolve(body.data);
    };
    request.send(form);
  });
}

// ------------------------------------------------------------------ the key

function askForKey(message = "") {
  $("#key-error").textContent = message;
  if (!$("#key-dialog").open) $("#key-dialog").showModal();
}

$("#key-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY, $("#key-input").value.trim());
  try {
    await gql("{ model { name } }");
    $("#key-dialog").close();
    $("#key-input").value = "";
    start();
  } catch (error) {
    sessionStorage.removeItem(KEY);
    $("#key-error").textContent = `${error.code}: ${error.message}`;
  }
});

$("#forget-key").addEventListener("click", () => {
  sessionStorage.removeItem(KEY);
  location.reload();
});

// ------------------------------------------------------------------ the collection

// Every tab reads and writes in this collection: the id chosen in the header, or null for the key's default.
const collection = () => sessionStorage.getItem(COLLECTION) || null;

async function loadCollections() {
  const { collections } = await gql("{ collections { id name personCount faceCount } }");
  // None chosen yet (or one gone): the first listed, the default for a key that sees it.
  if (!collections.some((row) => row.id === collection()) && collections.length) {
    sessionStorage.setItem(COLLECTION, collections[0].id);
  }
  const select = $("#collection");
  select.replaceChildren(
    ...collections.map((row) => element("option", { value: row.id }, `${row.name} (${row.personCount} persons)`)),
  );
  select.value = collection() || "";
  $("#collection-choice").hidden = collections.length < 2; // one collection: nothing to choose
  const chosen = collections.find((row) => row.id === collection());
  if (chosen && model) $("#model").textContent = `${model} · ${chosen.faceCount} faces`;
}

let model = ""; // the server's, from /healthz

$("#collection").addEventListener("change", (event) => {
  sessionStorage.setItem(COLLECTION, event.target.value);
  loadCollections().catch(() => {}); // the header's counts are the chosen collection's
  Object.assign(browsing, { search: null, after: null, before: null });
  banner("");
  showTab(document.querySelector("nav button.active").dataset.tab);
});

// ------------------------------------------------------------------ tabs

for (const button of document.querySelectorAll("nav button")) {
  button.addEventListener("click", () => showTab(button.dataset.tab));
}

function showTab(name) {
  for (const button of document.querySelectorAll("nav button")) button.classList.toggle("active", button.dataset.tab === name);
  for (const tab of document.querySelectorAll(".tab")) tab.classList.toggle("active", tab.id === name);
  if (name === "persons") loadPersons();
  if (name === "enrol") fillPersonChoice();
  if (name !== "live") stopLive();
}

function banner(message) {
  $("#banner").textContent = message;
  $("#banner").hidden = !message;
}

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

// ------------------------------------------------------------------ persons

// Crops need the BIOMETRICS scope: without it the list is shown without thumbnails.
const personsQuery = (crops) => `query Persons($first: Int, $after: String, $last: Int, $before: String, $search: String,
                                               $collection: ID) {
  persons(first: $first, after: $after, last: $last, before: $before, search: $search, collection: $collection) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { node { id name externalId faceCount faces { id ${crops ? "cropJpegBase64" : ""} } } }
  }
}`;

const browsing = { search: null, after: null, before: null, crops: true };

async function loadPersons() {
  const variables = { search: browsing.search, collection: collection() };
  if (browsing.before) Object.assign(variables, { last: PAGE, before: browsing.before });
  else Object.assign(variables, { first: PAGE, after: browsing.after });
  try {
    const { persons } = await gql(personsQuery(browsing.crops), variables);
    renderPersons(persons);
  } catch (error) {
    if (error.code === "FORBIDDEN" && browsing.crops) {
      browsing.crops = false;
      return loadPersons();
    }
    banner(`Could not list persons: ${error.code}: ${error.message}`);
  }
}

function renderPersons(persons) {
  const list = $("#person-list");
  list.replaceChildren(...persons.edges.map(({ node }) => personCard(node)));
  if (!persons.edges.length) list.append(element("li", { class: "muted" }, "No persons yet: create one above."));
  const info = persons.pageInfo;
  $("#prev-page").disabled = !info.hasPreviousPage;
  $("#next-page").disabled = !info.hasNextPage;
  $("#prev-page").onclick = () => Object.assign(browsing, { before: info.startCursor, after: null }) && loadPersons();
  $("#next-page").onclick = () => Object.assign(browsing, { after: info.endCursor, before: null }) && loadPersons();
  $("#page-info").textContent = `${persons.totalCount} persons`;
}

function personCard(person) {
  const thumbs = element("div", { class: "thumbs" });
  for (const face of person.faces.slice(0, 8)) {
    if (face.cropJpegBase64) thumbs.append(element("img", { src: `data:image/jpeg;base64,${face.cropJpegBase64}`, alt: `a face of ${person.name}` }));
  }
  const rename = async () => {
    const name = prompt("New name", person.name);
    if (!name || name === person.name) return;
    try {
      await gql("mutation($id: ID!, $name: String!) { updatePerson(id: $id, input: {name: $name}) { id } }", { id: person.id, name });
      loadPersons();
    } catch (error) {
      banner(`${error.code}: ${error.message}`);
    }
  };
  const remove = async () => {
    if (!confirm(`Delete ${person.name} and their ${person.faceCount} faces? This cannot be undone.`)) return;
    try {
      await gql("mutation($id: ID!) { deletePerson(id: $id) { id } }", { id: person.id });
      loadPersons();
    } catch (error) {
      banner(`${error.code}: ${error.message}`);
    }
  };
  const enrol = () => {
    $("#enrol-person").dataset.wanted = person.id;
    showTab("enrol");
  };
  return element(
    "li",
    { class: "card", "data-person": person.id },
    element("h3", {}, person.name),
    element("div", { class: "muted" }, `${person.faceCount} face${person.faceCount === 1 ? "" : "s"}${person.externalId ? ` · ${person.externalId}` : ""}`),
    thumbs,
    element(
      "div",
      { class: "actions" },
      element("button", { onclick: enrol }, "Add photos"),
      element("button", { onclick: rename }, "Rename"),
      element("button", { onclick: remove }, "Delete"),
    ),
  );
}

$("#person-search").addEventListener("submit", (event) => {
  event.preventDefault();
  Object.assign(browsing, { search: event.target.q.value.trim() || null, after: null, before: null });
  loadPersons();
});

$("#person-create").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await gql("mutation($name: String!, $collection: ID) { createPerson(input: {name: $name}, collection: $collection) { id } }", {
      name: event.target.name.value.trim(),
      collection: collection(),
    });
    event.target.reset();
    Object.assign(browsing, { after: null, before: null });
    banner("");
    loadPersons();
  } catch (error) {
    banner(`${error.code}: ${error.message}`);
  }
});

// ------------------------------------------------------------------ enrolment

async function fillPersonChoice() {
  const select = $("#enrol-person");
  try {
    const { persons } = await gql("query($collection: ID) { persons(first: 500, collection: $collection) { edges { node { id name } } } }", {
      collection: collection(),
    });
    const wanted = select.dataset.wanted || select.value; // "Add photos" on a card, else the last choice
    delete select.dataset.wanted;
    select.replaceChildren(...persons.edges.map(({ node }) => element("option", { value: node.id }, node.name)));
    if (wanted) select.value = wanted;
  } catch (error) {
    banner(`${error.code}: ${error.message}`);
  }
}

const CREATE_FACE = `mutation($person: ID!, $file: Upload!) {
  createFace(personId: $person, image: {upload: $file}) { id warnings { code message } }
}`;

async function enrolFiles(files) {
  const person = $("#enrol-person").value;
  if (!person) return banner("Create a person first (Persons tab).");
  banner("");
  // Photos go one after another: the rate limit and the server's queue are shared with everyone.
  const rows = [...files].map((file) => {
    const bar = element("progress", { max: "1", value: "0" });
    const status = element("span", { class: "muted" }, "waiting");
    $("#uploads").prepend(element("li", { "data-file": file.name }, element("span", {}, file.name), bar, status));
    return { file, bar, status };
  });
  for (const { file, bar, status } of rows) {
    status.textContent = "uploading";
    try {
      const { createFace } = await gqlUpload(CREATE_FACE, { person }, file, (share) => (bar.value = share));
      bar.value = 1;
      const warnings = createFace.warnings.map((w) => w.code).join(", ");
      status.className = "ok";
      status.textContent = warnings ? `enrolled (${warnings})` : "enrolled";
    } catch (error) {
      status.className = "bad";
      status.textContent = `${error.code}: ${error.message}`;
    }
  }
}

function dropZone(zone, input, onFiles) {
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    onFiles(event.dataTransfer.files);
  });
  input.addEventListener("change", () => {
    onFiles(input.files);
    input.value = "";
  });
}

dropZone($("#drop-enrol"), $("#enrol-files"), enrolFiles);

let enrolStream = null;
$("#camera-start").addEventListener("click", async () => {
  try {
    enrolStream = await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 } });
  } catch (error) {
    return banner(`The camera is not available: ${error.message}`);
  }
  $("#enrol-video").srcObject = enrolStream;
  $("#enrol-video").hidden = false;
  $("#camera-shoot").hidden = false;
});
$("#camera-shoot").addEventListener("click", async () => {
  const video = $("#enrol-video");
  const blob = await frameBlob(video, 0.92);
  enrolFiles([new File([blob], `camera-${new Date().toISOString()}.jpg`, { type: "image/jpeg" })]);
});

function frameBlob(video, quality) {
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
}

// ------------------------------------------------------------------ verification

const RECOGNIZE = `query($file: Upload!, $collection: ID) {
  recognizeFaces(image: {upload: $file}, collection: $collection) {
    match threshold
    probe { box { x y width height } }
    best { distance falseMatchRate person { name } }
  }
}`;

function label(face) {
  if (!face.best) return "unknown";
  const rate = face.best.falseMatchRate == null ? "" : `, FMR ${face.best.falseMatchRate.toExponential(1)}`;
  return face.match ? `${face.best.person.name} (${face.best.distance.toFixed(2)}${rate})` : `unknown (nearest ${face.best.person.name}, ${face.best.distance.toFixed(2)})`;
}

function drawBoxes(context, faces, scale = 1) {
  context.lineWidth = Math.max(2, 3 * scale);
  context.font = `${Math.round(16 * scale)}px system-ui, sans-serif`;
  for (const face of faces) {
    const { x, y, width, height } = face.box;
    const colour = face.match ? "#16a34a" : "#dc2626";
    context.strokeStyle = colour;
    context.strokeRect(x, y, width, height);
    const text = face.match ? face.best.person.name : "unknown";
    const textWidth = context.measureText(text).width + 8 * scale;
    context.fillStyle = colour;
    context.fillRect(x, Math.max(0, y - 22 * scale), textWidth, 22 * scale);
    context.fillStyle = "#fff";
    context.fillText(text, x + 4 * scale, Math.max(16 * scale, y - 6 * scale));
  }
}

async function verifyFile(files) {
  const file = files[0];
  if (!file) return;
  $("#verify-status").textContent = "Recognising...";
  $("#verify-results").replaceChildren();
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" }).catch(() => null);
  try {
    const { recognizeFaces } = await gqlUpload(RECOGNIZE, { collection: collection() }, file, () => {});
    const faces = recognizeFaces.map((answer) => ({ box: answer.probe.box, match: answer.match, best: answer.best }));
    $("#verify-status").textContent = `${faces.length} face${faces.length === 1 ? "" : "s"} found.`;
    if (bitmap) {
      const canvas = $("#verify-canvas");
      canvas.width = bitmap.width;
      canvas.height = bitmap.height;
      const context = canvas.getContext("2d");
      context.drawImage(bitmap, 0, 0);
      drawBoxes(context, faces, Math.max(1, bitmap.width / 800));
    }
    $("#verify-results").replaceChildren(
      ...faces.map((face) => element("li", {}, element("span", { class: face.match ? "ok" : "bad" }, face.match ? "match" : "no match"), label(face))),
    );
  } catch (error) {
    $("#verify-status").textContent = `${error.code}: ${error.message}`;
  }
}

dropZone($("#drop-verify"), $("#verify-file"), verifyFile);

// ------------------------------------------------------------------ live

const LIVE = `subscription($stream: String!, $collection: ID) {
  liveRecognition(stream: $stream, collection: $collection) {
    frame serverMs droppedFrames
    error { code message }
    faces { track match box { x y width height } best { distance falseMatchRate person { name } } }
  }
}`;
const SEND_FRAME = `mutation($stream: String!, $frame: Int!, $jpeg: String!) {
  sendLiveFrame(stream: $stream, frame: $frame, image: {base64: $jpeg}) { frame }
}`;

let live = null;

async function startLive() {
  const video = $("#live-video");
  let camera;
  try {
    camera = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
  } catch (error) {
    return banner(`The camera is not available: ${error.message}`);
  }
  video.srcObject = camera;
  await video.play();
  const key = sessionStorage.getItem(KEY);
  const client = graphqlWs.createClient({
    url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`,
    connectionParams: key ? { Authorization: `Bearer ${key}` } : {},
    retryAttempts: 3,
  });
  const stream = `console-${Math.random().toString(36).slice(2, 10)}`;
  const state = { client, camera, stream, sent: new Map(), next: 0, latencies: [], answered: [], running: true };
  live = state;
  $("#live-start").disabled = true;
  $("#live-stop").disabled = false;
  const overlay = $("#live-overlay");
  overlay.width = video.videoWidth;
  overlay.height = video.videoHeight;

  state.unsubscribe = client.subscribe(
    { query: LIVE, variables: { stream, collection: collection() } },
    {
      next: ({ data, errors }) => {
        if (errors) return banner(`${errors[0].extensions?.code}: ${errors[0].message}`);
        showLiveFrame(state, data.liveRecognition);
      },
      error: (error) => banner(`Live recognition stopped: ${error.reason || error.message || error}`),
      complete: () => {},
    },
  );
  // Frames go when fewer than FRAMES_IN_FLIGHT are unanswered: the camera never outruns the server.
  const canvas = document.createElement("canvas");
  const pump = async () => {
    if (!state.running) return;
    if (state.sent.size < FRAMES_IN_FLIGHT && video.videoWidth) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      canvas.getContext("2d").drawImage(video, 0, 0);
      const jpeg = canvas.toDataURL("image/jpeg", 0.8);
      const frame = state.next++;
      state.sent.set(frame, performance.now());
      client.subscribe({ query: SEND_FRAME, variables: { stream, frame, jpeg } }, { next: () => {}, error: () => state.sent.delete(frame), complete: () => {} });
    }
    requestAnimationFrame(pump);
  };
  setTimeout(pump, 300); // the subscription opens the stream first
}

function showLiveFrame(state, answer) {
  const now = performance.now();
  for (const frame of [...state.sent.keys()]) {
    if (frame <= answer.frame) {
      if (frame === answer.frame) state.latencies.push(now - state.sent.get(frame));
      state.sent.delete(frame); // answered, or replaced by a newer one
    }
  }
  state.answered.push(now);
  state.answered = state.answered.filter((t) => now - t < 2000);
  state.latencies = state.latencies.slice(-30);
  const sorted = [...state.latencies].sort((a, b) => a - b);
  const p50 = sorted.length ? sorted[Math.floor(sorted.length / 2)] : 0;
  $("#live-stats").textContent = `${(state.answered.length / 2).toFixed(1)} fps · ${Math.round(p50)} ms · ${answer.droppedFrames} dropped`;
  const overlay = $("#live-overlay");
  const context = overlay.getContext("2d");
  context.clearRect(0, 0, overlay.width, overlay.height);
  drawBoxes(context, answer.faces);
  if (answer.error) banner(`Frame ${answer.frame}: ${answer.error.code}: ${answer.error.message}`);
  $("#live-names").replaceChildren(...answer.faces.map((face) => element("li", { "data-track": face.track }, label(face))));
}

function stopLive() {
  if (!live) return;
  live.running = false;
  live.unsubscribe && live.unsubscribe();
  live.client.dispose();
  for (const track of live.camera.getTracks()) track.stop();
  live = null;
  $("#live-start").disabled = false;
  $("#live-stop").disabled = true;
}

$("#live-start").addEventListener("click", startLive);
$("#live-stop").addEventListener("click", stopLive);

// ------------------------------------------------------------------ start

async function start() {
  const health = await fetch("/healthz").then((r) => r.json()).catch(() => ({}));
  const authOn = health.auth !== "off";
  model = health.model || "";
  $("#model").textContent = model;
  if (authOn && !sessionStorage.getItem(KEY)) return askForKey();
  $("#forget-key").hidden = !authOn;
  await loadCollections().catch((error) => banner(`${error.code}: ${error.message}`));
  loadPersons();
}

start();
