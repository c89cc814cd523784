import Foundation
import Planning
import Policies
import Promotion
import Testing
import TestSupport
@testable import Sandbox

/// The engine's git cache against the sandbox: damaged clones are cloned again and the cycle goes on,
/// clones no policy reads are pruned at the end of a full cycle, and a full disk fails clearly.
@Suite(.serialized) struct EngineCacheTests {
    /// The one clone folder in the harness's cache `name`.
    static func clones(_ h: EngineHarness, cache name: String = "cache") throws -> [URL] {
        let root = h.directory.appendingPathComponent(name)
        return try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.hasSuffix(".git") }.sorted()
            .map { root.appendingPathComponent($0) }
    }

    /// Everything a cycle reported as failed, as one text.
    static func failures(_ report: CycleReport) -> String {
        (report.errors.map(\.message) + report.stages.compactMap(\.error)).joined(separator: "\n")
    }

    /// Damage and the words libgit2 uses for it (which the warning carries).
    @Test(arguments: [
        ("truncated pack", "object not found"),
        ("deleted objects folder", "path is not a repository"),
        ("garbage config", "failed to parse config file"),
    ])
    func aDamagedCloneIsClonedAgainAndTheCycleGoesOn(damage: String, libgit2Says: String) async throws {
        try await withHarness { h in
            // The first run clones into a folder of its own; the damaged copy is what the next run finds
            // (a fresh process would not share the first one's open packs, and neither does this copy).
            let seeded = try await h.engine(cache: "seed").runCycle()
            #expect(!seeded.hasErrors, "\(Self.failures(seeded))")
            let seed = try #require(try Self.clones(h, cache: "seed").first)
            let folder = h.directory.appendingPathComponent("cache").appendingPathComponent(seed.lastPathComponent)
            try FileManager.default.createDirectory(at: folder.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: seed, to: folder)
            try Self.damage(folder, damage)

            try h.setDev("1.5.0")
            let report = try await h.engine().runCycle()
            #expect(!report.hasErrors, "\(Self.failures(report))")
            #expect(h.openMergeRequests.count == 1, "the cycle went on and opened the test MR")
            let warning = h.logs.text.split(separator: "\n").first { $0.hasPrefix("warning the cache clone \(folder.path) was damaged") }
            #expect(warning?.contains(libgit2Says) == true, "\(h.logs.text)")
            let fsck = try ProcessRunner.run("/usr/bin/env", ["git", "-C", folder.path, "fsck", "--no-dangling"])
            #expect(fsck.status == 0 && fsck.output.isEmpty, "\(fsck.errorText)")

            // Reported once; the next cycle is ordinary.
            let before = h.logs.text.components(separatedBy: "was damaged").count
            let again = try await h.engine().runCycle()
            #expect(!again.hasErrors)
            #expect(h.logs.text.components(separatedBy: "was damaged").count == before)
        }
    }

    static func damage(_ folder: URL, _ damage: String) throws {
        let fm = FileManager.default
        switch damage {
        case "truncated pack":
            let packs = folder.appendingPathComponent("objects/pack")
            for name in try fm.contentsOfDirectory(atPath: packs.path) where name.hasSuffix(".pack") {
                let url = packs.appendingPathComponent(name)
                let size = try fm.attributesOfItem(atPath: url.path)[.size] as? Int ?? 0
                let handle = try FileHandle(forWritingTo: url)
                try handle.truncate(atOffset: UInt64(size / 2))
                try handle.close()
            }
        case "deleted objects folder":
            try fm.removeItem(at: folder.appendingPathComponent("objects"))
        case "garbage config":
            try Data("[core\u{0}\u{1}garbage = = =\n".utf8).write(to: folder.appendingPathComponent("config"))
        default:
            throw HarnessError("unknown damage \(damage)")
        }
    }

    @Test func clonesNoPolicyReadsArePrunedAtTheEndOfAFullCycleOnly() async throws {
        try await withHarness { h in
            let payments = try EngineListingTests.addPayments(h)
            let both = try await h.engine(policies: [h.policy, payments]).runCycle()
            #expect(!both.hasErrors, "\(Self.failures(both))")
            let clones = try Self.clones(h)
            #expect(clones.count == 2)
            let paymentsClone = try #require(clones.first { $0.lastPathComponent.contains("pay-deploy") })
            let omsClone = try #require(clones.first { $0.lastPathComponent.contains("oms-deploy") })

            // payments is dropped from the policies, but its clone was refreshed a moment ago: kept a day.
            _ = try await h.engine().runCycle()
            #expect(FileManager.default.fileExists(atPath: paymentsClone.path))

            let twoDaysAgo = Date().addingTimeInterval(-2 * 86_400).timeIntervalSince1970
            var times = [timeval(tv_sec: Int(twoDaysAgo), tv_usec: 0), timeval(tv_sec: Int(twoDaysAgo), tv_usec: 0)]
            #expect(utimes(paymentsClone.path, &times) == 0)
            #expect(utimes(omsClone.path, &times) == 0)

            // A run over some policies only (`--policy`, a webhook-driven serve cycle) never prunes.
            h.configure = { $0.closeOrphans = false }
            _ = try await h.engine().runCycle()
            #expect(FileManager.default.fileExists(atPath: paymentsClone.path))

            h.configure = { _ in }
            let full = try await h.engine().runCycle()
            #expect(!full.hasErrors, "\(Self.failures(full))")
            #expect(!FileManager.default.fileExists(atPath: paymentsClone.path))
            #expect(FileManager.default.fileExists(atPath: omsClone.appendingPathComponent("HEAD").path), "a policy reads oms")
            #expect(h.logs.text.contains("info pruned the cache clone \(paymentsClone.path) ("), "\(h.logs.text)")
            #expect(!h.logs.text.contains("pruned the cache clone \(omsClone.path)"))
        }
    }

    @Test(.enabled(if: SmallFilesystem.available, "mounting a tmpfs needs root"))
    func aFullDiskFailsTheCycleClearlyAndPushesNothing() async throws {
        try await withHarness { h in
            let small = h.directory.appendingPathComponent("small")
            try await SmallFilesystem.with(at: small, bytes: 2 << 20) {
                let first = try await h.engine(cache: "small").runCycle()
                #expect(!first.hasErrors, "\(Self.failures(first))")
                let branchesBefore = try EngineChurnTests.git(h, ["for-each-ref", "--format=%(refname)"])

                try h.setDev("1.5.0")
                let filler = try SmallFilesystem.fill(small)
                let full = try await h.engine(cache: "small").runCycle()
                let text = Self.failures(full)
                #expect(text.contains("no space left on device while fetching \(h.sandbox.baseURL.absoluteString)/\(EngineHarness.project).git into \(small.path)/"), "\(text)")
                #expect(text.contains("free space or move the cache"))
                #expect(!text.contains(h.botToken))
                #expect(h.openMergeRequests.isEmpty)
                #expect(try EngineChurnTests.git(h, ["for-each-ref", "--format=%(refname)"]) == branchesBefore, "nothing was pushed")

                try FileManager.default.removeItem(at: filler)
                let after = try await h.engine(cache: "small").runCycle()
                #expect(!after.hasErrors, "\(Self.failures(after))")
                #expect(h.openMergeRequests.count == 1)
                #expect(!h.logs.text.contains("was damaged"), "a full disk is not damage")
            }
        }
    }
}
