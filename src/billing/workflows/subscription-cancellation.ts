import { defineWorkflow } from '../../engine/index.ts';
import type { AnyWorkflow } from '../../engine/index.ts';
import type { WorkflowDeps } from './deps.ts';

// Placeholder until the workflow is built: one step that does nothing.
export function subscriptionCancellation(deps: WorkflowDeps): AnyWorkflow {
  void deps;
  return defineWorkflow<unknown>({
    type: 'subscription_cancellation',
    steps: [{ name: 'todo', kind: 'external', run: async () => null }],
  }) as AnyWorkflow;
}
