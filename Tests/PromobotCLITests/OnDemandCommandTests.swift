import Foundation
import Sandbox
import Testing
import TestSupport

/// `promobot rollback` and `promobot promote` as the on-call engineer runs them: the real binary, and
/// the one-click jobs of `deploy/gitlab/.gitlab-ci.yml` run by a real shell, against a sandbox GitLab.
@Suite struct OnDemandCommandTests {
    /// The setup of `EngineCommandTests` with test merging by itself, after one `run` put 1.5.0 on test.
    func withPromotedTest(_ body: (EngineCommandTests.Setup) async throws -> Void) async throws {
        try await withSandbox("cli-rollback") { sandbox, folder in
            let s = try EngineCommandTests.Setup(sandbox: sandbox, folder: folder)
            let policy = folder.appendingPathComponent("policies/oms.yaml")
            let text = try String(contentsOf: policy, encoding: .utf8).replacingOccurrences(of: "merge: manual", with: "merge: auto")
            try text.write(to: policy, atomically: true, encoding: .utf8)
            let run = try await s.promobot(["run"])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(try sandbox.fileContent(project: "group/oms-deploy", ref: "master", path: "test/deploy.yaml")?.contains(":1.5.0") == true)
            try await body(s)
        }
    }

    /// The `script` lines of a job in `deploy/gitlab/.gitlab-ci.yml`.
    static func script(ofJob job: String) throws -> [String] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let lines = try String(contentsOf: root.appendingPathComponent("deploy/gitlab/.gitlab-ci.yml"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(of: "\(job):") else { throw TestFailure("no job '\(job)' in deploy/gitlab/.gitlab-ci.yml") }
        var script: [String] = [], inScript = false
        for line in lines[(start + 1)...] {
            if !line.hasPrefix(" ") && !line.isEmpty { break }
            if line == "  script:" { inScript = true; continue }
            if inScript {
                guard line.hasPrefix("    - ") else { break }
                script.append(String(line.dropFirst(6)))
            }
        }
        return script
    }

    /// Runs a CI job's script with `sh -e`, as GitLab's runner does, with `promobot` on the PATH.
    static func runJob(_ job: String, in s: EngineCommandTests.Setup, variables: [String: String]) async throws -> BinaryRunner.Result {
        let script = try Self.script(ofJob: job).joined(separator: "\n")
        let bin = BinaryRunner.binary.deletingLastPathComponent().path
        let environment = variables.merging([s.tokenVariable: s.token, "PATH": "\(bin):/usr/bin:/bin"]) { $1 }
        return try await ShellRunner.run(script, in: s.folder, environment: environment)
    }

    @Test func theOneClickRollbackJobRollsTheStageBackAndNamesWhoClicked() async throws {
        try await withPromotedTest { s in
            let result = try await Self.runJob("rollback", in: s, variables: [
                "PROMOBOT_POLICY": "oms", "PROMOBOT_STAGE": "test", "PROMOBOT_REASON": "checkout errors", "PROMOBOT_TO": "",
                "GITLAB_USER_LOGIN": "dana",
            ])
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
            #expect(result.stdout.contains("oms/test: open rollback MR: roll back app 1.5.0 -> 1.4.2"), "\(result.stdout)")
            #expect(result.stdout.contains("merged as "), "\(result.stdout)")
            #expect(try s.sandbox.fileContent(project: "group/oms-deploy", ref: "master", path: "test/deploy.yaml")?.contains(":1.4.2") == true)
            let mr = try #require(s.sandbox.mergeRequests(project: "group/oms-deploy").first { $0.sourceBranch == "promobot/oms/test.rollback" })
            #expect(mr.description.contains("Reason: checkout errors") && mr.description.contains("Requested by: dana"), "\(mr.description)")
            #expect(!result.stdout.contains(s.token) && !result.stderr.contains(s.token))

            // The next scheduled run holds 1.5.0; `plan --json` says why.
            let plan = try await s.promobot(["plan", "--json"])
            let document = try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any]
            let test = try #require((document?["stages"] as? [[String: Any]])?.first { $0["stage"] as? String == "test" })
            #expect((test["decision"] as? String)?.hasPrefix("blocked (hold)") == true, "\(test)")
            let held = try #require(test["held"] as? [[String: Any]])
            #expect(held.first?["version"] as? String == "1.5.0" && held.first?["author"] as? String == "dana via promobot rollback", "\(held)")
        }
    }

    @Test func theOneClickJobsRefuseWithoutAStageAndExplain() async throws {
        try await withPromotedTest { s in
            let result = try await Self.runJob("rollback", in: s, variables: ["PROMOBOT_POLICY": "oms", "PROMOBOT_STAGE": ""])
            #expect(result.status == 2, "\(result.stdout)\n\(result.stderr)")
            #expect(result.stdout.contains("set PROMOBOT_POLICY and PROMOBOT_STAGE"))
        }
    }

    @Test func promoteAfterARollbackLiftsTheHoldOnPurpose() async throws {
        try await withPromotedTest { s in
            let back = try await s.promobot(["rollback", "oms", "test", "--reason", "checkout errors"])
            #expect(back.status == 0, "\(back.stdout)\n\(back.stderr)")
            let promote = try await Self.runJob("promote:now", in: s, variables: [
                "PROMOBOT_POLICY": "oms", "PROMOBOT_STAGE": "test", "PROMOBOT_TO": "1.5.0", "GITLAB_USER_LOGIN": "dana",
            ])
            #expect(promote.status == 0, "\(promote.stdout)\n\(promote.stderr)")
            #expect(try s.sandbox.fileContent(project: "group/oms-deploy", ref: "master", path: "test/deploy.yaml")?.contains(":1.5.0") == true,
                    "\(promote.stdout)")
        }
    }

    @Test func exitCodesNameTheProblem() async throws {
        try await withPromotedTest { s in
            let unknown = try await s.promobot(["rollback", "nope", "test"])
            #expect(unknown.status == 2 && unknown.stderr.contains("no policy named 'nope'; policies: oms"), "\(unknown.stderr)")
            let stage = try await s.promobot(["rollback", "oms", "prod"])
            #expect(stage.status == 2 && stage.stderr.contains("stages: dev, test"), "\(stage.stderr)")
            let never = try await s.promobot(["rollback", "oms", "test", "--to", "0.1.0"])
            #expect(never.status == 1 && never.stderr.contains("test did not run 0.1.0 before; it ran (newest first): app 1.5.0 (now); app 1.4.2"),
                    "\(never.stderr)")
            let missing = try await s.promobot(["rollback", "oms"])
            #expect(missing.status == 2, "\(missing.stderr)")
            let dry = try await s.promobot(["rollback", "oms", "test", "--dry-run"])
            #expect(dry.status == 0 && dry.stdout.contains("would open rollback MR"), "\(dry.stdout)")
            #expect(s.sandbox.mergeRequests(project: "group/oms-deploy").allSatisfy { !$0.sourceBranch.hasSuffix(".rollback") })
        }
    }
}

/// Runs a shell script (`sh -e -c`) the way a CI runner does, off the cooperative pool.
enum ShellRunner {
    static func run(_ script: String, in directory: URL, environment: [String: String]) async throws -> BinaryRunner.Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result {
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: "/bin/sh")
                    process.arguments = ["-e", "-c", script]
                    process.currentDirectoryURL = directory
                    process.environment = environment
                    let out = Pipe(), err = Pipe()
                    process.standardOutput = out
                    process.standardError = err
                    process.standardInput = FileHandle.nullDevice
                    try process.run()
                    let stdout = out.fileHandleForReading.readDataToEndOfFile()
                    let stderr = err.fileHandleForReading.readDataToEndOfFile()
                    process.waitUntilExit()
                    return BinaryRunner.Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                                               stderr: String(decoding: stderr, as: UTF8.self))
                })
            }
        }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
