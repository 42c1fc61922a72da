// Times shown in the chosen zone by the browser's Intl; nothing computed by hand, so a DST day shows
// exactly the instants the API returned.

const formats = new Map();

function format(zone, options) {
  const key = zone + JSON.stringify(options);
  if (!formats.has(key)) formats.set(key, new Intl.DateTimeFormat("en-GB", { timeZone: zone, ...options }));
  return formats.get(key);
}

export function hhmm(instant, zone) {
  return format(zone, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date(instant));
}

export function dayAndTime(instant, zone) {
  const day = format(zone, { weekday: "short", day: "numeric", month: "short" }).format(new Date(instant));
  return `${day}, ${hhmm(instant, zone)}`;
}

// "12 Mar 2026": the date of an instant in a zone, for a package's last day.
export function dayMonthYear(instant, zone) {
  return format(zone, { day: "numeric", month: "short", year: "numeric" }).format(new Date(instant));
}

// YYYY-MM-DD of an instant in a zone.
export function localDate(instant, zone) {
  const parts = format(zone, { year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(new Date(instant));
  const part = (type) => parts.find((p) => p.type === type).value;
  return `${part("year")}-${part("month")}-${part("day")}`;
}

export function browserZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

// The zones to choose from: Intl's canonical names (no old aliases such as "US/Eastern"), each with its
// offset from UTC now, ordered by that offset: "(UTC+01:00) Europe/Berlin".
export function zoneChoices(preferred) {
  const names = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  const now = new Date();
  return [...new Set([...names, "UTC", preferred])]
    .map((name) => ({ name, minutes: offsetMinutes(name, now) }))
    .sort((a, b) => a.minutes - b.minutes || a.name.localeCompare(b.name))
    .map(({ name, minutes }) => ({ name, label: `(UTC${offsetText(minutes)}) ${name}` }));
}

function offsetMinutes(zone, instant) {
  const parts = format(zone, { timeZoneName: "longOffset" }).formatToParts(instant);
  const text = parts.find((p) => p.type === "timeZoneName").value; // "GMT+05:30", or "GMT" for zero
  const match = /GMT([+-])(\d{2}):(\d{2})/.exec(text);
  return match ? (match[1] === "-" ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3])) : 0;
}

function offsetText(minutes) {
  const sign = minutes < 0 ? "-" : "+";
  const whole = Math.abs(minutes);
  return `${sign}${String(Math.floor(whole / 60)).padStart(2, "0")}:${String(whole % 60).padStart(2, "0")}`;
}
