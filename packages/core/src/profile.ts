// Kernel version profiles: the handful of behaviour differences between Linux 6.1 and 6.18.

/** A kernel version the model can reproduce. */
export type KernelVersion = "6.18" | "6.1";

/**
 * The behaviour switches of one kernel version. Profiles are data: code asks the profile,
 * never the version string.
 */
export interface KernelProfile {
  /** The version this profile reproduces. */
  readonly version: KernelVersion;
  /**
   * 6.1: attachments whose dynamic-ness differs from the exporter's are mapped at attach time
   * and cached, `cacheSgtMapping` is honoured and a direction conflict gives EBUSY.
   */
  readonly sgtCaching: boolean;
  /** /sys/kernel/dmabuf/buffers exists (CONFIG_DMABUF_SYSFS_STATS, up to 6.19). */
  readonly sysfsStats: boolean;
}

/** Every profile, by version. */
export const PROFILES: Readonly<Record<KernelVersion, KernelProfile>> = {
  "6.18": { version: "6.18", sgtCaching: false, sysfsStats: true },
  "6.1": { version: "6.1", sgtCaching: true, sysfsStats: true },
};
