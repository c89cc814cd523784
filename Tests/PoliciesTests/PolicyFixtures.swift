import Foundation
import TestSupport

/// Small policy documents for table tests. Line numbers matter: `base` puts the stage list at line 8,
/// the `test` stage at lines 10-11, and `withTestStage(...)` appends its lines from line 12 on.
enum PolicyFixtures {
    static let top = """
        version: 1
        name: oms
        repository: group/oms-deploy
        branch: master
        images:
          - registry.example.com/oms/app
        stages:
        """

    static let stages = """
          - name: dev
            paths: [dev/]
          - name: test
            paths: [test/]
        """

    static var base: String { top + "\n" + stages + "\n" }

    /// `base` with `lines` (already indented by 4) added to the `test` stage, starting at line 12.
    static func withTestStage(_ lines: String) -> String { base + lines + "\n" }

    /// The repository root.
    static func repositoryRoot() -> String { TestPaths.repositoryRoot() }

    /// A fresh temporary folder; the caller removes it.
    static func temporaryFolder() throws -> URL { try TestPaths.temporaryFolder("policies") }
}
