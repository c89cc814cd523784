import Testing
@testable import Manifests

@Suite struct SemanticVersionTests {
    /// Each row: lower < higher (SemVer 2.0 §11, plus our lenient `v` prefix and short forms).
    @Test(arguments: [
        ("1.0.0", "2.0.0"), ("2.0.0", "2.1.0"), ("2.1.0", "2.1.1"), ("1.9.0", "1.10.0"),
        ("1.0.0-alpha", "1.0.0"), ("1.0.0-alpha", "1.0.0-alpha.1"), ("1.0.0-alpha.1", "1.0.0-alpha.beta"),
        ("1.0.0-alpha.beta", "1.0.0-beta"), ("1.0.0-beta", "1.0.0-beta.2"), ("1.0.0-beta.2", "1.0.0-beta.11"),
        ("1.0.0-beta.11", "1.0.0-rc.1"), ("1.0.0-rc.1", "1.0.0"), ("v1.4", "1.5.0"), ("1", "1.0.1"),
    ])
    func ordering(lower: String, higher: String) throws {
        let a = try #require(SemanticVersion(tag: lower)), b = try #require(SemanticVersion(tag: higher))
        #expect(a < b)
        #expect(!(b < a))
        #expect(a != b)
    }

    @Test(arguments: [("1.2.3+build.5", "1.2.3"), ("v1.2", "1.2.0"), ("1", "1.0.0")])
    func equalIgnoringBuildAndShortForms(a: String, b: String) throws {
        #expect(try #require(SemanticVersion(tag: a)) == #require(SemanticVersion(tag: b)))
    }

    @Test(arguments: ["latest", "sha-abc123", "1.2.3.4", "", "v", "1..2", "1.2.3-", "1.2.3+", "1.2.x"])
    func notAVersion(tag: String) {
        #expect(SemanticVersion(tag: tag) == nil)
    }

    @Test func description() throws {
        #expect(try #require(SemanticVersion(tag: "v1.2.3-rc.1+b7")).description == "1.2.3-rc.1+b7")
    }
}
