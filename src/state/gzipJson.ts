/**
 * JSON shipped as a gzip asset (`import url from '…json?gzip'`, vite.config.ts): fetched when a
 * figure needs it and inflated with the platform's DecompressionStream, so the transfer is the
 * compressed size whatever the host does.
 */

/** The JSON value of gzip bytes, or of plain JSON bytes (a host that labels .gz files
 * `Content-Encoding: gzip` has the browser inflate them already; those pass as they are). */
export async function gzipJson(bytes: Uint8Array, what: string): Promise<unknown> {
  let text: string;
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    if (typeof DecompressionStream === 'undefined')
      throw new Error(`${what}: this browser cannot decompress it (no DecompressionStream)`);
    const inflated = new Blob([bytes as BlobPart])
      .stream()
      .pipeThrough(new DecompressionStream('gzip'));
    try {
      text = await new Response(inflated).text();
    } catch (e) {
      throw new Error(
        `${what}: the compressed file is damaged (${e instanceof Error ? e.message : String(e)})`,
        { cause: e },
      );
    }
  } else {
    text = new TextDecoder().decode(bytes);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new Error(`${what}: not JSON (${e instanceof Error ? e.message : String(e)})`, {
      cause: e,
    });
  }
}

/** Fetches `url` and decodes it (gzipJson). */
export async function fetchGzipJson(url: string, what: string): Promise<unknown> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${what}: could not load ${url} (HTTP ${res.status})`);
  return gzipJson(new Uint8Array(await res.arrayBuffer()), what);
}
