/** The NOTIFY channel that wakes workers; the payload is a workflow type, or '' for "look". */
export const RUNS_CHANNEL = 'billflow_runs';
