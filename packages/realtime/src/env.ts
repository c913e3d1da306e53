/**
 * Reading configuration from the environment, wherever the SDK runs. Like 0.4.7 (inngest-client-api.md
 * §1.4), a name is looked up in `import.meta.env` (plain and `VITE_`), then `process.env` (plain and
 * the public prefixes frameworks expose to browsers), then Deno, then Netlify.
 */

/** Prefixes under which frameworks expose variables to browser code. */
export const PUBLIC_PREFIXES = ['NEXT_PUBLIC_', 'REACT_APP_', 'NUXT_PUBLIC_', 'VUE_APP_', 'VITE_'] as const;

export type EnvSource = (name: string) => string | undefined;

type Vars = Record<string, unknown>;

function importMetaEnv(): Vars | undefined {
  try {
    // Bundlers (Vite) replace `import.meta.env`; elsewhere it is undefined.
    return (import.meta as unknown as { env?: Vars }).env;
  } catch {
    return undefined;
  }
}

function processEnv(): Vars | undefined {
  const p = (globalThis as { process?: { env?: Vars } }).process;
  return p?.env;
}

function runtimeEnv(global: 'Deno' | 'Netlify', name: string): string | undefined {
  try {
    const rt = (globalThis as Record<string, unknown>)[global] as
      | { env?: { get?: (n: string) => unknown } }
      | undefined;
    const v = rt?.env?.get?.(name);
    return typeof v === 'string' ? v : undefined;
  } catch {
    // Deno without --allow-env throws.
    return undefined;
  }
}

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

/** Looks `name` up in every place the SDK reads configuration from (see the file comment). */
export const readEnv: EnvSource = (name) => {
  const meta = importMetaEnv();
  const fromMeta = str(meta?.[name]) ?? str(meta?.[`VITE_${name}`]);
  if (fromMeta !== undefined) return fromMeta;
  const env = processEnv();
  if (env) {
    const plain = str(env[name]);
    if (plain !== undefined) return plain;
    for (const prefix of PUBLIC_PREFIXES) {
      const v = str(env[prefix + name]);
      if (v !== undefined) return v;
    }
  }
  return runtimeEnv('Deno', name) ?? runtimeEnv('Netlify', name);
};

/** An `EnvSource` over a plain object, for tests and for callers that pass their own variables. */
export function envFrom(vars: Record<string, string | undefined>): EnvSource {
  return (name) => {
    const plain = str(vars[name]);
    if (plain !== undefined) return plain;
    for (const prefix of PUBLIC_PREFIXES) {
      const v = str(vars[prefix + name]);
      if (v !== undefined) return v;
    }
    return undefined;
  };
}
