export * from "./catalog";
export * from "./config";
export * from "./database";
export * from "./health";
export * from "./http-app";
export * from "./logger";
