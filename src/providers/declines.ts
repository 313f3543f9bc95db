import type { Decline } from './types.ts';

/**
 * Decline codes after which charging the same payment method again cannot succeed: the card is
 * gone, blocked, suspected of fraud, wrong, or the issuer said never to retry. Dunning stops on
 * these (retrying them only adds fees and, for fraud codes, risk). Everything else — insufficient
 * funds, processing errors, issuer unavailable, generic and do_not_honor declines — is soft:
 * issuers approve those often enough on a later day that the schedule goes on.
 */
const HARD = new Set([
  'authentication_required',
  'card_not_supported',
  'currency_not_supported',
  'do_not_try_again',
  'expired_card',
  'fraudulent',
  'incorrect_number',
  'invalid_account',
  'invalid_expiry_month',
  'invalid_expiry_year',
  'invalid_number',
  'lost_card',
  'merchant_blacklist',
  'new_account_information_available',
  'pickup_card',
  'restricted_card',
  'revocation_of_all_authorizations',
  'revocation_of_authorization',
  'security_violation',
  'stolen_card',
  'stop_payment_order',
  'transaction_not_allowed',
]);

/**
 * Classifies a decline. The issuer's advice, when given, wins over the code: Stripe's
 * `advice_code` says directly whether a retry can help.
 */
export function classifyDecline(code: string | null | undefined, adviceCode?: string | null): Decline {
  if (adviceCode === 'do_not_try_again' || adviceCode === 'confirm_card_data') return 'hard';
  if (adviceCode === 'try_again_later') return 'soft';
  return code && HARD.has(code) ? 'hard' : 'soft';
}
