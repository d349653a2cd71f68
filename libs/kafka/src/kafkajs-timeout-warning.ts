/**
 * kafkajs 2.2.4 (its last release) schedules its request-queue check with
 * `setTimeout(fn, throttledUntil - Date.now())` while `throttledUntil` is 0, so on Node >= 23 every
 * new connection prints "TimeoutNegativeWarning: -1796282578372 is a negative number" (Node then
 * uses 1 ms, which is what kafkajs meant: check now). Harmless, but it lands on every app's stderr
 * and in the demo's output. Known upstream (tulios/kafkajs#1751; fix PRs #1755/#1756 unreleased).
 * This drops exactly that warning when kafkajs code is on the stack and lets every other warning
 * through. Goes away with the client (see kafka-client.ts).
 */
let installed = false;

export function silenceKafkajsNegativeTimeoutWarning(): void {
  if (installed) return;
  installed = true;
  const original = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: unknown, ...rest: unknown[]) => {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    if (type === 'TimeoutNegativeWarning' && isFromKafkajs(new Error().stack)) return;
    original(warning, ...rest);
  }) as typeof process.emitWarning;
}

export function isFromKafkajs(stack: string | undefined): boolean {
  return /[\\/]kafkajs[\\/]src[\\/]/.test(stack ?? '');
}
