// The coach console: Bookings, Schedule and Insights of one brand, for its instructors and admins.
// Every change goes through the public API with the signed-in user's token; what the API refuses is
// shown as it words it, in the status region.
import { api, ApiError } from "./api.js";
import { startLanguage } from "./i18n.js";
import { element, listenForEmbedder, money, tokenFromFragment } from "./page.js";
import { dayAndTime, hhmm, localDate } from "./time.js";

const config = JSON.parse(document.getElementById("config").textContent);
startLanguage(config);
const $ = (id) => document.getElementById(id);

const state = {
  token: null, // in memory only: never stored, never in a URL
  me: null, // { brand_admin, instructor_id }, as GET /console/{slug}/me answers
  instructors: [],
  view: "bookings",
  list: "upcoming",
  cursor: null, // the bookings list's next page
  availability: null, // the chosen instructor's, as GET …/availability last answered
};

function say(message) {
  $("status").textContent = message;
}

// Runs an action; an API refusal is shown verbatim, anything else is a bug and is thrown.
async function attempt(action) {
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    say(error.message);
    return undefined;
  }
}

function call(path, options = {}) {
  return api(path, { token: state.token, ...options });
}

// --- signing in ------------------------------------------------------------------------------------

function offerSignIn() {
  const parts = [element("p", { textContent: "Sign in as an instructor or an admin of this brand." })];
  if (config.signInUrl) {
    const back = encodeURIComponent(location.href);
    const joiner = config.signInUrl.includes("?") ? "&" : "?";
    parts.push(element("a", { href: `${config.signInUrl}${joiner}redirect_to=${back}`, textContent: "Sign in" }));
  }
  if (config.demoInstructorToken) {
    parts.push(element("button", { type: "button", textContent: "Continue as demo instructor", onclick: () => signIn(config.demoInstructorToken) }));
  }
  if (config.demoBrandAdminToken) {
    parts.push(element("button", { type: "button", textContent: "Continue as demo brand admin", onclick: () => signIn(config.demoBrandAdminToken) }));
  }
  $("sign-in").replaceChildren(...parts);
  $("sign-in").hidden = false;
}

async function signIn(token) {
  state.token = token;
  say("");
  const me = await attempt(() => call(`/console/${encodeURIComponent(config.brandSlug)}/me`));
  if (!me) return;
  state.me = me;
  $("sign-in").hidden = true;
  const data = await attempt(() => api("/api/instructors", { params: { brand_id: config.brandId } }));
  state.instructors = data ? data.instructors : [];
  const own = state.instructors.find((i) => i.id === me.instructor_id);
  $("who").textContent = me.brand_admin ? "Signed in as a brand admin." : `Signed in as ${own ? own.name : "an instructor"}.`;
  if (me.brand_admin) {
    $("instructor").replaceChildren(
      element("option", { value: "", textContent: "All instructors" }),
      ...state.instructors.map((i) => element("option", { value: i.id, textContent: i.name })),
    );
    $("instructor-field").hidden = false;
  }
  $("views").hidden = false;
  await showView(state.view);
}

function chosenInstructor() {
  if (!state.me) return null;
  if (state.me.brand_admin) return $("instructor").value || null;
  return state.me.instructor_id;
}

function instructorOf(id) {
  return state.instructors.find((i) => i.id === id) ?? null;
}

// --- views -----------------------------------------------------------------------------------------

function selectTab(list, chosen) {
  for (const tab of list.querySelectorAll('[role="tab"]')) tab.setAttribute("aria-selected", String(tab === chosen));
}

async function showView(view) {
  state.view = view;
  selectTab($("views"), $(`tab-${view}`));
  for (const name of ["bookings", "schedule", "insights"]) $(`panel-${name}`).hidden = name !== view;
  if (view === "bookings") await loadBookings();
  else if (view === "schedule") await loadSchedule();
  else await loadInsights();
  document.body.dataset.view = view;
}

// --- bookings --------------------------------------------------------------------------------------

// Each list: what is asked of the API, what of the answer is kept, and in what order it is shown.
const LISTS = {
  upcoming: {
    params: () => ({ from: new Date().toISOString() }),
    keep: (b) => b.status === "pending" || b.status === "confirmed",
    order: 1,
  },
  awaiting: { params: () => ({ status: "pending", payment_status: "unpaid" }), keep: () => true, order: 1 },
  past: {
    params: () => ({ to: new Date().toISOString(), order: "desc" }),
    keep: (b) => b.status !== "cancelled",
    order: -1,
  },
  cancelled: { params: () => ({ status: "cancelled", order: "desc" }), keep: () => true, order: -1 },
};

const STATUS_WORDS = { pending: "Pending", confirmed: "Confirmed", completed: "Completed", cancelled: "Cancelled", no_show: "No-show" };

function fractionDigits() {
  return new Intl.NumberFormat(undefined, { style: "currency", currency: config.currency.toUpperCase() }).resolvedOptions().maximumFractionDigits;
}

let bookingsAsked = 0;

async function loadBookings(more = false) {
  const asked = ++bookingsAsked;
  const list = LISTS[state.list];
  const params = { brand_id: config.brandId, limit: "100", ...list.params() };
  const instructor = chosenInstructor();
  if (instructor) params.instructor_id = instructor;
  const q = $("search").value.trim();
  if (q) params.q = q;
  if (more && state.cursor) params.cursor = state.cursor;
  const data = await attempt(() => call("/api/bookings", { params }));
  if (asked !== bookingsAsked) return; // another list or filter was asked for meanwhile
  if (!data) {
    $("booking-list").replaceChildren();
    return;
  }
  state.cursor = data.next_cursor;
  const kept = data.bookings.filter(list.keep).sort((a, b) => list.order * (new Date(a.starts_at) - new Date(b.starts_at)));
  const box = $("booking-list");
  let ul = box.querySelector("ul");
  if (!more || !ul) {
    ul = element("ul", { className: "rows", attributes: { "aria-label": "Bookings" } });
    box.replaceChildren(ul);
  }
  box.querySelector(".more")?.remove();
  ul.append(...kept.map(bookingRow));
  if (ul.children.length === 0) box.replaceChildren(element("p", { textContent: "No bookings here." }));
  if (state.cursor) box.append(element("button", { type: "button", className: "more", textContent: "Show more", onclick: () => loadBookings(true) }));
}

function studentText(b) {
  const name = b.student_name ?? "";
  const email = b.student_email ?? "";
  return name && email ? `${name} <${email}>` : name || email || "A student";
}

function paymentText(b) {
  const price = b.price ? ` ${money(b.price.amount, b.price.currency)}` : "";
  return `${b.payment_status === "paid" ? "paid" : "unpaid"}${price}`;
}

function bookingRow(b) {
  const zone = b.instructor_timezone;
  const when = `${dayAndTime(b.starts_at, zone)} (${zone})`;
  const who = state.me.brand_admin ? ` with ${instructorOf(b.instructor_id)?.name ?? "an instructor"}` : "";
  const notesId = `notes-${b.id}`;
  const summary = element("span", { className: "summary", id: `booking-${b.id}` }, `${when}${who}: ${studentText(b)} — ${STATUS_WORDS[b.status] ?? b.status}, ${paymentText(b)}`);
  const active = b.status === "pending" || b.status === "confirmed";
  const actions = element("div", { className: "actions" });
  if (active) {
    for (const [label, status] of [["Completed", "completed"], ["No-show", "no_show"], ["Cancel", "cancelled"]]) {
      actions.append(element("button", { type: "button", textContent: label, attributes: { "aria-describedby": summary.id }, onclick: () => setStatus(b, status, label) }));
    }
  }
  const notes = element("input", { type: "text", id: notesId, value: b.instructor_notes ?? "" });
  const notesField = element(
    "div",
    { className: "notes" },
    element("label", { htmlFor: notesId, textContent: "Notes" }),
    notes,
    element("button", { type: "button", textContent: "Save notes", attributes: { "aria-describedby": summary.id }, onclick: () => saveNotes(b, notes.value) }),
  );
  return element("li", { className: "row", dataset: { id: b.id } }, summary, actions, notesField);
}

async function setStatus(b, status, label) {
  const changed = await attempt(() => call(`/api/bookings/${b.id}`, { method: "PATCH", body: { status } }));
  if (!changed) return;
  say(`${label}: ${dayAndTime(b.starts_at, b.instructor_timezone)}, ${studentText(b)} is now ${STATUS_WORDS[changed.booking.status] ?? changed.booking.status}.`);
  await loadBookings();
}

async function saveNotes(b, text) {
  const changed = await attempt(() => call(`/api/bookings/${b.id}`, { method: "PATCH", body: { instructor_notes: text } }));
  if (changed) say(`Notes saved for ${dayAndTime(b.starts_at, b.instructor_timezone)}, ${studentText(b)}.`);
}

// --- schedule --------------------------------------------------------------------------------------

const WEEKDAYS = [
  [1, "Monday"],
  [2, "Tuesday"],
  [3, "Wednesday"],
  [4, "Thursday"],
  [5, "Friday"],
  [6, "Saturday"],
  [0, "Sunday"],
];

const SETTINGS = [
  ["session_minutes", "Session minutes"],
  ["buffer_minutes", "Buffer minutes"],
  ["slot_interval_minutes", "Slot interval minutes", true],
  ["advance_booking_days", "Advance booking days"],
  ["min_notice_minutes", "Minimum notice minutes"],
  ["cancellation_cutoff_hours", "Cancellation cutoff hours"],
  ["reschedule_cutoff_hours", "Reschedule cutoff hours"],
  ["payment_hold_minutes", "Payment hold minutes"],
  ["max_bookings_per_day", "Max bookings per day", true],
  ["max_bookings_per_week", "Max bookings per week", true],
  ["price_amount", "Price", true],
  ["refund_percent", "Refund percent"],
  ["location", "Location", true],
];

function scheduleZone() {
  return state.availability?.timezone ?? "UTC";
}

async function loadSchedule() {
  const id = chosenInstructor();
  const parts = ["hours-form", "time-off-form", "settings-form", "preview-heading", "preview", "check-form"];
  for (const part of parts) $(part).hidden = !id;
  if (!id) {
    $("schedule-zone").textContent = "Choose an instructor to see their schedule.";
    return;
  }
  const data = await attempt(() => call(`/api/instructors/${id}/availability`, { params: { brand_id: config.brandId } }));
  if (!data) {
    for (const part of parts) $(part).hidden = true;
    return;
  }
  state.availability = data;
  const name = instructorOf(id)?.name ?? "The instructor";
  $("schedule-zone").textContent = `${name}'s schedule, in ${data.timezone}.`;
  renderWeekly(data.weekly);
  renderOverrides(data.overrides);
  renderSettings(data.settings);
  if (!$("check-date").value) $("check-date").value = localDate(new Date(), data.timezone);
  await loadPreview();
}

// A time input cannot show 24:00: a window ending at midnight shows (and is sent back from) 00:00.
const shownTime = (hhmmText) => (hhmmText === "24:00" ? "00:00" : hhmmText);
const sentEnd = (value) => (value === "00:00" ? "24:00" : value);

function renderWeekly(weekly) {
  $("weekly").replaceChildren(
    ...WEEKDAYS.map(([weekday, name]) => {
      const windows = element("div", { className: "windows" });
      for (const w of weekly.filter((x) => x.weekday === weekday)) windows.append(windowRow(name, w.start_time, w.end_time));
      const add = element("button", {
        type: "button",
        textContent: "Add window",
        onclick: () => {
          const last = windows.lastElementChild;
          const start = last ? last.querySelector(".to").value || "09:00" : "09:00";
          const row = windowRow(name, start, "17:00");
          windows.append(row);
          row.querySelector("input").focus();
        },
      });
      return element("fieldset", { className: "day", dataset: { weekday: String(weekday) } }, element("legend", { textContent: name }), windows, add);
    }),
  );
}

let windowCount = 0;

function windowRow(day, start, end) {
  const n = ++windowCount;
  const from = element("input", { type: "time", id: `from-${n}`, className: "from", value: start, required: true });
  const to = element("input", { type: "time", id: `to-${n}`, className: "to", value: shownTime(end), required: true });
  const row = element(
    "div",
    { className: "window" },
    element("div", { className: "field" }, element("label", { htmlFor: from.id, textContent: `${day} from` }), from),
    element("div", { className: "field" }, element("label", { htmlFor: to.id, textContent: `${day} to` }), to),
  );
  const remove = element("button", {
    type: "button",
    className: "align-end",
    textContent: "Remove",
    attributes: { "aria-label": `Remove ${day} window` },
    onclick: () => {
      const fieldset = row.closest("fieldset");
      row.remove();
      fieldset.querySelector("button").focus();
    },
  });
  row.append(remove);
  return row;
}

function weeklyFromForm() {
  const weekly = [];
  for (const fieldset of $("weekly").querySelectorAll("fieldset")) {
    for (const row of fieldset.querySelectorAll(".window")) {
      weekly.push({ weekday: Number(fieldset.dataset.weekday), start_time: row.querySelector(".from").value, end_time: sentEnd(row.querySelector(".to").value) });
    }
  }
  return weekly;
}

async function saveAvailability(body, done) {
  const id = chosenInstructor();
  const data = await attempt(() => call(`/api/instructors/${id}/availability`, { method: "PUT", body: { brand_id: config.brandId, ...body } }));
  if (!data) return false;
  state.availability = { ...data, overrides: state.availability.overrides };
  say(done);
  return true;
}

async function saveHours(event) {
  event.preventDefault();
  const weekly = weeklyFromForm();
  if (weekly.some((w) => !w.start_time || !w.end_time)) {
    say("Each window needs a start and an end time.");
    return;
  }
  if (await saveAvailability({ weekly }, "Hours saved.")) {
    renderWeekly(state.availability.weekly);
    await loadPreview();
  }
}

// Every date from `from` to `to`, both included (YYYY-MM-DD, no zone: calendar dates).
function datesBetween(from, to) {
  const dates = [];
  for (let day = Date.parse(`${from}T00:00:00Z`); day <= Date.parse(`${to}T00:00:00Z`); day += 86400000) {
    dates.push(new Date(day).toISOString().slice(0, 10));
  }
  return dates;
}

const dateFormat = new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", weekday: "short", day: "numeric", month: "short", year: "numeric" });
const dayFormat = new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", weekday: "short", day: "numeric", month: "short" });
const calendarDate = (text) => dateFormat.format(new Date(`${text}T12:00:00Z`));

async function blockDates(event) {
  event.preventDefault();
  const from = $("off-from").value;
  const to = $("off-to").value || from;
  if (!from) {
    say("From: the first date off.");
    $("off-from").focus();
    return;
  }
  const dates = datesBetween(from, to);
  if (dates.length === 0 || dates.length > 366) {
    say("To: a date from From on, at most a year later.");
    return;
  }
  const overrides = dates.map((date) => ({ date, kind: "blocked" }));
  const days = dates.length === 1 ? calendarDate(from) : `${calendarDate(from)} to ${calendarDate(to)}`;
  if (await saveAvailability({ overrides }, `Blocked ${days}.`)) await reloadOverridesAndPreview();
}

async function clearOverride(date) {
  if (await saveAvailability({ overrides: [{ date, kind: "clear" }] }, `Cleared ${calendarDate(date)}.`)) await reloadOverridesAndPreview();
}

async function reloadOverridesAndPreview() {
  const id = chosenInstructor();
  const data = await attempt(() => call(`/api/instructors/${id}/availability`, { params: { brand_id: config.brandId } }));
  if (data) {
    state.availability = data;
    renderOverrides(data.overrides);
  }
  await loadPreview();
}

function renderOverrides(overrides) {
  const byDate = new Map();
  for (const o of overrides) byDate.set(o.date, [...(byDate.get(o.date) ?? []), o]);
  if (byDate.size === 0) {
    $("overrides").replaceChildren(element("li", { textContent: "No dates off." }));
    return;
  }
  $("overrides").replaceChildren(
    ...[...byDate].map(([date, entries]) => {
      const what = entries.map((o) => (o.kind === "blocked" ? "blocked" : `${o.start_time} to ${o.end_time}`)).join(", ");
      const label = element("span", { id: `override-${date}` }, `${calendarDate(date)}: ${what}`);
      const clear = element("button", { type: "button", textContent: "Clear", attributes: { "aria-describedby": label.id }, onclick: () => clearOverride(date) });
      return element("li", { dataset: { date } }, label, " ", clear);
    }),
  );
}

function renderSettings(settings) {
  $("settings").replaceChildren(
    ...SETTINGS.map(([name, label]) => {
      const id = `setting-${name}`;
      let value = settings[name];
      let text = label;
      const input = element("input", { id, name });
      if (name === "location") {
        input.type = "text";
      } else {
        input.type = "number";
        input.inputMode = "numeric";
        input.min = "0";
      }
      if (name === "price_amount") {
        const digits = fractionDigits();
        text = `Price (${config.currency.toUpperCase()})`;
        input.step = String(1 / 10 ** digits);
        input.inputMode = "decimal";
        if (value !== null) value = (value / 10 ** digits).toFixed(digits);
      }
      input.value = value === null || value === undefined ? "" : String(value);
      return element("div", { className: "field" }, element("label", { htmlFor: id, textContent: text }), input);
    }),
  );
}

function settingsFromForm() {
  const settings = {};
  for (const [name, , nullable] of SETTINGS) {
    const raw = $(`setting-${name}`).value.trim();
    if (raw === "") {
      if (nullable) settings[name] = null;
      continue;
    }
    if (name === "location") settings[name] = raw;
    else if (name === "price_amount") settings[name] = Math.round(Number(raw) * 10 ** fractionDigits());
    else settings[name] = Number(raw);
  }
  return settings;
}

async function saveSettings(event) {
  event.preventDefault();
  const settings = settingsFromForm();
  const wrong = Object.entries(settings).find(([name, value]) => name !== "location" && value !== null && !Number.isFinite(value));
  if (wrong) {
    say(`${wrong[0]}: a number.`);
    return;
  }
  if (await saveAvailability({ settings }, "Settings saved.")) {
    renderSettings(state.availability.settings);
    await loadPreview();
  }
}

let previewAsked = 0;

// The next 14 days' slots, in the instructor's own zone, a line a day.
async function loadPreview() {
  const asked = ++previewAsked;
  const id = chosenInstructor();
  const zone = scheduleZone();
  const first = localDate(new Date(), zone);
  const dates = datesBetween(first, new Date(Date.parse(`${first}T00:00:00Z`) + 13 * 86400000).toISOString().slice(0, 10));
  const params = { brand_id: config.brandId, from: dates[0], to: dates[dates.length - 1], timezone: zone };
  const data = await attempt(() => call(`/api/instructors/${id}/slots`, { params }));
  if (asked !== previewAsked || !data) return;
  const byDate = new Map(dates.map((d) => [d, []]));
  for (const slot of data.slots) byDate.get(localDate(slot.starts_at, zone))?.push(hhmm(slot.starts_at, zone));
  $("preview").replaceChildren(
    ...[...byDate].map(([date, starts]) =>
      element("li", { dataset: { date } }, `${dayFormat.format(new Date(`${date}T12:00:00Z`))}: ${starts.length ? starts.join(", ") : "no free times"}`),
    ),
  );
  $("preview").dataset.loaded = String(asked);
}

// The instant of a wall-clock date and time in `zone` (the later of two in a repeated hour).
function zoneOffset(instant, zone) {
  const parts = new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" }).formatToParts(new Date(instant));
  const part = (type) => Number(parts.find((p) => p.type === type).value);
  return Date.UTC(part("year"), part("month") - 1, part("day"), part("hour"), part("minute"), part("second")) - instant;
}

function zonedInstant(date, time, zone) {
  const [y, m, d] = date.split("-").map(Number);
  const [hh, mm] = time.split(":").map(Number);
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  let guess = wall - zoneOffset(wall, zone);
  guess = wall - zoneOffset(guess, zone);
  return new Date(guess).toISOString();
}

async function checkTime(event) {
  event.preventDefault();
  const date = $("check-date").value;
  const time = $("check-time").value;
  if (!date || !time) {
    say("Check a time: a date and a time.");
    return;
  }
  const zone = scheduleZone();
  const params = { brand_id: config.brandId, starts_at: zonedInstant(date, time, zone), duration_minutes: String(state.availability.settings.session_minutes) };
  const data = await attempt(() => call(`/api/instructors/${chosenInstructor()}/slots/explain`, { params }));
  if (!data) {
    $("explanation").replaceChildren();
    return;
  }
  const when = `${dayAndTime(params.starts_at, zone)} (${zone})`;
  const heading = element("p", { className: "verdict", textContent: data.bookable ? `${when}: bookable.` : `${when}: not bookable.` });
  const reasons = element("ul", { className: "reasons" }, ...data.reasons.map((r) => reasonItem(r, zone)));
  $("explanation").replaceChildren(heading, ...(data.reasons.length ? [reasons] : []));
}

function reasonItem(reason, zone) {
  const item = element("li", { dataset: { code: reason.code } }, reason.message);
  const details = reason.details ?? {};
  const blockers = [
    ...(details.bookings ?? []).map((b) => `A booking at ${dayAndTime(b.starts_at, zone)}, blocking until ${hhmm(b.blocked_until, zone)}`),
    ...(details.busy ?? []).map((b) => `Busy in a calendar from ${dayAndTime(b.starts_at, zone)} to ${hhmm(b.ends_at, zone)}`),
  ];
  if (blockers.length) item.append(element("ul", {}, ...blockers.map((text) => element("li", { textContent: text }))));
  return item;
}

// --- insights --------------------------------------------------------------------------------------

async function loadInsights() {
  if (!$("insights-to").value) {
    // Eight weeks back and four ahead: what happened, and what is booked.
    const today = Date.parse(`${localDate(new Date(), "UTC")}T00:00:00Z`);
    $("insights-from").value = new Date(today - 56 * 86400000).toISOString().slice(0, 10);
    $("insights-to").value = new Date(today + 27 * 86400000).toISOString().slice(0, 10);
  }
  const params = { from: $("insights-from").value, to: $("insights-to").value };
  const data = await attempt(() => call(`/api/brands/${config.brandId}/insights`, { params }));
  if (!data) {
    $("insights").replaceChildren();
    return;
  }
  let rows = data.instructors;
  if (!state.me.brand_admin) rows = rows.filter((r) => r.instructor_id === state.me.instructor_id);
  else if (chosenInstructor()) rows = rows.filter((r) => r.instructor_id === chosenInstructor());
  $("insights").replaceChildren(insightsTable(rows, data.currency), weeksChart(data.weeks));
}

const COLUMNS = [
  ["name", "Instructor"],
  ["sessions", "Sessions"],
  ["hours", "Hours"],
  ["completed", "Completed"],
  ["no_show", "No-shows"],
  ["cancelled_by_student", "Cancelled by student"],
  ["cancelled_by_staff", "Cancelled by staff"],
  ["expired_holds", "Expired holds"],
  ["no_show_rate", "No-show rate"],
  ["revenue_paid", "Revenue paid"],
  ["revenue_refunded", "Revenue refunded"],
];

function cell(key, value, currency) {
  if (value === null || value === undefined) return "—";
  if (key === "no_show_rate") return new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 1 }).format(value);
  if (key.startsWith("revenue")) return money(value, currency);
  if (typeof value === "number") return new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 }).format(value);
  return String(value);
}

function insightsTable(rows, currency) {
  const head = element("tr", {}, ...COLUMNS.map(([, label]) => element("th", { scope: "col", textContent: label })));
  const body = rows.map((row) =>
    element("tr", {}, ...COLUMNS.map(([key], index) => element(index === 0 ? "th" : "td", { textContent: cell(key, row[key], currency), ...(index === 0 ? { scope: "row" } : {}) }))),
  );
  if (rows.length === 0) body.push(element("tr", {}, element("td", { colSpan: COLUMNS.length, textContent: "No sessions in these dates." })));
  return element(
    "div",
    { className: "table-wrap", tabIndex: 0, attributes: { role: "region", "aria-label": "Insights by instructor" } },
    element("table", { id: "insights-table" }, element("caption", { textContent: "By instructor" }), element("thead", {}, head), element("tbody", {}, ...body)),
  );
}

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  node.append(...children);
  return node;
}

// Sessions a week as bars; its text alternative is the title and a description listing every week.
function weeksChart(weeks) {
  const width = 640;
  const height = 200;
  const top = Math.max(1, ...weeks.map((w) => w.sessions));
  const step = weeks.length ? (width - 40) / weeks.length : 0;
  const weekLabel = (w) => dayFormat.format(new Date(`${w.week_start}T12:00:00Z`));
  const described = weeks.map((w) => `week of ${weekLabel(w)}: ${w.sessions}`).join("; ") || "no weeks";
  const chart = svg(
    "svg",
    { viewBox: `0 0 ${width} ${height + 30}`, role: "img", "aria-labelledby": "chart-title chart-desc", class: "chart" },
    svg("title", { id: "chart-title" }, "Sessions per week"),
    svg("desc", { id: "chart-desc" }, `Sessions per week, ${described}.`),
    ...weeks.flatMap((w, index) => {
      const barHeight = Math.round((w.sessions / top) * (height - 20));
      const x = 20 + index * step;
      return [
        svg("rect", { x: x + 4, y: height - barHeight, width: Math.max(2, step - 8), height: barHeight, class: "bar" }),
        svg("text", { x: x + step / 2, y: height - barHeight - 4, "text-anchor": "middle", class: "count" }, String(w.sessions)),
        svg("text", { x: x + step / 2, y: height + 18, "text-anchor": "middle", class: "week" }, weekLabel(w)),
      ];
    }),
  );
  return element("figure", { className: "weeks" }, chart, element("figcaption", { textContent: "Sessions per week (weeks start on Monday)" }));
}

// --- start -----------------------------------------------------------------------------------------

function setUpControls() {
  for (const [view] of [["bookings"], ["schedule"], ["insights"]]) $(`tab-${view}`).addEventListener("click", () => showView(view));
  for (const tab of $("lists").querySelectorAll('[role="tab"]')) {
    tab.addEventListener("click", () => {
      state.list = tab.dataset.list;
      selectTab($("lists"), tab);
      loadBookings();
    });
  }
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadBookings();
  });
  $("instructor").addEventListener("change", () => showView(state.view));
  $("hours-form").addEventListener("submit", saveHours);
  $("time-off-form").addEventListener("submit", blockDates);
  $("settings-form").addEventListener("submit", saveSettings);
  $("check-form").addEventListener("submit", checkTime);
  $("insights-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadInsights();
  });
}

async function start() {
  setUpControls();
  listenForEmbedder(config.embedOrigins, signIn);
  const token = tokenFromFragment();
  if (token) await signIn(token);
  else offerSignIn();
  document.body.dataset.ready = "true";
}

start();
