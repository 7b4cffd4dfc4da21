/**
 * parseStrictJson vs JSON.parse on a ~1 KB body. Not a test: `npx tsx bench/strict-json.ts`.
 * Target: well under 50 µs per 1 KB body.
 */
import { parseStrictJson } from '../src/payload/strict-json.js';

const body = {
  orderId: 'ord_8f14e45fceea167a5a36dedd4bea2543',
  customer: { id: 4711, name: 'Jane Q. Public', email: 'jane@example.com', tags: ['gold', 'eu', 'b2b'] },
  items: Array.from({ length: 9 }, (_, i) => ({
    sku: `SKU-${1000 + i}`,
    quantity: i + 1,
    unitPrice: 19.99 + i,
    note: i % 2 === 0 ? 'gift wrap, "fragile" \u00e9' : null,
  })),
  shipping: { method: 'express', address: { line1: '1 Main St', city: 'Berlin', zip: '10115', country: 'DE' } },
  paid: true,
  createdAt: '2024-05-01T12:34:56.789Z',
};
const text = JSON.stringify(body);
const bytes = new TextEncoder().encode(text);
const decoder = new TextDecoder('utf-8', { fatal: true });

function measure(name: string, fn: () => unknown): void {
  for (let i = 0; i < 20_000; i++) fn(); // warm-up
  const iterations = 200_000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  const ns = Number(process.hrtime.bigint() - start);
  const perOp = ns / iterations / 1000;
  console.log(
    `${name.padEnd(34)} ${Math.round(1e6 / perOp)
      .toLocaleString('en')
      .padStart(10)} ops/s  ${perOp.toFixed(2)} µs/op`,
  );
}

console.log(`body: ${bytes.length} bytes`);
const check = parseStrictJson(bytes, { maxDepth: 32 });
if (!check.ok) throw new Error(`bench body rejected: ${check.reason}`);
measure('parseStrictJson(bytes)', () => parseStrictJson(bytes, { maxDepth: 32 }));
measure('JSON.parse(decode(bytes))', () => JSON.parse(decoder.decode(bytes)));
measure('JSON.parse(string)', () => JSON.parse(text));
