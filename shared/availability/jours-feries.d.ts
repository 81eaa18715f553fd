// @socialgouv/jours-feries 2.x ships CommonJS without types: `module.exports = getJoursFeries`.
declare module '@socialgouv/jours-feries' {
  /**
   * French public holidays of `year`, by French name. Each Date is midnight of the holiday in the
   * *process* time zone (`new Date(year, month, day)`), and the movable feasts are Easter's midnight
   * plus n × 24 h, so they drift by an hour where the process zone changes offset in between.
   */
  function getJoursFeries(year: number, options?: { alsace?: boolean }): Record<string, Date>;
  export = getJoursFeries;
}
