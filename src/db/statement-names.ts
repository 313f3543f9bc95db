/**
 * Keeps each statement name to one SQL text. PostgreSQL prepares a named statement once per
 * connection and pg refuses a second text under a known name, but only on a connection that has
 * seen the first, so a clash would fail now and then. Checked per database handle, on both
 * databases, it fails the first time the second text runs.
 */
export function statementNameCheck(): (name: string, sql: string) => void {
  const texts = new Map<string, string>();
  return (name, sql) => {
    const known = texts.get(name);
    if (known === undefined) texts.set(name, sql);
    else if (known !== sql) throw new Error(`the statement name ${name} already stands for other SQL`);
  };
}
