// Memory types of CPU mappings (the caching bits of pgprot): cached, write-combine, uncached.

/**
 * The memory type of a CPU mapping, as the caching bits of a `pgprot_t` give it: the
 * attribute a user mapping ({@link Vma.caching}, `vma->vm_page_prot`) or a kernel mapping
 * ({@link KernelMapping.caching}, vmap's `prot`) carries.
 *
 * - `cached` (`PAGE_KERNEL`, the default `vm_page_prot`): loads and stores go through the CPU
 *   caches; a non-coherent device needs DMA syncs to see the CPU's stores and vice versa.
 * - `write-combine` (`pgprot_writecombine`, arm64 Normal-NC): not cached. In the model a
 *   load reads memory and a store is posted to memory at once (the write-combining buffer is
 *   drained by the store itself): the simplest behaviour that real write-combining allows,
 *   since ordering against a device is only promised after a barrier, which a DMA-BUF SYNC or a
 *   fence wait provides anyway.
 * - `uncached` (`pgprot_noncached`, arm64 Device-nGnRE): not cached, every access goes to
 *   memory in program order.
 *
 * The CPU port honours the attribute ({@link CpuPort}): an access that is not `cached`
 * allocates no cache line and goes straight to RAM. A driver sets it from its mmap method
 * (`vma.caching = "write-combine"`, Linux's `vma->vm_page_prot =
 * pgprot_writecombine(vma->vm_page_prot)`) and on the kernel mappings it returns from vmap
 * (`new KernelMapping(pfns, pageSize, host, "write-combine")`).
 */
export type CpuCaching = "cached" | "write-combine" | "uncached";

/** Every {@link CpuCaching}, in the order of the list above. */
export const CPU_CACHINGS: readonly CpuCaching[] = ["cached", "write-combine", "uncached"];
