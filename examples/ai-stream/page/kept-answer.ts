/**
 * What this tab has shown of an answer, kept in sessionStorage (it survives a reload, not the tab):
 * the text, and the position of the last message it came with — which is where a reload resumes.
 * Text and position are written together, so they always match.
 */
import type { Position } from '@herald/realtime';

export interface KeptAnswer {
  text: string;
  position: Position | undefined;
  done: boolean;
}

const keyOf = (id: string) => `herald-ai-stream:${id}`;

export function loadAnswer(id: string): KeptAnswer | undefined {
  try {
    const raw = sessionStorage.getItem(keyOf(id));
    return raw ? (JSON.parse(raw) as KeptAnswer) : undefined;
  } catch {
    return undefined;
  }
}

export function keepAnswer(id: string, kept: KeptAnswer): void {
  try {
    sessionStorage.setItem(keyOf(id), JSON.stringify(kept));
  } catch {
    // Storage full or disabled: a reload then rebuilds the answer from Herald's history.
  }
}
