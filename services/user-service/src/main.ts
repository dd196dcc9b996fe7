import { baseConfigSchema, ConfigError, createLogger, createPool, loadConfig } from "@blueprint/service-kit";
import { buildApp } from "./app";

function start(): void {
  const config = loadConfig(
    baseConfigSchema.extend({ SERVICE_NAME: baseConfigSchema.shape.SERVICE_NAME.default("user-service") }),
  );
  const logger = createLogger(config.SERVICE_NAME, config.LOG_LEVEL);
  const pool = createPool(config);
  const server = buildApp({ pool, logger }).listen(config.PORT, () =>
    logger.info({ port: config.PORT }, "listening"),
  );

  const shutdown = (signal: string) => {
    logger.info({ signal }, "shutting down");
    server.close(() => void pool.end().then(() => process.exit(0)));
    setTimeout(() => process.exit(1), config.SHUTDOWN_TIMEOUT_MS).unref();
  };
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

try {
  start();
} catch (error) {
  console.error(error instanceof ConfigError ? `user-service: ${error.message}` : error);
  process.exit(1);
}
