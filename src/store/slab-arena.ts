import type { MemoryBudget } from './memory-budget';

const MIB = 1024 * 1024;
/** Shared slabs start small (a store of a few keys stays small) and double up to this size. */
const FIRST_SLAB_BYTES = 1 * MIB;
const MAX_SLAB_BYTES = 32 * MIB;
/** A blob (key + value bytes) above this gets a slab of its own, given back whole when the entry goes. */
export const LARGE_BLOB_BYTES = 4 * MIB;
/** The smallest allocation: a free hole holds its free-list link (slab u16 + offset u32) in its first 6 bytes. */
const MIN_ALLOCATION = 8;
/** Sizes up to this have a free list each, byte for byte; above it, 8 classes per doubling (at most 12.5 % waste). */
const EXACT_CLASS_LIMIT = 1024;
const STEPS_PER_DOUBLING = 8;
const CLASS_COUNT = EXACT_CLASS_LIMIT + 1 + (Math.log2(LARGE_BLOB_BYTES / EXACT_CLASS_LIMIT) * STEPS_PER_DOUBLING);
/** Slab ids are 16 bits in the entry records; this one marks "no slab" (an empty free list). */
export const NO_SLAB = 0xffff;

/** The bytes a blob of `bytes` takes in the arena: its size class. */
export function allocationSize(bytes: number): number {
  if (bytes <= EXACT_CLASS_LIMIT) return bytes < MIN_ALLOCATION ? MIN_ALLOCATION : bytes;
  if (bytes > LARGE_BLOB_BYTES) return bytes;
  const step = 2 ** (Math.ceil(Math.log2(bytes)) - 4); // bytes in (2^(e-1), 2^e]: 8 classes of 2^(e-4)
  return Math.ceil(bytes / step) * step;
}

/** The free list of an allocation size (one that allocationSize returned, at most LARGE_BLOB_BYTES). */
function classOf(size: number): number {
  if (size <= EXACT_CLASS_LIMIT) return size;
  const exponent = Math.ceil(Math.log2(size)); // size in (2^(exponent-1), 2^exponent]
  const step = 2 ** (exponent - 4);
  return EXACT_CLASS_LIMIT + 1 + (exponent - 11) * STEPS_PER_DOUBLING + (size / step - 9);
}

/** The largest allocation size that fits in `bytes` (for a slab's unusable tail, which becomes a hole). */
function sizeFitting(bytes: number): number {
  if (bytes <= EXACT_CLASS_LIMIT) return bytes;
  if (bytes >= LARGE_BLOB_BYTES) return LARGE_BLOB_BYTES;
  const step = 2 ** (Math.ceil(Math.log2(bytes + 1)) - 4);
  return Math.floor(bytes / step) * step;
}

/**
 * Where the store keeps its keys and values: each entry's key bytes followed by its value bytes, in large Buffers
 * (slabs) outside the JS heap, so the garbage collector never walks them. An address is a 16-bit slab id and a 32-bit
 * byte offset. Allocation takes a hole of the same size class (a free list per class, the link kept in the hole
 * itself) or bumps the current slab; a blob above LARGE_BLOB_BYTES gets its own slab. Freed holes are reused only
 * by blobs of their class: a workload whose sizes change leaves holes of the old sizes (`freeBytes`).
 */
export class SlabArena {
  /** Indexed by slab id; undefined for the id of a large blob that was freed. */
  readonly slabs: Array<Buffer | undefined> = [];
  /** Offset of the last allocate()'s address (its slab id is the return value): no object per allocation. */
  allocatedOffset = 0;
  /** Bytes allocated to blobs (their size classes). */
  liveBytes = 0;
  /** Bytes in holes, waiting for a blob of their class. */
  freeBytes = 0;
  private readonly freeSlabIds: number[] = [];
  private readonly headSlab = new Uint16Array(CLASS_COUNT).fill(NO_SLAB);
  private readonly headOffset = new Uint32Array(CLASS_COUNT);
  private current = NO_SLAB;
  private top = 0;
  private nextSlabBytes = FIRST_SLAB_BYTES;

  constructor(private readonly budget: MemoryBudget) {}

  /** Allocates `size` bytes (an allocationSize); returns the slab id, the offset is in `allocatedOffset`. */
  allocate(size: number): number {
    if (size > LARGE_BLOB_BYTES) return this.allocateLarge(size);
    const cls = classOf(size);
    const slabId = this.headSlab[cls]!;
    if (slabId !== NO_SLAB) {
      const offset = this.headOffset[cls]!;
      const slab = this.slabs[slabId]!;
      this.headOffset[cls] = slab.readUInt32LE(offset);
      this.headSlab[cls] = slab.readUInt16LE(offset + 4);
      this.freeBytes -= size;
      this.liveBytes += size;
      this.allocatedOffset = offset;
      return slabId;
    }
    if (this.current === NO_SLAB || this.top + size > this.slabs[this.current]!.length) this.newSharedSlab(size);
    this.allocatedOffset = this.top;
    this.top += size;
    this.liveBytes += size;
    return this.current;
  }

  /** Gives back an allocation of `size` bytes (the same allocationSize it was allocated with). */
  free(slabId: number, offset: number, size: number): void {
    this.liveBytes -= size;
    if (size > LARGE_BLOB_BYTES) {
      this.slabs[slabId] = undefined;
      this.freeSlabIds.push(slabId);
      this.budget.release(size);
      return;
    }
    this.pushHole(slabId, offset, size);
  }

  private pushHole(slabId: number, offset: number, size: number): void {
    const cls = classOf(size);
    const slab = this.slabs[slabId]!;
    slab.writeUInt32LE(this.headOffset[cls]!, offset);
    slab.writeUInt16LE(this.headSlab[cls]!, offset + 4);
    this.headSlab[cls] = slabId;
    this.headOffset[cls] = offset;
    this.freeBytes += size;
  }

  private newSharedSlab(size: number): void {
    const bytes = Math.max(this.nextSlabBytes, size);
    const slab = this.budget.allocate(bytes, 'a slab for keys and values', () => Buffer.allocUnsafeSlow(bytes));
    const slabId = this.takeSlabId(slab);
    if (this.current !== NO_SLAB) {
      // The old slab's tail becomes a hole, so it is not lost while a blob of its size may still come.
      const tail = sizeFitting(this.slabs[this.current]!.length - this.top);
      if (tail >= MIN_ALLOCATION) this.pushHole(this.current, this.top, tail);
    }
    this.current = slabId;
    this.top = 0;
    this.nextSlabBytes = Math.min(MAX_SLAB_BYTES, this.nextSlabBytes * 2);
  }

  private allocateLarge(size: number): number {
    const slab = this.budget.allocate(size, `a ${size}-byte key and value`, () => Buffer.allocUnsafeSlow(size));
    const slabId = this.takeSlabId(slab);
    this.liveBytes += size;
    this.allocatedOffset = 0;
    return slabId;
  }

  private takeSlabId(slab: Buffer): number {
    const reused = this.freeSlabIds.pop();
    if (reused !== undefined) {
      this.slabs[reused] = slab;
      return reused;
    }
    if (this.slabs.length >= NO_SLAB) {
      this.budget.release(slab.length);
      this.budget.refuse(slab.length, `a slab (all ${NO_SLAB} slab ids are taken: too many values over ${LARGE_BLOB_BYTES} bytes)`);
    }
    this.slabs.push(slab);
    return this.slabs.length - 1;
  }
}
