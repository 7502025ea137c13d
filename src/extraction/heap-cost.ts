/**
 * What V8 spends beyond the payload, for byte budgets that hold (measured on Node 24, 64-bit,
 * pointer compression off): a typed array with its own buffer costs a JSTypedArray, a
 * JSArrayBuffer and a backing-store record besides its bytes; a small object its header and
 * fields. The extraction memory test measures heap plus external memory against these.
 */
export const TYPED_ARRAY_OVERHEAD = 200;
export const OBJECT_OVERHEAD = 64;
