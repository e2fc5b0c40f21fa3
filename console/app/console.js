// The faceid web console: plain browser JavaScript over the public GraphQL API, nothing else.
// HTTP for queries and uploads (the GraphQL multipart request spec), graphql-ws for live recognition.

const $ = (selector) => document.querySelector(selector);
const KEY = "faceid:key"; // sessionStorage: forgotten when the tab closes
const COLLECTION = "faceid:collection"; // the collection every tab works in; none: the key's default
const PAGE = 12;
const SUGGESTIONS = 10; // persons a person field offers as the user types
const FRAMES_IN_FLIGHT = 2; // one being answered, one waiting: the server drops older ones anyway

// ------------------------------------------------------------------ API

class ApiError extends Error {
  constructor(message, code, extensions = {}) {
    super(message);
    this.code = code || "ERROR";
    this.extensions = extensions; // what the server added: the faces of a group photo, the person matched
  }
}

function headers() {
  const key = sessionStorage.getItem(KEY);
  // Without a key (AUTH=off) a multipart upload needs this header (cross-site request protection).
  return key ? { Authorization: `Bearer ${key}` } : { "GraphQL-Require-Preflight": "1" };
}

function firstError(body, status) {
  const error = body && body.errors && body.errors[0];
  if (error) return new ApiError(error.message, error.extensions && error.extensions.code, error.extensions || {});
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
  // A refusal before any key was typed is no news: only a refused key gets a message.
  $("#key-error").textContent = sessionStorage.getItem(KEY) ? message : "";
  if (!$("#key-dialog").open) $("#key-dialog").showModal();
}

// Escape would leave a page that can do nothing: the dialog stays, and says why.
$("#key-dialog").addEventListener("cancel", (event) => {
  event.preventDefault();
  $("#key-error").textContent = "The console needs a key to show anything.";
});

$("#key-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY, $("#key-input").value.trim());
  try {
    await gql("{ me { name } }"); // any working key passes, whatever its scopes
    $("#key-dialog").close();
    $("#key-input").value = "";
    start();
  } catch (error) {
    sessionStorage.removeItem(KEY);
    $("#key-error").textContent = error.code === "UNAUTHENTICATED" ? "That key was refused: check it, or ask for a new one." : plainError(error);
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
    ...collections.map((row) => element("option", { value: row.id }, `${row.name} (${counted(row.personCount, "person")})`)),
  );
  select.value = collection() || "";
  $("#collection-choice").hidden = collections.length < 2; // one collection: nothing to choose
  const chosen = collections.find((row) => row.id === collection());
  if (chosen && model) $("#model").textContent = `${model} · ${counted(chosen.faceCount, "face")}`;
}

let model = ""; // the server's, from /healthz

// What the key may do (`me`): the console shows only those controls. Null until known: nothing is hidden.
let allowed = null;
const may = (scope) => !allowed || allowed.includes(scope);

function showWhatTheKeyMay() {
  const tabs = { persons: "READ", enrol: "ENROL", verify: "VERIFY", live: "VERIFY", liveness: "VERIFY" };
  for (const button of document.querySelectorAll("nav button")) button.hidden = !may(tabs[button.dataset.tab]);
  $("#person-create").hidden = !may("ENROL");
  $("#liveness-person-label").hidden = !may("READ"); // the field searches the persons
  const shown = [...document.querySelectorAll("nav button")].filter((button) => !button.hidden);
  const asked = shown.find((button) => `#${button.dataset.tab}` === location.hash); // a tab named in the URL
  const current = shown.find((button) => button.classList.contains("active"));
  const chosen = asked || current || shown[0];
  if (chosen) showTab(chosen.dataset.tab);
}

$("#collection").addEventListener("change", (event) => {
  sessionStorage.setItem(COLLECTION, event.target.value);
  loadCollections().catch(() => {}); // the header's counts are the chosen collection's
  Object.assign(browsing, { search: null, after: null, before: null, last: false });
  banner("");
  showTab(document.querySelector("nav button.active").dataset.tab);
});

// ------------------------------------------------------------------ tabs

for (const button of document.querySelectorAll("nav button")) {
  button.addEventListener("click", () => showTab(button.dataset.tab));
}

function showTab(name) {
  banner(""); // a message belongs to the tab it came from
  history.replaceState(null, "", `#${name}`); // the tab is in the URL: reload and links keep it
  for (const button of document.querySelectorAll("nav button")) {
    button.classList.toggle("active", button.dataset.tab === name);
    button.setAttribute("aria-current", button.dataset.tab === name ? "page" : "false");
  }
  for (const tab of document.querySelectorAll(".tab")) tab.classList.toggle("active", tab.id === name);
  if (name === "persons") {
    $("#person-page").hidden = true;
    $("#person-browser").hidden = false;
    loadPersons();
  }
  if (name !== "live") stopLive();
  if (name !== "liveness") stopLiveness(true);
  if (name !== "enrol") stopEnrolCamera();
}

// "1 face", "3 faces".
const counted = (n, noun) => `${n} ${noun}${n === 1 ? "" : "s"}`;

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
    edges { node { id name externalId faceCount coverFace { id ${crops ? "cropJpegBase64" : ""} } } }
  }
}`;

// last: the last page (where a person just created is, the list being oldest first).
const browsing = { search: null, after: null, before: null, last: false, crops: true, created: null };

async function loadPersons() {
  const variables = { search: browsing.search, collection: collection() };
  if (browsing.before || browsing.last) Object.assign(variables, { last: PAGE, before: browsing.before });
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
  if (!persons.edges.length) {
    const empty = browsing.search ? `No one matches “${browsing.search}”.` : "No persons yet: create one above.";
    list.append(element("li", { class: "muted" }, empty));
  }
  const created = browsing.created && list.querySelector(`[data-person="${browsing.created}"]`);
  if (created) {
    created.classList.add("new");
    created.scrollIntoView({ block: "nearest" });
  }
  browsing.created = null;
  const info = persons.pageInfo;
  $("#prev-page").disabled = !info.hasPreviousPage;
  $("#next-page").disabled = !info.hasNextPage;
  $("#prev-page").onclick = () => Object.assign(browsing, { before: info.startCursor, after: null, last: false }) && loadPersons();
  $("#next-page").onclick = () => Object.assign(browsing, { after: info.endCursor, before: null, last: false }) && loadPersons();
  $("#page-info").textContent = counted(persons.totalCount, "person");
}

function personCard(person) {
  // One crop a card (the cover face): a page of persons costs a few KB of pictures, not every crop.
  const cover = person.coverFace && person.coverFace.cropJpegBase64;
  const thumb = cover
    ? element("img", { class: "cover", src: `data:image/jpeg;base64,${cover}`, alt: `${person.name}'s cover face` })
    : element("div", { class: "cover none", "aria-hidden": "true" }, person.name.slice(0, 1).toUpperCase());
  const rename = async () => {
    const name = await askText(`Rename ${person.name}`, "New name", person.name);
    if (!name || name === person.name) return;
    try {
      await gql("mutation($id: ID!, $name: String!) { updatePerson(id: $id, input: {name: $name}) { id } }", { id: person.id, name });
      loadPersons();
    } catch (error) {
      banner(plainError(error));
    }
  };
  const remove = async () => {
    const faces = counted(person.faceCount, "face");
    if (!(await confirmed(`Delete ${person.name}?`, `${person.name} and their ${faces} are removed for good.`, "Delete"))) return;
    try {
      await gql("mutation($id: ID!) { deletePerson(id: $id) { id } }", { id: person.id });
      loadPersons();
      loadCollections().catch(() => {}); // the header's counts
    } catch (error) {
      banner(plainError(error));
    }
  };
  const enrol = () => {
    enrolTarget.set(person);
    showTab("enrol");
  };
  const actions = [
    may("ENROL") && element("button", { onclick: enrol, "aria-label": `Add photos of ${person.name}` }, "Add photos"),
    may("ENROL") && element("button", { onclick: rename, "aria-label": `Rename ${person.name}` }, "Rename"),
    may("DELETE") && element("button", { onclick: remove, "aria-label": `Delete ${person.name}` }, "Delete"),
  ].filter(Boolean);
  return element(
    "li",
    { class: "card", "data-person": person.id },
    thumb,
    element(
      "div",
      { class: "about" },
      element("h2", {}, element("button", { class: "link", onclick: () => openPerson(person.id), title: "Every face of this person" }, person.name)),
      element("div", { class: "muted" }, `${counted(person.faceCount, "face")}${person.externalId ? ` · ${person.externalId}` : ""}`),
      element("div", { class: "actions" }, ...actions),
    ),
  );
}

// ------------------------------------------------------------------ dialogs (instead of prompt and confirm)

// The confirm dialog: resolves true for its action button, false for Cancel or Escape.
function confirmed(title, text, action) {
  const dialog = $("#confirm-dialog");
  $("#confirm-title").textContent = title;
  $("#confirm-text").textContent = text;
  $("#confirm-action").textContent = action;
  $("#confirm-field").hidden = true;
  return showDialog(dialog).then((value) => value === "action");
}

// The same dialog with one text field: resolves with its text, or null.
function askText(title, label, value) {
  const dialog = $("#confirm-dialog");
  $("#confirm-title").textContent = title;
  $("#confirm-text").textContent = "";
  $("#confirm-action").textContent = "Save";
  $("#confirm-field").hidden = false;
  $("#confirm-label").textContent = label;
  $("#confirm-input").value = value;
  return showDialog(dialog, $("#confirm-input")).then((answer) => (answer === "action" ? $("#confirm-input").value.trim() : null));
}

function showDialog(dialog, focus) {
  return new Promise((resolve) => {
    dialog.returnValue = "";
    dialog.addEventListener("close", () => resolve(dialog.returnValue), { once: true });
    dialog.showModal();
    (focus || $("#confirm-cancel")).focus();
  });
}

// ------------------------------------------------------------------ one person, face by face

const PERSON_PAGE = (crops) => `query($id: ID!) {
  person(id: $id) {
    id name externalId faceCount coverFace { id }
    faces { id createdAt detector quality { interEyePx sharpness yawDeg } ${crops ? "cropJpegBase64" : ""} }
  }
}`;

const SEARCH_PERSONS = `query($search: String, $first: Int!, $collection: ID) {
  persons(search: $search, first: $first, collection: $collection) { edges { node { id name externalId } } }
}`;

let pickers = 0;

// A person chosen by typing a name: the persons matching what is typed are offered as the user types
// (a search, not a list of everyone), in a datalist the browser shows under the field.
function personPicker(input, except = null) {
  const list = element("datalist", { id: `people-${++pickers}` });
  input.setAttribute("list", list.id);
  input.setAttribute("autocomplete", "off");
  input.after(list);
  const known = new Map(); // an offered text -> its person
  // Same names are told apart by their external id, or the start of their id.
  const text = (person, twin) => (person.externalId ? `${person.name} (${person.externalId})` : twin ? `${person.name} (${person.id.slice(0, 8)})` : person.name);
  const search = async (typed, first) => {
    const { persons } = await gql(SEARCH_PERSONS, { search: typed || null, first, collection: collection() });
    return persons.edges.map(({ node }) => node).filter((person) => person.id !== except);
  };
  let asked = 0;
  let timer = null;
  const suggest = async () => {
    const turn = ++asked;
    const people = await search(input.value.trim(), SUGGESTIONS).catch(() => []);
    if (turn !== asked) return; // a later keystroke's answer wins
    const names = people.map((person) => person.name);
    list.replaceChildren(
      ...people.map((person) => {
        const offered = text(person, names.indexOf(person.name) !== names.lastIndexOf(person.name));
        known.set(offered, person);
        return element("option", { value: offered });
      }),
    );
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(suggest, 150);
  });
  input.addEventListener("focus", suggest);
  return {
    set(person) {
      input.value = text(person, false);
      known.set(input.value, person);
    },
    clear() {
      input.value = "";
    },
    // The person the field names: one offered, else the only one of exactly that name; null if none or many.
    async chosen() {
      const typed = input.value.trim();
      if (known.has(typed)) return known.get(typed);
      const same = (await search(typed, 2 * SUGGESTIONS).catch(() => [])).filter((person) => person.name.toLowerCase() === typed.toLowerCase());
      return same.length === 1 ? same[0] : null;
    },
  };
}

// A person field with its caption and button: `act(person)` once a person is named; a message when none is.
function personAction(caption, label, button, except, act, buttonName = button) {
  const input = element("input", { type: "search", "aria-label": label, placeholder: "Type a name" });
  const form = element("form", { class: "row pick" }, element("span", { "aria-hidden": "true" }, caption), input);
  const picker = personPicker(input, except);
  form.append(element("button", { type: "submit", "aria-label": buttonName }, button));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const person = await picker.chosen();
    if (!person) return banner(`Choose a person from the list under “${label}”.`);
    banner("");
    act(person);
  });
  return form;
}

async function openPerson(id) {
  let person;
  try {
    person = (await gql(PERSON_PAGE(may("BIOMETRICS")), { id })).person;
  } catch (error) {
    return banner(plainError(error));
  }
  if (!person) return banner("That person is gone.");
  const page = $("#person-page");
  const faces = element("ul", { class: "faces-grid" });
  const cover = person.coverFace && person.coverFace.id;
  person.faces.forEach((face, index) => faces.append(faceCard(person, face, index + 1, face.id === cover)));
  if (!person.faces.length) faces.append(element("li", { class: "muted" }, "No faces yet."));
  let merge = "";
  if (may("ENROL") && may("DELETE")) {
    merge = personAction("Same person as", `Same person as (merged into ${person.name})`, `Merge into ${person.name}`, person.id, async (from) => {
      const text = `Every face of ${from.name} moves to ${person.name}, and ${from.name} is deleted.`;
      if (!(await confirmed(`Merge ${from.name} into ${person.name}?`, text, "Merge"))) return;
      try {
        await gql("mutation($into: ID!, $from: ID!) { mergePersons(into: $into, from: $from) { id } }", { into: person.id, from: from.id });
        status(`${from.name} merged into ${person.name}.`);
        openPerson(person.id);
      } catch (error) {
        banner(plainError(error));
      }
    });
  }
  page.replaceChildren(
    element("div", { class: "row" }, element("button", { onclick: closePerson }, "Back to persons"), element("h2", {}, person.name), element("span", { class: "muted" }, `${counted(person.faceCount, "face")}${person.externalId ? ` · ${person.externalId}` : ""}`)),
    faces,
    merge,
  );
  $("#person-browser").hidden = true;
  page.hidden = false;
  page.querySelector("h2").setAttribute("tabindex", "-1");
  page.querySelector("h2").focus();
}

function closePerson() {
  $("#person-page").hidden = true;
  $("#person-browser").hidden = false;
  loadPersons();
}

function faceCard(person, face, number, isCover) {
  const when = new Date(face.createdAt).toLocaleString();
  const quality = face.quality ? `eyes ${Math.round(face.quality.interEyePx)} px apart · sharpness ${Math.round(face.quality.sharpness)}` : "";
  const picture = face.cropJpegBase64
    ? element("img", { src: `data:image/jpeg;base64,${face.cropJpegBase64}`, alt: `face ${number} of ${person.name}` })
    : element("div", { class: "no-crop muted" }, `face ${number}`);
  const actions = element("div", { class: "actions" });
  if (isCover) actions.append(element("span", { class: "badge" }, "Cover"));
  else if (may("ENROL")) {
    const useAsCover = async () => {
      try {
        await gql("mutation($id: ID!, $face: ID!) { updatePerson(id: $id, input: {coverFaceId: $face}) { id } }", { id: person.id, face: face.id });
        status(`Face ${number} is now ${person.name}'s cover.`);
        openPerson(person.id);
      } catch (error) {
        banner(plainError(error));
      }
    };
    actions.append(element("button", { onclick: useAsCover, "aria-label": `Use face ${number} as ${person.name}'s cover` }, "Use as cover"));
  }
  if (may("DELETE")) {
    const remove = async () => {
      if (!(await confirmed(`Delete face ${number} of ${person.name}?`, "This photo's face is removed for good; the person stays.", "Delete"))) return;
      try {
        await gql("mutation($id: ID!) { deleteFace(id: $id) { id } }", { id: face.id });
        status(`Face ${number} of ${person.name} deleted.`);
        openPerson(person.id);
        loadCollections().catch(() => {});
      } catch (error) {
        banner(plainError(error));
      }
    };
    actions.append(element("button", { onclick: remove, "aria-label": `Delete face ${number} of ${person.name}` }, "Delete"));
  }
  if (may("ENROL")) {
    const move = async (to) => {
      try {
        await gql("mutation($id: ID!, $person: ID!) { updateFace(id: $id, personId: $person) { id } }", { id: face.id, person: to.id });
        status(`Face ${number} moved to ${to.name}.`);
        openPerson(person.id);
      } catch (error) {
        banner(plainError(error));
      }
    };
    actions.append(personAction("Move to", `Move face ${number} to`, "Move", person.id, move, `Move face ${number} of ${person.name}`));
  }
  return element("li", { class: "face", "data-face": face.id }, picture, element("div", { class: "muted" }, `${when} · ${face.detector}`), element("div", { class: "muted" }, quality), actions);
}

// Announced to screen readers: what the last action did.
function status(message) {
  $("#status").textContent = message;
}

$("#person-search").addEventListener("submit", (event) => {
  event.preventDefault();
  Object.assign(browsing, { search: event.target.q.value.trim() || null, after: null, before: null, last: false });
  loadPersons();
});

// Two persons of one name are told apart only by their external id: a second one is created only when asked.
async function sameName(name) {
  const { persons } = await gql(`query($search: String!, $collection: ID) {
    persons(search: $search, first: ${SUGGESTIONS}, collection: $collection) { totalCount edges { node { name externalId faceCount } } }
  }`, { search: name, collection: collection() });
  return persons.edges.map(({ node }) => node).filter((person) => person.name.toLowerCase() === name.toLowerCase());
}

$("#person-create").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = event.target.name.value.trim();
  const externalId = event.target.externalId.value.trim() || null;
  try {
    const twins = await sameName(name);
    if (twins.length) {
      const them = twins.map((twin) => `${twin.name}${twin.externalId ? ` (${twin.externalId})` : ""}, ${counted(twin.faceCount, "face")}`).join("; ");
      const hint = externalId ? "" : " Give each an external id to tell them apart.";
      const text = `Already in the gallery: ${them}. Create another person of the same name?${hint}`;
      if (!(await confirmed(`There is already a ${name}`, text, "Create another"))) return;
    }
    const { createPerson } = await gql(
      "mutation($name: String!, $externalId: String, $collection: ID) { createPerson(input: {name: $name, externalId: $externalId}, collection: $collection) { id } }",
      { name, externalId, collection: collection() },
    );
    event.target.reset();
    // The new person is last (oldest first): show that page, with the new card marked.
    Object.assign(browsing, { search: null, after: null, before: null, last: true, created: createPerson.id });
    $("#person-search").reset();
    banner("");
    loadPersons();
  } catch (error) {
    banner(plainError(error));
  }
});

// ------------------------------------------------------------------ enrolment

// Whom the Enrol tab's photos are for: typed there, or set by a card's "Add photos".
const enrolTarget = personPicker($("#enrol-person"));

// Enrolment never guesses: a group photo, a face that is someone else's, a photo enrolled before and a
// poor photo each ask first (the server refuses them, writing nothing, until the answer says otherwise).
const CREATE_FACE = `mutation($person: ID!, $file: Upload!, $other: Boolean!, $same: Boolean!, $low: Boolean!, $face: BoxInput) {
  createFace(personId: $person, image: {upload: $file}, rejectMultiple: true, rejectIfMatchesOther: $other,
             rejectIfSameImage: $same, allowLowQuality: $low, face: $face) { id }
}`;

const QUALITY_WORDS = {
  TOO_SMALL: "the face is too small in the photo",
  BLURRED: "the photo is blurred",
  POSE: "the head is turned too far to the side",
  LOW_CONFIDENCE: "the face is hard to make out",
};

// A question in an upload's row; resolves with the value of the button chosen (the first is focused).
function ask(row, text, choices, ...extra) {
  return new Promise((resolve) => {
    const question = element("div", { class: "question", role: "group", "aria-label": text }, element("p", {}, text), ...extra.filter(Boolean));
    const buttons = element("div", { class: "actions" });
    for (const [name, value] of choices) {
      buttons.append(element("button", { type: "button", onclick: () => (question.remove(), resolve(value)) }, name));
    }
    question.append(buttons);
    row.append(question);
    buttons.firstChild.focus();
  });
}

async function personName(id) {
  const found = await gql("query($id: ID!) { person(id: $id) { name } }", { id }).catch(() => null);
  return found && found.person ? found.person.name : "another person";
}

// An enrolled face's crop (the key needs BIOMETRICS; without it, none is shown).
async function cropImage(faceId, alt) {
  const response = await fetch(`/faces/${faceId}/crop.jpg`, { headers: headers() }).catch(() => null);
  if (!response || !response.ok) return null;
  return element("img", { class: "crop", src: URL.createObjectURL(await response.blob()), alt });
}

// The photo with its faces numbered, as the question's choices name them.
async function numberedFaces(file, boxes) {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" }).catch(() => null);
  if (!bitmap) return null;
  const scale = Math.min(1, 480 / bitmap.width);
  const canvas = element("canvas", { class: "faces", role: "img", "aria-label": `the photo, its ${boxes.length} faces numbered from the left` });
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  const context = canvas.getContext("2d");
  context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  context.lineWidth = 3;
  context.font = "bold 18px system-ui, sans-serif";
  boxes.forEach((box, index) => {
    const [x, y, width, height] = [box.x, box.y, box.width, box.height].map((value) => value * scale);
    context.strokeStyle = context.fillStyle = "#2456d6";
    context.strokeRect(x, y, width, height);
    context.fillRect(x, Math.max(0, y - 24), 24, 24);
    context.fillStyle = "#fff";
    context.fillText(String(index + 1), x + 6, Math.max(18, y - 5));
  });
  return canvas;
}

// One photo for `target` ({id, name}): [class, text] of how it ended.
async function enrolOne(file, target, row, bar) {
  let person = target;
  const allow = { other: false, same: false, low: false, face: null };
  for (;;) {
    try {
      const variables = { person: person.id, other: !allow.other, same: !allow.same, low: allow.low, face: allow.face };
      await gqlUpload(CREATE_FACE, variables, file, (share) => (bar.value = share));
      bar.value = 1;
      return ["ok", `enrolled for ${person.name}`];
    } catch (error) {
      const found = error.extensions;
      let answer = null;
      if (error.code === "TOO_MANY_FACES" && found.faces) {
        const choices = found.faces.map((box, index) => [`Face ${index + 1}`, box]);
        const text = `This photo shows ${found.faces.length} faces. Which one is ${person.name}?`;
        answer = await ask(row, text, [...choices, ["Skip this photo", null]], await numberedFaces(file, found.faces));
        allow.face = answer;
      } else if (error.code === "MATCHES_OTHER_PERSON") {
        const other = { id: found.personId, name: await personName(found.personId) };
        const text = `This face looks like ${other.name}, who is already enrolled. Whose photo is it?`;
        const how = element("details", {}, element("summary", {}, "How close"), `distance ${found.distance.toFixed(2)} to a face of ${other.name} (smaller is closer)`);
        const choices = [[`${person.name}'s: enrol it`, person], [`${other.name}'s: enrol it for ${other.name}`, other], ["Skip this photo", null]];
        answer = await ask(row, text, choices, await cropImage(found.faceId, `${other.name}'s enrolled face`), how);
        if (answer) {
          allow.other = true;
          person = answer;
        }
      } else if (error.code === "SAME_IMAGE_ENROLLED") {
        const owner = await personName(found.personId);
        answer = await ask(row, `This exact photo is already enrolled, for ${owner}.`, [["Skip this photo", null], ["Enrol it again", true]]);
        allow.same = answer;
      } else if (error.code === "LOW_QUALITY") {
        const reasons = (found.reasons || [found.reason]).map((reason) => QUALITY_WORDS[reason] || reason).join("; ");
        const text = `This photo is not good enough: ${reasons}. A better photo makes recognition more reliable.`;
        answer = await ask(row, text, [["Skip this photo", null], ["Use it anyway", true]]);
        allow.low = answer;
      } else {
        return ["bad", plainError(error)];
      }
      if (!answer) return ["muted", "skipped: nothing was enrolled"];
    }
  }
}

const PLAIN_ERRORS = {
  BAD_IMAGE: "This file is not a photo we can read (JPEG, PNG or WebP).",
  IMAGE_TOO_LARGE: "This photo is too large.",
  NO_FACE: "No face was found in this photo.",
  RATE_LIMITED: "Too many photos at once: wait a moment and try again.",
  BUSY: "The server is busy: try again in a moment.",
  FORBIDDEN: "This key may not do that.",
};

function plainError(error) {
  return PLAIN_ERRORS[error.code] || error.message;
}

async function enrolFiles(files) {
  const target = await enrolTarget.chosen();
  if (!target) return banner("First type whose photos these are and choose them from the list (or create the person in the Persons tab).");
  banner("");
  // Photos go one after another: the rate limit and the server's queue are shared with everyone.
  const rows = [...files].map((file) => {
    const bar = element("progress", { max: "1", value: "0", "aria-label": `uploading ${file.name}` });
    const status = element("span", { class: "muted", role: "status" }, `waiting (for ${target.name})`);
    const row = element("li", { "data-file": file.name }, element("span", {}, file.name), bar, status);
    $("#uploads").prepend(row);
    return { file, row, bar, status };
  });
  for (const { file, row, bar, status } of rows) {
    status.textContent = "uploading";
    const [kind, text] = await enrolOne(file, target, row, bar);
    status.className = kind;
    status.textContent = text;
  }
  loadCollections().catch(() => {}); // the header's face count
}

function dropZone(zone, input, onFiles) {
  // The zone is a button for the keyboard: Enter or Space opens the file chooser.
  zone.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" && event.key !== " ") return;
    event.preventDefault();
    input.click();
  });
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    onFiles([...event.dataTransfer.files]);
  });
  input.addEventListener("change", () => {
    onFiles([...input.files]); // a copy: clearing the input empties its own list
    input.value = "";
  });
}

dropZone($("#drop-enrol"), $("#enrol-files"), enrolFiles);

// Browsers give pages a camera only on https:// or localhost (a "secure context"); elsewhere
// navigator.mediaDevices does not even exist.
function cameraAllowed() {
  if (window.isSecureContext && navigator.mediaDevices) return true;
  banner(`The camera works only on https:// or on localhost, and this page is ${location.origin}. Open the console over HTTPS (the server behind a TLS proxy: README, "Deployment").`);
  return false;
}

let enrolStream = null;

function stopEnrolCamera() {
  if (!enrolStream) return;
  for (const track of enrolStream.getTracks()) track.stop();
  enrolStream = null;
  $("#enrol-video").srcObject = null;
  $("#enrol-video").hidden = true;
  $("#camera-shoot").hidden = true;
}
$("#camera-start").addEventListener("click", async () => {
  if (!cameraAllowed()) return;
  try {
    enrolStream = await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 } });
  } catch (error) {
    return banner(`The camera is not available: ${error.message}`);
  }
  $("#enrol-video").srcObject = enrolStream;
  $("#enrol-video").hidden = false;
  $("#camera-shoot").hidden = false;
});
// A photo from the camera is shown first; it is enrolled only when the user says so.
$("#camera-shoot").addEventListener("click", async () => {
  if (!$("#enrol-video").videoWidth) return banner("The camera is not ready yet: try again in a moment.");
  const blob = await frameBlob($("#enrol-video"), 0.92);
  const preview = $("#camera-preview");
  const picture = element("img", { src: URL.createObjectURL(blob), alt: "the photo just taken" });
  const choice = await new Promise((resolve) => {
    preview.replaceChildren(
      picture,
      element("div", { class: "row" }, element("button", { onclick: () => resolve(true) }, "Enrol this photo"), element("button", { onclick: () => resolve(false) }, "Retake")),
    );
    preview.hidden = false;
    preview.querySelector("button").focus();
  });
  preview.hidden = true;
  preview.replaceChildren();
  if (choice) enrolFiles([new File([blob], `camera-${new Date().toISOString()}.jpg`, { type: "image/jpeg" })]);
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

// How sure a match is, in words: from its false match rate (how often a stranger comes this close), or,
// without one, from how far under the threshold the distance is.
function confidence(face, threshold) {
  const rate = face.best.falseMatchRate;
  if (rate != null) return rate <= 1e-5 ? "very confident" : rate <= 1e-3 ? "confident" : "probably";
  if (!threshold) return "a match";
  const share = face.best.distance / threshold;
  return share < 0.7 ? "very confident" : share < 0.9 ? "confident" : "probably";
}

function label(face, threshold) {
  return face.match ? `${face.best.person.name} (same person, ${confidence(face, threshold)})` : "not in the gallery";
}

// A verdict a non-expert reads, with the numbers one click away; a stranger's nearest candidate is a
// real person's name, so only a BIOMETRICS key is shown it, behind the same click.
function verdict(face, threshold) {
  const numbers = [];
  if (face.best && (face.match || may("BIOMETRICS"))) {
    numbers.push(`distance ${face.best.distance.toFixed(2)}; the same person is at most ${threshold.toFixed(2)} (smaller is closer)`);
    if (face.best.falseMatchRate != null) numbers.push(`a stranger comes this close once in ${Math.round(1 / Math.max(face.best.falseMatchRate, 1e-9)).toLocaleString("en")} comparisons`);
    if (!face.match) numbers.unshift(`nearest: ${face.best.person.name}`);
  }
  const details = numbers.length ? element("details", {}, element("summary", {}, "Numbers"), numbers.join(" · ")) : "";
  if (face.match) {
    return element("li", {}, element("span", { class: "ok" }, face.best.person.name), `same person, ${confidence(face, threshold)}`, details);
  }
  return element("li", {}, element("span", { class: "bad" }, "Not in the gallery"), "no enrolled person is this close", details);
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
  const canvas = $("#verify-canvas"); // the previous photo and its boxes go at once, whatever this one brings
  canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
  canvas.width = canvas.height = 0;
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" }).catch(() => null);
  try {
    const { recognizeFaces } = await gqlUpload(RECOGNIZE, { collection: collection() }, file, () => {});
    const faces = recognizeFaces.map((answer) => ({ box: answer.probe.box, match: answer.match, best: answer.best, threshold: answer.threshold }));
    $("#verify-status").textContent = `${counted(faces.length, "face")} found.`;
    if (bitmap) {
      canvas.width = bitmap.width;
      canvas.height = bitmap.height;
      const context = canvas.getContext("2d");
      context.drawImage(bitmap, 0, 0);
      drawBoxes(context, faces, Math.max(1, bitmap.width / 800));
    }
    $("#verify-results").replaceChildren(...faces.map((face) => verdict(face, face.threshold)));
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

// The camera, playing in `video`; null (the reason in the banner) when there is none.
async function openCamera(video) {
  if (!cameraAllowed()) return null;
  try {
    const camera = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
    video.srcObject = camera;
    await video.play();
    return camera;
  } catch (error) {
    banner(`The camera is not available: ${error.message}`);
    return null;
  }
}

function socketClient() {
  const key = sessionStorage.getItem(KEY);
  return graphqlWs.createClient({
    url: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`,
    connectionParams: key ? { Authorization: `Bearer ${key}` } : {},
    retryAttempts: 3,
  });
}

// The video's frames to the stream `state.stream` while `state.running`, one more whenever fewer than
// FRAMES_IN_FLIGHT are unanswered: the camera never outruns the server.
function pumpFrames(state, video) {
  const canvas = document.createElement("canvas");
  const pump = () => {
    if (!state.running) return;
    if (state.sent.size < FRAMES_IN_FLIGHT && video.videoWidth) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      canvas.getContext("2d").drawImage(video, 0, 0);
      const jpeg = canvas.toDataURL("image/jpeg", 0.8);
      const frame = state.next++;
      state.sent.set(frame, performance.now());
      const variables = { stream: state.stream, frame, jpeg };
      state.client.subscribe({ query: SEND_FRAME, variables }, { next: () => {}, error: () => state.sent.delete(frame), complete: () => {} });
    }
    requestAnimationFrame(pump);
  };
  setTimeout(pump, 300); // the subscription opens the stream first
}

// Frames up to `frame` are answered (or were replaced by a newer one); the latency of `frame` itself.
function acknowledge(state, frame) {
  let latency = null;
  for (const sent of [...state.sent.keys()]) {
    if (sent <= frame) {
      if (sent === frame) latency = performance.now() - state.sent.get(sent);
      state.sent.delete(sent);
    }
  }
  return latency;
}

function stopCamera(state, video) {
  state.running = false;
  state.unsubscribe && state.unsubscribe();
  state.client.dispose();
  for (const track of state.camera.getTracks()) track.stop();
  video.srcObject = null;
}

async function startLive() {
  const video = $("#live-video");
  const camera = await openCamera(video);
  if (!camera) return;
  const client = socketClient();
  const stream = `console-${Math.random().toString(36).slice(2, 10)}`;
  const state = { client, camera, stream, sent: new Map(), next: 0, latencies: [], answered: [], running: true, seen: null, steady: 0, said: null };
  live = state;
  $("#live-start").disabled = true;
  $("#live-stop").disabled = false;
  $("#live-said").textContent = "Live recognition started.";
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
  pumpFrames(state, video);
}

function showLiveFrame(state, answer) {
  const now = performance.now();
  const latency = acknowledge(state, answer.frame);
  if (latency !== null) state.latencies.push(latency);
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
  sayWhoIsInView(state, answer.faces.map((face) => label(face)).sort().join(", "));
}

// A screen reader hears who is in view when that changes and holds for LIVE_STEADY_FRAMES answers,
// not the name list of every frame (several a second).
const LIVE_STEADY_FRAMES = 3;
function sayWhoIsInView(state, seen) {
  state.steady = seen === state.seen ? state.steady + 1 : 1;
  state.seen = seen;
  if (state.steady === LIVE_STEADY_FRAMES && seen !== state.said) {
    state.said = seen;
    $("#live-said").textContent = seen ? `In view: ${seen}.` : "No one in view.";
  }
}

function stopLive() {
  if (!live) return;
  stopCamera(live, $("#live-video"));
  live = null;
  const overlay = $("#live-overlay"); // no box or name left over a stopped camera
  overlay.getContext("2d").clearRect(0, 0, overlay.width, overlay.height);
  $("#live-names").replaceChildren();
  $("#live-stats").textContent = "stopped";
  $("#live-said").textContent = "Live recognition stopped.";
  $("#live-start").disabled = false;
  $("#live-stop").disabled = true;
}

$("#live-start").addEventListener("click", startLive);
$("#live-stop").addEventListener("click", stopLive);

// ------------------------------------------------------------------ liveness

const START_LIVENESS = `mutation($person: ID, $collection: ID) {
  startLiveness(personId: $person, collection: $collection) { id challenges instructions }
}`;
const LIVENESS = `subscription($session: ID!) {
  livenessCheck(session: $session) {
    frame asked instruction metChallenges secondsLeft
    error { code message }
    result { live failedCheck reason verification { match threshold best { distance falseMatchRate person { name } } } }
  }
}`;
// The person's own directions (their left), as the instructions say.
const ARROWS = { TURN_LEFT: "←", TURN_RIGHT: "→", LOOK_UP: "↑", LOOK_DOWN: "↓", COME_CLOSER: "⤢" };
const NOT_LIVE_WORDS = {
  FRAMES: "the moves asked were not made",
  ONE_FACE: "there must be exactly one face in view",
  FRONTAL: "no face was seen from the front",
  FROZEN: "the picture did not change, as a photo or a frozen video does not",
  TRACK: "the face jumped: it was not one face all along",
  IDENTITY: "the face became someone else's",
  ORDER: "a move was made before the one asked",
  FLAT: "the face moved as a flat photo or a screen does",
  CHALLENGE: "a move asked was not made in time",
};

const livenessTarget = personPicker($("#liveness-person"));
let liveness = null;

async function startLiveness(event) {
  event.preventDefault();
  stopLiveness(true);
  let person = null;
  if (may("READ") && $("#liveness-person").value.trim()) {
    person = await livenessTarget.chosen();
    if (!person) return banner(`There is no one called “${$("#liveness-person").value.trim()}”: choose a person from the list, or leave the field empty.`);
  }
  const video = $("#liveness-video");
  $("#liveness-stage").hidden = false;
  const camera = await openCamera(video);
  if (!camera) return ($("#liveness-stage").hidden = true);
  let session;
  try {
    session = (await gql(START_LIVENESS, { person: person && person.id, collection: collection() })).startLiveness;
  } catch (error) {
    for (const track of camera.getTracks()) track.stop();
    return banner(plainError(error));
  }
  const state = { client: socketClient(), camera, stream: session.id, sent: new Map(), next: 0, running: true, session, person, said: null };
  liveness = state;
  $("#liveness-start").disabled = true;
  $("#liveness-stop").disabled = false;
  $("#liveness-steps").replaceChildren(...session.instructions.map((words, i) => element("li", { "data-challenge": session.challenges[i] }, words)));
  $("#liveness-progress").max = session.challenges.length;
  state.unsubscribe = state.client.subscribe(
    { query: LIVENESS, variables: { session: session.id } },
    {
      next: ({ data, errors }) => {
        if (errors) {
          stopLiveness(false);
          return banner(plainError({ code: errors[0].extensions?.code, message: errors[0].message }));
        }
        showLivenessStep(state, data.livenessCheck);
      },
      error: (error) => banner(`The liveness check stopped: ${error.reason || error.message || error}`),
      complete: () => {},
    },
  );
  pumpFrames(state, video);
}

function instruct(asked, words) {
  const instruction = $("#liveness-instruction");
  if (instruction.dataset.asked === (asked || "") && instruction.querySelector(".words").textContent === words) return;
  instruction.dataset.asked = asked || ""; // a screen reader hears each instruction once, when it changes
  instruction.querySelector(".arrow").textContent = ARROWS[asked] || "";
  instruction.querySelector(".words").textContent = words;
}

function showLivenessStep(state, step) {
  if (liveness !== state) return;
  if (step.frame !== null) acknowledge(state, step.frame);
  $("#liveness-progress").value = step.metChallenges;
  $("#liveness-left").textContent = step.result ? "" : `${Math.ceil(step.secondsLeft)} s left`;
  document.querySelectorAll("#liveness-steps li").forEach((item, i) => {
    item.className = i < step.metChallenges ? "done" : i === step.metChallenges && !step.result ? "now" : "";
  });
  if (step.error) banner(`Frame ${step.frame}: ${plainError(step.error)}`);
  if (!step.result) return instruct(step.asked, step.instruction);
  instruct(null, step.result.live ? "Done: thank you." : "The check failed.");
  $("#liveness-result").replaceChildren(...livenessVerdict(state, step.result));
  stopLiveness(false);
}

function livenessVerdict(state, result) {
  if (!result.live) {
    const why = NOT_LIVE_WORDS[result.failedCheck] || result.reason;
    return [element("p", { class: "bad" }, `Not live: ${why}.`), element("details", {}, element("summary", {}, "Details"), result.reason)];
  }
  const shown = [element("p", { class: "ok" }, "A live person.")];
  const verified = result.verification;
  if (verified && state.person) {
    const name = state.person.name;
    shown.push(
      verified.match
        ? element("p", { class: "ok" }, `Same person as ${name} (${confidence(verified, verified.threshold)}).`)
        : element("p", { class: "bad" }, `Not ${name}.`),
    );
  }
  return shown;
}

// Stop the camera and the session; `clear`: forget what it showed too (a new check, or another tab).
function stopLiveness(clear) {
  if (liveness) stopCamera(liveness, $("#liveness-video"));
  liveness = null;
  $("#liveness-stage").hidden = true; // no black box where the camera was
  $("#liveness-start").disabled = false;
  $("#liveness-stop").disabled = true;
  $("#liveness-left").textContent = "";
  if (!clear) return;
  $("#liveness-result").replaceChildren();
  $("#liveness-steps").replaceChildren();
  $("#liveness-progress").value = 0;
  instruct(null, "Press Start check, then look straight at the camera.");
}

$("#liveness-form").addEventListener("submit", startLiveness);
$("#liveness-stop").addEventListener("click", () => {
  stopLiveness(false);
  instruct(null, "Stopped.");
});

// ------------------------------------------------------------------ start

async function start() {
  const health = await fetch("/healthz").then((r) => r.json()).catch(() => ({}));
  const authOn = health.auth !== "off";
  model = health.model || "";
  $("#model").textContent = model;
  if (authOn && !sessionStorage.getItem(KEY)) return askForKey();
  $("#forget-key").hidden = !authOn;
  try {
    allowed = (await gql("{ me { allowed } }")).me.allowed;
  } catch (error) {
    return banner(plainError(error));
  }
  // A VERIFY-only key has no collections to list: its Verify and Live tabs use its default one.
  if (may("READ")) await loadCollections().catch((error) => banner(plainError(error)));
  showWhatTheKeyMay(); // and opens the tab the URL names, or the first the key may use
}

start();
