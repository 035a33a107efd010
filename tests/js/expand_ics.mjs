// Expand an iCalendar file the way Thunderbird does (ical.js), printing every occurrence
// between two instants as [start, end] in UTC ISO-8601, cancelled ones left out.
// usage: node expand_ics.mjs FILE.ics FROM_ISO TO_ISO
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const [file, fromIso, toIso] = process.argv.slice(2);
const root = new ICAL.Component(ICAL.parse(readFileSync(file, "utf8")));
for (const vtz of root.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(new ICAL.Timezone(vtz));
}
const from = new Date(fromIso).getTime();
const to = new Date(toIso).getTime();

const masters = new Map();
const exceptions = [];
for (const vevent of root.getAllSubcomponents("vevent")) {
  const event = new ICAL.Event(vevent);
  if (event.isRecurrenceException()) exceptions.push(event);
  else masters.set(event.uid + (event.isRecurring() ? "" : "#single"), event);
}
for (const exception of exceptions) {
  const master = masters.get(exception.uid);
  if (master) master.relateException(exception);
}

const out = [];
const cancelled = (component) =>
  String(component.getFirstPropertyValue("status") || "").toUpperCase() === "CANCELLED";
for (const event of masters.values()) {
  if (!event.isRecurring()) {
    const start = event.startDate.toJSDate().getTime();
    const end = event.endDate.toJSDate().getTime();
    if (!cancelled(event.component) && end > from && start < to) {
      out.push([new Date(start).toISOString(), new Date(end).toISOString()]);
    }
    continue;
  }
  const it = event.iterator();
  for (let next = it.next(); next; next = it.next()) {
    const details = event.getOccurrenceDetails(next);
    const start = details.startDate.toJSDate().getTime();
    const end = details.endDate.toJSDate().getTime();
    if (next.toJSDate().getTime() >= to && start >= to) break;
    if (cancelled(details.item.component)) continue;
    if (end > from && start < to) {
      out.push([new Date(start).toISOString(), new Date(end).toISOString()]);
    }
  }
}
out.sort();
process.stdout.write(JSON.stringify(out));
