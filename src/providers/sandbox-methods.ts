/**
 * The sandbox's test payment methods. Each always behaves the same, so every branch of the
 * payment workflows can be reached on purpose from the API, the demo and the tests.
 */
export type SandboxBehaviour =
  | { kind: 'succeed' }
  | { kind: 'decline'; code: string; message: string }
  /** Fails before reaching the "provider": nothing is recorded, a retry may pass. */
  | { kind: 'network_error' }
  /** Hangs for a short bounded delay, then fails like a client-side timeout. */
  | { kind: 'timeout' }
  /** The charge is made but the answer is lost on the way back: the retry must find it. */
  | { kind: 'lost_response' };

export const SANDBOX_PAYMENT_METHODS: Readonly<Record<string, SandboxBehaviour>> = {
  pm_card_ok: { kind: 'succeed' },
  pm_card_insufficient_funds: {
    kind: 'decline',
    code: 'insufficient_funds',
    message: 'Your card has insufficient funds.',
  },
  pm_card_processing_error: {
    kind: 'decline',
    code: 'processing_error',
    message: 'An error occurred while processing your card.',
  },
  pm_card_stolen: { kind: 'decline', code: 'stolen_card', message: 'Your card was declined.' },
  pm_card_fraudulent: { kind: 'decline', code: 'fraudulent', message: 'Your card was declined.' },
  pm_card_lost: { kind: 'decline', code: 'lost_card', message: 'Your card was declined.' },
  pm_network_error: { kind: 'network_error' },
  pm_timeout: { kind: 'timeout' },
  pm_lost_response: { kind: 'lost_response' },
};

export function sandboxBehaviour(paymentMethod: string): SandboxBehaviour | undefined {
  return Object.hasOwn(SANDBOX_PAYMENT_METHODS, paymentMethod) ? SANDBOX_PAYMENT_METHODS[paymentMethod] : undefined;
}
