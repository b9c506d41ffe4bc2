/**
 * A port of numpy's legacy RandomState (MT19937) for the draws Push-T's reset makes: `randint` (masked
 * rejection sampling) and `randn` (legacy polar Box–Muller with a cached second value). Reproduces numpy exactly.
 */
export class RandomState {
  private readonly mt = new Uint32Array(624);
  private mti = 625;
  private gauss: number | null = null;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`RandomState seed must be an integer in [0, 2^32 - 1], got ${seed}`);
    this.mt[0] = seed >>> 0;
    for (let i = 1; i < 624; i++) {
      const prev = this.mt[i - 1] ^ (this.mt[i - 1] >>> 30);
      // 1812433253 * prev + i, in 32-bit arithmetic
      this.mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.mti = 624;
  }

  /** genrand_int32 */
  nextUint32(): number {
    const mt = this.mt;
    if (this.mti >= 624) {
      for (let k = 0; k < 624; k++) {
        const y = (mt[k] & 0x80000000) | (mt[(k + 1) % 624] & 0x7fffffff);
        mt[k] = mt[(k + 397) % 624] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.mti = 0;
    }
    let y = mt[this.mti++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** genrand_res53: a double in [0, 1) with 53 random bits. */
  randomSample(): number {
    const a = this.nextUint32() >>> 5, b = this.nextUint32() >>> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
  }

  /** randint(low, high): an integer in [low, high), numpy's masked rejection for ranges < 2^32. */
  randint(low: number, high: number): number {
    const rng = high - 1 - low;
    if (!(rng >= 0)) throw new RangeError(`randint: low >= high (${low}, ${high})`);
    if (rng === 0) return low;
    if (rng > 0xffffffff) throw new RangeError("randint: ranges >= 2^32 are not supported by this port");
    let mask = rng;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    let v: number;
    do v = (this.nextUint32() & mask) >>> 0;
    while (v > rng);
    return low + v;
  }

  /** randn(): legacy Gaussian (polar method, second value cached). */
  randn(): number {
    if (this.gauss !== null) {
      const g = this.gauss;
      this.gauss = null;
      return g;
    }
    let x1: number, x2: number, r2: number;
    do {
      x1 = 2 * this.randomSample() - 1;
      x2 = 2 * this.randomSample() - 1;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1 || r2 === 0);
    const f = Math.sqrt((-2 * Math.log(r2)) / r2);
    this.gauss = f * x1;
    return f * x2;
  }
}

/** Diffusion Policy's Push-T reset draw: [agent x, agent y, block x, block y, angle]. */
export function pushtResetState(seed: number): [number, number, number, number, number] {
  return pushtResetDraw(new RandomState(seed));
}

/** The same draw from a generator that continues across resets (Gymnasium: reset() without a seed). */
export function pushtResetDraw(rs: RandomState): [number, number, number, number, number] {
  return [rs.randint(50, 450), rs.randint(50, 450), rs.randint(100, 400), rs.randint(100, 400), rs.randn() * 2 * Math.PI - Math.PI];
}
