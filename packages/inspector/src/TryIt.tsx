/**
 * Publish from the page: a JSON message, or a short text datastream, to any channel and topic — the
 * same HTTP calls a backend makes (shown as curl in the token helper).
 */
import { type FormEvent, useEffect, useState } from 'react';
import { publishJson, publishStream } from './api.js';
import type { Selection } from './selection.js';

/** What "Stream text" sends, piece by piece: like tokens from a model. */
const STREAM_TEXT =
  'Herald streams text as it is written: each piece becomes a chunk, and subscribers see it grow in place.';

function pieces(text: string): string[] {
  return text.match(/\S+\s*/g) ?? [text];
}

type Result = { ok: true; text: string } | { ok: false; text: string };

export function TryIt({ selection, adminKey }: { selection: Selection; adminKey: string | undefined }) {
  const [channel, setChannel] = useState(selection.channel);
  const [topic, setTopic] = useState(selection.topics[0] ?? '');
  const [data, setData] = useState('{\n  "hi": "there"\n}');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Result | undefined>();
  useEffect(() => {
    setChannel(selection.channel);
    setTopic(selection.topics[0] ?? '');
  }, [selection]);

  const run = async (what: () => Promise<string>) => {
    setBusy(true);
    setResult(undefined);
    try {
      setResult({ ok: true, text: await what() });
    } catch (err) {
      setResult({ ok: false, text: (err as Error).message });
    } finally {
      setBusy(false);
    }
  };

  const publish = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      try {
        JSON.parse(data);
      } catch (err) {
        throw new Error(`The data is not valid JSON: ${(err as Error).message}`);
      }
      const ack = await publishJson(channel, topic, data, adminKey);
      return `Published to ${ack.channel} · ${ack.topic} as #${ack.seq}`;
    });
  };

  const stream = () =>
    run(async () => {
      const ack = await publishStream(channel, topic, pieces(STREAM_TEXT), adminKey);
      const how =
        ack.chunks === 1
          ? ' (a browser sends a request body at once over HTTP/1.1; publishStream() on a backend streams it piece by piece)'
          : '';
      return `Streamed ${ack.bytes} bytes in ${ack.chunks} chunk${ack.chunks === 1 ? '' : 's'} as #${ack.start.seq}–${ack.end.seq}${how}`;
    });

  return (
    <section className="card panel" aria-labelledby="try-title">
      <div className="panel-head">
        <h2 id="try-title">Try it</h2>
        <span className="muted">publish to any channel</span>
      </div>
      <form className="try-form" onSubmit={publish}>
        <div className="row">
          <label>
            Channel
            <input name="channel" value={channel} onChange={(e) => setChannel(e.target.value)} required />
          </label>
          <label>
            Topic
            <input name="topic" value={topic} onChange={(e) => setTopic(e.target.value)} required />
          </label>
        </div>
        <label>
          <span>
            Data <span className="muted">JSON</span>
          </span>
          <textarea
            name="data"
            rows={4}
            spellCheck={false}
            value={data}
            onChange={(e) => setData(e.target.value)}
          />
        </label>
        <div className="row actions">
          <button type="submit" className="primary" disabled={busy}>
            Publish
          </button>
          <button type="button" onClick={stream} disabled={busy || !channel || !topic}>
            Stream text
          </button>
          {result && (
            <span className={result.ok ? 'result ok' : 'result error'} role="status">
              {result.text}
            </span>
          )}
        </div>
      </form>
    </section>
  );
}
