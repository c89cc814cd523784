import CGitShims
import Foundation
import HTTP
import Sandbox
import Testing
import TestSupport
@testable import Git

/// Transient smart-HTTP failures (5xx, 408, 429, dropped or cut connections) are retried like REST
/// requests; permanent ones are not; a retried push whose first answer was lost is a success.
@Suite struct GitRetryTests {
    let signature = GitSignature(name: "promobot", email: "promobot@example.com", time: Date(timeIntervalSince1970: 1_750_000_000))

    /// Fast, predictable backoff for tests.
    static let fast = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(10), maxDelay: .seconds(5), jitter: .none)

    /// An origin with one commit served over HTTP with a token, and its (not yet fetched) cached clone.
    func origin(retry: RetryPolicy = fast, permit: GitRequestPermit? = nil,
                files: [String: String] = ["a.txt": "1"]) async throws -> (GitFixture, SmartHTTPServer, CachedRepository) {
        let fixture = try GitFixture()
        _ = try fixture.commit(files)
        let server = try SmartHTTPServer(projectRoot: fixture.root, token: "glpat-retry")
        let cache = RepositoryCache(root: fixture.cacheRoot, options: GitTransportOptions(
            proxyFromEnvironment: false, retry: retry, requestPermit: permit))
        let repo = try await cache.repository(for: GitRemote(url: server.url("origin.git"), credentials: .token("glpat-retry")))
        return (fixture, server, repo)
    }

    static let listing = "GET /origin.git/info/refs?service=git-upload-pack"
    static let uploadPack = "POST /origin.git/git-upload-pack"
    static let pushListing = "GET /origin.git/info/refs?service=git-receive-pack"
    static let receivePack = "POST /origin.git/git-receive-pack"

    // MARK: - Retried

    /// One transient failure, then success: exactly one retry and one extra request of the failed kind.
    @Test(arguments: [
        (SmartHTTPServer.Fault.status(503), "GET /origin.git/info/refs?service=git-upload-pack"),
        (.status(502), "POST /origin.git/git-upload-pack"),
        (.status(408), "GET /origin.git/info/refs?service=git-upload-pack"),
        (.status(429), "GET /origin.git/info/refs?service=git-upload-pack"),
        (.drop, "GET /origin.git/info/refs?service=git-upload-pack"),
        (.drop, "POST /origin.git/git-upload-pack"),
        (.truncate, "POST /origin.git/git-upload-pack"),
    ])
    func oneTransientFailureIsRetried(fault: SmartHTTPServer.Fault, on request: String) async throws {
        let (fixture, server, repo) = try await origin()
        defer { server.stop() }
        server.inject(fault, on: request)
        let result = try await repo.refresh(branches: ["main"])
        #expect(result.tips["main"] == (try fixture.originTip("main")))
        #expect(result.fetched)
        #expect(repo.counters.retries == 1)
        #expect(server.requests.filter { $0.hasPrefix(request) }.count == 2, "\(server.requests)")
        #expect(try await repo.readFile("a.txt", at: #require(result.tips["main"])) == Data("1".utf8))
    }

    @Test func a503OnTheRefListingCostsExactlyOneMoreListing() async throws {
        let (fixture, server, repo) = try await origin()
        defer { server.stop() }
        server.inject(.status(503), on: Self.listing)
        let result = try await repo.refresh(branches: ["main"])
        #expect(result.tips["main"] == (try fixture.originTip("main")))
        #expect(repo.counters == GitCounters(refListings: 2, fetches: 1, pushes: 0, retries: 1))
        #expect(server.requests.filter { $0.hasPrefix(Self.listing) } == [Self.listing + " 503", Self.listing + " 200"],
                "\(server.requests)")
    }

    /// The wait is the server's `Retry-After` (1 s), not the 10 ms backoff.
    @Test func retryAfterOnA429IsHonoured() async throws {
        let (fixture, server, repo) = try await origin()
        defer { server.stop(); withExtendedLifetime(fixture) {} }  // the fixture owns the origin's folder
        server.inject(.status(429, headers: ["Retry-After": "1"]), on: Self.listing)
        let started = Date()
        _ = try await repo.refresh(branches: ["main"])
        let waited = Date().timeIntervalSince(started)
        #expect(waited >= 0.9, "waited \(waited) s")
        #expect(waited < 4.5, "waited \(waited) s")
        #expect(repo.counters.retries == 1)
    }

    @Test func remoteTipsAreRetried() async throws {
        let (fixture, server, repo) = try await origin()
        defer { server.stop() }
        server.inject(.status(500), on: Self.listing)
        #expect(try await repo.remoteTips(branches: ["main"]) == ["main": #require(try fixture.originTip("main"))])
        #expect(repo.counters.refListings == 2)
    }

    // MARK: - Pushes whose answer was lost

    /// receive-pack applied the update, then the connection dropped: the retry finds the branch at our commit.
    @Test func aPushThatLandedBeforeTheConnectionDroppedIsASuccess() async throws {
        let (fixture, server, repo) = try await origin()
        defer { server.stop() }
        let tip = try #require(try await repo.refresh(branches: ["main"]).tips["main"])
        let commit = try await repo.commit(parent: tip, changes: ["a.txt": Data("2".utf8)], author: signature, message: "x")
        server.inject(.dropAfterBackend, on: Self.receivePack)
        try await repo.push(commit, to: "promote/a", expecting: nil)
        #expect(try fixture.originTip("promote/a") == commit)
        #expect(try await repo.localTip(of: "promote/a") == commit)
        #expect(server.requests.filter { $0.hasPrefix(Self.receivePack) } == [Self.receivePack + " 200 dropped"],
                "sent once, not again: \(server.requests)")
        #expect(server.requests.filter { $0.hasPrefix(Self.pushListing) }.count == 2)

        // The same for an update of an existing branch, and for a deletion.
        let next = try await repo.commit(parent: commit, changes: ["a.txt": Data("3".utf8)], author: signature, message: "y")
        server.inject(.dropAfterBackend, on: Self.receivePack)
        try await repo.push(next, to: "promote/a", expecting: commit)
        #expect(try fixture.originTip("promote/a") == next)
        server.inject(.dropAfterBackend, on: Self.receivePack)
        try await repo.deleteBranch("promote/a", expecting: next)
        #expect(try fixture.originTip("promote/a") == nil)
        #expect(repo.counters.retries == 3)
    }

    /// A push refused before anything was sent (503 on the receive-pack POST) is sent again.
    @Test func aPushRefusedWith503IsSentAgain() async throws {
        let (fixture, server, repo) = try await origin()
        defer { server.stop() }
        let tip = try #require(try await repo.refresh(branches: ["main"]).tips["main"])
        let commit = try await repo.commit(parent: tip, changes: ["a.txt": Data("2".utf8)], author: signature, message: "x")
        server.inject(.status(503), on: Self.receivePack)
        try await repo.push(commit, to: "main", expecting: tip)
        #expect(try fixture.originTip("main") == commit)
        #expect(server.requests.filter { $0.hasPrefix(Self.receivePack) }.map { $0.split(separator: " ").last } == ["503", "200"])
    }

    /// After a lost answer, a branch someone else moved meanwhile is still a lost lease, not a success.
    @Test func aLostAnswerDoesNotHideSomeoneElsesPush() async throws {
        let (fixture, server, repo) = try await origin()
        defer { server.stop() }
        let tip = try #require(try await repo.refresh(branches: ["main"]).tips["main"])
        let commit = try await repo.commit(parent: tip, changes: ["a.txt": Data("2".utf8)], author: signature, message: "x")
        server.inject(.dropAfterBackend, on: Self.receivePack)
        let theirs = Moved()
        server.onResponse { request in
            guard request.hasPrefix(Self.receivePack), theirs.claim() else { return }
            theirs.set(try? fixture.commit(["a.txt": "theirs"]))
        }
        let error = try await #require(throws: GitError.self) { try await repo.push(commit, to: "main", expecting: tip) }
        #expect(error.kind == .leaseRejected(actual: theirs.value))
    }

    // MARK: - Not retried

    @Test func authenticationNotFoundAndForbiddenAreNotRetried() async throws {
        // 401: a wrong token.
        let (fixture, server, _) = try await origin()
        defer { server.stop() }
        let options = GitTransportOptions(proxyFromEnvironment: false, retry: Self.fast)
        let wrong = try await RepositoryCache(root: fixture.root.appendingPathComponent("c401"), options: options)
            .repository(for: GitRemote(url: server.url("origin.git"), credentials: .token("glpat-wrong")))
        let unauthorized = try await #require(throws: GitError.self) { try await wrong.refresh(branches: ["main"]) }
        #expect(unauthorized.kind == .authentication)
        #expect(unauthorized.attempts == 1)
        #expect(wrong.counters.refListings == 1 && wrong.counters.retries == 0)

        // 404: a project the token cannot see.
        let missing = try await RepositoryCache(root: fixture.root.appendingPathComponent("c404"), options: options)
            .repository(for: GitRemote(url: server.url("missing.git"), credentials: .token("glpat-retry")))
        let notFound = try await #require(throws: GitError.self) { try await missing.refresh(branches: ["main"]) }
        #expect(notFound.kind == .notFound)
        #expect(notFound.attempts == 1)
        #expect(server.requests.filter { $0.hasPrefix("GET /missing.git/") }.count == 1, "\(server.requests)")

        // 403 and 400 (injected).
        let repo = try await RepositoryCache(root: fixture.root.appendingPathComponent("c403"), options: options)
            .repository(for: GitRemote(url: server.url("origin.git"), credentials: .token("glpat-retry")))
        for status in [403, 400] {
            server.inject(.status(status), on: Self.listing)
            let error = try await #require(throws: GitError.self) { try await repo.refresh(branches: ["main"]) }
            #expect(error.attempts == 1, "\(status): \(error)")
        }
        #expect(repo.counters.retries == 0)
    }

    @Test func aLostLeaseIsNotRetried() async throws {
        let (fixture, server, repo) = try await origin()
        defer { server.stop() }
        let tip = try #require(try await repo.refresh(branches: ["main"]).tips["main"])
        let theirs = try fixture.commit(["a.txt": "theirs"])
        let mine = try await repo.commit(parent: tip, changes: ["a.txt": Data("mine".utf8)], author: signature, message: "x")
        let error = try await #require(throws: GitError.self) { try await repo.push(mine, to: "main", expecting: tip) }
        #expect(error.kind == .leaseRejected(actual: theirs))
        #expect(repo.counters.pushes == 1 && repo.counters.retries == 0)
    }

    /// Retries stop after `maxAttempts`, with an error that says how often it tried and what failed.
    @Test func retriesStopAfterTheConfiguredAttempts() async throws {
        let (fixture, server, repo) = try await origin(retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10), jitter: .none))
        defer { server.stop(); withExtendedLifetime(fixture) {} }
        server.inject(.status(503), on: Self.listing, count: 100)
        let error = try await #require(throws: GitError.self) { try await repo.refresh(branches: ["main"]) }
        #expect(error.kind == .network)
        #expect(error.attempts == 3)
        #expect(error.description.contains("failed after 3 attempts"), "\(error)")
        #expect(error.description.contains("503"), "\(error)")
        #expect(!error.description.contains("glpat-retry"))
        #expect(server.requests.filter { $0.hasPrefix(Self.listing) }.count == 3)
        #expect(repo.counters.retries == 2)
    }

    @Test func retryPolicyNoneTriesOnce() async throws {
        let (fixture, server, repo) = try await origin(retry: .none)
        defer { server.stop(); withExtendedLifetime(fixture) {} }
        server.inject(.status(503), on: Self.listing)
        let error = try await #require(throws: GitError.self) { try await repo.refresh(branches: ["main"]) }
        #expect(error.attempts == 1)
        #expect(error.description.contains("unexpected http status code: 503"), "\(error)")
    }

    // MARK: - An interrupted fetch

    /// The upload-pack answer is cut halfway through a large pack; the cache stays usable and a later
    /// refresh yields the right tip and bytes.
    @Test func aFetchCutHalfwayLeavesTheCacheUsable() async throws {
        var generator = SystemRandomNumberGenerator()
        let big = (0..<300_000).map { _ in "0123456789abcdef".randomElement(using: &generator)! }
        let (fixture, server, repo) = try await origin(retry: .none, files: ["big.txt": String(big)])
        defer { server.stop() }
        server.inject(.truncate, on: Self.uploadPack)
        let error = try await #require(throws: GitError.self) { try await repo.refresh(branches: ["main"]) }
        #expect(error.kind == .network, "\(error)")
        #expect(error.transient != nil, "a cut connection is transient: \(error)")
        #expect(try await repo.localTip(of: "main") == nil, "no ref moved")
        let packs = repo.path.appendingPathComponent("objects/pack").path
        #expect(try FileManager.default.contentsOfDirectory(atPath: packs).isEmpty, "no half-written pack left behind")
        #expect(server.requests.contains { $0.hasPrefix(Self.uploadPack) && $0.hasSuffix("truncated") }, "\(server.requests)")

        let result = try await repo.refresh(branches: ["main"])
        let tip = try #require(try fixture.originTip("main"))
        #expect(result.tips == ["main": tip])
        #expect(result.fetched)
        #expect(try await repo.localTip(of: "main") == tip)
        #expect(try await repo.readFile("big.txt", at: tip) == Data(String(big).utf8))
        let more = try fixture.commit(["big.txt": String(big) + "more"])
        #expect(try await repo.refresh(branches: ["main"]).tips == ["main": more])
    }

    // MARK: - Permits

    /// Every request of every attempt asks for a permit first: the hook for the run's shared budget.
    @Test func everyAttemptTakesAPermit() async throws {
        let asked = PermitLog()
        let (fixture, server, repo) = try await origin(permit: GitRequestPermit { asked.append($0) })
        defer { server.stop(); withExtendedLifetime(fixture) {} }
        server.inject(.status(503), on: Self.listing)
        let tip = try #require(try await repo.refresh(branches: ["main"]).tips["main"])
        #expect(asked.kinds == [.fetchRefListing, .fetchRefListing, .fetch])
        #expect(asked.requests.first?.description == "GET /origin.git/info/refs")
        let commit = try await repo.commit(parent: tip, changes: ["a.txt": Data("2".utf8)], author: signature, message: "x")
        try await repo.push(commit, to: "promote/a", expecting: nil)
        #expect(asked.kinds.suffix(2) == [.pushRefListing, .push])
        #expect(asked.requests.last?.description == "POST /origin.git/git-receive-pack")
        // One permit per request that reached the server (the token goes with the first request: no 401 round).
        #expect(asked.kinds.count == server.requests.count, "\(server.requests)")
    }

    /// A refused permit (an exhausted budget) ends the operation with its own error; nothing is sent.
    @Test func aRefusedPermitSendsNothing() async throws {
        struct Exhausted: Error {}
        let (fixture, server, repo) = try await origin(permit: GitRequestPermit { _ in throw Exhausted() })
        defer { server.stop(); withExtendedLifetime(fixture) {} }
        await #expect(throws: Exhausted.self) { try await repo.refresh(branches: ["main"]) }
        #expect(server.requests.isEmpty)
    }

    // MARK: - Against the sandbox

    /// The sandbox's fault injection reaches git's smart-HTTP paths.
    @Test func sandbox503OnInfoRefsIsRetried() async throws {
        try await SandboxGitTests().withSandbox { sandbox, project, fixture in
            sandbox.injectFault(SandboxFault(method: "GET", pathPrefix: "/group/deploy.git/info/refs",
                                             kind: .status(503, body: "busy"), count: 1))
            sandbox.injectFault(SandboxFault(method: "POST", pathPrefix: "/group/deploy.git/git-upload-pack",
                                             kind: .drop, count: 1))
            let cache = RepositoryCache(root: fixture.cacheRoot, options: GitTransportOptions(
                proxyFromEnvironment: false, retry: Self.fast))
            let repo = try await cache.repository(for: GitRemote(url: project.httpURLToRepo, credentials: .token("glpat-bot-secret")))
            let result = try await repo.refresh(branches: ["main"])
            #expect(result.tips["main"]?.hex == (try sandbox.branchSHA(project: "group/deploy", branch: "main")))
            #expect(repo.counters.retries == 2)
            #expect(sandbox.requests(matching: "/group/deploy.git/info/refs") == 3)
        }
    }

    // MARK: - Randomized

    /// Rounds of CI commits, a bot push (sometimes a deletion) and random faults on every kind of git
    /// request, fewer per round than the attempts allowed: every operation succeeds, the remote ends where
    /// the bot put it, and no update is applied twice. The seed is printed; replay with
    /// `PROMOBOT_GIT_FAULT_SEED=<seed>`, run longer with `PROMOBOT_GIT_FAULT_ROUNDS=<n>`.
    @Test func randomFaultsOnEveryKindOfGitRequest() async throws {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["PROMOBOT_GIT_FAULT_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 0...UInt64.max)
        let rounds = environment["PROMOBOT_GIT_FAULT_ROUNDS"].flatMap(Int.init) ?? 10
        print("randomFaultsOnEveryKindOfGitRequest: seed \(seed), \(rounds) rounds (PROMOBOT_GIT_FAULT_SEED=\(seed) replays)")
        var random = SeededGenerator(seed: seed)
        let policy = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(5), maxDelay: .milliseconds(50), jitter: .full)
        let (fixture, server, repo) = try await origin(retry: policy)
        defer { server.stop() }
        let requests = [Self.listing, Self.uploadPack, Self.pushListing, Self.receivePack]
        let faults: [SmartHTTPServer.Fault] = [
            .status(503), .status(502), .status(408), .status(429, headers: ["Retry-After": "0"]),
            .drop, .truncate, .dropAfterBackend,
        ]
        var botTip: ObjectID?
        var updates = 0
        for round in 1...rounds {
            let context = "seed \(seed), round \(round)"
            if Bool.random(using: &random) { try fixture.commit(["ci.txt": "\(round)"], message: "ci \(round)") }
            var injected: [String] = []
            for _ in 0..<Int.random(in: 0...(policy.maxAttempts - 1), using: &random) {
                let (fault, request) = (faults.randomElement(using: &random)!, requests.randomElement(using: &random)!)
                server.inject(fault, on: request)
                injected.append("\(fault) on \(request)")
            }
            let main = try #require(try await repo.refresh(branches: ["main"]).tips["main"], "\(context): \(injected)")
            #expect(main == (try fixture.originTip("main")), "\(context): \(injected)")
            let commit = try await repo.commit(parent: main, changes: ["bot.txt": Data("\(round)".utf8)], author: signature,
                                         message: "bot \(round)")
            try await repo.push(commit, to: "promote/bot", expecting: botTip)
            updates += 1
            botTip = commit
            #expect(try fixture.originTip("promote/bot") == commit, "\(context): \(injected)")
            if round % 3 == 0, let tip = botTip {
                try await repo.deleteBranch("promote/bot", expecting: tip)
                updates += 1
                botTip = nil
                #expect(try fixture.originTip("promote/bot") == nil, "\(context): \(injected)")
            }
            server.clearFaults()
        }
        let applied = server.requests.filter { $0.hasPrefix(Self.receivePack + " 200") }
        #expect(applied.count == updates, "seed \(seed): each update applied exactly once: \(applied)")
        #expect(try await repo.refresh(branches: ["main", "promote/bot"]).tips["main"] == (try fixture.originTip("main")))
    }

    // MARK: - Classification

    @Test(arguments: [
        (GitError.Kind.network, "unexpected http status code: 503", 0, "", true),
        (.network, "unexpected http status code: 408", 0, "", true),
        (.network, "unexpected http status code: 429", 0, "", true),
        (.network, "unexpected http status code: 400", 0, "", false),
        (.network, "unexpected EOF", PROMOBOT_GIT_TRANSPORT_EOF, "", true),
        (.network, "http parser error: stream ended at an unexpected time", PROMOBOT_GIT_TRANSPORT_EOF, "", true),
        (.network, "early EOF", PROMOBOT_GIT_TRANSPORT_EOF, "", true),
        (.network, "expected response content-type application/x-git-upload-pack-advertisement", PROMOBOT_GIT_TRANSPORT_EOF, "", false),
        (.network, "error receiving from 127.0.0.1: Connection reset by peer", PROMOBOT_GIT_TRANSPORT_IO, "", true),
        (.network, "failed to connect to 127.0.0.1: Connection refused", PROMOBOT_GIT_TRANSPORT_CONNECT, "", true),
        (.network, "expected content-type application/x-git-upload-pack-advertisement", 0, "", false),
        (.authentication, "the remote rejected the credentials", PROMOBOT_GIT_TRANSPORT_EOF, "", false),
        (.certificate, "certificate could not be verified", PROMOBOT_GIT_TRANSPORT_IO, "", false),
        (.notFound, "unexpected http status code: 404", 0, "", false),
    ] as [(GitError.Kind, String, Int32, String, Bool)])
    func classification(kind: GitError.Kind, message: String, failure: Int32, retryAfter: String, transient: Bool) {
        let observation = TransientFailure.Observation(failure: failure, status: 0, retryAfter: retryAfter)
        #expect((TransientFailure.classify(kind: kind, message: message, observation: observation) != nil) == transient)
    }

    @Test func retryAfterIsTakenOnlyFromTheFailingResponse() {
        let seen = TransientFailure.Observation(failure: PROMOBOT_GIT_TRANSPORT_OK, status: 503, retryAfter: "3")
        let matching = TransientFailure.classify(kind: .network, message: "unexpected http status code: 503", observation: seen)
        #expect(matching == TransientFailure(status: 503, retryAfter: "3"))
        #expect(matching?.delay(afterAttempt: 1, policy: Self.fast) == .seconds(3))
        let other = TransientFailure.classify(kind: .network, message: "unexpected http status code: 502", observation: seen)
        #expect(other == TransientFailure(status: 502, retryAfter: nil))
        #expect(other?.delay(afterAttempt: 2, policy: Self.fast) == .milliseconds(20))
        let capped = TransientFailure(status: 429, retryAfter: "3600").delay(afterAttempt: 1, policy: Self.fast)
        #expect(capped == .seconds(5), "capped by maxDelay")
    }
}

/// The permits a test's repository asked for.
final class PermitLog: @unchecked Sendable {
    private let lock = NSLock()
    private var log: [GitRequest] = []
    func append(_ request: GitRequest) { lock.withLock { log.append(request) } }
    var requests: [GitRequest] { lock.withLock { log } }
    var kinds: [GitRequest.Kind] { requests.map(\.kind) }
}

