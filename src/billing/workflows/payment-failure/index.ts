// The payment_failure workflow type, as the registry (../registry.ts) lists it.
import { workflowModule } from '../shared/module.ts';
import { paymentFailureNotifications } from './notifications.ts';
import { paymentTrigger } from '../shared/payment-operation.ts';
import { paymentRoute } from '../shared/payment-route.ts';
import { paymentFailure } from './workflow.ts';

export const paymentFailureModule = workflowModule({
  type: 'payment_failure',
  label: 'Payment failed',
  define: paymentFailure,
  route: paymentRoute,
  trigger: paymentTrigger('failed'),
  notifications: paymentFailureNotifications,
});
