import Foundation
import Glibc
import ProcessMemory
import Testing

@Suite(.serialized) struct ProcessMemoryTests {
    @Test func readsTheKernelsFiguresForThisProcess() throws {
        let before = ProcessMemory.current()
        #expect(before.rssKiB > 1024)
        #expect(before.peakKiB >= before.rssKiB)
        #expect(before.threads >= 1)
        let handle = try #require(FileHandle(forReadingAtPath: "/proc/self/status"))
        defer { try? handle.close() }
        #expect(ProcessMemory.current().descriptors >= 4)  // stdin, stdout, stderr and the file above
    }

    /// The case `serve` meets after every cycle: most of what was allocated is freed, a few blocks in between
    /// stay live, so glibc cannot shrink its heap from the top and keeps the freed pages resident until
    /// `malloc_trim`. 64 MiB in 4,000-byte blocks (above tcache's and the fast bins' sizes), one in 16 kept.
    @Test func freedMemoryBetweenLiveBlocksGoesBackToTheKernel() async throws {
        let count = 16_384, size = 4_000
        var blocks: [UnsafeMutableRawPointer] = []
        blocks.reserveCapacity(count)
        for _ in 0..<count {
            let block = try #require(malloc(size))
            memset(block, 0x5a, size)  // resident, not just reserved
            blocks.append(block)
        }
        let allocated = ProcessMemory.current().rssKiB
        for (index, block) in blocks.enumerated() where index % 16 != 0 { free(block) }
        let freed = ProcessMemory.current().rssKiB
        // The premise: freeing alone gives back (almost) nothing.
        #expect(allocated - freed < 16 * 1024, "free() already gave back \(allocated - freed) KiB")

        let released = await ProcessMemory.releaseFreePages()
        let after = ProcessMemory.current().rssKiB
        for (index, block) in blocks.enumerated() where index % 16 == 0 { free(block) }

        #expect(released)
        #expect(freed - after >= 32 * 1024, "gave back \(freed - after) KiB of the about 60 MiB freed")
    }

    /// Each case in a fresh process (an exit test): arenas, once made, stay for the process's life. The
    /// test runner's own threads may have made a few before the body runs; the limit stops any more.
    @Test func pastTheLimitBusyThreadsMakeNoNewArenas() async {
        await #expect(processExitsWith: .success) {
            let before = ProcessMemory.allocatorArenas
            #expect(ProcessMemory.limitAllocatorArenas(environment: [:]))
            let after = ArenaProbe.arenasAfterBusyThreads(8)
            #expect(before >= 1 && after <= max(before, ProcessMemory.defaultArenaLimit), "\(before) -> \(after) arenas")
        }
    }

    /// The control: the same threads without the limit get arenas of their own (so the test above can fail).
    @Test func withoutTheLimitBusyThreadsMakeArenasOfTheirOwn() async {
        await #expect(processExitsWith: .success) {
            let before = ProcessMemory.allocatorArenas
            let after = ArenaProbe.arenasAfterBusyThreads(8)
            #expect(after > max(before, ProcessMemory.defaultArenaLimit), "\(before) -> \(after) arenas")
        }
    }

    @Test func anOperatorsMallocArenaMaxWins() {
        #expect(!ProcessMemory.limitAllocatorArenas(environment: ["MALLOC_ARENA_MAX": "8"]))
    }

    @Test func countsItsCalls() async {
        let before = ProcessMemory.releases
        await ProcessMemory.releaseFreePages()
        #expect(ProcessMemory.releases == before + 1)
    }
}

/// Starts `count` threads that each allocate and then wait until all have, so all hold an arena at once.
enum ArenaProbe {
    static func arenasAfterBusyThreads(_ count: Int) -> Int {
        let allocated = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        for _ in 0..<count {
            Thread.detachNewThread {
                let block = malloc(4_000)!
                memset(block, 1, 4_000)
                allocated.signal()
                release.wait()
                free(block)
                done.signal()
            }
        }
        for _ in 0..<count { allocated.wait() }
        let arenas = ProcessMemory.allocatorArenas
        for _ in 0..<count { release.signal() }
        for _ in 0..<count { done.wait() }
        return arenas
    }
}
