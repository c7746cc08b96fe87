// Rewrites a module so that every load and store calls the runtime first (binaryen passes).

/**
 * Lowers bulk memory operations (`memory.copy`, `memory.fill`) to loads and stores, then
 * instruments every load and store (`--instrument-memory`): the runtime sees each access and
 * serves the ones that fall in a mapping from the model.
 * @param wasm - a module as compiled
 * @returns the instrumented module
 */
export async function instrumentMemory(wasm: Uint8Array): Promise<Uint8Array> {
  const { default: binaryen } = await import("binaryen");
  const mod = binaryen.readBinary(wasm);
  try {
    mod.runPasses(["llvm-memory-copy-fill-lowering", "instrument-memory"]);
    return mod.emitBinary();
  } finally {
    mod.dispose();
  }
}
