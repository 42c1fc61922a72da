// The booking page (SPEC §14): instructor -> date and zone -> a free slot -> Book, and My bookings.
import { api, ApiError } from "./api.js";
import { startLanguage } from "./i18n.js";
import { element, listenForEmbedder, money, tokenFromFragment } from "./page.js";
import { browserZone, dayAndTime, dayMonthYear, hhmm, localDate, zoneChoices } from "./time.js";

const config = JSON.parse(document.getElementById("config").textContent);
startLanguage(config);
const $ = (id) => document.getElementById(id);

const state = {
  token: null, // in memory only: never stored, never in a URL
  instructors: [],
  instructorId: null,
  slot: null, // the chosen slot's starts_at
  moving: null, // the booking being rescheduled
  preview: null, // a weekly series previewed: { body, occurrences }, until anything it was asked with changes
  passes: [], // the signed-in student's passes of this brand, as the API last listed them
};

function say(message) {
  $("outcome").textContent = message;
}

function zone() {
  return $("timezone").value;
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
  $("sign-in").hidden = true;
  $("sign-in").replaceChildren();
  loadMine();
  loadPasses();
}

function explainSignIn() {
  const box = $("sign-in");
  const parts = [element("p", { textContent: "Sign in to book: your booking is made in your name." })];
  if (config.signInUrl) {
    const back = encodeURIComponent(location.href);
    parts.push(element("a", { href: `${config.signInUrl}${config.signInUrl.includes("?") ? "&" : "?"}redirect_to=${back}`, textContent: "Sign in" }));
  }
  if (config.demoToken) {
    parts.push(element("button", { type: "button", textContent: "Continue as demo student", onclick: () => signIn(config.demoToken) }));
  }
  box.replaceChildren(...parts);
  box.hidden = false;
}

// --- instructors, date, zone, slots ---------------------------------------------------------------

async function loadInstructors() {
  const data = await api("/api/instructors", { params: { brand_id: config.brandId } });
  state.instructors = data.instructors;
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
  const box = $("price");
  let settings;
  try {
    ({ settings } = await api(`/api/instructors/${id}/availability`, { params: { brand_id: config.brandId } }));
  } catch {
    box.hidden = true; // the price is shown again once it can be read; booking does not depend on it
    return;
  }
  if (state.instructorId !== id) return; // another instructor was chosen meanwhile
  const amount = settings.price_amount;
  const each = `${settings.session_minutes}-minute session`;
  box.hidden = false;
  if (amount === null) box.textContent = `${each[0].toUpperCase()}${each.slice(1)}s`;
  else box.textContent = amount === 0 ? `Free ${each}` : `Price: ${money(amount, config.currency)} for a ${each}`;
}

function instructorName(id) {
  const found = state.instructors.find((i) => i.id === id);
  return found ? found.name : "your instructor";
}

// Typing a date changes it several times (month, day, each digit of the year): each change asks for
// slots, and the answers can come back in any order. Only the latest question's answer is shown.
let slotsAsked = 0;

async function loadSlots() {
  const asked = ++slotsAsked;
  state.slot = null;
  dropPreview();
  renderChosen();
  const box = $("slots");
  box.replaceChildren(); // another date's, zone's or instructor's times are not offered meanwhile
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
    if (asked === slotsAsked) box.replaceChildren(element("p", { textContent: error.message }));
    return;
  }
  if (asked !== slotsAsked) return; // a later date or zone was asked for meanwhile
  if (data.slots.length === 0) {
    box.replaceChildren(element("p", { textContent: "No free times on this date." }));
    offerNextFreeDate(asked, options);
    return;
  }
  box.replaceChildren(
    ...data.slots.map((slot) =>
      element("button", {
        type: "button",
        className: "choice slot",
        textContent: `${hhmm(slot.starts_at, zone())} to ${hhmm(slot.ends_at, zone())}`,
        onclick: (event) => chooseSlot(slot.starts_at, event.currentTarget),
      }),
    ),
  );
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
  const next = localDate(data.slots[0].starts_at, zone());
  const label = `Next free date: ${dayAndTime(data.slots[0].starts_at, zone()).split(",")[0]}`;
  $("slots").append(
    element("button", {
      type: "button",
      className: "choice",
      textContent: label,
      onclick: () => {
        $("date").value = next;
        loadSlots();
      },
    }),
  );
}

function nextDay(isoDate, days = 1) {
  const day = new Date(`${isoDate}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() + days);
  return day.toISOString().slice(0, 10);
}

function chooseSlot(startsAt, button) {
  state.slot = startsAt;
  dropPreview();
  for (const other of $("slots").children) other.setAttribute("aria-pressed", String(other === button));
  renderChosen();
}

function renderChosen() {
  const moving = state.moving;
  $("book").textContent = moving ? "Move here" : "Book";
  $("keep").hidden = !moving;
  $("weekly-box").hidden = Boolean(moving); // a booking moves alone
  $("pay-with-field").hidden = Boolean(moving) || usablePasses().length === 0; // a move keeps its payment
  const when = state.slot ? `${dayAndTime(state.slot, zone())} (${zone()})` : "no time chosen yet";
  $("chosen").textContent = moving
    ? `Moving your session of ${dayAndTime(moving.starts_at, zone())} with ${instructorName(moving.instructor_id)}: ${when}`
    : `Chosen: ${when}`;
}

// --- booking and moving ----------------------------------------------------------------------------

async function submit(event) {
  event.preventDefault();
  if (!state.token) {
    explainSignIn();
    say("Sign in to book.");
    return;
  }
  if (!state.slot) {
    say("Choose a time first.");
    return;
  }
  if (weekly()) {
    await previewSeries(); // booked only from the preview, once its verdicts have been seen
    return;
  }
  try {
    const booking = state.moving ? await move() : await book();
    if (booking.pass_id) await loadPasses(); // for the sessions now left
    say(outcomeOf(booking, Boolean(state.moving)) + paidWithPass(booking.pass_id));
    if (!state.moving && needsPayment(booking)) $("outcome").append(" ", payButton(booking));
    state.moving = null;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    say(refusalText(error));
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
  const at = `${hhmm(booking.starts_at, zone())} (${dayAndTime(booking.starts_at, zone())}, ${zone()})`;
  const done = moved ? "Moved to" : "Booked";
  if (booking.status === "pending" && booking.hold_expires_at) {
    return `${done} ${at}: pending, held until ${hhmm(booking.hold_expires_at, zone())} for payment.`;
  }
  return `${done} ${at}: ${booking.status}.`;
}

// --- a weekly series: preview, then book --------------------------------------------------------------

// Why an occurrence cannot be booked, in words; a code this page does not know is shown as it is.
const REFUSALS = {
  slot_unavailable: "Taken",
  outside_availability: "Outside the instructor's hours",
  beyond_booking_window: "Too far ahead to book yet",
  booking_limit_reached: "The instructor is fully booked that day or week",
  too_soon: "Too soon to book",
  in_the_past: "In the past",
  too_many_pending_bookings: "Too many of your bookings await confirmation",
  instructor_not_in_brand: "The instructor does not take bookings here",
};

function verdict(code) {
  return code === null ? "Free" : (REFUSALS[code] ?? code);
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
    say("Sessions: a whole number from 2 to 52.");
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
    if (asked === previewAsked) say(refusalText(error));
    return;
  }
  if (asked !== previewAsked) return; // something changed meanwhile
  say("");
  state.preview = { body, occurrences: data.occurrences };
  renderPreview();
}

function occurrenceText(occurrence) {
  return `${dayAndTime(occurrence.starts_at, zone())} — ${verdict(occurrence.code)}`;
}

function renderPreview() {
  const { occurrences } = state.preview;
  const free = occurrences.filter((o) => o.bookable).length;
  const heading = element("p", { id: "series-heading", textContent: `${occurrences.length} weekly sessions, times in ${zone()}:` });
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
  if (free === occurrences.length) {
    actions.append(confirmButton(`Book ${free} sessions`, "all_or_nothing"));
  } else if (free > 0) {
    const label = free === 1 ? "Book the 1 free session" : `Book the ${free} free sessions`;
    actions.append(confirmButton(label, "skip"));
  }
  actions.append(element("button", { type: "button", textContent: "Not now", onclick: notNow }));
  const parts = [heading, list];
  if (free < occurrences.length) {
    const refused = occurrences.length - free;
    const text = free === 0 ? "None of these sessions can be booked." : `${refused} of the ${occurrences.length} sessions cannot be booked.`;
    parts.push(element("p", { textContent: text }));
  }
  $("series").replaceChildren(...parts, actions);
  $("series").hidden = false;
  actions.querySelector("button").focus();
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
    say(refusalText(error));
    if (error.code === "pass_not_usable") loadPasses();
    if (shown) for (const button of $("series").querySelectorAll("button")) button.disabled = false;
    return;
  }
  if (data.series.bookings[0].pass_id) await loadPasses();
  say(seriesOutcome(data.series) + paidWithPass(data.series.bookings[0].pass_id));
  $("book").focus(); // the button pressed goes with the preview
  await Promise.all([loadSlots(), loadMine()]); // loadSlots drops the preview
}

// A 409 series_conflict names every occurrence refused at that moment: the preview shows that instead.
function refusedMeanwhile(refused) {
  const codes = new Map(refused.map((o) => [o.index, o.code]));
  state.preview.occurrences = state.preview.occurrences.map((o) => ({ ...o, bookable: !codes.has(o.index), code: codes.get(o.index) ?? null }));
  const named = refused.map((o) => `${dayAndTime(o.starts_at, zone())} (${verdict(o.code)})`).join(", ");
  say(`Nothing was booked: ${named} cannot be booked now.`);
  renderPreview();
}

function seriesOutcome(series) {
  const made = series.bookings;
  const sessions = made.length === 1 ? "1 weekly session" : `${made.length} weekly sessions`;
  let text = `Booked ${sessions} from ${dayAndTime(made[0].starts_at, zone())} (${zone()}): ${made[0].status}.`;
  if (series.skipped.length > 0) {
    text += ` Not booked: ${series.skipped.map((o) => `${dayAndTime(o.starts_at, zone())} (${verdict(o.code)})`).join(", ")}.`;
  }
  return text;
}

// --- paying with a package: the student's pass of this brand ---------------------------------------

// Why a pass cannot pay for this booking, in words; another reason is shown as the API words it.
const PASS_REFUSALS = {
  wrong_brand: "This package is for another brand",
  not_active: "This package is not active (unpaid, expired or cancelled)",
  instructor_not_included: "This package does not include this instructor",
  no_sessions_left: "Your package has too few sessions left for this",
  expires_before_session: "Your package ends before this session",
};

function refusalText(error) {
  const reason = error.code === "pass_not_usable" ? error.details?.reason : undefined;
  return PASS_REFUSALS[reason] ? `${PASS_REFUSALS[reason]}: nothing was booked.` : error.message;
}

function usablePasses() {
  return state.passes.filter((p) => p.brand_id === config.brandId && p.status === "active" && p.sessions_left > 0);
}

function sessionsLeft(count) {
  return count === 1 ? "1 session left" : `${count} sessions left`;
}

// valid_until is the first instant it no longer covers: the day shown is the last one it does, in the zone chosen.
function passLabel(found) {
  const until = found.valid_until ? `, valid until ${dayMonthYear(Date.parse(found.valid_until) - 1, zone())}` : "";
  return `${found.name} — ${sessionsLeft(found.sessions_left)}${until}`;
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
    element("option", { value: "", textContent: "Pay per session" }),
    ...usable.map((p) => element("option", { value: p.id, textContent: passLabel(p), selected: p.id === chosen })),
  );
  renderChosen(); // shows or hides the choice
}

function paidWithPass(passId) {
  if (!passId) return "";
  const found = state.passes.find((p) => p.id === passId);
  return found ? ` Paid with ${found.name}: ${sessionsLeft(found.sessions_left)}.` : " Paid with your package.";
}

// --- paying (when the service takes payments online) -------------------------------------------------

function needsPayment(booking) {
  const held = !booking.hold_expires_at || new Date(booking.hold_expires_at) > new Date();
  return config.payments && held && booking.status === "pending" && booking.payment_status === "unpaid" && booking.price && booking.price.amount > 0;
}

function payButton(booking) {
  const label = `Pay ${money(booking.price.amount, booking.price.currency)}`;
  return element("button", { type: "button", className: "pay", textContent: label, onclick: () => pay(booking) });
}

async function pay(booking) {
  let data;
  try {
    data = await api(`/api/bookings/${booking.id}/checkout`, { method: "POST", body: {}, token: state.token });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    say(error.message);
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
    say("Payment cancelled: your booking waits for payment until its hold ends.");
    return;
  }
  try {
    const data = await api(`/api/bookings/${bookingId}/checkout/refresh`, { method: "POST", body: { session_id: sessionId } });
    say(paymentOutcome(data.booking));
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    say(error.message);
  }
}

function paymentOutcome(booking) {
  const when = dayAndTime(booking.starts_at, zone());
  if (booking.payment_status !== "paid") return `Your payment has not arrived yet: your session of ${when} is ${booking.status}.`;
  if (booking.status === "confirmed") return `Paid: your session of ${when} is confirmed.`;
  return `Paid, but your session of ${when} is ${booking.status}: the payment will be refunded.`;
}

// --- my bookings -----------------------------------------------------------------------------------

async function loadMine() {
  if (!state.token) return;
  let data;
  try {
    data = await api("/api/bookings", { params: { brand_id: config.brandId, from: new Date().toISOString(), limit: "50" }, token: state.token });
  } catch (error) {
    say(error.message);
    return;
  }
  // By time: the API lists by creation, and a series' occurrences are created together.
  const upcoming = data.bookings
    .filter((b) => b.status === "pending" || b.status === "confirmed")
    .sort((a, b) => new Date(a.starts_at) - new Date(b.starts_at));
  $("mine").hidden = false;
  $("my-bookings").replaceChildren(
    ...(upcoming.length === 0 ? [element("li", { textContent: "No upcoming bookings." })] : upcoming.map(myBooking)),
  );
}

function myBooking(booking) {
  const weeklyPart = booking.series_id ? `, weekly session ${booking.series_index + 1}` : "";
  const text = `${dayAndTime(booking.starts_at, zone())} with ${instructorName(booking.instructor_id)}, ${booking.status}${weeklyPart}`;
  return element(
    "li",
    { className: "booking" },
    element("span", { textContent: text }),
    ...(needsPayment(booking) ? [payButton(booking)] : []),
    element("button", { type: "button", textContent: "Cancel", onclick: () => cancel(booking) }),
    element("button", { type: "button", textContent: "Reschedule", onclick: () => startMoving(booking) }),
  );
}

async function cancel(booking) {
  try {
    await api(`/api/bookings/${booking.id}`, { method: "PATCH", body: { status: "cancelled" }, token: state.token });
    say(`Cancelled your session of ${dayAndTime(booking.starts_at, zone())}.`);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    say(error.message);
  }
  await Promise.all([loadSlots(), loadMine()]);
}

async function startMoving(booking) {
  state.moving = booking;
  $("date").value = localDate(booking.starts_at, zone());
  say(`Choose a new time for your session of ${dayAndTime(booking.starts_at, zone())}.`);
  await chooseInstructor(booking.instructor_id);
  $("date").focus();
}

async function keepOldTime() {
  state.moving = null;
  say("");
  await loadSlots();
}

// --- start -----------------------------------------------------------------------------------------

function setUpControls() {
  const here = browserZone();
  $("timezone").replaceChildren(...zoneChoices(here).map(({ name, label }) => element("option", { value: name, textContent: label, selected: name === here })));
  $("date").value = localDate(new Date(), here);
  $("date").addEventListener("change", loadSlots);
  $("timezone").addEventListener("change", () => {
    loadSlots();
    loadMine();
    renderPasses(); // the packages' last days, in the new zone
  });
  const keep = element("button", { type: "button", id: "keep", textContent: "Keep the old time", hidden: true, onclick: keepOldTime });
  $("book").after(keep);
  $("booking-form").addEventListener("submit", submit);
  $("booking-form").addEventListener("input", dropPreview); // the preview was of the form as it was
  $("weekly").addEventListener("change", () => {
    $("sessions-field").hidden = !$("weekly").checked;
  });
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
    say(error.message);
  }
  document.body.dataset.ready = "true";
}

start();
