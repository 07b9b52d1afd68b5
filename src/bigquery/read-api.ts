// How query results are read, as a setting: through the Storage Read API or as REST pages.
export const READ_APIS = ['storage', 'rest'] as const;
/** `storage`: the Storage Read API where it can be used, REST otherwise; `rest`: always REST pages. */
export type ReadApi = (typeof READ_APIS)[number];
