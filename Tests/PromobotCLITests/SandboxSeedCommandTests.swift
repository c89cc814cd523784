import Foundation
import GitLab
import HTTP
import Testing
import TestSupport

/// `promobot sandbox --seed FILE.yaml`, end to end through the real binary on loopback.
@Suite struct SandboxSeedCommandTests {
    static let root = TestPaths.repositoryRoot()
    static let example = root + "/examples/sandbox-seed.yaml"
    static let ready = "Press Ctrl-C to stop."

    static let http = CurlHTTPClient(configuration: HTTPClientConfiguration(retry: .none, proxy: .none))

    /// The base URL the sandbox printed (`promobot sandbox listening on URL`).
    static func baseURL(in output: String) throws -> URL {
        let line = try #require(output.split(separator: "\n").first { $0.hasPrefix("promobot sandbox listening on ") })
        return try #require(URL(string: String(line.dropFirst("promobot sandbox listening on ".count))))
    }

    static func get(_ url: URL, _ path: String, token: String? = nil) async throws -> HTTPResponse {
        let response = try await http.get(URL(string: url.absoluteString + path)!, headers: token.map { ["PRIVATE-TOKEN": $0] } ?? [:])
        return response
    }

    static func json(_ response: HTTPResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any] ?? [:]
    }

    @Test func theExampleSeedIsServedAndNoTokenIsPrinted() async throws {
        let folder = try TestPaths.temporaryFolder("sandbox-seed")
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("data")
        let aliceToken = "alice-\(UUID().uuidString)"

        let (tokens, output) = try await BinaryRunner.withRunning(
            ["sandbox", "--data", data.path, "--port", "0", "--seed", Self.example],
            environment: ["ALICE_TOKEN": aliceToken, "SANDBOX_TOKEN": ""], until: Self.ready
        ) { started -> [String] in
            let base = try Self.baseURL(in: started)
            let tokenFile = data.appendingPathComponent("tokens/promobot")
            #expect(started.contains("  User:         alice (maintainer), token from ALICE_TOKEN\n"))
            #expect(started.contains("  User:         promobot (developer), token written to \(tokenFile.path)\n"))
            #expect(started.contains("  Seeded:       5 projects, 3 users, 2 Argo CD applications, 3 Prometheus values, 6 registry tags from \(Self.example) in "))

            let attributes = try FileManager.default.attributesOfItem(atPath: tokenFile.path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            let folderMode = try FileManager.default.attributesOfItem(atPath: tokenFile.deletingLastPathComponent().path)[.posixPermissions]
            #expect((folderMode as? NSNumber)?.intValue == 0o700)
            let botToken = try String(contentsOf: tokenFile, encoding: .utf8)
            let ritaToken = try String(contentsOf: data.appendingPathComponent("tokens/rita"), encoding: .utf8)
            let rootToken = try String(contentsOf: data.appendingPathComponent("token"), encoding: .utf8)

            // Users and their tokens, through the GitLab client.
            let asBot = GitLabClient(baseURL: base, token: GitLabToken(botToken), transport: Self.http)
            #expect(try await asBot.currentUser().username == "promobot")
            let asAlice = GitLabClient(baseURL: base, token: GitLabToken(aliceToken), transport: Self.http)
            let alice = try await asAlice.currentUser()
            #expect(alice.username == "alice" && alice.name == "Alice Maintainer")
            #expect(try await GitLabClient(baseURL: base, token: GitLabToken(ritaToken), transport: Self.http).currentUser().username == "rita")

            // Projects and their settings.
            let oms = try await asAlice.project(.path("group/oms-deploy"))
            #expect(oms.defaultBranch == "master")
            #expect(oms.mergeMethod == .fastForward)
            #expect(oms.onlyAllowMergeIfPipelineSucceeds == false)
            #expect(Self.json(try await Self.get(base, "/api/v4/projects/group%2Foms-deploy", token: aliceToken))["approvals_before_merge"] as? Int == 1)
            let master = try #require(try await asAlice.branch(.path("group/oms-deploy"), "master"))
            #expect(master.protected)
            let codeowners = try await Self.get(base, "/api/v4/projects/group%2Foms-deploy/repository/files/CODEOWNERS/raw?ref=master", token: botToken)
            #expect(String(decoding: codeowners.body, as: UTF8.self) == "* @alice\n")
            let imported = try await Self.get(base, "/api/v4/projects/group%2Foms-deploy/repository/files/prod%2Fweb%2Fdeploy.yaml/raw?ref=master", token: botToken)
            #expect(String(decoding: imported.body, as: UTF8.self) == (try String(contentsOfFile: Self.root + "/examples/oms-deploy/prod/web/deploy.yaml", encoding: .utf8)))
            #expect(try await asBot.project(.path("group/payments-deploy")).mergeMethod == .rebaseMerge)
            let bench = try await Self.get(base, "/api/v4/projects/bench%2Fdeploy-2/repository/files/dev%2Fapp.yaml/raw?ref=main", token: botToken)
            #expect(String(decoding: bench.body, as: UTF8.self) == "image: registry.example.com/bench/app-2:1.0.0\n")

            // Argo CD and Prometheus stand-ins.
            let argo = Self.json(try await Self.get(base, "/api/v1/applications/oms-dev"))
            let status = try #require(argo["status"] as? [String: Any])
            #expect((status["sync"] as? [String: Any])?["revision"] as? String == master.commitSHA)
            #expect((status["summary"] as? [String: Any])?["images"] as? [String] == ["registry.example.com/oms/app:1.5.0", "registry.example.com/oms/web:1.5.0"])
            let prod = Self.json(try await Self.get(base, "/api/v1/applications/oms-prod"))
            #expect(((prod["status"] as? [String: Any])?["health"] as? [String: Any])?["status"] as? String == "Progressing")
            let query = "sum(rate(http_errors_total%7Benv%3D%22dev%22%7D%5B5m%5D))"
            let errors = Self.json(try await Self.get(base, "/api/v1/query?query=\(query)"))
            let sample = ((errors["data"] as? [String: Any])?["result"] as? [[String: Any]])?.first?["value"] as? [Any]
            #expect(sample?.last as? String == "0.01")
            return [aliceToken, botToken, ritaToken, rootToken]
        }
        #expect(tokens.count == 4)
        for token in tokens {
            #expect(!output.stdout.contains(token) && !output.stderr.contains(token), "a token was printed")
        }
        #expect(output.stdout.hasSuffix("sandbox stopped\n"))
    }

    @Test func aSeedWithProblemsExitsTwoBeforeAnythingStarts() async throws {
        let folder = try TestPaths.temporaryFolder("sandbox-seed-bad")
        defer { try? FileManager.default.removeItem(at: folder) }
        let seed = folder.appendingPathComponent("seed.yaml")
        try """
            users:
              - username: bob
                role: maintaner
                token: glpat-never-echoed
            projects:
              - path: group/deploy
                mergeMethod: squash
            """.write(to: seed, atomically: true, encoding: .utf8)
        let data = folder.appendingPathComponent("data")

        let result = try await BinaryRunner.run(["sandbox", "--data", data.path, "--port", "0", "--seed", seed.path])

        #expect(result.status == 2)
        #expect(result.stderr == """
            \(seed.path):3:11: error: invalid role 'maintaner' in user 'bob': use one of reporter, developer, maintainer, admin (did you mean 'maintainer'?)
            \(seed.path):4:5: error: 'token' in user 1 of 'users' would put a secret in the seed file: use 'tokenEnv' (the name of an environment variable), or leave it out to have a token generated into DATA/tokens/bob
            \(seed.path):7:18: error: invalid merge method 'squash' in project 'group/deploy': use one of merge, rebase_merge, ff

            """)
        #expect(result.stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: data.path), "nothing is created before the seed is valid")

        let missing = try await BinaryRunner.run(["sandbox", "--data", data.path, "--seed", "dmeo"])
        #expect(missing.status == 2)
        #expect(missing.stderr == "dmeo: error: cannot read the file: it does not exist\npromobot: '--seed' takes 'demo' or the path of a seed file (docs/sandbox.md)\n")
    }

    /// Runs the binary on a seed of `count` generated projects (``generatorSeed(count:)``) in a fresh folder,
    /// with `token` as the root token; `body` gets the base URL. Removes the folder on every path.
    static func withGenerated<T>(count: Int, token: String, _ body: (URL) async throws -> T) async throws -> (value: T, output: BinaryRunner.Result) {
        let folder = try TestPaths.temporaryFolder("sandbox-seed-\(count)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let seed = folder.appendingPathComponent("seed.yaml")
        try generatorSeed(count: count).write(to: seed, atomically: true, encoding: .utf8)
        return try await BinaryRunner.withRunning(["sandbox", "--data", folder.appendingPathComponent("data").path, "--port", "0", "--seed", seed.path],
                                                  environment: ["SANDBOX_TOKEN": token], until: ready) { started in
            try await body(try baseURL(in: started))
        }
    }

    @Test func fiftyGeneratedProjectsAreServed() async throws {
        let token = "root-\(UUID().uuidString)"
        _ = try await Self.withGenerated(count: 50, token: token) { base in
            let listing = try await Self.get(base, "/api/v4/projects?per_page=100", token: token)
            #expect(listing.headers.values("X-Total") == ["50"])
            let client = GitLabClient(baseURL: base, token: GitLabToken(token), transport: Self.http)
            for n in [1, 37, 50] {
                let project = try await client.project(.path("bench/deploy-\(n)"))
                #expect(project.defaultBranch == "main")
                let file = try await Self.get(base, "/api/v4/projects/bench%2Fdeploy-\(n)/repository/files/dev%2Fdeployment.yaml/raw?ref=main", token: token)
                #expect(String(decoding: file.body, as: UTF8.self).contains("image: registry.example.com/bench/app-\(n):1.0.\(n)\n"))
                #expect(try await client.branch(.path("bench/deploy-\(n)"), "main")?.protected == true)
            }
        }
    }

    /// Not a timed assertion: prints how long 1,000 generated projects take to be served (docs/sandbox.md quotes it).
    @Test func aThousandGeneratedProjectsStart() async throws {
        let token = "root-\(UUID().uuidString)"
        let launched = Date()  // Includes writing the seed file: a few milliseconds.
        let (elapsed, output) = try await Self.withGenerated(count: 1_000, token: token) { base -> TimeInterval in
            let elapsed = Date().timeIntervalSince(launched)
            let listing = try await Self.get(base, "/api/v4/projects?per_page=1", token: token)
            #expect(listing.headers.values("X-Total") == ["1000"])
            return elapsed
        }
        let seeded = output.stdout.split(separator: "\n").first { $0.contains("Seeded:") }.map { $0.trimmingCharacters(in: .whitespaces) } ?? "?"
        print("benchmark: promobot sandbox --seed with 1000 generated projects: ready \(String(format: "%.2f", elapsed)) s after launch (\(seeded))")
    }

    /// A seed with one generator of `count` projects, three files each, `main` protected.
    static func generatorSeed(count: Int) -> String {
        """
        generate:
          - count: \(count)
            path: bench/deploy-{n}
            protectedBranches:
              - name: main
            files:
              dev/deployment.yaml: |
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: app-{n}
                spec:
                  template:
                    spec:
                      containers:
                        - name: app
                          image: registry.example.com/bench/app-{n}:1.0.{n}
              test/deployment.yaml: |
                image: registry.example.com/bench/app-{n}:1.0.0
              prod/deployment.yaml: |
                image: registry.example.com/bench/app-{n}:0.9.0

        """
    }
}
