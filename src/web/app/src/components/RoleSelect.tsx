// A role picker offering the roles up to `max` (nobody hands out more than they have).
import type { Role } from '../types.ts';
import { ROLES, ROLE_LABELS, roleAtLeast } from '../types.ts';

export function RoleSelect({
  id,
  value,
  onChange,
  max,
  label,
}: {
  id?: string;
  value: Role;
  onChange: (r: Role) => void;
  max: Role;
  label?: string;
}) {
  return (
    <select id={id} aria-label={label} value={value} onChange={(e) => onChange(e.target.value as Role)}>
      {ROLES.filter((r) => roleAtLeast(max, r)).map((r) => (
        <option key={r} value={r}>
          {ROLE_LABELS[r]}
        </option>
      ))}
    </select>
  );
}
