import Foundation
import Testing
@testable import Git

/// A clone stays bounded however many fetches and commits it sees: past 16 packs or 128 loose objects, a
/// refresh packs everything reachable into one pack and drops the rest (loose objects after an hour).
@Suite struct CompactionTests {
    let signature = GitSignature(name: "promobot", email: "promobot@example.com", time: Date(timeIntervalSince1970: 1_750_000_000))

    func packs(_ repo: CachedRepository) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: repo.path.appendingPathComponent("objects/pack").path).filter { $0.hasSuffix(".pack") }
    }

    @Test func manyFetchesAreCompactedIntoOnePackAndEverythingStaysReadable() async throws {
        let fixture = try GitFixture()
        try fixture.commit(["dev/deploy.yaml": "image: app:1.0.0\n", "prod/deploy.yaml": "image: app:1.0.0\n"])
        let repo = try await fixture.makeCache().repository(for: GitRemote(url: fixture.origin.path))
        var tip = try #require(try await repo.refresh(branches: ["main"]).tips["main"])
        // A commit of the bot's, built a moment ago and not pushed yet (another process's, say): kept.
        let unpushed = try await repo.commit(parent: tip, changes: ["prod/deploy.yaml": Data("image: app:9.9.9\n".utf8)],
                                             author: signature, message: "not pushed yet")
        var tips: [ObjectID] = [tip]
        for round in 1..<CachedRepository.compactionThreshold.packs {
            try fixture.commit(["dev/deploy.yaml": "image: app:1.\(round).0\n"])
            tip = try #require(try await repo.refresh(branches: ["main"]).tips["main"])
            tips.append(tip)
        }
        #expect(try packs(repo).count == CachedRepository.compactionThreshold.packs, "one per fetch, the clone's included")

        try fixture.commit(["dev/deploy.yaml": "image: app:2.0.0\n"])
        let result = try await repo.refresh(branches: ["main"])
        #expect(try await repo.readFile("dev/deploy.yaml", at: try #require(result.tips["main"])) == Data("image: app:2.0.0\n".utf8))
        #expect(result.compactionFailure == nil && result.recovered.isEmpty)
        let left = try packs(repo)
        #expect(left.count == 1, "\(left)")
        for (round, old) in tips.enumerated() {
            let expected = round == 0 ? "image: app:1.0.0\n" : "image: app:1.\(round).0\n"
            #expect(try await repo.readFile("dev/deploy.yaml", at: old) == Data(expected.utf8))
        }
        #expect(try fixture.git("-C", repo.path.path, "fsck", "--no-dangling").isEmpty)
        try await repo.push(unpushed, to: "promote/x", expecting: nil)
        #expect(try fixture.originTip("promote/x") == unpushed)
    }

    @Test func oldUnreachableLooseObjectsGoYoungOnesStay() async throws {
        let fixture = try GitFixture()
        let tip = try fixture.commit(["dev/deploy.yaml": "image: app:1.0.0\n"])
        let repo = try await fixture.makeCache().repository(for: GitRemote(url: fixture.origin.path))
        _ = try await repo.refresh(branches: ["main"])
        var commits: [ObjectID] = []
        for index in 0...(CachedRepository.compactionThreshold.looseObjects / 2) {
            commits.append(try await repo.commit(parent: tip, changes: ["x/\(index).yaml": Data("n: \(index)\n".utf8)],
                                                 author: signature, message: "abandoned \(index)"))
        }
        let objects = repo.path.appendingPathComponent("objects")
        let loose = CachedRepository.looseObjects(in: objects)
        #expect(loose.count > CachedRepository.compactionThreshold.looseObjects)
        // The first half is two hours old: abandoned work of a run long gone.
        let old = Date().addingTimeInterval(-7200).timeIntervalSince1970
        var times = [timeval(tv_sec: Int(old), tv_usec: 0), timeval(tv_sec: Int(old), tv_usec: 0)]
        let aged = Set(loose.sorted().prefix(loose.count / 2))
        for file in aged { #expect(utimes(file, &times) == 0) }

        _ = try await repo.refresh(branches: ["main"])
        let left = Set(CachedRepository.looseObjects(in: objects))
        #expect(left.isDisjoint(with: aged))
        #expect(left == Set(loose).subtracting(aged))
        #expect(try await repo.readFile("dev/deploy.yaml", at: tip) == Data("image: app:1.0.0\n".utf8))
    }
}
