import fs from "node:fs";
import path from "node:path";
import { serviceEntries } from "@blueprint/service-kit/catalog";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ZIPKIN_MAX_SPANS } from "../deps/zipkin";

// What Compose itself cannot know: that the files it mounts and builds from exist and that the
// services match the catalog. Whether Compose accepts the file is checked by loading it with
// compose-go (tools/compose-check, `npm run compose:check`, part of `npm test`).
const root = path.resolve(__dirname, "../..");
const composeFile = path.join(root, "docker-compose-local.yml");
const compose = parse(fs.readFileSync(composeFile, "utf8"), { merge: true }) as {
  services: Record<string, Service>;
};

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  environment?: Record<string, string | number>;
}

/** Source paths of a Dockerfile's COPY instructions that read the build context. */
function dockerfileSources(file: string): string[] {
  const text = fs.readFileSync(file, "utf8").replace(/\\\n/g, " ");
  return text
    .split("\n")
    .filter((line) => /^COPY\s/i.test(line) && !/--from=/.test(line))
    .flatMap((line) => line.trim().split(/\s+/).slice(1, -1))
    .filter((arg) => !arg.startsWith("--"));
}

describe("docker-compose-local.yml", () => {
  it("When it mounts or builds from repository paths, then every one of them exists", () => {
    const missing: string[] = [];
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(":")[0] ?? "";
        if (source.startsWith("./") && !fs.existsSync(path.join(root, source)))
          missing.push(`${name}: ${source}`);
      }
      if (service.build) {
        const context = path.join(root, service.build.context);
        const dockerfile = path.join(context, service.build.dockerfile);
        if (!fs.existsSync(dockerfile)) missing.push(`${name}: ${service.build.dockerfile}`);
        else
          for (const source of dockerfileSources(dockerfile)) {
            if (!fs.existsSync(path.join(context, source))) missing.push(`${name}: COPY ${source}`);
          }
      }
    }
    expect(missing).toEqual([]);
  });

  it("When the stack starts, then the three services listen on their catalog ports, wait for healthy dependencies and report health", () => {
    for (const entry of serviceEntries()) {
      const service = compose.services[entry.name];
      expect(service?.build?.dockerfile).toBe(`services/${entry.name}/Dockerfile`);
      expect(service?.ports?.[0]).toMatch(new RegExp(`:-${entry.port}}:${entry.port}$`));
      expect(service?.environment).toMatchObject({ PGUSER: entry.database.role, PORT: entry.port });
      expect(service?.depends_on).toMatchObject({
        postgres: { condition: "service_healthy" },
        kafka: { condition: "service_healthy" },
        "kafka-init": { condition: "service_completed_successfully" },
      });
      expect(service?.healthcheck?.test.join(" ")).toContain("/ready");
    }
    expect(compose.services["notification-service"]?.depends_on?.mailpit).toEqual({
      condition: "service_healthy",
    });
    // Compose interpolation syntax, not template literals.
    expect(compose.services.grafana?.ports).toEqual(["127.0.0.1:$" + "{GRAFANA_PORT:-3000}:3000"]);
    expect(compose.services.prometheus?.ports).toEqual(["127.0.0.1:$" + "{PROMETHEUS_PORT:-9090}:9090"]);
  });

  it("When the stack runs, then every service sends its spans to the zipkin service, whose UI is published on ZIPKIN_PORT", () => {
    for (const entry of serviceEntries()) {
      expect(compose.services[entry.name]?.environment).toMatchObject({
        OTEL_TRACES_EXPORTER: "zipkin",
        OTEL_EXPORTER_ZIPKIN_ENDPOINT: "http://zipkin:9411/api/v2/spans",
      });
    }
    expect(compose.services.zipkin?.ports).toEqual(["127.0.0.1:$" + "{ZIPKIN_PORT:-9411}:9411"]);
    expect(compose.services.zipkin?.healthcheck?.test.join(" ")).toContain("/health");
    expect(compose.services.zipkin?.environment?.MEM_MAX_SPANS).toBe(ZIPKIN_MAX_SPANS);
  });

  it("When PostgreSQL initializes a new volume, then it is healthy only once it accepts TCP connections", () => {
    // The image's entrypoint runs init.sql on a temporary server that listens on the Unix socket
    // only, then restarts it: a pg_isready over the socket would report healthy in between.
    expect(compose.services.postgres?.healthcheck?.test.join(" ")).toMatch(/pg_isready -h 127\.0\.0\.1 /);
  });

  it("When a client on the host bootstraps from the published Kafka port, then the broker advertises the address it is published on", () => {
    // Published on 127.0.0.1 only; `localhost` may resolve to ::1 first, where nothing listens.
    expect(compose.services.kafka?.ports).toEqual(["127.0.0.1:$" + "{KAFKA_PORT:-9092}:9092"]);
    expect(compose.services.kafka?.environment?.KAFKA_ADVERTISED_LISTENERS).toContain(
      "EXTERNAL://127.0.0.1:$" + "{KAFKA_PORT:-9092}",
    );
  });

  it("When a service image is built, then its Dockerfile is multi-stage, installs production dependencies only, runs as non-root, has a healthcheck and sets the young generation", () => {
    for (const entry of serviceEntries()) {
      const text = fs.readFileSync(path.join(root, `services/${entry.name}/Dockerfile`), "utf8");
      expect(text.match(/^FROM /gm)).toHaveLength(2);
      expect(text).toMatch(/npm ci --omit=dev/);
      expect(text).toMatch(/^USER node$/m);
      expect(text).toMatch(/^HEALTHCHECK /m);
      expect(text).toContain(`EXPOSE ${entry.port}`);
      // The young generation V8 would size from a 512 MiB limit costs CPU (README, Performance).
      expect(text).toContain(
        `CMD ["node", "--max-semi-space-size=8", "services/${entry.name}/dist/main.js"]`,
      );
    }
  });
});
