import { ModelFileError } from './safetensors.js';

/**
 * The body of `url`, refused as soon as its declared or received length passes `maxBytes`, so an
 * oversized or endless download stops at the limit. `name` leads every message; `what` is what is
 * being downloaded ('model', 'weights shard'); `tooBig` words the refusal (declared: the
 * Content-Length said so before anything was read).
 */
export async function fetchBounded(url: string | URL, name: string, maxBytes: number, what: string,
  tooBig: (bytes: number, declared: boolean) => string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new ModelFileError(`${name}: the ${what} could not be downloaded (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!res.ok) throw new ModelFileError(`${name}: the ${what} could not be downloaded (HTTP ${res.status} ${res.statusText})`);
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw new ModelFileError(tooBig(declared, true));
  }
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel();
      throw new ModelFileError(tooBig(total, false));
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;
}
