import { ScdError } from "../../errors.ts";
import { type Command, out } from "../command.ts";

export const bridgeCommand: Command = {
  name: "bridge",
  summary: "serve the rosbridge v2 protocol over WebSocket, backed by a ROS 1 master (a stand-in for rosbridge_server)",
  usage: "--master http://127.0.0.1:11311 [--port 9090]",
  flags: {
    master: { type: "string", desc: "ROS master URI (default: $ROS_MASTER_URI)" },
    port: { type: "int", desc: "WebSocket port", default: 9090, min: 1, max: 65535 },
    host: { type: "string", desc: "interface to listen on", default: "127.0.0.1" },
  },
  async run(_pos, flags) {
    const master = (flags.master as string | undefined) ?? process.env.ROS_MASTER_URI;
    if (!master) throw new ScdError(`bridge needs --master <ROS master URI> (or ROS_MASTER_URI)`);
    const { RosbridgeServer } = await import("../../ros/bridge-server.ts");
    const { Ros1Backend } = await import("../../ros/backends/ros1.ts");
    const backend = new Ros1Backend(master);
    try {
      await backend.start();
    } catch (e) {
      throw new ScdError(`cannot register with the ROS master at ${master}: ${(e as Error).message}`);
    }
    const server = new RosbridgeServer(backend, { port: flags.port as number, host: flags.host as string });
    await server.start();
    out(`rosbridge (test server, ROS 1 back end) on ${server.url} → ${master}; Ctrl-C to stop`);
    await new Promise<void>((r) => (process.once("SIGINT", r), process.once("SIGTERM", r)));
    await server.close();
    process.exit(0);
  },
};
