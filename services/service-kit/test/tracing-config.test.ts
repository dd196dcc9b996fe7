import { describe, expect, it } from "@jest/globals";
import { ConfigError } from "../src";
import { startTracing } from "../src/tracing";

describe("tracing settings", () => {
  it.each([
    [
      { OTEL_TRACES_EXPORTER: "jaeger" },
      'OTEL_TRACES_EXPORTER: Invalid option: expected one of "zipkin"|"otlp"|"none"',
    ],
    [
      { OTEL_TRACES_EXPORTER: "zipkin", OTEL_EXPORTER_ZIPKIN_ENDPOINT: "zipkin:9411" },
      "OTEL_EXPORTER_ZIPKIN_ENDPOINT",
    ],
    [{ OTEL_TRACES_EXPORTER: "zipkin", OTEL_BSP_SCHEDULE_DELAY: "soon" }, "OTEL_BSP_SCHEDULE_DELAY"],
    [{ OTEL_TRACES_EXPORTER: "otlp", OTEL_TRACES_SAMPLER: "ratio" }, "OTEL_TRACES_SAMPLER"],
    [{ OTEL_TRACES_EXPORTER: "otlp", OTEL_TRACES_SAMPLER_ARG: "10" }, "OTEL_TRACES_SAMPLER_ARG"],
    [{ OTEL_TRACES_EXPORTER: "zipkin", OTEL_BSP_EXPORT_TIMEOUT: "0" }, "OTEL_BSP_EXPORT_TIMEOUT"],
    [
      {
        OTEL_TRACES_EXPORTER: "zipkin",
        OTEL_BSP_MAX_QUEUE_SIZE: "100",
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: "512",
      },
      "OTEL_BSP_MAX_EXPORT_BATCH_SIZE: must not exceed OTEL_BSP_MAX_QUEUE_SIZE",
    ],
  ])("When the tracing settings are %j, then start-up fails naming the variable", async (env, named) => {
    const start = startTracing("user-service", env);

    await expect(start).rejects.toThrow(ConfigError);
    await expect(start).rejects.toThrow(named);
  });
});
