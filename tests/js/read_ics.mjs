// Read iCalendar files with ical.js (the parser Thunderbird uses) and print what a client
// takes from each: the METHOD and, per VEVENT, its UID, RECURRENCE-ID, start and end (UTC
// and the local wall time with its zone), SEQUENCE, STATUS and alarms, as JSON.
// usage: node read_ics.mjs FILE.ics [FILE.ics ...]
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const wall = (time) =>
  time
    ? { utc: time.toJSDate().toISOString(), local: time.toString(), zone: time.zone ? time.zone.tzid : null }
    : null;

const out = process.argv.slice(2).map((file) => {
  const root = new ICAL.Component(ICAL.parse(readFileSync(file, "utf8")));
  for (const vtz of root.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.register(new ICAL.Timezone(vtz));
  }
  return {
    method: root.getFirstPropertyValue("method"),
    name: root.getFirstPropertyValue("x-wr-calname"),
    events: root.getAllSubcomponents("vevent").map((vevent) => {
      const event = new ICAL.Event(vevent);
      return {
        uid: event.uid,
        summary: event.summary,
        sequence: event.sequence,
        status: vevent.getFirstPropertyValue("status"),
        recurrenceId: wall(event.recurrenceId),
        start: wall(event.startDate),
        end: wall(event.endDate),
        recurring: event.isRecurring(),
        organizer: vevent.getFirstPropertyValue("organizer"),
        attendees: vevent.getAllProperties("attendee").length,
        alarms: vevent.getAllSubcomponents("valarm").map((alarm) => ({
          action: alarm.getFirstPropertyValue("action"),
          trigger: String(alarm.getFirstPropertyValue("trigger")),
          seconds: alarm.getFirstPropertyValue("trigger").toSeconds(),
          description: alarm.getFirstPropertyValue("description"),
        })),
      };
    }),
  };
});
process.stdout.write(JSON.stringify(out));
