/**
 * The first load's progress bar (and an env's files fetched when the page switches to it): the build lists the
 * files the page fetches with their sizes (load.json), and while the page loads every response body is counted as it streams in (decoded bytes, so the
 * bar is right whether the server compressed the file or not).
 */
const $ = (id: string) => document.getElementById(id)!;

export interface LoadList {
  /** path → bytes (uncoded) of each file fetched at start */
  files: Record<string, number>;
  /** env id → the files it needs fetched when the page switches to it (arm-push-v1: MuJoCo's module), path → bytes */
  onDemand?: Record<string, Record<string, number>>;
}

/**
 * Count the bytes of every fetch until the returned `done()` is called, showing them against `list`'s total in the
 * loading overlay. A browser without stream bodies still loads; its bar jumps per file.
 */
export function trackLoading(list: LoadList, what: (mb: string) => string): { done(): void } {
  const total = Object.values(list.files).reduce((a, b) => a + b, 0);
  const orig = window.fetch;
  let got = 0;
  const show = () => {
    const f = total ? Math.min(1, got / total) : 1;
    ($("loading-bar") as HTMLElement).style.width = `${(f * 100).toFixed(1)}%`;
    $("loading-text").textContent = what(`${(got / 1e6).toFixed(1)} / ${(total / 1e6).toFixed(1)} MB`);
  };
  window.fetch = async (...args: Parameters<typeof fetch>) => {
    const r = await orig(...args);
    if (!r.body || !r.ok) return r;
    const reader = r.body.getReader();
    const counted = new ReadableStream<Uint8Array>({
      async pull(c) {
        const { done, value } = await reader.read();
        if (done) return c.close();
        got += value.byteLength;
        show();
        c.enqueue(value);
      },
      cancel: (why) => reader.cancel(why),
    });
    return new Response(counted, { status: r.status, statusText: r.statusText, headers: r.headers });
  };
  $("loading").hidden = false;
  show();
  return {
    done() {
      window.fetch = orig;
      $("loading").hidden = true;
    },
  };
}
