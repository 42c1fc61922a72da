// The booking page (SPEC §14): instructor -> date and zone -> a free slot -> Book, and My bookings.
// Every text it writes is the page's language's (`t("page.…")`), and is written again, from what the page
// last showed, when the Language select switches the language in place (SPEC §19).
import { api, ApiError } from "./api.js";
import { currentLocale, errorText, onLocaleChange, startLanguage, t } from "./i18n.js";
import { element, listenForEmbedder, money, tokenFromFragment } from "./page.js";
import { browserZone, dayAndTime, dayMonthYear, hhmm, localDate, weekdayDate, zoneChoices } from "./time.js";

const config = JSON.parse(document.getElementById("config").textContent);
startLanguage(config);
const $ = (id) => document.getElementById(id);

const state = {
  token: null, // in memory only: never stored, never in a URL
  instructors: [],
  instructorId: null,
  price: null, // the chosen instructor's availability settings, once read (their price and session length)
  slots: null, // what the slot list shows: { slots, next } or { error }, null for nothing
  slot: null, // the chosen slot's starts_at
  moving: null, // the booking being rescheduled
  preview: null, // a weekly series previewed: { body, occurrences }, until anything it was asked with changes
  passes: [], // the signed-in student's passes of this brand, as the API last listed them
  mine: null, // the student's upcoming bookings as last listed (or the error listing them), once signed in
  signIn: false, // the explanation of signing in is shown
  outcome: () => [], // writes the outcome region's text (and buttons) in the language of the moment
};

// The outcome region says `message`: a function writing it (text, or text and elements), so that a
// switch of language writes it again.
function say(message) {
  state.outcome = typeof message === "function" ? message : () => message;
  $("outcome").replaceChildren(...[state.outcome()].flat());
}

// An error's text: an API error by its code, in the page's language (the API's own messages are English).
function failure(error) {
  return errorText(error instanceof ApiError ? error : { code: "internal_error", status: 0 });
}

function zone() {
  return $("timezone").value;
}

function statusWord(status) {
  return ["pending", "confirmed", "completed", "cancelled", "no_show"].includes(status) ? t(`page.status_${status}`) : status;
}

// A list of times in the language's own way ("A, B and C", "A、B、C").
function listed(items) {
  return new Intl.ListFormat(currentLocale(), { type: "conjunction" }).format(items);
}

// --- signing in ------------------------------------------------------------------------------------

function tokenClaims(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload));
  } catch {
    return {};
  }
}

function signIn(token) {
  state.token = token;
  const claims = tokenClaims(token);
  if (claims.email && !$("email").value) $("email").value = claims.email;
  if (claims.phone && !$("phone").value) $("phone").value = claims.phone;
  state.signIn = false;
  renderSignIn();
  loadMine();
  loadPasses();
}

function explainSignIn() {
  state.signIn = true;
  renderSignIn();
}

function renderSignIn() {
  const box = $("sign-in");
  box.hidden = !state.signIn;
  if (!state.signIn) {
    box.replaceChildren();
    return;
  }
  const parts = [element("p", { textContent: t("page.sign_in_explained") })];
  if (config.signInUrl) {
    const back = encodeURIComponent(location.href);
    const href = `${config.signInUrl}${config.signInUrl.includes("?") ? "&" : "?"}redirect_to=${back}`;
    parts.push(element("a", { href, textContent: t("common.sign_in") }));
  }
  if (config.demoToken) {
    parts.push(element("button", { type: "button", textContent: t("page.demo_student"), onclick: () => signIn(config.demoToken) }));
  }
  box.replaceChildren(...parts);
}

// --- instructors, date, zone, slots ---------------------------------------------------------------

async function loadInstructors() {
  const data = await api("/api/instructors", { params: { brand_id: config.brandId } });
  state.instructors = data.instructors;
  renderMine(); // listed meanwhile, perhaps, with "your instructor" for want of their names
  $("instructors").replaceChildren(
    ...data.instructors.map((instructor) =>
      element("button", {
        type: "button",
        textContent: instructor.name,
        className: "choice",
        onclick: () => chooseInstructor(instructor.id),
        dataset: { id: instructor.id },
      }),
    ),
  );
  // The one named in the address, else the first: a page with nothing chosen shows no times at all.
  const preselected = data.instructors.find((i) => i.id === config.instructorId) || data.instructors[0];
  if (preselected) await chooseInstructor(preselected.id);
}

async function chooseInstructor(id) {
  state.instructorId = id;
  for (const button of $("instructors").children) button.setAttribute("aria-pressed", String(button.dataset.id === id));
  await Promise.all([loadSlots(), showPrice(id)]);
}

async function showPrice(id) {
  let settings;
  try {
    ({ settings } = await api(`/api/instructors/${id}/availability`, { params: { brand_id: config.brandId } }));
  } catch {
    settings = null; // the price is shown again once it can be read; booking does not depend on it
  }
  if (state.instructorId !== id) return; // another instructor was chosen meanwhile
  state.price = settings;
  renderPrice();
}

function renderPrice() {
  const box = $("price");
  const settings = state.price;
  box.hidden = settings === null;
  if (settings === null) return;
  const amount = settings.price_amount;
  const count = settings.session_minutes;
  if (amount === null) box.textContent = t("page.session_length", { count });
  else if (amount === 0) box.textContent = t("page.price_free", { count });
  else box.textContent = t("page.price", { count, price: money(amount, config.currency) });
}

function instructorName(id) {
  const found = state.instructors.find((i) => i.id === id);
  return found ? found.name : t("page.your_instructor");
}

// Typing a date changes it several times (month, day, each digit of the year): each change asks for
// slots, and the answers can come back in any order. Only the latest question's answer is shown.
let slotsAsked = 0;

async function loadSlots() {
  const asked = ++slotsAsked;
  state.slot = null;
  dropPreview();
  renderChosen();
  state.slots = null; // another date's, zone's or instructor's times are not offered meanwhile
  renderSlots();
  if (!state.instructorId || !$("date").value) return;
  const params = { brand_id: config.brandId, from: $("date").value, to: $("date").value, timezone: zone() };
  const options = { params };
  if (state.moving) {
    params.reschedule_of = state.moving.id;
    options.token = state.token;
  }
  let data;
  try {
    data = await api(`/api/instructors/${state.instructorId}/slots`, options);
  } catch (error) {
    if (asked === slotsAsked) {
      state.slots = { error };
      renderSlots();
    }
    return;
  }
  if (asked !== slotsAsked) return; // a later date or zone was asked for meanwhile
  state.slots = { slots: data.slots, next: null };
  renderSlots();
  if (data.slots.length === 0) offerNextFreeDate(asked, options);
}

function renderSlots() {
  const box = $("slots");
  const shown = state.slots;
  if (shown === null) {
    box.replaceChildren();
  } else if (shown.error) {
    box.replaceChildren(element("p", { textContent: failure(shown.error) }));
  } else if (shown.slots.length === 0) {
    const parts = [element("p", { textContent: t("page.no_free_times") })];
    if (shown.next) parts.push(nextFreeButton(shown.next));
    box.replaceChildren(...parts);
  } else {
    box.replaceChildren(...shown.slots.map(slotButton));
  }
}

function slotButton(slot) {
  const button = element("button", {
    type: "button",
    className: "choice slot",
    textContent: t("page.slot", { start: hhmm(slot.starts_at, zone()), end: hhmm(slot.ends_at, zone()) }),
    onclick: () => chooseSlot(slot.starts_at),
    dataset: { startsAt: slot.starts_at },
  });
  if (state.slot) button.setAttribute("aria-pressed", String(slot.starts_at === state.slot));
  return button;
}

// An empty day: the next date with a free time (up to four weeks ahead), one button away.
const LOOK_AHEAD_DAYS = 28;

async function offerNextFreeDate(asked, options) {
  const from = nextDay($("date").value);
  const params = { ...options.params, from, to: nextDay($("date").value, LOOK_AHEAD_DAYS) };
  let data;
  try {
    data = await api(`/api/instructors/${state.instructorId}/slots`, { ...options, params });
  } catch {
    return; // the hint is a convenience: the empty day has been said already
  }
  if (asked !== slotsAsked || data.slots.length === 0) return;
  state.slots.next = data.slots[0];
  renderSlots();
}

function nextFreeButton(slot) {
  return element("button", {
    type: "button",
    className: "choice",
    textContent: t("page.next_free_date", { day: weekdayDate(slot.starts_at, zone()) }),
    onclick: () => {
      $("date").value = localDate(slot.starts_at, zone());
      loadSlots();
    },
  });
}

function nextDay(isoDate, days = 1) {
  const day = new Date(`${isoDate}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() + days);
  return day.toISOString().slice(0, 10);
}

function chooseSlot(startsAt) {
  state.slot = startsAt;
  dropPreview();
  for (const other of $("slots").querySelectorAll("button.slot")) other.setAttribute("aria-pressed", String(other.dataset.startsAt === startsAt));
  renderChosen();
}

function inZone(instant) {
  return t("page.when_in_zone", { when: dayAndTime(instant, zone()), zone: zone() });
}

function renderChosen() {
  const moving = state.moving;
  $("book").textContent = t(moving ? "page.move_here" : "page.book");
  $("keep").hidden = !moving;
  $("weekly-box").hidden = Boolean(moving); // a booking moves alone
  $("pay-with-field").hidden = Boolean(moving) || usablePasses().length === 0; // a move keeps its payment
  const when = state.slot ? inZone(state.slot) : t("page.no_time_yet");
  $("chosen").textContent = moving
    ? t("page.moving", { old: dayAndTime(moving.starts_at, zone()), instructor: instructorName(moving.instructor_id), when })
    : t("page.chosen", { when });
}

// --- booking and moving ----------------------------------------------------------------------------

async function submit(event) {
  event.preventDefault();
  if (!state.token) {
    explainSignIn();
    say(() => t("page.sign_in_to_book"));
    return;
  }
  if (!state.slot) {
    say(() => t("page.choose_time_first"));
    return;
  }
  if (weekly()) {
    await previewSeries(); // booked only from the preview, once its verdicts have been seen
    return;
  }
  const moved = Boolean(state.moving);
  try {
    const booking = moved ? await move() : await book();
    if (booking.pass_id) await loadPasses(); // for the sessions now left
    const paid = paidWithPass(booking.pass_id);
    const payable = !moved && needsPayment(booking);
    say(() => [[outcomeOf(booking, moved), paid()].filter(Boolean).join(" "), ...(payable ? [" ", payButton(booking)] : [])]);
    state.moving = null;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    say(() => refusalText(error));
    if (error.code === "pass_not_usable") loadPasses();
  }
  await Promise.all([loadSlots(), loadMine()]);
}

function bookingBody() {
  const body = {
    brand_id: config.brandId,
    instructor_id: state.instructorId,
    starts_at: state.slot,
    student_timezone: zone(),
  };
  for (const [field, id] of [["student_name", "name"], ["student_email", "email"], ["student_phone", "phone"]]) {
    const value = $(id).value.trim();
    if (value) body[field] = value;
  }
  const passId = $("pay-with").value;
  if (passId) body.pass_id = passId; // "" is Pay per session
  return body;
}

async function book() {
  const data = await api("/api/bookings", { method: "POST", body: bookingBody(), token: state.token, idempotencyKey: crypto.randomUUID() });
  return data.booking;
}

async function move() {
  const path = `/api/bookings/${state.moving.id}/reschedule`;
  const data = await api(path, { method: "POST", body: { starts_at: state.slot }, token: state.token, idempotencyKey: crypto.randomUUID() });
  return data.booking;
}

function outcomeOf(booking, moved = false) {
  const values = {
    time: hhmm(booking.starts_at, zone()),
    when: dayAndTime(booking.starts_at, zone()),
    zone: zone(),
    status: statusWord(booking.status),
  };
  if (booking.status === "pending" && booking.hold_expires_at) {
    return t(moved ? "page.moved_held" : "page.booked_held", { ...values, until: hhmm(booking.hold_expires_at, zone()) });
  }
  return t(moved ? "page.moved" : "page.booked", values);
}

// --- a weekly series: preview, then book --------------------------------------------------------------

// Why an occurrence cannot be booked, in words; a code this page does not know is shown as it is.
const REFUSALS = [
  "slot_unavailable",
  "outside_availability",
  "beyond_booking_window",
  "booking_limit_reached",
  "too_soon",
  "in_the_past",
  "too_many_pending_bookings",
  "instructor_not_in_brand",
];

function verdict(code) {
  if (code === null) return t("page.verdict_free");
  return REFUSALS.includes(code) ? t(`page.verdict_${code}`) : code;
}

function weekly() {
  return !state.moving && $("weekly").checked;
}

function sessionsWanted() {
  const count = $("sessions").valueAsNumber;
  return Number.isInteger(count) && count >= 2 && count <= 52 ? count : null;
}

// A preview is of one slot, count, zone and form: any change drops it, and the answer to a preview asked
// before that change is not shown.
let previewAsked = 0;

function dropPreview() {
  previewAsked++;
  state.preview = null;
  $("series").hidden = true;
  $("series").replaceChildren();
}

async function previewSeries() {
  const count = sessionsWanted();
  if (count === null) {
    say(() => t("page.sessions_range"));
    $("sessions").focus();
    return;
  }
  dropPreview();
  const asked = previewAsked;
  const body = { ...bookingBody(), count };
  let data;
  try {
    data = await api("/api/series/preview", { method: "POST", body, token: state.token });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (asked === previewAsked) say(() => refusalText(error));
    return;
  }
  if (asked !== previewAsked) return; // something changed meanwhile
  say("");
  state.preview = { body, occurrences: data.occurrences };
  renderPreview();
}

function occurrenceText(occurrence) {
  return t("page.occurrence", { when: dayAndTime(occurrence.starts_at, zone()), verdict: verdict(occurrence.code) });
}

// `focus`: the first action is focused (not when the page is only written again in another language).
function renderPreview(focus = true) {
  const { occurrences } = state.preview;
  const count = occurrences.length;
  const free = occurrences.filter((o) => o.bookable).length;
  const heading = element("p", { id: "series-heading", textContent: t("page.series_heading", { count, zone: zone() }) });
  const list = element(
    "ol",
    { id: "occurrences" },
    ...occurrences.map((o) => element("li", { className: o.bookable ? "free" : "refused" }, occurrenceText(o))),
  );
  list.setAttribute("aria-labelledby", "series-heading");
  const actions = element("div", { className: "actions" });
  // All free: the series is booked all or nothing, so a time taken meanwhile books none of it (and the
  // 409 names that time). Some not free: all-or-nothing would be refused, so it is not offered; booking
  // the free ones ("skip") is, its label saying how many, so the student chooses the gaps knowingly.
  if (free === count) {
    actions.append(confirmButton(t("page.book_all", { count: free }), "all_or_nothing"));
  } else if (free > 0) {
    actions.append(confirmButton(t("page.book_free", { count: free }), "skip"));
  }
  actions.append(element("button", { type: "button", textContent: t("page.not_now"), onclick: notNow }));
  const parts = [heading, list];
  if (free < count) {
    const text = free === 0 ? t("page.none_bookable") : t("page.some_refused", { refused: count - free, count });
    parts.push(element("p", { textContent: text }));
  }
  $("series").replaceChildren(...parts, actions);
  $("series").hidden = false;
  if (focus) actions.querySelector("button").focus();
}

function confirmButton(label, conflicts) {
  return element("button", { type: "button", className: "confirm", textContent: label, onclick: () => bookSeries(conflicts) });
}

function notNow() {
  dropPreview();
  $("book").focus();
}

async function bookSeries(conflicts) {
  const preview = state.preview;
  for (const button of $("series").querySelectorAll("button")) button.disabled = true;
  const body = { ...preview.body, conflicts };
  let data;
  try {
    data = await api("/api/series", { method: "POST", body, token: state.token, idempotencyKey: crypto.randomUUID() });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    const shown = state.preview === preview; // not dropped meanwhile
    if (shown && error.code === "series_conflict" && Array.isArray(error.details?.occurrences)) {
      refusedMeanwhile(error.details.occurrences);
      return;
    }
    say(() => refusalText(error));
    if (error.code === "pass_not_usable") loadPasses();
    if (shown) for (const button of $("series").querySelectorAll("button")) button.disabled = false;
    return;
  }
  const passId = data.series.bookings[0].pass_id;
  if (passId) await loadPasses();
  const paid = paidWithPass(passId);
  say(() => [seriesOutcome(data.series), paid()].filter(Boolean).join(" "));
  $("book").focus(); // the button pressed goes with the preview
  await Promise.all([loadSlots(), loadMine()]); // loadSlots drops the preview
}

function timesWithVerdicts(occurrences) {
  return listed(occurrences.map((o) => t("page.time_and_verdict", { when: dayAndTime(o.starts_at, zone()), verdict: verdict(o.code) })));
}

// A 409 series_conflict names every occurrence refused at that moment: the preview shows that instead.
function refusedMeanwhile(refused) {
  const codes = new Map(refused.map((o) => [o.index, o.code]));
  state.preview.occurrences = state.preview.occurrences.map((o) => ({ ...o, bookable: !codes.has(o.index), code: codes.get(o.index) ?? null }));
  say(() => t("page.nothing_booked_meanwhile", { times: timesWithVerdicts(refused) }));
  renderPreview();
}

function seriesOutcome(series) {
  const made = series.bookings;
  const when = dayAndTime(made[0].starts_at, zone());
  let text = t("page.series_booked", { count: made.length, when, zone: zone(), status: statusWord(made[0].status) });
  if (series.skipped.length > 0) text += ` ${t("page.not_booked", { times: timesWithVerdicts(series.skipped) })}`;
  return text;
}

// --- paying with a package: the student's pass of this brand ---------------------------------------

// Why a pass cannot pay for this booking, in words; another reason is shown as the error's code says.
const PASS_REFUSALS = ["wrong_brand", "not_active", "instructor_not_included", "no_sessions_left", "expires_before_session"];

function refusalText(error) {
  const reason = error.code === "pass_not_usable" ? error.details?.reason : undefined;
  return PASS_REFUSALS.includes(reason) ? t(`page.pass_${reason}`) : failure(error);
}

function usablePasses() {
  return state.passes.filter((p) => p.brand_id === config.brandId && p.status === "active" && p.sessions_left > 0);
}

function sessionsLeft(count) {
  return t("page.sessions_left", { count });
}

// valid_until is the first instant it no longer covers: the day shown is the last one it does, in the zone chosen.
function passLabel(found) {
  const left = sessionsLeft(found.sessions_left);
  if (!found.valid_until) return t("page.pass_option", { name: found.name, left });
  return t("page.pass_option_until", { name: found.name, left, date: dayMonthYear(Date.parse(found.valid_until) - 1, zone()) });
}

async function loadPasses() {
  if (!state.token) return;
  let data;
  try {
    data = await api("/api/passes", { params: { brand_id: config.brandId }, token: state.token });
  } catch {
    return; // paying per session still works; the choice comes back with the next listing
  }
  state.passes = data.passes;
  renderPasses();
}

function renderPasses() {
  const select = $("pay-with");
  const chosen = select.value;
  const usable = usablePasses();
  select.replaceChildren(
    element("option", { value: "", textContent: t("page.pay_per_session") }),
    ...usable.map((p) => element("option", { value: p.id, textContent: passLabel(p), selected: p.id === chosen })),
  );
  renderChosen(); // shows or hides the choice
}

// What paying with a pass left, as the pass was just after: a function writing it in any language.
function paidWithPass(passId) {
  if (!passId) return () => "";
  const found = state.passes.find((p) => p.id === passId);
  if (!found) return () => t("page.paid_with_package");
  const { name, sessions_left: left } = found;
  return () => t("page.paid_with", { name, left: sessionsLeft(left) });
}

// --- paying (when the service takes payments online) -------------------------------------------------

function needsPayment(booking) {
  const held = !booking.hold_expires_at || new Date(booking.hold_expires_at) > new Date();
  return config.payments && held && booking.status === "pending" && booking.payment_status === "unpaid" && booking.price && booking.price.amount > 0;
}

function payButton(booking) {
  const label = t("page.pay", { amount: money(booking.price.amount, booking.price.currency) });
  return element("button", { type: "button", className: "pay", textContent: label, onclick: () => pay(booking) });
}

async function pay(booking) {
  let data;
  try {
    data = await api(`/api/bookings/${booking.id}/checkout`, { method: "POST", body: {}, token: state.token });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    say(() => failure(error));
    return;
  }
  // Stripe's page refuses to be framed: an embedded page opens it in a new tab.
  if (window.top !== window) window.open(data.checkout.url, "_blank", "noopener");
  else location.assign(data.checkout.url);
}

// Back from Stripe: ask the service how the payment went (the token did not survive the trip; the
// session id Stripe put in the address is the proof), then take the checkout off the address.
async function returnFromCheckout() {
  const query = new URLSearchParams(location.search);
  const bookingId = query.get("booking");
  const outcome = query.get("checkout");
  const sessionId = query.get("session_id");
  if (!bookingId || !outcome) return;
  for (const name of ["booking", "checkout", "session_id"]) query.delete(name);
  const rest = query.toString();
  history.replaceState(null, "", location.pathname + (rest ? `?${rest}` : ""));
  if (outcome !== "success") {
    say(() => t("page.payment_cancelled"));
    return;
  }
  try {
    const data = await api(`/api/bookings/${bookingId}/checkout/refresh`, { method: "POST", body: { session_id: sessionId } });
    say(() => paymentOutcome(data.booking));
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    say(() => failure(error));
  }
}

function paymentOutcome(booking) {
  const when = dayAndTime(booking.starts_at, zone());
  const status = statusWord(booking.status);
  if (booking.payment_status !== "paid") return t("page.payment_not_arrived", { when, status });
  if (booking.status === "confirmed") return t("page.paid_confirmed", { when });
  return t("page.paid_refunded", { when, status });
}

// --- my bookings -----------------------------------------------------------------------------------

async function loadMine() {
  if (!state.token) return;
  let data;
  try {
    data = await api("/api/bookings", { params: { brand_id: config.brandId, from: new Date().toISOString(), limit: "50" }, token: state.token });
  } catch (error) {
    say(() => failure(error));
    return;
  }
  // By time: the API lists by creation, and a series' occurrences are created together.
  state.mine = data.bookings
    .filter((b) => b.status === "pending" || b.status === "confirmed")
    .sort((a, b) => new Date(a.starts_at) - new Date(b.starts_at));
  renderMine();
}

function renderMine() {
  if (state.mine === null) return;
  $("mine").hidden = false;
  $("my-bookings").replaceChildren(
    ...(state.mine.length === 0 ? [element("li", { textContent: t("page.no_upcoming") })] : state.mine.map(myBooking)),
  );
}

function myBooking(booking) {
  const values = { when: dayAndTime(booking.starts_at, zone()), instructor: instructorName(booking.instructor_id), status: statusWord(booking.status) };
  const text = booking.series_id
    ? t("page.my_booking_weekly", { ...values, number: booking.series_index + 1 })
    : t("page.my_booking", values);
  return element(
    "li",
    { className: "booking" },
    element("span", { textContent: text }),
    ...(needsPayment(booking) ? [payButton(booking)] : []),
    element("button", { type: "button", textContent: t("page.cancel"), onclick: () => cancel(booking) }),
    element("button", { type: "button", textContent: t("page.reschedule"), onclick: () => startMoving(booking) }),
  );
}

async function cancel(booking) {
  try {
    await api(`/api/bookings/${booking.id}`, { method: "PATCH", body: { status: "cancelled" }, token: state.token });
    say(() => t("page.cancelled_session", { when: dayAndTime(booking.starts_at, zone()) }));
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    say(() => failure(error));
  }
  await Promise.all([loadSlots(), loadMine()]);
}

async function startMoving(booking) {
  state.moving = booking;
  $("date").value = localDate(booking.starts_at, zone());
  say(() => t("page.choose_new_time", { when: dayAndTime(booking.starts_at, zone()) }));
  await chooseInstructor(booking.instructor_id);
  $("date").focus();
}

async function keepOldTime() {
  state.moving = null;
  say("");
  await loadSlots();
}

// --- the language switched in place: everything written here is written again -----------------------

function renderZones() {
  const chosen = $("timezone").value || browserZone();
  const choices = zoneChoices(chosen, document.documentElement.dir === "rtl");
  $("timezone").replaceChildren(...choices.map(({ name, label }) => element("option", { value: name, textContent: label, selected: name === chosen })));
}

function writeAgain() {
  renderZones();
  renderSignIn();
  renderPrice();
  renderSlots();
  renderPasses(); // and what is chosen
  if (state.preview) renderPreview(false);
  renderMine();
  $("outcome").replaceChildren(...[state.outcome()].flat());
}

// --- start -----------------------------------------------------------------------------------------

function setUpControls() {
  renderZones();
  $("date").value = localDate(new Date(), zone());
  $("date").addEventListener("change", loadSlots);
  $("timezone").addEventListener("change", () => {
    loadSlots();
    renderMine(); // in the new zone's times
    renderPasses(); // the packages' last days, in the new zone
  });
  $("keep").addEventListener("click", keepOldTime);
  $("booking-form").addEventListener("submit", submit);
  $("booking-form").addEventListener("input", dropPreview); // the preview was of the form as it was
  $("weekly").addEventListener("change", () => {
    $("sessions-field").hidden = !$("weekly").checked;
  });
  onLocaleChange(writeAgain);
}

async function start() {
  setUpControls();
  listenForEmbedder(config.embedOrigins, signIn);
  const token = tokenFromFragment();
  if (token) signIn(token);
  else if (config.demoToken) explainSignIn();
  try {
    await Promise.all([loadInstructors(), returnFromCheckout()]);
  } catch (error) {
    say(() => failure(error));
  }
  document.body.dataset.ready = "true";
}

start();
