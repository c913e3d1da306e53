/** What the examples share: none of it is Herald's API, only the setting around it. */
export { ApiError, type ApiHandler, serveApp } from './app-server.js';
export { type ExampleHerald, exampleHerald } from './herald.js';
export { buildPage } from './page.js';
export { onShutdown } from './shutdown.js';
