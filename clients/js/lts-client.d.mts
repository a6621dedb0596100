export * from "./lts-client.js";
