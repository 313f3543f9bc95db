// The payment_failure workflow type, as the registry (../registry.ts) lists it.
import { workflowModule } from '../shared/module.ts';
import { paymentFailureNotifications } from './notifications.ts';
import { paymentTrigger, startPayment } from '../shared/payment-operation.ts';
import { paymentFailure } from './workflow.ts';

export const paymentFailureModule = workflowModule({
  type: 'payment_failure',
  label: 'Payment failed',
  define: paymentFailure,
  start: startPayment,
  route: { method: 'post', path: '/payments' },
  trigger: paymentTrigger('failed'),
  notifications: paymentFailureNotifications,
});
