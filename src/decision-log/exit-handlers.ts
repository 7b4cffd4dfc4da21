/** Logs not yet closed by their owner; one process `exit` listener writes what they still hold. */
export const exitHandlers = new Set<() => void>();
process.once('exit', () => {
  for (const write of exitHandlers) write();
});
