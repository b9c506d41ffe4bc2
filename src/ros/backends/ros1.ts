/**
 * Real ROS 1 back end of the test bridge: a standalone ROS 1 node (@foxglove/ros1: XML-RPC + TCPROS) registered
 * with a real rosmaster. Client publishes become ROS publications (definitions from @foxglove/rosmsg-msgs-common,
 * checksums identical to Debian's), client subscriptions become ROS subscriptions. Topics only: service calls
 * answer result:false, as rosbridge does for a service it cannot reach.
 */
import { RosNode } from "@foxglove/ros1";
import { TcpSocketNode, TcpServerNode, getPid } from "@foxglove/ros1/nodejs";
import { HttpServerNodejs } from "@foxglove/xmlrpc/nodejs";
import { ros1 } from "@foxglove/rosmsg-msgs-common";
import type { MessageDefinition } from "@foxglove/message-definition";
import type { BridgeBackend } from "../bridge-server.ts";

const DEFS = ros1 as unknown as Record<string, MessageDefinition>;

/** The definition of `type` followed by every nested type it uses (what a ROS 1 publisher must announce). */
export function definitionsFor(type: string): MessageDefinition[] {
  const root = DEFS[type];
  if (!root) throw new Error(`no ROS 1 message definition for ${type}`);
  const out: MessageDefinition[] = [{ ...root, name: undefined }];
  const seen = new Set<string>([type]);
  const walk = (d: MessageDefinition) => {
    for (const f of d.definitions) {
      if (!f.isComplex || seen.has(f.type)) continue;
      seen.add(f.type);
      const sub = DEFS[f.type] ?? DEFS[f.type === "Header" ? "std_msgs/Header" : f.type];
      if (!sub) throw new Error(`no ROS 1 message definition for ${f.type} (inside ${type})`);
      out.push(sub);
      walk(sub);
    }
  };
  walk(root);
  return out;
}

/** The test bridge's back end on a real ROS 1 graph (through `@foxglove/ros1` and a rosmaster); topics only. */
export class Ros1Backend implements BridgeBackend {
  private node: RosNode | null = null;
  private readonly advertised = new Map<string, Promise<unknown>>();

  constructor(readonly masterUri: string, readonly name = "/scd_rosbridge_test") {}

  /** Start the ROS node and register it with the master. */
  async start(): Promise<void> {
    this.node = new RosNode({
      name: this.name,
      rosMasterUri: this.masterUri,
      hostname: "127.0.0.1",
      pid: getPid(),
      httpServer: new HttpServerNodejs() as never,
      tcpSocketCreate: TcpSocketNode.Create,
      tcpServer: await TcpServerNode.Listen({ host: "127.0.0.1", port: 0 }), // needed to publish
    });
    await this.node.start();
  }

  subscribe(topic: string, type: string | undefined, cb: (msg: unknown) => void): () => void {
    if (!type) throw new Error(`subscribe to ${topic}: the ROS 1 back end needs the message type`);
    const sub = this.node!.subscribe({ topic, dataType: type });
    const on = (msg: unknown) => cb(msg);
    sub.on("message", on);
    return () => {
      sub.off("message", on);
      this.node?.unsubscribe(topic);
    };
  }

  advertise(topic: string, type: string): void {
    if (!this.advertised.has(topic)) this.advertised.set(topic, this.node!.advertise({ topic, dataType: type, messageDefinition: definitionsFor(type) }));
  }

  publish(topic: string, type: string | undefined, msg: unknown): void {
    if (!this.advertised.has(topic)) {
      if (!type) return; // rosbridge cannot infer the type: the real server drops it too
      this.advertise(topic, type);
    }
    void this.advertised.get(topic)!.then(() => this.node?.publish(topic, msg)).catch(() => {}); // a publish before the publication exists is dropped, as on the real bridge
  }

  async callService(name: string): Promise<unknown> {
    throw new Error(`Service ${name} is not reachable through the ROS 1 test back end (topics only)`);
  }

  async close(): Promise<void> {
    this.node?.shutdown();
    this.node = null;
  }
}
