// The invoice_creation workflow type, as the registry (../registry.ts) lists it.
import { workflowModule } from '../shared/module.ts';
import { invoiceCreationNotifications } from './notifications.ts';
import { invoiceCreationTrigger } from './operation.ts';
import { invoiceCreationRoute } from './route.ts';
import { invoiceCreation } from './workflow.ts';

export const invoiceCreationModule = workflowModule({
  type: 'invoice_creation',
  label: 'Invoice created',
  define: invoiceCreation,
  route: invoiceCreationRoute,
  trigger: invoiceCreationTrigger,
  notifications: invoiceCreationNotifications,
});
