import Foundation
import Testing
import TestSupport
@testable import Sandbox

/// Runs `Tests/fidelity/test_python_gitlab.py` (the real python-gitlab client) against an
/// in-process sandbox. Skipped when no python3 with `gitlab` is installed, unless
/// `PROMOBOT_REQUIRE_FIDELITY=1` (set by `scripts/test`, so CI fails instead of skipping).
@Suite("python-gitlab fidelity")
struct FidelityTests {
    static let repoRoot = URL(fileURLWithPath: TestPaths.repositoryRoot())

    /// A python3 that can `import gitlab` (Debian's python3-gitlab installs into /usr/bin/python3).
    static let python: String? = {
        for candidate in ["/usr/bin/python3", "/usr/local/bin/python3"] where FileManager.default.isExecutableFile(atPath: candidate) {
            if let r = try? ProcessRunner.run(candidate, ["-c", "import gitlab"]), r.status == 0 { return candidate }
        }
        if let r = try? ProcessRunner.run("/usr/bin/env", ["python3", "-c", "import gitlab"]), r.status == 0 { return "python3" }
        return nil
    }()

    static let required = ProcessInfo.processInfo.environment["PROMOBOT_REQUIRE_FIDELITY"] == "1"

    @Test(.enabled(if: python != nil || required, "python3 with python-gitlab is not installed (apt-get install python3-gitlab)"))
    func pythonGitlabDrivesTheSandbox() async throws {
        try await Fixture.with { f in
            let approverToken = "approver-token-\(UUID().uuidString.prefix(8))"
            f.sandbox.addUser("approver", token: approverToken, role: .developer)
            f.sandbox.setApprovalsRequired(project: Fixture.project, count: 1)
            var env = ProcessInfo.processInfo.environment
            env["SANDBOX_URL"] = f.sandbox.baseURL.absoluteString
            env["SANDBOX_TOKEN"] = Fixture.botToken
            env["SANDBOX_APPROVER_TOKEN"] = approverToken
            env["SANDBOX_PROJECT"] = Fixture.project
            env["PYTHONDONTWRITEBYTECODE"] = "1"
            let script = Self.repoRoot.appendingPathComponent("Tests/fidelity/test_python_gitlab.py").path
            let python = try #require(Self.python, "PROMOBOT_REQUIRE_FIDELITY=1 but no python3 can import gitlab (apt-get install python3-gitlab)")
            let (exe, args) = python.hasPrefix("/") ? (python, [script]) : ("/usr/bin/env", ["python3", script])
            let result = try await ProcessRunner.runAsync(exe, args, environment: env)
            #expect(result.status == 0, "python-gitlab fidelity failed:\n\(result.output)\n\(result.errorText)")
            let merged = f.sandbox.mergeRequests(project: Fixture.project).filter { $0.state == "merged" }
            #expect(merged.count == 1)
        }
    }
}
