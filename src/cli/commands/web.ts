import { type Command, out } from "../command.ts";
import { ScdError } from "../../errors.ts";

export const webCommand: Command = {
  name: "web",
  summary: "serve the browser demo (built by npm run build:web into dist/web): Push-T driven by the SCD policy (ONNX Runtime Web or TensorFlow.js), take over, record, train in the page",
  usage: "[--port P] [--host H] [--dir dist/web]",
  flags: {
    port: { type: "int", min: 0, desc: "port (0: any free port; at most 65535)", default: 8080 },
    host: { type: "string", desc: "interface to listen on", default: "127.0.0.1" },
    dir: { type: "string", desc: "the built site", default: "dist/web" },
  },
  async run(_pos, flags) {
    if ((flags.port as number) > 65535) throw new ScdError(`--port must be 0..65535, got ${flags.port}`);
    if (!(flags.host as string).trim()) throw new ScdError(`--host must name an interface (e.g. 127.0.0.1, or 0.0.0.0 for all), got ""`);
    const { serveWeb } = await import("../../../apps/web/serve.ts");
    const s = await serveWeb(flags.dir as string, { port: flags.port as number, host: flags.host as string });
    out(`serving ${flags.dir} at ${s.url} (Ctrl-C to stop)`);
    // anything but loopback exposes the site (and its models) to the network: say so
    if (!/^(127\.|::1$|localhost$)/.test(flags.host as string)) out(`note: --host ${flags.host} makes the site reachable from other machines on the network, not only this one`);
    await new Promise<void>((r) => (process.once("SIGINT", r), process.once("SIGTERM", r)));
    await s.close();
    process.exit(0);
  },
};
