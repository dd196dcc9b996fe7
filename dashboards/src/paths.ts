import path from "node:path";

/** The repository root; generated paths below are relative to it. */
export const REPO_ROOT = path.resolve(__dirname, "../..");

export const GENERATED_DIR = "dashboards/generated";
/** Scrape config of the natively run Prometheus; scripts/deps/prometheus.ts loads it. */
export const LOCAL_PROMETHEUS_CONFIG = `${GENERATED_DIR}/prometheus.local.yml`;
export const RULES_DIR = `${GENERATED_DIR}/rules`;
/** Alertmanager config of the native run (`npm run deps:up`); scripts/deps/alertmanager.ts loads it. */
export const LOCAL_ALERTMANAGER_CONFIG = `${GENERATED_DIR}/alertmanager.local.yml`;
export const COMPOSE_ALERTMANAGER_CONFIG = `${GENERATED_DIR}/alertmanager.compose.yml`;
