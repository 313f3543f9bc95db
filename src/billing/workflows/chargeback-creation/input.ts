// chargeback_creation's input: the chargeback's facts and the id chosen for it.
import { InputReader, parseChargebackInput } from '../../records/index.ts';
import type { ChargebackInput } from '../../records/index.ts';
import { idPattern } from '../../records/validate.ts';
import { parseOrigin, withOrigin } from '../shared/origin.ts';
import type { RunOrigin } from '../shared/origin.ts';

export interface ChargebackCreationInput extends ChargebackInput {
  chargeback_id: string;
  /** Started by the provider's dispute event (shown with the run; the workflow calls no provider). */
  origin?: RunOrigin;
}

export function parseChargebackRunInput(raw: unknown): ChargebackCreationInput {
  const request = parseChargebackInput(raw);
  const r = new InputReader(raw);
  const chargeback_id = r.string('chargeback_id', {
    required: true,
    pattern: idPattern('cb'),
    hint: 'must be a cb_ id',
  });
  r.done();
  return withOrigin({ ...request, chargeback_id }, parseOrigin(raw));
}
