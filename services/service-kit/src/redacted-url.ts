/**
 * The URL as request logs and spans may hold it: query values and any path segment holding an `@` (an email
 * in a mistyped path) replaced, so that logs and traces never carry personal data a client put in the URL.
 */
export function redactedUrl(url: string): string {
  const [path = "", query] = url.split("?", 2);
  const redactedPath = path
    .split("/")
    .map((segment) => (/@|%40/i.test(segment) ? "[redacted]" : segment))
    .join("/");
  if (query === undefined) return redactedPath;
  const names = [...new URLSearchParams(query).keys()].map((name) =>
    /@/.test(name) ? "[redacted]" : encodeURIComponent(name),
  );
  return `${redactedPath}?${[...new Set(names)].map((name) => `${name}=[redacted]`).join("&")}`;
}
