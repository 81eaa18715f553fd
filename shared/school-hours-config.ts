// Config schemas of the school-hours model (shared/school-hours.ts), one for every section that
// names hours: `collector.alerts` (hours, calendars) and the agent's `probes.speedtest`.
import Type from 'typebox';

const Range = Type.String({
  pattern: '^\\d{1,2}:\\d{2}\\s*-\\s*\\d{1,2}:\\d{2}$',
  description: 'HH:MM-HH:MM',
});
const Day = Type.Array(Range, { maxItems: 8 });
const LocalDate = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD' });

/** Opening ranges per weekday (a missing day is closed) and the holiday calendars that close it. */
export const HoursProfileConfig = Type.Object(
  {
    mon: Type.Optional(Day),
    tue: Type.Optional(Day),
    wed: Type.Optional(Day),
    thu: Type.Optional(Day),
    fri: Type.Optional(Day),
    sat: Type.Optional(Day),
    sun: Type.Optional(Day),
    /** Holiday calendars (names under `calendars`) during which this profile is closed. */
    holidays: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);

/** Holiday calendars: name → closed periods (first and last closed day, inclusive, local dates). */
export const HolidayCalendarsConfig = Type.Record(
  Type.String(),
  Type.Array(
    Type.Object({ name: Type.String(), from: LocalDate, to: LocalDate }, { additionalProperties: false }),
  ),
  { default: {} },
);
