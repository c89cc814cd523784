import Foundation
import Testing
@testable import Git

/// A damaged clone in the cache is deleted and cloned again, with the damage reported; reads go on.
@Suite struct CacheRecoveryTests {
    /// Ways a clone gets damaged on disk: a crash mid-write, a full disk, a person tidying up, bit rot.
    enum Damage: String, CaseIterable, CustomTestStringConvertible {
        case truncatedPack, packCutShortByTenBytes, emptyPack, truncatedPackIndex, flippedBytesInPack
        case deletedObjectsFolder, deletedPacks, garbageConfig, binaryConfig, garbageHEAD, deletedHEAD
        case corruptedTrackingRef

        var testDescription: String { rawValue }

        func apply(to clone: URL) throws {
            let fm = FileManager.default
            let packs = clone.appendingPathComponent("objects/pack")
            func only(_ suffix: String) throws -> URL {
                let names = try fm.contentsOfDirectory(atPath: packs.path).filter { $0.hasSuffix(suffix) }
                guard names.count == 1 else { throw FixtureError(message: "expected one *\(suffix) in \(packs.path), found \(names)") }
                return packs.appendingPathComponent(names[0])
            }
            func truncate(_ url: URL, to size: (Int) -> Int) throws {
                let length = try fm.attributesOfItem(atPath: url.path)[.size] as? Int ?? 0
                let handle = try FileHandle(forWritingTo: url)
                try handle.truncate(atOffset: UInt64(size(length)))
                try handle.close()
            }
            switch self {
            case .truncatedPack: try truncate(try only(".pack")) { $0 / 2 }
            case .packCutShortByTenBytes: try truncate(try only(".pack")) { $0 - 10 }
            case .emptyPack: try truncate(try only(".pack")) { _ in 0 }
            case .truncatedPackIndex: try truncate(try only(".idx")) { _ in 100 }
            case .flippedBytesInPack:
                let pack = try only(".pack")
                var bytes = try Data(contentsOf: pack)
                for offset in 200..<208 where offset < bytes.count - 20 { bytes[offset] ^= 0xFF }
                try bytes.write(to: pack)
            case .deletedObjectsFolder: try fm.removeItem(at: clone.appendingPathComponent("objects"))
            case .deletedPacks: try fm.removeItem(at: packs)
            case .garbageConfig: try Data("garbage [[[\n".utf8).write(to: clone.appendingPathComponent("config"))
            case .binaryConfig: try Data((0..<100).map { UInt8(($0 * 37 + 11) % 256) }).write(to: clone.appendingPathComponent("config"))
            case .garbageHEAD: try Data("garbage\n".utf8).write(to: clone.appendingPathComponent("HEAD"))
            case .deletedHEAD: try fm.removeItem(at: clone.appendingPathComponent("HEAD"))
            case .corruptedTrackingRef:
                let ref = clone.appendingPathComponent("refs/remotes/origin/main")
                if !fm.fileExists(atPath: ref.path) {
                    // Packed: write a broken loose ref, which takes precedence.
                    try fm.createDirectory(at: ref.deletingLastPathComponent(), withIntermediateDirectories: true)
                }
                try Data("zzz\n".utf8).write(to: ref)
            }
        }
    }

    /// A fixture with two commits on main and a clone of it in the fixture's cache folder, made by a first
    /// cache in a folder of its own and copied over: libgit2 shares open packs by path within a process,
    /// so damage to a pack that process still has open would go unseen, where a new process sees it.
    func cloned() async throws -> (GitFixture, GitRemote, ObjectID, URL) {
        let fixture = try GitFixture()
        var files: [String: String] = [:]
        for index in 0..<20 { files["apps/app-\(index)/prod/values.yaml"] = "tag: v1\nreplicas: \(index)\n" }
        try fixture.commit(files)
        let tip = try fixture.commit(["apps/app-0/prod/values.yaml": "tag: v2\n"])
        let remote = GitRemote(url: fixture.origin.path)
        let seed = RepositoryCache(root: fixture.root.appendingPathComponent("seed"), options: GitTransportOptions(proxyFromEnvironment: false))
        let first = try await seed.repository(for: remote)
        _ = try await first.refresh(branches: ["main"])
        let folder = fixture.cacheRoot.appendingPathComponent(first.path.lastPathComponent)
        try FileManager.default.createDirectory(at: fixture.cacheRoot, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: first.path, to: folder)
        return (fixture, remote, tip, folder)
    }

    /// The next process (a new cache on the same folder) finds the damage on open, clones again, reports it.
    @Test(arguments: Damage.allCases)
    func aDamagedCloneIsClonedAgainOnOpen(damage: Damage) async throws {
        let (fixture, remote, tip, folder) = try await cloned()
        try damage.apply(to: folder)

        let repo = try await fixture.makeCache().repository(for: remote)
        let result = try await repo.refresh(branches: ["main"])
        #expect(result.tips == ["main": tip])
        #expect(result.fetched, "the new clone fetched everything again")
        #expect(result.recovered.count == 1)
        let recovery = try #require(result.recovered.first)
        #expect(recovery.folder == folder.path)
        #expect(!recovery.problem.isEmpty)
        #expect(recovery.description.contains("was damaged") && recovery.description.contains(folder.path))
        #expect(try await repo.readFile("apps/app-0/prod/values.yaml", at: tip) == Data("tag: v2\n".utf8))
        #expect(try await repo.files(under: ["apps"], at: tip).count == 20)
        #expect(try fixture.git("-C", folder.path, "fsck", "--no-dangling").isEmpty)
        // Reported once: the next refresh is an ordinary one.
        let again = try await repo.refresh(branches: ["main"])
        #expect(again.recovered.isEmpty && !again.fetched)
    }

    /// Damage that appears while the process has the clone open: the refresh that meets it checks the
    /// clone, clones it again and goes on (one call, no error for the caller).
    @Test func damageFoundByARefreshIsRepairedInTheSameRefresh() async throws {
        let (fixture, remote, tip, folder) = try await cloned()
        let repo = try await fixture.makeCache().repository(for: remote)
        _ = try await repo.refresh(branches: ["main"])
        try Damage.garbageConfig.apply(to: folder)
        let next = try fixture.commit(["apps/app-1/prod/values.yaml": "tag: v3\n"])

        let result = try await repo.refresh(branches: ["main"])
        #expect(result.tips == ["main": next])
        #expect(result.recovered.map(\.folder) == [folder.path])
        #expect(result.recovered.first?.problem.contains("config") == true, "\(result.recovered)")
        #expect(try await repo.readFile("apps/app-1/prod/values.yaml", at: next) == Data("tag: v3\n".utf8))
        _ = tip
    }

    /// A read that meets damage fails (the caller's step fails this once), and the next refresh repairs it.
    @Test func damageFoundByAReadIsRepairedByTheNextRefresh() async throws {
        let (fixture, remote, tip, folder) = try await cloned()
        let repo = try await fixture.makeCache().repository(for: remote)
        _ = try await repo.refresh(branches: ["main"])
        try Damage.corruptedTrackingRef.apply(to: folder)

        await #expect(throws: GitError.self) { try await repo.localTip(of: "main") }
        let result = try await repo.refresh(branches: ["main"])
        #expect(result.recovered.map(\.folder) == [folder.path])
        #expect(try await repo.localTip(of: "main") == tip)
    }

    /// Not damage: a commit that was never fetched is `.notFound`, and the clone is left as it is.
    @Test func anUnknownCommitIsNotDamage() async throws {
        let (fixture, remote, _, folder) = try await cloned()
        let repo = try await fixture.makeCache().repository(for: remote)
        _ = try await repo.refresh(branches: ["main"])
        let packs = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("objects/pack").path)
        let bogus = try requireID(String(repeating: "ab", count: 20))
        let error = try await #require(throws: GitError.self) { try await repo.readFile("x", at: bogus) }
        #expect(error.kind == .notFound)
        let result = try await repo.refresh(branches: ["main"])
        #expect(result.recovered.isEmpty && !result.fetched)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("objects/pack").path) == packs)
    }

    /// A commit whose object is half-written (a zero-length loose file, as a crash after the rename leaves
    /// it) is never pushed: the push reads back everything it would send first.
    @Test func aHalfWrittenObjectIsNeverPushed() async throws {
        let (fixture, remote, tip, folder) = try await cloned()
        let repo = try await fixture.makeCache().repository(for: remote)
        _ = try await repo.refresh(branches: ["main"])
        let signature = GitSignature(name: "promobot", email: "promobot@example.com", time: Date(timeIntervalSince1970: 1_750_000_000))
        let content = "tag: v9\nhalf: written\n"
        let commit = try await repo.commit(parent: tip, changes: ["apps/app-3/prod/values.yaml": Data(content.utf8)],
                                           author: signature, message: "promote")
        let scratch = fixture.root.appendingPathComponent("blob.txt")
        try Data(content.utf8).write(to: scratch)
        let blob = try fixture.git("hash-object", scratch.path)
        let loose = folder.appendingPathComponent("objects/\(blob.prefix(2))/\(blob.dropFirst(2))")
        #expect(FileManager.default.fileExists(atPath: loose.path))
        try FileManager.default.removeItem(at: loose)
        try Data().write(to: loose)

        let error = try await #require(throws: GitError.self) { try await repo.push(commit, to: "promote/x", expecting: nil) }
        #expect(error.description.contains("nothing was pushed"), "\(error)")
        #expect(try fixture.originTip("promote/x") == nil)
        #expect(repo.counters.pushes == 0, "no connection for the push was even opened")
    }
}
