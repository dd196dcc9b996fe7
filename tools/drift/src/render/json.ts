import type { Report } from "../report";

/** The report as pretty JSON; `parseReport` reads it back. */
export const renderJson = (report: Report): string => `${JSON.stringify(report, null, 2)}\n`;
