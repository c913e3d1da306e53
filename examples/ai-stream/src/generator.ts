/**
 * A stand-in for a language model: a deterministic answer to a prompt, as tokens (no model, no
 * download). The same prompt always gives the same tokens, so a test can check that the page shows
 * exactly what was generated — across a reload too.
 */

const OPENINGS = ['Good question.', 'Here is how it works.', 'Short answer: nothing is lost.'];

const SENTENCES = [
  'The worker publishes the answer as one datastream: a start, then a chunk per token, then an end.',
  'Herald numbers every message of a channel, so each chunk has a position — an epoch and a sequence number.',
  'The page keeps the text it has shown and the position of the last chunk in sessionStorage.',
  'After a reload it shows that text at once and subscribes from that position, so the rest follows without a gap or a repeat.',
  'A new tab has no position: it subscribes from the oldest message Herald keeps and rebuilds the whole answer.',
  'Herald keeps the newest messages of each channel for a while — a thousand, for five minutes, by default.',
  'If the history no longer reaches back that far, the subscription says so instead of silently skipping text.',
  'Nothing here needs a model: these tokens come from a small, deterministic generator — naïve, but honest.',
  'A real app would stream tokens from its model the same way, with publishStream() and an async iterable.',
];

/** FNV-1a: a stable number from the prompt, to pick the same sentences every time. */
function seedOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The answer's tokens: words with the spacing after them (joined, they are the answer). */
export function fakeAnswer(prompt: string): string[] {
  let seed = seedOf(prompt.trim().toLowerCase());
  const next = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed;
  };
  const pool = [...SENTENCES];
  const picked: string[] = [OPENINGS[next() % OPENINGS.length] as string];
  while (picked.length < 6) picked.push(pool.splice(next() % pool.length, 1)[0] as string);
  return picked.join(' ').match(/\S+\s*/g) ?? [];
}
