// The route grammar moved to src/protocol (imported by config and the core too); this name stays
// for the capabilities' existing imports.
export * from '../protocol/kserve-route.js';
