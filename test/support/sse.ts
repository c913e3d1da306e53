/** A minimal SSE reader over fetch, for tests: parses `id:` and `data:` lines into events. */
export interface SseEvent {
  id?: string;
  data: string;
}

export class SseReader {
  readonly events: SseEvent[] = [];
  private buffer = '';
  private done = false;
  private readonly controller = new AbortController();
  status = 0;
  headers: Headers | undefined;

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
    const r = new SseReader();
    const res = await fetch(url, { headers, signal: r.controller.signal });
    r.status = res.status;
    r.headers = res.headers;
    if (res.body) r.pump(res.body).catch(() => {});
    else r.done = true;
    return r;
  }

  private async pump(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      this.buffer += decoder.decode(chunk, { stream: true });
      let i = this.buffer.indexOf('\n\n');
      while (i >= 0) {
        const block = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 2);
        const ev: SseEvent = { data: '' };
        let hasData = false;
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) ev.id = line.slice(4);
          else if (line.startsWith('data: ')) {
            ev.data += line.slice(6);
            hasData = true;
          }
        }
        if (hasData) this.events.push(ev);
        i = this.buffer.indexOf('\n\n');
      }
    }
    this.done = true;
  }

  /** Parsed JSON of every event's data. */
  json<T = Record<string, unknown>>(): T[] {
    return this.events.map((e) => JSON.parse(e.data) as T);
  }

  async waitFor(n: number, timeoutMs = 10_000): Promise<SseEvent[]> {
    const until = Date.now() + timeoutMs;
    while (this.events.length < n) {
      if (Date.now() > until) throw new Error(`timed out with ${this.events.length}/${n} SSE events`);
      if (this.done) throw new Error(`stream ended with ${this.events.length}/${n} SSE events`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.events;
  }

  close(): void {
    this.controller.abort();
  }
}
