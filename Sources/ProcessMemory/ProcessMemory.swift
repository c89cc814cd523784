import BlockingWork
import CMalloc
import Foundation
import Synchronization

/// This process's memory: what the kernel counts, and keeping glibc's allocator from holding on to more.
///
/// Why the allocator needs help: a long-lived process (`promobot serve`, `run --watch`) frees almost
/// everything a cycle allocated, but glibc keeps freed memory in the arena it came from, and gives each new
/// thread an arena of its own up to 8 × cores of them. The engine's threads come and go (git work, the HTTP
/// client's thread, the cooperative pool), so each cycle's short-lived objects land in whichever arenas, and
/// long-lived ones pin pages in all of them. heaptrack showed the live heap flat at about 4 MiB while the
/// resident arenas grew by 2-6 MiB over 100 no-op cycles (200-1,000 repositories); with two arenas and freed
/// pages given back after each cycle, the peak grew by 0.6 MiB at 1,000 repositories and then stayed put
/// (docs/benchmarks-engine.md). So `promobot` calls `limitAllocatorArenas()` first thing, and the loops call
/// `afterCycle()` when a cycle is over.
public enum ProcessMemory {
    /// The kernel's view of this process (`/proc/self/status`, `/proc/self/fd`); 0 where unreadable.
    public struct Usage: Sendable, Equatable {
        /// Resident set size now (`VmRSS`), in KiB.
        public var rssKiB: Int
        /// The highest resident set size so far (`VmHWM`), in KiB.
        public var peakKiB: Int
        /// Live threads.
        public var threads: Int
        /// Open file descriptors.
        public var descriptors: Int
    }

    /// This process's memory, threads and descriptors now.
    public static func current() -> Usage {
        let text = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Int {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
            return Int(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "") ?? 0
        }
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        return Usage(rssKiB: field("VmRSS"), peakKiB: field("VmHWM"), threads: field("Threads"), descriptors: descriptors)
    }

    /// The arenas `limitAllocatorArenas()` allows: glibc's main arena and one more, shared by every thread.
    /// Each thread keeps a small cache of its own (glibc's tcache), so their locks are rarely contended.
    public static let defaultArenaLimit = 2

    /// Caps glibc's malloc arenas at `limit` (`mallopt(M_ARENA_MAX)`), unless the operator set
    /// `MALLOC_ARENA_MAX`, which glibc has already applied and which wins. Call it before other threads
    /// start: arenas made before stay.
    /// - Returns: whether the cap was set here.
    @discardableResult
    public static func limitAllocatorArenas(to limit: Int = defaultArenaLimit,
                                            environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard environment["MALLOC_ARENA_MAX"] == nil else { return false }
        return mallopt(M_ARENA_MAX, Int32(max(1, limit))) == 1
    }

    /// How many malloc arenas glibc has made in this process so far (from `malloc_info`); 0 if unreadable.
    public static var allocatorArenas: Int {
        var buffer: UnsafeMutablePointer<CChar>?
        var size = 0
        guard let stream = open_memstream(&buffer, &size) else { return 0 }
        let rc = malloc_info(0, stream)
        fclose(stream)
        defer { free(buffer) }
        guard rc == 0, let buffer else { return 0 }
        return String(cString: buffer).components(separatedBy: "<heap nr=").count - 1
    }

    /// Gives the pages glibc's allocator holds free, in every arena, back to the kernel (`malloc_trim(0)`).
    ///
    /// Runs on a thread of its own (`BlockingWork`): it walks every arena under its lock (1.0-1.5 ms after a
    /// 1,000-repository cycle, with promobot's two arenas), and other threads' allocations wait meanwhile.
    /// Call it when the process goes idle (after a cycle), not on a hot path.
    /// - Returns: whether any memory was given back.
    @discardableResult
    public static func releaseFreePages() async -> Bool {
        releaseCounter.add(1, ordering: .relaxed)
        return (try? await BlockingWork.run(name: "promobot.trim") { malloc_trim(0) != 0 }) ?? false
    }

    /// What a long-lived loop does when a cycle is over (`serve`, `run --watch`): gives the cycle's freed pages
    /// back, then returns what the process holds, which stays flat in a healthy process.
    public static func afterCycle() async -> Usage {
        await releaseFreePages()
        return current()
    }

    /// How many times `releaseFreePages()` was called in this process (tests check the loops call it).
    public static var releases: Int { releaseCounter.load(ordering: .relaxed) }
    private static let releaseCounter = Atomic<Int>(0)
}
