// The payment_success workflow type, as the registry (../registry.ts) lists it.
import { workflowModule } from '../shared/module.ts';
import { paymentSuccessNotifications } from './notifications.ts';
import { paymentTrigger } from '../shared/payment-operation.ts';
import { paymentRoute } from '../shared/payment-route.ts';
import { paymentSuccess } from './workflow.ts';

export const paymentSuccessModule = workflowModule({
  type: 'payment_success',
  label: 'Payment succeeded',
  define: paymentSuccess,
  route: paymentRoute,
  trigger: paymentTrigger('succeeded'),
  notifications: paymentSuccessNotifications,
});
