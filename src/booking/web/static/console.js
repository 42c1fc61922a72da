// The coach console: Bookings, Schedule and Insights of one brand, for its instructors and admins, and
// Activity (the brand's audit log) for its admins.
// Every change goes through the public API with the signed-in user's token; what the API refuses is
// shown in the status region, in the page's language, by its error code. Every text is `t("console.…")`;
// what the script writes itself is kept as data and written again when the Language select switches.
// Times of day are 24-hour HH:MM in every language; dates, weekdays, numbers and money are `Intl`'s.
import { api, ApiError } from "./api.js";
import { currentLocale, errorText, onLocaleChange, startLanguage, t } from "./i18n.js";
import { element, listenForEmbedder, money, tokenFromFragment } from "./page.js";
import { browserZone, dayAndTime, dayMonthYear, hhmm, localDate } from "./time.js";

const config = JSON.parse(document.getElementById("config").textContent);
startLanguage(config);
const $ = (id) => document.getElementById(id);

const PREVIEW_DAYS = 14; // as the page's "Next 14 days" heading says (console.py)

const state = {
  token: null, // in memory only: never stored, never in a URL
  me: null, // { brand_admin, instructor_id, user_id }, as GET /console/{slug}/me answers
  instructors: [],
  view: "bookings",
  list: "upcoming",
  cursor: null, // the bookings list's next page
  bookings: null, // the bookings shown, as the API answered them (null: none asked for yet)
  availability: null, // the chosen instructor's, as GET …/availability last answered
  preview: null, // [[date, [HH:MM…]]…], the next 14 days' free times
  explanation: null, // { data, startsAt, zone }: the last Check a time
  insights: null, // { rows, currency, weeks }
  activity: null, // the audit entries shown, newest first, as the API answered them (null: none asked for)
  activityCursor: null, // the audit log's next page
  activityTarget: null, // { type, id }: the one target whose entries are shown, or null for all
  activitySpan: {}, // { from, to } (instants) of the list shown: its next pages are asked with the same
};

// The status region's text, kept as a function so that it is written again in a new language.
let said = () => "";

function say(text) {
  said = typeof text === "function" ? text : () => text;
  $("status").textContent = said();
}

// Runs an action; an API refusal is shown by its code, anything else is a bug and is thrown.
async function attempt(action) {
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    say(() => errorText(error));
    return undefined;
  }
}

function call(path, options = {}) {
  return api(path, { token: state.token, ...options });
}

// Formats made at each use: the page's language may have changed since the last. English dates are
// written the international (British) way, day before month, as time.js writes them.
const dateLocale = () => (currentLocale() === "en" ? "en-GB" : currentLocale());
const calendarDay = (text) => new Date(`${text}T12:00:00Z`); // a YYYY-MM-DD date, at noon UTC
const formatDay = (text, options) => new Intl.DateTimeFormat(dateLocale(), { timeZone: "UTC", ...options }).format(calendarDay(text));
const fullDate = (text) => formatDay(text, { weekday: "short", day: "numeric", month: "short", year: "numeric" });
const shortDate = (text) => formatDay(text, { weekday: "short", day: "numeric", month: "short" });
const weekStart = (text) => formatDay(text, { day: "numeric", month: "short" });
const weekNumeric = (text) => formatDay(text, { day: "numeric", month: "numeric" });
const listed = (items) => new Intl.ListFormat(currentLocale(), { type: "unit", style: "short" }).format(items);
const number = (value, options = {}) => new Intl.NumberFormat(currentLocale(), options).format(value);

// The weekday's name in the page's language (0 is Sunday, as the API counts): 1 January 2024 was a Monday.
function weekdayName(weekday) {
  const day = new Date(Date.UTC(2024, 0, weekday === 0 ? 7 : weekday));
  return new Intl.DateTimeFormat(currentLocale(), { weekday: "long", timeZone: "UTC" }).format(day);
}

// --- signing in ------------------------------------------------------------------------------------

function offerSignIn() {
  const parts = [element("p", { textContent: t("console.sign_in_prompt") })];
  if (config.signInUrl) {
    const back = encodeURIComponent(location.href);
    const joiner = config.signInUrl.includes("?") ? "&" : "?";
    parts.push(element("a", { href: `${config.signInUrl}${joiner}redirect_to=${back}`, textContent: t("common.sign_in") }));
  }
  if (config.demoInstructorToken) {
    parts.push(element("button", { type: "button", textContent: t("console.demo_instructor"), onclick: () => signIn(config.demoInstructorToken) }));
  }
  if (config.demoBrandAdminToken) {
    parts.push(element("button", { type: "button", textContent: t("console.demo_brand_admin"), onclick: () => signIn(config.demoBrandAdminToken) }));
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
  renderWho();
  if (me.brand_admin) {
    $("instructor").replaceChildren(
      element("option", { value: "", textContent: t("console.all_instructors"), dataset: { i18n: "console.all_instructors" } }),
      ...state.instructors.map((i) => element("option", { value: i.id, textContent: i.name })),
    );
  }
  // Activity is the brand admins' only (the API refuses anyone else the audit log).
  $("tab-activity").hidden = !me.brand_admin;
  if (!me.brand_admin && state.view === "activity") state.view = "bookings";
  $("views").hidden = false;
  await showView(state.view);
}

function renderWho() {
  const me = state.me;
  const own = state.instructors.find((i) => i.id === me.instructor_id);
  if (me.brand_admin) $("who").textContent = t("console.signed_in_admin");
  else $("who").textContent = own ? t("console.signed_in_as", { name: own.name }) : t("console.signed_in_instructor");
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

const VIEWS = ["bookings", "schedule", "insights", "activity"];

async function showView(view) {
  state.view = view;
  selectTab($("views"), $(`tab-${view}`));
  for (const name of VIEWS) $(`panel-${name}`).hidden = name !== view;
  // The Instructor select chooses for every view but Activity (the brand's whole log).
  $("instructor-field").hidden = !state.me.brand_admin || view === "activity";
  if (view === "bookings") await loadBookings();
  else if (view === "schedule") await loadSchedule();
  else if (view === "insights") await loadInsights();
  else await loadActivity();
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

const STATUSES = new Set(["pending", "confirmed", "completed", "cancelled", "no_show"]);
const statusText = (status) => (STATUSES.has(status) ? t(`console.status_${status}`) : status);

// What a staff member may mark a pending or confirmed booking: its button's text and the status sent.
const ACTIONS = [
  ["console.mark_completed", "completed"],
  ["console.mark_no_show", "no_show"],
  ["console.cancel", "cancelled"],
];

function fractionDigits() {
  return new Intl.NumberFormat(currentLocale(), { style: "currency", currency: config.currency.toUpperCase() }).resolvedOptions().maximumFractionDigits;
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
    state.bookings = null;
    $("booking-list").replaceChildren();
    return;
  }
  state.cursor = data.next_cursor;
  const kept = data.bookings.filter(list.keep).sort((a, b) => list.order * (new Date(a.starts_at) - new Date(b.starts_at)));
  state.bookings = more && state.bookings ? [...state.bookings, ...kept] : kept;
  renderBookings();
}

function renderBookings() {
  const box = $("booking-list");
  if (state.bookings === null) return;
  // Notes being written survive a new rendering (a new page of the list, a new language).
  const typed = new Map([...box.querySelectorAll(".notes input")].map((input) => [input.id, input.value]));
  const parts = [];
  if (state.bookings.length === 0) {
    parts.push(element("p", { textContent: t("console.no_bookings") }));
  } else {
    parts.push(element("p", { className: "count", textContent: t("console.bookings_shown", { count: state.bookings.length }) }));
    parts.push(element("ul", { className: "rows", attributes: { "aria-label": t("console.bookings") } }, ...state.bookings.map(bookingRow)));
  }
  if (state.cursor) {
    parts.push(element("button", { type: "button", className: "more", textContent: t("console.show_more"), onclick: () => loadBookings(true) }));
  }
  box.replaceChildren(...parts);
  for (const [id, value] of typed) {
    const input = document.getElementById(id);
    if (input) input.value = value;
  }
}

function studentText(b) {
  const name = b.student_name ?? "";
  const email = b.student_email ?? "";
  return name && email ? `${name} <${email}>` : name || email || t("console.a_student");
}

function paymentText(b) {
  const paid = b.payment_status === "paid";
  if (!b.price) return t(paid ? "console.paid" : "console.unpaid");
  return t(paid ? "console.paid_price" : "console.unpaid_price", { price: money(b.price.amount, b.price.currency) });
}

function bookingRow(b) {
  const zone = b.instructor_timezone;
  const values = { when: dayAndTime(b.starts_at, zone), zone, student: studentText(b), status: statusText(b.status), payment: paymentText(b) };
  const text = state.me.brand_admin
    ? t("console.summary_with", { ...values, instructor: instructorOf(b.instructor_id)?.name ?? t("console.an_instructor") })
    : t("console.summary", values);
  const notesId = `notes-${b.id}`;
  const summary = element("span", { className: "summary", id: `booking-${b.id}` }, text);
  const active = b.status === "pending" || b.status === "confirmed";
  const actions = element("div", { className: "actions" });
  if (active) {
    for (const [key, status] of ACTIONS) {
      actions.append(element("button", { type: "button", textContent: t(key), attributes: { "aria-describedby": summary.id }, onclick: () => setStatus(b, status, key) }));
    }
  }
  const notes = element("input", { type: "text", id: notesId, value: b.instructor_notes ?? "" });
  const notesField = element(
    "div",
    { className: "notes" },
    element("label", { htmlFor: notesId, textContent: t("console.notes") }),
    notes,
    element("button", { type: "button", textContent: t("console.save_notes"), attributes: { "aria-describedby": summary.id }, onclick: () => saveNotes(b, notes.value) }),
  );
  return element("li", { className: "row", dataset: { id: b.id } }, summary, actions, notesField);
}

async function setStatus(b, status, actionKey) {
  const changed = await attempt(() => call(`/api/bookings/${b.id}`, { method: "PATCH", body: { status } }));
  if (!changed) return;
  const now = changed.booking.status;
  say(() => t("console.status_changed", { action: t(actionKey), when: dayAndTime(b.starts_at, b.instructor_timezone), student: studentText(b), status: statusText(now) }));
  await loadBookings();
}

async function saveNotes(b, text) {
  const changed = await attempt(() => call(`/api/bookings/${b.id}`, { method: "PATCH", body: { instructor_notes: text } }));
  if (changed) say(() => t("console.notes_saved", { when: dayAndTime(b.starts_at, b.instructor_timezone), student: studentText(b) }));
}

// --- schedule --------------------------------------------------------------------------------------

const WEEKDAYS = [1, 2, 3, 4, 5, 6, 0]; // Monday first, as the API numbers them (0: Sunday)

// Each setting of §4/§9–§11/§15 and whether it may be emptied (null); its label is `console.setting_<name>`.
const SETTINGS = [
  ["session_minutes"],
  ["buffer_minutes"],
  ["slot_interval_minutes", true],
  ["advance_booking_days"],
  ["min_notice_minutes"],
  ["cancellation_cutoff_hours"],
  ["reschedule_cutoff_hours"],
  ["payment_hold_minutes"],
  ["max_bookings_per_day", true],
  ["max_bookings_per_week", true],
  ["price_amount", true],
  ["refund_percent"],
  ["location", true],
];

const settingLabel = (name) => t(`console.setting_${name}`, { currency: config.currency.toUpperCase() });

function scheduleZone() {
  return state.availability?.timezone ?? "UTC";
}

const SCHEDULE_PARTS = ["hours-form", "time-off-form", "settings-form", "preview-heading", "preview", "check-form"];

async function loadSchedule() {
  const id = chosenInstructor();
  for (const part of SCHEDULE_PARTS) $(part).hidden = !id;
  if (!id) {
    state.availability = null;
    renderScheduleZone();
    return;
  }
  const data = await attempt(() => call(`/api/instructors/${id}/availability`, { params: { brand_id: config.brandId } }));
  if (!data) {
    for (const part of SCHEDULE_PARTS) $(part).hidden = true;
    return;
  }
  state.availability = data;
  state.explanation = null;
  $("explanation").replaceChildren();
  renderScheduleZone();
  renderWeekly(data.weekly);
  renderOverrides();
  renderSettings(data.settings);
  if (!$("check-date").value) $("check-date").value = localDate(new Date(), data.timezone);
  await loadPreview();
}

function renderScheduleZone() {
  const id = chosenInstructor();
  if (!id || !state.availability) {
    $("schedule-zone").textContent = id ? "" : t("console.choose_instructor");
    return;
  }
  const name = instructorOf(id)?.name ?? t("console.instructor");
  $("schedule-zone").textContent = t("console.schedule_of", { name, zone: state.availability.timezone });
}

// Times of day are typed and shown as 24-hour HH:MM in every language (a time input would follow the
// browser's own 12- or 24-hour clock): 24:00 ends a window at midnight.
const CLOCK = /^([01]\d|2[0-3]):[0-5]\d$/;
const isStart = (text) => CLOCK.test(text);
const isEnd = (text) => CLOCK.test(text) || text === "24:00";

function clockInput(id, className, value) {
  return element("input", {
    type: "text",
    id,
    className: `clock ${className}`,
    value,
    required: true,
    inputMode: "numeric",
    autocomplete: "off",
    maxLength: 5,
    pattern: "[0-2][0-9]:[0-5][0-9]",
    title: t("console.time_format"),
  });
}

// `weekly`: [{ weekday, start_time, end_time }], as the API answers or as the form holds them.
function renderWeekly(weekly) {
  $("weekly").replaceChildren(
    ...WEEKDAYS.map((weekday) => {
      const day = weekdayName(weekday);
      const windows = element("div", { className: "windows" });
      for (const w of weekly.filter((x) => x.weekday === weekday)) windows.append(windowRow(day, w.start_time, w.end_time));
      const add = element("button", {
        type: "button",
        className: "add",
        textContent: t("console.add_window"),
        onclick: () => {
          const last = windows.lastElementChild;
          const start = last ? last.querySelector(".to").value || "09:00" : "09:00";
          const row = windowRow(day, start === "24:00" ? "09:00" : start, "17:00");
          windows.append(row);
          row.querySelector("input").focus();
        },
      });
      return element("fieldset", { className: "day", dataset: { weekday: String(weekday) } }, element("legend", { textContent: day }), windows, add);
    }),
  );
}

let windowCount = 0;

function windowRow(day, start, end) {
  const n = ++windowCount;
  const from = clockInput(`from-${n}`, "from", start);
  const to = clockInput(`to-${n}`, "to", end);
  const row = element(
    "div",
    { className: "window" },
    element("div", { className: "field" }, element("label", { htmlFor: from.id, textContent: t("console.day_from", { day }) }), from),
    element("div", { className: "field" }, element("label", { htmlFor: to.id, textContent: t("console.day_to", { day }) }), to),
  );
  const remove = element("button", {
    type: "button",
    className: "align-end",
    textContent: t("console.remove"),
    attributes: { "aria-label": t("console.remove_window", { day }) },
    onclick: () => {
      const fieldset = row.closest("fieldset");
      row.remove();
      fieldset.querySelector("button.add").focus();
    },
  });
  row.append(remove);
  return row;
}

// The form's windows as typed (checked before they are sent).
function weeklyFromForm() {
  const weekly = [];
  for (const fieldset of $("weekly").querySelectorAll("fieldset")) {
    for (const row of fieldset.querySelectorAll(".window")) {
      weekly.push({ weekday: Number(fieldset.dataset.weekday), start_time: row.querySelector(".from").value.trim(), end_time: row.querySelector(".to").value.trim() });
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
    say(() => t("console.window_needs_times"));
    return;
  }
  const wrong = weekly.find((w) => !isStart(w.start_time) || !isEnd(w.end_time));
  if (wrong) {
    say(() => t("console.window_time_format", { day: weekdayName(wrong.weekday) }));
    return;
  }
  if (await saveAvailability({ weekly }, () => t("console.hours_saved"))) {
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

async function blockDates(event) {
  event.preventDefault();
  const from = $("off-from").value;
  const to = $("off-to").value || from;
  if (!from) {
    say(() => t("console.first_date_needed"));
    $("off-from").focus();
    return;
  }
  const dates = datesBetween(from, to);
  if (dates.length === 0 || dates.length > 366) {
    say(() => t("console.date_range"));
    return;
  }
  const overrides = dates.map((date) => ({ date, kind: "blocked" }));
  const done = () => (dates.length === 1 ? t("console.blocked_day", { date: fullDate(from) }) : t("console.blocked_days", { from: fullDate(from), to: fullDate(to) }));
  if (await saveAvailability({ overrides }, done)) await reloadOverridesAndPreview();
}

async function clearOverride(date) {
  if (await saveAvailability({ overrides: [{ date, kind: "clear" }] }, () => t("console.cleared", { date: fullDate(date) }))) await reloadOverridesAndPreview();
}

async function reloadOverridesAndPreview() {
  const id = chosenInstructor();
  const data = await attempt(() => call(`/api/instructors/${id}/availability`, { params: { brand_id: config.brandId } }));
  if (data) {
    state.availability = data;
    renderOverrides();
  }
  await loadPreview();
}

function renderOverrides() {
  const byDate = new Map();
  for (const o of state.availability.overrides) byDate.set(o.date, [...(byDate.get(o.date) ?? []), o]);
  if (byDate.size === 0) {
    $("overrides").replaceChildren(element("li", { textContent: t("console.no_dates_off") }));
    return;
  }
  $("overrides").replaceChildren(
    ...[...byDate].map(([date, entries]) => {
      const what = listed(entries.map((o) => (o.kind === "blocked" ? t("console.override_blocked") : t("console.override_hours", { from: o.start_time, to: o.end_time }))));
      const label = element("span", { id: `override-${date}` }, t("console.override", { date: fullDate(date), what }));
      const clear = element("button", { type: "button", textContent: t("console.clear"), attributes: { "aria-describedby": label.id }, onclick: () => clearOverride(date) });
      return element("li", { dataset: { date } }, label, " ", clear);
    }),
  );
}

// Each setting a labelled input (a price in the currency's main unit, as typed).
function renderSettings(settings) {
  const digits = fractionDigits();
  $("settings").replaceChildren(
    ...SETTINGS.map(([name]) => {
      const id = `setting-${name}`;
      let value = settings[name];
      const input = element("input", { id, name });
      if (name === "location") {
        input.type = "text";
      } else {
        input.type = "number";
        input.inputMode = "numeric";
        input.min = "0";
      }
      if (name === "price_amount") {
        input.step = String(1 / 10 ** digits);
        input.inputMode = "decimal";
        if (value !== null && value !== undefined) value = (value / 10 ** digits).toFixed(digits);
      }
      input.value = value === null || value === undefined ? "" : String(value);
      // Marked: the Language select's applyTexts() writes the label again.
      const label = element("label", { htmlFor: id, textContent: settingLabel(name), dataset: { i18n: `console.setting_${name}`, i18nValues: JSON.stringify({ currency: config.currency.toUpperCase() }) } });
      return element("div", { className: "field" }, label, input);
    }),
  );
}

function settingsFromForm() {
  const settings = {};
  for (const [name, nullable] of SETTINGS) {
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
    say(() => t("console.not_a_number", { setting: settingLabel(wrong[0]) }));
    $(`setting-${wrong[0]}`).focus();
    return;
  }
  if (await saveAvailability({ settings }, () => t("console.settings_saved"))) {
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
  const last = new Date(Date.parse(`${first}T00:00:00Z`) + (PREVIEW_DAYS - 1) * 86400000).toISOString().slice(0, 10);
  const dates = datesBetween(first, last);
  const params = { brand_id: config.brandId, from: first, to: last, timezone: zone };
  const data = await attempt(() => call(`/api/instructors/${id}/slots`, { params }));
  if (asked !== previewAsked || !data) return;
  const byDate = new Map(dates.map((d) => [d, []]));
  for (const slot of data.slots) byDate.get(localDate(slot.starts_at, zone))?.push(hhmm(slot.starts_at, zone));
  state.preview = [...byDate];
  renderPreview();
  $("preview").dataset.loaded = String(asked);
}

function renderPreview() {
  $("preview").replaceChildren(
    ...state.preview.map(([date, starts]) =>
      element("li", { dataset: { date } }, t("console.preview_day", { day: shortDate(date), times: starts.length ? listed(starts) : t("console.no_free_times") })),
    ),
  );
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
  const time = $("check-time").value.trim();
  if (!date || !time) {
    say(() => t("console.check_needs"));
    return;
  }
  if (!isStart(time)) {
    say(() => t("console.check_time_format"));
    $("check-time").focus();
    return;
  }
  const zone = scheduleZone();
  const startsAt = zonedInstant(date, time, zone);
  const params = { brand_id: config.brandId, starts_at: startsAt, duration_minutes: String(state.availability.settings.session_minutes) };
  const data = await attempt(() => call(`/api/instructors/${chosenInstructor()}/slots/explain`, { params }));
  state.explanation = data ? { data, startsAt, zone } : null;
  renderExplanation();
}

function renderExplanation() {
  if (!state.explanation) {
    $("explanation").replaceChildren();
    return;
  }
  const { data, startsAt, zone } = state.explanation;
  const values = { when: dayAndTime(startsAt, zone), zone };
  const heading = element("p", { className: "verdict", textContent: t(data.bookable ? "console.bookable" : "console.not_bookable", values) });
  const reasons = element("ul", { className: "reasons" }, ...data.reasons.map((r) => reasonItem(r, zone)));
  $("explanation").replaceChildren(heading, ...(data.reasons.length ? [reasons] : []));
}

// Each rule of §5 and §10 that a time can fail; another code (none today) shows as an API error would.
const REASONS = new Set([
  "instructor_not_in_brand",
  "in_the_past",
  "too_soon",
  "beyond_booking_window",
  "outside_availability",
  "slot_unavailable",
  "booking_limit_reached",
  "too_many_pending_bookings",
]);

function reasonItem(reason, zone) {
  const text = REASONS.has(reason.code) ? t(`console.reason_${reason.code}`) : errorText({ code: reason.code, status: 409 });
  const item = element("li", { dataset: { code: reason.code } }, text);
  const details = reason.details ?? {};
  const found = [
    ...(details.bookings ?? []).map((b) => t("console.blocker_booking", { when: dayAndTime(b.starts_at, zone), until: hhmm(b.blocked_until, zone) })),
    ...(details.busy ?? []).map((b) => t("console.blocker_busy", { when: dayAndTime(b.starts_at, zone), until: hhmm(b.ends_at, zone) })),
  ];
  if (reason.code === "booking_limit_reached" && (details.period === "day" || details.period === "week")) {
    found.push(t(`console.limit_${details.period}`, { count: details.count, limit: details.limit }));
  }
  if (reason.code === "outside_availability" && Array.isArray(details.windows)) {
    const windows = details.windows.map((w) => `${hhmm(w.starts_at, zone)}–${hhmm(w.ends_at, zone)}`);
    found.push(windows.length ? t("console.hours_that_day", { windows: listed(windows) }) : t("console.no_hours_that_day"));
  }
  if (found.length) item.append(element("ul", {}, ...found.map((line) => element("li", { textContent: line }))));
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
    state.insights = null;
    $("insights").replaceChildren();
    return;
  }
  let rows = data.instructors;
  if (!state.me.brand_admin) rows = rows.filter((r) => r.instructor_id === state.me.instructor_id);
  else if (chosenInstructor()) rows = rows.filter((r) => r.instructor_id === chosenInstructor());
  state.insights = { rows, currency: data.currency, weeks: data.weeks };
  renderInsights();
}

function renderInsights() {
  const { rows, currency, weeks } = state.insights;
  $("insights").replaceChildren(insightsTable(rows, currency), weeksChart(weeks));
}

// Each column: its key in the answer and its heading's key.
const COLUMNS = [
  ["name", "console.instructor"],
  ["sessions", "console.column_sessions"],
  ["hours", "console.column_hours"],
  ["completed", "console.column_completed"],
  ["no_show", "console.column_no_show"],
  ["cancelled_by_student", "console.column_cancelled_by_student"],
  ["cancelled_by_staff", "console.column_cancelled_by_staff"],
  ["expired_holds", "console.column_expired_holds"],
  ["no_show_rate", "console.column_no_show_rate"],
  ["revenue_paid", "console.column_revenue_paid"],
  ["revenue_refunded", "console.column_revenue_refunded"],
];

function cell(key, value, currency) {
  if (value === null || value === undefined) return "—";
  if (key === "no_show_rate") return number(value, { style: "percent", maximumFractionDigits: 1 });
  if (key.startsWith("revenue")) return money(value, currency);
  if (typeof value === "number") return number(value, { maximumFractionDigits: 1 });
  return String(value);
}

function insightsTable(rows, currency) {
  const head = element("tr", {}, ...COLUMNS.map(([, label]) => element("th", { scope: "col", textContent: t(label) })));
  const body = rows.map((row) =>
    element("tr", {}, ...COLUMNS.map(([key], index) => element(index === 0 ? "th" : "td", { textContent: cell(key, row[key], currency), ...(index === 0 ? { scope: "row" } : {}) }))),
  );
  if (rows.length === 0) body.push(element("tr", {}, element("td", { colSpan: COLUMNS.length, textContent: t("console.no_sessions") })));
  return element(
    "div",
    { className: "table-wrap", tabIndex: 0, attributes: { role: "region", "aria-label": t("console.insights_region") } },
    element("table", { id: "insights-table" }, element("caption", { textContent: t("console.by_instructor") }), element("thead", {}, head), element("tbody", {}, ...body)),
  );
}

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  node.append(...children);
  return node;
}

// Sessions a week as bars; its text alternative is the title and a description listing every week (with
// the month's name; under the bars, the short numeric date fits any language). Time runs in the page's
// direction: from the right in Arabic.
function weeksChart(weeks) {
  const width = 640;
  const height = 200;
  const top = Math.max(1, ...weeks.map((w) => w.sessions));
  const step = weeks.length ? (width - 40) / weeks.length : 0;
  const rightToLeft = document.documentElement.dir === "rtl";
  const described = weeks.length ? listed(weeks.map((w) => t("console.chart_week", { week: weekStart(w.week_start), count: w.sessions }))) : t("console.no_weeks");
  const chart = svg(
    "svg",
    { viewBox: `0 0 ${width} ${height + 30}`, role: "img", "aria-labelledby": "chart-title chart-desc", class: "chart" },
    svg("title", { id: "chart-title" }, t("console.sessions_per_week")),
    svg("desc", { id: "chart-desc" }, t("console.chart_description", { weeks: described })),
    ...weeks.flatMap((w, index) => {
      const barHeight = Math.round((w.sessions / top) * (height - 20));
      const x = 20 + (rightToLeft ? weeks.length - 1 - index : index) * step;
      return [
        svg("rect", { x: x + 4, y: height - barHeight, width: Math.max(2, step - 8), height: barHeight, class: "bar" }),
        svg("text", { x: x + step / 2, y: height - barHeight - 4, "text-anchor": "middle", class: "count" }, number(w.sessions)),
        svg("text", { x: x + step / 2, y: height + 18, "text-anchor": "middle", class: "week" }, weekNumeric(w.week_start)),
      ];
    }),
  );
  return element("figure", { className: "weeks" }, chart, element("figcaption", { textContent: t("console.chart_caption") }));
}

// --- activity --------------------------------------------------------------------------------------

const ACTIVITY_PAGE = 50;

// Each action the log holds today: its text is `console.action_<action, "." as "_">`; another (a newer
// one) shows as its code.
const LOGGED = new Set([
  "booking.created",
  "booking.updated",
  "availability.updated",
  "brand.created",
  "brand.updated",
  "brand_admin.created",
  "link.created",
  "link.updated",
  "webhook.created",
  "webhook.updated",
  "webhook.deleted",
  "package.created",
  "package.updated",
  "pass.created",
  "pass.updated",
  "student.erased",
]);

// Each target type's name (an instructor's is the Instructor select's label); another shows as its code.
const TARGETS = {
  booking: "console.target_booking",
  instructor: "console.instructor",
  brand: "console.target_brand",
  brand_admin: "console.target_brand_admin",
  webhook: "console.target_webhook",
  package: "console.target_package",
  pass: "console.target_pass",
  student: "console.target_student",
};

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const shortId = (id) => String(id ?? "").slice(0, 8);

// "14 Dec 2026, 18:00", "14. Dez. 2026, 18:00", "2026年12月14日 18:00": the date as Intl writes it in the
// page's language, the time hhmm()'s (24-hour, ASCII digits), both in the browser's zone.
function stamp(instant) {
  const zone = browserZone();
  const options = { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone };
  const parts = new Intl.DateTimeFormat(dateLocale(), options).formatToParts(new Date(instant));
  const first = parts.findIndex((p) => p.type === "hour");
  const last = parts.findLastIndex((p) => p.type === "minute");
  if (first < 0 || last < first) return `${dayMonthYear(instant, zone)} ${hhmm(instant, zone)}`;
  const text = (list) => list.map((p) => p.value).join("");
  return `${text(parts.slice(0, first))}${hhmm(instant, zone)}${text(parts.slice(last + 1))}`;
}

function actorText(actor) {
  if (actor.type === "service") return t("console.actor_service");
  if (actor.type === "system") return t("console.actor_system");
  if (actor.type !== "user") return actor.type;
  if (actor.id && actor.id === state.me.user_id) return t("console.actor_you");
  return t("console.actor_user", { id: shortId(actor.id) });
}

const actionText = (action) => (LOGGED.has(action) ? t(`console.action_${action.replace(".", "_")}`) : action);

function targetText(type, id) {
  const name = Object.hasOwn(TARGETS, type) ? t(TARGETS[type]) : type;
  return t("console.activity_target", { type: name, id: shortId(id) });
}

// A value as the log holds it: null as a dash, an instant as the rows' date and time, the rest as text.
function valueText(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") {
    if (INSTANT.test(value)) return stamp(value);
    return value === "" ? '""' : value;
  }
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

// A catalogue text with elements in its placeholders, each kept whole: "{field}: {before} → {after}" (in
// Arabic "{field}: {before} ← {after}", the arrow pointing the way the line reads).
function textWith(key, nodes) {
  return t(key)
    .split(/\{(\w+)\}/)
    .map((part, index) => (index % 2 ? (nodes[part] ?? `{${part}}`) : part))
    .filter((part) => part !== "");
}

// "field: before → after", each part isolated (<bdi>) so that a value of either direction reads right.
function changeItem(field, change) {
  const { before = null, after = null } = change !== null && typeof change === "object" && !Array.isArray(change) ? change : { after: change };
  const part = (className, textContent) => element("bdi", { className, textContent });
  return element(
    "li",
    { dataset: { field } },
    ...textWith("console.activity_change", {
      field: part("change-field", field),
      before: part("change-before", valueText(before)),
      after: part("change-after", valueText(after)),
    }),
  );
}

function activityRow(entry) {
  const target = targetText(entry.target_type, entry.target_id);
  const when = element("th", { scope: "row" }, element("time", { dateTime: entry.at, textContent: stamp(entry.at) }));
  const filter = element("button", {
    type: "button",
    className: "target",
    textContent: target,
    title: t("console.activity_only_this", { target }),
    onclick: () => filterActivity(entry.target_type, entry.target_id),
  });
  const changes = Object.entries(entry.changes ?? {}).map(([field, change]) => changeItem(field, change));
  return element(
    "tr",
    { dataset: { id: String(entry.id), action: entry.action, target: entry.target_id } },
    when,
    element("td", { className: "actor", textContent: actorText(entry.actor) }),
    element("td", { className: "action", textContent: actionText(entry.action) }),
    element("td", { className: "target" }, filter),
    element("td", {}, ...(changes.length ? [element("ul", { className: "changes" }, ...changes)] : [])),
  );
}

// The From and To dates as the browser's own days: from the first's midnight to the midnight after the
// second, as instants. Null when To is before From.
function activitySpan() {
  const midnight = (text, days = 0) => {
    const [y, m, d] = text.split("-").map(Number);
    return new Date(y, m - 1, d + days).toISOString();
  };
  const from = $("activity-from").value;
  const to = $("activity-to").value;
  if (from && to && to < from) return null;
  const span = {};
  if (from) span.from = midnight(from);
  if (to) span.to = midnight(to, 1);
  return span;
}

let activityAsked = 0;
const datesRefused = () => t("console.activity_dates");

async function loadActivity(more = false) {
  const asked = ++activityAsked;
  const span = more ? state.activitySpan : activitySpan();
  if (span === null) {
    say(datesRefused);
    $("activity-to").focus();
    return;
  }
  if (said === datesRefused) say(""); // the dates are right now
  const params = { limit: String(ACTIVITY_PAGE), ...span };
  if (state.activityTarget) params.target_id = state.activityTarget.id;
  if (more && state.activityCursor) params.cursor = state.activityCursor;
  const data = await attempt(() => call(`/api/brands/${config.brandId}/audit`, { params }));
  if (asked !== activityAsked) return; // another span, target or page was asked for meanwhile
  if (!data) {
    if (!more) state.activity = null;
    renderActivity();
    return;
  }
  const shown = more && state.activity ? state.activity.length : 0;
  state.activity = shown ? [...state.activity, ...data.entries] : data.entries;
  state.activitySpan = span;
  state.activityCursor = data.next_cursor;
  renderActivity();
  if (more) {
    // The first new row takes the focus, for the keyboard and for screen readers to read on from there.
    const first = $("activity").querySelectorAll("tbody tr")[shown]?.querySelector("th");
    if (first) {
      first.tabIndex = -1;
      first.focus();
    }
  }
}

function renderActivity() {
  const target = state.activityTarget;
  $("activity-filter").hidden = !target;
  $("activity-filtered").textContent = target ? t("console.activity_filtered", { target: targetText(target.type, target.id) }) : "";
  const entries = state.activity;
  $("activity-more").hidden = !(entries && state.activityCursor);
  if (entries === null) {
    $("activity-count").textContent = "";
    $("activity").replaceChildren();
    return;
  }
  $("activity-count").textContent = entries.length ? t("console.activity_shown", { count: entries.length }) : t("console.no_activity");
  if (entries.length === 0) {
    $("activity").replaceChildren();
    return;
  }
  const columns = ["console.activity_when", "console.activity_who", "console.activity_action", "console.activity_item", "console.activity_changes"];
  const head = element("tr", {}, ...columns.map((key) => element("th", { scope: "col", textContent: t(key) })));
  $("activity").replaceChildren(
    element(
      "div",
      { className: "table-wrap", id: "activity-region", tabIndex: 0, attributes: { role: "region", "aria-label": t("console.activity_log") } },
      element("table", { id: "activity-table" }, element("caption", { textContent: t("console.activity_caption") }), element("thead", {}, head), element("tbody", {}, ...entries.map(activityRow))),
    ),
  );
}

async function filterActivity(type, id) {
  state.activityTarget = { type, id };
  await loadActivity();
  $("activity-all").focus();
}

async function showAllActivity() {
  state.activityTarget = null;
  await loadActivity();
  ($("activity-region") ?? $("activity-from")).focus();
}

// --- a new language --------------------------------------------------------------------------------

// The Language select switched: i18n.js rewrote every marked element; what the script wrote from data
// is written again from the same data (nothing is asked of the API again, nothing typed is lost).
function rewrite() {
  $("status").textContent = said();
  if (!$("sign-in").hidden) offerSignIn();
  if (!state.me) return;
  renderWho();
  renderBookings();
  if (state.availability) {
    renderScheduleZone();
    renderWeekly(weeklyFromForm());
    renderOverrides();
  } else {
    renderScheduleZone();
  }
  if (state.preview) renderPreview();
  renderExplanation();
  if (state.insights) renderInsights();
  renderActivity();
}

// --- start -----------------------------------------------------------------------------------------

function setUpControls() {
  for (const view of VIEWS) $(`tab-${view}`).addEventListener("click", () => showView(view));
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
  $("activity-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadActivity();
  });
  $("activity-more").addEventListener("click", () => loadActivity(true));
  $("activity-all").addEventListener("click", showAllActivity);
}

async function start() {
  setUpControls();
  onLocaleChange(rewrite);
  listenForEmbedder(config.embedOrigins, signIn);
  const token = tokenFromFragment();
  if (token) await signIn(token);
  else offerSignIn();
  document.body.dataset.ready = "true";
}

start();
