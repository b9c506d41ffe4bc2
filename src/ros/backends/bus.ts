/** In-process back end of the test bridge: topics and services in memory, so tests can act as the robot. */
import type { BridgeBackend } from "../bridge-server.ts";

/** The test bridge's in-process back end: topics and services in memory, so a test can act as the robot. */
export class TopicBus implements BridgeBackend {
  private readonly subs = new Map<string, Set<(msg: unknown) => void>>();
  private readonly services = new Map<string, (args: unknown) => unknown | Promise<unknown>>();
  readonly types = new Map<string, string>();

  subscribe(topic: string, _type: string | undefined, cb: (msg: unknown) => void): () => void {
    if (!this.subs.has(topic)) this.subs.set(topic, new Set());
    this.subs.get(topic)!.add(cb);
    return () => this.subs.get(topic)?.delete(cb);
  }
  advertise(topic: string, type: string): void {
    this.types.set(topic, type);
  }
  publish(topic: string, type: string | undefined, msg: unknown): void {
    if (type) this.types.set(topic, type); // publish advertises implicitly
    for (const cb of this.subs.get(topic) ?? []) cb(msg);
  }
  /** Serve `name` with `handler` (what {@link TopicBus.callService} calls). */
  advertiseService(name: string, handler: (args: unknown) => unknown | Promise<unknown>): void {
    this.services.set(name, handler);
  }
  async callService(name: string, args: unknown, timeoutMs: number): Promise<unknown> {
    const h = this.services.get(name);
    if (!h) throw new Error(`Service ${name} does not exist`);
    return await Promise.race([Promise.resolve(h(args)), new Promise((_, rej) => setTimeout(() => rej(new Error(`Service ${name} timed out`)), timeoutMs))]);
  }
  async close(): Promise<void> {
    this.subs.clear();
  }
}
