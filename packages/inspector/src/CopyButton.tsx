/** Copies text to the clipboard; where the Clipboard API is unavailable (plain http on a LAN address), selects it to copy by hand. */
import { useState } from 'react';

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setDone(true);
      setTimeout(() => setDone(false), 1500);
    } catch {
      window.prompt('Copy with Ctrl+C / ⌘C', text);
    }
  };
  return (
    <button type="button" className="copy" onClick={copy}>
      {done ? 'Copied' : label}
    </button>
  );
}
