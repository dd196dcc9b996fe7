import { afterEach, describe, expect, it, vi } from "vitest";
import { JAVA, javaAptPackage, MAVEN } from "./kafka";
import { POSTGRES_SERVER } from "./postgres";
import { ensure, type Prerequisite, PrerequisiteError } from "./prerequisites";
import { PROMETHEUS } from "./prometheus";

const absent = (p: Prerequisite): Prerequisite => ({ ...p, isPresent: () => false });

describe("missing prerequisites", () => {
  afterEach(() => vi.restoreAllMocks());

  it.each([
    [
      POSTGRES_SERVER,
      "postgresql",
      'postgresql@16 && export PATH="$(brew --prefix postgresql@16)/bin:$PATH"',
      "PGHOST, PGPORT, PGSUPERUSER, PGSUPERPASSWORD",
    ],
    [
      JAVA,
      "default-jre-headless",
      'openjdk@17 && export PATH="$(brew --prefix openjdk@17)/bin:$PATH"',
      "KAFKA_BROKERS",
    ],
    [MAVEN, "maven", "maven", "KAFKA_BROKERS"],
    [PROMETHEUS, "prometheus", "prometheus", "PROMETHEUS_URL"],
  ])(
    "When $what is missing without root, then the error names the apt and Homebrew installs and the external alternative",
    (prerequisite, apt, brew, variables) => {
      vi.spyOn(process, "getuid").mockReturnValue(1000);
      const missing = absent(prerequisite);
      expect(() => ensure(missing)).toThrow(PrerequisiteError);
      expect(() => ensure(missing)).toThrow(
        [
          `${prerequisite.what} is ${missing.state?.() ?? "missing"}. Install it:`,
          `  Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y ${apt}`,
          `  macOS (Homebrew): brew install ${brew}`,
          `  or use one already running (e.g. docker compose): BLUEPRINT_DEPS=external with ${variables}`,
        ].join("\n"),
      );
    },
  );

  it("When a prerequisite is present, then ensure does nothing", () => {
    expect(() => ensure({ ...MAVEN, isPresent: () => true })).not.toThrow();
  });

  it("When the distribution's default Java is older than 17, then the Java to install is openjdk-17-jre-headless", () => {
    // `apt-cache depends default-jre-headless` on Ubuntu 22.04, Debian 12 and without apt-cache.
    expect(javaAptPackage("default-jre-headless\n  Depends: openjdk-11-jre-headless\n")).toBe(
      "openjdk-17-jre-headless",
    );
    expect(javaAptPackage("default-jre-headless\n  Depends: openjdk-17-jre-headless\n")).toBe(
      "default-jre-headless",
    );
    expect(javaAptPackage(undefined)).toBe("default-jre-headless");
  });
});
