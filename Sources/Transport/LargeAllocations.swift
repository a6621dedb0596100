import CServerShim

/// How the process's allocator serves large blocks.
///
/// Invariant (after `returnToSystemWhenFreed`): a block of at least
/// `thresholdBytes` is mapped on its own and unmapped when freed. glibc's
/// default raises that threshold to the largest block freed so far, after
/// which request bodies of up to 1 MiB come from the heap, and a burst of
/// uploads leaves the heap grown for good (about 25 MB after 1,000 aborted
/// 1 MiB uploads, measured); with the fixed threshold it stays flat.
public enum LargeAllocations {
    public static let thresholdBytes: Int32 = 128 * 1024

    public static func returnToSystemWhenFreed() {
        _ = lts_allocator_fix_mmap_threshold(thresholdBytes)
    }
}
