/** The scheduler core's entry point, kept for existing importers: see `state_machine.ts`. */
export { emptyState, recover, Scheduler, step } from "./state_machine.ts";
export { assertDagTransition, assertTransition, IllegalTransitionError } from "./transitions.ts";
