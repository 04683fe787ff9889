// Host and time-range filters that every page turns into a WHERE clause (sql.js where()) and re-queries with.
import * as Inputs from "npm:@observablehq/inputs";

/** A form {host, from, to}: host null = all hosts; from/to are Dates (UTC instants). */
export function hostTimeFilter({hosts, min, max, time = true}) {
  const fields = {host: Inputs.select([null, ...hosts], {label: "Host", format: (h) => h ?? "All hosts"})};
  if (time && min && max) {
    fields.from = Inputs.datetime({label: "From", value: min, min, max});
    fields.to = Inputs.datetime({label: "To", value: max, min, max});
  }
  return Inputs.form(fields);
}
