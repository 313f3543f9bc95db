// The chargeback_creation workflow type, as the registry (../registry.ts) lists it.
import { workflowModule } from '../shared/module.ts';
import { chargebackCreationNotifications } from './notifications.ts';
import { chargebackCreationTrigger, startChargeback } from './operation.ts';
import { chargebackCreation } from './workflow.ts';

export const chargebackCreationModule = workflowModule({
  type: 'chargeback_creation',
  label: 'Chargeback',
  define: chargebackCreation,
  start: startChargeback,
  route: { method: 'post', path: '/chargebacks' },
  trigger: chargebackCreationTrigger,
  notifications: chargebackCreationNotifications,
});
