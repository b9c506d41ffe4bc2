/** fetch for the page's loaders (browser-safe): one ScdError naming the URL when the request fails or is not 2xx. */
import { ScdError } from "../errors.ts";

export async function fetchOk(url: string): Promise<Response> {
  let r: Response;
  try {
    r = await fetch(url);
  } catch (e) {
    throw new ScdError(`${url}: cannot fetch (${(e as Error).message})`);
  }
  if (!r.ok) throw new ScdError(`${url}: HTTP ${r.status}`);
  return r;
}
