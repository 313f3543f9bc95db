// The payment_success workflow type, as the registry (../registry.ts) lists it.
import { workflowModule } from '../shared/module.ts';
import { paymentSuccessNotifications } from './notifications.ts';
import { paymentTrigger, startPayment } from '../shared/payment-operation.ts';
import { paymentSuccess } from './workflow.ts';

export const paymentSuccessModule = workflowModule({
  type: 'payment_success',
  label: 'Payment succeeded',
  define: paymentSuccess,
  start: startPayment,
  route: { method: 'post', path: '/payments' },
  trigger: paymentTrigger('succeeded'),
  notifications: paymentSuccessNotifications,
});
